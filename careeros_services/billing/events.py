"""The events billing publishes and consumes, and the payloads it builds for them."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from bus.store import Transaction
from careeros_services.billing import domain
from careeros_services.billing.domain import Plan, Subscription
from careeros_services.billing.persistence import InvoiceRecord

ENTITLEMENT_CHANGED = "careeros.billing.entitlement.changed.v1"
SUBSCRIPTION_ACTIVATED = "careeros.billing.subscription.activated.v1"
SUBSCRIPTION_CANCELED = "careeros.billing.subscription.canceled.v1"
SUBSCRIPTION_PAST_DUE = "careeros.billing.subscription.past_due.v1"
INVOICE_ISSUED = "careeros.billing.invoice.issued.v1"
PAYMENT_SUCCEEDED = "careeros.billing.payment.succeeded.v1"   # notifications mails the receipt
PAYMENT_FAILED = "careeros.billing.payment.failed.v1"         # notifications mails each dunning step
SAGA_ADVANCED = "careeros.billing.saga.advanced.v1"
SAGA_COMPENSATE = "careeros.billing.saga.compensation_requested.v1"
PLAN_CHANGED = "careeros.auth.tenant.plan_changed.v1"
AI_USAGE = "careeros.ai_core.usage.recorded.v1"


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
