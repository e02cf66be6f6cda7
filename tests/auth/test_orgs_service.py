"""Organisations in the auth service layer on the real PostgreSQL: invites, seats, roles, one owner,
assignments, the append-only audit log, and billing's entitlement.changed through handle_events."""
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import psycopg2
import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.auth.service import build
from careeros_services.common import db as dbmod
from careeros_services.common import plan_cache
from careeros_services.common.clock import MovedClock
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def auth(config, fresh_store):
    fresh_store("auth")
    prefix = f"careeros.test{uuid.uuid4().hex[:8]}.auth."
    service = build({**config, "auth": {**config["auth"], "redis_prefix": prefix},
                     "billing": {**config["billing"], "plans": {"free": {"seats_included": 3}}}})
    yield service
    for key in service.redis.scan_iter(match=f"{prefix}*"):
        service.redis.delete(key)
    service.store.close()


def email() -> str:
    return f"o{uuid.uuid4().hex[:12]}@example.com"


def claims_of(auth, token: str) -> dict:
    header = jwt.get_unverified_header(token)
    [key] = [k for k in auth.jwks()["keys"] if k["kid"] == header["kid"]]
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=auth.audience, issuer=auth.issuer)


def admin_sql(config, query: str, params=()):
    """As the migrating admin role (bypasses RLS): what a DBA could attempt."""
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "auth", admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def outbox(auth, event_type: str, tenant_id: str) -> list[dict]:
    with auth.store.transaction() as tx:
        rows = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s AND envelope->>'tenant_id' = %s"
                                 " ORDER BY id", (event_type, tenant_id)).fetchall()
    return [contracts.validate(r[0]) for r in rows]


def org(auth):
    """A new organisation: (tenant_id, owner_id, owner_email)."""
    who = email()
    reg = auth.register(who, PASSWORD, "Olive Owner", f"Org {uuid.uuid4().hex[:6]}")
    return reg["tenant_id"], reg["user_id"], who


def join(auth, tenant_id, inviter, role="member", who=None):
    """Invite and accept as a new account; returns (user_id, accept result)."""
    invite = auth.create_invite(Caller(tenant_id, inviter), who or email(), role, client_ip="203.0.113.9")
    result = auth.accept_invite(invite["token"], password=PASSWORD, display_name="Newbie", client_ip="203.0.113.10")
    return result["user_id"], result


def test_invite_accept_by_registration_joins_with_the_role_and_the_token_carries_it(auth):
    tenant_id, owner, _ = org(auth)
    who = email()
    invite = auth.create_invite(Caller(tenant_id, owner), who.upper(), "instructor", client_ip="203.0.113.9")
    assert invite["email"] == who and invite["role"] == "instructor"
    result = auth.accept_invite(invite["token"], password=PASSWORD, display_name="Ivy", client_ip="198.51.100.7")
    claims = claims_of(auth, result["tokens"]["access_token"])
    assert (claims["sub"], claims["tenant_id"], claims["org_role"]) == (result["user_id"], tenant_id, "instructor")
    members = {m["user_id"]: m for m in auth.list_members(Caller(tenant_id, owner))}
    assert members[result["user_id"]]["org_role"] == "instructor" and members[result["user_id"]]["email"] == who
    # The new account logs in straight into the organisation (its home tenant).
    login = claims_of(auth, auth.login(who, PASSWORD)["access_token"])
    assert (login["tenant_id"], login["org_role"]) == (tenant_id, "instructor")
    [joined] = [e for e in outbox(auth, "careeros.auth.membership.changed.v1", tenant_id)
                if e["payload"]["user_id"] == result["user_id"]]
    assert joined["payload"] == {"tenant_id": tenant_id, "user_id": result["user_id"], "role": "instructor",
                                 "actor_user_id": owner}
    [registered] = [e for e in outbox(auth, "careeros.auth.user.registered.v1", tenant_id)
                    if e["payload"]["user_id"] == result["user_id"]]
    assert registered["payload"]["org_role"] == "instructor"
    log = auth.audit_log(Caller(tenant_id, owner))
    assert [(e["action"], e["client_ip"]) for e in log[:2]] == [
        ("org.invite_accepted", "198.51.100.7"), ("org.invite_created", "203.0.113.9")]
    assert log[1]["actor_user_id"] == owner and log[0]["actor_user_id"] == result["user_id"]


