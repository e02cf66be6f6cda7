"""The auth service layer on the real PostgreSQL and Redis."""
import threading
import time
import uuid

import jwt
import pytest
import redis
from argon2 import PasswordHasher

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.auth import domain
from careeros_services.auth.persistence import MODELS
from careeros_services.auth.service import REVOKED_JTI_PREFIX, AuthService, build
from careeros_services.auth.settings import Settings
from careeros_services.common.errors import (Conflict, NotFound, RateLimited, Unauthenticated,
                                             ValidationFailed)

PASSWORD = "correct horse battery"
MAX_FAILURES = 3


@pytest.fixture(scope="module")
def redis_client(config):
    client = redis.Redis.from_url(config["redis_url"])
    yield client
    client.close()


@pytest.fixture(scope="module")
def auth(config, fresh_store, redis_client) -> AuthService:
    fresh_store("auth")
    prefix = f"careeros.test{uuid.uuid4().hex[:8]}.auth."
    service = build({**config, "auth": {**config["auth"], "login_max_failures": MAX_FAILURES,
                                        "login_max_failures_per_account": MAX_FAILURES * 2,
                                        "login_max_failures_per_ip": MAX_FAILURES * 4, "redis_prefix": prefix}})
    yield service
    for key in redis_client.scan_iter(match=f"{prefix}*"):
        redis_client.delete(key)
    service.store.close()


def email() -> str:
    return f"t{uuid.uuid4().hex[:12]}@example.com"


def an_ip() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"  # unique per test


def sql(auth: AuthService, query: str, params=(), tenant_id=None) -> list[tuple]:
    with auth.store.transaction(tenant_id) as tx:
        cursor = tx.db.execute_sql(query, params)
        return cursor.fetchall() if cursor.description else []


def outbox(auth: AuthService, aggregate_id: str) -> list[dict]:
    return [row[0] for row in sql(auth, "SELECT envelope FROM outbox WHERE key = %s ORDER BY id",
                                  (aggregate_id,))]


def verified_claims(auth: AuthService, access_token: str) -> dict:
    """Verify as the gateway does: the key named by kid, from the JWKS, RS256 only."""
    header = jwt.get_unverified_header(access_token)
    assert header["alg"] == "RS256"
    [key] = [k for k in auth.jwks()["keys"] if k["kid"] == header["kid"]]
    return jwt.decode(access_token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=auth.audience,
                      issuer=auth.issuer)


# --- registration -----------------------------------------------------------------------------

def test_an_organisation_registration_makes_tenant_user_owner_and_both_events(auth):
    who = email()
    result = auth.register(who.upper(), PASSWORD, " Ada ", "Acme Learning")
    [tenant_event] = outbox(auth, result["tenant_id"])
    user_event, verification = outbox(auth, result["user_id"])
    assert verification["type"] == "careeros.auth.user.verification_requested.v1"
    assert who not in str(verification)  # the address is asked of auth, never published
    for event in (tenant_event, user_event, verification):
        contracts.validate(event)
        assert event["producer"] == "auth" and event["tenant_id"] == result["tenant_id"]
    assert tenant_event["type"] == "careeros.auth.tenant.created.v1"
    assert tenant_event["payload"] == {"tenant_id": result["tenant_id"], "name": "Acme Learning",
                                       "kind": "organization", "plan_tier": "free",
                                       "owner_user_id": result["user_id"]}
    assert user_event["type"] == "careeros.auth.user.registered.v1"
    payload = user_event["payload"]
    assert (payload["user_id"], payload["tenant_id"], payload["tenant_kind"], payload["org_role"],
            payload["plan_tier"], payload["display_name"]) == \
        (result["user_id"], result["tenant_id"], "organization", "owner", "free", "Ada")
    assert who not in str(user_event)  # PII stays in auth
    me = auth.get_me(Caller(result["tenant_id"], result["user_id"]))
    assert me == {**me, "email": who, "display_name": "Ada", "tenant_name": "Acme Learning",
                  "tenant_kind": "organization", "org_role": "owner", "plan_tier": "free"}
    assert me["created_at"].endswith("+00:00")


