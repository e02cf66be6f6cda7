"""/api/v1/roadmaps through the real gateway app, the real roadmap gRPC server and real Redis
(ai_core is the scripted gRPC server)."""
from __future__ import annotations

import copy
import json
import uuid
from xml.etree import ElementTree

import pytest

from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.roadmap.entrypoints.grpc_server import registration
from gateway_flask.app import create_app
from gateway_flask.views.roadmaps.resources import blp
from tests.gateway.conftest import gw_config, jwks, make_token, redis_client, signing_key  # noqa: F401
from tests.roadmap.support import AiCoreServer, course_published


@pytest.fixture(scope="module")
def roadmap_address(config, fresh_store):
    fresh_store("roadmap")
    ai = AiCoreServer()
    conf = copy.deepcopy(config)
    conf["grpc"]["addresses"]["ai_core"] = ai.address
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(conf)
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    servicer.service.handle_event(course_published("python-basics", [("Python", 3)]))
    yield address
    servicer.runner.stop()
    server.stop(grace=None)
    ai.stop()


@pytest.fixture
def http(gw_config, jwks, redis_client, roadmap_address):  # noqa: F811
    gw_config["grpc"]["addresses"]["roadmap"] = roadmap_address
    from gateway_flask import services
    services._clients.clear()  # a client per address: this module's server
    app = create_app(gw_config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                     blueprints=[blp])
    return app.test_client()


@pytest.fixture
def auth(make_token):  # noqa: F811
    token = make_token(sub=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()))
    return {"Authorization": f"Bearer {token}"}


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["code"] == code
    return body


def test_roadmap_routes_end_to_end(http, auth):
    problem(http.get("/api/v1/roadmaps/current", headers=auth), 404, "roadmap_not_found")
    created = http.post("/api/v1/roadmaps", json={"target_role": "Data Engineer", "hours_per_week": 6,
                                                  "deadline": "2099-01-01"},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    rid = body["roadmap_id"]
    assert body["version"] == 1 and body["milestones"][0]["courses"][0]["slug"] == "python-basics"
    assert body["summary"]["fits_deadline"] is True and body["progress"]["schedule_status"] == "on_track"
    assert all(w["hours"] <= 6 for w in body["schedule"])

    assert http.get("/api/v1/roadmaps/current", headers=auth).get_json()["roadmap_id"] == rid
    http.post("/api/v1/roadmaps", json={"target_role": "ML Engineer", "hours_per_week": 6}, headers=auth)
    assert http.get(f"/api/v1/roadmaps/{rid}?version=1", headers=auth).get_json()["target_role"] == "Data Engineer"
    versions = http.get(f"/api/v1/roadmaps/{rid}/versions", headers=auth).get_json()
    assert [v["version"] for v in versions["versions"]] == [1, 2] and versions["active_version"] == 2

    patched = http.patch(f"/api/v1/roadmaps/{rid}/milestones/stats", json={"status": "done"}, headers=auth)
    assert patched.status_code == 200
    assert {m["skill_id"]: m["status"] for m in patched.get_json()["milestones"]}["stats"] == "done"
    problem(http.patch(f"/api/v1/roadmaps/{rid}/milestones/stats", json={"status": "finished"}, headers=auth),
            422, "validation_failed")
    problem(http.patch(f"/api/v1/roadmaps/{rid}/milestones/nope", json={"status": "done"}, headers=auth),
            422, "validation_failed")

    svg = http.get(f"/api/v1/roadmaps/{rid}.svg", headers=auth)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert ElementTree.fromstring(svg.get_data(as_text=True)).tag == "{http://www.w3.org/2000/svg}svg"
    mermaid = http.get(f"/api/v1/roadmaps/{rid}.mmd?version=1", headers=auth)
    assert mermaid.mimetype == "text/vnd.mermaid" and mermaid.get_data(as_text=True).startswith("flowchart LR")


def test_errors_are_problems_naming_the_field(http, auth, make_token):  # noqa: F811
    body = problem(http.post("/api/v1/roadmaps", json={"target_role": "", "hours_per_week": 200}, headers=auth),
                   422, "validation_failed")
    assert set(body["errors"]) == {"target_role", "hours_per_week"}
    body = problem(http.post("/api/v1/roadmaps", json={"target_role": "X", "hours_per_week": 3,
                                                       "deadline": "2001-01-01"}, headers=auth),
                   422, "validation_failed")
    assert "deadline" in body["errors"]
    problem(http.post("/api/v1/roadmaps", json={"target_role": "Astronaut", "hours_per_week": 3}, headers=auth),
            503, "upstream_error")  # ai_core NOT_FOUND without a CareerOS code: an upstream failure
    problem(http.get(f"/api/v1/roadmaps/{uuid.uuid4()}", headers=auth), 404, "roadmap_not_found")
    problem(http.get("/api/v1/roadmaps/not-a-uuid.svg", headers=auth), 404, "not_found")
    problem(http.get("/api/v1/roadmaps/current"), 401, "unauthenticated")
    created = http.post("/api/v1/roadmaps", json={"target_role": "Data Engineer", "hours_per_week": 3},
                        headers=auth).get_json()
    other = {"Authorization": f"Bearer {make_token(sub=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()))}"}
    problem(http.get(f"/api/v1/roadmaps/{created['roadmap_id']}.svg", headers=other), 404, "roadmap_not_found")


def test_openapi_documents_the_roadmap_routes(http):
    spec = json.loads(http.get("/api/v1/openapi.json").get_data())
    paths = spec["paths"]
    assert {"/api/v1/roadmaps", "/api/v1/roadmaps/current", "/api/v1/roadmaps/{roadmap_id}",
            "/api/v1/roadmaps/{roadmap_id}/versions", "/api/v1/roadmaps/{roadmap_id}.svg",
            "/api/v1/roadmaps/{roadmap_id}.mmd", "/api/v1/roadmaps/{roadmap_id}/milestones/{skill_id}"} <= set(paths)
    assert "image/svg+xml" in paths["/api/v1/roadmaps/{roadmap_id}.svg"]["get"]["responses"]["200"]["content"]
    assert paths["/api/v1/roadmaps"]["post"]["security"] == [{"bearerAuth": []}]
