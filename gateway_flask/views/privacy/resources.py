"""Privacy: a person's data export (GDPR art. 15/20) and erasure (art. 17). See docs/privacy.md.

auth owns the requests (gRPC ``careeros.privacy.v1.Privacy``, served by auth's process); the
other services answer over events. Both requests answer 202 with the request to poll.
"""
from __future__ import annotations

import uuid

from contracts.grpc import privacy_pb2
from gateway_flask.files import CHUNK_BYTES, signed_download
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.privacy.schemas import ErasureIn, FileQuery, PrivacyRequestOut

blp = Blueprint("privacy", __name__, url_prefix="", description="Your data: export and erasure")
privacy_rpc = rpc_client("privacy")


def _call(rpc, message):
    return to_dict(rpc(message))


@blp.route("/me/exports", methods=["POST"])
@auth_required
@blp.response(202, PrivacyRequestOut)
def request_export():
    """Export everything CareerOS holds about you: one zip (a JSON per service, your certificates).

    Poll `GET /me/exports/{request_id}`; once `completed` it carries a signed, time-limited
    `download_url`. While one export is pending, asking again answers that one.
    """
    return _call(privacy_rpc.RequestExport, privacy_pb2.RequestExportRequest(caller=caller(current_principal())))


@blp.route("/me/exports/<uuid:request_id>", methods=["GET"])
@auth_required
@blp.response(200, PrivacyRequestOut)
def get_export(request_id: uuid.UUID):
    """Your export: which services answered and, when assembled, a fresh download link."""
    return _call(privacy_rpc.GetExport, privacy_pb2.GetRequestRequest(caller=caller(current_principal()),
                                                            request_id=str(request_id)))


@blp.route("/me/erasure", methods=["POST"])
@auth_required
@blp.arguments(ErasureIn)
@blp.response(202, PrivacyRequestOut)
def request_erasure(body: dict):
    """Erase your account and everything about you in every service. Cannot be undone.

    You cannot log in from this answer on. 409 `owner_must_transfer` while you own an organisation.
    What is kept (anonymised invoices, the request itself) is listed in docs/privacy.md.
    """
    return _call(privacy_rpc.RequestErasure, privacy_pb2.RequestErasureRequest(caller=caller(current_principal())))


@blp.route("/me/erasure/<uuid:request_id>", methods=["GET"])
@auth_required
@blp.response(200, PrivacyRequestOut)
def get_erasure(request_id: uuid.UUID):
    """An erasure you asked for: which services confirmed."""
    return _call(privacy_rpc.GetErasure, privacy_pb2.GetRequestRequest(caller=caller(current_principal()),
                                                             request_id=str(request_id)))


@blp.route("/orgs/current/members/<string:user_id>/erasure", methods=["POST"])
@auth_required
@blp.arguments(ErasureIn)
@blp.response(202, PrivacyRequestOut)
def erase_member(body: dict, user_id: str):
    """Owner only: erase a member's data in this organisation (they leave it; their account stays)."""
    return _call(privacy_rpc.RequestErasure, privacy_pb2.RequestErasureRequest(caller=caller(current_principal()),
                                                                     member_user_id=user_id))


@blp.route("/privacy/files/<path:key>", methods=["GET"])
@blp.arguments(FileQuery, location="query")
@blp.doc(responses={"200": {"description": "The export archive", "content": {"application/zip": {}}}})
def download(query: dict, key: str):
    """An export archive behind its signed, time-limited link (no token: the link is the credential)."""
    return signed_download(lambda offset: privacy_rpc.ReadFile(privacy_pb2.ReadFileRequest(
        key=key, expires=query["expires"], signature=query["signature"], offset=offset,
        length=CHUNK_BYTES)), key)
