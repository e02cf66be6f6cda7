"""Billing in PostgreSQL: Peewee models and a repository with domain verbs.

As in every service, the repository runs each query on the connection of
the unit of work it is given (``tx.db``) and names the tenant explicitly;
row-level security is the second lock. Schema: ``migrations/m0001_initial.py``.
"""
from __future__ import annotations

import uuid
from dataclasses import fields as dc_fields, replace
from datetime import datetime
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.billing.domain import InvoiceStatus, Line, SagaStatus, Subscription, SubscriptionStatus
from careeros_services.common.unit_of_work import UnitOfWork

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py): metered usage per person. Subscriptions,
# invoices and payments are the tenant's books and stay (tax law); the service anonymises them.
PERSONAL_ROWS = (("usage_records", "user_id = %(user)s AND tenant_id = %(tenant)s"),)
_MY_SUBSCRIPTIONS = ("tenant_id = %(tenant)s AND subscription_id IN"
                     " (SELECT id FROM subscriptions WHERE user_id = %(user)s)")
EXPORTED_ROWS = PERSONAL_ROWS + (
    ("subscriptions", "user_id = %(user)s AND tenant_id = %(tenant)s"), ("invoices", _MY_SUBSCRIPTIONS),
    ("invoice_lines", "tenant_id = %(tenant)s AND invoice_id IN (SELECT id FROM invoices WHERE "
                      + _MY_SUBSCRIPTIONS + ")"))


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class SubscriptionRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    plan = peewee.TextField()
    interval = peewee.TextField()
    seats = peewee.IntegerField()
    status = peewee.TextField()
    currency = peewee.CharField(max_length=3)
    payment_method = peewee.TextField()
    provider = peewee.TextField()
    current_period_start = DateTimeTZField()
    current_period_end = DateTimeTZField()
    anchor_day = peewee.IntegerField()
    trial_end = DateTimeTZField(null=True)
    cancel_at_period_end = peewee.BooleanField(default=False)
    canceled_at = DateTimeTZField(null=True)
    credit_minor = peewee.BigIntegerField(default=0)
    dunning_failures = peewee.IntegerField(default=0)
    first_failed_at = DateTimeTZField(null=True)
    next_retry_at = DateTimeTZField(null=True)
    provider_customer = peewee.TextField(default="")
    version = peewee.BigIntegerField(default=1)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "subscriptions"


class InvoiceRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    subscription_id = peewee.UUIDField()
    currency = peewee.CharField(max_length=3)
    status = peewee.TextField(default=InvoiceStatus.DRAFT)
    reason = peewee.TextField()
    target = BinaryJSONField(default=dict)
    total_minor = peewee.BigIntegerField(default=0)
    period_start = DateTimeTZField()
    period_end = DateTimeTZField()
    issued_at = DateTimeTZField(null=True)
    paid_at = DateTimeTZField(null=True)
    closed_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "invoices"


class InvoiceLineRecord(_Model):
    id = peewee.BigAutoField()
    tenant_id = peewee.UUIDField()
    invoice_id = peewee.UUIDField()
    position = peewee.IntegerField()
    description = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    kind = peewee.TextField()

    class Meta:
        table_name = "invoice_lines"


class PaymentRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    invoice_id = peewee.UUIDField()
    provider = peewee.TextField()
    provider_payment_id = peewee.TextField()
    idempotency_key = peewee.TextField()
    attempt = peewee.IntegerField()
    amount_minor = peewee.BigIntegerField()
    currency = peewee.CharField(max_length=3)
    status = peewee.TextField()
    failure_code = peewee.TextField(default="")
    refund_id = peewee.TextField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "payments"


class SagaRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    subscription_id = peewee.UUIDField()
    kind = peewee.TextField()
    trigger_key = peewee.TextField()
    payment_id = peewee.UUIDField(null=True)
    step = peewee.TextField()
    status = peewee.TextField()
    before = BinaryJSONField()
    target = BinaryJSONField()
    done = BinaryJSONField(default=list)
    compensated = BinaryJSONField(default=list)
    attempts = peewee.IntegerField(default=0)
    step_deadline = DateTimeTZField()
    error = peewee.TextField(default="")
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "sagas"


