"""The billing service layer: what the nameko and gRPC entrypoints both call.

Plans, subscriptions (start, change, cancel), invoices, the provider's
webhooks and AI usage. The rest of billing lives beside it, one concern a module:

- ``activation_saga.py``: the saga that turns a confirmed payment into access, and its compensation;
- ``dunning.py``: charging invoices, failed payments and their retries, renewals, the timer;
- ``events.py``: the event types billing publishes and handles, and their payloads;
- ``domain.py``: the rules (plans, periods, proration, the states of subscriptions, invoices, payments, sagas).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Mapping, Optional

from bus.handlers import EventHandlingService, handles
from bus import privacy
from bus.store import ServiceStore, Transaction
from careeros_services.billing import domain, persistence
from careeros_services.billing.activation_saga import STEPS, ActivationSaga, SagaStepFailed  # noqa: F401
from careeros_services.billing.domain import (NAMESPACE, InvoiceStatus, PaymentStatus, Plan, Subscription,
                                              SubscriptionStatus)
from careeros_services.billing.dunning import Dunning
from careeros_services.billing.events import (  # noqa: F401 - the event types, for callers and tests
    AI_USAGE, ENTITLEMENT_CHANGED, INVOICE_ISSUED, PAYMENT_FAILED, PAYMENT_SUCCEEDED, PLAN_CHANGED, SAGA_ADVANCED,
    SAGA_COMPENSATE, SUBSCRIPTION_ACTIVATED, SUBSCRIPTION_CANCELED, SUBSCRIPTION_PAST_DUE, iso, publish_invoice)
from careeros_services.billing.payments import REQUIRES_ACTION, PaymentDeclined, PaymentProvider, make_provider
from careeros_services.billing.settings import Settings
from careeros_services.billing.persistence import BillingRepository, BillingUnitOfWork, InvoiceRecord, PaymentRecord
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, require_uuids
from careeros_services.common.privacy import PersonalDataOwner

log = logging.getLogger(__name__)

SERVICE = "billing"


def _outcome(payment: Optional[PaymentRecord]) -> Optional[dict]:
    """What the provider answered to the charge a command just made (None: nothing was charged)."""
    if payment is None:
        return None
    return {"status": payment.status, "failure_code": payment.failure_code or "",
            "failure_message": "the customer must authenticate the payment (3-D Secure)"
            if payment.failure_code == REQUIRES_ACTION else ""}


def _require_manager(org_role: str) -> None:
    if org_role not in domain.ROLES_THAT_MANAGE_BILLING:
        raise Forbidden("Only the tenant's owner or an admin manages its billing.", code="billing_forbidden",
                        fields={"org_role": [f"must be owner or admin, is {org_role or 'none'}"]})


class BillingService(ActivationSaga, Dunning, PersonalDataOwner, EventHandlingService):
    """Plans, subscriptions, invoices, payments; the activation saga; renewals and dunning."""

    consumer_name = SERVICE
    unit_of_work_class = BillingUnitOfWork
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
                 providers: Optional[Mapping[str, PaymentProvider]] = None, default_provider: str = Settings.provider,
                 dunning_days: tuple[int, ...] = domain.DEFAULT_DUNNING_DAYS,
                 step_timeout_s: float = Settings.saga_step_timeout_s,
                 saga_max_attempts: int = Settings.saga_max_attempts, payment_grace_s: float = Settings.payment_grace_s,
                 failpoints: Optional[Mapping[str, str]] = None, clock: Clock = system_clock):
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

    def get_subscription(self, caller: Caller) -> dict:
        """The tenant's live subscription (or its last one) and what it is entitled to now."""
        tenant_id = caller.tenant_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            sub = repo.live_subscription(tenant_id) or repo.latest_subscription(tenant_id)
            ent = repo.entitlement(tenant_id)
        free = self.plans["free"]
        return {
            "subscription": sub.to_dict() if sub else None,
            "plan": ent.plan if ent else "free",
            "seats": ent.seats if ent else 0,
            "entitlements": list(ent.features) if ent else free.entitlements(0),
        }

    def list_invoices(self, caller: Caller, limit: int = 50) -> list[dict]:
        """The tenant's invoices, newest first (owner/admin only)."""
        _require_manager(caller.org_role)
        tenant_id = caller.tenant_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            rows = repo.invoices(tenant_id, max(1, min(int(limit), 100)))
            lines = repo.invoice_lines(tenant_id, [str(r.id) for r in rows])
        return [self._invoice_dict(row, lines[str(row.id)]) for row in rows]

    @staticmethod
    def _invoice_dict(row: InvoiceRecord, lines: list[dict]) -> dict:
        return {"id": str(row.id), "subscription_id": str(row.subscription_id), "status": row.status,
                "reason": row.reason, "currency": row.currency, "total_minor": row.total_minor,
                "period_start": iso(row.period_start), "period_end": iso(row.period_end),
                "issued_at": iso(row.issued_at), "paid_at": iso(row.paid_at), "lines": lines}

    # ========================================================================= commands =========

    def start_subscription(self, caller: Caller, plan: str, interval: str, seats: int, payment_method: str,
                           trial_days: int = 0) -> dict:
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
        _require_manager(caller.org_role)
        tenant_id, user_id = caller.tenant_id, caller.user_id
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
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            if sub.trial_end is None:
                # Retry the first charge from the timer if we crash before recording it.
                sub = replace(sub, next_retry_at=now + self.payment_grace)
            if not repo.insert_subscription(sub):
                raise Conflict("The tenant already has a subscription; change or cancel it instead.",
                               code="subscription_exists", fields={"plan": ["a subscription exists"]})
            if sub.trial_end is not None:
                before = self._before(repo, tenant_id, sub)
                self._start_saga(uow, sub, "activation", f"trial:{sub.id}", None, before,
                                 {"plan": sub.plan, "seats": sub.seats, "interval": sub.interval,
                                  "status": SubscriptionStatus.TRIALING},
                                 "trial_started")
            else:
                invoice_id = str(uuid.uuid5(NAMESPACE, f"{sub.id}:initial"))
                line = domain.subscription_line(chosen, interval, seats, sub.current_period_start,
                                                sub.current_period_end)
                invoice = repo.issue_invoice(invoice_id, sub, "subscription_create", [line], sub.current_period_start,
                                             sub.current_period_end, now,
                                             {"plan": sub.plan, "seats": sub.seats, "interval": sub.interval})
                publish_invoice(uow, invoice, [line])
        payment = self._collect(tenant_id, sub.id, invoice_id, attempt=1) if invoice_id is not None else None
        if payment is not None and payment.status == PaymentStatus.DECLINED:
            self._undo_declined_start(tenant_id, sub.id, payment)
        return {**self._state(tenant_id, sub.id), "payment": _outcome(payment)}

    def _undo_declined_start(self, tenant_id: str, sub_id: str, payment: PaymentRecord) -> None:
        """A declined first payment: void the invoice, cancel the never-active subscription, raise the 402."""
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            sub = repo.subscription(tenant_id, sub_id, lock=True)
            if sub is not None and sub.status == SubscriptionStatus.INCOMPLETE:
                self._cancel(uow, sub, self.clock(), reason="declined")
        raise PaymentDeclined(f"The card was declined ({payment.failure_code or 'card_declined'}); "
                              "no subscription was made.", code="payment_declined",
                              fields={"payment_method": [payment.failure_code or "card_declined"]})

    def change_subscription(self, caller: Caller, plan: Optional[str] = None,
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
        _require_manager(caller.org_role)
        tenant_id = caller.tenant_id
        provider = self.providers[self.default_provider]
        if payment_method is not None:
            if not isinstance(payment_method, str) or not payment_method:
                raise ValidationFailed("Bad payment method.", fields={"payment_method": ["must not be empty"]})
            with self.unit_of_work(tenant_id) as uow:
                current = uow.billing.live_subscription(tenant_id)
            # Saved with the provider first (outside the transaction: it is a remote call).
            _, payment_method = provider.attach(payment_method, tenant_id, current.provider_customer if current else "")
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
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
            if sub.status not in domain.RUNNING:
                raise Conflict(f"A {sub.status} subscription cannot change plan.", code="invalid_subscription_state",
                               fields={"status": [f"is {sub.status}"]})
            if repo.open_saga_for(tenant_id, sub.id) is not None:
                raise Conflict("A change of this subscription is still in progress; retry in a moment.",
                               code="change_in_progress", retry_after=1)
            invoice_id = self._invoice_change(uow, sub, new_plan, new_seats, new_interval, now)
        payment = None
        if invoice_id is not None:
            payment = self._collect(tenant_id, sub.id, invoice_id, attempt=1)
            # A change is settled synchronously or not at all (its invoice is voided on any failure),
            # so a card that needs 3-D Secure here is refused with that reason too.
            if payment is None or payment.status != PaymentStatus.SUCCEEDED:
                code = payment.failure_code if payment else PaymentStatus.DECLINED
                raise PaymentDeclined(f"The payment for the change was declined ({code}); nothing changed.",
                                      fields={"payment_method": [code]})
        return {**self._state(tenant_id, sub.id), "payment": _outcome(payment)}

    def _invoice_change(self, uow: BillingUnitOfWork, sub: Subscription, new_plan: Plan,
                        new_seats: int, new_interval: str, now: datetime) -> Optional[str]:
        """Issue the change's invoice (proration or a new cycle); returns its id when it must be charged.
        Nothing to charge: the invoice is settled here and the change saga starts at once."""
        repo = uow.billing
        old_plan = self.plans[sub.plan]
        target = {"plan": new_plan.code, "seats": new_seats, "interval": new_interval}
        period = (now, sub.current_period_end)
        if sub.status == SubscriptionStatus.TRIALING:
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
        publish_invoice(uow, invoice, lines)
        if total > 0:
            return invoice_id
        repo.set_invoice_status(sub.tenant_id, invoice_id, InvoiceStatus.PAID, now)
        self._start_saga(uow, sub, "change", f"invoice:{invoice_id}", None,
                         self._before(repo, sub.tenant_id, sub), target, "payment_confirmed")
        return None

    def cancel_subscription(self, caller: Caller, at_period_end: bool = True) -> dict:
        """Cancel at the end of the paid period (default) or now (entitlements withdrawn at once)."""
        _require_manager(caller.org_role)
        tenant_id = caller.tenant_id
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            sub = repo.live_subscription(tenant_id, lock=True)
            if sub is None:
                raise NotFound("The tenant has no subscription.", code="subscription_not_found")
            if repo.open_saga_for(tenant_id, sub.id) is not None:
                raise Conflict("A change of this subscription is still in progress; retry in a moment.",
                               code="change_in_progress", retry_after=1)
            if at_period_end and sub.status in domain.RUNNING:
                sub = repo.save_subscription(replace(sub, cancel_at_period_end=True), now)
            else:
                sub = self._cancel(uow, sub, now, reason="canceled")
            return self._state_in(repo, sub.id, tenant_id)

    # ========================================================================= usage ============

    @handles(AI_USAGE)
    def _on_ai_usage(self, tx: Transaction, envelope: dict) -> None:
        """Count AI tokens for usage lines on the next invoice (above the plan's allowance)."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        occurred = datetime.fromisoformat(envelope["occurred_at"])
        uow.billing.record_usage(p["usage_id"], envelope["tenant_id"], p["user_id"],
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
        with self.unit_of_work(None) as uow:
            tenant_id = uow.billing.payment_tenant(provider.name, obj["id"])
        tenant_id = tenant_id or metadata.get("tenant_id")
        try:
            tenant_id = require_uuids(tenant_id=tenant_id)[0]
        except ValidationFailed:
            return {"received": True, "applied": False}
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.billing
            if not repo.claim_webhook(provider.name, event["id"], tenant_id, event["type"], now):
                return {"received": True, "applied": False, "duplicate": True}
            if event["type"] != "payment_intent.succeeded":
                return {"received": True, "applied": False}
            payment = repo.payment_by_provider_id(tenant_id, provider.name, obj["id"])
            invoice_id = str(payment.invoice_id) if payment else metadata.get("invoice_id")
            invoice = repo.invoice(tenant_id, invoice_id) if invoice_id else None
            if invoice is None or invoice.status != InvoiceStatus.OPEN:
                return {"received": True, "applied": False}
            sub = repo.subscription(tenant_id, str(invoice.subscription_id), lock=True)
            if payment is None:
                attempt = int(metadata.get("attempt") or 1)
                payment = repo.record_payment(tenant_id, invoice, provider.name, obj["id"], f"{invoice_id}:{attempt}",
                                              attempt, PaymentStatus.SUCCEEDED, "", now)
            elif payment.status != PaymentStatus.SUCCEEDED:
                repo.set_payment_status(tenant_id, str(payment.id), PaymentStatus.SUCCEEDED, now)
            repo.set_invoice_status(tenant_id, invoice_id, InvoiceStatus.PAID, now)
            self._on_paid(uow, sub, repo.invoice(tenant_id, invoice_id), repo.payment(tenant_id, str(payment.id)))
        return {"received": True, "applied": True}

    # ========================================================================= helpers ==========

    def _state(self, tenant_id: str, sub_id: str) -> dict:
        with self.unit_of_work(tenant_id) as uow:
            return self._state_in(uow.billing, sub_id, tenant_id)

    def _state_in(self, repo: BillingRepository, sub_id: str, tenant_id: str) -> dict:
        sub = repo.subscription(tenant_id, sub_id)
        invoice = repo.invoices(tenant_id, 1)
        latest = None
        if invoice and str(invoice[0].subscription_id) == sub_id:
            latest_id = str(invoice[0].id)
            latest = self._invoice_dict(invoice[0], repo.invoice_lines(tenant_id, [latest_id])[latest_id])
        return {"subscription": sub.to_dict(), "latest_invoice": latest}


def build(config: dict, clock: Clock = system_clock) -> BillingService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    settings = Settings.from_config(config)
    providers = {name: make_provider(name, {"providers": settings.providers}) for name in ("sandbox", "stripe")
                 if name == "sandbox" or (settings.providers.get("stripe") or {}).get("api_key")}
    return BillingService(
        store, plans=domain.load_plans(settings.plans), providers=providers,
        default_provider=settings.provider or Settings.provider,
        dunning_days=tuple(int(d) for d in (settings.dunning_retry_days or domain.DEFAULT_DUNNING_DAYS)),
        step_timeout_s=settings.saga_step_timeout_s or Settings.saga_step_timeout_s,
        saga_max_attempts=settings.saga_max_attempts or Settings.saga_max_attempts,
        payment_grace_s=settings.payment_grace_s or Settings.payment_grace_s,
        failpoints=settings.failpoint_steps(), clock=clock)