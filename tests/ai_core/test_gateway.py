"""/api/v1/ai through the real gateway app -> gRPC -> ai_core service -> PostgreSQL/Redis."""
from __future__ import annotations

import json
import uuid

import pytest

from careeros_services.ai_core.entrypoints.grpc_server import registration
from careeros_services.ai_core.service import SEED_CATALOG
from careeros_services.ai_core.providers import AiOutputInvalid, AiProviderUnavailable
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from gateway_flask import services
from gateway_flask.app import create_app
from gateway_flask.views.ai.resources import blp
from tests.ai_core.support import cleanup, learner
from tests.gateway.conftest import gw_config, jwks, make_token, redis_client, signing_key  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def ai_server(config, fresh_store, tmp_path_factory):
    fresh_store("ai_core")
    cvs = {"backend": "local", "bucket": "cvs", "root": str(tmp_path_factory.mktemp("cvs"))}
    config = {**config, "ai_core": {**config["ai_core"], "storage": cvs, "redis_prefix": f"test.ai.gw.{uuid.uuid4().hex[:8]}."},
              "billing": {**config["billing"], "plans": {"free": {"ai_quota": 3}, "pro": {"ai_quota": 100},
                                                         "team": {"ai_quota": -1}}}}
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    yield address, servicer.service
    server.stop(grace=None)
    cleanup(servicer.service)
    servicer.service.store.close()


@pytest.fixture
def api(ai_server, gw_config, jwks, redis_client):  # noqa: F811
    gw_config["grpc"]["addresses"]["ai_core"] = ai_server[0]
    for key in [k for k in services._clients if k[1] == "ai_core"]:
        services._clients.pop(key).close()
    app = create_app(gw_config, jwks_provider=lambda: jwks, redis_client=redis_client, blueprints=[blp])
    return app.test_client()


@pytest.fixture
def auth(ai_server, make_token):  # noqa: F811
    def make(plan_tier="pro", org_role="member", **profile):
        c = learner(ai_server[1], plan_tier=plan_tier, org_role=org_role, **profile)
        token = make_token(sub=c.user_id, tenant_id=c.tenant_id, org_role=org_role, plan_tier=plan_tier)
        return {"Authorization": f"Bearer {token}"}
    return make


