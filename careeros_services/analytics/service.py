"""The analytics service layer: event handlers that fill the read models, and the reports.

The consumer reads every domain topic: one handler (``_on_event``) takes
every contract's type, logs it per tenant, day and type, and hands the types
the reports need to their fact writer (``@_writes``). It runs inside the bus's
batch transaction, after the event's id was claimed in the inbox and the
transaction scoped to the event's tenant, so each fact is written once and
only under that tenant. Reports run in a transaction scoped to the caller's
tenant and take the caller's role from the verified token: owners and admins
see the tenant, everyone else their own row.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional

from bus import contracts
from bus.handlers import EventHandlingService, handles
from bus import privacy
from bus.store import ServiceStore, Transaction
from careeros_services.analytics import domain, persistence
from careeros_services.analytics.names import AuthNames
from careeros_services.analytics.persistence import AnalyticsUnitOfWork
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.caller import Caller
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork
from bus.contracts import (  # event types, from contracts/events
    AUTH_USER_REGISTERED_V1 as USER_REGISTERED,
    AUTH_TENANT_CREATED_V1 as TENANT_CREATED,
    AUTH_TENANT_PLAN_CHANGED_V1 as TENANT_PLAN_CHANGED,
    AUTH_MEMBERSHIP_CHANGED_V1 as MEMBERSHIP_CHANGED,
    AUTH_ASSIGNMENT_CREATED_V1 as ASSIGNMENT_CREATED,
    TRACKER_STATEMENT_RECORDED_V1 as STATEMENT_RECORDED,
    LMS_ENROLLMENT_CREATED_V1 as ENROLLMENT_CREATED,
    LMS_ENROLLMENT_CANCELLED_V1 as ENROLLMENT_CANCELLED,
    LMS_QUIZ_ATTEMPTED_V1 as QUIZ_ATTEMPTED,
    LMS_CERTIFICATE_ISSUED_V1 as CERTIFICATE_ISSUED,
    LMS_ENROLLMENT_COMPLETED_V1 as ENROLLMENT_COMPLETED,
    AI_CORE_USAGE_RECORDED_V1 as AI_USAGE_RECORDED,
    BILLING_INVOICE_ISSUED_V1 as INVOICE_ISSUED,
)

SERVICE = "analytics"



def _occurred(envelope: dict) -> datetime:
    return domain.parse_time(envelope["occurred_at"])


_WRITERS: dict[str, str] = {}  # event type -> the method writing its fact rows


def _writes(*event_types: str) -> Callable:
    """Mark the method that turns events of these types into fact rows (see ``_on_event``)."""
    def mark(fn: Callable) -> Callable:
        for event_type in event_types:
            _WRITERS[event_type] = fn.__name__
        return fn
    return mark


class AnalyticsService(ServiceWithUnitOfWork[AnalyticsUnitOfWork], PersonalDataOwner, EventHandlingService):
    """Read models of learning, AI usage and revenue per tenant, and the reports over them."""

    consumer_name = SERVICE
    unit_of_work_class = AnalyticsUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS
    # A learner's day of activity and a learner's row are shared by the partitions' batches; the
    # fact writers commute, so a batch may run in this order.
    lock_order = domain.lock_order

    def erase_extra(self, tx: Transaction, user_id: str, tenant_id: str, request: dict) -> int:
        """Assignments the person made stop naming them; their personal tenant loses its name
        (the personal rows go by ``personal_rows``; the anonymous event log stays)."""
        params = {"user": user_id, "tenant": tenant_id}
        touched = privacy.execute(tx, "UPDATE assignments SET assigned_by = '' WHERE tenant_id = %(tenant)s"
                                      " AND assigned_by = %(user)s", params)
        if privacy.is_personal_tenant(request, tenant_id):
            touched += privacy.execute(tx, "UPDATE tenants SET name = '' WHERE tenant_id = %(tenant)s", params)
        return touched

    def __init__(self, store: ServiceStore, *, clock: Clock = system_clock,
                 names: Optional[Callable[[str, str, str, list[str]], dict[str, str]]] = None):
        self.store = store
        self.clock = clock
        self.names = names  # (tenant, caller, role, ids) -> {id: display name}; None: the stored names

    @classmethod
    def subscribed_event_types(cls) -> list[str]:
        """The handled types whose contract exists: what the consumer subscribes to.

        A producer that has not published its schema yet cannot emit the event
        (producers validate), so subscribing later, when the file is there, loses nothing.
        """
        known = set(contracts.known_types())
        return [t for t in cls.handled_event_types() if t in known]

    # --- auth ------------------------------------------------------------------------------

    @_writes(TENANT_CREATED)
    def _on_tenant_created(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        uow.analytics.record_tenant(p["tenant_id"], _occurred(envelope), name=p["name"],
                                    kind=p["kind"], plan_tier=p["plan_tier"])

    @_writes(TENANT_PLAN_CHANGED)
    def _on_plan_changed(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        uow.analytics.record_tenant(p["tenant_id"], _occurred(envelope),
                                    plan_tier=p["plan_tier"])

    @_writes(USER_REGISTERED)
    def _on_user_registered(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        uow.analytics.record_learner(p["tenant_id"], p["user_id"], _occurred(envelope),
                                     display_name=p["display_name"], role=p["org_role"])

    @_writes(MEMBERSHIP_CHANGED)
    def _on_membership_changed(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        uow.analytics.record_learner(p["tenant_id"], p["user_id"], _occurred(envelope),
                                     role=p["role"])

    @_writes(ASSIGNMENT_CREATED)
    def _on_assignment_created(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_assignment({
            "tenant_id": tenant, "assignment_id": p["assignment_id"], "user_id": p["user_id"],
            "course_id": p["course_id"], "target_role": p["target_role"], "assigned_by": p["assigned_by"],
            "due_at": domain.optional_time(p["due_at"]), "assigned_at": _occurred(envelope)})

    # --- tracker ---------------------------------------------------------------------------

    @_writes(STATEMENT_RECORDED)
    def _on_statement_recorded(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        at = domain.parse_time(p["timestamp"])
        uow.analytics.record_statement({
            "tenant_id": tenant, "statement_id": p["statement_id"], "user_id": p["user_id"],
            "verb": p["verb"], "course_id": p["course_id"], "at": at, "day": at.date(),
            "duration_s": domain.statement_duration(p["duration_s"])})

    # --- lms -------------------------------------------------------------------------------

    @_writes(ENROLLMENT_CREATED)
    def _on_enrollment_created(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_enrollment({
            "tenant_id": tenant, "enrollment_id": p["enrollment_id"], "user_id": p["user_id"],
            "course_id": p["course_id"], "premium": p["premium"],
            "enrolled_at": _occurred(envelope)})

    @_writes(ENROLLMENT_CANCELLED)
    def _on_enrollment_cancelled(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_cancellation({
            "tenant_id": tenant, "enrollment_id": p["enrollment_id"], "user_id": p["user_id"],
            "course_id": p["course_id"], "cancelled_at": _occurred(envelope)})

    @_writes(ENROLLMENT_COMPLETED)
    def _on_enrollment_completed(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        """Completion is the LMS's word: the enrolment counts as completed from ``completed_at``."""
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_completion({
            "tenant_id": tenant, "enrollment_id": p["enrollment_id"], "user_id": p["user_id"],
            "course_id": p["course_id"], "completed_at": domain.parse_time(p["completed_at"])})

    @_writes(QUIZ_ATTEMPTED)
    def _on_quiz_attempted(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_quiz_attempt({
            "tenant_id": tenant, "attempt_id": p["attempt_id"], "user_id": p["user_id"],
            "course_id": p["course_id"], "lesson_id": p["lesson_id"], "score_percent": p["score_percent"],
            "passed": p["passed"], "attempt_no": p["attempt_no"],
            "attempted_at": _occurred(envelope)})

    @_writes(CERTIFICATE_ISSUED)
    def _on_certificate_issued(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_certificate({
            "tenant_id": tenant, "certificate_id": p["certificate_id"], "user_id": p["user_id"],
            "course_id": p["course_id"], "course_title": p["course_title"],
            "issued_at": domain.parse_time(p["issued_at"])})

    # --- ai_core and billing ---------------------------------------------------------------

    @_writes(AI_USAGE_RECORDED)
    def _on_ai_usage_recorded(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_ai_usage({
            "tenant_id": tenant, "usage_id": p["usage_id"], "user_id": p["user_id"],
            "provider": p["provider"], "model": p["model"], "purpose": p["purpose"],
            "prompt_tokens": p["prompt_tokens"], "completion_tokens": p["completion_tokens"],
            "cost_micro_usd": p["cost_micro_usd"], "recorded_at": _occurred(envelope)})

    @_writes(INVOICE_ISSUED)
    def _on_invoice_issued(self, uow: AnalyticsUnitOfWork, envelope: dict) -> None:
        p = envelope["payload"]
        tenant = envelope["tenant_id"]
        uow.analytics.record_invoice({
            "tenant_id": tenant, "invoice_id": p["invoice_id"], "subscription_id": p["subscription_id"],
            "currency": p["currency"], "total_minor": p["total_minor"],
            "issued_at": domain.parse_time(p["issued_at"])})

    # --- every domain event ----------------------------------------------------------------

    # Every contract's type (the consumer reads every domain topic): each event is logged
    # per tenant, day and type, and the types above also write their fact rows.
    @handles(*sorted(set(contracts.known_types()) | set(_WRITERS)))
    def _on_event(self, tx: Transaction, envelope: dict) -> None:
        """Log the event, then write its facts (the inbox claim already made this run once)."""
        uow = self.unit_of_work_in(tx)
        if envelope["tenant_id"] is None:
            return  # a platform-wide event has no tenant to report it under
        # The writers file facts under the envelope's tenant: the bus has refused a payload naming
        # another (bus.handlers.check_tenant) and the contracts require the payload's tenant_id.
        uow.analytics.log_event(envelope["tenant_id"], envelope["id"], envelope["type"],
                                _occurred(envelope).date())
        writer = _WRITERS.get(envelope["type"])
        if writer is not None:
            getattr(self, writer)(uow, envelope)

    # --- reports ---------------------------------------------------------------------------

    def _period(self, date_from: str, date_to: str) -> domain.DateRange:
        return domain.parse_range(date_from, date_to, self.clock().date())

    def overview(self, caller: Caller, date_from: str = "", date_to: str = "") -> dict:
        """The tenant's overview for ``[date_from, date_to]`` (owners and admins only).

        Raises ``Forbidden(code="analytics_forbidden")`` for other roles and
        ``ValidationFailed`` naming ``from``/``to`` for a bad range.
        """
        tenant_id = caller.tenant_id
        domain.require_tenant_scope(caller.org_role)
        period = self._period(date_from, date_to)
        with self.unit_of_work(tenant_id) as uow:
            facts = uow.analytics.overview_facts(tenant_id, period, self.clock())
        return {"tenant_id": tenant_id, **domain.overview(period, facts)}

    def learner_report(self, caller: Caller, date_from: str = "", date_to: str = "",
                       limit: int = 0, offset: int = 0) -> dict:
        """Per-learner rows for the period: every learner for owners and admins, else the caller's own.

        Paged by ``limit`` (1..1000, 0 = 100) and ``offset``; ``total`` says how
        many rows there are in all. A learner with no facts yet still gets their (zero) row.
        """
        tenant_id, user_id, org_role = caller.tenant_id, caller.user_id, caller.org_role
        limit, offset = domain.parse_page(limit, offset)
        scope = domain.report_scope(org_role)
        period = self._period(date_from, date_to)
        rows, total = self._learner_rows(tenant_id, user_id, scope, period, limit, offset)
        self._name(rows, tenant_id, user_id, org_role)
        return {"tenant_id": tenant_id, "scope": scope, "from": period.start.isoformat(),
                "to": period.end.isoformat(), "total": total, "limit": limit, "offset": offset,
                "learners": rows}

    def export_learners_csv(self, caller: Caller, date_from: str = "",
                            date_to: str = "") -> tuple[str, str]:
        """Every row of the learner report as CSV (same scope rules); returns ``(filename, text)``."""
        tenant_id, user_id, org_role = caller.tenant_id, caller.user_id, caller.org_role
        scope = domain.report_scope(org_role)
        period = self._period(date_from, date_to)
        rows, _total = self._learner_rows(tenant_id, user_id, scope, period, None, 0)
        self._name(rows, tenant_id, user_id, org_role)
        filename = f"careeros-learners-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return filename, domain.render_csv(domain.LEARNER_COLUMNS, rows)

    def _name(self, rows: list[dict], tenant_id: str, user_id: str, org_role: str) -> None:
        """Show people's current display names (auth's, one batch for the page), not ids or stale copies."""
        if self.names is None or not rows:
            return
        found = self.names(tenant_id, user_id, org_role, [row["user_id"] for row in rows])
        for row in rows:
            row["display_name"] = found.get(row["user_id"]) or row["display_name"]

    def _learner_rows(self, tenant_id: str, user_id: str, scope: str, period: domain.DateRange,
                      limit: Optional[int], offset: int) -> tuple[list[dict], int]:
        only: Optional[str] = None if scope == "tenant" else user_id
        with self.unit_of_work(tenant_id) as uow:
            facts, total = uow.analytics.learner_facts(
                tenant_id, period, self.clock(), only_user=only, limit=limit, offset=offset)
        if only and total == 0:
            facts, total = ([{"user_id": user_id}] if offset == 0 else []), 1
        return [domain.learner_row(f) for f in facts], total


def build(config: dict, *, with_names: bool = False, clock: Clock = system_clock) -> AnalyticsService:
    """The service layer for one process (nameko container, gRPC server or the rebuild command);
    ``with_names``: reports show auth's current display names (the gRPC process)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    return AnalyticsService(store, names=AuthNames(config) if with_names else None, clock=clock)
