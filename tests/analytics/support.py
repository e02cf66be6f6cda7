"""Envelopes as the producers publish them, validated against the real contract files."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

from bus import contracts


def new_id() -> str:
    return str(uuid.uuid4())


def at(text: str) -> str:
    """``"2026-03-02T10:00"`` -> an RFC 3339 UTC timestamp."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).isoformat()


def envelope(event_type: str, payload: dict, *, occurred_at: Optional[str] = None,
             aggregate_id: Optional[str] = None, tenant_id: Optional[str] = None) -> dict:
    """A valid envelope of ``event_type`` (raises InvalidEvent if the payload breaks its schema)."""
    parts = event_type.split(".")
    return contracts.validate({
        "id": new_id(), "type": event_type, "version": int(event_type.rsplit(".v", 1)[1]),
        "occurred_at": occurred_at or datetime.now(timezone.utc).isoformat(),
        "producer": parts[1], "tenant_id": tenant_id or payload["tenant_id"],
        "correlation_id": new_id(), "causation_id": None, "aggregate_type": parts[2],
        "aggregate_id": aggregate_id or next(iter(payload.values())), "payload": payload,
    })


VERB = "http://adlnet.gov/expapi/verbs/"


def statement(tenant: str, user: str, when: str, *, duration_s: int = 0, course_id: str = "",
              verb: str = "experienced") -> dict:
    sid = new_id()
    return envelope("careeros.tracker.statement.recorded.v1", {
        "statement_id": sid, "user_id": user, "tenant_id": tenant, "verb": VERB + verb,
        "activity_id": f"https://careeros.dev/xapi/courses/{course_id or 'x'}", "course_id": course_id,
        "lesson_id": "", "duration_s": duration_s, "timestamp": at(when)}, occurred_at=at(when))


def registered(tenant: str, user: str, name: str, role: str = "member") -> dict:
    return envelope("careeros.auth.user.registered.v1", {
        "user_id": user, "tenant_id": tenant, "tenant_kind": "organization", "org_role": role,
        "plan_tier": "team", "display_name": name, "registered_at": at("2026-03-01T08:00")},
        aggregate_id=user)


def enrolled(tenant: str, user: str, course: str, when: str, enrollment_id: Optional[str] = None) -> dict:
    return envelope("careeros.lms.enrollment.created.v1", {
        "enrollment_id": enrollment_id or new_id(), "course_id": course, "user_id": user,
        "tenant_id": tenant, "premium": False}, occurred_at=at(when))


def cancelled(tenant: str, user: str, course: str, when: str, enrollment_id: str) -> dict:
    return envelope("careeros.lms.enrollment.cancelled.v1", {
        "enrollment_id": enrollment_id, "course_id": course, "user_id": user, "tenant_id": tenant},
        occurred_at=at(when))


def completed(tenant: str, user: str, course: str, when: str, enrollment_id: str) -> dict:
    return envelope("careeros.lms.enrollment.completed.v1", {
        "enrollment_id": enrollment_id, "course_id": course, "user_id": user, "tenant_id": tenant,
        "revision": 1, "certificate_id": new_id(), "completed_at": at(when)}, occurred_at=at(when))


def certified(tenant: str, user: str, course: str, when: str) -> dict:
    return envelope("careeros.lms.certificate.issued.v1", {
        "certificate_id": new_id(), "user_id": user, "tenant_id": tenant, "course_id": course,
        "course_title": "SQL basics", "issued_at": at(when)}, occurred_at=at(when))


def quiz(tenant: str, user: str, course: str, when: str, score: int, passed: bool,
         attempt_no: int = 1) -> dict:
    return envelope("careeros.lms.quiz.attempted.v1", {
        "attempt_id": new_id(), "user_id": user, "tenant_id": tenant, "course_id": course,
        "lesson_id": new_id(), "score_percent": score, "passed": passed, "attempt_no": attempt_no},
        occurred_at=at(when))


def assigned(tenant: str, user: str, course: str, when: str, due: str = "", by: Optional[str] = None) -> dict:
    return envelope("careeros.auth.assignment.created.v1", {
        "assignment_id": new_id(), "tenant_id": tenant, "user_id": user, "course_id": course,
        "target_role": "", "assigned_by": by or new_id(), "due_at": at(due) if due else ""},
        occurred_at=at(when))


def ai_usage(tenant: str, user: str, when: str, prompt: int, completion: int, cost: int) -> dict:
    return envelope("careeros.ai_core.usage.recorded.v1", {
        "usage_id": new_id(), "tenant_id": tenant, "user_id": user, "provider": "embedded",
        "model": "careeros-small", "prompt_tokens": prompt, "completion_tokens": completion,
        "cost_micro_usd": cost, "purpose": "consultation"}, occurred_at=at(when))


def invoice(tenant: str, when: str, total_minor: int, currency: str = "EUR") -> dict:
    return envelope("careeros.billing.invoice.issued.v1", {
        "invoice_id": new_id(), "tenant_id": tenant, "subscription_id": new_id(), "currency": currency,
        "total_minor": total_minor,
        "lines": [{"description": "Team plan, 5 seats", "amount_minor": total_minor, "kind": "subscription"}],
        "issued_at": at(when)}, occurred_at=at(when))
