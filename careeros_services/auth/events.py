"""The events auth publishes and consumes."""
from __future__ import annotations

TENANT_CREATED = "careeros.auth.tenant.created.v1"
USER_REGISTERED = "careeros.auth.user.registered.v1"
PLAN_CHANGED = "careeros.auth.tenant.plan_changed.v1"
MEMBERSHIP_CHANGED = "careeros.auth.membership.changed.v1"
ASSIGNMENT_CREATED = "careeros.auth.assignment.created.v1"
ENTITLEMENT_CHANGED = "careeros.billing.entitlement.changed.v1"
VERIFICATION_REQUESTED = "careeros.auth.user.verification_requested.v1"
PASSWORD_RESET_REQUESTED = "careeros.auth.user.password_reset_requested.v1"
INVITE_CREATED = "careeros.auth.invite.created.v1"
BILLING_AUDITED = {  # billing events recorded in the tenant's audit log, and the action they become
    "careeros.billing.subscription.activated.v1": "billing.subscription_activated",
    "careeros.billing.subscription.canceled.v1": "billing.subscription_canceled",
    "careeros.billing.subscription.past_due.v1": "billing.subscription_past_due",
    "careeros.billing.invoice.issued.v1": "billing.invoice_issued",
}
