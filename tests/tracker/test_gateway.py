"""/api/v1/tracking through the real gateway app, a real tracker gRPC server and PostgreSQL."""
from __future__ import annotations

import copy
import os

import pytest

from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.tracker.entrypoints.grpc_server import registration
from gateway_flask import services
from gateway_flask.app import create_app
from gateway_flask.views.tracking.resources import blp
from tests.tracker.support import course_published, new_id, statement


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
def app(tracker, gw_config, jwks, redis_client):
    gw_config["grpc"]["addresses"]["tracker"] = tracker[0]
    gw_config["gateway"]["max_body_bytes"] = 65536  # the shipped default; the gateway fixture's is tiny
    services._clients.pop((os.getpid(), "tracker"), None)  # a client for this server
    return create_app(gw_config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                      blueprints=[blp])


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def learner(make_token):
    """``learner(role=..., tenant=..., user=...)`` -> (user_id, tenant_id, headers)."""
    def make(role: str = "member", tenant: str | None = None, user: str | None = None):
        user, tenant = user or new_id(), tenant or new_id()
        token = make_token(sub=user, tenant_id=tenant, org_role=role)
        return user, tenant, {"Authorization": f"Bearer {token}"}
    return make


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["code"] == code and body["status"] == status
    return body


def test_malformed_statement_is_a_400_problem_naming_the_field(http, learner):
    user, _tenant, headers = learner()
    bad = statement(user)
    bad["verb"] = {"id": "completed"}  # not an IRI
    body = problem(http.post("/api/v1/tracking/statements", json=bad, headers=headers), 400, "invalid_statement")
    assert list(body["errors"]) == ["verb.id"]
    missing = statement(user)
    del missing["object"]
    body = problem(http.post("/api/v1/tracking/statements", json=[statement(user), missing], headers=headers),
                   400, "invalid_statement")
    assert "[1].object" in body["errors"]
    extra = statement(user, unknown_property=1)
    assert "unknown_property" in problem(http.post("/api/v1/tracking/statements", json=extra, headers=headers),
                                         400, "invalid_statement")["errors"]


def test_malformed_json_and_wrong_types(http, learner):
    _user, _tenant, headers = learner()
    resp = http.post("/api/v1/tracking/statements", data="{not json", headers=headers,
                     content_type="application/json")
    problem(resp, 400, "malformed_json")
    problem(http.post("/api/v1/tracking/statements", json="a string", headers=headers), 400, "invalid_statement")
    problem(http.post("/api/v1/tracking/statements", json=[], headers=headers), 400, "invalid_statement")


def test_batch_is_one_request_and_replay_counts_once(http, learner):
    user, _tenant, headers = learner()
    batch = [statement(user, "experienced", statement_id=new_id(), duration="PT1M") for _ in range(50)]
    first = http.post("/api/v1/tracking/statements", json=batch, headers=headers)
    assert first.status_code == 200 and first.get_json()["stored"] == 50
    assert first.get_json()["statement_ids"] == [s["id"] for s in batch]
    again = http.post("/api/v1/tracking/statements", json=batch, headers=headers).get_json()
    assert (again["stored"], again["duplicates"]) == (0, 50)
    progress = http.get("/api/v1/tracking/progress", headers=headers).get_json()
    assert progress["total_time_spent_s"] == 50 * 60


def test_batch_over_the_limit_is_413(http, learner):
    user, _tenant, headers = learner()
    batch = [{"actor": {"account": {"homePage": "https://careeros.dev", "name": user}},
              "verb": {"id": "http://adlnet.gov/expapi/verbs/launched"},
              "object": {"id": "https://careeros.dev/xapi/courses/c"}} for _ in range(101)]
    problem(http.post("/api/v1/tracking/statements", json=batch, headers=headers), 413, "batch_too_large")


def test_conflicting_id_is_409(http, learner):
    user, _tenant, headers = learner()
    sid = new_id()
    assert http.post("/api/v1/tracking/statements", json=statement(user, "launched", statement_id=sid),
                     headers=headers).status_code == 200
    problem(http.post("/api/v1/tracking/statements", json=statement(user, "completed", statement_id=sid),
                      headers=headers), 409, "statement_conflict")


def test_someone_elses_actor_is_403(http, learner):
    _user, _tenant, headers = learner()
    problem(http.post("/api/v1/tracking/statements", json=statement(new_id()), headers=headers), 403,
            "actor_not_caller")


