"""The billing service over gRPC (``careeros.billing.v1.BillingService``).

A plain grpcio servicer hosted by ``careeros grpc`` (grpcio does not run under
eventlet), calling the same service layer as the nameko entrypoints.
DomainErrors become a status plus trailing metadata in ``grpc_support``.
"""
from __future__ import annotations

from typing import Callable, Optional

import grpc

from careeros_services.billing.service import BillingService, build
from careeros_services.common.caller import Caller
from contracts.grpc import billing_pb2, billing_pb2_grpc

SERVICE_NAME = billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name

_SUB_FIELDS = ("id", "tenant_id", "plan", "interval", "seats", "status", "currency", "current_period_start",
               "current_period_end", "trial_end", "cancel_at_period_end", "canceled_at", "credit_minor",
               "next_retry_at", "payment_method")


def subscription_message(sub: Optional[dict]) -> Optional[billing_pb2.Subscription]:
    if sub is None:
        return None
    return billing_pb2.Subscription(**{k: (sub[k] if sub[k] is not None else "") for k in _SUB_FIELDS})


def invoice_message(invoice: Optional[dict]) -> Optional[billing_pb2.Invoice]:
    if invoice is None:
        return None
    return billing_pb2.Invoice(
        id=invoice["id"], subscription_id=invoice["subscription_id"], status=invoice["status"],
        reason=invoice["reason"], currency=invoice["currency"], total_minor=invoice["total_minor"],
        period_start=invoice["period_start"], period_end=invoice["period_end"], issued_at=invoice["issued_at"],
        paid_at=invoice["paid_at"], lines=[billing_pb2.InvoiceLine(**line) for line in invoice["lines"]])


def state_message(state: dict) -> billing_pb2.SubscriptionState:
    payment = state.get("payment")
    return billing_pb2.SubscriptionState(subscription=subscription_message(state["subscription"]),
                                         latest_invoice=invoice_message(state["latest_invoice"]),
                                         payment=billing_pb2.PaymentOutcome(**payment) if payment else None)


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    """Every call acts on the verified caller's tenant."""

    def __init__(self, service: BillingService):
        self.service = service

    def ListPlans(self, request, context: grpc.ServicerContext):
        return billing_pb2.ListPlansResponse(plans=[billing_pb2.Plan(**p) for p in self.service.list_plans()])

    def StartSubscription(self, request, context: grpc.ServicerContext):
        return state_message(self.service.start_subscription(
            Caller.from_message(request.caller), request.plan, request.interval, request.seats,
            request.payment_method, request.trial_days))

    def GetSubscription(self, request, context: grpc.ServicerContext):
        view = self.service.get_subscription(Caller.from_message(request.caller))
        return billing_pb2.SubscriptionView(subscription=subscription_message(view["subscription"]),
                                            plan=view["plan"], seats=view["seats"],
                                            entitlements=view["entitlements"])

    def ChangeSubscription(self, request, context: grpc.ServicerContext):
        return state_message(self.service.change_subscription(
            Caller.from_message(request.caller),
            plan=request.plan if request.HasField("plan") else None,
            seats=request.seats if request.HasField("seats") else None,
            payment_method=request.payment_method if request.HasField("payment_method") else None,
            interval=request.interval if request.HasField("interval") else None))

    def CancelSubscription(self, request, context: grpc.ServicerContext):
        return state_message(self.service.cancel_subscription(Caller.from_message(request.caller),
                                                              request.at_period_end))

    def ListInvoices(self, request, context: grpc.ServicerContext):
        invoices = self.service.list_invoices(Caller.from_message(request.caller), request.limit or 50)
        return billing_pb2.ListInvoicesResponse(invoices=[invoice_message(i) for i in invoices])

    def HandleWebhook(self, request, context: grpc.ServicerContext):
        result = self.service.handle_webhook(request.provider, request.payload, request.signature)
        return billing_pb2.HandleWebhookResponse(received=result["received"], applied=result["applied"],
                                                 duplicate=result.get("duplicate", False))


def registration(config: dict) -> tuple[Callable, BillingServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    return (billing_pb2_grpc.add_BillingServiceServicer_to_server, BillingServicer(build(config)), SERVICE_NAME)
