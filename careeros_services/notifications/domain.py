"""Which event makes which message, for whom, and whether a person may opt out. Pure Python.

A message is keyed by the id of the event that caused it (one event, at most one message).
*Required* messages (account security, money) are always sent; *optional* ones honour the
person's preferences and carry a one-click unsubscribe link (RFC 8058).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Optional

from bus.contracts import (AUTH_ASSIGNMENT_CREATED_V1, AUTH_INVITE_CREATED_V1, AUTH_USER_EXPORT_READY_V1,
                           AUTH_USER_PASSWORD_RESET_REQUESTED_V1, AUTH_USER_VERIFICATION_REQUESTED_V1,
                           BILLING_PAYMENT_FAILED_V1, BILLING_PAYMENT_SUCCEEDED_V1,
                           BILLING_SUBSCRIPTION_CANCELED_V1, LMS_CERTIFICATE_ISSUED_V1,
                           LMS_ENROLLMENT_COMPLETED_V1, ROADMAP_MILESTONE_ACHIEVED_V1,
                           TRACKER_PROGRESS_UPDATED_V1, TRACKER_STATEMENT_RECORDED_V1)
from careeros_services.common.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class Kind:
    """A kind of message: its template, who receives it and whether it may be turned off."""

    name: str
    event_type: Optional[str]    # None: made by this service's own timer (the weekly digest)
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
    Kind("weekly_digest", None, False),  # on by default, like every optional kind (README: Notifications)
)}
KIND_BY_EVENT = {k.event_type: k for k in KINDS.values() if k.event_type}
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


# --- the weekly progress digest ------------------------------------------------------------------
# Weeks are ISO weeks in UTC (Monday to Sunday): the service knows no one's time zone.

# The events the digest's read model (``weekly_activity``) is kept from.
STATEMENT_RECORDED = TRACKER_STATEMENT_RECORDED_V1
PROGRESS_UPDATED = TRACKER_PROGRESS_UPDATED_V1
ENROLLMENT_COMPLETED = LMS_ENROLLMENT_COMPLETED_V1
MILESTONE_ACHIEVED = ROADMAP_MILESTONE_ACHIEVED_V1
ACTIVITY_EVENTS = (STATEMENT_RECORDED, PROGRESS_UPDATED, ENROLLMENT_COMPLETED, MILESTONE_ACHIEVED)
LESSON_DONE_VERBS = ("completed", "passed")  # as the tracker counts a lesson done
_DIGEST_NAMESPACE = uuid.UUID("5f0c2b8e-3a7d-4e49-9d1e-6f1d0b7a2c41")


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def week_start(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week ``moment`` falls in."""
    day = moment.astimezone(timezone.utc).date()
    return day - timedelta(days=day.weekday())


def digest_week(now: datetime) -> date:
    """The week a digest sent at ``now`` is about: the last complete one."""
    return week_start(now) - timedelta(days=7)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def active_day_bit(moment: datetime) -> int:
    return 1 << moment.astimezone(timezone.utc).weekday()


def lesson_done(payload: dict) -> Optional[str]:
    """The lesson a statement completed (xAPI completed or passed on a known lesson), else None."""
    verb = str(payload.get("verb", "")).rstrip("/").rsplit("/", 1)[-1].lower()
    if verb not in LESSON_DONE_VERBS:
        return None
    return payload.get("lesson_id") or None


def digest_event_id(tenant_id: str, user_id: str, monday: date) -> str:
    """The digest's message key: one per (tenant, user, week), the same whoever computes it."""
    return str(uuid.uuid5(_DIGEST_NAMESPACE, f"weekly_digest:{tenant_id}:{user_id}:{monday.isoformat()}"))


def streak_weeks(active_weeks: list[date], monday: date) -> int:
    """How many weeks in a row, ending with ``monday``'s, the person was active."""
    active, streak = set(active_weeks), 0
    while monday - timedelta(days=7 * streak) in active:
        streak += 1
    return streak


def digest_payload(activity: dict, streak: int, monday: date, web: str) -> dict:
    """What the digest says (a snapshot: the week is over), and the next thing to do."""
    course = activity["next_course_id"]
    return {
        "week": week_label(monday), "week_start": monday.isoformat(),
        "week_end": (monday + timedelta(days=6)).isoformat(),
        "lessons_completed": len(activity["lessons_completed"]), "courses_completed": activity["courses_completed"],
        "activities": activity["statements"], "minutes": activity["seconds_spent"] // 60,
        "active_days": bin(activity["active_days"]).count("1"), "milestones": list(activity["milestones"]),
        "streak_weeks": streak, "next_course_percent": activity["next_course_percent"] if course else 0,
        "next_url": f"{web}/app/learn/{course}" if course else f"{web}/app/roadmap",
        "next_is_course": bool(course),
    }


def digest_envelope(tenant_id: str, user_id: str, monday: date, payload: dict, now: datetime) -> dict:
    """The digest as the ``messages`` table keeps every message: an envelope-shaped record of its cause.
    Never published: it is this service's own, so a failed digest is not dead-lettered."""
    return {"id": digest_event_id(tenant_id, user_id, monday), "type": "weekly_digest", "tenant_id": tenant_id,
            "occurred_at": now.isoformat(), "producer": "notifications",
            "payload": {**payload, "user_id": user_id}}
