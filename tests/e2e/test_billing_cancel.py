"""Billing through the whole platform, started the way `make run` starts it (every registered
service, real auth): register, subscribe, and the refreshed token carries the new plan_tier once
the activation saga has run; the invoice list, a signed webhook through the gateway, cancellation."""
from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import requests

from careeros_services.billing import payments


@pytest.fixture(scope="module")
def gateway(platform):
    """The session's platform (tests/e2e/conftest.py): its /api/v1 and configuration."""
    return platform.base_url, platform.config


def plan_tier(token: str) -> str:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["plan_tier"]


def test_subscription_reaches_the_token_and_cancellation_takes_it_back(gateway):
    base, config = gateway
    http = requests.Session()
    email = f"payer-{uuid.uuid4().hex[:8]}@example.com"
    assert http.post(f"{base}/auth/register", json={"email": email, "password": "correct horse battery",
                                                    "display_name": "Payer"}, timeout=10).status_code == 201
    pair = http.post(f"{base}/auth/login", json={"email": email, "password": "correct horse battery"},
                     timeout=10).json()
    assert plan_tier(pair["access_token"]) == "free"
    auth = {"Authorization": f"Bearer {pair['access_token']}"}

    created = http.post(f"{base}/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex}, timeout=10)
    assert created.status_code == 201, created.text
    assert created.json()["latest_invoice"]["status"] == "paid"

    def refreshed_tier() -> str:
        fresh = http.post(f"{base}/auth/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=10)
        assert fresh.status_code == 200, fresh.text
        pair.update(fresh.json())
        return plan_tier(pair["access_token"])

    deadline = time.monotonic() + 60
    while refreshed_tier() != "pro":
        assert time.monotonic() < deadline, "plan_tier never became pro"
        time.sleep(0.2)
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    view = http.get(f"{base}/billing/subscription", headers=auth, timeout=10).json()
    assert view["subscription"]["status"] == "active" and "premium_courses" in view["entitlements"]
    [invoice] = http.get(f"{base}/billing/invoices", headers=auth, timeout=10).json()["invoices"]
    assert (invoice["total_minor"], invoice["status"]) == (1900, "paid")

    # A provider event for that payment, signed with the sandbox secret: accepted, changes nothing.
    raw = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "payment_intent.succeeded",
                      "data": {"object": {"id": "sbx_pi_unknown", "metadata": {}}}}).encode()
    secret = config["billing"]["providers"]["sandbox"]["webhook_secret"]
    hook = http.post(f"{base}/billing/webhooks/sandbox", data=raw, timeout=10,
                     headers={"Content-Type": "application/json", "Stripe-Signature": payments.sign(raw, secret)})
    assert hook.status_code == 200 and hook.json()["applied"] is False
    forged = http.post(f"{base}/billing/webhooks/sandbox", data=raw, timeout=10,
                       headers={"Content-Type": "application/json", "Stripe-Signature": payments.sign(raw, "x")})
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"

    deadline = time.monotonic() + 30
    while True:  # the saga's last step (notify) may still be running: 409 with Retry-After
        canceled = http.post(f"{base}/billing/subscription/cancel", json={"at_period_end": False}, headers=auth,
                             timeout=10)
        if canceled.status_code != 409:
            break
        assert canceled.json()["code"] == "change_in_progress" and canceled.headers["Retry-After"] == "1"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert canceled.status_code == 200 and canceled.json()["subscription"]["status"] == "canceled"
    deadline = time.monotonic() + 60
    while refreshed_tier() != "free":
        assert time.monotonic() < deadline, "plan_tier never went back to free"
        time.sleep(0.2)
