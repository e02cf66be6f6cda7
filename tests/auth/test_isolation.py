"""Schema per tenant: `careeros tenant isolate` moves an enterprise tenant's auth rows to its own
schema; the service keeps working for it (and for everyone else), and later migrations reach it."""
from __future__ import annotations

import uuid

import jwt
import psycopg2
import pytest

from bus.store import migrations
from careeros_services.common.caller import Caller
from careeros_services.auth import persistence
from careeros_services.auth.service import AuthService
from careeros_services.auth.settings import Settings
from careeros_services.common import db as dbmod
from careeros_services.common import tenant_schemas
from careeros_services.common.db import Migration
from careeros_services.common.errors import Conflict, Forbidden

PASSWORD = "correct horse battery"
SERVICE_DB = "auth_iso"  # its own database: the move must not touch the other auth tests' data


@pytest.fixture(scope="module")
def auth(config, fresh_store, redis_client_for_iso):
    store = fresh_store(SERVICE_DB, "careeros_services.auth")
    persistence.bind(store.database)
    yield AuthService(store, Settings.from_config(config), redis_client_for_iso)


@pytest.fixture(scope="module")
def redis_client_for_iso(config):
    import redis
    client = redis.Redis.from_url(config["redis_url"])
    yield client
    client.close()


def admin(config, query: str, params=()) -> list[tuple]:
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, SERVICE_DB, admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def claims(tokens: dict) -> dict:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})


def org(auth) -> tuple[str, str, str]:
    who = f"e{uuid.uuid4().hex[:10]}@example.com"
    reg = auth.register(who, PASSWORD, "Erin", f"Enterprise {uuid.uuid4().hex[:6]}")
    return reg["tenant_id"], reg["user_id"], who


def test_isolate_moves_the_rows_and_the_service_keeps_working(config, auth):
    tenant, owner, owner_email = org(auth)
    other, other_owner, _ = org(auth)
    member_invite = auth.create_invite(Caller(tenant, owner), f"m{uuid.uuid4().hex[:8]}@example.com", "member")
    member = auth.accept_invite(member_invite["token"], password=PASSWORD, display_name="Max")
    auth.create_assignment(Caller(tenant, owner), member["user_id"], course_id="before-move")
    pending = auth.create_invite(Caller(tenant, owner), f"p{uuid.uuid4().hex[:8]}@example.com", "instructor")
    audit_before = auth.audit_log(Caller(tenant, owner))
    auth.create_invite(Caller(other, other_owner), f"o{uuid.uuid4().hex[:8]}@example.com", "member")

    result = tenant_schemas.isolate(config, SERVICE_DB, tenant, migrations("careeros_services.auth"))
    schema = tenant_schemas.schema_for(tenant)
    assert result["schema"] == schema
    assert result["rows"] == {"memberships": 2, "invites": 2, "assignments": 1, "audit_log": len(audit_before)}
    for table in ("memberships", "invites", "assignments", "audit_log"):  # nothing left behind in public
        assert admin(config, f"SELECT count(*) FROM public.{table} WHERE tenant_id = %s", (tenant,)) == [(0,)]
    assert admin(config, "SELECT count(*) FROM public.memberships WHERE tenant_id = %s", (other,)) == [(1,)]
    assert admin(config, f"SELECT count(*) FROM {schema}.memberships") == [(2,)]
    assert admin(config, "SELECT tenant_id FROM public.tenant_placement") == [(tenant,)]

    # Same service code, same answers, now from the tenant's schema.
    assert auth.audit_log(Caller(tenant, owner)) == audit_before
    assert {m["org_role"] for m in auth.list_members(Caller(tenant, owner))} == {"owner", "member"}
    assert [a["course_id"] for a in auth.list_assignments(Caller(tenant, member["user_id"]))] == ["before-move"]
    tokens = auth.login(owner_email, PASSWORD)
    assert (claims(tokens)["tenant_id"], claims(tokens)["org_role"]) == (tenant, "owner")
    joined = auth.accept_invite(pending["token"], password=PASSWORD, display_name="Ines")
    assert claims(joined["tokens"])["org_role"] == "instructor"
    with pytest.raises(Conflict):  # single use still holds
        auth.accept_invite(pending["token"], password=PASSWORD, display_name="Ines")
    auth.create_assignment(Caller(tenant, owner), joined["user_id"], target_role="Data Engineer")
    assert claims(auth.refresh(tokens["refresh_token"]))["org_role"] == "owner"
    new_rows = admin(config, f"SELECT action FROM {schema}.audit_log ORDER BY id DESC LIMIT 2")
    assert new_rows == [("org.assignment_created",), ("org.invite_accepted",)]
    assert admin(config, "SELECT count(*) FROM public.audit_log WHERE tenant_id = %s", (tenant,)) == [(0,)]
    ids = [e["id"] for e in auth.audit_log(Caller(tenant, owner))]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)  # ids keep rising after the move

    # The database rules hold in the tenant's schema too.
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        admin(config, f"DELETE FROM {schema}.audit_log")
    with pytest.raises(psycopg2.errors.CheckViolation):
        admin(config, f"UPDATE {schema}.memberships SET org_role = 'admin' WHERE org_role = 'owner'")
    with pytest.raises(Forbidden):  # the other tenant's owner still cannot read it
        auth.audit_log(Caller(tenant, other_owner))
    assert {m["user_id"] for m in auth.list_members(Caller(other, other_owner))} == {other_owner}
    with auth.store.transaction(other) as tx:  # another tenant's transactions never see the schema
        assert tx.db.execute_sql("SELECT count(*) FROM memberships").fetchone()[0] == 1

    # Billing's events keep reaching it.
    from datetime import datetime, timezone

    from bus import contracts
    envelope = contracts.validate({
        "id": str(uuid.uuid4()), "type": "careeros.billing.entitlement.changed.v1", "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "billing", "tenant_id": tenant,
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": "entitlement",
        "aggregate_id": tenant, "payload": {"tenant_id": tenant, "subscription_id": str(uuid.uuid4()),
                                            "saga_id": "s1", "plan": "team", "seats": 50, "entitlements": [],
                                            "reason": "activated"}})
    assert auth.handle_events([envelope]) == [True]
    assert auth.get_org(Caller(tenant, owner))["seat_limit"] == 50
    assert admin(config, f"SELECT action FROM {schema}.audit_log ORDER BY id DESC LIMIT 1") == [
        ("billing.entitlement_changed",)]

    # A later migration is applied to public and to the tenant's schema alike.
    def add_note_column(cur) -> None:
        cur.execute("ALTER TABLE assignments ADD COLUMN note text NOT NULL DEFAULT '';"
                    "ALTER TABLE tenants ADD COLUMN iso_test_flag boolean NOT NULL DEFAULT false")
    later = migrations("careeros_services.auth") + [Migration("svc_9001_iso_test", add_note_column)]
    assert dbmod.migrate(config, SERVICE_DB, later) == ["svc_9001_iso_test"]
    for where in ("public", schema):
        assert admin(config, "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s"
                     " AND table_name = 'assignments' AND column_name = 'note'", (where,)) == [(1,)]
    assert admin(config, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'"
                 " AND table_name = 'tenants' AND column_name = 'iso_test_flag'") == [(1,)]
    assert len(auth.list_assignments(Caller(tenant, joined["user_id"]))) == 1
    # Isolating again changes nothing.
    again = tenant_schemas.isolate(config, SERVICE_DB, tenant, later)
    assert again["rows"]["memberships"] == 3
