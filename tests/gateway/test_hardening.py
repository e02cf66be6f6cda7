"""The gateway's edge checks (gateway_flask/hardening.py, the Schema base) on a test-only blueprint, real Redis:
hostile input is a 4xx problem naming what is wrong, never a 5xx; tokens are refused once their user's or
session's rights changed; every response carries the security headers."""
from __future__ import annotations

import time
import uuid

import marshmallow as ma
import pytest
from flask import request

from gateway_flask.app import create_app
from gateway_flask.extensions.api import Blueprint, Schema
from gateway_flask.middleware import accepts
from gateway_flask.security import auth_required, current_principal
from tests.gateway.test_gateway import assert_problem

blp = Blueprint("hardening", __name__, url_prefix="/hardening")


class Query(Schema):
    q = ma.fields.String(load_default="")
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0))
    expires = ma.fields.Integer(load_default=0, metadata={"format": "int64"})


class Body(Schema):
    class Tag(Schema):
        label = ma.fields.String(required=True)

    headline = ma.fields.String()
    tags = ma.fields.List(ma.fields.Nested(Tag))
    count = ma.fields.Integer()


@blp.route("/search")
@blp.arguments(Query, location="query")
def search(query):
    return query


@blp.route("/things/<thing_id>")
def thing(thing_id):
    return {"id": thing_id}


@blp.route("/things", methods=["POST"])
@blp.arguments(Body)
def create(body):
    return body, 201


@blp.route("/raw", methods=["POST"])
def raw():  # no schema: the middleware's checks are all that guards it
    return {"ok": True}, 201


@blp.route("/uploads", methods=["POST"])
@accepts("image/png", "text/plain")
def upload():
    return {"size": len(request.get_data())}, 201


@blp.route("/whoami")
def whoami():
    return {"address": request.remote_addr}


@blp.route("/private")
@auth_required
def private():
    return {"user_id": current_principal().user_id}


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


@pytest.fixture
def make(gw_config, jwks, redis_client):
    def build(**gateway):
        gw_config["gateway"].update({"max_body_bytes": 65536, **gateway})  # the shipped limit
        return create_app(gw_config, jwks_provider=lambda: jwks, redis_client=redis_client,
                          blueprints=[blp]).test_client()
    return build


@pytest.fixture
def client(make):
    return make()


# --- item 5: control characters, at the edge, naming the field

@pytest.mark.parametrize("query, field", [("q=%00", "q"), ("q=a%01b", "q"), ("q=%C2%85", "q"), ("%00=1", "\x00")])
def test_control_characters_in_a_query_are_422_naming_it(client, query, field):
    body = assert_problem(client.get(f"/api/v1/hardening/search?{query}"), 422, "validation_failed")
    assert body["errors"] == {field: ["must not contain control characters"]}


def test_control_characters_in_a_path_segment_are_422(client):
    body = assert_problem(client.get("/api/v1/hardening/things/a%00b"), 422, "validation_failed")
    assert body["errors"] == {"thing_id": ["must not contain control characters"]}


@pytest.mark.parametrize("raw, field", [
    (b'{"headline": "a\\u0000b"}', "headline"),
    (b'{"headline": "\\ud800"}', "headline"),             # a lone surrogate: not encodable as UTF-8
    (b'{"tags": [{"label": "ok"}, {"label": "\\u001b[31m"}]}', "tags.1.label"),
    (b'{"x\\u0000": 1}', "x\x00"),
])
def test_control_characters_and_lone_surrogates_in_json_are_422_naming_the_field(client, raw, field):
    for route in ("things", "raw"):  # with or without a schema
        body = assert_problem(client.post(f"/api/v1/hardening/{route}", data=raw, content_type="application/json"),
                              422, "validation_failed")
        assert body["errors"] == {field: ["must not contain control characters"]}


def test_tabs_and_newlines_are_text(client):
    resp = client.post("/api/v1/hardening/things", json={"headline": "two\nlines\tand a tab"})
    assert resp.status_code == 201 and resp.get_json()["headline"] == "two\nlines\tand a tab"


