"""/profile: the caller's own career profile."""
from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask

from contracts.grpc import profile_pb2
from careeros_services.common.read_cache import PROFILE
from gateway_flask import read_cache
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.profile.schemas import ProfileOut, ProfilePatch

blp = Blueprint("profile", __name__, url_prefix="/profile", description="The learner's career profile")
profile_rpc = rpc_client("profile")
read_cache.writers_read_their_writes(blp, PROFILE)  # PATCH: read your own write at once


def _out(message) -> dict:
    data = to_dict(message)
    data["version"] = int(data.get("version", 0))
    return data


@blp.route("", methods=["GET"])
# Cached per tenant and user; the profile service's events (and PATCH below) make it stale.
@read_cache.cached(PROFILE, scope=lambda claims, _: f"{claims['tenant_id']}:{claims['sub']}",
                   owners=lambda claims, _: [(PROFILE, claims["sub"])])
@auth_required
@blp.response(200, ProfileOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_profile():
    """Your profile. 404 `profile_not_found` for a moment after registration, until the profile is made."""
    request = profile_pb2.GetProfileRequest(caller=caller(current_principal()))
    return _out(profile_rpc.GetProfile(request))


@blp.route("", methods=["PATCH"])
@auth_required
@blp.arguments(ProfilePatch)
@blp.response(200, ProfileOut)
@blp.doc(security=[{"bearerAuth": []}])
def patch_profile(patch: dict):
    """Change the fields you send; the others keep their value."""
    request = profile_pb2.UpdateProfileRequest(
        caller=caller(current_principal()), profile=profile_pb2.Profile(**patch),
        update_mask=FieldMask(paths=sorted(patch)))
    return _out(profile_rpc.UpdateProfile(request))
