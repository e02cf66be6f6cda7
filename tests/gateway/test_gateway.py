"""Gateway plumbing: problems, guards, idempotency, rate limits, tokens, docs, health.

Runs a tiny test-only blueprint against real Redis.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone

import jwt
import marshmallow as ma
import pytest
from cryptography.hazmat.primitives import serialization

from careeros_services.common.clock import MovedClock, system_clock
from careeros_services.common.errors import Conflict, RateLimited
from gateway_flask.app import create_app
from gateway_flask.extensions.api import Blueprint, Schema
from gateway_flask.security import auth_required, current_principal

# --- the test-only blueprint -----------------------------------------------------

blp = Blueprint("testing", __name__, url_prefix="/testing")
CALLS: dict[str, int] = {}
SLOW = {"started": threading.Event(), "release": threading.Event()}


class ItemIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    quantity = ma.fields.Integer(required=True, strict=True)


class ItemOut(Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    quantity = ma.fields.Integer()
    call = ma.fields.Integer()


@blp.route("/items", methods=["POST"])
@blp.arguments(ItemIn)
@blp.response(201, ItemOut)
def create_item(data):
    CALLS["items"] = CALLS.get("items", 0) + 1
    item = {"id": uuid.uuid4().hex, **data, "call": CALLS["items"]}
    return item, {"Location": f"/api/v1/testing/items/{item['id']}"}


@blp.route("/slow", methods=["POST"])
def slow():
    SLOW["started"].set()
    SLOW["release"].wait(10)
    return {"ok": True}, 201


@blp.route("/flaky", methods=["POST"])
def flaky():
    CALLS["flaky"] = CALLS.get("flaky", 0) + 1
    if CALLS["flaky"] == 1:
        raise RuntimeError("database exploded")
    return {"attempt": CALLS["flaky"]}, 201


@blp.route("/boom")
def boom():
    raise RuntimeError("SECRET-INTERNAL-DETAIL")


@blp.route("/conflict")
def conflict():
    raise Conflict("Already exists.", fields={"email": ["taken"]})


@blp.route("/slow-down")
def slow_down():
    raise RateLimited("Quota exceeded.", retry_after=7)


@blp.route("/me")
@auth_required
def me():
    p = current_principal()
    return {"user_id": p.user_id, "tenant_id": p.tenant_id, "org_role": p.org_role, "plan_tier": p.plan_tier}


@pytest.fixture(autouse=True)
def _reset_blueprint_state():
    CALLS.clear()
    for event in SLOW.values():
        event.clear()
    yield
    SLOW["release"].set()  # never leave a thread blocked


@pytest.fixture
def make_app(gw_config, jwks, redis_client):
    """``make_app(rate_limit=..., readiness_checks=...)``: a gateway app serving :data:`blp`."""
    providers = {"calls": 0}

    def jwks_provider():
        providers["calls"] += 1
        return copy.deepcopy(jwks)

    def make(*, rate_limit=None, readiness_checks=None, clock=system_clock):
        if rate_limit:
            gw_config["gateway"]["rate_limit"] = rate_limit
        return create_app(gw_config, jwks_provider=jwks_provider, redis_client=redis_client,
                          readiness_checks=readiness_checks, blueprints=[blp], clock=clock)

    make.jwks_calls = providers
    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def post_item(client, body=None, *, key=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/testing/items", json={"name": "pen", "quantity": 2} if body is None else body,
                       headers=headers, **kwargs)


def assert_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"https://careeros.dev/problems/{code}"
    assert body["title"] and body["detail"]
    assert body["correlation_id"] == resp.headers["X-Correlation-ID"]
    return body


# --- idempotency ---------------------------------------------------------------------

def test_idempotent_replay_calls_the_handler_once(client):
    first = post_item(client, key="order-1")
    second = post_item(client, key="order-1")
    assert first.status_code == second.status_code == 201
    assert CALLS["items"] == 1
    assert second.get_data() == first.get_data()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert second.headers["Idempotency-Replayed"] == "true"
    assert "Idempotency-Replayed" not in first.headers


def test_without_key_every_request_runs(client):
    post_item(client)
    post_item(client)
    assert CALLS["items"] == 2


def test_same_key_different_body_is_422(client):
    assert post_item(client, key="k-mismatch").status_code == 201
    resp = post_item(client, {"name": "other", "quantity": 3}, key="k-mismatch")
    assert_problem(resp, 422, "idempotency_key_reused")
    assert CALLS["items"] == 1


def test_key_is_scoped_to_the_caller(client, make_token):
    assert post_item(client, key="shared").status_code == 201
    other = post_item(client, key="shared", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    authed = post_item(client, key="shared", headers={"Authorization": f"Bearer {make_token()}"})
    assert other.status_code == authed.status_code == 201
    assert "Idempotency-Replayed" not in other.headers and "Idempotency-Replayed" not in authed.headers
    assert CALLS["items"] == 3


def test_in_flight_request_is_409(make_app):
    app = make_app()
    results = {}

    def first():
        results["first"] = app.test_client().post("/api/v1/testing/slow", json={"a": 1},
                                                  headers={"Idempotency-Key": "slow-1"})

    thread = threading.Thread(target=first)
    thread.start()
    assert SLOW["started"].wait(10)
    second = app.test_client().post("/api/v1/testing/slow", json={"a": 1}, headers={"Idempotency-Key": "slow-1"})
    assert_problem(second, 409, "idempotency_in_flight")
    assert second.headers["Retry-After"] == "1"
    SLOW["release"].set()
    thread.join(10)
    assert results["first"].status_code == 201
    third = app.test_client().post("/api/v1/testing/slow", json={"a": 1}, headers={"Idempotency-Key": "slow-1"})
    assert third.status_code == 201 and third.headers["Idempotency-Replayed"] == "true"


def test_key_is_released_after_a_5xx(client):
    failed = client.post("/api/v1/testing/flaky", json={}, headers={"Idempotency-Key": "flaky-1"})
    assert_problem(failed, 500, "internal_error")
    retried = client.post("/api/v1/testing/flaky", json={}, headers={"Idempotency-Key": "flaky-1"})
    assert retried.status_code == 201 and "Idempotency-Replayed" not in retried.headers
    replayed = client.post("/api/v1/testing/flaky", json={}, headers={"Idempotency-Key": "flaky-1"})
    assert replayed.headers["Idempotency-Replayed"] == "true"
    assert replayed.get_json() == {"attempt": 2}
    assert CALLS["flaky"] == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_invalid_idempotency_key_is_400(client, key):
    assert_problem(post_item(client, key=key), 400, "invalid_idempotency_key")
    assert "items" not in CALLS


def test_key_of_255_printable_chars_is_accepted(client):
    assert post_item(client, key="a b~" + "x" * 251).status_code == 201


# --- rate limits ------------------------------------------------------------------------

@pytest.fixture
def limiter_clock():
    """10 s into a minute of its own (in the future, so no earlier run's counts are in it): the
    limiter's fixed windows are the clock's minutes, and the test moves the clock between them."""
    minute = int(time.time() // 60) + secrets.randbelow(10**6) + 1000
    return MovedClock(datetime.fromtimestamp(minute * 60 + 10, timezone.utc))


def test_per_ip_rate_limit(make_app, limiter_clock, gw_config, redis_client):
    client = make_app(rate_limit={"per_ip_per_minute": 3, "per_tenant_per_minute": 1000},
                      clock=limiter_clock).test_client()
    for _ in range(3):
        assert client.get("/api/v1/testing/conflict").status_code == 409
    # The window's counter expires on its own, just after its minute (set on its first hit).
    [window] = redis_client.keys(gw_config["gateway"]["redis_prefix"] + "rl:ip:*")
    assert redis_client.get(window) == b"3" and 0 < redis_client.ttl(window) <= 61
    limited = client.get("/api/v1/testing/conflict")
    assert_problem(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "50"  # the rest of the minute
    limiter_clock.advance(seconds=49)
    assert client.get("/api/v1/testing/conflict").status_code == 429
    limiter_clock.advance(seconds=1)  # the next minute: a fresh window
    assert client.get("/api/v1/testing/conflict").status_code == 409
    # Another IP has its own window; health endpoints are exempt.
    assert client.get("/api/v1/testing/conflict", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 409
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_per_tenant_rate_limit(make_app, make_token, limiter_clock):
    client = make_app(rate_limit={"per_ip_per_minute": 1000, "per_tenant_per_minute": 2},
                      clock=limiter_clock).test_client()
    auth = {"Authorization": f"Bearer {make_token()}"}
    for ip in ("10.0.0.1", "10.0.0.2"):
        assert client.get("/api/v1/testing/me", headers=auth, environ_base={"REMOTE_ADDR": ip}).status_code == 200
    limited = client.get("/api/v1/testing/me", headers=auth, environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert_problem(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "50"
    # Anonymous callers only count against their IP.
    assert client.get("/api/v1/testing/conflict", environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code == 409


# --- problems -----------------------------------------------------------------------------

def test_malformed_json_is_400(client):
    resp = client.post("/api/v1/testing/items", data='{"name": "pen",', content_type="application/json")
    assert_problem(resp, 400, "malformed_json")
    bad_utf8 = client.post("/api/v1/testing/items", data=b'{"name": "\xff"}', content_type="application/json")
    assert_problem(bad_utf8, 400, "malformed_json")


def test_wrong_type_is_422_listing_the_field(client):
    body = assert_problem(post_item(client, {"name": "pen", "quantity": "many"}), 422, "validation_failed")
    assert list(body["errors"]) == ["quantity"]
    assert body["errors"]["quantity"]


def test_missing_field_is_422(client):
    body = assert_problem(post_item(client, {"quantity": 1}), 422, "validation_failed")
    assert "name" in body["errors"]


def test_unknown_field_is_422_naming_it(client):
    body = assert_problem(post_item(client, {"name": "pen", "quantity": 1, "is_admin": True}), 422,
                          "validation_failed")
    assert "is_admin" in body["errors"]


def test_json_that_is_not_an_object_is_422(client):
    body = assert_problem(post_item(client, [1, 2]), 422, "validation_failed")
    assert body["errors"]


def test_oversized_body_is_413(client):
    resp = post_item(client, {"name": "x" * 5000, "quantity": 1})
    assert_problem(resp, 413, "payload_too_large")
    assert "items" not in CALLS


def test_wrong_content_type_is_415(client):
    resp = client.post("/api/v1/testing/items", data="name=pen&quantity=1",
                       content_type="application/x-www-form-urlencoded")
    assert_problem(resp, 415, "unsupported_media_type")
    assert_problem(client.post("/api/v1/testing/items", data="{}", content_type="text/plain"), 415,
                   "unsupported_media_type")


def test_vendor_json_content_type_is_accepted(client):
    resp = client.post("/api/v1/testing/items", data=json.dumps({"name": "pen", "quantity": 1}),
                       content_type="application/merge-patch+json")
    assert resp.status_code == 201


def test_unknown_route_is_404(client):
    assert_problem(client.get("/api/v1/nope"), 404, "not_found")
    assert_problem(client.post("/api/v1/nope", data="x", content_type="text/plain"), 404, "not_found")


def test_wrong_method_is_405(client):
    resp = client.delete("/api/v1/testing/items")
    assert_problem(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]


def test_unexpected_exception_is_a_bare_500(client):
    resp = client.get("/api/v1/testing/boom")
    assert_problem(resp, 500, "internal_error")
    text = resp.get_data(as_text=True)
    assert "SECRET-INTERNAL-DETAIL" not in text and "Traceback" not in text and "RuntimeError" not in text


def test_domain_errors_keep_status_code_fields_and_retry_after(client):
    body = assert_problem(client.get("/api/v1/testing/conflict"), 409, "conflict")
    assert body["errors"] == {"email": ["taken"]} and body["detail"] == "Already exists."
    limited = client.get("/api/v1/testing/slow-down")
    assert_problem(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "7"


@pytest.mark.parametrize("name", ["'; DROP TABLE users; --", "<script>alert(1)</script>", "\u0000\u202e",
                                  "{{7*7}}", "../../etc/passwd", "x" * 201])
def test_hostile_strings_never_cause_a_500(client, name):
    resp = post_item(client, {"name": name, "quantity": 1})
    assert resp.status_code < 500
    if resp.status_code == 201:
        assert resp.mimetype == "application/json"
        assert resp.get_json()["name"] == name  # stored as data, returned as JSON, never interpreted
    else:
        assert_problem(resp, 422, "validation_failed")


# --- correlation id ---------------------------------------------------------------------

def test_correlation_id_is_generated_when_absent(client):
    resp = client.get("/healthz")
    assert uuid.UUID(resp.headers["X-Correlation-ID"])


def test_well_formed_correlation_id_is_echoed(client):
    cid = "req-0123456789abcdef"
    assert client.get("/healthz", headers={"X-Correlation-ID": cid}).headers["X-Correlation-ID"] == cid
    problem = client.get("/api/v1/nope", headers={"X-Correlation-ID": cid})
    assert assert_problem(problem, 404, "not_found")["correlation_id"] == cid


@pytest.mark.parametrize("bad", ["has spaces in it", "short", "x" * 200, "abc\r\nSet-Cookie: a=b", "<script>1234"])
def test_malformed_correlation_id_is_replaced(client, bad):
    # environ_base bypasses the test client's own header validation (newlines).
    resp = client.get("/healthz", environ_base={"HTTP_X_CORRELATION_ID": bad})
    echoed = resp.headers["X-Correlation-ID"]
    assert echoed != bad and uuid.UUID(echoed)


# --- tokens --------------------------------------------------------------------------------

def _get_me(client, token):
    return client.get("/api/v1/testing/me", headers={"Authorization": f"Bearer {token}"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict, signer=lambda msg: b"") -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(signer(signing_input.encode()))}"


def assert_unauthenticated(resp) -> dict:
    body = assert_problem(resp, 401, "unauthenticated")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    return body


def test_valid_token_gives_the_principal(client, make_token):
    resp = _get_me(client, make_token(sub="u-42", tenant_id="t-7", org_role="admin", plan_tier="pro"))
    assert resp.status_code == 200
    assert resp.get_json() == {"user_id": "u-42", "tenant_id": "t-7", "org_role": "admin", "plan_tier": "pro"}


def test_missing_or_non_bearer_authorization_is_401(client):
    assert_unauthenticated(client.get("/api/v1/testing/me"))
    assert_unauthenticated(client.get("/api/v1/testing/me", headers={"Authorization": "Basic dXNlcjpwdw=="}))
    assert_unauthenticated(_get_me(client, "not-a-jwt"))


def test_expired_token_is_401(client, make_token):
    now = int(time.time())
    body = assert_unauthenticated(_get_me(client, make_token(iat=now - 600, exp=now - 10)))
    assert "expired" in body["detail"].lower()


def test_tampered_signature_is_401(client, make_token):
    header, payload, signature = make_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["org_role"] = "owner"
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert_unauthenticated(_get_me(client, forged))
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    assert_unauthenticated(_get_me(client, f"{header}.{payload}.{flipped}"))


def test_alg_none_is_401(client, make_token, signing_key):
    claims = jwt.decode(make_token(), options={"verify_signature": False})
    assert_unauthenticated(_get_me(client, _unsigned({"alg": "none", "typ": "JWT", "kid": signing_key[1]["kid"]},
                                                     claims)))
    assert_unauthenticated(_get_me(client, _unsigned({"alg": "none", "typ": "JWT"}, claims)))


def test_hs256_signed_with_the_public_key_is_401(client, make_token, signing_key):
    claims = jwt.decode(make_token(), options={"verify_signature": False})
    public_pem = signing_key[0].public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    token = _unsigned({"alg": "HS256", "typ": "JWT", "kid": signing_key[1]["kid"]}, claims,
                      lambda msg: hmac.new(public_pem, msg, hashlib.sha256).digest())
    assert_unauthenticated(_get_me(client, token))


def test_wrong_issuer_or_audience_is_401(client, make_token):
    assert_unauthenticated(_get_me(client, make_token(iss="someone-else")))
    assert_unauthenticated(_get_me(client, make_token(aud="another-api")))


@pytest.mark.parametrize("claim", ["sub", "tenant_id", "org_role", "plan_tier", "exp", "iat", "jti"])
def test_missing_claim_is_401(client, make_token, claim):
    assert_unauthenticated(_get_me(client, make_token(**{claim: None})))


def test_revoked_jti_is_401(client, make_token, gw_config, redis_client):
    jti = uuid.uuid4().hex
    token = make_token(jti=jti)
    assert _get_me(client, token).status_code == 200
    redis_client.set(gw_config["auth"]["revoked_jti_prefix"] + jti, "1", ex=60)
    resp = _get_me(client, token)
    assert "revoked" in assert_problem(resp, 401, "token_revoked")["detail"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_signed_by_an_unknown_key_is_401(client, make_token):
    from tests.gateway.conftest import _new_key

    other_private, _ = _new_key()
    assert_unauthenticated(_get_me(client, make_token(key=other_private)))
    assert_unauthenticated(_get_me(client, make_token(key=other_private, kid="unknown-kid")))


def test_rotated_key_is_fetched_once(make_app, make_token, jwks):
    from tests.gateway.conftest import _new_key

    client = make_app().test_client()
    assert _get_me(client, make_token()).status_code == 200
    calls = make_app.jwks_calls["calls"]
    assert _get_me(client, make_token()).status_code == 200
    assert make_app.jwks_calls["calls"] == calls  # cached by kid
    new_private, new_jwk = _new_key()
    jwks["keys"].append(new_jwk)
    assert _get_me(client, make_token(key=new_private, kid=new_jwk["kid"])).status_code == 200
    assert make_app.jwks_calls["calls"] == calls + 1


def test_invalid_token_on_a_public_route_is_ignored(client):
    assert client.get("/healthz", headers={"Authorization": "Bearer garbage"}).status_code == 200


# --- docs, health, metrics ------------------------------------------------------------

def test_openapi_document(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = json.loads(resp.get_data())
    assert spec["openapi"] == "3.0.3"
    assert {"type", "title", "status", "code", "detail", "correlation_id", "errors"} <= set(
        spec["components"]["schemas"]["Problem"]["properties"])
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    me = spec["paths"]["/api/v1/testing/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert me["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}
    items = spec["paths"]["/api/v1/testing/items"]["post"]
    assert items["responses"]["422"] == {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"}
    for name in ("UNAUTHORIZED", "UNPROCESSABLE_ENTITY", "DEFAULT_ERROR"):
        content = spec["components"]["responses"][name]["content"]
        assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert client.get("/api/v1/docs").status_code == 200


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_ok_and_failing(make_app):
    ok = make_app(readiness_checks={"grpc": lambda: None}).test_client().get("/readyz")
    assert ok.status_code == 200 and ok.get_json()["checks"] == {"redis": "ok", "grpc": "ok"}

    def broken():
        raise ConnectionError("postgres://secret@db down")

    resp = make_app(readiness_checks={"postgres": broken}).test_client().get("/readyz")
    body = assert_problem(resp, 503, "not_ready")
    assert list(body["errors"]) == ["postgres"]
    assert "secret" not in resp.get_data(as_text=True)


def test_metrics_count_requests_by_route(client):
    post_item(client)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'careeros_http_requests_total{method="POST",route="/api/v1/testing/items",status="201"}' in text
    assert "careeros_http_request_latency_seconds_bucket" in text


@blp.route("/search")
@blp.arguments(ItemIn, location="json")
def search(data):
    return data


def test_malformed_json_read_by_webargs_is_400(client):
    # GET bodies skip the write-method guard, so this exercises the parser's own path.
    resp = client.get("/api/v1/testing/search", data="{oops", content_type="application/json")
    assert_problem(resp, 400, "malformed_json")


def test_every_service_route_is_in_one_valid_openapi_document_without_name_clashes(config):
    """All service blueprints together: apispec renames a clashing schema name (Skill -> Skill1)
    with only a warning, which would hand clients a confusing document; we refuse it."""
    import warnings

    import redis
    from openapi_spec_validator import validate

    from gateway_flask.app import create_app
    from gateway_flask.views import SERVICE_BLUEPRINTS

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        app = create_app(config, blueprints=SERVICE_BLUEPRINTS, redis_client=redis.Redis.from_url(config["redis_url"]),
                         jwks_provider=lambda: {"keys": []})
        spec = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(spec)
    issue_routes = ["/lms/courses", "/tracking/statements", "/analytics/export.csv", "/ai/consultations",
                    "/roadmaps/current", "/billing/plans", "/orgs/current/audit-log", "/profile"]
    assert all(f"/api/v1{route}" in spec["paths"] for route in issue_routes)


def test_an_authenticated_request_is_one_redis_round_trip(make_app, make_token, gw_config, redis_client,
                                                          monkeypatch):
    """Rate limits, the token's revocation keys and the tenant's plan tier are read together."""
    from careeros_services.common import plan_cache
    from gateway_flask import services

    app = make_app(rate_limit={"per_ip_per_minute": 1000, "per_tenant_per_minute": 1000})
    app.add_url_rule("/api/v1/testing/plan", "plan_probe",
                     lambda: {"plan_tier": services.plan_tier(current_principal())})
    client = app.test_client()
    tenant = str(uuid.uuid4())
    plan_cache.remember(redis_client, tenant, "team", ttl_s=60)
    token = make_token(tenant_id=tenant, plan_tier="free")
    assert _get_me(client, token).status_code == 200  # the signature is verified (and cached) once
    trips = []
    pool = redis_client.connection_pool
    real = pool.get_connection
    monkeypatch.setattr(pool, "get_connection", lambda *a, **k: trips.append(1) or real(*a, **k))
    assert client.get("/api/v1/testing/plan", headers={"Authorization": f"Bearer {token}"}).json == {
        "plan_tier": "team"}
    assert len(trips) == 1
    redis_client.set(gw_config["auth"]["revoked_jti_prefix"] + jwt.decode(
        token, options={"verify_signature": False})["jti"], "1", ex=60)
    assert_problem(_get_me(client, token), 401, "token_revoked")
