"""Collecting invoices: charges, their outcomes, dunning, renewals and the timer that drives them.

A successful payment of a new or changed subscription starts its saga
(activation_saga.py); a failed one puts the subscription ``past_due`` and
retries on the dunning schedule (``domain.next_retry``) until it pays or the
schedule ends and the subscription is canceled. ``tick(now)`` (a nameko timer)
renews subscriptions whose period ended, retries due payments and sweeps
stuck sagas.

Provider calls (charge, refund) happen outside database transactions where
possible and always with an idempotency key derived from our own ids, so a
repeated call cannot pay twice.

A mixin of :class:`~careeros_services.billing.service.BillingService`.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Optional

from prometheus_client import Counter

from bus.store import ServiceStore
from careeros_services.billing import domain
from careeros_services.billing.domain import (NAMESPACE, InvoiceStatus, PaymentStatus, Plan, Subscription,
                                              SubscriptionStatus)
from careeros_services.billing.events import (PAYMENT_FAILED, PAYMENT_SUCCEEDED, SUBSCRIPTION_CANCELED,
                                              SUBSCRIPTION_PAST_DUE, iso, publish_invoice, publish_subscription)
from careeros_services.billing.payments import ChargeResult, PaymentProvider
from careeros_services.billing.persistence import BillingUnitOfWork, InvoiceRecord, PaymentRecord
from careeros_services.common.clock import Clock
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork

log = logging.getLogger(__name__)

CHARGES = Counter("careeros_billing_charges_total", "Provider charges, by provider and status.",
                  ["provider", "status"])


class Dunning(ServiceWithUnitOfWork[BillingUnitOfWork]):
    """Charges and their outcomes, dunning, cancellation, renewals and the billing timer."""

    store: ServiceStore
    plans: dict[str, Plan]
    providers: dict[str, PaymentProvider]
    clock: Clock
    dunning_days: tuple[int, ...]
    payment_grace: timedelta

    def _collect(self, tenant_id: str, sub_id: str, invoice_id: str, attempt: int) -> Optional[PaymentRecord]:
        """Charge an open invoice (attempt ``attempt``) and apply the outcome. Returns the payment row."""
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            invoice = repo.invoice(tenant_id, invoice_id)
            sub = repo.subscription(tenant_id, sub_id)
            if invoice is None or sub is None or invoice.status != InvoiceStatus.OPEN:
                return None
            key = f"{invoice_id}:{attempt}"
            known = repo.payment_by_key(tenant_id, key)
            if invoice.total_minor <= 0:
                repo.set_invoice_status(tenant_id, invoice_id, InvoiceStatus.PAID, self.clock())
                self._on_paid(uow, sub, repo.invoice(tenant_id, invoice_id), None)
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
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            invoice = repo.invoice(tenant_id, invoice_id)
            payment = repo.record_payment(tenant_id, invoice, provider, result.provider_payment_id, key, attempt,
                                          result.status, result.failure_code, now)
            if invoice.status != InvoiceStatus.OPEN:
                return payment  # settled already (e.g. by the provider's webhook)
            if payment.status == PaymentStatus.SUCCEEDED:
                repo.set_invoice_status(tenant_id, invoice_id, InvoiceStatus.PAID, now)
                self._on_paid(uow, sub, repo.invoice(tenant_id, invoice_id), payment)
            else:
                self._on_failed(uow, sub, invoice, now)
            return payment

    def _on_paid(self, uow: BillingUnitOfWork, sub: Subscription, invoice: InvoiceRecord,
                 payment: Optional[PaymentRecord]) -> None:
        """An invoice was paid: the trigger of a saga (create/update) or a renewal settled."""
        repo = uow.billing
        now = self.clock()
        payment_id = str(payment.id) if payment is not None else None
        cleared = replace(sub, dunning_failures=0, first_failed_at=None, next_retry_at=None)
        uow.publish(PAYMENT_SUCCEEDED, aggregate_id=str(invoice.id), tenant_id=sub.tenant_id, payload={
            "invoice_id": str(invoice.id), "tenant_id": sub.tenant_id, "subscription_id": sub.id,
            "user_id": sub.user_id, "currency": invoice.currency, "total_minor": int(invoice.total_minor),
            "lines": repo.invoice_lines(sub.tenant_id, [str(invoice.id)])[str(invoice.id)], "paid_at": iso(now)})
        if invoice.reason == "subscription_create":
            sub = repo.save_subscription(cleared, now)
            target = dict(invoice.target, status=SubscriptionStatus.ACTIVE)
            self._start_saga(uow, sub, "activation", f"invoice:{invoice.id}", payment_id,
                             self._before(repo, sub.tenant_id, sub), target, "payment_confirmed")
        elif invoice.reason == "subscription_update":
            self._start_saga(uow, sub, "change", f"invoice:{invoice.id}", payment_id,
                             self._before(repo, sub.tenant_id, sub), dict(invoice.target), "payment_confirmed")
        else:  # a renewal or a successful dunning retry
            if cleared.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.TRIALING):
                cleared = cleared.with_status(SubscriptionStatus.ACTIVE)
            repo.save_subscription(cleared, now)

    def _on_failed(self, uow: BillingUnitOfWork, sub: Subscription, invoice: InvoiceRecord,
                   now: datetime) -> None:
        """A charge failed: void a change; otherwise dunning (past_due, retries, then canceled)."""
        repo = uow.billing
        if invoice.reason == "subscription_update":
            repo.set_invoice_status(sub.tenant_id, str(invoice.id), InvoiceStatus.VOID, now)
            return
        failures = sub.dunning_failures + 1
        first = sub.first_failed_at or now
        retry_at = domain.next_retry(first, failures, self.dunning_days)
        uow.publish(PAYMENT_FAILED, aggregate_id=str(invoice.id), tenant_id=sub.tenant_id, payload={
            "invoice_id": str(invoice.id), "tenant_id": sub.tenant_id, "subscription_id": sub.id,
            "user_id": sub.user_id, "plan": sub.plan, "attempt": failures,
            "next_retry_at": iso(retry_at) if retry_at else ""})
        if retry_at is None:
            repo.set_invoice_status(sub.tenant_id, str(invoice.id),
                                    InvoiceStatus.VOID if sub.status == SubscriptionStatus.INCOMPLETE
                                    else InvoiceStatus.UNCOLLECTIBLE, now)
            self._cancel(uow, replace(sub, dunning_failures=failures), now, reason="lapsed")
            return
        updated = replace(sub, dunning_failures=failures, first_failed_at=first, next_retry_at=retry_at)
        if sub.status in domain.RUNNING:
            updated = updated.with_status(SubscriptionStatus.PAST_DUE)
            publish_subscription(uow, SUBSCRIPTION_PAST_DUE, updated, self.plans[updated.plan])
        repo.save_subscription(updated, now)

    def _cancel(self, uow: BillingUnitOfWork, sub: Subscription, now: datetime,
                reason: str) -> Subscription:
        """Cancel now: void what is open, withdraw entitlements if any were granted, tell everyone."""
        repo = uow.billing
        open_invoice = repo.open_invoice(sub.tenant_id, sub.id)
        if open_invoice is not None:
            repo.set_invoice_status(sub.tenant_id, str(open_invoice.id), InvoiceStatus.VOID, now)
        was_entitled = sub.status in domain.ENTITLED
        canceled = repo.save_subscription(replace(sub.with_status(SubscriptionStatus.CANCELED), canceled_at=now,
                                                  next_retry_at=None,
                                                  cancel_at_period_end=False), now)
        if was_entitled:
            self._grant(uow, sub.tenant_id, sub.id, self.plans["free"], 0, "", reason)
        publish_subscription(uow, SUBSCRIPTION_CANCELED, canceled, self.plans[canceled.plan])
        return canceled

    def tick(self, now: Optional[datetime] = None) -> dict:
        """Renew due subscriptions, retry failed payments, end trials, and sweep stuck sagas.

        Driven by a nameko timer; safe to run in several processes at once
        (rows are taken with SKIP LOCKED, every effect is idempotent).
        """
        now = now or self.clock()
        done = {"renewed": 0, "retried": 0, "canceled": 0, "sagas_redriven": 0, "sagas_compensated": 0}
        with self.unit_of_work(None) as uow:
            repo = uow.billing
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
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            sub = repo.subscription(tenant_id, sub_id, lock=True, skip_locked=True)
            if (sub is None or sub.status == SubscriptionStatus.CANCELED
                    or repo.open_saga_for(tenant_id, sub_id) is not None):
                return None
            open_invoice = repo.open_invoice(tenant_id, sub_id)
            if sub.next_retry_at is not None and sub.next_retry_at <= now and open_invoice is not None:
                collect, outcome = (str(open_invoice.id), sub.dunning_failures + 1), "retried"
            elif sub.current_period_end <= now and sub.status in domain.RUNNING:
                if sub.cancel_at_period_end:
                    self._cancel(uow, sub, now, reason="canceled")
                    return "canceled"
                collect, outcome = self._renew(uow, sub, now), "renewed"
        if collect is not None:
            self._collect(tenant_id, sub_id, collect[0], attempt=collect[1])
        return outcome

    def _renew(self, uow: BillingUnitOfWork, sub: Subscription, now: datetime) -> tuple[str, int]:
        """Invoice the next period (plus the ended period's usage, minus credit) and move the period on."""
        repo = uow.billing
        plan = self.plans[sub.plan]
        nxt = domain.renewed(sub)
        lines = [domain.subscription_line(plan, sub.interval, sub.seats, nxt.current_period_start,
                                          nxt.current_period_end)]
        if sub.status == SubscriptionStatus.ACTIVE:  # a trial's usage is not billed
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
            publish_invoice(uow, invoice, lines)
        repo.save_subscription(replace(nxt, credit_minor=credit_left, next_retry_at=now + self.payment_grace), now)
        return invoice_id, 1

