"""End to end through the HTTP gateway with every process running:
gateway → gRPC → service → its database → outbox → Kafka → another service."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid

import jwt
import psycopg2
from cryptography.hazmat.primitives.asymmetric import rsa

from careeros_services.common import db as dbmod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "correct horse battery"


def register(api, **extra) -> dict:
    email = f"u{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": "Ada Learner", **extra}
    response = api.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email}


def login(api, email: str) -> dict:
    response = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def wait_for_profile(api, token: str, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        response = api.get("/profile", headers=bearer(token))
        if response.status_code == 200:
            return response.json()
        assert response.status_code == 404 and response.json()["code"] == "profile_not_found", response.text
        assert time.monotonic() < deadline, "the profile never appeared"
        time.sleep(0.2)


def test_register_login_profile_appears_through_the_event_then_patch_and_read_back(api):
    user = register(api)
    tokens = login(api, user["email"])
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0

    profile = wait_for_profile(api, tokens["access_token"])
    assert profile["user_id"] == user["user_id"] and profile["tenant_id"] == user["tenant_id"]

    patch = {"headline": "Aspiring data engineer", "target_role": "Data Engineer", "years_experience": 3,
             "skills": [{"name": "Python", "level": 4}, {"name": "SQL", "level": 3}],
             "learning_pace": "steady"}
    response = api.patch("/profile", json=patch, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    again = api.get("/profile", headers=bearer(tokens["access_token"])).json()
    for field, value in patch.items():
        if field == "skills":  # stored as the shared skill table names them, with their ESCO URIs
            assert [{"name": s["name"], "level": s["level"]} for s in again[field]] == value
            assert all(s["esco_uri"].startswith("http://data.europa.eu/esco/skill/") for s in again[field])
            continue
        assert again[field] == value
    assert again["version"] == profile["version"] + 1

    me = api.get("/me", headers=bearer(tokens["access_token"])).json()
    assert me["email"] == user["email"] and me["org_role"] == "owner" and me["plan_tier"] == "free"


def test_an_organisation_registration_makes_an_org_tenant_with_an_owner(api):
    user = register(api, organization_name="Acme Learning")
    claims = jwt.decode(login(api, user["email"])["access_token"], options={"verify_signature": False})
    assert claims["tenant_id"] == user["tenant_id"] and claims["org_role"] == "owner"
    assert {"sub", "tenant_id", "org_role", "plan_tier", "exp", "iat", "jti"} <= set(claims)


def test_another_tenants_token_never_sees_the_profile(api):
    alice, bob = register(api), register(api)
    alice_token = login(api, alice["email"])["access_token"]
    bob_token = login(api, bob["email"])["access_token"]
    wait_for_profile(api, alice_token)
    api.patch("/profile", json={"headline": "Alice's secret plan"}, headers=bearer(alice_token))
    bobs = wait_for_profile(api, bob_token)
    assert bobs["user_id"] == bob["user_id"] and bobs["headline"] != "Alice's secret plan"
    assert alice["tenant_id"] != bob["tenant_id"]


def _tamper(token: str, **claims) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_expired_tampered_foreign_and_alg_none_tokens_are_401(api):
    alice, bob = register(api), register(api)
    token = login(api, alice["email"])["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad_tokens = {
        "tampered": _tamper(token, tenant_id=bob["tenant_id"], sub=bob["user_id"]),
        "alg none": jwt.encode({**claims, "sub": bob["user_id"]}, None, algorithm="none"),
        "foreign key": jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": kid}),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 60}, other_key, algorithm="RS256",
                              headers={"kid": kid}),
    }
    for name, bad in bad_tokens.items():
        response = api.get("/profile", headers=bearer(bad))
        assert response.status_code == 401, name
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] == "unauthenticated", name


def test_refresh_rotates_and_logout_revokes(api):
    user = register(api)
    tokens = login(api, user["email"])
    rotated = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    reused = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401
    # Reuse revoked the family: the rotated token is dead too.
    assert api.post("/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}).status_code == 401

    fresh = login(api, user["email"])
    assert api.get("/me", headers=bearer(fresh["access_token"])).status_code == 200
    out = api.post("/auth/logout", json={"refresh_token": fresh["refresh_token"]},
                   headers=bearer(fresh["access_token"]))
    assert out.status_code == 204, out.text
    assert api.get("/me", headers=bearer(fresh["access_token"])).status_code == 401
    assert api.post("/auth/refresh", json={"refresh_token": fresh["refresh_token"]}).status_code == 401


def test_repeated_failed_logins_are_throttled(api):
    user = register(api)
    for _ in range(3):
        assert api.post("/auth/login", json={"email": user["email"], "password": "wrong password!"}
                        ).status_code == 401
    throttled = api.post("/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0


def _count_users(platform, email: str) -> int:
    kwargs = dbmod.connect_kwargs(platform.config, "auth", admin=True)
    with psycopg2.connect(**kwargs) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE email = %s", (email,))
        return cur.fetchone()[0]


def test_idempotency_key_replays_mismatch_is_422(api, platform):
    email = f"idem{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": "Idem Potent"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.post("/auth/register", json=body, headers=key)
    second = api.post("/auth/register", json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers.get("Idempotency-Replayed") == "true"
    assert _count_users(platform, email) == 1
    mismatch = api.post("/auth/register", json={**body, "display_name": "Someone Else"}, headers=key)
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "idempotency_key_reused"


def test_bad_input_is_a_4xx_problem_and_stores_nothing(api, platform):
    email = f"bad{uuid.uuid4().hex[:8]}@example.com"
    good = {"email": email, "password": PASSWORD, "display_name": "Bad Input"}
    cases = [
        ("malformed json", dict(data="{not json", headers={"Content-Type": "application/json"}), 400),
        ("wrong type", dict(json={**good, "display_name": 42}), 422),
        ("unknown field", dict(json={**good, "is_admin": True}), 422),
        ("oversized", dict(json={**good, "display_name": "x" * 200_000}), 413),
        ("wrong content type", dict(data="email=x", headers={"Content-Type": "text/plain"}), 415),
        ("sql-ish email", dict(json={**good, "email": "x'; DROP TABLE users; --@example.com"}), 422),
    ]
    for name, kwargs, status in cases:
        response = api.post("/auth/register", **kwargs)
        assert response.status_code == status, (name, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json"), name
        assert response.json()["status"] == status and response.json()["code"], name
    unknown = api.post("/auth/register", json={**good, "is_admin": True}).json()
    assert "is_admin" in unknown["errors"]
    assert _count_users(platform, email) == 0

    user = register(api, display_name="<script>alert(1)</script>")
    token = login(api, user["email"])["access_token"]
    wait_for_profile(api, token)
    response = api.patch("/profile", json={"headline": "'; DROP TABLE profiles; --", "years_experience": "ten"},
                         headers=bearer(token))
    assert response.status_code == 422 and "years_experience" in response.json()["errors"]
    assert api.get("/profile", headers=bearer(token)).json()["headline"] == ""


def test_correlation_id_and_trace_ride_from_the_gateway_through_kafka_to_the_next_service(api, platform):
    correlation_id = f"e2e-{uuid.uuid4()}"
    trace_id = uuid.uuid4().hex
    email = f"corr{uuid.uuid4().hex[:8]}@example.com"
    response = api.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": "C"},
                        headers={"X-Correlation-ID": correlation_id,
                                 "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"})
    assert response.headers["X-Correlation-ID"] == correlation_id
    kwargs = dbmod.connect_kwargs(platform.config, "auth", admin=True)
    with psycopg2.connect(**kwargs) as conn, conn.cursor() as cur:
        cur.execute("SELECT headers->>'correlation_id', envelope->>'correlation_id', headers->>'traceparent'"
                    " FROM outbox WHERE event_type = 'careeros.auth.user.registered.v1'"
                    " AND envelope->'payload'->>'user_id' = %s", (response.json()["user_id"],))
        header_cid, envelope_cid, traceparent = cur.fetchone()
    assert header_cid == envelope_cid == correlation_id
    assert traceparent.split("-")[1] == trace_id  # gateway span → gRPC metadata → service → outbox
    # ...and the profile service's event, caused by it through Kafka, carries both on.
    kwargs = dbmod.connect_kwargs(platform.config, "profile", admin=True)
    deadline = time.monotonic() + 30
    while True:
        with psycopg2.connect(**kwargs) as conn, conn.cursor() as cur:
            cur.execute("SELECT envelope->>'correlation_id', headers->>'traceparent', envelope->>'causation_id'"
                        " FROM outbox WHERE event_type = 'careeros.profile.profile.created.v1'"
                        " AND envelope->'payload'->>'user_id' = %s", (response.json()["user_id"],))
            row = cur.fetchone()
        if row:
            assert row[0] == correlation_id and row[1].split("-")[1] == trace_id and row[2]
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    bad = api.get("/auth/jwks", headers={"X-Correlation-ID": "bad id; with <spaces>"})
    assert bad.headers["X-Correlation-ID"] != "bad id; with <spaces>"
    assert len(bad.headers["X-Correlation-ID"]) == 36  # a fresh UUID instead


NAMEKO_CALL = """
import eventlet; eventlet.monkey_patch()
import json, sys
from nameko.standalone.rpc import ClusterRpcProxy
from careeros_services.common.config import load_config
config = load_config()
with ClusterRpcProxy(config, timeout=20) as rpc:
    user = rpc.auth.find_user_by_email(sys.argv[1])
    profile = rpc.profile.get_profile(user["home_tenant_id"], user["id"])
    print(json.dumps({"user": user, "profile": profile}, default=str))