def test_a_personal_registration_makes_a_tenant_named_after_the_user(auth):
    result = auth.register(email(), PASSWORD, "Grace Hopper")
    [tenant_event] = outbox(auth, result["tenant_id"])
    user_event, _verification = outbox(auth, result["user_id"])
    contracts.validate(tenant_event)
    contracts.validate(user_event)
    assert (tenant_event["payload"]["kind"], tenant_event["payload"]["name"]) == ("personal", "Grace Hopper")
    assert user_event["payload"]["tenant_kind"] == "personal"
    [(home,)] = sql(auth, "SELECT home_tenant_id::text FROM users WHERE id = %s", (result["user_id"],))
    assert home == result["tenant_id"]
    [(stored,)] = sql(auth, "SELECT password_hash FROM users WHERE id = %s", (result["user_id"],))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_duplicate_email_is_a_conflict_and_leaves_nothing_behind(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    [(tenants_before, events_before)] = sql(auth, "SELECT (SELECT count(*) FROM tenants),"
                                                  " (SELECT count(*) FROM outbox)")
    with pytest.raises(Conflict) as caught:
        auth.register(f"  {who.upper()} ", PASSWORD, "Someone", "Other Org")
    assert caught.value.code == "email_taken" and caught.value.status == 409
    assert "email" in caught.value.fields
    assert sql(auth, "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM outbox)") == \
        [(tenants_before, events_before)]


def test_concurrent_registrations_of_one_email_make_one_user(auth):
    who, outcomes = email(), []
    barrier = threading.Barrier(4)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            outcomes.append(auth.register(who, PASSWORD, f"Racer {i}"))
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["email_taken"] * 3
    assert sql(auth, "SELECT count(*) FROM users WHERE email = %s", (who,)) == [(1,)]


def test_invalid_registration_names_every_bad_field(auth):
    with pytest.raises(ValidationFailed) as caught:
        auth.register("not an email", "short", "", "")
    assert set(caught.value.fields) == {"email", "password", "display_name", "organization_name"}


# --- login ------------------------------------------------------------------------------------

def test_login_issues_an_rs256_token_the_jwks_verifies(auth):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    tokens = auth.login(f" {who.upper()}", PASSWORD, "10.9.8.7")
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == auth.access_ttl_s
    claims = verified_claims(auth, tokens["access_token"])
    assert set(claims) == {"sub", "tenant_id", "org_role", "plan_tier", "iss", "aud", "iat", "exp", "jti", "typ",
                           "sid", "email_verified"}
    assert claims["email_verified"] is False  # not confirmed yet: the API says so, login still works
    assert (claims["sub"], claims["tenant_id"], claims["org_role"], claims["plan_tier"], claims["typ"]) == \
        (registered["user_id"], registered["tenant_id"], "owner", "free", "access")
    assert (claims["iss"], claims["aud"]) == (auth.issuer, auth.audience)
    assert claims["exp"] - int(claims["iat"]) == auth.access_ttl_s and abs(claims["iat"] - time.time()) < 10
    [(family,)] = sql(auth, "SELECT family_id::text FROM refresh_tokens WHERE token_hash = %s",
                      (domain.refresh_token_hash(tokens["refresh_token"]),))
    assert claims["sid"] == family  # the session: revoking the family refuses this token too
    assert domain.verify_access_token(tokens["access_token"], auth.jwks(), issuer=auth.issuer,
                                      audience=auth.audience) == claims
    # the refresh token is stored only as its hash
    assert sql(auth, "SELECT count(*) FROM refresh_tokens WHERE token_hash = %s",
               (domain.refresh_token_hash(tokens["refresh_token"]),)) == [(1,)]
    assert sql(auth, "SELECT count(*) FROM refresh_tokens WHERE token_hash = %s",
               (tokens["refresh_token"],)) == [(0,)]


def test_wrong_password_and_unknown_email_look_the_same(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    answers = []
    for login in ((who, "wrong password here"), (email(), PASSWORD), ("not an email", PASSWORD),
                  (who, None)):
        with pytest.raises(Unauthenticated) as caught:
            auth.login(*login)
        answers.append((caught.value.code, caught.value.detail))
    assert set(answers) == {("invalid_credentials", "Email or password is wrong.")}


def test_an_outdated_password_hash_is_replaced_at_login(auth):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    sql(auth, "UPDATE users SET password_hash = %s WHERE id = %s", (weak, registered["user_id"]))
    auth.login(who, PASSWORD)
    [(stored,)] = sql(auth, "SELECT password_hash FROM users WHERE id = %s", (registered["user_id"],))
    assert stored != weak and not domain.password_needs_rehash(stored)
    assert domain.verify_password(stored, PASSWORD)


def test_failures_from_one_address_throttle_that_address_not_the_victim(auth):
    who, attacker = email(), an_ip()
    auth.register(who, PASSWORD, "Ada")
    for _ in range(MAX_FAILURES):
        with pytest.raises(Unauthenticated):
            auth.login(who, "wrong password here", attacker)
    with pytest.raises(RateLimited) as caught:
        auth.login(who, PASSWORD, attacker)  # throttled even with the right password
    assert caught.value.code == "login_throttled" and caught.value.status == 429
    assert 0 < caught.value.retry_after <= auth.failure_window_s
    assert auth.login(who, PASSWORD, an_ip())["access_token"]  # the owner, elsewhere, is not locked out


def test_failures_spread_over_many_addresses_reach_the_account_ceiling(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    for _ in range(auth.max_failures_per_account):
        with pytest.raises(Unauthenticated):
            auth.login(who, "wrong password here", an_ip())  # never the pair limit
    with pytest.raises(RateLimited):
        auth.login(who, PASSWORD, an_ip())


def test_a_success_clears_the_email_counter(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    for _round in range(2):
        for _ in range(MAX_FAILURES - 1):
            with pytest.raises(Unauthenticated):
                auth.login(who, "wrong password here")
        auth.login(who, PASSWORD)


def test_one_address_failing_for_many_emails_is_throttled(auth):
    ip = an_ip()
    who = email()
    auth.register(who, PASSWORD, "Ada")
    for _ in range(auth.max_failures_per_ip):
        with pytest.raises(Unauthenticated):
            auth.login(email(), "wrong password here", ip)  # a different (unknown) email each time
    with pytest.raises(RateLimited):
        auth.login(who, PASSWORD, ip)
    assert auth.login(who, PASSWORD, an_ip())["access_token"]  # the account itself is not locked


# --- refresh ----------------------------------------------------------------------------------

def test_refresh_rotates_within_the_family(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    first = auth.login(who, PASSWORD)
    second = auth.refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert verified_claims(auth, second["access_token"])["jti"] != \
        verified_claims(auth, first["access_token"])["jti"]
    rows = sql(auth, "SELECT token_hash, family_id, used_at IS NOT NULL FROM refresh_tokens"
                     " WHERE token_hash IN (%s, %s)",
               (domain.refresh_token_hash(first["refresh_token"]),
                domain.refresh_token_hash(second["refresh_token"])))
    by_hash = {r[0]: r for r in rows}
    old, new = (by_hash[domain.refresh_token_hash(t["refresh_token"])] for t in (first, second))
    assert old[1] == new[1] and old[2] and not new[2]


def test_a_reused_refresh_token_revokes_the_whole_family(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    first = auth.login(who, PASSWORD)
    other_session = auth.login(who, PASSWORD)
    second = auth.refresh(first["refresh_token"])
    third = auth.refresh(second["refresh_token"])
    with pytest.raises(Unauthenticated) as caught:
        auth.refresh(first["refresh_token"])  # a replay: the token was stolen
    assert caught.value.code == "refresh_token_reused"
    with pytest.raises(Unauthenticated) as caught:
        auth.refresh(third["refresh_token"])  # the newest of the family is dead too
    assert caught.value.code == "invalid_refresh_token"
    assert auth.refresh(other_session["refresh_token"])  # another family (device) is not affected


def test_unknown_expired_and_malformed_refresh_tokens_are_invalid(auth):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    tokens = auth.login(who, PASSWORD)
    sql(auth, "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
        (domain.refresh_token_hash(tokens["refresh_token"]),))
    for bad in (tokens["refresh_token"], domain.new_refresh_token(), "", "x" * 5000, None):
        with pytest.raises(Unauthenticated) as caught:
            auth.refresh(bad)
        assert caught.value.code == "invalid_refresh_token"


def test_a_refreshed_token_carries_the_current_plan_tier(auth):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada", "Acme")
    tokens = auth.login(who, PASSWORD)
    assert verified_claims(auth, tokens["access_token"])["plan_tier"] == "free"
    sql(auth, "UPDATE tenants SET plan_tier = 'team' WHERE id = %s", (registered["tenant_id"],))
    refreshed = auth.refresh(tokens["refresh_token"])
    assert verified_claims(auth, refreshed["access_token"])["plan_tier"] == "team"
    assert auth.get_me(Caller(registered["tenant_id"], registered["user_id"]))["plan_tier"] == "team"


# --- logout -----------------------------------------------------------------------------------

def test_logout_revokes_the_access_token_in_redis_and_the_refresh_family(auth, redis_client):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    tokens = auth.login(who, PASSWORD)
    rotated = auth.refresh(tokens["refresh_token"])
    claims = verified_claims(auth, rotated["access_token"])
    key = REVOKED_JTI_PREFIX + claims["jti"]
    try:
        logged_out_at = int(time.time())  # the TTL is what was left of the token then, not later
        auth.logout(claims["jti"], claims["exp"], rotated["refresh_token"], user_id=registered["user_id"])
        assert redis_client.get(key) == b"1"
        assert claims["exp"] - int(time.time()) - 2 <= redis_client.ttl(key) <= claims["exp"] - logged_out_at
        with pytest.raises(Unauthenticated) as caught:
            auth.refresh(rotated["refresh_token"])
        assert caught.value.code == "invalid_refresh_token"
        auth.logout(claims["jti"], claims["exp"], rotated["refresh_token"])  # twice is fine
    finally:
        redis_client.delete(key)


def test_logout_leaves_other_users_refresh_tokens_and_expired_jtis_alone(auth, redis_client):
    who = email()
    auth.register(who, PASSWORD, "Ada")
    tokens = auth.login(who, PASSWORD)
    jti = f"expired-{uuid.uuid4()}"
    auth.logout(jti, int(time.time()) - 5, tokens["refresh_token"], user_id=str(uuid.uuid4()))
    assert redis_client.exists(REVOKED_JTI_PREFIX + jti) == 0
    assert auth.refresh(tokens["refresh_token"])  # someone else's logout did not revoke it
    with pytest.raises(ValidationFailed):
        auth.logout("x" * 500, int(time.time()) + 60)


# --- reading ----------------------------------------------------------------------------------

def test_get_me_only_answers_for_a_member_of_the_tenant(auth):
    a = auth.register(email(), PASSWORD, "A")
    b = auth.register(email(), PASSWORD, "B")
    with pytest.raises(NotFound) as caught:
        auth.get_me(Caller(b["tenant_id"], a["user_id"]))
    assert caught.value.code == "user_not_found"
    with pytest.raises(ValidationFailed) as caught:
        auth.get_me(Caller.of("", "'; DROP TABLE users; --"))
    assert set(caught.value.fields) == {"user_id", "tenant_id"}


def test_ops_lookup_by_email_has_no_secrets(auth):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    found = auth.find_user_by_email(who.upper())
    assert found == {"id": registered["user_id"], "email": who, "display_name": "Ada",
                     "home_tenant_id": registered["tenant_id"], "created_at": found["created_at"]}
    with pytest.raises(NotFound):
        auth.find_user_by_email(email())


def test_jwks_publishes_public_keys_only(auth):
    keys = auth.jwks()["keys"]
    assert keys and all(set(k) == {"kty", "n", "e", "kid", "alg", "use"} for k in keys)


def test_concurrent_first_use_creates_a_single_signing_key(auth, config):
    sql(auth, "DELETE FROM signing_keys")
    services = [AuthService(auth.store, Settings.from_config(config), auth.redis) for _ in range(4)]
    barrier, results = threading.Barrier(len(services)), []

    def first_use(service: AuthService) -> None:
        barrier.wait()
        results.append(service.jwks())

    threads = [threading.Thread(target=first_use, args=(s,)) for s in services]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        [(count,)] = sql(auth, "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL")
        assert count == 1 and len(results) == 4
        assert all(r == results[0] for r in results)
    finally:
        auth._key = None  # the module's service cached the key deleted above


# --- storage ----------------------------------------------------------------------------------

def test_memberships_are_isolated_by_row_level_security(auth):
    a = auth.register(email(), PASSWORD, "A")
    b = auth.register(email(), PASSWORD, "B")
    rows = sql(auth, "SELECT * FROM memberships", tenant_id=a["tenant_id"])
    assert len(rows) == 1 and str(rows[0][0]) == a["tenant_id"] and str(rows[0][1]) == a["user_id"]
    assert sql(auth, "SELECT * FROM memberships") == []  # no tenant: nothing, not everything
    assert [str(r[0]) for r in sql(auth, "SELECT * FROM memberships", tenant_id=b["tenant_id"])] == \
        [b["tenant_id"]]
    with pytest.raises(Exception, match="row-level security"):
        sql(auth, "INSERT INTO memberships (tenant_id, user_id, org_role) VALUES (%s, %s, 'member')",
            (b["tenant_id"], a["user_id"]), tenant_id=a["tenant_id"])


def test_the_peewee_models_match_the_migrated_schema(auth):
    with auth.store.transaction() as tx:
        for model in MODELS:
            table = model._meta.table_name
            columns = {c.name: c for c in tx.db.get_columns(table)}
            fields = model._meta.columns
            assert set(fields) == set(columns), table
            for name, field in fields.items():
                assert field.null == columns[name].null, (table, name)
            primary_key = [f.column_name for f in model._meta.get_primary_keys()]
            assert sorted(primary_key) == sorted(tx.db.get_primary_keys(table)), table


def test_revoke_user_access_ends_every_session_and_marks_older_tokens(auth, redis_client):
    who = email()
    registered = auth.register(who, PASSWORD, "Ada")
    sessions = [auth.login(who, PASSWORD, an_ip()) for _ in range(2)]
    before = max(verified_claims(auth, t["access_token"])["iat"] for t in sessions)
    assert auth.revoke_user_access(registered["user_id"], "password_changed") == 2
    for tokens in sessions:
        with pytest.raises(Unauthenticated):
            auth.refresh(tokens["refresh_token"])
    not_before = float(redis_client.get(f"careeros:revoked:user:{registered['user_id']}"))
    assert before <= not_before <= time.time() + 1
    assert 0 < redis_client.ttl(f"careeros:revoked:user:{registered['user_id']}") <= auth.access_ttl_s + 60
    fresh = verified_claims(auth, auth.login(who, PASSWORD, an_ip())["access_token"])
    assert fresh["iat"] > not_before  # a new login is not caught by it