def test_an_invite_is_single_use(auth):
    tenant_id, owner, _ = org(auth)
    invite = auth.create_invite(Caller(tenant_id, owner), email(), "member")
    auth.accept_invite(invite["token"], password=PASSWORD, display_name="Once")
    with pytest.raises(Conflict) as caught:
        auth.accept_invite(invite["token"], password=PASSWORD, display_name="Twice")
    assert caught.value.code == "invite_used"
    assert len(auth.list_members(Caller(tenant_id, owner))) == 2


def test_a_logged_in_user_accepts_only_an_invite_to_their_own_email(auth):
    tenant_id, owner, _ = org(auth)
    other_home, other_user, other_email = org(auth)  # someone with an account elsewhere
    wrong = auth.create_invite(Caller(tenant_id, owner), email(), "member")
    with pytest.raises(Forbidden) as caught:
        auth.accept_invite(wrong["token"], user_id=other_user)
    assert caught.value.code == "invite_email_mismatch"
    right = auth.create_invite(Caller(tenant_id, owner), other_email, "admin")
    result = auth.accept_invite(right["token"], user_id=other_user)
    assert claims_of(auth, result["tokens"]["access_token"])["org_role"] == "admin"
    # Registering with the email of an existing account is refused: log in instead.
    third_tenant, third_owner, _ = org(auth)
    again = auth.create_invite(Caller(third_tenant, third_owner), other_email, "member")
    with pytest.raises(Conflict) as caught:
        auth.accept_invite(again["token"], password=PASSWORD, display_name="X")
    assert caught.value.code == "email_taken"
    assert [m["user_id"] for m in auth.list_members(Caller(third_tenant, third_owner))] == [third_owner]
    # ...and switching tenants gives a token for the other membership with its role.
    switched = claims_of(auth, auth.switch_tenant(Caller(other_home, other_user), tenant_id)["access_token"])
    assert (switched["tenant_id"], switched["org_role"]) == (tenant_id, "admin")
    with pytest.raises(Forbidden):
        auth.switch_tenant(Caller(tenant_id, owner), org(auth)[0])


def test_expired_and_forged_invites_are_refused(auth, config):
    tenant_id, owner, _ = org(auth)
    clock = MovedClock()
    short = build({**config, "auth": {**config["auth"], "invite_ttl_s": 1}}, clock=clock)
    try:
        invite = short.create_invite(Caller(tenant_id, owner), email(), "member")
        clock.advance(seconds=2.1)
        with pytest.raises(Conflict) as caught:
            short.accept_invite(invite["token"], password=PASSWORD, display_name="Late")
        assert caught.value.code == "invite_expired"
    finally:
        short.store.close()
    # Shortened in the database (the stored expiry is authoritative too).
    invite = auth.create_invite(Caller(tenant_id, owner), email(), "member")
    admin_sql(config, "UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = %s",
              (invite["invite_id"],))
    with pytest.raises(Conflict) as caught:
        auth.accept_invite(invite["token"], password=PASSWORD, display_name="Late")
    assert caught.value.code == "invite_expired"
    # An access token is not an invite; a tampered invite is not one either.
    access = auth.login(*_owner_login(auth))["access_token"]
    for token in (access, invite["token"][:-4] + "AAAA", "nonsense"):
        with pytest.raises(NotFound):
            auth.accept_invite(token, password=PASSWORD, display_name="Forger")


def _owner_login(auth):
    who = email()
    auth.register(who, PASSWORD, "Solo")
    return who, PASSWORD


def test_seat_limit_counts_members_and_pending_invites_and_raising_seats_lifts_it(auth):
    tenant_id, owner, _ = org(auth)  # default limit 3: owner + 2
    join(auth, tenant_id, owner)
    auth.create_invite(Caller(tenant_id, owner), email(), "member")  # pending: the third seat
    with pytest.raises(Conflict) as caught:
        auth.create_invite(Caller(tenant_id, owner), email(), "member")
    assert caught.value.code == "seat_limit_reached" and "limit 3" in caught.value.detail
    assert caught.value.fields["seats"][0] == "limit: 3"
    assert auth.get_org(Caller(tenant_id, owner))["seats_used"] == 3
    _entitlement(auth, tenant_id, "team", 5)
    info = auth.get_org(Caller(tenant_id, owner))
    assert (info["plan_tier"], info["seat_limit"], info["seats_used"]) == ("team", 5, 3)
    auth.create_invite(Caller(tenant_id, owner), email(), "member")


