"""The Stripe adapter with the official ``stripe`` client against localstripe, a stateful
Stripe-protocol server started on a free port: charges, declines, refunds, signed webhooks,
and the activation saga (with its refund compensation) running on it."""
from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest

from careeros_services.billing import domain, payments
from careeros_services.billing.payments import StripeProvider
from careeros_services.billing.service import BillingService
from careeros_services.common.caller import Caller
from careeros_services.common.infra import free_port, wait_port
from tests.billing.support import Bus
from tests.polling import eventually

WEBHOOK_SECRET = "whsec_localstripe_test"


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("localstripe") / "localstripe.log", "wb")
    binary = Path(sys.executable).parent / "localstripe"
    process = subprocess.Popen([str(binary), "--port", str(port), "--from-scratch"], stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_port(port, timeout_s=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


class _Catcher(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook_sink(localstripe):
    """An HTTP endpoint localstripe posts its signed webhooks to."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    request = urllib.request.Request(
        f"{localstripe}/_config/webhooks/careeros", method="POST",
        data=json.dumps({"url": f"http://127.0.0.1:{server.server_port}/hook", "secret": WEBHOOK_SECRET}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()
    yield _Catcher.received
    server.shutdown()


@pytest.fixture
def provider(localstripe) -> StripeProvider:
    return StripeProvider("sk_test_careeros", WEBHOOK_SECRET, api_base=localstripe)


def test_charge_succeeds_and_is_refunded(provider):
    result = provider.charge(amount_minor=1900, currency="EUR", payment_method="pm_card_visa",
                             idempotency_key=f"k-{uuid.uuid4()}", attempt=1, metadata={"invoice_id": "inv-1"})
    assert result.succeeded and result.provider_payment_id.startswith("pi_")
    intent = provider.client.v1.payment_intents.retrieve(result.provider_payment_id)
    assert (intent.amount, intent.currency, intent.status) == (1900, "eur", "succeeded")
    assert intent.metadata["invoice_id"] == "inv-1"
    refund_id = provider.refund(provider_payment_id=result.provider_payment_id, amount_minor=1900,
                                idempotency_key="r-1")
    assert refund_id.startswith("re_")


def test_a_declined_card_is_reported_not_raised(provider):
    result = provider.charge(amount_minor=500, currency="EUR", payment_method="pm_card_chargeCustomerFail",
                             idempotency_key=f"k-{uuid.uuid4()}", attempt=1, metadata={})
    assert result.status == "declined" and result.failure_code
    assert not result.succeeded


def test_localstripe_webhooks_verify_with_our_stripe_signature_check(provider, webhook_sink):
    webhook_sink.clear()
    result = provider.charge(amount_minor=700, currency="EUR", payment_method="pm_card_visa",
                             idempotency_key=f"k-{uuid.uuid4()}", attempt=1, metadata={})
    pid = result.provider_payment_id

    def ours(b):
        event = json.loads(b)
        return event["type"] == "payment_intent.succeeded" and event["data"]["object"]["id"] == pid
    eventually(lambda: any(ours(b) for b, _ in webhook_sink), timeout_s=10.0)
    body, header = next((b, h) for b, h in webhook_sink if ours(b))
    event = provider.verify_webhook(body, header)
    assert event["data"]["object"]["amount"] == 700
    with pytest.raises(payments.InvalidSignature):
        provider.verify_webhook(body.replace(b"700", b"1"), header)
    with pytest.raises(payments.InvalidSignature):
        StripeProvider("sk", "whsec_other").verify_webhook(body, header)


@pytest.fixture
def stripe_service(billing_store, provider, clock, quiet_db):
    return BillingService(billing_store, plans=domain.load_plans(), providers={"stripe": provider},
                          default_provider="stripe", clock=clock)


def test_attach_saves_the_card_on_a_customer_and_a_declined_card_is_refused(provider):
    customer, method = provider.attach("pm_card_visa", "tenant-1")
    assert customer.startswith("cus_") and method.startswith("pm_")
    assert provider.client.v1.payment_methods.retrieve(method).customer == customer
    again, other = provider.attach("pm_card_visa", "tenant-1", customer)
    assert again == customer and other != method
    declined = provider.client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000002", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    with pytest.raises(payments.PaymentDeclined) as caught:
        provider.attach(declined.id, "tenant-1", customer)
    assert caught.value.code == "payment_declined"
    with pytest.raises(payments.ValidationFailed):
        provider.attach("4242424242424242", "tenant-1")   # raw card numbers never reach us for Stripe


def test_activation_on_stripe_and_the_webhook_is_a_duplicate_trigger(stripe_service, billing_store,
                                                                       webhook_sink, clock, provider):
    webhook_sink.clear()
    tenant_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    with billing_store.transaction(None) as tx:
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    state = stripe_service.start_subscription(Caller(tenant_id, user_id, "owner"), "team", "month", 2, "pm_card_visa")
    assert state["latest_invoice"]["status"] == "paid"
    Bus(stripe_service, billing_store).run()
    assert stripe_service.get_subscription(Caller(tenant_id, user_id))["subscription"]["status"] == "active"
    with billing_store.transaction(tenant_id) as tx:
        [(pid, amount)] = tx.db.execute_sql("SELECT provider_payment_id, amount_minor FROM payments").fetchall()
    assert pid.startswith("pi_") and amount == 3000

    eventually(lambda: any(json.loads(b)["data"]["object"].get("id") == pid for b, _ in webhook_sink), timeout_s=10.0)
    body, header = next((b, h) for b, h in webhook_sink if json.loads(b)["data"]["object"].get("id") == pid)
    assert stripe_service.handle_webhook("stripe", body, header) == {"received": True, "applied": False}
    assert stripe_service.handle_webhook("stripe", body, header)["duplicate"] is True

    # Renewal: charged off-session on the tenant's Stripe customer.
    clock.now = clock.now.fromisoformat(state["subscription"]["current_period_end"])
    assert stripe_service.tick(clock.now)["renewed"] == 1
    with billing_store.transaction(tenant_id) as tx:
        renewals = tx.db.execute_sql("SELECT provider_payment_id, status FROM payments ORDER BY created_at").fetchall()
        [(customer,)] = tx.db.execute_sql("SELECT provider_customer FROM subscriptions").fetchall()
    assert [r[1] for r in renewals] == ["succeeded", "succeeded"]
    intent = provider.client.v1.payment_intents.retrieve(renewals[1][0])
    assert customer.startswith("cus_") and intent.customer == customer and intent.amount == 3000


def test_a_declined_card_at_subscribe_is_a_402_with_stripes_reason_and_leaves_nothing(stripe_service, billing_store,
                                                                                      provider):
    for card in ("pm_card_chargeCustomerFail", "4000000000000002"):
        tenant_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
        method = card if card.startswith("pm_") else provider.client.v1.payment_methods.create(params={
            "type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}).id
        with pytest.raises(payments.PaymentDeclined) as caught:
            stripe_service.start_subscription(Caller(tenant_id, user_id, "owner"), "pro", "month", 1, method)
        [reason] = caught.value.fields["payment_method"]
        assert caught.value.status == 402 and reason and reason in caught.value.detail
        with billing_store.transaction(tenant_id) as tx:
            live = tx.db.execute_sql("SELECT count(*) FROM subscriptions WHERE status <> 'canceled'").fetchone()
        assert live == (0,)


def test_compensation_refunds_through_stripe(billing_store, provider, clock, quiet_db):
    service = BillingService(billing_store, plans=domain.load_plans(), providers={"stripe": provider},
                             default_provider="stripe", clock=clock, failpoints={"grant_entitlements": "fail"})
    tenant_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    with billing_store.transaction(None) as tx:
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    service.start_subscription(Caller(tenant_id, user_id, "owner"), "pro", "year", 1, "pm_card_visa")
    Bus(service, billing_store).run()
    with billing_store.transaction(tenant_id) as tx:
        [(pid, status, refund_id)] = tx.db.execute_sql(
            "SELECT provider_payment_id, status, refund_id FROM payments").fetchall()
    assert status == "refunded" and refund_id.startswith("re_")
    refunds = provider.client.v1.refunds.list(params={"payment_intent": pid})
    assert [(r.id, r.amount) for r in refunds.data] == [(refund_id, 19_000)]
