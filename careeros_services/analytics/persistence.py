"""The analytics read models in PostgreSQL: Peewee models, the fact writers and the report queries.

Models are bound to :data:`database_proxy` by ``service.build``. Like every
repository here, :class:`AnalyticsRepository` runs on the unit of work's
connection (``tx.db``) and names the tenant in every query; row-level
security is the second lock. Writers are idempotent upserts that commute
(the inbox already drops a redelivered event; the upserts make a rebuild's
replay safe to interleave with live consumption). Report queries aggregate
the fact rows of one period in SQL and hand sums to ``domain``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

import peewee
import psycopg2
from psycopg2 import sql
from playhouse.postgres_ext import DateTimeTZField

from careeros_services.analytics.domain import DateRange
from careeros_services.analytics.migrations.m0001_initial import TABLES as _FACT_TABLES
from careeros_services.common import db as dbmod, tenant_schemas
from careeros_services.common.unit_of_work import UnitOfWork

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py): every per-person fact row. What stays
# is anonymous: the event log (event id, type, day per tenant) and per-tenant invoice totals.
_MINE = "user_id = %(user)s AND tenant_id = %(tenant)s"
PERSONAL_ROWS = tuple((table, _MINE) for table in (
    "statements", "activity_days", "enrollments", "certificates", "quiz_attempts", "assignments",
    "ai_usage", "learners"))


class _Fact(peewee.Model):
    tenant_id = peewee.UUIDField()

    class Meta:
        database = database_proxy


class TenantRecord(_Fact):
    tenant_id = peewee.UUIDField(primary_key=True)
    name = peewee.TextField(default="")
    kind = peewee.TextField(default="")
    plan_tier = peewee.TextField(default="")
    plan_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "tenants"


class LearnerRecord(_Fact):
    user_id = peewee.UUIDField()
    display_name = peewee.TextField(default="")
    role = peewee.TextField(default="")
    role_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "learners"
        primary_key = peewee.CompositeKey("tenant_id", "user_id")


class StatementRecord(_Fact):
    statement_id = peewee.TextField()
    user_id = peewee.UUIDField()
    verb = peewee.TextField()
    course_id = peewee.TextField(default="")
    at = DateTimeTZField()
    day = peewee.DateField()
    duration_s = peewee.IntegerField(default=0)

    class Meta:
        table_name = "statements"
        primary_key = peewee.CompositeKey("tenant_id", "statement_id")


class EnrollmentRecord(_Fact):
    enrollment_id = peewee.TextField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField()
    premium = peewee.BooleanField(default=False)
    enrolled_at = DateTimeTZField(null=True)
    cancelled_at = DateTimeTZField(null=True)
    completed_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "enrollments"
        primary_key = peewee.CompositeKey("tenant_id", "enrollment_id")


class CertificateRecord(_Fact):
    certificate_id = peewee.TextField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField()
    course_title = peewee.TextField(default="")
    issued_at = DateTimeTZField()

    class Meta:
        table_name = "certificates"
        primary_key = peewee.CompositeKey("tenant_id", "certificate_id")


class QuizAttemptRecord(_Fact):
    attempt_id = peewee.TextField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField()
    lesson_id = peewee.TextField()
    score_percent = peewee.IntegerField()
    passed = peewee.BooleanField()
    attempt_no = peewee.IntegerField()
    attempted_at = DateTimeTZField()

    class Meta:
        table_name = "quiz_attempts"
        primary_key = peewee.CompositeKey("tenant_id", "attempt_id")


class AssignmentRecord(_Fact):
    assignment_id = peewee.TextField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField(default="")
    target_role = peewee.TextField(default="")
    assigned_by = peewee.TextField(default="")
    due_at = DateTimeTZField(null=True)
    assigned_at = DateTimeTZField()

    class Meta:
        table_name = "assignments"
        primary_key = peewee.CompositeKey("tenant_id", "assignment_id")


class AiUsageRecord(_Fact):
    usage_id = peewee.TextField()
    user_id = peewee.UUIDField()
    provider = peewee.TextField()
    model = peewee.TextField()
    purpose = peewee.TextField()
    prompt_tokens = peewee.BigIntegerField()
    completion_tokens = peewee.BigIntegerField()
    cost_micro_usd = peewee.BigIntegerField()
    recorded_at = DateTimeTZField()

    class Meta:
        table_name = "ai_usage"
        primary_key = peewee.CompositeKey("tenant_id", "usage_id")


class InvoiceRecord(_Fact):
    invoice_id = peewee.TextField()
    subscription_id = peewee.TextField()
    currency = peewee.CharField(max_length=3)
    total_minor = peewee.BigIntegerField()
    issued_at = DateTimeTZField()

    class Meta:
        table_name = "invoices"
        primary_key = peewee.CompositeKey("tenant_id", "invoice_id")


class EventLogRecord(_Fact):
    event_id = peewee.UUIDField()
    event_type = peewee.TextField()
    day = peewee.DateField()

    class Meta:
        table_name = "event_log"
        primary_key = peewee.CompositeKey("tenant_id", "event_id")


class ActivityDayRecord(_Fact):
    day = peewee.DateField()
    user_id = peewee.UUIDField()
    statements = peewee.IntegerField()
    time_spent_s = peewee.BigIntegerField()
    last_at = DateTimeTZField()

    class Meta:
        table_name = "activity_days"
        primary_key = peewee.CompositeKey("tenant_id", "day", "user_id")


MODELS = (TenantRecord, LearnerRecord, StatementRecord, EnrollmentRecord, CertificateRecord,
          QuizAttemptRecord, AssignmentRecord, AiUsageRecord, InvoiceRecord, EventLogRecord,
          ActivityDayRecord)
TABLES = (*_FACT_TABLES, "event_log", "activity_days")  # every read model (what a rebuild truncates)


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


class AnalyticsRepository:
    """The read models of one unit of work (``uow.analytics``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    # --- writers: one per fact, each an order-independent upsert ---------------------------

    def _insert_once(self, model: type[_Fact], row: dict) -> None:
        model.insert(row).on_conflict_ignore().execute(self.db)

    def record_tenant(self, tenant_id: str, at: datetime, *, name: Optional[str] = None,
                      kind: Optional[str] = None, plan_tier: Optional[str] = None) -> None:
        """Create or update a tenant's row; None leaves a field as it is.

        The plan tier is kept from whichever event happened last (``at``), in any arrival order.
        """
        update: dict = {}
        if name is not None:
            update[TenantRecord.name] = name
        if kind is not None:
            update[TenantRecord.kind] = kind
        if plan_tier is not None:
            update.update(_latest(TenantRecord.plan_tier, TenantRecord.plan_at))
        (TenantRecord.insert(tenant_id=tenant_id, name=name or "", kind=kind or "", plan_tier=plan_tier or "",
                             plan_at=at if plan_tier is not None else None)
         .on_conflict(conflict_target=[TenantRecord.tenant_id],
                      update=update or {TenantRecord.name: TenantRecord.name})
         .execute(self.db))

    def record_learner(self, tenant_id: str, user_id: str, at: datetime, *,
                       display_name: Optional[str] = None, role: Optional[str] = None) -> None:
        """Create or update a member's row; None leaves a field as it is.

        The role is kept from whichever event happened last (``at``), in any arrival order.
        """
        update: dict = {}
        if display_name is not None:
            update[LearnerRecord.display_name] = display_name
        if role is not None:
            update.update(_latest(LearnerRecord.role, LearnerRecord.role_at))
        (LearnerRecord.insert(tenant_id=tenant_id, user_id=user_id, display_name=display_name or "",
                              role=role or "", role_at=at if role is not None else None)
         .on_conflict(conflict_target=[LearnerRecord.tenant_id, LearnerRecord.user_id],
                      update=update or {LearnerRecord.role: LearnerRecord.role})
         .execute(self.db))

    def log_event(self, tenant_id: str, event_id: str, event_type: str, day: date) -> None:
        """Note one domain event of the tenant (append-only: concurrent partitions share no row)."""
        self._insert_once(EventLogRecord, {"tenant_id": tenant_id, "event_id": event_id,
                                           "event_type": event_type, "day": day})

    def record_statement(self, row: dict) -> None:
        """Store a statement once (by statement id) and add it to its learner's day."""
        inserted = (StatementRecord.insert(row).on_conflict_ignore()
                    .returning(StatementRecord.statement_id).execute(self.db))
        if not list(inserted):
            return  # the same statement under another event id: counted already
        rollup = ActivityDayRecord
        (rollup.insert(tenant_id=row["tenant_id"], day=row["day"], user_id=row["user_id"], statements=1,
                       time_spent_s=row["duration_s"], last_at=row["at"])
         .on_conflict(conflict_target=[rollup.tenant_id, rollup.day, rollup.user_id],
                      update={rollup.statements: rollup.statements + 1,
                              rollup.time_spent_s: rollup.time_spent_s + peewee.EXCLUDED.time_spent_s,
                              rollup.last_at: peewee.fn.GREATEST(rollup.last_at, peewee.EXCLUDED.last_at)})
         .execute(self.db))

    def record_enrollment(self, row: dict) -> None:
        """An enrolment was created (``cancelled_at`` kept if its cancellation came first)."""
        update = {EnrollmentRecord.user_id: row["user_id"], EnrollmentRecord.course_id: row["course_id"],
                  EnrollmentRecord.premium: row["premium"], EnrollmentRecord.enrolled_at: row["enrolled_at"]}
        (EnrollmentRecord.insert(row)
         .on_conflict(conflict_target=[EnrollmentRecord.tenant_id, EnrollmentRecord.enrollment_id],
                      update=update)
         .execute(self.db))

    def record_cancellation(self, row: dict) -> None:
        """An enrolment was cancelled (a row without ``enrolled_at`` until its creation arrives)."""
        (EnrollmentRecord.insert(row)
         .on_conflict(conflict_target=[EnrollmentRecord.tenant_id, EnrollmentRecord.enrollment_id],
                      update={EnrollmentRecord.cancelled_at: row["cancelled_at"]})
         .execute(self.db))

    def record_completion(self, row: dict) -> None:
        """The LMS judged an enrolment complete (a row without ``enrolled_at`` until its creation arrives)."""
        (EnrollmentRecord.insert(row)
         .on_conflict(conflict_target=[EnrollmentRecord.tenant_id, EnrollmentRecord.enrollment_id],
                      update={EnrollmentRecord.completed_at: row["completed_at"]})
         .execute(self.db))

    def record_certificate(self, row: dict) -> None:
        self._insert_once(CertificateRecord, row)

    def record_quiz_attempt(self, row: dict) -> None:
        self._insert_once(QuizAttemptRecord, row)

    def record_assignment(self, row: dict) -> None:
        self._insert_once(AssignmentRecord, row)

    def record_ai_usage(self, row: dict) -> None:
        self._insert_once(AiUsageRecord, row)

    def record_invoice(self, row: dict) -> None:
        self._insert_once(InvoiceRecord, row)

    # --- report queries -------------------------------------------------------------------

    def _rows(self, sql: str, params: dict) -> list[dict]:
        cursor = self.db.execute_sql(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def overview_facts(self, tenant_id: str, period: DateRange, now: datetime) -> dict[str, Any]:
        """The tenant-wide sums ``domain.overview`` turns into the overview."""
        p = _params(tenant_id, period, now)
        facts: dict[str, Any] = {}
        # From the daily roll-up: one row per active learner and day.
        facts["daily"] = {r["day"]: r["n"] for r in self._rows(
            f"SELECT day, count(*) AS n FROM activity_days {_IN_DAYS} GROUP BY day", p)}
        facts["weekly"] = {r["week"]: r["n"] for r in self._rows(
            f"SELECT date_trunc('week', day)::date AS week, count(DISTINCT user_id) AS n"
            f" FROM activity_days {_IN_DAYS} GROUP BY 1", p)}
        # Completions: certificates issued (the LMS completed the course), per UTC day.
        facts["completions_daily"] = {r["day"]: r["n"] for r in self._rows(
            "SELECT (issued_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM certificates"
            " WHERE tenant_id = %(tenant)s AND issued_at >= %(starts)s AND issued_at < %(ends)s GROUP BY 1", p)}
        [activity] = self._rows(
            f"SELECT count(DISTINCT user_id) AS active_learners, coalesce(sum(statements), 0) AS statements,"
            f" coalesce(sum(time_spent_s), 0) AS time_spent_s FROM activity_days {_IN_DAYS}", p)
        facts.update(activity)
        [totals] = self._rows(f"""
            SELECT
              (SELECT count(*) FROM enrollments WHERE tenant_id = %(tenant)s
                 AND enrolled_at >= %(starts)s AND enrolled_at < %(ends)s) AS enrollments_created,
              (SELECT count(*) FROM enrollments WHERE tenant_id = %(tenant)s
                 AND cancelled_at >= %(starts)s AND cancelled_at < %(ends)s) AS enrollments_cancelled,
              (SELECT count(*) FROM certificates WHERE tenant_id = %(tenant)s
                 AND issued_at >= %(starts)s AND issued_at < %(ends)s) AS certificates,
              (SELECT count(*) FROM quiz_attempts {_ATTEMPTED}) AS quiz_attempts,
              (SELECT coalesce(sum(score_percent), 0) FROM quiz_attempts {_ATTEMPTED}) AS quiz_score_total,
              (SELECT count(*) FILTER (WHERE passed) FROM quiz_attempts {_ATTEMPTED}) AS quizzes_passed,
              (SELECT count(*) FROM ai_usage {_RECORDED}) AS ai_requests,
              (SELECT coalesce(sum(prompt_tokens), 0) FROM ai_usage {_RECORDED}) AS ai_prompt_tokens,
              (SELECT coalesce(sum(completion_tokens), 0) FROM ai_usage {_RECORDED}) AS ai_completion_tokens,
              (SELECT coalesce(sum(cost_micro_usd), 0) FROM ai_usage {_RECORDED}) AS ai_cost_micro_usd
        """, p)
        facts.update(totals)
        [cohort] = self._rows(f"""
            SELECT count(*) AS enrollments, count(*) FILTER (WHERE completed) AS enrollments_completed
              FROM ({_ENROLLMENT_COHORT}) AS cohort
        """, p)
        facts.update(cohort)
        [assigned] = self._rows(f"""
            SELECT count(*) AS assignments, count(*) FILTER (WHERE completed) AS assignments_completed,
                   count(*) FILTER (WHERE NOT completed AND due_at < least(%(ends)s, %(now)s))
                     AS assignments_overdue
              FROM ({_ASSIGNMENT_COHORT}) AS cohort
        """, p)
        facts.update(assigned)
        facts["events"] = self._rows(
            "SELECT event_type, count(*) AS events FROM event_log"
            " WHERE tenant_id = %(tenant)s AND day BETWEEN %(first_day)s AND %(last_day)s"
            " GROUP BY event_type", p)
        facts["revenue"] = self._rows(
            "SELECT currency, sum(total_minor) AS total_minor, count(*) AS invoices FROM invoices"
            " WHERE tenant_id = %(tenant)s AND issued_at >= %(starts)s AND issued_at < %(ends)s"
            " GROUP BY currency", p)
        return facts

    def learner_facts(self, tenant_id: str, period: DateRange, now: datetime,
                      only_user: Optional[str] = None, limit: Optional[int] = None,
                      offset: int = 0) -> tuple[list[dict], int]:
        """Per-learner sums for the period: every current member and everyone with facts in it.

        Returns ``(rows, total)``: rows ordered by name then user id, ``limit`` of
        them (None: all) from ``offset``, and how many there are in all.
        ``only_user`` restricts the rows to that learner (the self scope).
        """
        p = {**_params(tenant_id, period, now), "only_user": only_user, "limit": limit, "offset": offset}
        rows = self._rows(_LEARNERS_SQL, p)
        if rows:
            return rows, int(rows[0]["total_rows"])
        if offset > 0:  # past the end: count them
            counted = self._rows(_LEARNERS_SQL, {**p, "limit": 1, "offset": 0})
            return [], int(counted[0]["total_rows"]) if counted else 0
        return [], 0


def _latest(value: peewee.Field, at: peewee.Field) -> dict:
    """ON CONFLICT assignments keeping ``value`` from the later of the stored and the new event."""
    newer = at.is_null() | (peewee.EXCLUDED[at.column_name] > at)
    return {value: peewee.Case(None, [(newer, peewee.EXCLUDED[value.column_name])], value),
            at: peewee.Case(None, [(newer, peewee.EXCLUDED[at.column_name])], at)}


def _params(tenant_id: str, period: DateRange, now: datetime) -> dict:
    return {"tenant": tenant_id, "first_day": period.start, "last_day": period.end,
            "starts": period.starts_at, "ends": period.ends_before, "now": now}


_IN_DAYS = "WHERE tenant_id = %(tenant)s AND day BETWEEN %(first_day)s AND %(last_day)s"
_ATTEMPTED = "WHERE tenant_id = %(tenant)s AND attempted_at >= %(starts)s AND attempted_at < %(ends)s"
_RECORDED = "WHERE tenant_id = %(tenant)s AND recorded_at >= %(starts)s AND recorded_at < %(ends)s"
# Enrolments created in the period and still active at its end, each marked completed when
# the LMS completed it (lms.enrollment.completed) by then.
_ENROLLMENT_COHORT = """
    SELECT e.user_id, coalesce(e.completed_at < %(ends)s, false) AS completed
      FROM enrollments e
     WHERE e.tenant_id = %(tenant)s AND e.enrolled_at >= %(starts)s AND e.enrolled_at < %(ends)s
       AND (e.cancelled_at IS NULL OR e.cancelled_at >= %(ends)s)
"""
# Assignments created in the period; one naming a course is completed by that course's
# certificate issued by the period's end.
_ASSIGNMENT_COHORT = """
    SELECT a.user_id, a.due_at, (a.course_id <> '' AND EXISTS (
             SELECT 1 FROM certificates c
              WHERE c.tenant_id = a.tenant_id AND c.user_id = a.user_id AND c.course_id = a.course_id
                AND c.issued_at < %(ends)s)) AS completed
      FROM assignments a
     WHERE a.tenant_id = %(tenant)s AND a.assigned_at >= %(starts)s AND a.assigned_at < %(ends)s
"""


# One row per learner: current members and everyone with facts in the period.
_LEARNERS_SQL = f"""
        WITH
        act AS (SELECT user_id, count(*) AS active_days, sum(statements) AS statements,
                       sum(time_spent_s) AS time_spent_s, max(last_at) AS last_active_at
                  FROM activity_days {_IN_DAYS} GROUP BY user_id),
        enr AS (SELECT user_id, count(*) AS enrollments,
                       count(*) FILTER (WHERE completed) AS enrollments_completed
                  FROM ({_ENROLLMENT_COHORT}) AS c GROUP BY user_id),
        cert AS (SELECT user_id, count(*) AS certificates FROM certificates
                  WHERE tenant_id = %(tenant)s AND issued_at >= %(starts)s AND issued_at < %(ends)s
                  GROUP BY user_id),
        quiz AS (SELECT user_id, count(*) AS quiz_attempts, sum(score_percent) AS quiz_score_total,
                        count(*) FILTER (WHERE passed) AS quizzes_passed
                   FROM quiz_attempts {_ATTEMPTED} GROUP BY user_id),
        asg AS (SELECT user_id, count(*) AS assignments,
                       count(*) FILTER (WHERE completed) AS assignments_completed
                  FROM ({_ASSIGNMENT_COHORT}) AS c GROUP BY user_id),
        ai AS (SELECT user_id, count(*) AS ai_requests,
                      sum(prompt_tokens + completion_tokens) AS ai_tokens,
                      sum(cost_micro_usd) AS ai_cost_micro_usd
                 FROM ai_usage {_RECORDED} GROUP BY user_id),
        people AS (
            SELECT user_id FROM learners WHERE tenant_id = %(tenant)s AND role <> 'removed'
            UNION SELECT user_id FROM act UNION SELECT user_id FROM enr UNION SELECT user_id FROM cert
            UNION SELECT user_id FROM quiz UNION SELECT user_id FROM asg UNION SELECT user_id FROM ai)
        SELECT people.user_id, l.display_name, l.role,
               act.active_days, act.statements, act.time_spent_s, act.last_active_at,
               enr.enrollments, enr.enrollments_completed, cert.certificates,
               quiz.quiz_attempts, quiz.quiz_score_total, quiz.quizzes_passed,
               asg.assignments, asg.assignments_completed,
               ai.ai_requests, ai.ai_tokens, ai.ai_cost_micro_usd, count(*) OVER () AS total_rows
          FROM people
          LEFT JOIN learners l ON l.tenant_id = %(tenant)s AND l.user_id = people.user_id
          LEFT JOIN act ON act.user_id = people.user_id LEFT JOIN enr ON enr.user_id = people.user_id
          LEFT JOIN cert ON cert.user_id = people.user_id LEFT JOIN quiz ON quiz.user_id = people.user_id
          LEFT JOIN asg ON asg.user_id = people.user_id LEFT JOIN ai ON ai.user_id = people.user_id
         WHERE %(only_user)s::uuid IS NULL OR people.user_id = %(only_user)s::uuid
         ORDER BY lower(coalesce(l.display_name, '')), people.user_id
         LIMIT %(limit)s OFFSET %(offset)s
    """


def truncate_read_models(config: dict, service: str, consumer: str) -> None:
    """Empty every read model and the consumer's inbox claims, in one transaction (rebuild).

    Covers the tenants moved to a schema of their own (``common.tenant_schemas``)
    as well as ``public``. Runs as the admin role: TRUNCATE is not granted to the
    app role, and the app role could not delete every tenant's rows through
    row-level security anyway. Truncating the inbox with the tables is what lets
    the replay apply every event again.
    """
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, service, admin=True))
    try:
        with conn, conn.cursor() as cur:
            schemas = ["public"]
            cur.execute("SELECT to_regclass('public.tenant_placement') IS NOT NULL")
            if cur.fetchone()[0]:
                schemas += [schema for _tenant, schema in tenant_schemas.placed_schemas(cur)]
            cur.execute("SELECT schemaname, tablename FROM pg_tables"
                        " WHERE schemaname = ANY(%s) AND tablename = ANY(%s)", (schemas, list(TABLES)))
            tables = [sql.Identifier(schema, table) for schema, table in cur.fetchall()]
            cur.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(tables)))
            cur.execute("DELETE FROM public.inbox WHERE consumer = %s", (consumer,))
    finally:
        conn.close()


class AnalyticsUnitOfWork(UnitOfWork):
    """One analytics transaction and its repositories."""

    repositories = {"analytics": AnalyticsRepository}
    analytics: AnalyticsRepository