def test_roles_members_cannot_manage_and_admins_do_not_touch_admins(auth):
    tenant_id, owner, _ = org(auth)
    _entitlement(auth, tenant_id, "team", 10)
    member, _ = join(auth, tenant_id, owner)
    admin, _ = join(auth, tenant_id, owner, "admin")
    other_admin, _ = join(auth, tenant_id, owner, "admin")
    for call in (lambda: auth.create_invite(Caller(tenant_id, member), email(), "member"),
                 lambda: auth.list_members(Caller(tenant_id, member)),
                 lambda: auth.audit_log(Caller(tenant_id, member)),
                 lambda: auth.change_member_role(Caller(tenant_id, member), admin, "member"),
                 lambda: auth.create_assignment(Caller(tenant_id, member), member, course_id="c1"),
                 lambda: auth.create_invite(Caller(tenant_id, admin), email(), "admin"),
                 lambda: auth.change_member_role(Caller(tenant_id, admin), other_admin, "member"),
                 lambda: auth.remove_member(Caller(tenant_id, admin), other_admin)):
        with pytest.raises(Forbidden):
            call()
    assert auth.change_member_role(Caller(tenant_id, admin), member, "instructor")["org_role"] == "instructor"
    with pytest.raises(ValidationFailed) as caught:
        auth.change_member_role(Caller(tenant_id, owner), member, "superuser")
    assert "role" in caught.value.fields


def test_exactly_one_owner_transfer_and_the_database_enforces_it(auth, config):
    tenant_id, owner, _ = org(auth)
    admin, _ = join(auth, tenant_id, owner, "admin")
    for call, code in ((lambda: auth.change_member_role(Caller(tenant_id, admin), owner, "member"), "owner_required"),
                       (lambda: auth.remove_member(Caller(tenant_id, admin), owner), "owner_required"),
                       (lambda: auth.remove_member(Caller(tenant_id, owner), owner), "owner_required")):
        with pytest.raises(Conflict) as caught:
            call()
        assert caught.value.code == code
    with pytest.raises(Forbidden):
        auth.change_member_role(Caller(tenant_id, admin), admin, "owner")  # only the owner transfers
    assert auth.change_member_role(Caller(tenant_id, owner), admin, "owner")["org_role"] == "owner"
    roles = {m["user_id"]: m["org_role"] for m in auth.list_members(Caller(tenant_id, admin))}
    assert roles == {owner: "admin", admin: "owner"}
    assert claims_of(auth, auth.switch_tenant(Caller(tenant_id, admin), tenant_id)["access_token"])["org_role"] == "owner"
    # The database refuses a second owner and an owner-less tenant, whatever the code does.
    with pytest.raises(psycopg2.errors.UniqueViolation):
        admin_sql(config, "UPDATE memberships SET org_role = 'owner' WHERE tenant_id = %s AND user_id = %s",
                  (tenant_id, owner))
    with pytest.raises(psycopg2.errors.CheckViolation):
        admin_sql(config, "UPDATE memberships SET org_role = 'admin' WHERE tenant_id = %s AND user_id = %s",
                  (tenant_id, admin))
    with pytest.raises(psycopg2.errors.CheckViolation):
        admin_sql(config, "DELETE FROM memberships WHERE tenant_id = %s AND org_role = 'owner'", (tenant_id,))
    assert [r[0] for r in admin_sql(config, "SELECT user_id::text FROM memberships WHERE tenant_id = %s"
                                    " AND org_role = 'owner'", (tenant_id,))] == [admin]


