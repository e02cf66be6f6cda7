"""Organisations over the auth gRPC server, through the real ServiceClient (metadata, error mapping)."""
import json
import uuid

import grpc
import jwt
import pytest

from careeros_services.auth.entrypoints.grpc_server import registration
from careeros_services.common import grpc_support
from careeros_services.common.errors import Conflict, Forbidden
from careeros_services.common.infra import free_port
from contracts.grpc import auth_pb2, auth_pb2_grpc, common_pb2

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def client(config, fresh_store):
    fresh_store("auth")
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration({**config, "billing": {**config["billing"], "plans": {"free": {"seats_included": 2}}}})
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    client = grpc_support.ServiceClient("auth", address, auth_pb2_grpc.AuthStub, deadline_s=10)
    yield client
    client.close()
    server.stop(grace=None)
    servicer.service.store.close()


def caller(claims: dict) -> common_pb2.Caller:
    return common_pb2.Caller(user_id=claims["sub"], tenant_id=claims["tenant_id"], org_role=claims["org_role"],
                             plan_tier=claims["plan_tier"])


def unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_invite_accept_roles_audit_and_client_ip_over_grpc(client):
    email = f"g{uuid.uuid4().hex[:10]}@example.com"
    client.call("Register", auth_pb2.RegisterRequest(email=email, password=PASSWORD, display_name="Gail",
                                                     organization_name="Gail's Guild"))
    owner = caller(unverified(client.call("Login", auth_pb2.LoginRequest(email=email, password=PASSWORD))
                              .access_token))
    ip = [(grpc_support.CLIENT_IP_KEY, "203.0.113.77")]
    invitee = f"i{uuid.uuid4().hex[:10]}@example.com"
    invite = client.call("CreateInvite", auth_pb2.CreateInviteRequest(caller=owner, email=invitee, role="member"),
                         metadata=ip)
    accepted = client.call("AcceptInvite", auth_pb2.AcceptInviteRequest(
        token=invite.token, password=PASSWORD, display_name="Ian"))
    member_claims = unverified(accepted.tokens.access_token)
    assert (member_claims["tenant_id"], member_claims["org_role"]) == (owner.tenant_id, "member")
    member = caller(member_claims)

    org = client.call("GetOrg", auth_pb2.GetOrgRequest(caller=owner))
    assert (org.seat_limit, org.seats_used, org.org_role) == (2, 2, "owner")
    with pytest.raises(Conflict) as caught:  # the trailer carries code and fields back to the client
        client.call("CreateInvite", auth_pb2.CreateInviteRequest(caller=owner, email="x@example.com",
                                                                 role="member"))
    assert caught.value.code == "seat_limit_reached" and caught.value.fields == {"seats": ["limit: 2", "used: 2"]}
    with pytest.raises(Forbidden) as caught:
        client.call("ListAuditLog", auth_pb2.ListAuditLogRequest(caller=member))
    assert caught.value.code == "org_role_forbidden"

    client.call("CreateAssignment", auth_pb2.CreateAssignmentRequest(
        caller=owner, user_id=member.user_id, course_id="sql-basics"), metadata=ip)
    mine = client.call("ListAssignments", auth_pb2.ListAssignmentsRequest(caller=member)).assignments
    assert [a.course_id for a in mine] == ["sql-basics"]
    updated = client.call("UpdateMember", auth_pb2.UpdateMemberRequest(caller=owner, user_id=member.user_id,
                                                                       role="instructor"), metadata=ip)
    assert updated.org_role == "instructor"
    members = client.call("ListMembers", auth_pb2.ListMembersRequest(caller=owner)).members
    assert {m.email: m.org_role for m in members} == {email: "owner", invitee: "instructor"}

    entries = client.call("ListAuditLog", auth_pb2.ListAuditLogRequest(caller=owner, limit=10)).entries
    assert [(e.action, e.client_ip) for e in entries] == [
        ("org.role_changed", "203.0.113.77"), ("org.assignment_created", "203.0.113.77"),
        ("org.invite_accepted", ""), ("org.invite_created", "203.0.113.77")]
    assert json.loads(entries[0].details_json) == {"from": "member", "to": "instructor"}
    page = client.call("ListAuditLog", auth_pb2.ListAuditLogRequest(caller=owner, limit=2,
                                                                   before_id=entries[1].id)).entries
    assert [e.action for e in page] == ["org.invite_accepted", "org.invite_created"]

    client.call("RemoveMember", auth_pb2.RemoveMemberRequest(caller=owner, user_id=member.user_id), metadata=ip)
    with pytest.raises(Forbidden) as caught:
        client.call("SwitchTenant", auth_pb2.SwitchTenantRequest(caller=member, tenant_id=owner.tenant_id))
    assert caught.value.code == "not_a_member"


def test_bad_ids_are_invalid_argument_naming_the_field(client):
    email = f"g{uuid.uuid4().hex[:10]}@example.com"
    client.call("Register", auth_pb2.RegisterRequest(email=email, password=PASSWORD, display_name="Gus",
                                                     organization_name="Gus Co"))
    owner = caller(unverified(client.call("Login", auth_pb2.LoginRequest(email=email, password=PASSWORD))
                              .access_token))
    stub = client.stub
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateMember(auth_pb2.UpdateMemberRequest(caller=owner, user_id="not-a-uuid", role="member"),
                          timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert json.loads(dict(caught.value.trailing_metadata())["careeros-error-fields"]) == {"user_id": ["must be a UUID"]}
