"""/xapi through the real gateway app and a real tracker gRPC server (PostgreSQL behind it)."""
from __future__ import annotations

import base64
import copy
import json
import os
from urllib.parse import urlencode

import pytest

from careeros_services.common.caller import Caller
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.tracker.entrypoints.grpc_server import registration
from careeros_services.tracker.lrs import LrsService
from gateway_flask import services
from gateway_flask.app import create_app
from gateway_flask.views.tracking.resources import blp as tracking_blp
from gateway_flask.views.xapi import blp as xapi_blp
from tests.tracker.support import new_id

V = {"X-Experience-API-Version": "1.0.3"}
STATEMENT = {"actor": {"mbox": "mailto:ada@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
             "object": {"id": "http://example.com/a"}}


@pytest.fixture(scope="module")
def tracker(config, fresh_store):
    fresh_store("tracker")
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    yield address, servicer.service
    server.stop(grace=None)
    servicer.service.store.close()


@pytest.fixture
def http(tracker, gw_config, jwks, redis_client):
    gw_config["grpc"]["addresses"]["tracker"] = tracker[0]
    gw_config["gateway"]["max_body_bytes"] = 65536
    gw_config["gateway"]["xapi_max_body_bytes"] = 200_000
    services._clients.pop((os.getpid(), "tracker"), None)
    app = create_app(gw_config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                     blueprints=[tracking_blp, xapi_blp])
    return app.test_client()


@pytest.fixture
def basic(tracker) -> dict:
    key = LrsService(tracker[1]).create_key(Caller(new_id(), new_id(), "owner"), "gateway tests", ["all"])
    token = base64.b64encode(f"{key['key']}:{key['secret']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_a_batch_above_the_api_limit_fits_the_lrs_limit_and_its_own_limit_holds(http, basic):
    batch = [dict(STATEMENT, result={"response": "x" * 1500}) for _ in range(60)]  # ~100 KB
    stored = http.post("/xapi/statements", json=batch, headers={**V, **basic})
    assert stored.status_code == 200 and len(stored.get_json()) == 60
    too_big = http.post("/xapi/statements", data=b"[" + b" " * 250_000 + b"]", headers={
        **V, **basic, "Content-Type": "application/json"})
    assert too_big.status_code == 413


def test_alternate_request_syntax_is_unwrapped_for_1_0_3_and_refused_for_2_0(http, basic):
    statement_id = new_id()
    form = {"Authorization": basic["Authorization"], "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json", "statementId": statement_id, "content": json.dumps(STATEMENT)}
    put = http.post("/xapi/statements?method=PUT", data=urlencode(form),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert put.status_code == 204, put.get_data(as_text=True)
    got = http.get(f"/xapi/statements?statementId={statement_id}", headers={**V, **basic})
    assert got.status_code == 200 and got.get_json()["id"] == statement_id
    form["X-Experience-API-Version"] = "2.0.0"
    refused = http.post("/xapi/statements?method=PUT", data=urlencode(form),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 400


def test_bearer_tokens_work_and_bad_credentials_are_a_basic_challenge(http, make_token):
    user, tenant = new_id(), new_id()
    token = make_token(sub=user, tenant_id=tenant, org_role="member")
    own = dict(STATEMENT, actor={"account": {"homePage": "https://careeros.dev", "name": user}})
    posted = http.post("/xapi/statements", json=own, headers={**V, "Authorization": f"Bearer {token}"})
    assert posted.status_code == 200
    stored = http.get(f"/xapi/statements?statementId={posted.get_json()[0]}",
                      headers={**V, "Authorization": f"Bearer {token}"}).get_json()
    assert stored["authority"]["account"]["name"] == user
    for header in ("Bearer not-a-token", "Basic !!!", "Digest x"):
        refused = http.get("/xapi/statements", headers={**V, "Authorization": header})
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")


def test_preflight_head_and_headers(http, basic):
    preflight = http.options("/xapi/activities/state", headers={"Origin": "https://content.example.com"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://content.example.com"
    assert "If-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "ETag" in preflight.headers["Access-Control-Expose-Headers"]
    head = http.head("/xapi/statements", headers={**V, **basic})
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["X-Experience-API-Consistent-Through"]
    about = http.get("/xapi/about")
    assert about.status_code == 200 and "2.0.0" in about.get_json()["version"]
    assert http.get("/xapi/nothing", headers={**V, **basic}).status_code == 404
