"""/orgs: the caller's organisation — invites, members and roles, assignments, audit log.

Who may do what is decided by the auth service from the caller's role in the
database (a token's ``org_role`` may be stale); the gateway passes the client's
address as ``x-client-ip`` gRPC metadata for the audit log.
"""
from __future__ import annotations

import json
import uuid

from flask import request

from careeros_services.common.grpc_support import CLIENT_IP_KEY
from contracts.grpc import auth_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal, optional_principal
from gateway_flask.services import caller, password_deadline_s, rpc_client, to_dict
from gateway_flask.state import gateway_state
from gateway_flask.views.orgs.schemas import (AcceptIn, AcceptOut, AuditLogOut, AuditQuery, InviteIn,
                                              InviteOut, InvitesOut, MemberOut, MemberPatch, MembersOut,
                                              MyOrganizationsOut, OrgAssignmentIn, OrgAssignmentOut,
                                              OrgAssignmentsOut, OrgAssignmentsQuery, OrgOut, PendingInviteOut)
from web.settings import WebSettings

blp = Blueprint("orgs", __name__, url_prefix="/orgs",
                description="Organisations: invites, members, seats, assignments, audit log")
auth_rpc = rpc_client("auth")
memberships_blp = Blueprint("memberships", __name__, url_prefix="/me",
                            description="The organisations you belong to")


def _ip() -> list[tuple[str, str]]:
    return [(CLIENT_IP_KEY, request.remote_addr or "")]


def _auth(rpc, message, **options):
    return rpc(message, metadata=_ip(), **options)


@blp.route("/current", methods=["GET"])
@auth_required
@blp.response(200, OrgOut)
def get_current():
    """Your current organisation: plan, seat limit and use, your role."""
    return to_dict(_auth(auth_rpc.GetOrg, auth_pb2.GetOrgRequest(caller=caller(current_principal()))))


@blp.route("/current/invites", methods=["POST"])
@auth_required
@blp.arguments(InviteIn)
@blp.response(201, InviteOut)
def create_invite(body: dict):
    """Invite someone by email with a role (owner/admin; only the owner invites admins).

    409 `seat_limit_reached` (its `errors.seats` names the limit) when members
    and pending invites fill the seats; 403 `org_role_forbidden` for members.
    """
    return _with_link(to_dict(_auth(auth_rpc.CreateInvite, auth_pb2.CreateInviteRequest(
        caller=caller(current_principal()), **body))))


def _with_link(invite: dict) -> dict:
    """The invite with the link a web client opens to accept it (``web.base_url``)."""
    base = WebSettings.from_section(gateway_state().config.get("web") or {}).base_url.rstrip("/")
    return {**invite, "accept_url": f"{base}/invites/{invite['token']}"}


@blp.route("/current/invites", methods=["GET"])
@auth_required
@blp.response(200, InvitesOut)
def list_invites():
    """Pending invites (owner/admin), newest first, with the seats in use (members + pending invites)."""
    return to_dict(_auth(auth_rpc.ListInvites, auth_pb2.ListInvitesRequest(caller=caller(current_principal()))))


@blp.route("/current/invites/<uuid:invite_id>", methods=["DELETE"])
@auth_required
@blp.response(200, PendingInviteOut)
def revoke_invite(invite_id: uuid.UUID):
    """Revoke a pending invite (owner/admin; admin invites: the owner). Its token stops working
    (409 `invite_revoked`) and its seat is free at once."""
    return to_dict(_auth(auth_rpc.RevokeInvite, auth_pb2.InviteActionRequest(
        caller=caller(current_principal()), invite_id=str(invite_id))))


@blp.route("/current/invites/<uuid:invite_id>/resend", methods=["POST"])
@auth_required
@blp.response(201, InviteOut)
def resend_invite(invite_id: uuid.UUID):
    """Replace a pending invite with a new one (new token, new expiry, new `invite_id`); the old token
    answers 409 `invite_revoked`. The seat stays taken once."""
    return _with_link(to_dict(_auth(auth_rpc.ResendInvite, auth_pb2.InviteActionRequest(
        caller=caller(current_principal()), invite_id=str(invite_id)))))


@memberships_blp.route("/organizations", methods=["GET"])
@auth_required
@memberships_blp.response(200, MyOrganizationsOut)
def my_organizations():
    """Every organisation (and personal space) you belong to, your role in each; `current` is the tenant
    of this token (switch with `POST /auth/switch-tenant`)."""
    return to_dict(_auth(auth_rpc.ListMyOrganizations, auth_pb2.ListMyOrganizationsRequest(
        caller=caller(current_principal()))))