class EntitlementRecord(_Model):
    tenant_id = peewee.UUIDField(primary_key=True)
    subscription_id = peewee.UUIDField(null=True)
    plan = peewee.TextField()
    seats = peewee.IntegerField()
    features = BinaryJSONField()
    saga_id = peewee.TextField(default="")
    confirmed_plan = peewee.TextField(null=True)
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "entitlements"


class UsageRecord(_Model):
    usage_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    tokens = peewee.BigIntegerField()
    recorded_at = DateTimeTZField()

    class Meta:
        table_name = "usage_records"


class WebhookEventRecord(_Model):
    provider = peewee.TextField()
    event_id = peewee.TextField()
    tenant_id = peewee.UUIDField()
    type = peewee.TextField()
    received_at = DateTimeTZField()

    class Meta:
        table_name = "webhook_events"
        primary_key = peewee.CompositeKey("provider", "event_id")


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


_SUB_FIELDS = [f.name for f in dc_fields(Subscription) if f.name not in ("extra",)]


def _sub_to_domain(row: SubscriptionRecord) -> Subscription:
    values = {name: getattr(row, name) for name in _SUB_FIELDS}
    values.update(id=str(row.id), tenant_id=str(row.tenant_id), user_id=str(row.user_id))
    return Subscription(**values)


def _sub_to_row(sub: Subscription) -> dict:
    return {getattr(SubscriptionRecord, name): getattr(sub, name) for name in _SUB_FIELDS}


