"""/api/v1/billing through the real gateway app, the real billing gRPC server and real Redis:
routes, problem+json 4xx, the unauthenticated signature-checked webhook, the OpenAPI document."""
from __future__ import annotations

import copy
import json
import threading
import uuid

import jwt

import pytest

from careeros_services.billing import payments
from careeros_services.billing.entrypoints.grpc_server import registration
from careeros_services.common import grpc_support, plan_cache
from careeros_services.common.infra import free_port
from gateway_flask.app import create_app
from gateway_flask.views.billing.resources import blp
from tests.billing.support import Bus
from tests.gateway.conftest import gw_config, jwks, make_token, redis_client, signing_key  # noqa: F401


@pytest.fixture(scope="module")
def billing_address(config, billing_store):
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    assert name == "careeros.billing.v1.BillingService"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    yield address, servicer.service
    server.stop(grace=None)


@pytest.fixture
def http(gw_config, jwks, redis_client, billing_address):  # noqa: F811
    gw_config["grpc"]["addresses"]["billing"] = billing_address[0]
    gw_config["billing"] = {**gw_config.get("billing", {}), "activation_wait_s": 3}
    from gateway_flask import services
    services._clients.clear()
    app = create_app(gw_config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                     blueprints=[blp])
    return app.test_client()


@pytest.fixture
def owner(make_token):  # noqa: F811
    token = make_token(sub=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()), org_role="owner")
    return {"Authorization": f"Bearer {token}"}


def tenant_of(headers: dict) -> str:
    return jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["tenant_id"]


def auth_applies(redis_client, tenant_id: str, plan: str, after_s: float = 0.3) -> threading.Timer:
    """Stand in for auth applying billing's entitlement (it writes the plan cache the gateway reads)."""
    timer = threading.Timer(after_s, plan_cache.remember, (redis_client, tenant_id, plan, 60))
    timer.start()
    return timer


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["code"] == code
    return body


def test_plans_are_public_with_integer_prices(http):
    resp = http.get("/api/v1/billing/plans")
    assert resp.status_code == 200
    plans = {p["code"]: p for p in resp.get_json()["plans"]}
    assert plans["pro"]["monthly_minor"] == 1900 and plans["team"]["min_seats"] == 2
    assert plans["team"]["pricing"] == "per_seat" and "premium_courses" in plans["pro"]["entitlements"]