def test_removal_revokes_refresh_and_leaving_is_allowed(auth):
    tenant_id, owner, _ = org(auth)
    member, joined = join(auth, tenant_id, owner)
    leaver, _ = join(auth, tenant_id, owner)
    auth.remove_member(Caller(tenant_id, owner), member, client_ip="192.0.2.1")
    with pytest.raises(Exception) as caught:
        auth.refresh(joined["tokens"]["refresh_token"])
    assert getattr(caught.value, "code", "") == "invalid_refresh_token"
    auth.remove_member(Caller(tenant_id, leaver), leaver)
    assert [m["user_id"] for m in auth.list_members(Caller(tenant_id, owner))] == [owner]
    actions = [(e["action"], e["target_id"]) for e in auth.audit_log(Caller(tenant_id, owner))[:2]]
    assert actions == [("org.member_left", leaver), ("org.member_removed", member)]
    with pytest.raises(Forbidden) as caught2:
        auth.get_org(Caller(tenant_id, member))
    assert caught2.value.code == "not_a_member"
    # The removed member's account came from the invite (home = the org): they get a personal space.
    home = claims_of(auth, auth.login(_email_of(auth, member), PASSWORD)["access_token"])
    assert home["tenant_id"] != tenant_id and home["org_role"] == "owner" and home["plan_tier"] == "free"
    assert auth.get_org(Caller(home["tenant_id"], member))["kind"] == "personal"
    [created] = outbox(auth, "careeros.auth.tenant.created.v1", home["tenant_id"])
    assert created["payload"]["owner_user_id"] == member


def _email_of(auth, user_id: str) -> str:
    with auth.store.transaction() as tx:
        return tx.db.execute_sql("SELECT email FROM users WHERE id = %s", (user_id,)).fetchone()[0]


def test_assignments_event_and_members_see_their_own(auth):
    tenant_id, owner, _ = org(auth)
    member, _ = join(auth, tenant_id, owner)
    due = (datetime.now(timezone.utc) + timedelta(days=14)).isoformat()
    made = auth.create_assignment(Caller(tenant_id, owner), member, course_id="python-101", due_at=due)
    auth.create_assignment(Caller(tenant_id, owner), member, target_role="Data Analyst")
    mine = auth.list_assignments(Caller(tenant_id, member))
    assert [(a["course_id"], a["target_role"]) for a in mine] == [("", "Data Analyst"), ("python-101", "")]
    with pytest.raises(Forbidden):
        auth.list_assignments(Caller(tenant_id, member), owner)
    assert len(auth.list_assignments(Caller(tenant_id, owner), member)) == 2
    [event] = [e for e in outbox(auth, "careeros.auth.assignment.created.v1", tenant_id)
               if e["payload"]["assignment_id"] == made["assignment_id"]]
    assert event["payload"]["user_id"] == member and event["payload"]["assigned_by"] == owner
    assert datetime.fromisoformat(event["payload"]["due_at"]) == datetime.fromisoformat(due)
    with pytest.raises(ValidationFailed) as caught:
        auth.create_assignment(Caller(tenant_id, owner), member, due_at="yesterday")
    assert set(caught.value.fields) == {"course_id", "due_at"}
    with pytest.raises(NotFound):
        auth.create_assignment(Caller(tenant_id, owner), str(uuid.uuid4()), course_id="c")


