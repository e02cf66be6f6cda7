"""/api/v1/analytics through the real gateway app and a real analytics gRPC server on PostgreSQL.

Covers role checks (owner/admin vs learner), tenant isolation, date-range
validation, the CSV export (media type, escaping, formula guard) and the OpenAPI document.
"""
from __future__ import annotations

import copy
import csv
import io

import pytest

from careeros_services.analytics.entrypoints.grpc_server import registration
from careeros_services.analytics.service import AnalyticsService
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from gateway_flask.app import create_app
from gateway_flask.views.analytics.resources import blp
from tests.analytics import support as ev
from tests.analytics.scenario import Scenario

MARCH = {"from": "2026-03-01", "to": "2026-03-14"}
EVIL_NAME = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def address(config, fresh_store):
    """The analytics gRPC server, built by ``registration(config)`` as in production."""
    fresh_store("analytics")
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    assert name == "careeros.analytics.v1.AnalyticsService"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    try:
        grpc_support.wait_for_server(address, timeout_s=10)
        yield address
    finally:
        server.stop(grace=None)
        servicer.service.store.close()


@pytest.fixture(scope="module")
def month(fresh_store) -> Scenario:
    scenario = Scenario()
    scenario.mallory = ev.new_id()
    service = AnalyticsService(fresh_store("analytics"))
    events = scenario.all_events() + [ev.registered(scenario.tenant_a, scenario.mallory, EVIL_NAME)]
    assert service.handle_events(events) == [True] * len(events)
    return scenario


@pytest.fixture
def client(gw_config, jwks, redis_client, address):
    config = copy.deepcopy(gw_config)
    config["grpc"]["addresses"]["analytics"] = address
    app = create_app(config, jwks_provider=lambda: jwks, redis_client=redis_client, blueprints=[blp])
    return app.test_client()


@pytest.fixture
def as_user(client, make_token):
    """``as_user(tenant, user, role).get(path, query)``: requests with that caller's token."""
    class Caller:
        def __init__(self, tenant, user, role):
            token = make_token(sub=user, tenant_id=tenant, org_role=role)
            self.headers = {"Authorization": "Bearer " + token}

        def get(self, path, query=None):
            return client.get("/api/v1/analytics" + path, query_string=query or {}, headers=self.headers)
    return Caller


def test_owner_gets_the_overview(as_user, month):
    response = as_user(month.tenant_a, month.olga, "owner").get("/overview", MARCH)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["tenant_id"], body["from"], body["to"]) == (month.tenant_a, "2026-03-01", "2026-03-14")
    assert body["active_learners"]["total"] == 2
    assert body["active_learners"]["weekly"][1] == {"week_start": "2026-03-02", "active_learners": 2}
    assert body["activity"] == {"statements": 5, "time_spent_s": 1080}
    assert body["enrollments"]["completion_rate_percent"] == 50
    assert body["quizzes"]["average_score_percent"] == 72
    assert {"date": "2026-03-12", "completions": 1} in body["completions_daily"]
    assert body["ai_usage"] == {"requests": 2, "prompt_tokens": 110, "completion_tokens": 55,
                                "cost_micro_usd": 1700}
    assert body["revenue"] == [{"currency": "EUR", "total_minor": 4900, "invoices": 1},
                               {"currency": "USD", "total_minor": 1000, "invoices": 1}]
    assert {"event_type": "careeros.tracker.statement.recorded.v1", "events": 5} in body["events"]


def test_admins_see_the_overview_and_learners_do_not(as_user, month):
    assert as_user(month.tenant_a, month.olga, "admin").get("/overview", MARCH).status_code == 200
    for role in ("member", "instructor"):
        response = as_user(month.tenant_a, month.ann, role).get("/overview", MARCH)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "analytics_forbidden"


def test_owner_gets_every_learner_and_a_learner_only_themselves(as_user, month):
    body = as_user(month.tenant_a, month.olga, "owner").get("/learners", MARCH).get_json()
    assert body["scope"] == "tenant"
    assert {r["user_id"] for r in body["learners"]} == {month.olga, month.ann, month.bob, month.mallory}
    ann = next(r for r in body["learners"] if r["user_id"] == month.ann)
    assert (ann["time_spent_s"], ann["quiz_attempts"], ann["completion_rate_percent"]) == (1020, 2, 100)

    own = as_user(month.tenant_a, month.bob, "member").get("/learners", MARCH).get_json()
    assert own["scope"] == "self"
    assert [r["user_id"] for r in own["learners"]] == [month.bob]
    assert own["learners"][0]["statements"] == 2


