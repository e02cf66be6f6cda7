"""Learning analytics: the rules behind the read models and reports. Pure Python.

The analytics service keeps its own read models, fed by every producer's
events (Open edX Aspects keeps xAPI and LMS events in ClickHouse and reports
from materialised views; here PostgreSQL tables play that part). This module
holds what does not need the database: the report's date range, who may see
what, how counts become rates and series, how an event becomes a fact row,
and the CSV export with its formula-injection guard.

Definitions (the documented meaning of every figure; see docs/services/analytics.md):

* A learner is *active* on a day when at least one xAPI statement of theirs
  has its timestamp on that UTC day; weekly series use ISO weeks (Monday).
* *Enrolments* of a period are those created in it and not cancelled by its
  end; *completed* are those of them the LMS completed (``lms.enrollment.completed``,
  the one definition of completion) by the period's end; the completion rate is completed / enrolled.
* *Assignments* of a period are those created in it; one naming a course is
  completed by a certificate of that course issued by the period's end; one
  not completed whose due date has passed (by the end of the period, or now
  if that is earlier) is overdue.
* Quiz, AI usage and invoice figures count the rows that happened in the period.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional, Sequence

from careeros_services.common.errors import Forbidden, ValidationFailed

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366
ADMIN_ROLES = frozenset({"owner", "admin"})
# A single statement claiming more than a day of time is a client bug; capping it
# keeps one bad statement from dominating a tenant's time-spent figure.
MAX_STATEMENT_DURATION_S = 24 * 3600


# --- the report's period --------------------------------------------------------------------

@dataclass(frozen=True)
class DateRange:
    """An inclusive range of UTC days."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        """The first instant of the range (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=timezone.utc)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the range (UTC): ranges are half-open in SQL."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=timezone.utc)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def weeks(self) -> list[date]:
        """The Monday of every ISO week the range touches."""
        first, last = week_start(self.start), week_start(self.end)
        return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def _parse_day(name: str, text: str, errors: dict) -> Optional[date]:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append("must be a date (YYYY-MM-DD)")
        return None


def parse_range(date_from: str, date_to: str, today: date) -> DateRange:
    """The range named by the ``from`` and ``to`` query values (both optional, inclusive).

    ``to`` defaults to ``today``, ``from`` to 30 days ending at ``to``. Raises
    ValidationFailed naming ``from``/``to`` for a bad date, a reversed range or
    one longer than :data:`MAX_RANGE_DAYS`.
    """
    errors: dict[str, list[str]] = {}
    end = _parse_day("to", date_to, errors) if date_to else today
    start = _parse_day("from", date_from, errors) if date_from else None
    if errors:
        raise ValidationFailed("The date range is invalid.", fields=errors)
    assert end is not None
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ValidationFailed("The date range is invalid.", fields={"from": ["must not be after to"]})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed("The date range is invalid.",
                               fields={"to": [f"the range must span at most {MAX_RANGE_DAYS} days"]})
    return DateRange(start, end)


DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def parse_page(limit: int, offset: int) -> tuple[int, int]:
    """A page of the learner report: ``limit`` 1..1000 (0 = the default 100), ``offset`` >= 0."""
    errors: dict[str, list[str]] = {}
    if not 0 <= limit <= MAX_PAGE_SIZE:
        errors["limit"] = [f"must be between 1 and {MAX_PAGE_SIZE}"]
    if offset < 0:
        errors["offset"] = ["must not be negative"]
    if errors:
        raise ValidationFailed("The page is invalid.", fields=errors)
    return (limit or DEFAULT_PAGE_SIZE), offset


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


# --- who sees what ---------------------------------------------------------------------------

def report_scope(org_role: str) -> str:
    """``"tenant"`` for the tenant's owners and admins, ``"self"`` for everyone else.

    Instructors see their own row only: the brief grants tenant-wide reports
    to owners and admins, and least privilege covers the rest.
    """
    return "tenant" if org_role in ADMIN_ROLES else "self"


