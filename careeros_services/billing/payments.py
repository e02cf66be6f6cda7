"""Payment providers behind one interface, and webhook signatures.

``SandboxProvider`` (the default) is embedded and deterministic; ``StripeProvider``
speaks to Stripe (or a Stripe-protocol server such as localstripe) with the
official ``stripe`` client. Every charge and refund carries an idempotency key
derived from our own ids, so repeating a call after a crash does not pay twice.

Webhooks from both are signed with Stripe's scheme: header
``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``;
the sandbox uses its own secret.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Optional, Protocol

from careeros_services.billing.domain import PaymentStatus
from careeros_services.common.errors import DomainError, Unauthenticated, ValidationFailed
from contracts.payments import (SANDBOX_3DS, SANDBOX_CARDS, SANDBOX_DECLINES,  # noqa: F401 - re-exported
                                SANDBOX_RETRY, SANDBOX_SUCCEEDS)

SIGNATURE_TOLERANCE_S = 300


@dataclass(frozen=True)
class ChargeResult:
    status: str                    # succeeded | declined | retryable
    provider_payment_id: str
    failure_code: str = ""
    failure_message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == PaymentStatus.SUCCEEDED


class ProviderUnavailable(DomainError):
    code, status, grpc_status, title = "payment_provider_unavailable", 503, "UNAVAILABLE", "Payment provider unavailable"


class PaymentDeclined(DomainError):
    code, status, grpc_status, title = "payment_declined", 402, "FAILED_PRECONDITION", "Payment declined"


class PaymentProvider(Protocol):
    name: str

    def attach(self, payment_method: str, tenant_id: str, customer_ref: str = "") -> tuple[str, str]:
        """Save ``payment_method`` for recurring charges on the tenant's customer (made when
        ``customer_ref`` is empty); returns ``(customer_ref, payment_method_ref)``."""

    def charge(self, *, amount_minor: int, currency: str, payment_method: str, idempotency_key: str,
               attempt: int, metadata: dict, customer_ref: str = "", off_session: bool = False) -> ChargeResult: ...

    def refund(self, *, provider_payment_id: str, amount_minor: int, idempotency_key: str) -> str: ...

    def verify_webhook(self, payload: bytes, signature_header: str, now: Optional[float] = None) -> dict: ...


# --- signatures -------------------------------------------------------------------------------


def sign(payload: bytes, secret: str, timestamp: Optional[int] = None) -> str:
    """A ``Stripe-Signature`` header value for ``payload``."""
    t = int(timestamp if timestamp is not None else time.time())
    mac = hmac.new(secret.encode(), b"%d." % t + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class InvalidSignature(Unauthenticated):
    code = "invalid_signature"


def verify(payload: bytes, header: str, secret: str, now: Optional[float] = None,
           tolerance_s: int = SIGNATURE_TOLERANCE_S) -> dict:
    """Check a ``Stripe-Signature`` header and return the parsed event (or InvalidSignature).

    Any ``v1`` entry may match (secret rotation sends several); the timestamp
    must be within ``tolerance_s`` (replay protection); the comparison is constant-time.
    """
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        t = int(parts.get("t", [""])[0])
    except ValueError:
        raise InvalidSignature("The webhook signature header is malformed.") from None
    now = time.time() if now is None else now
    if abs(now - t) > tolerance_s:
        raise InvalidSignature("The webhook signature is too old (or from the future).")
    expected = hmac.new(secret.encode(), b"%d." % t + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise InvalidSignature("The webhook signature does not match.")
    try:
        event = json.loads(payload)
    except ValueError:
        raise ValidationFailed("The webhook body is not JSON.", fields={"body": ["must be JSON"]}) from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise ValidationFailed("The webhook is not an event.", fields={"body": ["must have id and type"]})
    return event


# --- sandbox (its test cards: contracts/payments.yaml) -------------------------------------------

REQUIRES_ACTION = "requires_action"  # failure_code of a retryable charge waiting for the customer (3-D Secure)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class SandboxProvider:
    """An embedded provider with deterministic outcomes; ids derive from idempotency keys,
    so a repeated call returns the same payment (as Stripe's Idempotency-Key does)."""

    name = "sandbox"

    def __init__(self, webhook_secret: str):
        self.webhook_secret = webhook_secret

    def attach(self, payment_method: str, tenant_id: str, customer_ref: str = "") -> tuple[str, str]:
        self.check_payment_method(payment_method)
        return customer_ref or f"sbx_cus_{_digest(tenant_id)}", payment_method

    def charge(self, *, amount_minor: int, currency: str, payment_method: str, idempotency_key: str,
               attempt: int, metadata: dict, customer_ref: str = "", off_session: bool = False) -> ChargeResult:
        if payment_method not in SANDBOX_CARDS:
            raise ValidationFailed("Unknown sandbox payment method.",
                                   fields={"payment_method": [f"must be one of {', '.join(sorted(SANDBOX_CARDS))}"]})
        payment_id = f"sbx_pi_{_digest(idempotency_key)}"
        if payment_method in SANDBOX_DECLINES:
            return ChargeResult(PaymentStatus.DECLINED, payment_id, "card_declined", "Your card was declined.")
        if payment_method in SANDBOX_RETRY and attempt <= 1:
            return ChargeResult("retryable", payment_id, "processing_error", "Try again later.")
        if payment_method in SANDBOX_3DS:
            if off_session:
                return ChargeResult(PaymentStatus.DECLINED, payment_id, "authentication_required",
                                    "The card needs authentication the customer is not present for.")
            return ChargeResult("retryable", payment_id, REQUIRES_ACTION, "The card needs 3-D Secure authentication.")
        return ChargeResult(PaymentStatus.SUCCEEDED, payment_id)

    def refund(self, *, provider_payment_id: str, amount_minor: int, idempotency_key: str) -> str:
        return f"sbx_re_{_digest(idempotency_key)}"

    def verify_webhook(self, payload: bytes, signature_header: str, now: Optional[float] = None) -> dict:
        return verify(payload, signature_header, self.webhook_secret, now)

    def check_payment_method(self, payment_method: str) -> None:
        if payment_method not in SANDBOX_CARDS:
            raise ValidationFailed("Unknown sandbox payment method.",
                                   fields={"payment_method": [f"must be one of {', '.join(sorted(SANDBOX_CARDS))}"]})


# --- Stripe -----------------------------------------------------------------------------------


class StripeProvider:
    """PaymentIntents (confirmed at once) and Refunds through the official client."""

    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, api_base: Optional[str] = None):
        import stripe

        self.webhook_secret = webhook_secret
        http = stripe.RequestsClient() if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base} if api_base else None,
                                          http_client=http, max_network_retries=0)
        self._stripe = stripe

    def attach(self, payment_method: str, tenant_id: str, customer_ref: str = "") -> tuple[str, str]:
        """A Customer per tenant (metadata names the tenant) with the payment method attached:
        what Stripe needs to charge it again off-session at renewal."""
        stripe = self._stripe
        self.check_payment_method(payment_method)
        try:
            if not customer_ref:
                customer_ref = self.client.v1.customers.create(
                    params={"metadata": {"tenant_id": tenant_id}},
                    options={"idempotency_key": f"customer:{tenant_id}"}).id
            attached = self.client.v1.payment_methods.attach(payment_method, params={"customer": customer_ref})
        except stripe.CardError as exc:
            reason = _decline_code(exc)
            raise PaymentDeclined(f"The card was declined ({reason}): {exc.user_message or exc}",
                                  fields={"payment_method": [reason]}) from None
        except stripe.InvalidRequestError as exc:
            raise ValidationFailed("The payment method was refused by the provider.",
                                   fields={"payment_method": [str(exc.user_message or exc)]}) from None
        except (stripe.APIConnectionError, stripe.APIError) as exc:
            raise ProviderUnavailable(f"attach failed: {exc}", retry_after=5) from None
        return customer_ref, attached.id

    def charge(self, *, amount_minor: int, currency: str, payment_method: str, idempotency_key: str,
               attempt: int, metadata: dict, customer_ref: str = "", off_session: bool = False) -> ChargeResult:
        stripe = self._stripe
        params = {"amount": amount_minor, "currency": currency.lower(), "payment_method": payment_method,
                  "confirm": True, "metadata": {k: str(v) for k, v in metadata.items()},
                  "payment_method_types": ["card"]}
        if customer_ref:
            params["customer"] = customer_ref
            params["off_session"] = off_session  # renewals and retries run without the customer present
        try:
            intent = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:  # a decline: 402 with the intent id in the error
            error = exc.error
            intent_id = getattr(getattr(error, "payment_intent", None), "id", None) or ""
            code = _decline_code(exc)
            status = PaymentStatus.RETRYABLE if code in ("processing_error", "rate_limit") else PaymentStatus.DECLINED
            return ChargeResult(status, intent_id or f"failed:{idempotency_key}", code, str(exc.user_message or exc))
        except stripe.InvalidRequestError as exc:
            raise ValidationFailed("The payment was refused by the provider.",
                                   fields={"payment_method": [str(exc.user_message or exc)]}) from None
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
            return ChargeResult("retryable", f"failed:{idempotency_key}", "provider_unavailable", str(exc))
        if intent.status == "succeeded":
            return ChargeResult(PaymentStatus.SUCCEEDED, intent.id)
        if intent.status in ("processing", REQUIRES_ACTION):
            return ChargeResult("retryable", intent.id, intent.status, "payment not completed")
        return ChargeResult(PaymentStatus.DECLINED, intent.id, "card_declined", "payment not completed")

    def refund(self, *, provider_payment_id: str, amount_minor: int, idempotency_key: str) -> str:
        stripe = self._stripe
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": provider_payment_id, "amount": amount_minor},
                options={"idempotency_key": idempotency_key})
        except (stripe.APIConnectionError, stripe.APIError) as exc:
            raise ProviderUnavailable(f"refund failed: {exc}") from None
        return refund.id

    def verify_webhook(self, payload: bytes, signature_header: str, now: Optional[float] = None) -> dict:
        return verify(payload, signature_header, self.webhook_secret, now)

    def check_payment_method(self, payment_method: str) -> None:
        if not payment_method.startswith("pm_"):
            raise ValidationFailed("Bad payment method.", fields={"payment_method": ["must be a Stripe pm_ id"]})


def _decline_code(exc) -> str:
    """Stripe's most specific reason for a card error: ``decline_code`` (e.g. insufficient_funds), else ``code``."""
    error = getattr(exc, "error", None)
    return (getattr(error, "decline_code", None) or getattr(exc, "code", None) or getattr(error, "code", None)
            or "card_declined")


def make_provider(name: str, config: dict) -> PaymentProvider:
    """The provider named ``name`` from the ``billing.providers`` config."""
    providers = config.get("providers", {})
    if name == "sandbox":
        return SandboxProvider(str(providers.get("sandbox", {}).get("webhook_secret") or "whsec_sandbox"))
    if name == "stripe":
        conf = providers.get("stripe", {})
        return StripeProvider(str(conf.get("api_key") or ""), str(conf.get("webhook_secret") or ""),
                              str(conf.get("api_base") or "") or None)
    raise ValidationFailed("Unknown payment provider.", fields={"provider": ["must be sandbox or stripe"]})
