"""/api/v1/orgs (and /auth/switch-tenant) through the real gateway app, the real auth gRPC server, real
tokens (signed by auth, verified against its JWKS), PostgreSQL and Redis."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import jwt
import psycopg2
import pytest

from bus import contracts
from careeros_services.auth.entrypoints.grpc_server import registration
from careeros_services.common import db as dbmod
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from gateway_flask.app import create_app
from gateway_flask.views.auth.resources import blp as auth_blp
from gateway_flask.views.orgs.resources import blp as orgs_blp
from gateway_flask.views.orgs.resources import memberships_blp
from tests.gateway.conftest import gw_config, redis_client  # noqa: F401

PASSWORD = "correct horse battery"
SEATS = 3


@pytest.fixture(scope="module")
def auth_server(config, fresh_store):
    fresh_store("auth")
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration({**config, "billing": {**config["billing"], "plans": {"free": {"seats_included": SEATS}}}})
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    yield address, servicer.service
    server.stop(grace=None)
    servicer.service.store.close()


@pytest.fixture
def http(gw_config, redis_client, auth_server):  # noqa: F811
    address, service = auth_server
    gw_config["grpc"]["addresses"]["auth"] = address
    gw_config["auth"]["revoked_jti_prefix"] = "careeros:revoked:jti:"  # where auth's logout writes
    gw_config["auth"]["not_before_prefix"] = "careeros:revoked:"  # where auth's revocations write
    from gateway_flask import services
    services._clients.clear()
    gw_config["web"] = {"base_url": "https://careeros.example/app/"}
    app = create_app(gw_config, jwks_provider=service.jwks, redis_client=redis_client,
                     blueprints=[auth_blp, orgs_blp, memberships_blp])
    return app.test_client()


@pytest.fixture
def service(auth_server):
    return auth_server[1]


def email() -> str:
    return f"w{uuid.uuid4().hex[:12]}@example.com"


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def claims(tokens: dict) -> dict:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["code"] == code, body
    return body


def new_org(http) -> tuple[dict, str]:
    """Register an organisation over HTTP and log its owner in: (tokens, email)."""
    who = email()
    resp = http.post("/api/v1/auth/register", json={"email": who, "password": PASSWORD, "display_name": "Owen",
                                                    "organization_name": f"Org {uuid.uuid4().hex[:6]}"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    tokens = http.post("/api/v1/auth/login", json={"email": who, "password": PASSWORD}).get_json()
    return tokens, who


def invite(http, owner: dict, role="member", who=None, ip="198.51.100.20"):
    return http.post("/api/v1/orgs/current/invites", json={"email": who or email(), "role": role},
                     headers=bearer(owner), environ_base={"REMOTE_ADDR": ip})


def join(http, owner: dict, role="member") -> dict:
    made = invite(http, owner, role)
    assert made.status_code == 201, made.get_data(as_text=True)
    resp = http.post(f"/api/v1/orgs/invites/{made.get_json()['token']}/accept",
                     json={"password": PASSWORD, "display_name": "Mia"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["tokens"]


def test_invite_accept_single_use_and_a_member_gets_403(http):
    owner, _ = new_org(http)
    org = http.get("/api/v1/orgs/current", headers=bearer(owner)).get_json()
    assert (org["org_role"], org["kind"], org["seat_limit"], org["seats_used"]) == ("owner", "organization", SEATS, 1)
    made = invite(http, owner, "instructor")
    assert made.status_code == 201
    token = made.get_json()["token"]
    accepted = http.post(f"/api/v1/orgs/invites/{token}/accept", json={"password": PASSWORD, "display_name": "Ida"})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    body = accepted.get_json()
    assert body["org_role"] == "instructor" and body["tenant_id"] == claims(owner)["tenant_id"]
    assert claims(body["tokens"])["org_role"] == "instructor" and body["tokens"]["expires_in"] > 0
    problem(http.post(f"/api/v1/orgs/invites/{token}/accept", json={"password": PASSWORD, "display_name": "Ida"}),
            409, "invite_used")
    problem(http.post("/api/v1/orgs/invites/not.a.token/accept", json={}), 404, "invite_not_found")

    member = join(http, owner)
    assert http.get("/api/v1/orgs/current", headers=bearer(member)).get_json()["org_role"] == "member"
    for resp in (invite(http, member),
                 http.get("/api/v1/orgs/current/members", headers=bearer(member)),
                 http.get("/api/v1/orgs/current/audit-log", headers=bearer(member)),
                 http.patch(f"/api/v1/orgs/current/members/{claims(owner)['sub']}", json={"role": "member"},
                            headers=bearer(member)),
                 http.post("/api/v1/orgs/current/assignments",
                           json={"user_id": claims(member)["sub"], "course_id": "c"}, headers=bearer(member))):
        body = problem(resp, 403, "org_role_forbidden")
        assert "org_role" in body["errors"]
    # The instructor sees the member list; nobody anonymous sees anything.
    members = http.get("/api/v1/orgs/current/members", headers=bearer(accepted.get_json()["tokens"]))
    assert members.status_code == 200 and len(members.get_json()["members"]) == 3
    problem(http.get("/api/v1/orgs/current"), 401, "unauthenticated")


def test_logged_in_acceptance_needs_the_invited_email_and_a_bad_token_is_401(http):
    owner, _ = new_org(http)
    other, other_email = new_org(http)
    wrong = invite(http, owner).get_json()["token"]
    problem(http.post(f"/api/v1/orgs/invites/{wrong}/accept", json={}, headers=bearer(other)),
            403, "invite_email_mismatch")
    right = invite(http, owner, "admin", who=other_email).get_json()["token"]
    problem(http.post(f"/api/v1/orgs/invites/{right}/accept", json={},
                      headers={"Authorization": "Bearer garbage"}), 401, "unauthenticated")
    accepted = http.post(f"/api/v1/orgs/invites/{right}/accept", json={}, headers=bearer(other))
    assert accepted.status_code == 200 and accepted.get_json()["org_role"] == "admin"
    # Back and forth between the two memberships, each token with its own role.
    switched = http.post("/api/v1/auth/switch-tenant", json={"tenant_id": claims(other)["tenant_id"]},
                         headers=bearer(accepted.get_json()["tokens"]))
    assert switched.status_code == 200 and claims(switched.get_json())["org_role"] == "owner"
    problem(http.post("/api/v1/auth/switch-tenant", json={"tenant_id": str(uuid.uuid4())}, headers=bearer(owner)),
            403, "not_a_member")


def test_seat_limit_is_a_409_naming_the_limit_and_team_seats_lift_it(http, service):
    owner, _ = new_org(http)
    join(http, owner)
    assert invite(http, owner).status_code == 201  # the third seat, pending
    body = problem(invite(http, owner), 409, "seat_limit_reached")
    assert body["errors"]["seats"] == [f"limit: {SEATS}", f"used: {SEATS}"] and f"limit {SEATS}" in body["detail"]
    tenant_id = claims(owner)["tenant_id"]
    _entitlement(service, tenant_id, "team", 5)
    assert invite(http, owner).status_code == 201
    org = http.get("/api/v1/orgs/current", headers=bearer(owner)).get_json()
    assert (org["plan_tier"], org["seat_limit"], org["seats_used"]) == ("team", 5, 4)
    # The next token (refresh) carries the new plan tier.
    assert claims(owner)["plan_tier"] == "free"
    refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": owner["refresh_token"]}).get_json()
    assert (claims(refreshed)["plan_tier"], claims(refreshed)["org_role"]) == ("team", "owner")


def test_an_expired_invite_is_refused(http, config):
    owner, _ = new_org(http)
    made = invite(http, owner).get_json()
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "auth", admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE invites SET expires_at = now() - interval '1 minute' WHERE id = %s",
                        (made["invite_id"],))
    finally:
        conn.close()
    problem(http.post(f"/api/v1/orgs/invites/{made['token']}/accept",
                      json={"password": PASSWORD, "display_name": "Late"}), 409, "invite_expired")
    # An expired invite no longer holds a seat.
    assert http.get("/api/v1/orgs/current", headers=bearer(owner)).get_json()["pending_invites"] == 0


def test_exactly_one_owner_through_the_api(http):
    owner, _ = new_org(http)
    admin = join(http, owner, "admin")
    owner_id, admin_id = claims(owner)["sub"], claims(admin)["sub"]
    problem(http.patch(f"/api/v1/orgs/current/members/{owner_id}", json={"role": "member"}, headers=bearer(owner)),
            409, "owner_required")
    problem(http.delete(f"/api/v1/orgs/current/members/{owner_id}", headers=bearer(admin)), 409, "owner_required")
    problem(http.patch(f"/api/v1/orgs/current/members/{admin_id}", json={"role": "owner"}, headers=bearer(admin)),
            403, "org_role_forbidden")
    problem(http.patch(f"/api/v1/orgs/current/members/{admin_id}", json={"role": "king"}, headers=bearer(owner)),
            422, "validation_failed")
    moved = http.patch(f"/api/v1/orgs/current/members/{admin_id}", json={"role": "owner"}, headers=bearer(owner))
    assert moved.status_code == 200 and moved.get_json()["org_role"] == "owner"
    # Both roles changed: both old access tokens are refused until refreshed.
    for tokens in (owner, admin):
        problem(http.get("/api/v1/orgs/current", headers=bearer(tokens)), 401, "token_revoked")
    owner, admin = (http.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]}).get_json()
                    for t in (owner, admin))
    roles = [m["org_role"] for m in http.get("/api/v1/orgs/current/members", headers=bearer(admin)).get_json()["members"]]
    assert sorted(roles) == ["admin", "owner"]
    # The former owner (now admin) can no longer remove the new owner; the new owner removes them.
    problem(http.delete(f"/api/v1/orgs/current/members/{admin_id}", headers=bearer(owner)), 409, "owner_required")
    assert http.delete(f"/api/v1/orgs/current/members/{owner_id}", headers=bearer(admin)).status_code == 204
    problem(http.get("/api/v1/orgs/current", headers=bearer(owner)), 401, "token_revoked")


def test_assignments_and_the_audit_log_are_tenant_scoped_with_client_ip(http):
    owner, _ = new_org(http)
    member = join(http, owner)
    made = http.post("/api/v1/orgs/current/assignments",
                     json={"user_id": claims(member)["sub"], "course_id": "python-101",
                           "due_at": "2099-01-01T00:00:00Z"}, headers=bearer(owner),
                     environ_base={"REMOTE_ADDR": "203.0.113.44"})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["course_id"] == "python-101"
    body = problem(http.post("/api/v1/orgs/current/assignments", json={"user_id": claims(member)["sub"]},
                             headers=bearer(owner)), 422, "validation_failed")
    assert "course_id" in body["errors"]
    mine = http.get("/api/v1/orgs/current/assignments", headers=bearer(member)).get_json()["assignments"]
    assert [a["course_id"] for a in mine] == ["python-101"]
    problem(http.get(f"/api/v1/orgs/current/assignments?user_id={claims(owner)['sub']}", headers=bearer(member)),
            403, "org_role_forbidden")

    log = http.get("/api/v1/orgs/current/audit-log", headers=bearer(owner)).get_json()["entries"]
    assert [(e["action"], e["client_ip"]) for e in log] == [
        ("org.assignment_created", "203.0.113.44"), ("org.invite_accepted", "127.0.0.1"),
        ("org.invite_created", "198.51.100.20")]
    assert log[0]["actor_user_id"] == claims(owner)["sub"] and log[0]["details"]["course_id"] == "python-101"
    # Another organisation's owner sees only their own tenant's log (their token names their tenant).
    stranger, _ = new_org(http)
    theirs = http.get("/api/v1/orgs/current/audit-log", headers=bearer(stranger)).get_json()["entries"]
    assert theirs == []
    problem(http.get("/api/v1/orgs/current/audit-log?limit=0", headers=bearer(owner)), 422, "validation_failed")


def test_an_admin_revokes_an_invite_and_the_seat_is_free_again_resend_replaces_the_link(http):
    owner, _ = new_org(http)     # 3 seats: the owner and two invites
    first, second = invite(http, owner).get_json(), invite(http, owner, role="instructor").get_json()
    assert first["accept_url"] == f"https://careeros.example/app/invites/{first['token']}"
    problem(invite(http, owner), 409, "seat_limit_reached")
    listed = http.get("/api/v1/orgs/current/invites", headers=bearer(owner)).get_json()
    assert [i["invite_id"] for i in listed["invites"]] == [second["invite_id"], first["invite_id"]]
    assert (listed["seat_limit"], listed["seats_used"], listed["invites"][0]["invited_by_name"]) == (3, 3, "Owen")

    revoked = http.delete(f"/api/v1/orgs/current/invites/{first['invite_id']}", headers=bearer(owner))
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert http.get("/api/v1/orgs/current", headers=bearer(owner)).get_json()["seats_used"] == 2
    assert invite(http, owner).status_code == 201                    # the seat is free again
    problem(http.post(f"/api/v1/orgs/invites/{first['token']}/accept",
                      json={"password": PASSWORD, "display_name": "Late"}), 409, "invite_revoked")

    resent = http.post(f"/api/v1/orgs/current/invites/{second['invite_id']}/resend", headers=bearer(owner))
    assert resent.status_code == 201
    fresh = resent.get_json()
    assert fresh["token"] != second["token"] and fresh["accept_url"].endswith(fresh["token"])
    problem(http.post(f"/api/v1/orgs/invites/{second['token']}/accept",
                      json={"password": PASSWORD, "display_name": "Old"}), 409, "invite_revoked")
    member = http.post(f"/api/v1/orgs/invites/{fresh['token']}/accept",
                       json={"password": PASSWORD, "display_name": "Ines"}).get_json()["tokens"]
    problem(http.get("/api/v1/orgs/current/invites", headers=bearer(member)), 403, "org_role_forbidden")
    problem(http.delete(f"/api/v1/orgs/current/invites/{uuid.uuid4()}", headers=bearer(owner)), 404,
            "invite_not_found")
    problem(http.delete("/api/v1/orgs/current/invites/not-a-uuid", headers=bearer(owner)), 404, "not_found")  # a UUID path
    log = http.get("/api/v1/orgs/current/audit-log", headers=bearer(owner)).get_json()["entries"]
    assert {(e["action"], e["actor_name"]) for e in log} >= {("org.invite_revoked", "Owen"),
                                                               ("org.invite_accepted", "Ines")}


def test_my_organizations_with_my_role_in_each(http):
    owner, owner_email = new_org(http)
    other, _ = new_org(http)
    made = invite(http, other, role="admin", who=owner_email).get_json()
    assert http.post(f"/api/v1/orgs/invites/{made['token']}/accept", json={}, headers=bearer(owner)).status_code == 200
    mine = http.get("/api/v1/me/organizations", headers=bearer(owner))
    assert mine.status_code == 200, mine.get_data(as_text=True)
    found = {o["tenant_id"]: o for o in mine.get_json()["organizations"]}
    assert {(o["org_role"], o["current"], o["home"]) for o in found.values()} == {("owner", True, True),
                                                                                 ("admin", False, False)}
    assert claims(other)["tenant_id"] in found
    problem(http.get("/api/v1/me/organizations"), 401, "unauthenticated")


def test_the_routes_are_in_the_openapi_document(http):
    paths = http.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/orgs/current", "/api/v1/orgs/current/invites", "/api/v1/orgs/invites/{token}/accept",
            "/api/v1/orgs/current/members", "/api/v1/orgs/current/members/{user_id}",
            "/api/v1/orgs/current/assignments", "/api/v1/orgs/current/audit-log",
            "/api/v1/auth/switch-tenant", "/api/v1/orgs/current/invites/{invite_id}",
            "/api/v1/orgs/current/invites/{invite_id}/resend", "/api/v1/me/organizations"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/orgs/current/invites"])
    assert {"patch", "delete"} <= set(paths["/api/v1/orgs/current/members/{user_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/orgs/current/assignments"])


def _entitlement(service, tenant_id: str, plan: str, seats: int) -> None:
    envelope = contracts.validate({
        "id": str(uuid.uuid4()), "type": "careeros.billing.entitlement.changed.v1", "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "billing", "tenant_id": tenant_id,
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": "entitlement",
        "aggregate_id": tenant_id, "payload": {
            "tenant_id": tenant_id, "subscription_id": str(uuid.uuid4()), "saga_id": uuid.uuid4().hex,
            "plan": plan, "seats": seats, "entitlements": [], "reason": "changed"}})
    assert service.handle_events([envelope]) == [True]


# --- stale rights: an access token stops working the moment its rights change (issue 10, item 6)

def test_a_removed_member_is_refused_at_once_with_token_revoked(http):
    owner, _ = new_org(http)
    member = join(http, owner)
    assert http.get("/api/v1/orgs/current", headers=bearer(member)).status_code == 200
    gone = http.delete(f"/api/v1/orgs/current/members/{claims(member)['sub']}", headers=bearer(owner))
    assert gone.status_code == 204, gone.get_data(as_text=True)
    body = problem(http.get("/api/v1/me", headers=bearer(member)), 401, "token_revoked")
    assert "refresh" in body["detail"]
    assert http.get("/api/v1/me", headers=bearer(owner)).status_code == 200  # nobody else is affected


def test_a_demoted_admin_is_refused_at_once_and_a_refresh_carries_the_new_role(http):
    owner, _ = new_org(http)
    admin = join(http, owner, role="admin")
    demoted = http.patch(f"/api/v1/orgs/current/members/{claims(admin)['sub']}", json={"role": "member"},
                         headers=bearer(owner))
    assert demoted.status_code == 200, demoted.get_data(as_text=True)
    problem(http.get("/api/v1/orgs/current/audit-log", headers=bearer(admin)), 401, "token_revoked")
    refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": admin["refresh_token"]}).get_json()
    assert claims(refreshed)["org_role"] == "member"
    assert http.get("/api/v1/me", headers=bearer(refreshed)).status_code == 200  # issued after: valid
    problem(http.get("/api/v1/orgs/current/audit-log", headers=bearer(refreshed)), 403, "org_role_forbidden")


def test_reusing_a_refresh_token_refuses_every_access_token_of_its_family(http):
    owner, _ = new_org(http)
    other_session = http.post("/api/v1/auth/refresh", json={"refresh_token": new_org(http)[0]["refresh_token"]})
    rotated = http.post("/api/v1/auth/refresh", json={"refresh_token": owner["refresh_token"]}).get_json()
    assert http.get("/api/v1/me", headers=bearer(rotated)).status_code == 200
    problem(http.post("/api/v1/auth/refresh", json={"refresh_token": owner["refresh_token"]}), 401,
            "refresh_token_reused")  # a thief replays the old one: the family is revoked
    for tokens in (owner, rotated):  # both access tokens of the family, the newest too
        problem(http.get("/api/v1/me", headers=bearer(tokens)), 401, "token_revoked")
    assert http.get("/api/v1/me", headers=bearer(other_session.get_json())).status_code == 200