def test_open_follow_up_and_read_back(api, auth):
    headers = auth(skills=[("Python", 3)], target_role="Backend Developer")
    created = api.post("/api/v1/ai/consultations", json={"question": "What should I learn next?"}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/ai/consultations/{body['consultation_id']}"
    answer = body["messages"][1]["answer"]
    assert answer["target_role"]["role_id"] == "backend_developer" and answer["skill_gaps"]
    assert answer["market_data"] == {"available": False, "note": answer["market_data"]["note"]}
    seed = {c["slug"]: c["id"] for c in json.loads(SEED_CATALOG.read_text())["courses"]}
    assert answer["courses"] and all(c["course_id"] == seed[c["slug"]] for c in answer["courses"])  # for links
    assert "answer" not in body["messages"][0] or body["messages"][0]["answer"] is None

    follow = api.post(f"/api/v1/ai/consultations/{body['consultation_id']}/messages",
                      json={"content": "And for interviews?"}, headers=headers)
    assert follow.status_code == 201 and len(follow.get_json()["messages"]) == 4
    again = api.get(f"/api/v1/ai/consultations/{body['consultation_id']}", headers=headers)
    assert again.status_code == 200 and again.get_json() == follow.get_json()

    other = api.get(f"/api/v1/ai/consultations/{body['consultation_id']}", headers=auth())
    assert other.status_code == 404 and other.get_json()["code"] == "consultation_not_found"


def test_the_history_lists_only_your_own_consultations_newest_first(api, auth):
    headers, stranger = auth(), auth()
    first = api.post("/api/v1/ai/consultations", json={"question": "How do I become a data engineer?"},
                     headers=headers).get_json()
    second = api.post("/api/v1/ai/consultations", json={"question": "Is SQL enough?"}, headers=headers).get_json()
    api.post(f"/api/v1/ai/consultations/{first['consultation_id']}/messages", json={"content": "And Python?"},
             headers=headers)  # the first is now the most recently active
    listed = api.get("/api/v1/ai/consultations", headers=headers)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    rows = listed.get_json()["consultations"]
    assert [r["consultation_id"] for r in rows] == [first["consultation_id"], second["consultation_id"]]
    assert rows[0]["topic"].startswith("How do I become") and rows[0]["message_count"] == 4
    assert rows[1]["message_count"] == 2 and rows[0]["last_message_at"] >= rows[1]["last_message_at"]
    assert [r["consultation_id"] for r in api.get("/api/v1/ai/consultations?limit=1", headers=headers)
            .get_json()["consultations"]] == [first["consultation_id"]]
    assert api.get("/api/v1/ai/consultations", headers=stranger).get_json() == {"consultations": []}
    bad = api.get("/api/v1/ai/consultations?limit=0", headers=headers)
    assert bad.status_code == 422 and "limit" in bad.get_json()["errors"]
    assert api.get("/api/v1/ai/consultations").status_code == 401


def test_validation_and_auth_problems(api, auth):
    headers = auth()
    bad = api.post("/api/v1/ai/consultations", json={"question": ""}, headers=headers)
    assert bad.status_code == 422 and "question" in bad.get_json()["errors"]
    extra = api.post("/api/v1/ai/consultations", json={"question": "hi", "salary": 1}, headers=headers)
    assert extra.status_code == 422 and "salary" in extra.get_json()["errors"]
    assert api.post("/api/v1/ai/consultations", json={"question": "hi"}).status_code == 401


def test_cv_upload_then_confirm(api, auth):
    headers = auth()
    cv = b"Data analyst, 3 years of SQL\nTableau dashboards\njane@example.com"
    uploaded = api.post("/api/v1/ai/cv?filename=jane.txt", data=cv,
                        headers={**headers, "Content-Type": "text/plain"})
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    analysis = uploaded.get_json()
    assert {p["name"] for p in analysis["proposed_skills"]} >= {"SQL", "Business intelligence tools"}
    assert analysis["status"] == "proposed" and analysis["filename"] == "jane.txt"
    # CVs may exceed the gateway's small global body limit (2 KiB in these tests) up to ai_core.max_cv_bytes.
    big = cv + b"\n" + b"Worked on many projects with spreadsheets. " * 200
    assert len(big) > 2048
    assert api.post("/api/v1/ai/cv", data=big, headers={**headers, "Content-Type": "text/plain"}).status_code == 201
    wrong = api.post("/api/v1/ai/cv", data=b"x", headers={**headers, "Content-Type": "image/png"})
    assert wrong.status_code == 415
    confirmed = api.post(f"/api/v1/ai/cv/{analysis['cv_id']}/confirm",
                         json={"skills": [{"name": "SQL", "level": 3}]}, headers=headers)
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    refused = api.post(f"/api/v1/ai/cv/{analysis['cv_id']}/confirm",
                       json={"skills": [{"name": "SQL", "level": 9}]}, headers=headers)
    assert refused.status_code == 422 and "skills.0.level" in refused.get_json()["errors"]


def test_quota_is_a_429_with_retry_after_and_usage_shows_it(api, auth):
    headers = auth(plan_tier="free", target_role="Data Analyst")
    for i in range(3):
        assert api.post("/api/v1/ai/consultations", json={"question": f"q{i}"}, headers=headers).status_code == 201
    over = api.post("/api/v1/ai/consultations", json={"question": "q3"}, headers=headers)
    assert over.status_code == 429 and over.get_json()["code"] == "ai_quota_exceeded"
    assert int(over.headers["Retry-After"]) > 0
    usage = api.get("/api/v1/ai/usage", headers=headers).get_json()
    assert usage["consultations_used"] == 3 and usage["consultations_quota"] == 3
    assert usage["user"]["calls"] == 3 and isinstance(usage["user"]["prompt_tokens"], int)
    assert usage["by_provider"] == [{"provider": "embedded", "model_called": False, "calls": 3,
                                     "prompt_tokens": 0, "completion_tokens": 0, "cost_micro_usd": 0}]


@pytest.mark.parametrize("error, status", [(AiOutputInvalid("bad twice", fields={"answer": ["x"]}), 502),
                                           (AiProviderUnavailable("down", retry_after=5), 503)])
def test_provider_failures_keep_their_status_through_grpc(api, auth, ai_server, error, status):
    service = ai_server[1]
    original = service.provider.complete

    def failing(prompt, repair=None):
        raise error
    service.provider.complete = failing
    try:
        response = api.post("/api/v1/ai/consultations", json={"question": "fresh question"}, headers=auth())
    finally:
        service.provider.complete = original
    assert response.status_code == status and response.get_json()["code"] == error.code
    assert response.mimetype == "application/problem+json"


def test_routes_are_in_the_openapi_spec(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/ai/consultations", "/api/v1/ai/consultations/{consultation_id}",
                 "/api/v1/ai/consultations/{consultation_id}/messages", "/api/v1/ai/cv",
                 "/api/v1/ai/cv/{cv_id}/confirm", "/api/v1/ai/usage", "/api/v1/ai/roles", "/api/v1/ai/skills"):
        assert path in paths, path
    assert "text/plain" in paths["/api/v1/ai/cv"]["post"]["requestBody"]["content"]
    assert {"get", "post"} <= set(paths["/api/v1/ai/consultations"])


def test_skill_taxonomy_search(api, auth):
    headers = auth()
    found = api.get("/api/v1/ai/skills", query_string={"q": "excel", "limit": 3}, headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)
    first = found.get_json()["skills"][0]
    assert (first["skill_id"], first["name"]) == ("spreadsheets", "Spreadsheets")
    assert "excel" in first["aliases"] and first["esco_uri"].startswith("http://data.europa.eu/esco/skill/")
    assert len(api.get("/api/v1/ai/skills", query_string={"q": "data", "limit": 2}, headers=headers)
               .get_json()["skills"]) == 2
    assert api.get("/api/v1/ai/skills?q=zzz-nothing", headers=headers).get_json() == {"skills": []}
    bad = api.get("/api/v1/ai/skills?limit=0", headers=headers)
    assert bad.status_code == 422 and "limit" in bad.get_json()["errors"], bad.get_data(as_text=True)
    assert api.get("/api/v1/ai/skills?q=java").status_code == 401