class BillingRepository:
    """Billing rows of one unit of work (``uow.billing``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    # --- subscriptions ---------------------------------------------------------------------
    def live_subscription(self, tenant_id: str, *, lock: bool = False) -> Optional[Subscription]:
        query = (SubscriptionRecord.select()
                 .where((SubscriptionRecord.tenant_id == tenant_id) & (SubscriptionRecord.status != SubscriptionStatus.CANCELED)))
        if lock:
            query = query.for_update()
        row = query.first(self.db)
        return _sub_to_domain(row) if row else None

    def subscription(self, tenant_id: str, sub_id: str, *, lock: bool = False,
                     skip_locked: bool = False) -> Optional[Subscription]:
        query = SubscriptionRecord.select().where((SubscriptionRecord.tenant_id == tenant_id)
                                                  & (SubscriptionRecord.id == sub_id))
        if lock:
            query = query.for_update("FOR UPDATE SKIP LOCKED" if skip_locked else True)
        row = query.first(self.db)
        return _sub_to_domain(row) if row else None

    def latest_subscription(self, tenant_id: str) -> Optional[Subscription]:
        row = (SubscriptionRecord.select().where(SubscriptionRecord.tenant_id == tenant_id)
               .order_by(SubscriptionRecord.created_at.desc()).first(self.db))
        return _sub_to_domain(row) if row else None

    def insert_subscription(self, sub: Subscription) -> bool:
        """False when the tenant already has a live subscription (the partial unique index)."""
        values = {SubscriptionRecord.id: sub.id, SubscriptionRecord.tenant_id: sub.tenant_id, **_sub_to_row(sub)}
        cursor = (SubscriptionRecord.insert(values).on_conflict_ignore()
                  .returning(SubscriptionRecord.id).execute(self.db))
        return len(list(cursor)) == 1

    def save_subscription(self, sub: Subscription, now: datetime) -> Subscription:
        """Write the subscription (its row is locked by the caller) with version + 1."""
        saved = replace(sub, version=sub.version + 1, updated_at=now)
        (SubscriptionRecord.update(_sub_to_row(saved))
         .where((SubscriptionRecord.tenant_id == sub.tenant_id) & (SubscriptionRecord.id == sub.id))
         .execute(self.db))
        return saved

    # --- invoices --------------------------------------------------------------------------
    def invoice(self, tenant_id: str, invoice_id: str) -> Optional[InvoiceRecord]:
        return (InvoiceRecord.select().where((InvoiceRecord.tenant_id == tenant_id)
                                             & (InvoiceRecord.id == invoice_id)).first(self.db))

    def issue_invoice(self, invoice_id: str, sub: Subscription, reason: str, lines: list[Line],
                      period_start: datetime, period_end: datetime, now: datetime,
                      target: Optional[dict] = None) -> Optional[InvoiceRecord]:
        """Create the invoice as a draft with its lines, then issue it (the trigger checks the total).

        Returns None when an invoice with this id exists (ids are derived from
        what is billed, so a repeated renewal finds the first one).
        """
        inserted = (InvoiceRecord.insert({
            InvoiceRecord.id: invoice_id, InvoiceRecord.tenant_id: sub.tenant_id,
            InvoiceRecord.subscription_id: sub.id, InvoiceRecord.currency: sub.currency,
            InvoiceRecord.reason: reason, InvoiceRecord.target: target or {},
            InvoiceRecord.period_start: period_start,
            InvoiceRecord.period_end: period_end, InvoiceRecord.created_at: now,
        }).on_conflict_ignore().returning(InvoiceRecord.id).execute(self.db))
        if not list(inserted):
            return None
        if lines:
            InvoiceLineRecord.insert_many([
                {"tenant_id": sub.tenant_id, "invoice_id": invoice_id, "position": i, "description": line.description,
                 "amount_minor": line.amount_minor, "kind": line.kind} for i, line in enumerate(lines)
            ]).execute(self.db)
        total = sum(line.amount_minor for line in lines)
        (InvoiceRecord.update(status=InvoiceStatus.OPEN, total_minor=total, issued_at=now)
         .where((InvoiceRecord.tenant_id == sub.tenant_id) & (InvoiceRecord.id == invoice_id)).execute(self.db))
        return self.invoice(sub.tenant_id, invoice_id)

    def set_invoice_status(self, tenant_id: str, invoice_id: str, status: str, now: datetime) -> None:
        values = {"status": status}
        if status == InvoiceStatus.PAID:
            values["paid_at"] = now
        elif status in (InvoiceStatus.VOID, InvoiceStatus.REFUNDED, InvoiceStatus.UNCOLLECTIBLE):
            values["closed_at"] = now
        (InvoiceRecord.update(values).where((InvoiceRecord.tenant_id == tenant_id)
                                            & (InvoiceRecord.id == invoice_id)
                                            & (InvoiceRecord.status != status)).execute(self.db))

    def invoice_lines(self, tenant_id: str, invoice_ids: list[str]) -> dict[str, list[dict]]:
        lines: dict[str, list[dict]] = {i: [] for i in invoice_ids}
        if not invoice_ids:
            return lines
        for row in (InvoiceLineRecord.select()
                    .where((InvoiceLineRecord.tenant_id == tenant_id) & (InvoiceLineRecord.invoice_id << invoice_ids))
                    .order_by(InvoiceLineRecord.invoice_id, InvoiceLineRecord.position).execute(self.db)):
            lines[str(row.invoice_id)].append({"description": row.description, "amount_minor": row.amount_minor,
                                               "kind": row.kind})
        return lines

    def invoices(self, tenant_id: str, limit: int = 50) -> list[InvoiceRecord]:
        return list(InvoiceRecord.select().where(InvoiceRecord.tenant_id == tenant_id)
                    .order_by(InvoiceRecord.created_at.desc(), InvoiceRecord.id).limit(limit).execute(self.db))

    def open_invoice(self, tenant_id: str, sub_id: str) -> Optional[InvoiceRecord]:
        return (InvoiceRecord.select().where((InvoiceRecord.tenant_id == tenant_id)
                                             & (InvoiceRecord.subscription_id == sub_id)
                                             & (InvoiceRecord.status == InvoiceStatus.OPEN))
                .order_by(InvoiceRecord.created_at.desc()).first(self.db))

    # --- payments --------------------------------------------------------------------------
    def payment(self, tenant_id: str, payment_id: str) -> Optional[PaymentRecord]:
        return (PaymentRecord.select().where((PaymentRecord.tenant_id == tenant_id)
                                             & (PaymentRecord.id == payment_id)).first(self.db))

    def payment_by_key(self, tenant_id: str, key: str) -> Optional[PaymentRecord]:
        return (PaymentRecord.select().where((PaymentRecord.tenant_id == tenant_id)
                                             & (PaymentRecord.idempotency_key == key)).first(self.db))

    def payment_by_provider_id(self, tenant_id: str, provider: str, provider_payment_id: str) -> Optional[PaymentRecord]:
        return (PaymentRecord.select().where((PaymentRecord.tenant_id == tenant_id)
                                             & (PaymentRecord.provider == provider)
                                             & (PaymentRecord.provider_payment_id == provider_payment_id))
                .first(self.db))

    def record_payment(self, tenant_id: str, invoice: InvoiceRecord, provider: str, provider_payment_id: str,
                       key: str, attempt: int, status: str, failure_code: str, now: datetime) -> PaymentRecord:
        """Insert the payment once per idempotency key; a repeat returns the stored one."""
        (PaymentRecord.insert({
            PaymentRecord.id: str(uuid.uuid5(uuid.NAMESPACE_URL, f"careeros-billing-payment:{key}")),
            PaymentRecord.tenant_id: tenant_id, PaymentRecord.invoice_id: invoice.id,
            PaymentRecord.provider: provider, PaymentRecord.provider_payment_id: provider_payment_id,
            PaymentRecord.idempotency_key: key, PaymentRecord.attempt: attempt,
            PaymentRecord.amount_minor: invoice.total_minor, PaymentRecord.currency: invoice.currency,
            PaymentRecord.status: status, PaymentRecord.failure_code: failure_code,
            PaymentRecord.created_at: now, PaymentRecord.updated_at: now,
        }).on_conflict_ignore().execute(self.db))
        return self.payment_by_key(tenant_id, key)

    def set_payment_status(self, tenant_id: str, payment_id: str, status: str, now: datetime,
                           refund_id: Optional[str] = None) -> None:
        values = {"status": status, "updated_at": now}
        if refund_id:
            values["refund_id"] = refund_id
        PaymentRecord.update(values).where((PaymentRecord.tenant_id == tenant_id)
                                           & (PaymentRecord.id == payment_id)).execute(self.db)

    # --- sagas -----------------------------------------------------------------------------
    def insert_saga(self, values: dict) -> bool:
        """False when a saga for this trigger exists already (a duplicated trigger)."""
        cursor = (SagaRecord.insert(values).on_conflict_ignore().returning(SagaRecord.id).execute(self.db))
        return len(list(cursor)) == 1

    def saga(self, tenant_id: str, saga_id: str, *, lock: bool = False) -> Optional[SagaRecord]:
        query = SagaRecord.select().where((SagaRecord.tenant_id == tenant_id) & (SagaRecord.id == saga_id))
        if lock:
            query = query.for_update()
        return query.first(self.db)

    def save_saga(self, saga: SagaRecord, now: datetime) -> None:
        saga.updated_at = now
        SagaRecord.update({
            SagaRecord.step: saga.step, SagaRecord.status: saga.status, SagaRecord.done: saga.done,
            SagaRecord.compensated: saga.compensated, SagaRecord.attempts: saga.attempts,
            SagaRecord.step_deadline: saga.step_deadline, SagaRecord.error: saga.error,
            SagaRecord.updated_at: now,
        }).where((SagaRecord.tenant_id == saga.tenant_id) & (SagaRecord.id == saga.id)).execute(self.db)

    def open_saga_for(self, tenant_id: str, sub_id: str) -> Optional[SagaRecord]:
        return (SagaRecord.select().where((SagaRecord.tenant_id == tenant_id) & (SagaRecord.subscription_id == sub_id)
                                          & (SagaRecord.status << (SagaStatus.RUNNING, SagaStatus.COMPENSATING)))
                .first(self.db))

    # --- entitlements ----------------------------------------------------------------------
    def entitlement(self, tenant_id: str) -> Optional[EntitlementRecord]:
        return EntitlementRecord.select().where(EntitlementRecord.tenant_id == tenant_id).first(self.db)

    def set_entitlement(self, tenant_id: str, sub_id: Optional[str], plan: str, seats: int, features: list[str],
                        saga_id: str, now: datetime) -> None:
        (EntitlementRecord.insert({
            EntitlementRecord.tenant_id: tenant_id, EntitlementRecord.subscription_id: sub_id,
            EntitlementRecord.plan: plan, EntitlementRecord.seats: seats, EntitlementRecord.features: features,
            EntitlementRecord.saga_id: saga_id, EntitlementRecord.updated_at: now,
        }).on_conflict(conflict_target=[EntitlementRecord.tenant_id], update={
            EntitlementRecord.subscription_id: sub_id, EntitlementRecord.plan: plan,
            EntitlementRecord.seats: seats, EntitlementRecord.features: features,
            EntitlementRecord.saga_id: saga_id, EntitlementRecord.updated_at: now,
        }).execute(self.db))

    def confirm_plan(self, tenant_id: str, plan: str) -> None:
        (EntitlementRecord.update(confirmed_plan=plan).where(EntitlementRecord.tenant_id == tenant_id)
         .execute(self.db))

    # --- usage and webhooks ----------------------------------------------------------------
    def record_usage(self, usage_id: str, tenant_id: str, user_id: str, tokens: int, at: datetime) -> bool:
        cursor = (UsageRecord.insert({UsageRecord.usage_id: usage_id, UsageRecord.tenant_id: tenant_id,
                                      UsageRecord.user_id: user_id, UsageRecord.tokens: tokens,
                                      UsageRecord.recorded_at: at})
                  .on_conflict_ignore().returning(UsageRecord.usage_id).execute(self.db))
        return len(list(cursor)) == 1

    def tokens_used(self, tenant_id: str, start: datetime, end: datetime) -> int:
        return int(UsageRecord.select(peewee.fn.COALESCE(peewee.fn.SUM(UsageRecord.tokens), 0))
                   .where((UsageRecord.tenant_id == tenant_id) & (UsageRecord.recorded_at >= start)
                          & (UsageRecord.recorded_at < end)).scalar(self.db))

    def claim_webhook(self, provider: str, event_id: str, tenant_id: str, event_type: str, now: datetime) -> bool:
        """Record a provider event id; False when it was processed before."""
        cursor = (WebhookEventRecord.insert({
            WebhookEventRecord.provider: provider, WebhookEventRecord.event_id: event_id,
            WebhookEventRecord.tenant_id: tenant_id, WebhookEventRecord.type: event_type,
            WebhookEventRecord.received_at: now,
        }).on_conflict_ignore().returning(WebhookEventRecord.event_id).execute(self.db))
        return len(list(cursor)) == 1

    # --- cross-tenant ids (SECURITY DEFINER functions) -------------------------------------
    def due_subscriptions(self, at: datetime, limit: int = 200) -> list[tuple[str, str]]:
        cursor = self.db.execute_sql("SELECT tenant_id, subscription_id FROM billing_due_subscriptions(%s, %s)",
                                     (at, limit))
        return [(str(t), str(s)) for t, s in cursor.fetchall()]

    def stuck_sagas(self, at: datetime, limit: int = 200) -> list[tuple[str, str]]:
        cursor = self.db.execute_sql("SELECT tenant_id, saga_id FROM billing_stuck_sagas(%s, %s)", (at, limit))
        return [(str(t), str(s)) for t, s in cursor.fetchall()]

    def payment_tenant(self, provider: str, provider_payment_id: str) -> Optional[str]:
        row = self.db.execute_sql("SELECT billing_payment_tenant(%s, %s)", (provider, provider_payment_id)).fetchone()
        return str(row[0]) if row and row[0] else None


class BillingUnitOfWork(UnitOfWork):
    """One billing transaction and its repository."""

    repositories = {"billing": BillingRepository}
    billing: BillingRepository
