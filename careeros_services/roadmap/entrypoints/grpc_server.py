"""The roadmap service over gRPC (``careeros.roadmap.v1.RoadmapService``) and its saga runner.

A plain grpcio servicer hosted by ``careeros grpc`` (no eventlet), calling the
same service layer as the nameko entrypoints. This is the process that may
call ai_core over gRPC, so it also runs the saga runner: a thread that sweeps
``saga_queue`` for due sagas — those the nameko event handlers recorded, and
those whose runner died mid-way (the lease ran out) — and runs them.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import grpc
from google.protobuf import json_format

from careeros_services.common.caller import Caller
from careeros_services.roadmap.proposer import AiCoreProposer
from careeros_services.roadmap.service import RoadmapService, build
from careeros_services.roadmap.settings import Settings
from contracts.grpc import roadmap_pb2, roadmap_pb2_grpc

SERVICE_NAME = roadmap_pb2.DESCRIPTOR.services_by_name["RoadmapService"].full_name
log = logging.getLogger(__name__)


def roadmap_message(view: dict) -> roadmap_pb2.Roadmap:
    """The service layer's roadmap dict as a Roadmap message."""
    return json_format.ParseDict(view, roadmap_pb2.Roadmap(), ignore_unknown_fields=True)


class RoadmapServicer(roadmap_pb2_grpc.RoadmapServiceServicer):
    """The caller's own roadmap: generate, read (any version), mark milestones, draw."""

    def __init__(self, service: RoadmapService):
        self.service = service

    def CreateRoadmap(self, request, context: grpc.ServicerContext):
        body = {"target_role": request.target_role, "hours_per_week": request.hours_per_week,
                "deadline": request.deadline or None}
        return roadmap_message(self.service.create_roadmap(Caller.from_message(request.caller), body))

    def GetCurrentRoadmap(self, request, context):
        return roadmap_message(self.service.get_current_roadmap(Caller.from_message(request.caller)))

    def GetRoadmap(self, request, context):
        return roadmap_message(self.service.get_roadmap(Caller.from_message(request.caller),
                                                        request.roadmap_id, request.version))

    def ListVersions(self, request, context):
        answer = self.service.list_versions(Caller.from_message(request.caller), request.roadmap_id)
        return json_format.ParseDict(answer, roadmap_pb2.ListVersionsResponse())

    def MarkMilestone(self, request, context):
        return roadmap_message(self.service.mark_milestone(Caller.from_message(request.caller),
                                                           request.roadmap_id, request.skill_id, request.status))

    def RenderRoadmap(self, request, context):
        content_type, content = self.service.render(Caller.from_message(request.caller),
                                                    request.roadmap_id, request.version, request.format)
        return roadmap_pb2.RenderedRoadmap(content_type=content_type, content=content)


class SagaRunner:
    """Runs due sagas every ``poll_s`` and checks schedules every ``schedule_check_s``."""

    def __init__(self, service: RoadmapService, poll_s: float, schedule_check_s: float):
        self.service = service
        self.poll_s = poll_s
        self.schedule_check_s = schedule_check_s
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="roadmap-saga-runner", daemon=True)

    def start(self) -> "SagaRunner":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        waited = 0.0
        while not self.stopping.wait(self.poll_s):
            waited += self.poll_s
            try:
                while self.service.run_due() and not self.stopping.is_set():
                    pass
                if waited >= self.schedule_check_s:
                    waited = 0.0
                    self.service.check_schedules()
            except Exception:  # noqa: BLE001 - keep sweeping; the database may be back next time
                log.exception("roadmap saga sweep failed")


def registration(config: dict) -> tuple[Callable, RoadmapServicer, str]:
    """What ``grpc_support.serve`` needs to host this service; starts the saga runner too."""
    settings = Settings.from_config(config)
    service = build(config, AiCoreProposer(config))
    servicer = RoadmapServicer(service)
    servicer.runner = SagaRunner(service, settings.saga_poll_s, settings.schedule_check_s).start()
    return roadmap_pb2_grpc.add_RoadmapServiceServicer_to_server, servicer, SERVICE_NAME
