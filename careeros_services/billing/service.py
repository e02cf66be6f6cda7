"""The billing service layer: what the nameko and gRPC entrypoints both call.

Subscriptions, invoices and payments, and the orchestrated saga that turns a
confirmed payment into access:

    payment confirmed -> activate_subscription -> grant_entitlements (entitlement.changed)
      -> await_plan_tier (auth answers tenant.plan_changed with the saga_id) -> notify (subscription.activated)

Every step runs in its own transaction that also records the saga's new step
and publishes the event that drives the next one (``saga.advanced``, through
the outbox), so a crash anywhere resumes from the last commit and a
redelivered event finds the saga already past its step and changes nothing.
A step that fails starts the compensation (``saga.compensation_requested``),
which undoes the completed steps in reverse order in one transaction:
withdraw the entitlements, deactivate the subscription, refund the payment.
``tick(now)`` (a nameko timer) renews subscriptions, retries failed payments
on the dunning schedule and re-drives or compensates sagas stuck in a step.

Provider calls (charge, refund) happen outside database transactions where
possible and always with an idempotency key derived from our own ids, so a
repeated call cannot pay twice.
"""
from __future__ import annotations

import logging
import os
import signal
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, Optional

from prometheus_client import Counter

from bus.handlers import EventHandlingService, handles
from bus import privacy
from bus.store import ServiceStore, Transaction
from careeros_services.billing import domain, persistence
from careeros_services.billing.domain import Plan, Subscription
from careeros_services.billing.payments import (REQUIRES_ACTION, ChargeResult, PaymentDeclined, PaymentProvider,
                                                make_provider)
from careeros_services.billing.persistence import BillingRepository, InvoiceRecord, PaymentRecord, SagaRecord
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, require_uuids
from careeros_services.common.privacy import PersonalDataOwner
from bus.contracts import (  # event types, from contracts/events
    BILLING_ENTITLEMENT_CHANGED_V1 as ENTITLEMENT_CHANGED,
    BILLING_SUBSCRIPTION_ACTIVATED_V1 as SUBSCRIPTION_ACTIVATED,
    BILLING_SUBSCRIPTION_CANCELED_V1 as SUBSCRIPTION_CANCELED,
    BILLING_SUBSCRIPTION_PAST_DUE_V1 as SUBSCRIPTION_PAST_DUE,
    BILLING_INVOICE_ISSUED_V1 as INVOICE_ISSUED,
    BILLING_PAYMENT_SUCCEEDED_V1 as PAYMENT_SUCCEEDED,  # notifications mails the receipt
    BILLING_PAYMENT_FAILED_V1 as PAYMENT_FAILED,  # notifications mails each dunning step
    BILLING_SAGA_ADVANCED_V1 as SAGA_ADVANCED,
    BILLING_SAGA_COMPENSATION_REQUESTED_V1 as SAGA_COMPENSATE,
    AUTH_TENANT_PLAN_CHANGED_V1 as PLAN_CHANGED,
    AI_CORE_USAGE_RECORDED_V1 as AI_USAGE,
)

log = logging.getLogger(__name__)

SERVICE = "billing"

STEPS = ("activate_subscription", "grant_entitlements", "await_plan_tier", "notify")
NEXT_STEP = {"activate_subscription": "grant_entitlements", "grant_entitlements": "await_plan_tier",
             "await_plan_tier": "notify", "notify": None}
NAMESPACE = uuid.UUID("9b0f3f4e-7a43-4c38-9a51-6d2f1c1e0b11")

# Counted after the transaction that decided them committed or not: a rolled-back
# attempt may count twice, which is fine for rates and alerts (compensations > 0).
SAGAS = Counter("careeros_billing_sagas_total", "Billing sagas that ended, by kind and outcome.",
                ["kind", "outcome"])
CHARGES = Counter("careeros_billing_charges_total", "Provider charges, by provider and status.",
                  ["provider", "status"])


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: Optional[datetime]) -> str:
    return moment.astimezone(timezone.utc).isoformat() if moment else ""


def _outcome(payment: Optional[PaymentRecord]) -> Optional[dict]:
    """What the provider answered to the charge a command just made (None: nothing was charged)."""
    if payment is None:
        return None
    return {"status": payment.status, "failure_code": payment.failure_code or "",
            "failure_message": "the customer must authenticate the payment (3-D Secure)"
            if payment.failure_code == REQUIRES_ACTION else ""}


class SagaStepFailed(Exception):
    """A saga step cannot complete: compensate the steps before it."""


def _require_manager(org_role: str) -> None:
    if org_role not in domain.ROLES_THAT_MANAGE_BILLING:
        raise Forbidden("Only the tenant's owner or an admin manages its billing.", code="billing_forbidden",
                        fields={"org_role": [f"must be owner or admin, is {org_role or 'none'}"]})