# --- item 7: malformed input is a 4xx, never a 500

@pytest.mark.parametrize("raw", [b"[" * 3000, b"[" * 3000 + b"]" * 3000, b'{"a":' * 40 + b"1" + b"}" * 40])
def test_deeply_nested_json_is_400(client, raw):
    for route in ("things", "raw"):
        body = assert_problem(client.post(f"/api/v1/hardening/{route}", data=raw, content_type="application/json"),
                              400, "malformed_json")
        assert "nested" in body["detail"] or "not valid JSON" in body["detail"]


@pytest.mark.parametrize("raw", [b'{"count": NaN}', b'{"count": Infinity}', b'{"count": -Infinity}'])
def test_nan_and_infinity_are_not_json(client, raw):
    assert_problem(client.post("/api/v1/hardening/things", data=raw, content_type="application/json"),
                   400, "malformed_json")


@pytest.mark.parametrize("query, field", [
    ("offset=1000000000000000", "offset"),      # beyond int32: the service field's type
    ("expires=99999999999999999999", "expires"),  # beyond int64
    ("expires=1e30", "expires"),
])
def test_integers_beyond_their_field_are_422(client, query, field):
    body = assert_problem(client.get(f"/api/v1/hardening/search?{query}"), 422, "validation_failed")
    assert field in body["errors"]


def test_integers_in_range_pass_and_int64_fields_take_int64(client):
    resp = client.get("/api/v1/hardening/search?offset=2147483647&expires=9223372036854775807")
    assert resp.status_code == 200 and resp.get_json()["expires"] == 2 ** 63 - 1
    body = assert_problem(client.post("/api/v1/hardening/things", json={"count": 2 ** 40}), 422, "validation_failed")
    assert body["errors"] == {"count": [f"must be between {-2 ** 31} and {2 ** 31 - 1}"]}


def test_an_over_long_url_is_a_414_problem(client):
    assert_problem(client.get("/api/v1/hardening/search?q=" + "a" * 9000), 414, "uri_too_long")
    assert client.get("/api/v1/hardening/search?q=" + "a" * 4000).status_code == 200


# --- item 9: uploads are what they say; security headers

def test_an_upload_must_be_of_its_declared_type(client):
    body = assert_problem(client.post("/api/v1/hardening/uploads", data=b"<html><script>x</script></html>",
                                      content_type="image/png"), 415, "content_type_mismatch")
    assert "image/png" in body["detail"]
    assert_problem(client.post("/api/v1/hardening/uploads", data=PNG, content_type="text/plain"),
                   415, "content_type_mismatch")
    assert_problem(client.post("/api/v1/hardening/uploads", data=b"\xff\xfe bad", content_type="text/plain"),
                   415, "content_type_mismatch")
    body = assert_problem(client.post("/api/v1/hardening/uploads", data=b"cv\x00text", content_type="text/plain"),
                          422, "validation_failed")
    assert body["errors"] == {"body": ["must not contain control characters"]}
    assert client.post("/api/v1/hardening/uploads", data=PNG, content_type="image/png").status_code == 201
    assert client.post("/api/v1/hardening/uploads", data="Ada\nLovelace".encode(),
                       content_type="text/plain").status_code == 201


def test_every_response_is_nosniff_and_authenticated_ones_are_no_store(client, make_token):
    for resp in (client.get("/api/v1/hardening/whoami"), client.get("/api/v1/nowhere"),
                 client.get("/api/v1/hardening/search?q=%00")):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" not in resp.headers.get("Cache-Control", "")
    for token in (make_token(), "not-a-token"):
        resp = client.get("/api/v1/hardening/private", headers={"Authorization": f"Bearer {token}"})
        assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Content-Type-Options"] == "nosniff"


# --- item 8: the client's address

