"""The ai_core service over gRPC (``careeros.ai_core.v1.AiCore``).

A plain grpcio servicer hosted by ``careeros grpc`` in its own process,
calling the same service layer as the nameko entrypoints. Proto messages
mirror the JSON Schemas of the AI outputs, so the service layer's validated
dicts convert with ``json_format`` one to one.
"""
from __future__ import annotations

from typing import Callable

import grpc
from google.protobuf import json_format

from careeros_services.ai_core.service import AiCoreService, Caller, build
from contracts.grpc import ai_core_pb2, ai_core_pb2_grpc

SERVICE_NAME = ai_core_pb2.DESCRIPTOR.services_by_name["AiCore"].full_name


def _caller(request) -> Caller:
    return Caller.from_message(request.caller)


def to_message(data: dict, message):
    """A service-layer dict as a proto message (None = unset)."""
    return json_format.ParseDict(_drop_none(data), message)


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


class AiCoreServicer(ai_core_pb2_grpc.AiCoreServicer):
    """Consultations, CV analysis, usage, roadmap proposals and roles for the verified caller."""

    def __init__(self, service: AiCoreService):
        self.service = service

    def OpenConsultation(self, request, context: grpc.ServicerContext):
        result = self.service.open_consultation(_caller(request), request.question, request.target_role)
        return to_message(result, ai_core_pb2.Consultation())

    def GetConsultation(self, request, context: grpc.ServicerContext):
        result = self.service.get_consultation(_caller(request), request.consultation_id)
        return to_message(result, ai_core_pb2.Consultation())

    def PostMessage(self, request, context: grpc.ServicerContext):
        result = self.service.post_message(_caller(request), request.consultation_id, request.content)
        return to_message(result, ai_core_pb2.Consultation())

    def ListConsultations(self, request, context: grpc.ServicerContext):
        result = self.service.list_consultations(_caller(request), request.limit)
        return to_message(result, ai_core_pb2.ConsultationList())

    def AnalyzeCv(self, request, context: grpc.ServicerContext):
        result = self.service.analyze_cv(_caller(request), request.filename, request.content_type, request.content)
        return to_message(result, ai_core_pb2.CvAnalysis())

    def ConfirmCv(self, request, context: grpc.ServicerContext):
        skills = [{"name": s.name, "level": s.level} for s in request.skills]
        return to_message(self.service.confirm_cv(_caller(request), request.cv_id, skills), ai_core_pb2.CvAnalysis())

    def GetUsage(self, request, context: grpc.ServicerContext):
        return to_message(self.service.get_usage(_caller(request)), ai_core_pb2.Usage())

    def ProposeRoadmap(self, request, context: grpc.ServicerContext):
        known = [(s.name, s.level) for s in request.known_skills]
        proposal = self.service.propose_roadmap(_caller(request), request.target_role, known)
        return to_message(proposal, ai_core_pb2.ProposeRoadmapResponse())

    def ListRoles(self, request, context: grpc.ServicerContext):
        return to_message({"roles": self.service.list_roles(request.track)}, ai_core_pb2.ListRolesResponse())

    def SearchSkills(self, request, context: grpc.ServicerContext):
        found = self.service.search_skills(request.q, request.limit or 20)
        return to_message({"skills": found}, ai_core_pb2.SearchSkillsResponse())


def registration(config: dict) -> tuple[Callable, AiCoreServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    return ai_core_pb2_grpc.add_AiCoreServicer_to_server, AiCoreServicer(build(config)), SERVICE_NAME