class BillingService(PersonalDataOwner, EventHandlingService):
    """Plans, subscriptions, invoices, payments; the activation saga; renewals and dunning."""

    consumer_name = SERVICE
    personal_rows = persistence.PERSONAL_ROWS
    exported_rows = persistence.EXPORTED_ROWS

    def erase_extra(self, tx: Transaction, user_id: str, tenant_id: str, request: dict) -> int:
        """Subscriptions (and so their invoices and payments, kept for tax law) stop naming the person;
        an erased account's own subscription does not renew."""
        params = {"user": user_id, "tenant": tenant_id, "erased": privacy.ERASED_ID,
                  "stop": privacy.is_personal_tenant(request, tenant_id)}
        return privacy.execute(tx, "UPDATE subscriptions SET user_id = %(erased)s, provider_customer = '',"
                                   " cancel_at_period_end = cancel_at_period_end OR %(stop)s"
                                   " WHERE tenant_id = %(tenant)s AND user_id = %(user)s", params)

    def __init__(self, store: ServiceStore, *, plans: Optional[Mapping[str, Plan]] = None,
                 providers: Optional[Mapping[str, PaymentProvider]] = None, default_provider: str = "sandbox",
                 dunning_days: tuple[int, ...] = domain.DEFAULT_DUNNING_DAYS, step_timeout_s: float = 60.0,
                 saga_max_attempts: int = 3, payment_grace_s: float = 120.0,
                 failpoints: Optional[Mapping[str, str]] = None, clock: Callable[[], datetime] = _now):
        self.store = store
        self.plans = dict(plans or domain.load_plans())
        self.providers = dict(providers or {"sandbox": make_provider("sandbox", {})})
        self.default_provider = default_provider
        self.dunning_days = tuple(dunning_days)
        self.step_timeout = timedelta(seconds=step_timeout_s)
        self.saga_max_attempts = saga_max_attempts
        self.payment_grace = timedelta(seconds=payment_grace_s)
        # Failpoints ("<step>": "fail" | "crash") let tests and drills break a saga step on purpose.
        self.failpoints = dict(failpoints or {})
        self.clock = clock

    # ========================================================================= queries ==========

    def list_plans(self) -> list[dict]:
        """The plan catalogue (prices in minor units)."""
        return [plan.to_dict() for plan in self.plans.values()]

    def get_subscription(self, tenant_id: str, user_id: str) -> dict:
        """The tenant's live subscription (or its last one) and what it is entitled to now."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            sub = repo.live_subscription(tenant_id) or repo.latest_subscription(tenant_id)
            ent = repo.entitlement(tenant_id)
        free = self.plans["free"]
        return {
            "subscription": sub.to_dict() if sub else None,
            "plan": ent.plan if ent else "free",
            "seats": ent.seats if ent else 0,
            "entitlements": list(ent.features) if ent else free.entitlements(0),
        }

    def list_invoices(self, tenant_id: str, user_id: str, org_role: str, limit: int = 50) -> list[dict]:
        """The tenant's invoices, newest first (owner/admin only)."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        _require_manager(org_role)
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            rows = repo.invoices(tenant_id, max(1, min(int(limit), 100)))
            lines = repo.invoice_lines(tenant_id, [str(r.id) for r in rows])
        return [self._invoice_dict(row, lines[str(row.id)]) for row in rows]

    @staticmethod
    def _invoice_dict(row: InvoiceRecord, lines: list[dict]) -> dict:
        return {"id": str(row.id), "subscription_id": str(row.subscription_id), "status": row.status,
                "reason": row.reason, "currency": row.currency, "total_minor": row.total_minor,
                "period_start": _iso(row.period_start), "period_end": _iso(row.period_end),
                "issued_at": _iso(row.issued_at), "paid_at": _iso(row.paid_at), "lines": lines}

    # ========================================================================= commands =========

    def start_subscription(self, tenant_id: str, user_id: str, org_role: str, plan: str, interval: str,
                           seats: int, payment_method: str, trial_days: int = 0) -> dict:
        """Subscribe the tenant to a paid plan.

        Without a trial the first period is invoiced and charged at once; a
        successful payment starts the activation saga (the response shows the
        subscription ``incomplete`` until the saga has made it ``active``). A
        declined payment raises ``PaymentDeclined`` (402, the provider's reason
        in ``fields.payment_method``) after voiding the invoice and canceling
        the subscription, so nothing half-made is left. A payment that waits
        for the customer (3-D Secure) or failed retryably stays ``incomplete``
        (``payment`` in the answer says which); the signed webhook or the
        timer's retries settle it. With ``trial_days`` the saga starts without
        a payment and the first charge happens when the trial ends.
        """
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        _require_manager(org_role)
        chosen, interval, seats = domain.check_choice(self.plans, plan, interval, seats)
        provider = self.providers[self.default_provider]
        if not isinstance(payment_method, str) or not payment_method:
            raise ValidationFailed("A payment method is required.", fields={"payment_method": ["is required"]})
        customer, saved_method = provider.attach(payment_method, tenant_id)
        now = self.clock()
        sub = domain.new_subscription(str(uuid.uuid4()), tenant_id, user_id, chosen, interval, seats,
                                      saved_method, provider.name, now, trial_days)
        sub = replace(sub, provider_customer=customer)
        invoice_id = None
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            if sub.trial_end is None:
                # Retry the first charge from the timer if we crash before recording it.
                sub = replace(sub, next_retry_at=now + self.payment_grace)
            if not repo.insert_subscription(sub):
                raise Conflict("The tenant already has a subscription; change or cancel it instead.",
                               code="subscription_exists", fields={"plan": ["a subscription exists"]})
            if sub.trial_end is not None:
                before = self._before(repo, tenant_id, sub)
                self._start_saga(tx, repo, sub, "activation", f"trial:{sub.id}", None, before,
                                 {"plan": sub.plan, "seats": sub.seats, "interval": sub.interval, "status": "trialing"},
                                 "trial_started")
            else:
                invoice_id = str(uuid.uuid5(NAMESPACE, f"{sub.id}:initial"))
                line = domain.subscription_line(chosen, interval, seats, sub.current_period_start,
                                                sub.current_period_end)
                invoice = repo.issue_invoice(invoice_id, sub, "subscription_create", [line], sub.current_period_start,
                                             sub.current_period_end, now,
                                             {"plan": sub.plan, "seats": sub.seats, "interval": sub.interval})
                self._publish_invoice(tx, invoice, [line])
        payment = self._collect(tenant_id, sub.id, invoice_id, attempt=1) if invoice_id is not None else None
        if payment is not None and payment.status == "declined":
            self._undo_declined_start(tenant_id, sub.id, payment)
        return {**self._state(tenant_id, sub.id), "payment": _outcome(payment)}

    def _undo_declined_start(self, tenant_id: str, sub_id: str, payment: PaymentRecord) -> None:
        """A declined first payment: void the invoice, cancel the never-active subscription, raise the 402."""
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            if sub is not None and sub.status == "incomplete":
                self._cancel(tx, repo, sub, self.clock(), reason="declined")
        raise PaymentDeclined(f"The card was declined ({payment.failure_code or 'card_declined'}); "
                              "no subscription was made.", code="payment_declined",
                              fields={"payment_method": [payment.failure_code or "card_declined"]})

    def change_subscription(self, tenant_id: str, user_id: str, org_role: str, plan: Optional[str] = None,
                            seats: Optional[int] = None, payment_method: Optional[str] = None,
                            interval: Optional[str] = None) -> dict:
        """Upgrade or downgrade now, with proration; switch month/year; or just replace the payment method.

        The unused rest of the period on the old plan is credited and the rest on
        the new plan charged, to the cent; a new interval restarts the billing
        cycle now (the full new period is charged). A positive difference is charged at
        once (declined: nothing changes, ``payment_declined``); a negative one
        becomes a credit balance used by the next invoices. The change itself
        runs as a saga like an activation (entitlements, auth's plan_tier).
        """
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        _require_manager(org_role)
        provider = self.providers[self.default_provider]
        if payment_method is not None:
            if not isinstance(payment_method, str) or not payment_method:
                raise ValidationFailed("Bad payment method.", fields={"payment_method": ["must not be empty"]})
            with self.store.transaction(tenant_id) as tx:
                current = BillingRepository(tx.db).live_subscription(tenant_id)
            # Saved with the provider first (outside the transaction: it is a remote call).
            _, payment_method = provider.attach(payment_method, tenant_id, current.provider_customer if current else "")
        now = self.clock()
        invoice_id = None
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            sub = repo.live_subscription(tenant_id, lock=True)
            if sub is None:
                raise NotFound("The tenant has no subscription.", code="subscription_not_found")
            wanted = plan if plan is not None else sub.plan
            if seats is None:  # keep the seats on the same plan; the new plan's minimum otherwise
                seats = sub.seats if wanted == sub.plan else getattr(self.plans.get(wanted), "min_seats", 1)
            new_plan, new_interval, new_seats = domain.check_choice(
                self.plans, wanted, interval if interval is not None else sub.interval, seats)
            if payment_method is not None and payment_method != sub.payment_method:
                sub = repo.save_subscription(replace(sub, payment_method=payment_method), now)
            if (new_plan.code, new_seats, new_interval) == (sub.plan, sub.seats, sub.interval):
                return self._state_in(repo, sub.id, tenant_id)
            if sub.status not in ("active", "trialing"):
                raise Conflict(f"A {sub.status} subscription cannot change plan.", code="invalid_subscription_state",
                               fields={"status": [f"is {sub.status}"]})
            if repo.open_saga_for(tenant_id, sub.id) is not None:
                raise Conflict("A change of this subscription is still in progress; retry in a moment.",
                               code="change_in_progress", retry_after=1)
            old_plan = self.plans[sub.plan]
            target = {"plan": new_plan.code, "seats": new_seats, "interval": new_interval}
            period = (now, sub.current_period_end)
            if sub.status == "trialing":
                lines: list[domain.Line] = []   # nothing was paid yet; the trial end bills the new choice
            elif new_interval != sub.interval:
                lines, *period = domain.interval_change_lines(
                    old_plan, sub.seats, sub.interval, new_plan, new_seats, new_interval,
                    sub.current_period_start, sub.current_period_end, now)
                target.update(period_start=period[0].isoformat(), period_end=period[1].isoformat(),
                              anchor_day=period[0].day)
            else:
                lines = domain.proration_lines(old_plan, sub.seats, new_plan, new_seats, sub.interval,
                                               sub.current_period_start, sub.current_period_end, now)
            total = domain.invoice_total(lines)
            target["credit_minor"] = max(0, -total)
            invoice_id = str(uuid.uuid4())
            invoice = repo.issue_invoice(invoice_id, sub, "subscription_update", lines, period[0], period[1],
                                         now, target)
            self._publish_invoice(tx, invoice, lines)
            if total <= 0:
                # Nothing to collect: the invoice is settled and the change saga starts now.
                repo.set_invoice_status(tenant_id, invoice_id, "paid", now)
                self._start_saga(tx, repo, sub, "change", f"invoice:{invoice_id}", None,
                                 self._before(repo, tenant_id, sub), target, "payment_confirmed")
                invoice_id = None
        payment = None
        if invoice_id is not None:
            payment = self._collect(tenant_id, sub.id, invoice_id, attempt=1)
            # A change is settled synchronously or not at all (its invoice is voided on any failure),
            # so a card that needs 3-D Secure here is refused with that reason too.
            if payment is None or payment.status != "succeeded":
                code = payment.failure_code if payment else "declined"
                raise PaymentDeclined(f"The payment for the change was declined ({code}); nothing changed.",
                                      fields={"payment_method": [code]})
        return {**self._state(tenant_id, sub.id), "payment": _outcome(payment)}

    def cancel_subscription(self, tenant_id: str, user_id: str, org_role: str, at_period_end: bool = True) -> dict:
        """Cancel at the end of the paid period (default) or now (entitlements withdrawn at once)."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        _require_manager(org_role)
        now = self.clock()
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            sub = repo.live_subscription(tenant_id, lock=True)
            if sub is None:
                raise NotFound("The tenant has no subscription.", code="subscription_not_found")
            if repo.open_saga_for(tenant_id, sub.id) is not None:
                raise Conflict("A change of this subscription is still in progress; retry in a moment.",
                               code="change_in_progress", retry_after=1)
            if at_period_end and sub.status in ("active", "trialing"):
                sub = repo.save_subscription(replace(sub, cancel_at_period_end=True), now)
            else:
                sub = self._cancel(tx, repo, sub, now, reason="canceled")
            return self._state_in(repo, sub.id, tenant_id)

    # ========================================================================= payments =========

    def _collect(self, tenant_id: str, sub_id: str, invoice_id: str, attempt: int) -> Optional[PaymentRecord]:
        """Charge an open invoice (attempt ``attempt``) and apply the outcome. Returns the payment row."""
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            invoice = repo.invoice(tenant_id, invoice_id)
            sub = repo.subscription(tenant_id, sub_id)
            if invoice is None or sub is None or invoice.status != "open":
                return None
            key = f"{invoice_id}:{attempt}"
            known = repo.payment_by_key(tenant_id, key)
            if invoice.total_minor <= 0:
                repo.set_invoice_status(tenant_id, invoice_id, "paid", self.clock())
                self._on_paid(tx, repo, sub, repo.invoice(tenant_id, invoice_id), None)
                return None
        if known is not None:
            return known
        provider = self.providers[sub.provider]
        result = provider.charge(amount_minor=invoice.total_minor, currency=invoice.currency,
                                 payment_method=sub.payment_method, idempotency_key=key, attempt=attempt,
                                 metadata={"tenant_id": tenant_id, "invoice_id": invoice_id, "attempt": attempt},
                                 customer_ref=sub.provider_customer,
                                 off_session=invoice.reason == "subscription_cycle" or attempt > 1)
        CHARGES.labels(provider.name, result.status).inc()
        return self._record_charge(tenant_id, sub_id, invoice_id, key, attempt, provider.name, result)

    def _record_charge(self, tenant_id: str, sub_id: str, invoice_id: str, key: str, attempt: int,
                       provider: str, result: ChargeResult) -> PaymentRecord:
        now = self.clock()
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            invoice = repo.invoice(tenant_id, invoice_id)
            payment = repo.record_payment(tenant_id, invoice, provider, result.provider_payment_id, key, attempt,
                                          result.status, result.failure_code, now)
            if invoice.status != "open":
                return payment  # settled already (e.g. by the provider's webhook)
            if payment.status == "succeeded":
                repo.set_invoice_status(tenant_id, invoice_id, "paid", now)
                self._on_paid(tx, repo, sub, repo.invoice(tenant_id, invoice_id), payment)
            else:
                self._on_failed(tx, repo, sub, invoice, now)
            return payment

    def _on_paid(self, tx: Transaction, repo: BillingRepository, sub: Subscription, invoice: InvoiceRecord,
                 payment: Optional[PaymentRecord]) -> None:
        """An invoice was paid: the trigger of a saga (create/update) or a renewal settled."""
        now = self.clock()
        payment_id = str(payment.id) if payment is not None else None
        cleared = replace(sub, dunning_failures=0, first_failed_at=None, next_retry_at=None)
        tx.publish(PAYMENT_SUCCEEDED, aggregate_id=str(invoice.id), tenant_id=sub.tenant_id, payload={
            "invoice_id": str(invoice.id), "tenant_id": sub.tenant_id, "subscription_id": sub.id,
            "user_id": sub.user_id, "currency": invoice.currency, "total_minor": int(invoice.total_minor),
            "lines": repo.invoice_lines(sub.tenant_id, [str(invoice.id)])[str(invoice.id)], "paid_at": _iso(now)})
        if invoice.reason == "subscription_create":
            sub = repo.save_subscription(cleared, now)
            target = dict(invoice.target, status="active")
            self._start_saga(tx, repo, sub, "activation", f"invoice:{invoice.id}", payment_id,
                             self._before(repo, sub.tenant_id, sub), target, "payment_confirmed")
        elif invoice.reason == "subscription_update":
            self._start_saga(tx, repo, sub, "change", f"invoice:{invoice.id}", payment_id,
                             self._before(repo, sub.tenant_id, sub), dict(invoice.target), "payment_confirmed")
        else:  # a renewal or a successful dunning retry
            if cleared.status in ("past_due", "trialing"):
                cleared = cleared.with_status("active")
            repo.save_subscription(cleared, now)

    def _on_failed(self, tx: Transaction, repo: BillingRepository, sub: Subscription, invoice: InvoiceRecord,
                   now: datetime) -> None:
        """A charge failed: void a change; otherwise dunning (past_due, retries, then canceled)."""
        if invoice.reason == "subscription_update":
            repo.set_invoice_status(sub.tenant_id, str(invoice.id), "void", now)
            return
        failures = sub.dunning_failures + 1
        first = sub.first_failed_at or now
        retry_at = domain.next_retry(first, failures, self.dunning_days)
        tx.publish(PAYMENT_FAILED, aggregate_id=str(invoice.id), tenant_id=sub.tenant_id, payload={
            "invoice_id": str(invoice.id), "tenant_id": sub.tenant_id, "subscription_id": sub.id,
            "user_id": sub.user_id, "plan": sub.plan, "attempt": failures,
            "next_retry_at": _iso(retry_at) if retry_at else ""})
        if retry_at is None:
            repo.set_invoice_status(sub.tenant_id, str(invoice.id),
                                    "void" if sub.status == "incomplete" else "uncollectible", now)
            self._cancel(tx, repo, replace(sub, dunning_failures=failures), now, reason="lapsed")
            return
        updated = replace(sub, dunning_failures=failures, first_failed_at=first, next_retry_at=retry_at)
        if sub.status in ("active", "trialing"):
            updated = updated.with_status("past_due")
            self._publish_subscription(tx, SUBSCRIPTION_PAST_DUE, updated)
        repo.save_subscription(updated, now)

    def _cancel(self, tx: Transaction, repo: BillingRepository, sub: Subscription, now: datetime,
                reason: str) -> Subscription:
        """Cancel now: void what is open, withdraw entitlements if any were granted, tell everyone."""
        open_invoice = repo.open_invoice(sub.tenant_id, sub.id)
        if open_invoice is not None:
            repo.set_invoice_status(sub.tenant_id, str(open_invoice.id), "void", now)
        was_entitled = sub.status in domain.ENTITLED
        canceled = repo.save_subscription(replace(sub.with_status("canceled"), canceled_at=now, next_retry_at=None,
                                                  cancel_at_period_end=False), now)
        if was_entitled:
            self._grant(tx, repo, sub.tenant_id, sub.id, self.plans["free"], 0, "", reason)
        self._publish_subscription(tx, SUBSCRIPTION_CANCELED, canceled)
        return canceled

    # ========================================================================= the saga =========

    def _before(self, repo: BillingRepository, tenant_id: str, sub: Subscription) -> dict:
        ent = repo.entitlement(tenant_id)
        return {"plan": ent.plan if ent else "free", "seats": ent.seats if ent else 0,
                "sub_plan": sub.plan, "sub_seats": sub.seats, "sub_interval": sub.interval,
                "period_start": sub.current_period_start.isoformat(), "period_end": sub.current_period_end.isoformat(),
                "anchor_day": sub.anchor_day, "status": sub.status, "credit_minor": sub.credit_minor}

    def _start_saga(self, tx: Transaction, repo: BillingRepository, sub: Subscription, kind: str, trigger_key: str,
                    payment_id: Optional[str], before: dict, target: dict, first_done: str) -> Optional[str]:
        """Persist a new saga for this trigger and request its first step; None for a duplicated trigger."""
        now = self.clock()
        saga_id = str(uuid.uuid5(NAMESPACE, trigger_key))
        inserted = repo.insert_saga({
            SagaRecord.id: saga_id, SagaRecord.tenant_id: sub.tenant_id, SagaRecord.subscription_id: sub.id,
            SagaRecord.kind: kind, SagaRecord.trigger_key: trigger_key, SagaRecord.payment_id: payment_id,
            SagaRecord.step: STEPS[0], SagaRecord.status: "running", SagaRecord.before: before,
            SagaRecord.target: target, SagaRecord.done: [first_done], SagaRecord.compensated: [],
            SagaRecord.step_deadline: now + self.step_timeout, SagaRecord.created_at: now, SagaRecord.updated_at: now,
        })
        if not inserted:
            return None
        self._request_step(tx, sub.tenant_id, saga_id, sub.id, STEPS[0], 0)
        return saga_id

    def _request_step(self, tx: Transaction, tenant_id: str, saga_id: str, sub_id: str, step: str,
                      attempt: int) -> None:
        tx.publish(SAGA_ADVANCED, aggregate_id=saga_id, tenant_id=tenant_id, payload={
            "saga_id": saga_id, "tenant_id": tenant_id, "subscription_id": sub_id, "step": step, "attempt": attempt})

    def _failpoint(self, step: str) -> None:
        action = self.failpoints.get(step)
        if action == "fail":
            raise SagaStepFailed(f"failpoint at {step}")
        if action == "crash":  # die mid-transaction, as a SIGKILL would (drills and fault tests)
            log.warning("failpoint: crashing at saga step %s", step)
            os.kill(os.getpid(), signal.SIGKILL)

    def _advance(self, repo: BillingRepository, saga: SagaRecord, step: str, now: datetime) -> Optional[str]:
        saga.done = list(saga.done) + [step]
        nxt = NEXT_STEP[step]
        saga.step = nxt or "completed"
        saga.status = "running" if nxt else "completed"
        if nxt is None:
            SAGAS.labels(saga.kind, "completed").inc()
        saga.attempts = 0
        saga.step_deadline = now + self.step_timeout
        repo.save_saga(saga, now)
        return nxt

    @handles(SAGA_ADVANCED)
    def _on_saga_advanced(self, tx: Transaction, envelope: dict) -> None:
        """Run the requested step once: a saga already past it (or compensating) ignores the request."""
        p = envelope["payload"]
        repo = BillingRepository(tx.db)
        saga = repo.saga(p["tenant_id"], p["saga_id"], lock=True)
        if saga is None or saga.status != "running" or saga.step != p["step"] or p["step"] == "await_plan_tier":
            return
        now = self.clock()
        try:
            with tx.db.atomic():  # a savepoint: a failed step leaves nothing behind
                self._run_step(tx, repo, saga, p["step"], now)
        except SagaStepFailed as failure:
            saga = repo.saga(p["tenant_id"], p["saga_id"], lock=True)
            self._begin_compensation(tx, repo, saga, str(failure), now)

    def _run_step(self, tx: Transaction, repo: BillingRepository, saga: SagaRecord, step: str, now: datetime) -> None:
        tenant_id, sub_id, target = str(saga.tenant_id), str(saga.subscription_id), saga.target
        if self.failpoints.get(step) == "fail":
            self._failpoint(step)
        if step == "activate_subscription":
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            if sub is None or sub.status == "canceled":
                raise SagaStepFailed("the subscription was canceled meanwhile")
            if saga.kind == "activation":
                sub = sub.with_status(target.get("status", "active"))
            else:
                sub = replace(sub, plan=target["plan"], seats=target["seats"], interval=target["interval"],
                              credit_minor=sub.credit_minor + int(target.get("credit_minor", 0)))
                if "period_start" in target:  # an interval change restarted the cycle
                    sub = replace(sub, current_period_start=datetime.fromisoformat(target["period_start"]),
                                  current_period_end=datetime.fromisoformat(target["period_end"]),
                                  anchor_day=int(target["anchor_day"]))
            repo.save_subscription(sub, now)
        elif step == "grant_entitlements":
            plan = self.plans[target["plan"]]
            self._grant(tx, repo, tenant_id, sub_id, plan, target["seats"], str(saga.id),
                        "activated" if saga.kind == "activation" else "changed")
        elif step == "notify":
            if saga.kind == "activation":
                sub = repo.subscription(tenant_id, sub_id)
                self._publish_subscription(tx, SUBSCRIPTION_ACTIVATED, sub)
        nxt = self._advance(repo, saga, step, now)
        if nxt is not None and nxt != "await_plan_tier":
            self._request_step(tx, tenant_id, str(saga.id), sub_id, nxt, 0)
        if self.failpoints.get(step) == "crash":
            self._failpoint(step)

    def _grant(self, tx: Transaction, repo: BillingRepository, tenant_id: str, sub_id: str, plan: Plan, seats: int,
               saga_id: str, reason: str) -> None:
        features = plan.entitlements(seats)
        billed = plan.billed_seats(seats)
        repo.set_entitlement(tenant_id, sub_id, plan.code, billed, features, saga_id, self.clock())
        tx.publish(ENTITLEMENT_CHANGED, aggregate_id=tenant_id, tenant_id=tenant_id, payload={
            "tenant_id": tenant_id, "subscription_id": sub_id, "saga_id": saga_id, "plan": plan.code,
            "seats": billed, "entitlements": features, "reason": reason})

    @handles(PLAN_CHANGED)
    def _on_plan_changed(self, tx: Transaction, envelope: dict) -> None:
        """auth applied a plan: remember it; if a saga awaits it, advance (or compensate on a mismatch)."""
        p = envelope["payload"]
        tenant_id = p["tenant_id"]
        repo = BillingRepository(tx.db)
        repo.confirm_plan(tenant_id, p["plan_tier"])
        saga_id = p.get("saga_id") or ""
        try:
            saga_uuid = str(uuid.UUID(saga_id))
        except ValueError:
            return  # not one of ours (a plan change made elsewhere)
        saga = repo.saga(tenant_id, saga_uuid, lock=True)
        if saga is None or saga.status != "running" or saga.step != "await_plan_tier":
            return
        now = self.clock()
        try:
            with tx.db.atomic():
                if self.failpoints.get("await_plan_tier") == "fail":
                    self._failpoint("await_plan_tier")
                if p["plan_tier"] != saga.target["plan"]:
                    raise SagaStepFailed(f"auth set plan_tier {p['plan_tier']}, expected {saga.target['plan']}")
                self._advance(repo, saga, "await_plan_tier", now)
                self._request_step(tx, tenant_id, str(saga.id), str(saga.subscription_id), "notify", 0)
                if self.failpoints.get("await_plan_tier") == "crash":
                    self._failpoint("await_plan_tier")
        except SagaStepFailed as failure:
            saga = repo.saga(tenant_id, saga_uuid, lock=True)
            self._begin_compensation(tx, repo, saga, str(failure), now)

    def _begin_compensation(self, tx: Transaction, repo: BillingRepository, saga: SagaRecord, reason: str,
                            now: datetime) -> None:
        failed_step = saga.step
        saga.status, saga.error, saga.attempts = "compensating", reason[:500], 0
        saga.step_deadline = now + self.step_timeout
        repo.save_saga(saga, now)
        tx.publish(SAGA_COMPENSATE, aggregate_id=str(saga.id), tenant_id=str(saga.tenant_id), payload={
            "saga_id": str(saga.id), "tenant_id": str(saga.tenant_id), "subscription_id": str(saga.subscription_id),
            "failed_step": failed_step, "reason": reason[:500]})

    @handles(SAGA_COMPENSATE)
    def _on_compensate(self, tx: Transaction, envelope: dict) -> None:
        """Undo the saga's completed steps in reverse order, in one transaction."""
        p = envelope["payload"]
        repo = BillingRepository(tx.db)
        saga = repo.saga(p["tenant_id"], p["saga_id"], lock=True)
        if saga is None or saga.status != "compensating":
            return
        self._compensate(tx, repo, saga)

    def _compensate(self, tx: Transaction, repo: BillingRepository, saga: SagaRecord) -> None:
        now = self.clock()
        tenant_id, sub_id, before = str(saga.tenant_id), str(saga.subscription_id), saga.before
        undone = list(saga.compensated)
        for step in reversed(list(saga.done)):
            if step in undone:
                continue
            if step == "grant_entitlements":
                # Back to what the tenant had before; auth follows this event (same saga id).
                plan = self.plans[before["plan"]]
                seats = before["sub_seats"] if before["plan"] != "free" else 0
                self._grant(tx, repo, tenant_id, sub_id, plan, seats,
                            str(saga.id), "canceled" if saga.kind == "activation" else "changed")
            elif step == "activate_subscription" and saga.kind == "change":
                sub = repo.subscription(tenant_id, sub_id, lock=True)
                repo.save_subscription(replace(
                    sub, plan=before["sub_plan"], seats=before["sub_seats"], interval=before["sub_interval"],
                    current_period_start=datetime.fromisoformat(before["period_start"]),
                    current_period_end=datetime.fromisoformat(before["period_end"]),
                    anchor_day=int(before["anchor_day"]), credit_minor=before["credit_minor"]), now)
            elif step == "payment_confirmed" and saga.payment_id is not None:
                self._refund(repo, tenant_id, str(saga.payment_id), now)
            undone.append(step)
        if saga.kind == "activation":
            # Never leave the subscription alive without the access it was meant to give.
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            if sub is not None and sub.status != "canceled":
                canceled = repo.save_subscription(
                    replace(sub.with_status("canceled"), canceled_at=now, next_retry_at=None), now)
                self._publish_subscription(tx, SUBSCRIPTION_CANCELED, canceled)
        saga.compensated, saga.status, saga.step = undone, "compensated", "compensated"
        SAGAS.labels(saga.kind, "compensated").inc()
        repo.save_saga(saga, now)

    def _refund(self, repo: BillingRepository, tenant_id: str, payment_id: str, now: datetime) -> None:
        payment = repo.payment(tenant_id, payment_id)
        if payment is None or payment.status != "succeeded":
            return
        # Idempotent at the provider: a retried compensation repeats the same refund.
        refund_id = self.providers[payment.provider].refund(
            provider_payment_id=payment.provider_payment_id, amount_minor=payment.amount_minor,
            idempotency_key=f"refund:{payment.id}")
        repo.set_payment_status(tenant_id, payment_id, "refunded", now, refund_id)
        invoice = repo.invoice(tenant_id, str(payment.invoice_id))
        if invoice is not None and invoice.status == "paid":
            repo.set_invoice_status(tenant_id, str(invoice.id), "refunded", now)

    # ========================================================================= usage ============

    @handles(AI_USAGE)
    def _on_ai_usage(self, tx: Transaction, envelope: dict) -> None:
        """Count AI tokens for usage lines on the next invoice (above the plan's allowance)."""
        p = envelope["payload"]
        occurred = datetime.fromisoformat(envelope["occurred_at"])
        BillingRepository(tx.db).record_usage(p["usage_id"], envelope["tenant_id"], p["user_id"],
                                              int(p["prompt_tokens"]) + int(p["completion_tokens"]), occurred)

    # ========================================================================= webhooks =========

    def handle_webhook(self, provider_name: str, payload: bytes, signature: str) -> dict:
        """A provider's signed event: verified, deduplicated by event id, then applied.

        ``payment_intent.succeeded`` settles the invoice it paid (when the
        synchronous answer was lost) and so can start a saga; a duplicate event
        or a second trigger for the same payment changes nothing.
        """
        provider = self.providers.get(provider_name)
        if provider is None:
            raise NotFound("Unknown payment provider.", code="unknown_provider",
                           fields={"provider": [f"must be one of {', '.join(self.providers)}"]})
        event = provider.verify_webhook(payload, signature)
        obj = ((event.get("data") or {}).get("object") or {})
        if event["type"] not in ("payment_intent.succeeded", "payment_intent.payment_failed") or not obj.get("id"):
            return {"received": True, "applied": False}
        metadata = obj.get("metadata") or {}
        with self.store.transaction(None) as tx:
            tenant_id = BillingRepository(tx.db).payment_tenant(provider.name, obj["id"])
        tenant_id = tenant_id or metadata.get("tenant_id")
        try:
            tenant_id = require_uuids(tenant_id=tenant_id)[0]
        except ValidationFailed:
            return {"received": True, "applied": False}
        now = self.clock()
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            if not repo.claim_webhook(provider.name, event["id"], tenant_id, event["type"], now):
                return {"received": True, "applied": False, "duplicate": True}
            if event["type"] != "payment_intent.succeeded":
                return {"received": True, "applied": False}
            payment = repo.payment_by_provider_id(tenant_id, provider.name, obj["id"])
            invoice_id = str(payment.invoice_id) if payment else metadata.get("invoice_id")
            invoice = repo.invoice(tenant_id, invoice_id) if invoice_id else None
            if invoice is None or invoice.status != "open":
                return {"received": True, "applied": False}
            sub = repo.subscription(tenant_id, str(invoice.subscription_id), lock=True)
            if payment is None:
                attempt = int(metadata.get("attempt") or 1)
                payment = repo.record_payment(tenant_id, invoice, provider.name, obj["id"], f"{invoice_id}:{attempt}",
                                              attempt, "succeeded", "", now)
            elif payment.status != "succeeded":
                repo.set_payment_status(tenant_id, str(payment.id), "succeeded", now)
            repo.set_invoice_status(tenant_id, invoice_id, "paid", now)
            self._on_paid(tx, repo, sub, repo.invoice(tenant_id, invoice_id), repo.payment(tenant_id, str(payment.id)))
        return {"received": True, "applied": True}

    # ========================================================================= the timer ========

    def tick(self, now: Optional[datetime] = None) -> dict:
        """Renew due subscriptions, retry failed payments, end trials, and sweep stuck sagas.

        Driven by a nameko timer; safe to run in several processes at once
        (rows are taken with SKIP LOCKED, every effect is idempotent).
        """
        now = now or self.clock()
        done = {"renewed": 0, "retried": 0, "canceled": 0, "sagas_redriven": 0, "sagas_compensated": 0}
        with self.store.transaction(None) as tx:
            repo = BillingRepository(tx.db)
            due = repo.due_subscriptions(now)
            stuck = repo.stuck_sagas(now)
        for tenant_id, sub_id in due:
            try:
                outcome = self._tick_subscription(tenant_id, sub_id, now)
            except Exception:  # noqa: BLE001 - one bad subscription must not stop the others
                log.exception("billing tick failed for subscription %s", sub_id)
                continue
            if outcome:
                done[outcome] += 1
        for tenant_id, saga_id in stuck:
            outcome = self._sweep_saga(tenant_id, saga_id, now)
            if outcome:
                done[outcome] += 1
        return done

    def _tick_subscription(self, tenant_id: str, sub_id: str, now: datetime) -> Optional[str]:
        collect: Optional[tuple[str, int]] = None
        outcome = None
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            sub = repo.subscription(tenant_id, sub_id, lock=True, skip_locked=True)
            if sub is None or sub.status == "canceled" or repo.open_saga_for(tenant_id, sub_id) is not None:
                return None
            open_invoice = repo.open_invoice(tenant_id, sub_id)
            if sub.next_retry_at is not None and sub.next_retry_at <= now and open_invoice is not None:
                collect, outcome = (str(open_invoice.id), sub.dunning_failures + 1), "retried"
            elif sub.current_period_end <= now and sub.status in ("active", "trialing"):
                if sub.cancel_at_period_end:
                    self._cancel(tx, repo, sub, now, reason="canceled")
                    return "canceled"
                collect, outcome = self._renew(tx, repo, sub, now), "renewed"
        if collect is not None:
            self._collect(tenant_id, sub_id, collect[0], attempt=collect[1])
        return outcome

    def _renew(self, tx: Transaction, repo: BillingRepository, sub: Subscription, now: datetime) -> tuple[str, int]:
        """Invoice the next period (plus the ended period's usage, minus credit) and move the period on."""
        plan = self.plans[sub.plan]
        nxt = domain.renewed(sub)
        lines = [domain.subscription_line(plan, sub.interval, sub.seats, nxt.current_period_start,
                                          nxt.current_period_end)]
        if sub.status == "active":  # a trial's usage is not billed
            usage = domain.usage_line(plan, sub.seats, repo.tokens_used(sub.tenant_id, sub.current_period_start,
                                                                        sub.current_period_end))
            if usage is not None:
                lines.append(usage)
        lines, credit_left = domain.apply_credit(lines, sub.credit_minor)
        # Derived from the period, so a repeated renewal finds the same invoice and the same payment keys.
        invoice_id = str(uuid.uuid5(NAMESPACE, f"{sub.id}:cycle:{nxt.current_period_start.isoformat()}"))
        invoice = repo.issue_invoice(invoice_id, sub, "subscription_cycle", lines, nxt.current_period_start,
                                     nxt.current_period_end, now, {"plan": sub.plan, "seats": sub.seats})
        if invoice is not None:
            self._publish_invoice(tx, invoice, lines)
        repo.save_subscription(replace(nxt, credit_minor=credit_left, next_retry_at=now + self.payment_grace), now)
        return invoice_id, 1

    def _sweep_saga(self, tenant_id: str, saga_id: str, now: datetime) -> Optional[str]:
        """Re-drive a saga stuck in a step (its event lost or its answer late), or compensate it."""
        with self.store.transaction(tenant_id) as tx:
            repo = BillingRepository(tx.db)
            saga = repo.saga(tenant_id, saga_id, lock=True)
            if saga is None or saga.step_deadline > now or saga.status not in ("running", "compensating"):
                return None
            if saga.status == "compensating":
                self._compensate(tx, repo, saga)
                return "sagas_compensated"
            if saga.attempts + 1 >= self.saga_max_attempts:
                self._begin_compensation(tx, repo, saga, f"timed out at {saga.step}", now)
                return "sagas_compensated"
            saga.attempts += 1
            saga.step_deadline = now + self.step_timeout
            repo.save_saga(saga, now)
            if saga.step == "await_plan_tier":
                # Ask auth again (it applies a plan idempotently and answers with the saga id).
                self._grant(tx, repo, tenant_id, str(saga.subscription_id), self.plans[saga.target["plan"]],
                            saga.target["seats"], str(saga.id), "activated" if saga.kind == "activation" else "changed")
            else:
                self._request_step(tx, tenant_id, saga_id, str(saga.subscription_id), saga.step, saga.attempts)
            return "sagas_redriven"

    # ========================================================================= helpers ==========

    def _publish_invoice(self, tx: Transaction, invoice: Optional[InvoiceRecord], lines: list[domain.Line]) -> None:
        if invoice is None:
            return
        tx.publish(INVOICE_ISSUED, aggregate_id=str(invoice.id), tenant_id=str(invoice.tenant_id), payload={
            "invoice_id": str(invoice.id), "tenant_id": str(invoice.tenant_id),
            "subscription_id": str(invoice.subscription_id), "currency": invoice.currency,
            "total_minor": int(invoice.total_minor), "lines": [line.to_dict() for line in lines],
            "issued_at": _iso(invoice.issued_at)})

    def _publish_subscription(self, tx: Transaction, event_type: str, sub: Subscription) -> None:
        plan = self.plans[sub.plan]
        tx.publish(event_type, aggregate_id=sub.id, tenant_id=sub.tenant_id, payload={
            "subscription_id": sub.id, "tenant_id": sub.tenant_id, "user_id": sub.user_id, "plan": sub.plan,
            "seats": plan.billed_seats(sub.seats), "status": sub.status, "period_end": _iso(sub.current_period_end)})

    def _state(self, tenant_id: str, sub_id: str) -> dict:
        with self.store.transaction(tenant_id) as tx:
            return self._state_in(BillingRepository(tx.db), sub_id, tenant_id)

    def _state_in(self, repo: BillingRepository, sub_id: str, tenant_id: str) -> dict:
        sub = repo.subscription(tenant_id, sub_id)
        invoice = repo.invoices(tenant_id, 1)
        latest = None
        if invoice and str(invoice[0].subscription_id) == sub_id:
            latest = self._invoice_dict(invoice[0], repo.invoice_lines(tenant_id, [str(invoice[0].id)])[str(invoice[0].id)])
        return {"subscription": sub.to_dict(), "latest_invoice": latest}


def build(config: dict, clock: Callable[[], datetime] = _now) -> BillingService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    conf = config.get("billing") or {}
    providers = {name: make_provider(name, conf) for name in ("sandbox", "stripe")
                 if name == "sandbox" or (conf.get("providers") or {}).get("stripe", {}).get("api_key")}
    failpoints = {}
    for item in str(conf.get("failpoints") or "").split(","):
        step, _, action = item.strip().partition(":")
        if step:
            failpoints[step] = action or "fail"
    return BillingService(
        store, plans=domain.load_plans(conf.get("plans")), providers=providers,
        default_provider=str(conf.get("provider") or "sandbox"),
        dunning_days=tuple(int(d) for d in (conf.get("dunning_retry_days") or domain.DEFAULT_DUNNING_DAYS)),
        step_timeout_s=float(conf.get("saga_step_timeout_s") or 60), saga_max_attempts=int(conf.get("saga_max_attempts") or 3),
        payment_grace_s=float(conf.get("payment_grace_s") or 120), failpoints=failpoints, clock=clock)
