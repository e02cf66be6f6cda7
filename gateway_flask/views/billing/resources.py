"""/billing: plans, the tenant's subscription (owner/admin change it), invoices, provider webhooks."""
from __future__ import annotations

from flask import request

from contracts.grpc import billing_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, client, to_dict
from gateway_flask.views.billing.schemas import (CancelIn, ChangeIn, InvoicesOut, PlansOut, StartIn,
                                                 SubscriptionStateOut, SubscriptionViewOut, WebhookOut)

blp = Blueprint("billing", __name__, url_prefix="/billing", description="Plans, subscriptions, invoices")

_INT_FIELDS = ("monthly_minor", "annual_minor", "ai_tokens_included", "overage_minor_per_1k", "credit_minor",
               "total_minor", "amount_minor")


def _ints(data):
    """int64 fields come out of protobuf JSON as strings; money is an integer here."""
    if isinstance(data, dict):
        return {k: (int(v) if k in _INT_FIELDS and isinstance(v, str) else _ints(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_ints(v) for v in data]
    return data


def _state(message) -> dict:
    data = _ints(to_dict(message))
    if not message.HasField("latest_invoice"):
        data["latest_invoice"] = None
    return data


@blp.route("/plans", methods=["GET"])
@blp.response(200, PlansOut)
def list_plans():
    """The plan catalogue: prices in minor units per user (pro) or per seat (team), and what each grants."""
    return _ints(to_dict(client("billing").call("ListPlans", billing_pb2.ListPlansRequest())))


@blp.route("/subscriptions", methods=["POST"])
@auth_required
@blp.arguments(StartIn)
@blp.response(201, SubscriptionStateOut)
@blp.doc(security=[{"bearerAuth": []}])
def start_subscription(body: dict):
    """Subscribe your tenant (owner/admin). Paid now unless `trial_days`; access follows once the
    activation saga has run (status `incomplete` until then). A declined card leaves it `incomplete`
    with retries on the dunning schedule."""
    request_ = billing_pb2.StartSubscriptionRequest(caller=caller(current_principal()), **body)
    return _state(client("billing").call("StartSubscription", request_))


@blp.route("/subscription", methods=["GET"])
@auth_required
@blp.response(200, SubscriptionViewOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_subscription():
    """Your tenant's subscription (null if it never had one) and its current plan and entitlements."""
    message = client("billing").call("GetSubscription",
                                     billing_pb2.GetSubscriptionRequest(caller=caller(current_principal())))
    data = _ints(to_dict(message))
    if not message.HasField("subscription"):
        data["subscription"] = None
    return data


@blp.route("/subscription/change", methods=["POST"])
@auth_required
@blp.arguments(ChangeIn)
@blp.response(200, SubscriptionStateOut)
@blp.doc(security=[{"bearerAuth": []}])
def change_subscription(body: dict):
    """Upgrade/downgrade now with proration to the cent (owner/admin), or replace the payment method.
    A declined charge changes nothing (402 `payment_declined`)."""
    request_ = billing_pb2.ChangeSubscriptionRequest(caller=caller(current_principal()), **body)
    return _state(client("billing").call("ChangeSubscription", request_))


@blp.route("/subscription/cancel", methods=["POST"])
@auth_required
@blp.arguments(CancelIn)
@blp.response(200, SubscriptionStateOut)
@blp.doc(security=[{"bearerAuth": []}])
def cancel_subscription(body: dict):
    """Cancel at the end of the paid period (default) or now (`at_period_end: false`); owner/admin."""
    request_ = billing_pb2.CancelSubscriptionRequest(caller=caller(current_principal()), **body)
    return _state(client("billing").call("CancelSubscription", request_))


@blp.route("/invoices", methods=["GET"])
@auth_required
@blp.response(200, InvoicesOut)
@blp.doc(security=[{"bearerAuth": []}])
def list_invoices():
    """Your tenant's invoices, newest first (owner/admin). Issued invoices never change."""
    return _ints(to_dict(client("billing").call("ListInvoices", billing_pb2.ListInvoicesRequest(
        caller=caller(current_principal())))))


@blp.route("/webhooks/<string:provider>", methods=["POST"])
@blp.response(200, WebhookOut)
def webhook(provider: str):
    """A payment provider's event (no token: the `Stripe-Signature` HMAC over the raw body is checked;
    the sandbox uses the same scheme with its own secret). Processed once per event id."""
    return to_dict(client("billing").call("HandleWebhook", billing_pb2.HandleWebhookRequest(
        provider=provider, payload=request.get_data(cache=True),
        signature=request.headers.get("Stripe-Signature", ""))))
