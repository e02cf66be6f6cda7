"""The orchestrated saga that turns a confirmed payment (or a started trial, or a paid change) into access.

    payment confirmed -> activate_subscription -> grant_entitlements (entitlement.changed)
      -> await_plan_tier (auth answers tenant.plan_changed with the saga_id) -> notify (subscription.activated)

Every step runs in its own transaction that also records the saga's new step
and publishes the event that drives the next one (``saga.advanced``, through
the outbox), so a crash anywhere resumes from the last commit and a
redelivered event finds the saga already past its step and changes nothing.
A step that fails starts the compensation (``saga.compensation_requested``),
which undoes the completed steps in reverse order in one transaction:
withdraw the entitlements, deactivate the subscription, refund the payment.
The timer re-drives or compensates sagas stuck in a step (:meth:`ActivationSaga._sweep_saga`).

A mixin of :class:`~careeros_services.billing.service.BillingService`: it uses
the service's store, plans, providers, clock, step timeout and failpoints.
"""
from __future__ import annotations

import logging
import os
import signal
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Mapping, Optional

from prometheus_client import Counter

from bus.handlers import handles
from bus.store import ServiceStore, Transaction
from careeros_services.billing.domain import (NAMESPACE, InvoiceStatus, PaymentStatus, Plan, SagaStatus,
                                              Subscription, SubscriptionStatus)
from careeros_services.billing.events import (ENTITLEMENT_CHANGED, PLAN_CHANGED, SAGA_ADVANCED, SAGA_COMPENSATE,
                                              SUBSCRIPTION_ACTIVATED, SUBSCRIPTION_CANCELED, publish_subscription)
from careeros_services.billing.payments import PaymentProvider
from careeros_services.billing.persistence import BillingRepository, BillingUnitOfWork, SagaRecord
from careeros_services.common.clock import Clock
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork

log = logging.getLogger(__name__)

STEPS = ("activate_subscription", "grant_entitlements", "await_plan_tier", "notify")
NEXT_STEP = {"activate_subscription": "grant_entitlements", "grant_entitlements": "await_plan_tier",
             "await_plan_tier": "notify", "notify": None}

# Counted after the transaction that decided them committed or not: a rolled-back
# attempt may count twice, which is fine for rates and alerts (compensations > 0).
SAGAS = Counter("careeros_billing_sagas_total", "Billing sagas that ended, by kind and outcome.",
                ["kind", "outcome"])


class SagaStepFailed(Exception):
    """A saga step cannot complete: compensate the steps before it."""