def require_tenant_scope(org_role: str) -> None:
    """Refuse tenant-wide figures to anyone but an owner or admin."""
    if report_scope(org_role) != "tenant":
        raise Forbidden("Only the organisation's owners and admins can see its analytics.",
                        code="analytics_forbidden")


# --- numbers ---------------------------------------------------------------------------------

def percent(part: int, whole: int) -> int:
    """``part / whole`` as an integer percentage, rounded half up; 0 when ``whole`` is 0."""
    if whole <= 0:
        return 0
    return min(100, (200 * part + whole) // (2 * whole))


def rounded_mean(total: int, count: int) -> int:
    """``total / count`` rounded half up; 0 for no values."""
    if count <= 0:
        return 0
    return (2 * total + count) // (2 * count)


def daily_series(counts: Mapping[date, int], period: DateRange) -> list[dict]:
    """Active learners per day of the period, zero-filled."""
    return [{"date": day.isoformat(), "active_learners": int(counts.get(day, 0))} for day in period.days()]


def completions_series(counts: Mapping[date, int], period: DateRange) -> list[dict]:
    """Completions (certificates issued) per day of the period, zero-filled."""
    return [{"date": day.isoformat(), "completions": int(counts.get(day, 0))} for day in period.days()]


def weekly_series(counts: Mapping[date, int], period: DateRange) -> list[dict]:
    """Active learners per ISO week the period touches (counting days inside the period), zero-filled."""
    return [{"week_start": monday.isoformat(), "active_learners": int(counts.get(monday, 0))}
            for monday in period.weeks()]


# --- events to fact rows ---------------------------------------------------------------------

def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (naive input is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def optional_time(text: str) -> Optional[datetime]:
    """Like :func:`parse_time`, but ``""`` (the contracts' "none") is None."""
    return parse_time(text) if text else None


def statement_duration(duration_s: int) -> int:
    """A statement's duration as counted: never negative, at most a day."""
    return max(0, min(int(duration_s), MAX_STATEMENT_DURATION_S))


def lock_order(envelope: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """Sort key putting a batch's events in the order of the shared rows they write.

    The rows two partitions can both write are a learner's day of activity
    (tenant, day, user) and a learner's row (tenant, user); ordering events by
    tenant, then the statement's day, then user makes every batch take them in
    one global order.
    """
    payload = envelope.get("payload") or {}
    day = ""
    if envelope.get("type", "").startswith("careeros.tracker.statement.") and payload.get("timestamp"):
        day = parse_time(payload["timestamp"]).date().isoformat()
    return (envelope.get("tenant_id") or "", day, str(payload.get("user_id") or ""), envelope.get("id", ""))


# --- reports ---------------------------------------------------------------------------------

LEARNER_COLUMNS: tuple[str, ...] = (
    "user_id", "display_name", "role", "active_days", "statements", "time_spent_s", "last_active_at",
    "enrollments", "enrollments_completed", "completion_rate_percent", "certificates",
    "quiz_attempts", "average_quiz_score_percent", "quizzes_passed",
    "assignments", "assignments_completed", "ai_requests", "ai_tokens", "ai_cost_micro_usd",
)
_COUNT_COLUMNS = ("active_days", "statements", "time_spent_s", "enrollments", "enrollments_completed",
                  "certificates", "quiz_attempts", "quizzes_passed", "assignments",
                  "assignments_completed", "ai_requests", "ai_tokens", "ai_cost_micro_usd")


def learner_row(facts: Mapping[str, Any]) -> dict:
    """One learner's report row from the repository's per-learner sums.

    ``facts`` has ``user_id`` and, each optional, ``display_name``, ``role``,
    ``last_active_at`` (datetime), the counts in :data:`_COUNT_COLUMNS` and
    ``quiz_score_total``; derived rates are computed here.
    """
    counts = {name: int(facts.get(name) or 0) for name in _COUNT_COLUMNS}
    last = facts.get("last_active_at")
    row = {
        "user_id": str(facts["user_id"]),
        "display_name": facts.get("display_name") or "",
        "role": facts.get("role") or "",
        "last_active_at": last.astimezone(timezone.utc).isoformat() if last else "",
        **counts,
        "completion_rate_percent": percent(counts["enrollments_completed"], counts["enrollments"]),
        "average_quiz_score_percent": rounded_mean(int(facts.get("quiz_score_total") or 0),
                                                   counts["quiz_attempts"]),
    }
    return {name: row[name] for name in LEARNER_COLUMNS}


def overview(period: DateRange, facts: Mapping[str, Any]) -> dict:
    """The tenant's overview from the repository's tenant-wide sums.

    ``facts`` keys: ``daily`` and ``weekly`` ({date: active learners}), ``completions_daily``
    ({date: certificates issued}), ``active_learners``,
    ``statements``, ``time_spent_s``, ``enrollments_created``, ``enrollments_cancelled``,
    ``enrollments``, ``enrollments_completed``, ``certificates``, ``quiz_attempts``,
    ``quiz_score_total``, ``quizzes_passed``, ``assignments``, ``assignments_completed``,
    ``assignments_overdue``, ``ai_requests``, ``ai_prompt_tokens``, ``ai_completion_tokens``,
    ``ai_cost_micro_usd``, ``revenue`` ([{currency, total_minor, invoices}]) and ``events``
    ([{event_type, events}]: every domain event of the tenant in the period, by type).
    """
    n = {key: int(value or 0) for key, value in facts.items()
         if key not in ("daily", "weekly", "completions_daily", "revenue", "events")}
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "active_learners": {
            "total": n.get("active_learners", 0),
            "daily": daily_series(facts.get("daily", {}), period),
            "weekly": weekly_series(facts.get("weekly", {}), period),
        },
        "activity": {"statements": n.get("statements", 0), "time_spent_s": n.get("time_spent_s", 0)},
        "enrollments": {
            "created": n.get("enrollments_created", 0),
            "cancelled": n.get("enrollments_cancelled", 0),
            "cohort": n.get("enrollments", 0),
            "completed": n.get("enrollments_completed", 0),
            "completion_rate_percent": percent(n.get("enrollments_completed", 0), n.get("enrollments", 0)),
        },
        "certificates": n.get("certificates", 0),
        "completions_daily": completions_series(facts.get("completions_daily", {}), period),
        "quizzes": {
            "attempts": n.get("quiz_attempts", 0),
            "passed": n.get("quizzes_passed", 0),
            "average_score_percent": rounded_mean(n.get("quiz_score_total", 0), n.get("quiz_attempts", 0)),
            "pass_rate_percent": percent(n.get("quizzes_passed", 0), n.get("quiz_attempts", 0)),
        },
        "assignments": {
            "total": n.get("assignments", 0),
            "completed": n.get("assignments_completed", 0),
            "overdue": n.get("assignments_overdue", 0),
            "completion_rate_percent": percent(n.get("assignments_completed", 0), n.get("assignments", 0)),
        },
        "ai_usage": {
            "requests": n.get("ai_requests", 0),
            "prompt_tokens": n.get("ai_prompt_tokens", 0),
            "completion_tokens": n.get("ai_completion_tokens", 0),
            "cost_micro_usd": n.get("ai_cost_micro_usd", 0),
        },
        "revenue": [{"currency": r["currency"], "total_minor": int(r["total_minor"]),
                     "invoices": int(r["invoices"])}
                    for r in sorted(facts.get("revenue", []), key=lambda r: r["currency"])],
        "events": [{"event_type": r["event_type"], "events": int(r["events"])}
                   for r in sorted(facts.get("events", []), key=lambda r: r["event_type"])],
    }


# --- CSV export ------------------------------------------------------------------------------

# A spreadsheet runs a cell starting with one of these as a formula (OWASP
# "CSV injection"); tab and carriage return are on OWASP's list too.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One cell's text: numbers as they are, text prefixed with ``'`` if a spreadsheet would run it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def render_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """RFC 4180 CSV (CRLF, quotes doubled, fields with separators quoted), header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in columns])
    return out.getvalue()