def test_subscribe_read_change_cancel_and_invoices(http, owner, billing_address, billing_store, redis_client):  # noqa: F811
    assert http.get("/api/v1/billing/subscription", headers=owner).get_json() == {
        "subscription": None, "plan": "free", "seats": 0, "entitlements": ["ai_quota:20", "ai_tokens:20000"]}
    auth_applies(redis_client, tenant_of(owner), "pro")
    created = http.post("/api/v1/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                        headers={**owner, "Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["subscription"]["plan"] == "pro" and body["latest_invoice"]["total_minor"] == 1900
    assert body["latest_invoice"]["status"] == "paid" and body["payment"]["status"] == "succeeded"

    problem(http.post("/api/v1/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                      headers=owner), 409, "subscription_exists")
    invoices = http.get("/api/v1/billing/invoices", headers=owner).get_json()["invoices"]
    assert [(i["reason"], i["total_minor"], i["lines"][0]["kind"]) for i in invoices] == [
        ("subscription_create", 1900, "subscription")]
    # Until the activation saga has run, the subscription is incomplete and cannot be changed or canceled.
    problem(http.post("/api/v1/billing/subscription/change", json={"plan": "team", "seats": 2}, headers=owner),
            409, "invalid_subscription_state")
    problem(http.post("/api/v1/billing/subscription/cancel", json={}, headers=owner), 409, "change_in_progress")
    Bus(billing_address[1], billing_store).run()
    assert http.get("/api/v1/billing/subscription", headers=owner).get_json()["plan"] == "pro"

    changed = http.post("/api/v1/billing/subscription/change", json={"payment_method": "pm_card_chargeDeclined"},
                        headers=owner)
    assert changed.status_code == 200
    assert changed.get_json()["subscription"]["payment_method"] == "pm_card_chargeDeclined"
    problem(http.post("/api/v1/billing/subscription/change", json={"plan": "team", "seats": 2}, headers=owner),
            402, "payment_declined")
    assert http.get("/api/v1/billing/subscription", headers=owner).get_json()["plan"] == "pro"
    later = http.post("/api/v1/billing/subscription/cancel", json={}, headers=owner).get_json()
    assert later["subscription"]["cancel_at_period_end"] is True and later["subscription"]["status"] == "active"
    auth_applies(redis_client, tenant_of(owner), "free")
    canceled = http.post("/api/v1/billing/subscription/cancel", json={"at_period_end": False}, headers=owner)
    assert canceled.status_code == 200 and canceled.get_json()["subscription"]["status"] == "canceled"
    assert http.get("/api/v1/billing/subscription", headers=owner).get_json()["plan"] == "free"
    problem(http.post("/api/v1/billing/subscription/cancel", json={}, headers=owner), 404, "subscription_not_found")


def test_a_declined_card_is_a_402_naming_the_reason_and_3ds_is_a_202_to_poll(http, owner, make_token):  # noqa: F811
    body = problem(http.post("/api/v1/billing/subscriptions",
                             json={"plan": "pro", "payment_method": "pm_card_chargeDeclined"}, headers=owner),
                   402, "payment_declined")
    assert body["errors"] == {"payment_method": ["card_declined"]} and "card_declined" in body["detail"]
    after = http.get("/api/v1/billing/subscription", headers=owner).get_json()
    assert after["subscription"]["status"] == "canceled" and after["plan"] == "free"

    other = {"Authorization": f"Bearer {make_token(sub=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()), org_role='owner')}"}
    pending = http.post("/api/v1/billing/subscriptions",
                        json={"plan": "pro", "payment_method": "pm_card_authenticationRequired"}, headers=other)
    assert pending.status_code == 202 and pending.headers["Location"] == "/api/v1/billing/subscription"
    body = pending.get_json()
    assert body["next"] == {"poll": "/api/v1/billing/subscription", "status": "requires_action"}
    assert body["subscription"]["status"] == "incomplete" and body["payment"]["failure_code"] == "requires_action"


def test_bad_input_is_a_problem_naming_the_field(http, owner):
    body = problem(http.post("/api/v1/billing/subscriptions", json={"plan": "gold", "seats": "2"}, headers=owner),
                   422, "validation_failed")
    assert set(body["errors"]) == {"plan", "seats", "payment_method"}
    body = problem(http.post("/api/v1/billing/subscriptions",
                             json={"plan": "team", "seats": 1, "payment_method": "pm_card_visa"}, headers=owner),
                   422, "validation_failed")
    assert "seats" in json.dumps(body)
    body = problem(http.post("/api/v1/billing/subscriptions",
                             json={"plan": "pro", "payment_method": "4111111111111111"}, headers=owner),
                   422, "validation_failed")
    assert "payment_method" in json.dumps(body)
    problem(http.post("/api/v1/billing/subscription/change", json={}, headers=owner), 422, "validation_failed")
    body = problem(http.post("/api/v1/billing/subscription/change", json={"interval": "weekly"}, headers=owner),
                   422, "validation_failed")
    assert list(body["errors"]) == ["interval"]


def test_members_cannot_manage_billing_and_anonymous_callers_are_refused(http, make_token):  # noqa: F811
    member = {"Authorization": f"Bearer {make_token(sub=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()), org_role='member')}"}
    body = problem(http.post("/api/v1/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                             headers=member), 403, "billing_forbidden")
    assert "org_role" in json.dumps(body)
    problem(http.get("/api/v1/billing/invoices", headers=member), 403, "billing_forbidden")
    assert http.get("/api/v1/billing/subscription", headers=member).status_code == 200
    problem(http.get("/api/v1/billing/subscription"), 401, "unauthenticated")


def test_webhooks_need_a_valid_signature_and_are_processed_once(http, config):
    secret = config["billing"]["providers"]["sandbox"]["webhook_secret"]
    raw = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "customer.created", "data": {"object": {"id": "c"}}})
    headers = {"Content-Type": "application/json"}
    problem(http.post("/api/v1/billing/webhooks/sandbox", data=raw, headers=headers), 401, "invalid_signature")
    problem(http.post("/api/v1/billing/webhooks/sandbox", data=raw,
                      headers={**headers, "Stripe-Signature": payments.sign(raw.encode(), "whsec_other")}),
            401, "invalid_signature")
    problem(http.post("/api/v1/billing/webhooks/paypal", data=raw,
                      headers={**headers, "Stripe-Signature": payments.sign(raw.encode(), secret)}),
            404, "unknown_provider")
    ok = http.post("/api/v1/billing/webhooks/sandbox", data=raw,
                   headers={**headers, "Stripe-Signature": payments.sign(raw.encode(), secret)})
    assert ok.status_code == 200 and ok.get_json() == {"received": True, "applied": False, "duplicate": False}


def test_the_routes_are_in_the_openapi_document(http):
    spec = http.get("/api/v1/openapi.json").get_json()
    paths = {p: sorted(m for m in spec["paths"][p] if m != "parameters") for p in spec["paths"] if "/billing" in p}
    assert paths == {
        "/api/v1/billing/plans": ["get"], "/api/v1/billing/subscriptions": ["post"],
        "/api/v1/billing/subscription": ["get"], "/api/v1/billing/subscription/change": ["post"],
        "/api/v1/billing/subscription/cancel": ["post"], "/api/v1/billing/invoices": ["get"],
        "/api/v1/billing/webhooks/{provider}": ["post"]}

