"""Bodies of /orgs."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import NAME, Schema
from gateway_flask.views.auth.schemas import TokenPairOut

ROLES = ["owner", "admin", "instructor", "member"]
INVITABLE = ["admin", "instructor", "member"]


class OrgOut(Schema):
    tenant_id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "personal | organization"})
    plan_tier = ma.fields.String(metadata={"description": "free | pro | team"})
    seat_limit = ma.fields.Integer(metadata={"description": "From the team plan's seats, else the default"})
    seats_used = ma.fields.Integer(metadata={"description": "members + pending invites"})
    members = ma.fields.Integer()
    pending_invites = ma.fields.Integer()
    org_role = ma.fields.String(metadata={"description": "Your role in this organisation"})


class InviteIn(Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    role = ma.fields.String(required=True, validate=validate.OneOf(INVITABLE))


class InviteOut(Schema):
    invite_id = ma.fields.String()
    email = ma.fields.String()
    role = ma.fields.String()
    expires_at = ma.fields.String()
    token = ma.fields.String(metadata={"description": "Signed, single-use; redeem at "
                                                      "POST /api/v1/orgs/invites/{token}/accept"})
    accept_url = ma.fields.String(metadata={"description": "The link to send: a web client opens it "
                                                           "({web.base_url}/invites/{token})"})


class PendingInviteOut(Schema):
    invite_id = ma.fields.String()
    email = ma.fields.String()
    role = ma.fields.String()
    invited_by = ma.fields.String()
    invited_by_name = ma.fields.String()
    created_at = ma.fields.String()
    expires_at = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending | revoked"})


class InvitesOut(Schema):
    invites = ma.fields.List(ma.fields.Nested(PendingInviteOut))
    seat_limit = ma.fields.Integer()
    seats_used = ma.fields.Integer(metadata={"description": "members + pending invites"})


class MyOrganizationOut(Schema):
    tenant_id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "personal | organization"})
    org_role = ma.fields.String(metadata={"description": "your role there"})
    plan_tier = ma.fields.String()
    joined_at = ma.fields.String()
    current = ma.fields.Boolean(metadata={"description": "the tenant of this token"})
    home = ma.fields.Boolean(metadata={"description": "where login lands"})


class MyOrganizationsOut(Schema):
    organizations = ma.fields.List(ma.fields.Nested(MyOrganizationOut))


class AcceptIn(Schema):
    """Empty when you are logged in (your email must be the invite's); else registers a new account."""
    password = ma.fields.String(load_only=True, validate=validate.Length(min=10, max=256))
    display_name = ma.fields.String(validate=[validate.Length(min=1, max=120), NAME])


class AcceptOut(Schema):
    tenant_id = ma.fields.String()
    user_id = ma.fields.String()
    org_role = ma.fields.String()
    tokens = ma.fields.Nested(TokenPairOut, metadata={"description": "Tokens for the joined organisation"})


class MemberOut(Schema):
    user_id = ma.fields.String()
    email = ma.fields.String()
    display_name = ma.fields.String()
    org_role = ma.fields.String()
    joined_at = ma.fields.String()


class MembersOut(Schema):
    members = ma.fields.List(ma.fields.Nested(MemberOut))


class MemberPatch(Schema):
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES),
                            metadata={"description": "\"owner\" transfers ownership (owner only); "
                                                     "you become an admin"})


class OrgAssignmentIn(Schema):
    user_id = ma.fields.UUID(required=True)
    course_id = ma.fields.String(validate=validate.Length(max=200))
    target_role = ma.fields.String(validate=validate.Length(max=200))
    due_at = ma.fields.AwareDateTime(metadata={"description": "RFC 3339 with offset, in the future"})


class OrgAssignmentOut(Schema):
    assignment_id = ma.fields.String()
    tenant_id = ma.fields.String()
    user_id = ma.fields.String()
    course_id = ma.fields.String()
    target_role = ma.fields.String()
    assigned_by = ma.fields.String()
    due_at = ma.fields.String()
    created_at = ma.fields.String()


class OrgAssignmentsQuery(Schema):
    user_id = ma.fields.UUID(metadata={"description": "Another member's (owner/admin only); default: yours"})


class OrgAssignmentsOut(Schema):
    assignments = ma.fields.List(ma.fields.Nested(OrgAssignmentOut))


class AuditQuery(Schema):
    limit = ma.fields.Integer(validate=validate.Range(1, 200), load_default=50)
    before_id = ma.fields.Integer(validate=validate.Range(min=1),
                                  metadata={"format": "int64", "description": "Page: entries older than this id"})


class AuditEntryOut(Schema):
    id = ma.fields.Integer()
    tenant_id = ma.fields.String()
    actor_user_id = ma.fields.String()
    actor_name = ma.fields.String(metadata={"description": "the actor's display name now, resolved when read"})
    action = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.String()
    details = ma.fields.Dict()
    client_ip = ma.fields.String()
    source = ma.fields.String(metadata={"description": "api | event"})
    event_id = ma.fields.String()
    occurred_at = ma.fields.String()


class AuditLogOut(Schema):
    entries = ma.fields.List(ma.fields.Nested(AuditEntryOut))