"""


def test_engineers_can_drive_the_services_over_nameko_rpc(api, platform, platform_env):
    user = register(api)
    wait_for_profile(api, login(api, user["email"])["access_token"])
    result = subprocess.run([sys.executable, "-c", NAMEKO_CALL, user["email"]], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, **platform_env, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["profile"]["user_id"] == user["user_id"]
    assert "password_hash" not in json.dumps(data["user"])


def test_every_process_kind_serves_prometheus_metrics(api, platform, platform_env):
    register(api)  # traffic through gRPC, the outbox, the relay and the consumer
    import requests
    expected = {"CAREEROS_METRICS_GRPC": "careeros_rpc_latency_seconds",
                "CAREEROS_METRICS_NAMEKO": "careeros_events_consumed_total",
                "CAREEROS_METRICS_RELAY": "careeros_outbox_backlog"}
    deadline = time.monotonic() + 30
    for env_name, metric in expected.items():
        while True:
            text = requests.get(f"http://127.0.0.1:{platform_env[env_name]}/metrics", timeout=5).text
            if metric in text:
                break
            assert time.monotonic() < deadline, f"{metric} never appeared on {env_name}"
            time.sleep(0.5)


def test_health_readiness_and_metrics(api, platform):
    base = platform.base_url.rsplit("/api/v1", 1)[0]
    import requests
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    api.get("/auth/jwks")
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    assert "careeros_http_requests_total" in metrics and "careeros_rpc_latency_seconds" in metrics
    spec = api.get("/openapi.json").json()
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout",
                 "/api/v1/auth/jwks", "/api/v1/me", "/api/v1/profile"):
        assert path in spec["paths"], path
