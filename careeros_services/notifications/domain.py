"""Which event makes which message, for whom, and whether a person may opt out. Pure Python.

A message is keyed by the id of the event that caused it (one event, at most one message).
*Required* messages (account security, money) are always sent; *optional* ones honour the
person's preferences and carry a one-click unsubscribe link (RFC 8058).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from bus.contracts import (AUTH_ASSIGNMENT_CREATED_V1, AUTH_INVITE_CREATED_V1, AUTH_USER_EXPORT_READY_V1,
                           AUTH_USER_PASSWORD_RESET_REQUESTED_V1, AUTH_USER_VERIFICATION_REQUESTED_V1,
                           BILLING_PAYMENT_FAILED_V1, BILLING_PAYMENT_SUCCEEDED_V1,
                           BILLING_SUBSCRIPTION_CANCELED_V1, LMS_CERTIFICATE_ISSUED_V1)
from careeros_services.common.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class Kind:
    """A kind of message: its template, who receives it and whether it may be turned off."""

    name: str
    event_type: str
    required: bool
    recipient: str = "user_id"   # the payload field naming the recipient (a user, or an invite)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("email_verification", AUTH_USER_VERIFICATION_REQUESTED_V1, True),
    Kind("password_reset", AUTH_USER_PASSWORD_RESET_REQUESTED_V1, True),
    Kind("invite", AUTH_INVITE_CREATED_V1, True, recipient="invite_id"),
    Kind("assignment", AUTH_ASSIGNMENT_CREATED_V1, False),
    Kind("certificate_issued", LMS_CERTIFICATE_ISSUED_V1, False),
    Kind("payment_receipt", BILLING_PAYMENT_SUCCEEDED_V1, True),
    Kind("payment_failed", BILLING_PAYMENT_FAILED_V1, True),
    Kind("plan_lapsed", BILLING_SUBSCRIPTION_CANCELED_V1, True),
    Kind("export_ready", AUTH_USER_EXPORT_READY_V1, True),   # GDPR art. 15/20: the download link
)}
KIND_BY_EVENT = {k.event_type: k for k in KINDS.values()}
OPTIONAL_KINDS = tuple(sorted(k.name for k in KINDS.values() if not k.required))
STATES = ("queued", "sent", "failed", "skipped")


def masked_address(email: str) -> str:
    """What the message log keeps of an address once sent: enough for an operator to tell
    messages apart (``a***@example.com``), not the address (auth holds it; erasure stays simple)."""
    local, _, domain_part = email.partition("@")
    return f"{local[:1]}***@{domain_part}" if domain_part else "***"


def kind_for(event_type: str) -> Kind:
    return KIND_BY_EVENT[event_type]


def recipient_of(kind: Kind, payload: dict) -> dict:
    """``{"user_id": ...}`` or ``{"invite_id": ...}``: whom to ask auth about (events carry no address)."""
    return {kind.recipient: payload[kind.recipient]}


def next_attempt(now: datetime, attempts: int, backoff_s: float, max_backoff_s: float) -> datetime:
    """When to try again after ``attempts`` failures: exponential, capped."""
    return now + timedelta(seconds=min(max_backoff_s, backoff_s * 2 ** max(0, attempts - 1)))


def validate_preferences(patch: object) -> dict[str, bool]:
    """``{kind: enabled}`` for optional kinds only; ValidationFailed naming each bad entry."""
    if not isinstance(patch, dict):
        raise ValidationFailed("Preferences must be an object.", fields={"preferences": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    for name, value in patch.items():
        if name not in KINDS:
            errors[str(name)] = ["is not a kind of message"]
        elif KINDS[name].required:
            errors[name] = ["is always sent (account security or billing) and cannot be turned off"]
        elif not isinstance(value, bool):
            errors[name] = ["must be true or false"]
    if errors:
        raise ValidationFailed("Some preferences are invalid.", fields=errors)
    return dict(patch)


# --- one-click unsubscribe tokens: HMAC over (tenant, user, kind) ------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsubscribe_token(secret: str, tenant_id: str, user_id: str, kind: str) -> str:
    """A token naming one person's one kind of message; it does not expire (as mailing lists do)."""
    body = _b64(f"{tenant_id}:{user_id}:{kind}".encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18]
    return f"{body}.{_b64(mac)}"


def read_unsubscribe_token(secret: str, token: object) -> tuple[str, str, str]:
    """``(tenant_id, user_id, kind)`` of a token we signed; NotFound for anything else."""
    invalid = NotFound("This unsubscribe link is not valid.", code="unsubscribe_token_invalid")
    if not isinstance(token, str) or len(token) > 300 or token.count(".") != 1:
        raise invalid
    body, mac = token.split(".")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18])
    if not hmac.compare_digest(mac, expected):
        raise invalid
    try:
        tenant_id, user_id, kind = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split(":")
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    if kind not in OPTIONAL_KINDS:
        raise invalid
    return tenant_id, user_id, kind


def message_id_header(event_id: str, domain_name: str) -> str:
    """A Message-ID that is the same on every attempt: a receiver can drop a duplicate send."""
    return f"<{event_id}@{domain_name}>"


def from_domain(sender: str) -> str:
    """``"CareerOS <no-reply@careeros.local>"`` -> ``careeros.local``."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "careeros.local"


def org_name(contact: dict) -> Optional[str]:
    """The organisation's name when the tenant is an organisation (templates name it)."""
    return contact.get("tenant_name") if contact.get("tenant_kind") == "organization" else None