def test_audit_log_is_append_only_and_tenant_scoped(auth, config):
    tenant_id, owner, _ = org(auth)
    other_tenant, other_owner, _ = org(auth)
    auth.create_invite(Caller(tenant_id, owner), email(), "member")
    with pytest.raises(Forbidden):
        auth.audit_log(Caller(tenant_id, other_owner))  # an owner of another tenant is not a member here
    assert all(e["tenant_id"] == other_tenant for e in auth.audit_log(Caller(other_tenant, other_owner)))
    for statement in ("UPDATE audit_log SET action = 'x' WHERE tenant_id = %s",
                      "DELETE FROM audit_log WHERE tenant_id = %s"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            admin_sql(config, statement, (tenant_id,))
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        admin_sql(config, "TRUNCATE audit_log")
    with auth.store.transaction(other_tenant) as tx:  # RLS: another tenant's rows are invisible to the app
        assert tx.db.execute_sql("SELECT count(*) FROM audit_log WHERE tenant_id = %s",
                                 (tenant_id,)).fetchone()[0] == 0


def _envelope(event_type: str, tenant_id: str, payload: dict, occurred_at=None) -> dict:
    return contracts.validate({
        "id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": (occurred_at or datetime.now(timezone.utc)).isoformat(), "producer": "billing",
        "tenant_id": tenant_id, "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "aggregate_type": event_type.split(".")[2], "aggregate_id": tenant_id, "payload": payload})


def _entitlement(auth, tenant_id, plan, seats, saga_id=None, occurred_at=None) -> dict:
    envelope = _envelope("careeros.billing.entitlement.changed.v1", tenant_id, {
        "tenant_id": tenant_id, "subscription_id": str(uuid.uuid4()), "saga_id": saga_id or uuid.uuid4().hex,
        "plan": plan, "seats": seats, "entitlements": ["premium_courses"], "reason": "activated"}, occurred_at)
    assert auth.handle_events([envelope]) == [True]
    return envelope


def test_entitlement_changed_sets_plan_answers_plan_changed_and_refresh_carries_the_new_tier(auth):
    tenant_id, owner, who = org(auth)
    tokens = auth.login(who, PASSWORD)
    assert claims_of(auth, tokens["access_token"])["plan_tier"] == "free"
    saga = uuid.uuid4().hex
    envelope = _entitlement(auth, tenant_id, "team", 7, saga)
    assert auth.handle_events([envelope]) == [False]  # redelivered: nothing again
    answers = outbox(auth, "careeros.auth.tenant.plan_changed.v1", tenant_id)
    assert [a["payload"] for a in answers] == [{"tenant_id": tenant_id, "plan_tier": "team", "seats": 7,
                                                "saga_id": saga}]
    assert answers[0]["causation_id"] == envelope["id"]
    refreshed = claims_of(auth, auth.refresh(tokens["refresh_token"])["access_token"])
    assert (refreshed["plan_tier"], refreshed["org_role"]) == ("team", "owner")
    # An older entitlement arriving late does not undo the newer one, but is still answered.
    _entitlement(auth, tenant_id, "free", 0, "late", datetime.now(timezone.utc) - timedelta(hours=1))
    assert auth.get_org(Caller(tenant_id, owner))["plan_tier"] == "team"
    # The gateway serves the tier auth applied (with any token), not the late one.
    assert plan_cache.current(auth.redis, tenant_id) == "team"
    assert 0 < auth.redis.ttl(plan_cache.key(tenant_id)) <= auth.access_ttl_s
    assert outbox(auth, "careeros.auth.tenant.plan_changed.v1", tenant_id)[-1]["payload"]["saga_id"] == "late"
    assert auth.audit_log(Caller(tenant_id, owner))[0]["details"]["applied"] is False


def test_billing_events_land_in_the_audit_log(auth):
    tenant_id, owner, _ = org(auth)
    sub = str(uuid.uuid4())
    activated = _envelope("careeros.billing.subscription.activated.v1", tenant_id, {
        "subscription_id": sub, "tenant_id": tenant_id, "user_id": owner, "plan": "team", "seats": 4,
        "status": "active", "period_end": "2026-12-29T00:00:00+00:00"})
    invoice = _envelope("careeros.billing.invoice.issued.v1", tenant_id, {
        "invoice_id": str(uuid.uuid4()), "tenant_id": tenant_id, "subscription_id": sub, "currency": "EUR",
        "total_minor": 4000, "lines": [{"description": "Team x4", "amount_minor": 4000, "kind": "subscription"}],
        "issued_at": "2026-11-29T00:00:00+00:00"})
    assert auth.handle_events([activated, invoice]) == [True, True]
    log = auth.audit_log(Caller(tenant_id, owner))
    assert [(e["action"], e["source"], e["event_id"]) for e in log[:2]] == [
        ("billing.invoice_issued", "event", invoice["id"]), ("billing.subscription_activated", "event", activated["id"])]
    assert log[1]["actor_user_id"] == owner and log[0]["details"]["total_minor"] == 4000


def test_concurrent_invites_never_overshoot_the_seat_limit(auth):
    import threading

    tenant_id, owner, _ = org(auth)  # limit 3: owner + one member leave one seat
    join(auth, tenant_id, owner)
    start, outcomes = threading.Barrier(6), []

    def attempt() -> None:
        start.wait()
        try:
            auth.create_invite(Caller(tenant_id, owner), email(), "member")
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok"] + ["seat_limit_reached"] * 5
    assert auth.get_org(Caller(tenant_id, owner))["seats_used"] == 3


def test_pending_invites_are_listed_revoked_freeing_the_seat_and_resent_with_a_new_token(auth):
    tenant_id, owner, _ = org(auth)  # 3 seats: the owner + 2 invites fill them
    first = auth.create_invite(Caller(tenant_id, owner), email(), "member")
    second = auth.create_invite(Caller(tenant_id, owner), email(), "instructor")
    listed = auth.list_invites(Caller(tenant_id, owner))
    assert [i["invite_id"] for i in listed["invites"]] == [second["invite_id"], first["invite_id"]]
    assert (listed["seat_limit"], listed["seats_used"]) == (3, 3)
    assert listed["invites"][0]["invited_by_name"] == "Olive Owner"
    with pytest.raises(Conflict):
        auth.create_invite(Caller(tenant_id, owner), email(), "member")

    revoked = auth.revoke_invite(Caller(tenant_id, owner), first["invite_id"])
    assert revoked["status"] == "revoked"
    assert auth.list_invites(Caller(tenant_id, owner))["seats_used"] == 2
    third = auth.create_invite(Caller(tenant_id, owner), email(), "member")   # the freed seat
    with pytest.raises(Conflict) as caught:
        auth.accept_invite(first["token"], password=PASSWORD, display_name="Too late")
    assert caught.value.code == "invite_revoked"
    with pytest.raises(Conflict) as caught:
        auth.revoke_invite(Caller(tenant_id, owner), first["invite_id"])
    assert caught.value.code == "invite_revoked"

    resent = auth.resend_invite(Caller(tenant_id, owner), second["invite_id"])
    assert (resent["email"], resent["role"]) == (second["email"], "instructor")
    assert resent["invite_id"] != second["invite_id"] and resent["token"] != second["token"]
    assert auth.list_invites(Caller(tenant_id, owner))["seats_used"] == 3                  # still one seat
    with pytest.raises(Conflict) as caught:
        auth.accept_invite(second["token"], password=PASSWORD, display_name="Old link")
    assert caught.value.code == "invite_revoked"
    joined = auth.accept_invite(resent["token"], password=PASSWORD, display_name="New link")
    assert joined["org_role"] == "instructor"
    actions = [e["action"] for e in auth.audit_log(Caller(tenant_id, owner))]
    assert {"org.invite_revoked", "org.invite_resent"} <= set(actions)

    member = auth.accept_invite(third["token"], password=PASSWORD, display_name="Member")["user_id"]
    for forbidden in (lambda: auth.list_invites(Caller(tenant_id, member)),
                      lambda: auth.revoke_invite(Caller(tenant_id, member), resent["invite_id"])):
        with pytest.raises(Forbidden):
            forbidden()
    with pytest.raises(NotFound):
        auth.revoke_invite(Caller(tenant_id, owner), str(uuid.uuid4()))


def test_my_organizations_lists_every_membership_with_its_role(auth):
    home_tenant, user, who = org(auth)
    other_tenant, other_owner, _ = org(auth)
    auth.accept_invite(auth.create_invite(Caller(other_tenant, other_owner), who, "admin")["token"], user_id=user)
    found = {o["tenant_id"]: o for o in auth.my_organizations(Caller(other_tenant, user))}
    assert set(found) == {home_tenant, other_tenant}
    assert (found[home_tenant]["org_role"], found[home_tenant]["home"], found[home_tenant]["current"]) == (
        "owner", True, False)
    assert (found[other_tenant]["org_role"], found[other_tenant]["current"]) == ("admin", True)
    assert found[other_tenant]["kind"] == "organization" and found[other_tenant]["name"].startswith("Org ")
    assert [o["tenant_id"] for o in auth.my_organizations(Caller(other_tenant, other_owner))] == [other_tenant]


def test_names_are_resolved_when_read_and_only_for_members(auth):
    tenant_id, owner, _ = org(auth)
    member, _ = join(auth, tenant_id, owner)
    _, stranger, _ = org(auth)
    names = auth.resolve_names(Caller(tenant_id, owner), [member, owner, stranger, "not-an-id"])
    assert names == {member: "Newbie", owner: "Olive Owner"}
    with pytest.raises(Forbidden):
        auth.resolve_names(Caller(tenant_id, stranger), [member])
    entries = auth.audit_log(Caller(tenant_id, owner))
    assert {(e["actor_user_id"], e["actor_name"]) for e in entries} == {(owner, "Olive Owner"), (member, "Newbie")}