def test_pagination_with_filters(http, learner):
    user, _tenant, headers = learner()
    course = new_id()
    ids = [http.post("/api/v1/tracking/statements", json=statement(
        user, "completed", lesson_id=new_id(), course_id=course), headers=headers).get_json()["statement_ids"][0]
        for _ in range(5)]
    http.post("/api/v1/tracking/statements", json=statement(user, "launched"), headers=headers)
    seen, cursor = [], None
    while True:
        params = {"verb": "http://adlnet.gov/expapi/verbs/completed", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/v1/tracking/statements", query_string=params, headers=headers).get_json()
        seen += [s["id"] for s in page["statements"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))  # newest first, each once, only the filtered verb
    related = http.get("/api/v1/tracking/statements", headers=headers, query_string={
        "activity": f"https://careeros.dev/xapi/courses/{course}", "related_activities": "true"}).get_json()
    assert len(related["statements"]) == 5
    # a cursor is bound to its filters, and a forged one is refused
    first = http.get("/api/v1/tracking/statements", query_string={"limit": 1}, headers=headers).get_json()
    problem(http.get("/api/v1/tracking/statements", query_string={"limit": 1, "cursor": first["next_cursor"],
                                                                  "verb": "http://x.org/v"}, headers=headers),
            400, "invalid_cursor")
    problem(http.get("/api/v1/tracking/statements", query_string={"cursor": "garbage!"}, headers=headers),
            400, "invalid_cursor")
    body = problem(http.get("/api/v1/tracking/statements", query_string={"since": "yesterday"}, headers=headers),
                   422, "validation_failed")  # the OpenAPI says date-time; the gateway holds to it
    assert "since" in body["errors"]


def test_isolation_between_learners_and_tenants(http, learner):
    ada, tenant, ada_h = learner()
    bob, _same, bob_h = learner(tenant=tenant)
    admin, _same, admin_h = learner("admin", tenant=tenant)
    _eve, _other_tenant, eve_admin_h = learner("owner")
    for user, headers in ((ada, ada_h), (bob, bob_h)):
        assert http.post("/api/v1/tracking/statements", json=statement(user, "launched"),
                         headers=headers).status_code == 200

    own = http.get("/api/v1/tracking/statements", headers=ada_h).get_json()["statements"]
    assert [s["actor"]["account"]["name"] for s in own] == [ada]
    problem(http.get("/api/v1/tracking/statements", query_string={"learner": bob}, headers=ada_h), 403,
            "not_allowed")
    problem(http.get("/api/v1/tracking/progress", query_string={"learner": bob}, headers=ada_h), 403, "not_allowed")

    everyone = http.get("/api/v1/tracking/statements", headers=admin_h).get_json()["statements"]
    assert {s["actor"]["account"]["name"] for s in everyone} == {ada, bob}
    assert http.get("/api/v1/tracking/progress", query_string={"learner": bob},
                    headers=admin_h).get_json()["user_id"] == bob
    # an owner of another organisation sees nothing of this tenant
    assert http.get("/api/v1/tracking/statements", headers=eve_admin_h).get_json()["statements"] == []
    assert http.get("/api/v1/tracking/statements", query_string={"learner": ada},
                    headers=eve_admin_h).get_json()["statements"] == []


def test_progress_and_goal(http, learner, tracker):
    user, tenant, headers = learner()
    course, lessons = new_id(), [new_id(), new_id()]
    tracker[1].handle_event(course_published(tenant, course, [(lessons[0], True), (lessons[1], True)]))
    http.post("/api/v1/tracking/statements", headers=headers, json=statement(
        user, "completed", lesson_id=lessons[0], course_id=course, duration="PT25M"))

    goal = http.put("/api/v1/tracking/goal", json={"minutes_per_week": 50}, headers=headers)
    assert goal.status_code == 200 and goal.get_json()["percent"] == 50
    problem(http.put("/api/v1/tracking/goal", json={"minutes_per_week": -1}, headers=headers), 422,
            "validation_failed")
    progress = http.get("/api/v1/tracking/progress", query_string={"course_id": course}, headers=headers).get_json()
    [c] = progress["courses"]
    assert (c["percent"], c["required_done"], c["time_spent_s"]) == (50, False, 1500)
    assert progress["streak"]["current_days"] == 1 and progress["weekly_goal"]["minutes_per_week"] == 50


def test_routes_need_a_token(http):
    problem(http.get("/api/v1/tracking/progress"), 401, "unauthenticated")
    problem(http.post("/api/v1/tracking/statements", json={}), 401, "unauthenticated")


def test_routes_are_in_the_openapi_document(http):
    paths = http.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/tracking/statements"])
    assert "get" in paths["/api/v1/tracking/progress"] and "put" in paths["/api/v1/tracking/goal"]
    assert "oneOf" in paths["/api/v1/tracking/statements"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]


def test_nan_in_a_statement_is_a_400_not_a_500(http, learner):
    user, _tenant, headers = learner()
    text = ('{"actor":{"account":{"homePage":"https://careeros.dev","name":"%s"}},'
            '"verb":{"id":"http://adlnet.gov/expapi/verbs/scored"},"object":{"id":"https://x.org/a"},'
            '"result":{"score":{"raw":NaN}}}' % user)
    problem(http.post("/api/v1/tracking/statements", data=text, headers=headers, content_type="application/json"),
            400, "malformed_json")  # NaN is not JSON: refused at the gateway's edge
