"""The billing service layer on a real, freshly migrated PostgreSQL: subscriptions, the saga,
renewals and dunning with a moved clock, webhooks, invoice immutability, tenant isolation."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import peewee
import psycopg2
import pytest

from careeros_services.billing import domain, payments
from careeros_services.billing import service as billing
from careeros_services.billing.persistence import BillingRepository
from careeros_services.common.caller import Caller
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.billing.conftest import SANDBOX_SECRET
from tests.billing.support import envelope, outbox

PLANS = domain.load_plans()


def rows(store, tenant_id, sql, *args):
    with store.transaction(tenant_id) as tx:
        return tx.db.execute_sql(sql, args).fetchall()


def saga_of(store, tenant_id):
    [(status, step, done, compensated, error)] = rows(
        store, tenant_id, "SELECT status, step, done, compensated, error FROM sagas ORDER BY created_at DESC LIMIT 1")
    return {"status": status, "step": step, "done": done, "compensated": compensated, "error": error}


def entitlement(store, tenant_id):
    found = rows(store, tenant_id, "SELECT plan, seats, features, confirmed_plan FROM entitlements")
    return found[0] if found else None


def payments_of(store, tenant_id):
    return rows(store, tenant_id, "SELECT status, amount_minor, refund_id FROM payments ORDER BY created_at, attempt")


def invoices_of(store, tenant_id):
    return rows(store, tenant_id, "SELECT reason, status, total_minor FROM invoices ORDER BY created_at, period_start")


def start(service, tenant, plan="pro", seats=1, pm="pm_card_visa", **kw):
    tenant_id, user_id = tenant
    return service.start_subscription(Caller(tenant_id, user_id, "owner"), plan, kw.pop("interval", "month"), seats, pm,
                                      **kw)


# --- the activation saga ------------------------------------------------------------------------

def metric(name: str, **labels) -> float:
    from prometheus_client import REGISTRY
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_happy_path_payment_to_active_with_entitlements_and_plan_tier(service, bus, billing_store, tenant):
    tenant_id, user_id = tenant
    completed = metric("careeros_billing_sagas_total", kind="activation", outcome="completed")
    charged = metric("careeros_billing_charges_total", provider="sandbox", status="succeeded")
    state = start(service, tenant)
    assert state["subscription"]["status"] == "incomplete"        # the saga has not run yet
    assert state["latest_invoice"]["status"] == "paid" and state["latest_invoice"]["total_minor"] == 1900

    bus.run()

    sub = service.get_subscription(Caller(tenant_id, user_id))
    assert sub["subscription"]["status"] == "active" and sub["plan"] == "pro"
    assert sub["entitlements"] == ["premium_courses", "ai_quota:300", "ai_tokens:2000000"]
    saga = saga_of(billing_store, tenant_id)
    assert saga["status"] == "completed"
    assert saga["done"] == ["payment_confirmed", "activate_subscription", "grant_entitlements", "await_plan_tier",
                            "notify"]
    [granted] = outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id)
    assert granted["payload"]["reason"] == "activated" and granted["payload"]["plan"] == "pro"
    assert granted["payload"]["saga_id"] and granted["payload"]["seats"] == 1
    [activated] = outbox(billing_store, billing.SUBSCRIPTION_ACTIVATED, tenant_id)
    assert activated["payload"]["status"] == "active" and activated["payload"]["user_id"] == user_id
    [issued] = outbox(billing_store, billing.INVOICE_ISSUED, tenant_id)
    assert issued["payload"]["total_minor"] == 1900 and issued["payload"]["lines"][0]["kind"] == "subscription"
    assert bus.auth_plan[tenant_id] == "pro"
    assert entitlement(billing_store, tenant_id)[3] == "pro"        # auth's confirmation is recorded
    assert payments_of(billing_store, tenant_id) == [("succeeded", 1900, None)]
    assert metric("careeros_billing_sagas_total", kind="activation", outcome="completed") == completed + 1
    assert metric("careeros_billing_charges_total", provider="sandbox", status="succeeded") == charged + 1


@pytest.mark.parametrize("step", billing.STEPS)
def test_a_failure_at_any_step_compensates_in_reverse(make_service, billing_store, tenant, step):
    from tests.billing.support import Bus
    service = make_service(failpoints={step: "fail"})
    with billing_store.transaction(None) as tx:
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    bus = Bus(service, billing_store)
    tenant_id, user_id = tenant
    compensated = metric("careeros_billing_sagas_total", kind="activation", outcome="compensated")
    start(service, tenant, plan="team", seats=3)

    bus.run()

    assert metric("careeros_billing_sagas_total", kind="activation", outcome="compensated") == compensated + 1

    saga = saga_of(billing_store, tenant_id)
    assert saga["status"] == "compensated" and f"failpoint at {step}" in saga["error"]
    done_before = saga["done"]
    assert done_before[: len(done_before)] == ["payment_confirmed", *billing.STEPS][: len(done_before)]
    assert step not in done_before
    assert saga["compensated"] == list(reversed(done_before))       # undone in reverse order
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert state["subscription"]["status"] == "canceled"            # never left active
    assert state["plan"] == "free"
    assert payments_of(billing_store, tenant_id) == [("refunded", 4500, payments_of(billing_store, tenant_id)[0][2])]
    assert payments_of(billing_store, tenant_id)[0][2].startswith("sbx_re_")
    assert invoices_of(billing_store, tenant_id) == [("subscription_create", "refunded", 4500)]
    assert outbox(billing_store, billing.SUBSCRIPTION_ACTIVATED, tenant_id) == []
    granted = outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id)
    if "grant_entitlements" in done_before:  # granted, then withdrawn with the same saga id
        assert [(e["payload"]["plan"], e["payload"]["reason"]) for e in granted] == [("team", "activated"),
                                                                                     ("free", "canceled")]
        assert len({e["payload"]["saga_id"] for e in granted}) == 1
        assert bus.auth_plan[tenant_id] == "free"
    else:
        assert granted == []


def test_auth_answering_another_plan_compensates(service, bus, billing_store, tenant):
    bus.auth_answers = False
    start(service, tenant)
    bus.run()
    [held] = bus.held
    bus.answer(held, plan_tier="free")   # auth refused (e.g. the tenant was deleted)
    bus.auth_answers = True
    bus.run()
    assert saga_of(billing_store, tenant[0])["status"] == "compensated"
    assert service.get_subscription(Caller(*tenant))["subscription"]["status"] == "canceled"
    assert payments_of(billing_store, tenant[0])[0][0] == "refunded"


def test_recovery_sweep_redrives_then_compensates_a_saga_stuck_waiting_for_auth(service, bus, billing_store,
                                                                                 tenant, clock):
    bus.auth_answers = False
    start(service, tenant)
    bus.run()
    assert saga_of(billing_store, tenant[0])["step"] == "await_plan_tier"
    assert service.tick(clock.now)["sagas_redriven"] == 0           # not overdue yet

    clock.advance(seconds=31)
    assert service.tick(clock.now)["sagas_redriven"] == 1
    bus.run()
    assert len(bus.held) == 2                                        # entitlement.changed asked again
    clock.advance(seconds=31)
    assert service.tick(clock.now)["sagas_redriven"] == 1
    clock.advance(seconds=31)
    assert service.tick(clock.now)["sagas_compensated"] == 1         # gave up after max attempts
    bus.auth_answers = True
    bus.run()
    assert saga_of(billing_store, tenant[0])["status"] == "compensated"
    assert service.get_subscription(Caller(*tenant))["plan"] == "free"
    assert payments_of(billing_store, tenant[0])[0][0] == "refunded"


def test_recovery_sweep_resumes_a_step_whose_event_was_lost(service, bus, billing_store, tenant, clock):
    start(service, tenant)
    with billing_store.transaction(None) as tx:   # the saga's first step request is lost
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    assert saga_of(billing_store, tenant[0])["step"] == "activate_subscription"
    clock.advance(seconds=31)
    assert service.tick(clock.now)["sagas_redriven"] == 1
    bus.run()
    assert saga_of(billing_store, tenant[0])["status"] == "completed"
    assert service.get_subscription(Caller(*tenant))["subscription"]["status"] == "active"


def test_duplicated_triggers_change_nothing(service, bus, billing_store, tenant):
    tenant_id, _ = tenant
    start(service, tenant)
    bus.run()
    before = (outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id),
              rows(billing_store, tenant_id, "SELECT count(*) FROM sagas"))
    [(provider_payment_id,)] = rows(billing_store, tenant_id, "SELECT provider_payment_id FROM payments")
    body = json.dumps({"id": "evt_dup_" + tenant_id, "type": "payment_intent.succeeded",
                       "data": {"object": {"id": provider_payment_id, "metadata": {"tenant_id": tenant_id}}}}).encode()
    header = payments.sign(body, SANDBOX_SECRET)

    first = service.handle_webhook("sandbox", body, header)     # the payment is already confirmed
    second = service.handle_webhook("sandbox", body, header)    # the same provider event again
    [advanced] = outbox(billing_store, billing.SAGA_ADVANCED, tenant_id)[:1]
    assert service.handle_event(advanced) is False               # the same event redelivered
    replayed = dict(advanced, id=str(uuid.uuid4()))
    assert service.handle_event(replayed) is True                # a re-drive of a step already done
    bus.run()

    assert first == {"received": True, "applied": False}
    assert second["duplicate"] is True
    after = (outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id),
             rows(billing_store, tenant_id, "SELECT count(*) FROM sagas"))
    assert after == before
    assert len(outbox(billing_store, billing.SUBSCRIPTION_ACTIVATED, tenant_id)) == 1


class _LosesAnswers(payments.SandboxProvider):
    """Charges, then the answer is lost on the way back (a timeout after the provider acted)."""

    def charge(self, **kwargs):
        super().charge(**kwargs)
        raise ConnectionError("read timed out")


def test_a_lost_payment_answer_is_settled_by_the_signed_webhook(make_service, billing_store, tenant):
    from tests.billing.support import Bus
    flaky = make_service(providers={"sandbox": _LosesAnswers(SANDBOX_SECRET)})
    tenant_id, user_id = tenant
    with pytest.raises(ConnectionError):
        start(flaky, tenant)
    service = make_service()
    assert service.get_subscription(Caller(tenant_id, user_id))["subscription"]["status"] == "incomplete"
    [(invoice_id,)] = rows(billing_store, tenant_id, "SELECT id FROM invoices")
    provider_id = payments.SandboxProvider(SANDBOX_SECRET).charge(
        amount_minor=1900, currency="EUR", payment_method="pm_card_visa", idempotency_key=f"{invoice_id}:1",
        attempt=1, metadata={}).provider_payment_id
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "payment_intent.succeeded", "data": {"object": {
        "id": provider_id, "metadata": {"tenant_id": tenant_id, "invoice_id": str(invoice_id), "attempt": "1"}}}}).encode()
    with pytest.raises(payments.InvalidSignature):
        service.handle_webhook("sandbox", body, payments.sign(body, "whsec_wrong"))

    assert service.handle_webhook("sandbox", body, payments.sign(body, SANDBOX_SECRET))["applied"] is True
    with billing_store.transaction(None) as tx:
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL AND event_type NOT LIKE %s",
                          ("careeros.billing.saga.%",))
    Bus(service, billing_store).run()
    assert service.get_subscription(Caller(tenant_id, user_id))["subscription"]["status"] == "active"
    assert payments_of(billing_store, tenant_id) == [("succeeded", 1900, None)]


def test_a_lost_payment_answer_is_recovered_by_the_timer_without_paying_twice(make_service, billing_store,
                                                                              tenant, clock):
    from tests.billing.support import Bus
    with pytest.raises(ConnectionError):
        start(make_service(providers={"sandbox": _LosesAnswers(SANDBOX_SECRET)}), tenant)
    service = make_service()
    clock.advance(seconds=121)
    assert service.tick(clock.now)["retried"] == 1
    Bus(service, billing_store).run()
    assert service.get_subscription(Caller(*tenant))["subscription"]["status"] == "active"
    assert [p[0] for p in payments_of(billing_store, tenant[0])] == ["succeeded"]   # the same payment, once


# --- commands and their errors --------------------------------------------------------------------

def test_start_refuses_bad_input_non_managers_and_a_second_subscription(service, bus, tenant):
    tenant_id, user_id = tenant
    with pytest.raises(ValidationFailed) as caught:
        service.start_subscription(Caller(tenant_id, user_id, "owner"), "gold", "weekly", 0, "pm_card_visa")
    assert set(caught.value.fields) == {"plan", "interval"}
    with pytest.raises(ValidationFailed) as caught:
        service.start_subscription(Caller(tenant_id, user_id, "owner"), "pro", "month", 1, "4111111111111111")
    assert list(caught.value.fields) == ["payment_method"]
    with pytest.raises(Forbidden):
        service.start_subscription(Caller(tenant_id, user_id, "member"), "pro", "month", 1, "pm_card_visa")
    start(service, tenant)
    with pytest.raises(Conflict) as caught:
        start(service, tenant)
    assert caught.value.code == "subscription_exists"
    with pytest.raises(NotFound):
        service.cancel_subscription(Caller(str(uuid.uuid4()), user_id, "owner"))


def test_a_card_that_needs_a_retry_activates_on_the_scheduled_retry(service, bus, billing_store, tenant, clock):
    state = start(service, tenant, pm="pm_card_retry")
    assert state["subscription"]["status"] == "incomplete"
    assert state["subscription"]["next_retry_at"] == (clock.now + timedelta(days=1)).isoformat()
    bus.run()
    assert service.tick(clock.advance(hours=23))["retried"] == 0
    assert service.tick(clock.advance(hours=1))["retried"] == 1
    bus.run()
    assert service.get_subscription(Caller(*tenant))["subscription"]["status"] == "active"
    assert [p[0] for p in payments_of(billing_store, tenant[0])] == ["retryable", "succeeded"]


def test_a_declined_first_payment_is_a_402_naming_the_reason_and_leaves_no_subscription(service, bus, billing_store,
                                                                                        tenant, clock):
    with pytest.raises(billing.PaymentDeclined) as caught:
        start(service, tenant, pm="pm_card_chargeDeclined")
    assert (caught.value.code, caught.value.status) == ("payment_declined", 402)
    assert caught.value.fields == {"payment_method": ["card_declined"]} and "card_declined" in caught.value.detail
    bus.run()
    state = service.get_subscription(Caller(*tenant))
    assert state["subscription"]["status"] == "canceled" and state["plan"] == "free"
    assert rows(billing_store, tenant[0], "SELECT count(*) FROM subscriptions WHERE status <> 'canceled'") == [(0,)]
    assert invoices_of(billing_store, tenant[0]) == [("subscription_create", "void", 1900)]
    assert outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant[0]) == []
    assert service.tick(clock.advance(days=2))["retried"] == 0       # nothing left to retry
    assert start(service, tenant)["payment"]["status"] == "succeeded"  # the tenant can subscribe again at once


def test_a_card_that_needs_3ds_waits_incomplete_until_the_signed_webhook_settles_it(service, bus, billing_store,
                                                                                   tenant):
    tenant_id, user_id = tenant
    state = start(service, tenant, pm="pm_card_authenticationRequired")
    assert state["payment"] == {"status": "retryable", "failure_code": "requires_action",
                                "failure_message": "the customer must authenticate the payment (3-D Secure)"}
    assert state["subscription"]["status"] == "incomplete" and state["latest_invoice"]["status"] == "open"
    [(provider_id, invoice_id)] = rows(billing_store, tenant_id, "SELECT provider_payment_id, invoice_id FROM payments")
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "payment_intent.succeeded", "data": {"object": {
        "id": provider_id, "metadata": {"tenant_id": tenant_id, "invoice_id": str(invoice_id)}}}}).encode()
    assert service.handle_webhook("sandbox", body, payments.sign(body, SANDBOX_SECRET))["applied"] is True
    bus.run()
    assert service.get_subscription(Caller(tenant_id, user_id))["subscription"]["status"] == "active"


def test_renewal_on_schedule_with_usage_lines_above_the_allowance(service, bus, billing_store, tenant, clock):
    tenant_id, user_id = tenant
    start(service, tenant)
    bus.run()
    sub = service.get_subscription(Caller(tenant_id, user_id))["subscription"]
    for tokens in (1_500_000, 1_000_000):  # 2.5M of a 2M allowance
        usage = envelope(billing.AI_USAGE, tenant_id, str(uuid.uuid4()), {
            "usage_id": str(uuid.uuid4()), "tenant_id": tenant_id, "user_id": user_id, "provider": "local",
            "model": "m", "prompt_tokens": tokens - 1000, "completion_tokens": 1000, "cost_micro_usd": 10,
            "purpose": "consultation"}, "ai_core")
        usage["occurred_at"] = (clock.now + timedelta(days=3)).isoformat()
        assert service.handle_event(usage) is True
        assert service.handle_event(usage) is False
    assert service.tick(clock.advance(days=10))["renewed"] == 0

    clock.now = domain.add_months(clock.now, 1) - timedelta(days=10)  # exactly the period end
    assert service.tick(clock.now)["renewed"] == 1
    assert service.tick(clock.now)["renewed"] == 0                      # idempotent
    bus.run()

    renewed = service.get_subscription(Caller(tenant_id, user_id))["subscription"]
    assert renewed["status"] == "active" and renewed["current_period_start"] == sub["current_period_end"]
    [latest] = service.list_invoices(Caller(tenant_id, user_id, "owner"))[:1]
    assert latest["reason"] == "subscription_cycle" and latest["status"] == "paid"
    assert [(line["kind"], line["amount_minor"]) for line in latest["lines"]] == [("subscription", 1900),
                                                                                   ("usage", 1000)]
    assert latest["total_minor"] == 2900
    assert [p[:2] for p in payments_of(billing_store, tenant_id)] == [("succeeded", 1900), ("succeeded", 2900)]


def test_decline_on_renewal_dunning_then_canceled_with_entitlements_withdrawn(service, bus, billing_store,
                                                                             tenant, clock):
    tenant_id, user_id = tenant
    start(service, tenant)
    bus.run()
    service.change_subscription(Caller(tenant_id, user_id, "owner"), payment_method="pm_card_chargeDeclined")
    end = service.get_subscription(Caller(tenant_id, user_id))["subscription"]["current_period_end"]
    clock.now = clock.now.fromisoformat(end)

    service.tick(clock.now)
    bus.run()
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert state["subscription"]["status"] == "past_due" and state["plan"] == "pro"   # grace during dunning
    [past_due] = outbox(billing_store, billing.SUBSCRIPTION_PAST_DUE, tenant_id)
    assert past_due["payload"]["status"] == "past_due"
    first_failure = clock.now
    schedule = domain.dunning_schedule(first_failure)
    for retry_at in schedule[:-1]:
        clock.now = retry_at
        assert service.tick(clock.now)["retried"] == 1
        assert service.get_subscription(Caller(tenant_id, user_id))["subscription"]["status"] == "past_due"
    clock.now = schedule[-1]
    assert service.tick(clock.now)["retried"] == 1
    bus.run()

    state = service.get_subscription(Caller(tenant_id, user_id))
    assert state["subscription"]["status"] == "canceled" and state["plan"] == "free"
    withdrawn = outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id)[-1]["payload"]
    assert (withdrawn["plan"], withdrawn["reason"], withdrawn["saga_id"]) == ("free", "lapsed", "")
    assert bus.auth_plan[tenant_id] == "free"
    assert len(outbox(billing_store, billing.SUBSCRIPTION_CANCELED, tenant_id)) == 1
    assert invoices_of(billing_store, tenant_id)[-1] == ("subscription_cycle", "uncollectible", 1900)
    assert [p[0] for p in payments_of(billing_store, tenant_id)] == ["succeeded"] + ["declined"] * 4


def test_upgrade_mid_period_prorates_to_the_cent_and_runs_the_change_saga(service, bus, billing_store,
                                                                          tenant, clock):
    tenant_id, user_id = tenant
    start(service, tenant)
    bus.run()
    sub = service.get_subscription(Caller(tenant_id, user_id))["subscription"]
    period_start = clock.now.fromisoformat(sub["current_period_start"])
    period_end = clock.now.fromisoformat(sub["current_period_end"])
    clock.advance(days=9, hours=7)

    service.change_subscription(Caller(tenant_id, user_id, "owner"), plan="team", seats=3)
    bus.run()

    expected = domain.proration_lines(PLANS["pro"], 1, PLANS["team"], 3, "month", period_start, period_end, clock.now)
    [change] = [i for i in service.list_invoices(Caller(tenant_id, user_id, "owner"))
                if i["reason"] == "subscription_update"]
    assert [line["amount_minor"] for line in change["lines"]] == [line.amount_minor for line in expected]
    assert change["total_minor"] == sum(line.amount_minor for line in expected) > 0 and change["status"] == "paid"
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert (state["plan"], state["seats"], state["subscription"]["plan"]) == ("team", 3, "team")
    changed = outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id)[-1]["payload"]
    assert (changed["plan"], changed["seats"], changed["reason"]) == ("team", 3, "changed")
    assert bus.auth_plan[tenant_id] == "team"

    # Downgrade: the unused team time becomes a credit balance used by the renewal.
    clock.advance(days=5)
    service.change_subscription(Caller(tenant_id, user_id, "owner"), plan="pro")
    bus.run()
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert state["plan"] == "pro" and "seats:3" not in state["entitlements"]
    credit = state["subscription"]["credit_minor"]
    assert credit > 0
    clock.now = period_end
    service.tick(clock.now)
    renewal = service.list_invoices(Caller(tenant_id, user_id, "owner"))[0]
    assert renewal["lines"][-1] == {"description": "Credit balance applied", "amount_minor": -min(credit, 1900),
                                    "kind": "credit"}
    assert renewal["total_minor"] == 1900 - min(credit, 1900)


def test_switching_to_annual_restarts_the_cycle_and_a_failed_saga_restores_the_monthly_one(
        make_service, billing_store, tenant, clock):
    from tests.billing.support import Bus
    tenant_id, user_id = tenant
    service = make_service()
    with billing_store.transaction(None) as tx:
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    start(service, tenant)
    Bus(service, billing_store).run()
    monthly = service.get_subscription(Caller(tenant_id, user_id))["subscription"]
    clock.advance(days=12)

    failing = make_service(failpoints={"notify": "fail"})     # the change saga fails at its last step
    failing.change_subscription(Caller(tenant_id, user_id, "owner"), interval="year")
    Bus(failing, billing_store).run()
    restored = service.get_subscription(Caller(tenant_id, user_id))["subscription"]
    assert {k: restored[k] for k in ("interval", "current_period_start", "current_period_end", "status")} == {
        k: monthly[k] for k in ("interval", "current_period_start", "current_period_end", "status")}
    assert payments_of(billing_store, tenant_id)[-1][0] == "refunded"

    clock.advance(minutes=1)
    service.change_subscription(Caller(tenant_id, user_id, "owner"), interval="year")
    Bus(service, billing_store).run()
    annual = service.get_subscription(Caller(tenant_id, user_id))["subscription"]
    assert annual["interval"] == "year" and annual["current_period_start"] == clock.now.isoformat()
    assert annual["current_period_end"] == domain.add_months(clock.now, 12).isoformat()
    change = service.list_invoices(Caller(tenant_id, user_id, "owner"))[0]
    assert [line["kind"] for line in change["lines"]] == ["proration", "subscription"]
    assert change["lines"][1]["amount_minor"] == 19_000 and change["status"] == "paid"
    assert change["total_minor"] == 19_000 + change["lines"][0]["amount_minor"]


def test_declined_upgrade_changes_nothing(service, bus, billing_store, tenant, clock):
    tenant_id, user_id = tenant
    start(service, tenant)
    bus.run()
    service.change_subscription(Caller(tenant_id, user_id, "owner"), payment_method="4000000000000002")
    clock.advance(days=3)
    with pytest.raises(billing.PaymentDeclined) as caught:
        service.change_subscription(Caller(tenant_id, user_id, "owner"), plan="team", seats=2)
    assert caught.value.code == "payment_declined"
    bus.run()
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert (state["plan"], state["subscription"]["plan"]) == ("pro", "pro")
    assert invoices_of(billing_store, tenant_id)[-1][:2] == ("subscription_update", "void")


def test_cancel_at_period_end_then_now(service, bus, billing_store, tenant, clock):
    tenant_id, user_id = tenant
    start(service, tenant)
    bus.run()
    state = service.cancel_subscription(Caller(tenant_id, user_id, "owner"), at_period_end=True)
    assert state["subscription"]["cancel_at_period_end"] is True
    assert service.get_subscription(Caller(tenant_id, user_id))["plan"] == "pro"
    clock.now = clock.now.fromisoformat(state["subscription"]["current_period_end"])
    assert service.tick(clock.now)["canceled"] == 1
    bus.run()
    assert service.get_subscription(Caller(tenant_id, user_id))["plan"] == "free"
    withdrawn = outbox(billing_store, billing.ENTITLEMENT_CHANGED, tenant_id)[-1]["payload"]
    assert (withdrawn["plan"], withdrawn["reason"]) == ("free", "canceled")
    assert len(invoices_of(billing_store, tenant_id)) == 1                  # no renewal invoice

    other = (str(uuid.uuid4()), str(uuid.uuid4()))
    start(service, other)
    bus.run()
    assert service.cancel_subscription(Caller(*other, "admin"), at_period_end=False)["subscription"]["status"] == "canceled"
    assert service.get_subscription(Caller(*other))["plan"] == "free"


def test_trial_grants_access_without_payment_and_charges_at_its_end(service, bus, billing_store, tenant, clock):
    tenant_id, user_id = tenant
    start(service, tenant, trial_days=14)
    bus.run()
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert state["subscription"]["status"] == "trialing" and state["plan"] == "pro"
    assert payments_of(billing_store, tenant_id) == []
    clock.advance(days=14)
    assert service.tick(clock.now)["renewed"] == 1
    state = service.get_subscription(Caller(tenant_id, user_id))
    assert state["subscription"]["status"] == "active"
    assert payments_of(billing_store, tenant_id) == [("succeeded", 1900, None)]


# --- invoices are immutable in the database; tenants are isolated --------------------------------

def test_issued_invoices_are_immutable_in_the_database(service, bus, billing_store, tenant):
    tenant_id, _ = tenant
    start(service, tenant)
    [(invoice_id,)] = rows(billing_store, tenant_id, "SELECT id FROM invoices")
    for sql in ("UPDATE invoices SET total_minor = 1 WHERE id = %s",
                "UPDATE invoices SET status = 'open' WHERE id = %s",
                "DELETE FROM invoices WHERE id = %s",
                "UPDATE invoice_lines SET amount_minor = 1 WHERE invoice_id = %s",
                "DELETE FROM invoice_lines WHERE invoice_id = %s",
                "INSERT INTO invoice_lines (tenant_id, invoice_id, position, description, amount_minor, kind)"
                " SELECT tenant_id, id, 9, 'sneaky', 100, 'usage' FROM invoices WHERE id = %s"):
        with pytest.raises((psycopg2.Error, peewee.DatabaseError), match="immutable|cannot"):
            with billing_store.transaction(tenant_id) as tx:
                tx.db.execute_sql(sql, (invoice_id,))
    assert invoices_of(billing_store, tenant_id) == [("subscription_create", "paid", 1900)]


def test_another_tenant_sees_nothing(service, bus, billing_store, tenant):
    start(service, tenant)
    bus.run()
    stranger = str(uuid.uuid4())
    assert service.get_subscription(Caller(stranger, tenant[1]))["subscription"] is None
    assert service.list_invoices(Caller(stranger, tenant[1], "owner")) == []
    for table in ("subscriptions", "invoices", "payments", "sagas", "entitlements"):
        assert rows(billing_store, stranger, f"SELECT count(*) FROM {table}") == [(0,)]
        assert rows(billing_store, None, f"SELECT count(*) FROM {table}") == [(0,)]
    with billing_store.transaction(None) as tx:
        repo = BillingRepository(tx.db)
        assert repo.payment_tenant("sandbox", "nope") is None
