"""The profile service over gRPC (``careeros.profile.v1.ProfileService``).

A plain grpcio servicer, hosted by ``careeros grpc`` in its own process
(grpcio does not run under eventlet), calling the same service layer as the
nameko entrypoints. Errors are DomainErrors; ``grpc_support``'s interceptor
turns them into a status and trailing metadata.
"""
from __future__ import annotations

from typing import Any, Callable

import grpc

from careeros_services.common import skills
from careeros_services.common.caller import Caller
from careeros_services.common.errors import ValidationFailed
from careeros_services.profile.domain import EDITABLE_FIELDS, UNKNOWN_FIELD
from careeros_services.profile.service import ProfileService, build
from contracts.grpc import profile_pb2, profile_pb2_grpc

SERVICE_NAME = profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name


def profile_message(profile: dict) -> profile_pb2.Profile:
    """The service layer's profile dict as a Profile message."""
    return profile_pb2.Profile(
        user_id=profile["user_id"], tenant_id=profile["tenant_id"],
        display_name=profile["display_name"], headline=profile["headline"],
        current_role=profile["current_role"], target_role=profile["target_role"],
        years_experience=profile["years_experience"],
        skills=[profile_pb2.Skill(name=s["name"], level=s["level"], esco_uri=s.get("esco_uri", ""))
                for s in profile["skills"]],
        interests=profile["interests"], learning_pace=profile["learning_pace"],
        created_at=profile["created_at"] or "", updated_at=profile["updated_at"] or "",
        version=profile["version"])


def _field_value(message: profile_pb2.Profile, path: str) -> Any:
    if path == "skills":
        return [{"name": s.name, "level": s.level, **({"esco_uri": s.esco_uri} if s.esco_uri else {})}
                for s in message.skills]
    if path == "interests":
        return list(message.interests)
    return getattr(message, path)


def patch_from(message: profile_pb2.Profile, paths: list[str]) -> dict:
    """The patch named by a FieldMask: only those paths, with their values from ``message``.

    A path that is not an editable top-level field is refused (INVALID_ARGUMENT).
    """
    unknown = [p for p in paths if p not in EDITABLE_FIELDS]
    if unknown:
        raise ValidationFailed("The update mask names fields that cannot be changed.",
                               fields={p: [UNKNOWN_FIELD] for p in unknown})
    return {path: _field_value(message, path) for path in paths}


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    """GetProfile / UpdateProfile for the verified caller in the request."""

    def __init__(self, service: ProfileService):
        self.service = service

    def GetProfile(self, request: profile_pb2.GetProfileRequest, context: grpc.ServicerContext):
        return profile_message(self.service.get_profile(Caller.from_message(request.caller)))

    def UpdateProfile(self, request: profile_pb2.UpdateProfileRequest, context: grpc.ServicerContext):
        patch = patch_from(request.profile, list(request.update_mask.paths))
        return profile_message(self.service.update_profile(Caller.from_message(request.caller), patch))


def registration(config: dict) -> tuple[Callable, ProfileServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    skills.warm()  # profile writes resolve skill names: load the table and ESCO before serving
    return (profile_pb2_grpc.add_ProfileServiceServicer_to_server, ProfileServicer(build(config)),
            SERVICE_NAME)

