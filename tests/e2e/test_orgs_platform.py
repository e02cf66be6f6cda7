"""The whole platform (every process kind, started as `careeros run` starts it): a team subscription in
billing runs its saga over Kafka through auth (entitlement.changed -> plan_changed), the organisation gets
its seats and plan, the next refreshed token says `team`, and the audit log shows both services' actions.
Then `careeros tenant isolate` moves that organisation to its own schema in every service database
while the platform runs, and every service keeps serving it.

Its own databases, vhost and topics (prefix ``<e2e prefix>orgs_``), so it can run beside tests/e2e.
"""
from __future__ import annotations

import uuid

import jwt
import pytest

from careeros_services import registry
from tests.platform_support import ApiSession
from tests.polling import eventually

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


@pytest.fixture
def api(platform):
    """The session's platform (tests/e2e/conftest.py), with its configuration at hand."""
    with ApiSession(platform.base_url) as session:
        session.config = platform.config
        yield session


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_team_subscription_saga_through_auth_sets_plan_and_seats(api):
    email = f"p{uuid.uuid4().hex[:10]}@example.com"
    registered = api.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Pia",
                                                  "organization_name": "Platform Org"})
    assert registered.status_code == 201, registered.text
    owner = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    org = api.get("/orgs/current", headers=bearer(owner)).json()
    assert (org["plan_tier"], org["seat_limit"]) == ("free", 3)
    assert api.post("/orgs/current/invites", json={"email": f"i{uuid.uuid4().hex[:8]}@example.com",
                                                   "role": "member"}, headers=bearer(owner)).status_code == 201

    started = api.post("/billing/subscriptions", json={"plan": "team", "seats": 5, "payment_method": "pm_card_visa"},
                       headers={**bearer(owner), "Idempotency-Key": uuid.uuid4().hex})
    assert started.status_code == 201, started.text
    org = eventually(lambda: api.get("/orgs/current", headers=bearer(owner)).json(),
                     lambda o: o.get("plan_tier") == "team", what="auth to apply entitlement.changed", timeout_s=90.0)
    assert org["seat_limit"] == 5 and org["seats_used"] == 2
    # billing's saga advanced on auth's plan_changed answer (same saga_id) to an active subscription.
    eventually(lambda: api.get("/billing/subscription", headers=bearer(owner)).json(),
               lambda s: (s.get("subscription") or {}).get("status") == "active" and s.get("plan") == "team",
               what="the billing saga to complete", timeout_s=90.0)
    refreshed = api.post("/auth/refresh", json={"refresh_token": owner["refresh_token"]}).json()
    claims = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert (claims["plan_tier"], claims["org_role"]) == ("team", "owner")

    log = eventually(lambda: api.get("/orgs/current/audit-log", headers=bearer(refreshed)).json()["entries"],
                     lambda entries: "billing.subscription_activated" in {e["action"] for e in entries},
                     what="billing's subscription.activated in the audit log", timeout_s=90.0)
    actions = [e["action"] for e in log]
    assert "billing.entitlement_changed" in actions and actions[-1] == "org.invite_created"
    assert log[-1]["client_ip"] == "127.0.0.1" and log[-1]["source"] == "api"


def test_isolating_a_tenant_while_the_platform_runs_keeps_every_service_working(api):
    from bus.store import migrations
    from careeros_services.common import tenant_schemas

    email = f"x{uuid.uuid4().hex[:10]}@example.com"
    reg = api.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Xia",
                                           "organization_name": "Isolated Inc"}).json()
    owner = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    eventually(lambda: api.get("/profile", headers=bearer(owner)), lambda r: r.status_code == 200,
               what="the profile made from user.registered", timeout_s=90.0)
    assert api.patch("/profile", json={"headline": "Before the move"}, headers=bearer(owner)).status_code == 200
    other = f"y{uuid.uuid4().hex[:10]}@example.com"
    api.post("/auth/register", json={"email": other, "password": PASSWORD, "display_name": "Yan"})
    other_tokens = api.post("/auth/login", json={"email": other, "password": PASSWORD}).json()

    for spec in registry.SERVICES.values():
        moved = tenant_schemas.isolate(api.config, spec.name, reg["tenant_id"], migrations(spec.package))
        assert moved["schema"] == tenant_schemas.schema_for(reg["tenant_id"])

    # auth (members, invites, audit) and profile (reads, writes, events) keep serving the moved tenant.
    assert api.get("/profile", headers=bearer(owner)).json()["headline"] == "Before the move"
    patched = api.patch("/profile", json={"headline": "After the move"}, headers=bearer(owner))
    assert patched.status_code == 200 and patched.json()["headline"] == "After the move"
    invitee = f"z{uuid.uuid4().hex[:8]}@example.com"
    invite = api.post("/orgs/current/invites", json={"email": invitee, "role": "member"}, headers=bearer(owner))
    assert invite.status_code == 201, invite.text
    joined = api.post(f"/orgs/invites/{invite.json()['token']}/accept",
                      json={"password": PASSWORD, "display_name": "Zoe"})
    assert joined.status_code == 200, joined.text
    # The new member's profile is made by the profile service from user.registered, in the moved schema.
    member = joined.json()["tokens"]
    eventually(lambda: api.get("/profile", headers=bearer(member)), lambda r: r.status_code == 200,
               what="the new member's profile after the move", timeout_s=90.0)
    members = api.get("/orgs/current/members", headers=bearer(owner)).json()["members"]
    assert sorted(m["org_role"] for m in members) == ["member", "owner"]
    actions = [e["action"] for e in api.get("/orgs/current/audit-log", headers=bearer(owner)).json()["entries"]]
    assert actions[:2] == ["org.invite_accepted", "org.invite_created"]
    # Another tenant is untouched.
    assert api.get("/me", headers=bearer(other_tokens)).json()["email"] == other
    assert api.get("/orgs/current", headers=bearer(other_tokens)).json()["kind"] == "personal"