def test_the_learner_report_is_paged(as_user, month):
    owner = as_user(month.tenant_a, month.olga, "owner")
    everyone = owner.get("/learners", MARCH).get_json()
    assert (everyone["total"], everyone["limit"], everyone["offset"]) == (4, 100, 0)
    first = owner.get("/learners", {**MARCH, "limit": 3}).get_json()
    rest = owner.get("/learners", {**MARCH, "limit": 3, "offset": 3}).get_json()
    assert first["total"] == rest["total"] == 4
    assert first["learners"] + rest["learners"] == everyone["learners"]
    assert len(rest["learners"]) == 1
    response = owner.get("/learners", {**MARCH, "limit": 0, "offset": -1})
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"limit", "offset"}


def test_nobody_sees_another_tenants_numbers(as_user, month):
    overview = as_user(month.tenant_b, month.bea, "owner").get("/overview", MARCH).get_json()
    assert overview["tenant_id"] == month.tenant_b
    assert overview["activity"] == {"statements": 1, "time_spent_s": 5000}
    assert overview["revenue"] == [{"currency": "EUR", "total_minor": 9999, "invoices": 1}]
    learners = as_user(month.tenant_b, month.bea, "owner").get("/learners", MARCH).get_json()["learners"]
    assert [r["user_id"] for r in learners] == [month.bea]
    # A's owner holding an owner token of tenant B sees B's numbers, never A's.
    crossed = as_user(month.tenant_b, month.olga, "owner").get("/overview", MARCH).get_json()
    assert crossed == overview
    exported = as_user(month.tenant_b, month.olga, "owner").get("/export.csv", MARCH).get_data(as_text=True)
    assert month.ann not in exported and month.bob not in exported and month.bea in exported


def test_date_range_errors_are_422_naming_the_field(as_user, month):
    owner = as_user(month.tenant_a, month.olga, "owner")
    response = owner.get("/overview", {"from": "March 1st"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"from"}
    response = owner.get("/learners", {"from": "2026-03-14", "to": "2026-03-01"})  # checked by the service
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"from": ["must not be after to"]}
    response = owner.get("/overview", {"from": "2024-01-01", "to": "2026-03-01"})
    assert response.status_code == 422 and "to" in response.get_json()["errors"]
    # There is no tenant parameter: a smuggled one is ignored and the token's tenant answers.
    smuggled = owner.get("/overview", {**MARCH, "tenant_id": month.tenant_b}).get_json()
    assert smuggled["tenant_id"] == month.tenant_a and smuggled["activity"]["statements"] == 5


def test_anonymous_callers_are_refused(client):
    for path in ("/overview", "/learners", "/export.csv"):
        response = client.get("/api/v1/analytics" + path)
        assert response.status_code == 401 and response.get_json()["code"] == "unauthenticated"


def test_csv_export_for_the_owner(as_user, month):
    response = as_user(month.tenant_a, month.olga, "owner").get("/export.csv", MARCH)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="careeros-learners-2026-03-01-2026-03-14.csv"'
    assert response.headers["Cache-Control"] == "private, no-store"
    text = response.get_data(as_text=True)
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    by_user = {r["user_id"]: r for r in rows}
    assert set(by_user) == {month.olga, month.ann, month.bob, month.mallory}
    assert by_user[month.mallory]["display_name"] == "'" + EVIL_NAME  # never a formula in a spreadsheet
    assert by_user[month.ann]["time_spent_s"] == "1020" and by_user[month.ann]["display_name"] == "Ann"


def test_csv_export_for_a_learner_has_only_their_row(as_user, month):
    text = as_user(month.tenant_a, month.ann, "member").get("/export.csv", MARCH).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["user_id"] for r in rows] == [month.ann]


def test_routes_are_documented_in_the_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, params in (("/api/v1/analytics/overview", {"from", "to"}),
                         ("/api/v1/analytics/learners", {"from", "to", "limit", "offset"}),
                         ("/api/v1/analytics/export.csv", {"from", "to"})):
        operation = spec["paths"][path]["get"]
        assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == params
        assert operation["security"] == [{"bearerAuth": []}]
    csv_200 = spec["paths"]["/api/v1/analytics/export.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv_200["content"]
    assert "403" in spec["paths"]["/api/v1/analytics/overview"]["get"]["responses"]
