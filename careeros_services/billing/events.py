"""The events billing publishes and consumes, and the payloads it builds for them."""
from __future__ import annotations

from bus.contracts import (  # the types are declared once, in contracts/events
    AI_CORE_USAGE_RECORDED_V1,
    AUTH_TENANT_PLAN_CHANGED_V1,
    BILLING_ENTITLEMENT_CHANGED_V1,
    BILLING_INVOICE_ISSUED_V1,
    BILLING_PAYMENT_FAILED_V1,
    BILLING_PAYMENT_SUCCEEDED_V1,
    BILLING_SAGA_ADVANCED_V1,
    BILLING_SAGA_COMPENSATION_REQUESTED_V1,
    BILLING_SUBSCRIPTION_ACTIVATED_V1,
    BILLING_SUBSCRIPTION_CANCELED_V1,
    BILLING_SUBSCRIPTION_PAST_DUE_V1,
)

from datetime import datetime, timezone
from typing import Optional

from bus.store import Transaction
from careeros_services.billing import domain
from careeros_services.billing.domain import Plan, Subscription
from careeros_services.billing.persistence import InvoiceRecord

ENTITLEMENT_CHANGED = BILLING_ENTITLEMENT_CHANGED_V1
SUBSCRIPTION_ACTIVATED = BILLING_SUBSCRIPTION_ACTIVATED_V1
SUBSCRIPTION_CANCELED = BILLING_SUBSCRIPTION_CANCELED_V1
SUBSCRIPTION_PAST_DUE = BILLING_SUBSCRIPTION_PAST_DUE_V1
INVOICE_ISSUED = BILLING_INVOICE_ISSUED_V1
PAYMENT_SUCCEEDED = BILLING_PAYMENT_SUCCEEDED_V1   # notifications mails the receipt
PAYMENT_FAILED = BILLING_PAYMENT_FAILED_V1         # notifications mails each dunning step
SAGA_ADVANCED = BILLING_SAGA_ADVANCED_V1
SAGA_COMPENSATE = BILLING_SAGA_COMPENSATION_REQUESTED_V1
PLAN_CHANGED = AUTH_TENANT_PLAN_CHANGED_V1
AI_USAGE = AI_CORE_USAGE_RECORDED_V1


def iso(moment: Optional[datetime]) -> str:
    return moment.astimezone(timezone.utc).isoformat() if moment else ""


def publish_invoice(tx: Transaction, invoice: Optional[InvoiceRecord], lines: list[domain.Line]) -> None:
    """``invoice.issued`` for a newly issued invoice (None: it existed already, nothing to say)."""
    if invoice is None:
        return
    tx.publish(INVOICE_ISSUED, aggregate_id=str(invoice.id), tenant_id=str(invoice.tenant_id), payload={
        "invoice_id": str(invoice.id), "tenant_id": str(invoice.tenant_id),
        "subscription_id": str(invoice.subscription_id), "currency": invoice.currency,
        "total_minor": int(invoice.total_minor), "lines": [line.to_dict() for line in lines],
        "issued_at": iso(invoice.issued_at)})


def publish_subscription(tx: Transaction, event_type: str, sub: Subscription, plan: Plan) -> None:
    """A subscription event (activated, canceled, past_due) carrying its state now."""
    tx.publish(event_type, aggregate_id=sub.id, tenant_id=sub.tenant_id, payload={
        "subscription_id": sub.id, "tenant_id": sub.tenant_id, "user_id": sub.user_id, "plan": sub.plan,
        "seats": plan.billed_seats(sub.seats), "status": sub.status, "period_end": iso(sub.current_period_end)})