@blp.route("/invites/<string:token>/accept", methods=["POST"])
@blp.arguments(AcceptIn)
@blp.response(200, AcceptOut)
@blp.doc(security=[{}, {"bearerAuth": []}])
def accept_invite(body: dict, token: str):
    """Accept an invite: logged in (your email must be the invite's) or by registering with
    `password` and `display_name`. Single use (409 `invite_used`), expiring (409 `invite_expired`).
    Returns tokens for the joined organisation."""
    principal = optional_principal()
    if principal is None and "Authorization" in request.headers:
        current_principal()  # a bad token is a 401, not an anonymous registration
    message = auth_pb2.AcceptInviteRequest(token=token)
    if principal is not None:
        message.caller.CopyFrom(caller(principal))
    else:
        message.password, message.display_name = body.get("password", ""), body.get("display_name", "")
    data = to_dict(_auth(auth_rpc.AcceptInvite, message, timeout=password_deadline_s()))
    data["tokens"]["expires_in"] = int(data["tokens"]["expires_in"])
    return data


@blp.route("/current/members", methods=["GET"])
@auth_required
@blp.response(200, MembersOut)
def list_members():
    """Members with their roles (owner, admin or instructor)."""
    return to_dict(_auth(auth_rpc.ListMembers, auth_pb2.ListMembersRequest(caller=caller(current_principal()))))


@blp.route("/current/members/<uuid:user_id>", methods=["PATCH"])
@auth_required
@blp.arguments(MemberPatch)
@blp.response(200, MemberOut)
def update_member(body: dict, user_id: uuid.UUID):
    """Change a member's role; `role: owner` transfers ownership (owner only; you become an admin).
    The owner's own role changes only by a transfer (409 `owner_required`)."""
    return to_dict(_auth(auth_rpc.UpdateMember, auth_pb2.UpdateMemberRequest(
        caller=caller(current_principal()), user_id=str(user_id), role=body["role"])))


@blp.route("/current/members/<uuid:user_id>", methods=["DELETE"])
@auth_required
@blp.response(204)
def remove_member(user_id: uuid.UUID):
    """Remove a member (owner/admin) or leave (your own id); never the owner."""
    _auth(auth_rpc.RemoveMember, auth_pb2.RemoveMemberRequest(caller=caller(current_principal()), user_id=str(user_id)))
    return None


@blp.route("/current/leave", methods=["POST"])
@auth_required
@blp.response(204)
def leave():
    """Leave the organisation of your token (the owner cannot: 409, transfer ownership first). Your sessions
    in it end; if it was your home, a personal space becomes your new home."""
    principal = current_principal()
    _auth(auth_rpc.RemoveMember, auth_pb2.RemoveMemberRequest(caller=caller(principal), user_id=principal.user_id))
    return None


@blp.route("/current/assignments", methods=["POST"])
@auth_required
@blp.arguments(OrgAssignmentIn)
@blp.response(201, OrgAssignmentOut)
def create_assignment(body: dict):
    """Assign a course (`course_id`) and/or a target role to a member (owner/admin)."""
    due = body.get("due_at")
    return to_dict(_auth(auth_rpc.CreateAssignment, auth_pb2.CreateAssignmentRequest(
        caller=caller(current_principal()), user_id=str(body["user_id"]), course_id=body.get("course_id", ""),
        target_role=body.get("target_role", ""), due_at=due.isoformat() if due else "")))


@blp.route("/current/assignments", methods=["GET"])
@auth_required
@blp.arguments(OrgAssignmentsQuery, location="query")
@blp.response(200, OrgAssignmentsOut)
def list_assignments(query: dict):
    """Your assignments, newest first (owners/admins may ask for a member's with `user_id`)."""
    return to_dict(_auth(auth_rpc.ListAssignments, auth_pb2.ListAssignmentsRequest(
        caller=caller(current_principal()), user_id=str(query.get("user_id") or ""))))


@blp.route("/current/audit-log", methods=["GET"])
@auth_required
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditLogOut)
def audit_log(query: dict):
    """Who did what, when and from where in this organisation, newest first (owner/admin only).
    Includes billing events (subscription, invoices)."""
    response = _auth(auth_rpc.ListAuditLog, auth_pb2.ListAuditLogRequest(
        caller=caller(current_principal()), limit=query["limit"], before_id=query.get("before_id", 0)))
    entries = []
    for entry in response.entries:
        data = to_dict(entry)
        data["id"] = int(data["id"])
        data["details"] = json.loads(data.pop("details_json") or "{}")
        entries.append(data)
    return {"entries": entries}
