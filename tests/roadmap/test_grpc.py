"""The roadmap gRPC server in process (built by ``registration(config)`` as in production, saga
runner included), called through a real grpcio stub; ai_core is the scripted server."""
from __future__ import annotations

import copy
import json
import uuid
from xml.etree import ElementTree

import grpc
import pytest

from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.roadmap.entrypoints.grpc_server import registration
from contracts.grpc import common_pb2, roadmap_pb2, roadmap_pb2_grpc
from tests.polling import eventually
from tests.roadmap.support import AiCoreServer, course_published, profile_updated


@pytest.fixture(scope="module")
def ai():
    server = AiCoreServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def servicer_and_address(config, fresh_store, ai):
    fresh_store("roadmap")
    conf = copy.deepcopy(config)
    conf["grpc"]["addresses"]["ai_core"] = ai.address
    conf["roadmap"] = {**(conf.get("roadmap") or {}), "saga_poll_s": 0.1}
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(conf)
    assert name == "careeros.roadmap.v1.RoadmapService"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    try:
        grpc_support.wait_for_server(address, timeout_s=10)
        servicer.service.handle_event(course_published("python-basics", [("Python", 3)]))
        yield servicer, address
    finally:
        servicer.runner.stop()
        server.stop(grace=None)
        servicer.service.store.close()


@pytest.fixture(scope="module")
def stub(servicer_and_address):
    with grpc.insecure_channel(servicer_and_address[1]) as channel:
        yield roadmap_pb2_grpc.RoadmapServiceStub(channel)


@pytest.fixture
def caller() -> common_pb2.Caller:
    return common_pb2.Caller(user_id=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()), org_role="owner",
                             plan_tier="free")


def trailers(error: grpc.RpcError) -> dict:
    return dict(error.trailing_metadata() or ())


def test_create_read_versions_mark_and_render(stub, caller, ai):
    ai.servicer.mode = "ok"
    created = stub.CreateRoadmap(roadmap_pb2.CreateRoadmapRequest(
        caller=caller, target_role="Data Engineer", hours_per_week=8), timeout=10)
    assert created.version == 1 and created.is_active and created.role_title == "Data Engineer"
    assert [m.skill_id for m in created.milestones] == ["python", "sql", "etl", "airflow"]
    assert created.milestones[0].courses[0].slug == "python-basics"
    assert all(week.hours <= 8 for week in created.schedule) and created.summary.total_hours == 77
    assert created.progress.schedule_status == "on_track" and created.progress.counts["pending"] == 4

    again = stub.CreateRoadmap(roadmap_pb2.CreateRoadmapRequest(
        caller=caller, target_role="ML Engineer", hours_per_week=8), timeout=10)
    assert again.roadmap_id == created.roadmap_id and again.version == 2
    old = stub.GetRoadmap(roadmap_pb2.GetRoadmapRequest(caller=caller, roadmap_id=created.roadmap_id, version=1),
                          timeout=5)
    assert old.target_role == "Data Engineer" and not old.is_active
    versions = stub.ListVersions(roadmap_pb2.ListVersionsRequest(caller=caller, roadmap_id=created.roadmap_id),
                                 timeout=5)
    assert [(v.version, v.is_active) for v in versions.versions] == [(1, False), (2, True)]

    marked = stub.MarkMilestone(roadmap_pb2.MarkMilestoneRequest(
        caller=caller, roadmap_id=created.roadmap_id, skill_id="stats", status="learning"), timeout=5)
    assert {m.skill_id: m.status for m in marked.milestones}["stats"] == "learning"

    svg = stub.RenderRoadmap(roadmap_pb2.RenderRoadmapRequest(
        caller=caller, roadmap_id=created.roadmap_id, format="svg"), timeout=5)
    assert svg.content_type == "image/svg+xml"
    root = ElementTree.fromstring(svg.content)
    assert len(root.findall("{http://www.w3.org/2000/svg}g")) == 3
    mermaid = stub.RenderRoadmap(roadmap_pb2.RenderRoadmapRequest(
        caller=caller, roadmap_id=created.roadmap_id, version=1, format="mermaid"), timeout=5)
    assert mermaid.content.startswith("flowchart LR") and mermaid.content.count("-->") == 3


def test_errors_carry_codes_and_fields(stub, caller, ai):
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateRoadmap(roadmap_pb2.CreateRoadmapRequest(caller=caller, target_role="", hours_per_week=0),
                           timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(json.loads(trailers(raised.value)["careeros-error-fields"])) == {"target_role", "hours_per_week"}
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetCurrentRoadmap(roadmap_pb2.GetCurrentRoadmapRequest(caller=caller), timeout=5)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(raised.value)["careeros-error-code"] == "roadmap_not_found"
    ai.servicer.mode = "cycle"
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateRoadmap(roadmap_pb2.CreateRoadmapRequest(caller=caller, target_role="Data Engineer",
                                                            hours_per_week=5), timeout=10)
    ai.servicer.mode = "ok"
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailers(raised.value)["careeros-error-code"] == "roadmap_proposal_rejected"


def test_the_saga_runner_in_the_grpc_process_runs_sagas_recorded_by_event_handlers(
        stub, caller, servicer_and_address, ai):
    servicer, _ = servicer_and_address
    ai.servicer.mode = "ok"
    created = stub.CreateRoadmap(roadmap_pb2.CreateRoadmapRequest(
        caller=caller, target_role="Data Engineer", hours_per_week=8), timeout=10)
    # What the nameko process does with profile.updated: record the saga only.
    assert servicer.service.handle_event(
        profile_updated(caller.tenant_id, caller.user_id, 3, target_role="ML Engineer")) is True
    current = eventually(lambda: stub.GetCurrentRoadmap(roadmap_pb2.GetCurrentRoadmapRequest(caller=caller),
                                                        timeout=5), lambda c: c.version == 2,
                         what="the regenerated roadmap", timeout_s=10)
    assert current.version == 2 and current.reason == "target_role_changed"
    assert current.roadmap_id == created.roadmap_id and current.last_regeneration.state == "committed"