def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(make):
    hops = {"X-Forwarded-For": "203.0.113.9, 10.0.0.2"}
    untrusted = make().get("/api/v1/hardening/whoami", headers=hops, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert untrusted.get_json()["address"] == "10.0.0.1"
    trusted = make(trusted_proxies="10.0.0.0/24").get(
        "/api/v1/hardening/whoami", headers=hops, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert trusted.get_json()["address"] == "203.0.113.9"  # the right-most hop that is not a proxy
    spoofed = make(trusted_proxies=["10.0.0.0/24"]).get(
        "/api/v1/hardening/whoami", headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert spoofed.get_json()["address"] == "198.51.100.7"  # what the client wrote first is not believed


def test_the_per_address_limit_counts_the_forwarded_client(make):
    client = make(trusted_proxies="127.0.0.1", rate_limit={"per_ip_per_minute": 2, "per_tenant_per_minute": 0})
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # three clients behind one ingress
        resp = client.get("/api/v1/hardening/whoami", headers={"X-Forwarded-For": address})
        assert resp.status_code == 200 and resp.get_json()["address"] == address
    for _ in range(2):
        client.get("/api/v1/hardening/whoami", headers={"X-Forwarded-For": "203.0.113.1"})
    assert_problem(client.get("/api/v1/hardening/whoami", headers={"X-Forwarded-For": "203.0.113.1"}),
                   429, "rate_limited")


# --- item 6: "not valid before" per user and per session, checked on every request

def test_a_token_issued_before_its_users_not_valid_before_is_token_revoked(client, make_token, gw_config,
                                                                        redis_client):
    prefix, user = gw_config["auth"]["not_before_prefix"], f"user-{uuid.uuid4().hex[:6]}"
    old = make_token(sub=user, iat=round(time.time() - 5, 3))
    assert client.get("/api/v1/hardening/private", headers={"Authorization": f"Bearer {old}"}).status_code == 200
    redis_client.set(f"{prefix}user:{user}", str(round(time.time() - 1, 3)), ex=60)
    resp = client.get("/api/v1/hardening/private", headers={"Authorization": f"Bearer {old}"})
    assert_problem(resp, 401, "token_revoked")
    assert resp.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    fresh = make_token(sub=user, iat=round(time.time(), 3))
    assert client.get("/api/v1/hardening/private", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_token_of_a_revoked_session_is_token_revoked(client, make_token, gw_config, redis_client):
    prefix, session = gw_config["auth"]["not_before_prefix"], str(uuid.uuid4())
    token, other = make_token(sid=session), make_token(sid=str(uuid.uuid4()))
    redis_client.set(f"{prefix}session:{session}", str(time.time() + 1), ex=60)
    assert_problem(client.get("/api/v1/hardening/private", headers={"Authorization": f"Bearer {token}"}),
                   401, "token_revoked")
    assert client.get("/api/v1/hardening/private", headers={"Authorization": f"Bearer {other}"}).status_code == 200


# --- item 10: the OpenAPI document states these rules

def test_the_openapi_states_text_and_integer_rules(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/hardening/search"]["get"]["parameters"]}
    assert params["q"]["pattern"].startswith("^[^\\u0000-\\u0008")
    assert (params["offset"]["minimum"], params["offset"]["maximum"], params["offset"]["format"]) == \
        (0, 2 ** 31 - 1, "int32")
    assert (params["expires"]["maximum"], params["expires"]["format"]) == (2 ** 63 - 1, "int64")


@pytest.mark.parametrize("value", ["5", 5.0, True])
def test_a_json_number_must_be_a_number(client, value):
    body = assert_problem(client.post("/api/v1/hardening/things", json={"count": value, "headline": 1}),
                          422, "validation_failed")
    assert set(body["errors"]) == {"count", "headline"}  # reported beside the other fields' errors


def test_a_required_json_body_must_be_there(client):
    body = assert_problem(client.post("/api/v1/hardening/things"), 422, "validation_failed")
    assert body["errors"] == {"body": ["is required"]}