class ActivationSaga(ServiceWithUnitOfWork[BillingUnitOfWork]):
    """The activation and change sagas: start, steps, auth's answer, compensation, the sweep of stuck ones."""

    store: ServiceStore
    plans: dict[str, Plan]
    providers: dict[str, PaymentProvider]
    clock: Clock
    step_timeout: timedelta
    saga_max_attempts: int
    failpoints: Mapping[str, str]

    def _before(self, repo: BillingRepository, tenant_id: str, sub: Subscription) -> dict:
        ent = repo.entitlement(tenant_id)
        return {"plan": ent.plan if ent else "free", "seats": ent.seats if ent else 0,
                "sub_plan": sub.plan, "sub_seats": sub.seats, "sub_interval": sub.interval,
                "period_start": sub.current_period_start.isoformat(), "period_end": sub.current_period_end.isoformat(),
                "anchor_day": sub.anchor_day, "status": sub.status, "credit_minor": sub.credit_minor}

    def _start_saga(self, uow: BillingUnitOfWork, sub: Subscription, kind: str, trigger_key: str,
                    payment_id: Optional[str], before: dict, target: dict, first_done: str) -> Optional[str]:
        """Persist a new saga for this trigger and request its first step; None for a duplicated trigger."""
        repo = uow.billing
        now = self.clock()
        saga_id = str(uuid.uuid5(NAMESPACE, trigger_key))
        inserted = repo.insert_saga({
            SagaRecord.id: saga_id, SagaRecord.tenant_id: sub.tenant_id, SagaRecord.subscription_id: sub.id,
            SagaRecord.kind: kind, SagaRecord.trigger_key: trigger_key, SagaRecord.payment_id: payment_id,
            SagaRecord.step: STEPS[0], SagaRecord.status: SagaStatus.RUNNING, SagaRecord.before: before,
            SagaRecord.target: target, SagaRecord.done: [first_done], SagaRecord.compensated: [],
            SagaRecord.step_deadline: now + self.step_timeout, SagaRecord.created_at: now, SagaRecord.updated_at: now,
        })
        if not inserted:
            return None
        self._request_step(uow, sub.tenant_id, saga_id, sub.id, STEPS[0], 0)
        return saga_id

    def _request_step(self, uow: BillingUnitOfWork, tenant_id: str, saga_id: str, sub_id: str, step: str,
                      attempt: int) -> None:
        uow.publish(SAGA_ADVANCED, aggregate_id=saga_id, tenant_id=tenant_id, payload={
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
        saga.step = nxt or SagaStatus.COMPLETED
        saga.status = SagaStatus.RUNNING if nxt else SagaStatus.COMPLETED
        if nxt is None:
            SAGAS.labels(saga.kind, SagaStatus.COMPLETED).inc()
        saga.attempts = 0
        saga.step_deadline = now + self.step_timeout
        repo.save_saga(saga, now)
        return nxt

    @handles(SAGA_ADVANCED)
    def _on_saga_advanced(self, tx: Transaction, envelope: dict) -> None:
        """Run the requested step once: a saga already past it (or compensating) ignores the request."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        repo = uow.billing
        saga = repo.saga(p["tenant_id"], p["saga_id"], lock=True)
        if (saga is None or saga.status != SagaStatus.RUNNING or saga.step != p["step"]
                or p["step"] == "await_plan_tier"):
            return
        now = self.clock()
        try:
            with uow.db.atomic():  # a savepoint: a failed step leaves nothing behind
                self._run_step(uow, saga, p["step"], now)
        except SagaStepFailed as failure:
            saga = repo.saga(p["tenant_id"], p["saga_id"], lock=True)
            self._begin_compensation(uow, saga, str(failure), now)

    def _run_step(self, uow: BillingUnitOfWork, saga: SagaRecord, step: str, now: datetime) -> None:
        repo = uow.billing
        tenant_id, sub_id, target = str(saga.tenant_id), str(saga.subscription_id), saga.target
        if self.failpoints.get(step) == "fail":
            self._failpoint(step)
        if step == "activate_subscription":
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            if sub is None or sub.status == SubscriptionStatus.CANCELED:
                raise SagaStepFailed("the subscription was canceled meanwhile")
            if saga.kind == "activation":
                sub = sub.with_status(target.get("status", SubscriptionStatus.ACTIVE))
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
            self._grant(uow, tenant_id, sub_id, plan, target["seats"], str(saga.id),
                        "activated" if saga.kind == "activation" else "changed")
        elif step == "notify":
            if saga.kind == "activation":
                sub = repo.subscription(tenant_id, sub_id)
                publish_subscription(uow, SUBSCRIPTION_ACTIVATED, sub, self.plans[sub.plan])
        nxt = self._advance(repo, saga, step, now)
        if nxt is not None and nxt != "await_plan_tier":
            self._request_step(uow, tenant_id, str(saga.id), sub_id, nxt, 0)
        if self.failpoints.get(step) == "crash":
            self._failpoint(step)

    def _grant(self, uow: BillingUnitOfWork, tenant_id: str, sub_id: str, plan: Plan, seats: int,
               saga_id: str, reason: str) -> None:
        repo = uow.billing
        features = plan.entitlements(seats)
        billed = plan.billed_seats(seats)
        repo.set_entitlement(tenant_id, sub_id, plan.code, billed, features, saga_id, self.clock())
        uow.publish(ENTITLEMENT_CHANGED, aggregate_id=tenant_id, tenant_id=tenant_id, payload={
            "tenant_id": tenant_id, "subscription_id": sub_id, "saga_id": saga_id, "plan": plan.code,
            "seats": billed, "entitlements": features, "reason": reason})

    @handles(PLAN_CHANGED)
    def _on_plan_changed(self, tx: Transaction, envelope: dict) -> None:
        """auth applied a plan: remember it; if a saga awaits it, advance (or compensate on a mismatch)."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        tenant_id = p["tenant_id"]
        repo = uow.billing
        try:
            saga_uuid = str(uuid.UUID(p.get("saga_id") or ""))
        except ValueError:
            saga_uuid = ""  # not one of ours (a plan change made elsewhere)
        # The saga before the entitlement, the order the sweep's re-drive and compensation take them.
        saga = repo.saga(tenant_id, saga_uuid, lock=True) if saga_uuid else None
        repo.confirm_plan(tenant_id, p["plan_tier"])
        if saga is None or saga.status != SagaStatus.RUNNING or saga.step != "await_plan_tier":
            return
        now = self.clock()
        try:
            with uow.db.atomic():
                if self.failpoints.get("await_plan_tier") == "fail":
                    self._failpoint("await_plan_tier")
                if p["plan_tier"] != saga.target["plan"]:
                    raise SagaStepFailed(f"auth set plan_tier {p['plan_tier']}, expected {saga.target['plan']}")
                self._advance(repo, saga, "await_plan_tier", now)
                self._request_step(uow, tenant_id, str(saga.id), str(saga.subscription_id), "notify", 0)
                if self.failpoints.get("await_plan_tier") == "crash":
                    self._failpoint("await_plan_tier")
        except SagaStepFailed as failure:
            saga = repo.saga(tenant_id, saga_uuid, lock=True)
            self._begin_compensation(uow, saga, str(failure), now)

    def _begin_compensation(self, uow: BillingUnitOfWork, saga: SagaRecord, reason: str,
                            now: datetime) -> None:
        repo = uow.billing
        failed_step = saga.step
        saga.status, saga.error, saga.attempts = SagaStatus.COMPENSATING, reason[:500], 0
        saga.step_deadline = now + self.step_timeout
        repo.save_saga(saga, now)
        uow.publish(SAGA_COMPENSATE, aggregate_id=str(saga.id), tenant_id=str(saga.tenant_id), payload={
            "saga_id": str(saga.id), "tenant_id": str(saga.tenant_id), "subscription_id": str(saga.subscription_id),
            "failed_step": failed_step, "reason": reason[:500]})

    @handles(SAGA_COMPENSATE)
    def _on_compensate(self, tx: Transaction, envelope: dict) -> None:
        """Undo the saga's completed steps in reverse order, in one transaction."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        repo = uow.billing
        saga = repo.saga(p["tenant_id"], p["saga_id"], lock=True)
        if saga is None or saga.status != SagaStatus.COMPENSATING:
            return
        self._compensate(uow, saga)

    def _compensate(self, uow: BillingUnitOfWork, saga: SagaRecord) -> None:
        repo = uow.billing
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
                self._grant(uow, tenant_id, sub_id, plan, seats,
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
            if sub is not None and sub.status != SubscriptionStatus.CANCELED:
                canceled = repo.save_subscription(
                    replace(sub.with_status(SubscriptionStatus.CANCELED), canceled_at=now, next_retry_at=None), now)
                publish_subscription(uow, SUBSCRIPTION_CANCELED, canceled, self.plans[canceled.plan])
        saga.compensated, saga.status, saga.step = undone, SagaStatus.COMPENSATED, SagaStatus.COMPENSATED
        SAGAS.labels(saga.kind, SagaStatus.COMPENSATED).inc()
        repo.save_saga(saga, now)

    def _refund(self, repo: BillingRepository, tenant_id: str, payment_id: str, now: datetime) -> None:
        payment = repo.payment(tenant_id, payment_id)
        if payment is None or payment.status != PaymentStatus.SUCCEEDED:
            return
        # Idempotent at the provider: a retried compensation repeats the same refund.
        refund_id = self.providers[payment.provider].refund(
            provider_payment_id=payment.provider_payment_id, amount_minor=payment.amount_minor,
            idempotency_key=f"refund:{payment.id}")
        repo.set_payment_status(tenant_id, payment_id, PaymentStatus.REFUNDED, now, refund_id)
        invoice = repo.invoice(tenant_id, str(payment.invoice_id))
        if invoice is not None and invoice.status == InvoiceStatus.PAID:
            repo.set_invoice_status(tenant_id, str(invoice.id), InvoiceStatus.REFUNDED, now)


    def _sweep_saga(self, tenant_id: str, saga_id: str, now: datetime) -> Optional[str]:
        """Re-drive a saga stuck in a step (its event lost or its answer late), or compensate it."""
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            saga = repo.saga(tenant_id, saga_id, lock=True)
            if (saga is None or saga.step_deadline > now
                    or saga.status not in (SagaStatus.RUNNING, SagaStatus.COMPENSATING)):
                return None
            if saga.status == SagaStatus.COMPENSATING:
                self._compensate(uow, saga)
                return "sagas_compensated"
            if saga.attempts + 1 >= self.saga_max_attempts:
                self._begin_compensation(uow, saga, f"timed out at {saga.step}", now)
                return "sagas_compensated"
            saga.attempts += 1
            saga.step_deadline = now + self.step_timeout
            repo.save_saga(saga, now)
            if saga.step == "await_plan_tier":
                # Ask auth again (it applies a plan idempotently and answers with the saga id).
                self._grant(uow, tenant_id, str(saga.subscription_id), self.plans[saga.target["plan"]],
                            saga.target["seats"], str(saga.id), "activated" if saga.kind == "activation" else "changed")
            else:
                self._request_step(uow, tenant_id, saga_id, str(saga.subscription_id), saga.step, saga.attempts)
            return "sagas_redriven"

