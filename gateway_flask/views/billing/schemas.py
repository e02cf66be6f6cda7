"""Bodies of /billing. Money is an integer of minor units (cents) beside a currency."""
import marshmallow as ma
from marshmallow import validate

from careeros_services.common.config import load_config
from contracts.payments import SANDBOX_CARDS
from gateway_flask.extensions.api import Schema


def _payment_method() -> validate.Validator:
    """The sandbox provider knows only its test cards (say so, as an enum); Stripe takes its own ids."""
    if (load_config().get("billing") or {}).get("provider", "sandbox") == "sandbox":
        return validate.OneOf(sorted(SANDBOX_CARDS))
    return validate.Regexp(r"^(pm_[A-Za-z0-9_]{1,96}|[0-9]{12,19})$", error="must be a payment method id")


PAYMENT_METHOD = _payment_method()


class PlanOut(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    pricing = ma.fields.String(metadata={"description": "free | per_user | per_seat"})
    currency = ma.fields.String()
    monthly_minor = ma.fields.Integer()
    annual_minor = ma.fields.Integer()
    min_seats = ma.fields.Integer()
    max_seats = ma.fields.Integer()
    entitlements = ma.fields.List(ma.fields.String())
    ai_tokens_included = ma.fields.Integer()
    overage_minor_per_1k = ma.fields.Integer()
    ai_quota = ma.fields.Integer(metadata={"description": "AI answers per user per month (-1: unlimited); "
                                                          "what ai_core enforces"})
    seats_included = ma.fields.Integer(metadata={"description": "organisation seats without a per-seat purchase; "
                                                                "what auth enforces"})


class PlansOut(Schema):
    plans = ma.fields.List(ma.fields.Nested(PlanOut))


class SubscriptionOut(Schema):
    id = ma.fields.String()
    tenant_id = ma.fields.String()
    plan = ma.fields.String()
    interval = ma.fields.String()
    seats = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "incomplete | trialing | active | past_due | canceled"})
    currency = ma.fields.String()
    current_period_start = ma.fields.String()
    current_period_end = ma.fields.String()
    trial_end = ma.fields.String()
    cancel_at_period_end = ma.fields.Boolean()
    canceled_at = ma.fields.String()
    credit_minor = ma.fields.Integer()
    next_retry_at = ma.fields.String()
    payment_method = ma.fields.String()


class InvoiceLineOut(Schema):
    description = ma.fields.String()
    amount_minor = ma.fields.Integer()
    kind = ma.fields.String()


class InvoiceOut(Schema):
    id = ma.fields.String()
    subscription_id = ma.fields.String()
    status = ma.fields.String()
    reason = ma.fields.String()
    currency = ma.fields.String()
    total_minor = ma.fields.Integer()
    period_start = ma.fields.String()
    period_end = ma.fields.String()
    issued_at = ma.fields.String()
    paid_at = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(InvoiceLineOut))


class InvoicesOut(Schema):
    invoices = ma.fields.List(ma.fields.Nested(InvoiceOut))


class PaymentOutcomeOut(Schema):
    status = ma.fields.String(metadata={"description": "succeeded | declined | retryable"})
    failure_code = ma.fields.String(metadata={"description": "the provider's reason, e.g. requires_action"})
    failure_message = ma.fields.String()


class NextStepOut(Schema):
    poll = ma.fields.String(metadata={"description": "where to poll the subscription's state"})
    status = ma.fields.String(metadata={"description": "requires_action | processing_error | activating"})


class SubscriptionStateOut(Schema):
    subscription = ma.fields.Nested(SubscriptionOut)
    latest_invoice = ma.fields.Nested(InvoiceOut, allow_none=True)
    payment = ma.fields.Nested(PaymentOutcomeOut, allow_none=True,
                               metadata={"description": "the charge this command made; null when none"})
    next = ma.fields.Nested(NextStepOut, metadata={"description": "only on 202"})


class SubscriptionViewOut(Schema):
    subscription = ma.fields.Nested(SubscriptionOut, allow_none=True)
    plan = ma.fields.String(metadata={"description": "what the tenant is entitled to now"})
    seats = ma.fields.Integer()
    entitlements = ma.fields.List(ma.fields.String())


class StartIn(Schema):
    plan = ma.fields.String(required=True, validate=validate.OneOf(["pro", "team"]))
    interval = ma.fields.String(load_default="month", validate=validate.OneOf(["month", "year"]))
    seats = ma.fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 100_000))
    payment_method = ma.fields.String(required=True, validate=PAYMENT_METHOD,
                                      metadata={"description": "sandbox: pm_card_visa, pm_card_chargeDeclined, "
                                                               "pm_card_retry, pm_card_authenticationRequired "
                                                               "(or Stripe test card numbers)"})
    trial_days = ma.fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 90))


class ChangeIn(Schema):
    plan = ma.fields.String(validate=validate.OneOf(["pro", "team"]))
    seats = ma.fields.Integer(strict=True, validate=validate.Range(1, 100_000))
    payment_method = ma.fields.String(validate=PAYMENT_METHOD)
    interval = ma.fields.String(validate=validate.OneOf(["month", "year"]),
                                metadata={"description": "a new interval restarts the billing cycle now"})

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("name plan, seats, interval or payment_method", field_name="plan")


class CancelIn(Schema):
    at_period_end = ma.fields.Boolean(load_default=True)


class WebhookOut(Schema):
    received = ma.fields.Boolean()
    applied = ma.fields.Boolean()
    duplicate = ma.fields.Boolean()
