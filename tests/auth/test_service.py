"""The auth service layer on the real PostgreSQL and Redis."""
import time
import uuid

import jwt
import pytest
import redis

from bus import contracts
from careeros_services.auth.service import REVOKED_JTI_PREFIX, AuthService, build
from careeros_services.common.errors import Conflict, RateLimited, Unauthenticated, ValidationFailed

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def auth(config, fresh_store) -> AuthService:
    fresh_store("auth")
    service = build({**config, "auth": {**config["auth"], "login_max_failures": 3,
                                        "redis_prefix": f"careeros:test{uuid.uuid4().hex[:8]}:auth:"}})
    yield service
    service.store.close()


def email() -> str:
    return f"t{uuid.uuid4().hex[:12]}@example.com"


def outbox(auth: AuthService, aggregate_id: str) -> list[dict]:
    with auth.store.transaction() as tx:
        return [row[0] for row in tx.db.execute_sql(
            "SELECT envelope FROM outbox WHERE key = %s ORDER BY id", (aggregate_id,)).fetchall()]


def test_register_makes_tenant_user_owner_and_both_events_in_one_commit(auth):
    who = email()
    result = auth.register(who, PASSWORD, "Ada", "Acme Learning")
    [tenant_event] = outbox(auth, result["tenant_id"])
    [user_event] = outbox(auth, result["user_id"])
    for event in (tenant_event, user_event):
        contracts.validate(event)
    assert tenant_event["type"] == "careeros.auth.tenant.created.v1"
    assert tenant_event["payload"]["kind"] == "organization" and tenant_event["payload"]["name"] == "Acme Learning"
    assert user_event["type"] == "careeros.auth.user.registered.v1"
    assert user_event["payload"]["org_role"] == "owner" and user_event["tenant_id"] == result["tenant_id"]
    assert "email" not in user_event["payload"]  # PII stays in auth
    me = auth.get_me(result["user_id"], result["tenant_id"])
    assert (me["email"], me["tenant_kind"], me["org_role"], me["plan_tier"]) == \
        (who, "organization", "owner", "free")


def test_a_duplicate_email_is_a_conflict_and_leaves_nothing_behind(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    with auth.store.transaction() as tx:
        tenants_before = tx.db.execute_sql("SELECT count(*) FROM tenants").fetchone()[0]
    with pytest.raises(Conflict) as caught:
        auth.register(who.upper(), PASSWORD, "Someone")
    assert caught.value.code == "email_taken"
    with auth.store.transaction() as tx:
        assert tx.db.execute_sql("SELECT count(*) FROM tenants").fetchone()[0] == tenants_before


def test_invalid_registration_names_the_fields(auth):
    with pytest.raises(ValidationFailed) as caught:
        auth.register("nope", "short", "")
    assert {"email", "password", "display_name"} <= set(caught.value.fields)


def test_login_issues_an_rs256_token_the_jwks_verifies(auth):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    tokens = auth.login(who, PASSWORD, "10.9.8.7")
    header = jwt.get_unverified_header(tokens["access_token"])
    [key] = [k for k in auth.jwks()["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(tokens["access_token"], jwt.PyJWK(key).key, algorithms=["RS256"],
                        audience=auth.audience, issuer=auth.issuer)
    assert claims["sub"] == registered["user_id"] and claims["tenant_id"] == registered["tenant_id"]
    assert (claims["org_role"], claims["plan_tier"]) == ("owner", "free")
    assert claims["exp"] - claims["iat"] == auth.access_ttl_s and claims["jti"]
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == auth.access_ttl_s


def test_wrong_password_and_unknown_email_look_the_same(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    with pytest.raises(Unauthenticated) as wrong:
        auth.login(who, "wrong password here")
    with pytest.raises(Unauthenticated) as unknown:
        auth.login(email(), PASSWORD)
    assert wrong.value.code == unknown.value.code == "invalid_credentials"
    assert wrong.value.detail == unknown.value.detail


def test_repeated_failures_are_throttled_even_with_the_right_password(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    ip = f"192.0.2.{uuid.uuid4().int % 250}"
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            auth.login(who, "wrong password here", ip)
    with pytest.raises(RateLimited) as caught:
        auth.login(who, PASSWORD, ip)
    assert caught.value.code == "login_throttled" and 0 < caught.value.retry_after <= auth.failure_window_s


def test_refresh_rotates_and_a_reused_token_revokes_the_family(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    first = auth.login(who, PASSWORD)
    second = auth.refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    third = auth.refresh(second["refresh_token"])
    with pytest.raises(Unauthenticated) as caught:
        auth.refresh(first["refresh_token"])  # reuse: a stolen token
    assert caught.value.code == "refresh_token_reused"
    with pytest.raises(Unauthenticated) as caught:
        auth.refresh(third["refresh_token"])  # the newest of the family is dead too
    assert caught.value.code == "invalid_refresh_token"
    with pytest.raises(Unauthenticated):
        auth.refresh("not-a-token")


def test_logout_revokes_the_access_token_in_redis_and_the_refresh_family(auth, config):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    tokens = auth.login(who, PASSWORD)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    auth.logout(claims["jti"], claims["exp"], tokens["refresh_token"])
    client = redis.Redis.from_url(config["redis_url"])
    assert client.get(REVOKED_JTI_PREFIX + claims["jti"]) == b"1"
    assert 0 < client.ttl(REVOKED_JTI_PREFIX + claims["jti"]) <= claims["exp"] - int(time.time()) + 1
    with pytest.raises(Unauthenticated):
        auth.refresh(tokens["refresh_token"])


def test_memberships_are_isolated_by_row_level_security(auth):
    a = auth.register(email(), PASSWORD, "A")
    b = auth.register(email(), PASSWORD, "B")
    with auth.store.transaction(a["tenant_id"]) as tx:
        rows = tx.db.execute_sql("SELECT tenant_id::text FROM memberships").fetchall()
    assert rows and {r[0] for r in rows} == {a["tenant_id"]}
    with auth.store.transaction() as tx:
        assert tx.db.execute_sql("SELECT count(*) FROM memberships").fetchone()[0] == 0
    assert b["tenant_id"] != a["tenant_id"]


def test_the_peewee_models_match_the_migrated_schema(auth):
    from careeros_services.auth.persistence import MODELS
    with auth.store.transaction() as tx:
        for model in MODELS:
            columns = {c.name for c in tx.db.get_columns(model._meta.table_name)}
            assert set(model._meta.columns) <= columns, model._meta.table_name


def test_ops_lookup_by_email_has_no_secrets(auth):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    found = auth.find_user_by_email(who)
    assert found["id"] == registered["user_id"] and found["home_tenant_id"] == registered["tenant_id"]
    assert "password_hash" not in found
