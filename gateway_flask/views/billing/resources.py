"""/billing: plans, the tenant's subscription (owner/admin change it), invoices, provider webhooks."""
from __future__ import annotations

import time

import redis
from flask import request

from contracts.grpc import billing_pb2
from gateway_flask.extensions.api import Blueprint
from careeros_services.common import plan_cache
from careeros_services.common.settings import BillingGatewaySettings
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.state import gateway_state
from gateway_flask.views.billing.schemas import (CancelIn, ChangeIn, InvoicesOut, PlansOut, StartIn,
                                                 SubscriptionStateOut, SubscriptionViewOut, WebhookOut)

blp = Blueprint("billing", __name__, url_prefix="/billing", description="Plans, subscriptions, invoices")
billing_rpc = rpc_client("billing")

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
    if not message.HasField("payment"):
        data["payment"] = None
    return data


@blp.route("/plans", methods=["GET"])
@blp.response(200, PlansOut)
def list_plans():
    """The plan catalogue: prices in minor units per user (pro) or per seat (team), and what each grants."""
    return _ints(to_dict(billing_rpc.ListPlans(billing_pb2.ListPlansRequest())))


POLL_URL = "/api/v1/billing/subscription"
POLL_INTERVAL_S = 0.05


def _await_plan(tenant_id: str, plan: str) -> bool:
    """Wait (bounded by ``billing.activation_wait_s``) until auth has applied ``plan`` to the tenant.

    The same cache the next request's caller reads (common.plan_cache), so once this is true that
    request is served on the new plan, with the same access token.
    """
    state = gateway_state()
    deadline = time.monotonic() + BillingGatewaySettings.from_config(state.config).activation_wait_s
    while True:
        try:
            if plan_cache.current(state.redis, tenant_id) == plan:
                return True
        except redis.RedisError:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_S)


def _answer(message, plan: str, done_status: int):
    """``done_status`` once the plan is in force; 202 with a status to poll while payment or activation is
    still under way (3-D Secure, a retryable failure, a slow saga)."""
    data = _state(message)
    paid = not message.HasField("payment") or message.payment.status == "succeeded"
    if paid and _await_plan(current_principal().tenant_id, plan):
        refreshed = billing_rpc.GetSubscription(billing_pb2.GetSubscriptionRequest(
            caller=caller(current_principal())))
        data["subscription"] = _ints(to_dict(refreshed.subscription))
        return data, done_status
    data["next"] = {"poll": POLL_URL, "status": data["payment"]["failure_code"] if not paid else "activating"}
    return data, 202, {"Location": POLL_URL}


@blp.route("/subscriptions", methods=["POST"])
@auth_required
@blp.arguments(StartIn)
@blp.response(201, SubscriptionStateOut)
@blp.alt_response(202, schema=SubscriptionStateOut, description="Payment or activation still under way: poll "
                  "`GET /billing/subscription` (`next.status`: requires_action, processing_error or activating)")
@blp.doc(security=[{"bearerAuth": []}])
def start_subscription(body: dict):
    """Subscribe your tenant (owner/admin). Paid now unless `trial_days`. 201 once the plan is in force
    (premium access works on the next request, with the same token); 202 while the payment waits for the
    customer (3-D Secure) or a retry, or activation takes longer. A declined card is a 402
    `payment_declined` naming the provider's reason in `errors.payment_method`; no subscription is left."""
    request_ = billing_pb2.StartSubscriptionRequest(caller=caller(current_principal()), **body)
    message = billing_rpc.StartSubscription(request_)
    return _answer(message, body["plan"], 201)


@blp.route("/subscription", methods=["GET"])
@auth_required
@blp.response(200, SubscriptionViewOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_subscription():
    """Your tenant's subscription (null if it never had one) and its current plan and entitlements."""
    message = billing_rpc.GetSubscription(billing_pb2.GetSubscriptionRequest(caller=caller(current_principal())))
    data = _ints(to_dict(message))
    if not message.HasField("subscription"):
        data["subscription"] = None
    return data


@blp.route("/subscription/change", methods=["POST"])
@auth_required
@blp.arguments(ChangeIn)
@blp.response(200, SubscriptionStateOut)
@blp.alt_response(202, schema=SubscriptionStateOut, description="The change is paid; its activation is still "
                  "under way: poll `GET /billing/subscription`")
@blp.doc(security=[{"bearerAuth": []}])
def change_subscription(body: dict):
    """Upgrade/downgrade now with proration to the cent (owner/admin), or replace the payment method.
    200 once the new plan is in force; a declined charge changes nothing (402 `payment_declined` with the
    provider's reason)."""
    request_ = billing_pb2.ChangeSubscriptionRequest(caller=caller(current_principal()), **body)
    message = billing_rpc.ChangeSubscription(request_)
    if "plan" not in body:
        return _state(message)  # seats, interval or payment method: the plan in force stays
    return _answer(message, body["plan"], 200)


@blp.route("/subscription/cancel", methods=["POST"])
@auth_required
@blp.arguments(CancelIn)
@blp.response(200, SubscriptionStateOut)
@blp.doc(security=[{"bearerAuth": []}])
def cancel_subscription(body: dict):
    """Cancel at the end of the paid period (default) or now (`at_period_end: false`; premium access ends
    on the next request); owner/admin."""
    request_ = billing_pb2.CancelSubscriptionRequest(caller=caller(current_principal()), **body)
    data = _state(billing_rpc.CancelSubscription(request_))
    if not body.get("at_period_end", True):
        _await_plan(current_principal().tenant_id, "free")
    return data


@blp.route("/invoices", methods=["GET"])
@auth_required
@blp.response(200, InvoicesOut)
@blp.doc(security=[{"bearerAuth": []}])
def list_invoices():
    """Your tenant's invoices, newest first (owner/admin). Issued invoices never change."""
    return _ints(to_dict(billing_rpc.ListInvoices(billing_pb2.ListInvoicesRequest(
        caller=caller(current_principal())))))


@blp.route("/webhooks/<string:provider>", methods=["POST"])
@blp.response(200, WebhookOut)
def webhook(provider: str):
    """A payment provider's event (no token: the `Stripe-Signature` HMAC over the raw body is checked;
    the sandbox uses the same scheme with its own secret). Processed once per event id."""
    return to_dict(billing_rpc.HandleWebhook(billing_pb2.HandleWebhookRequest(
        provider=provider, payload=request.get_data(cache=True),
        signature=request.headers.get("Stripe-Signature", ""))))
