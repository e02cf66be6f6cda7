"""The tracker's tables: Peewee models and a repository with domain verbs.

Models are bound to :data:`database_proxy` by the service factory. The
repository runs on the unit of work's connection (``tx.db``) and names its
tenant in every tenant-scoped query (row-level security is the second lock).
Ingestion writes many rows per request, so its verbs are set-based: one
multi-row ``INSERT .. ON CONFLICT`` per table and batch (``execute_values``),
never a statement per row.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Optional

import peewee
from playhouse.postgres_ext import ArrayField, BinaryJSONField, DateTimeTZField
from psycopg2.extras import execute_values

from careeros_services.common.unit_of_work import UnitOfWork
from careeros_services.tracker.domain import CourseStructure, Statement, StatementQuery
from careeros_services.tracker.xapi import statements as xapi_statements

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py): every learner table, statements first.
# pg_advisory_xact_lock(class, key): the two-integer key space, apart from the services' one-key locks.
LEARNER_LOCK_CLASS = 727_301
_MINE = "user_id = %(user)s AND tenant_id = %(tenant)s"
_MY_STATEMENTS = f"seq IN (SELECT seq FROM statements WHERE {_MINE})"
_MY_AGENT = "'Agent|account|https://careeros.dev|' || %(user)s"   # the LRS's key for a CareerOS account
PERSONAL_ROWS = (
    # The LRS's query indexes of the person's statements (and the person as an agent elsewhere),
    # their documents (State, Agent Profile), before the statements themselves.
    ("statement_activities", f"tenant_id = %(tenant)s AND {_MY_STATEMENTS}"),
    ("statement_agents", f"tenant_id = %(tenant)s AND (agent = {_MY_AGENT} OR {_MY_STATEMENTS})"),
    ("lrs_documents", "tenant_id = %(tenant)s AND position(%(user)s in agent) > 0"),
    *((table, _MINE) for table in (
        "statements", "lesson_progress", "course_progress", "learner_days", "learner_goals")))


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class StatementRecord(_Model):
    tenant_id = peewee.UUIDField()
    statement_id = peewee.UUIDField()
    seq = peewee.BigIntegerField()
    user_id = peewee.UUIDField()
    verb = peewee.TextField()
    activity_id = peewee.TextField()
    parent_id = peewee.TextField()
    course_id = peewee.TextField()
    lesson_id = peewee.TextField()
    duration_s = peewee.IntegerField()
    ts = DateTimeTZField()
    stored = DateTimeTZField()
    body_hash = peewee.TextField()
    body = BinaryJSONField()
    registration = peewee.UUIDField(null=True)
    ref_target = peewee.UUIDField(null=True)           # a StatementRef object's id (voiding)
    voided = peewee.BooleanField()

    class Meta:
        table_name = "statements"
        primary_key = peewee.CompositeKey("tenant_id", "statement_id")


class LessonProgressRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    lesson_id = peewee.TextField()
    course_id = peewee.TextField()
    done = peewee.BooleanField()
    done_at = DateTimeTZField(null=True)
    time_spent_s = peewee.BigIntegerField()
    last_activity_at = DateTimeTZField()
    percent = peewee.IntegerField()

    class Meta:
        table_name = "lesson_progress"
        primary_key = peewee.CompositeKey("tenant_id", "user_id", "lesson_id")


class CourseProgressRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField()
    percent = peewee.IntegerField()
    lessons_done = peewee.IntegerField()
    lessons_total = peewee.IntegerField()
    required_done = peewee.BooleanField()
    completed = peewee.BooleanField()
    time_spent_s = peewee.BigIntegerField()
    last_activity_at = DateTimeTZField()
    revision = peewee.IntegerField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "course_progress"
        primary_key = peewee.CompositeKey("tenant_id", "user_id", "course_id")


class LearnerDayRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    day = peewee.DateField()
    seconds = peewee.BigIntegerField()
    statements = peewee.IntegerField()

    class Meta:
        table_name = "learner_days"
        primary_key = peewee.CompositeKey("tenant_id", "user_id", "day")


class LearnerGoalRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    minutes_per_week = peewee.IntegerField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "learner_goals"
        primary_key = peewee.CompositeKey("tenant_id", "user_id")


class CourseStructureRecord(_Model):
    course_id = peewee.TextField(primary_key=True)
    tenant_id = peewee.UUIDField()
    revision = peewee.IntegerField()
    lessons = BinaryJSONField()
    lesson_ids = ArrayField(peewee.TextField)
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "course_structures"


class ActivityTenantRecord(_Model):
    activity_key = peewee.TextField()
    tenant_id = peewee.UUIDField()

    class Meta:
        table_name = "activity_tenants"
        primary_key = peewee.CompositeKey("activity_key", "tenant_id")


class StatementAgentRecord(_Model):
    tenant_id = peewee.UUIDField()
    agent = peewee.TextField()
    seq = peewee.BigIntegerField()
    direct = peewee.BooleanField()        # actor or object; else only related (authority, context, ...)

    class Meta:
        table_name = "statement_agents"
        primary_key = peewee.CompositeKey("tenant_id", "agent", "seq")


class StatementActivityRecord(_Model):
    tenant_id = peewee.UUIDField()
    activity = peewee.TextField()
    seq = peewee.BigIntegerField()

    class Meta:
        table_name = "statement_activities"
        primary_key = peewee.CompositeKey("tenant_id", "activity", "seq")


class LrsDocumentRecord(_Model):
    tenant_id = peewee.UUIDField()
    kind = peewee.TextField()
    activity_id = peewee.TextField()
    agent = peewee.TextField()
    registration = peewee.TextField()
    doc_id = peewee.TextField()
    content = peewee.BlobField()
    content_type = peewee.TextField()
    etag = peewee.TextField()
    updated = DateTimeTZField()

    class Meta:
        table_name = "lrs_documents"
        primary_key = peewee.CompositeKey("tenant_id", "kind", "activity_id", "agent", "registration", "doc_id")


class LrsAttachmentRecord(_Model):
    tenant_id = peewee.UUIDField()
    sha2 = peewee.TextField()
    content_type = peewee.TextField()
    content = peewee.BlobField()

    class Meta:
        table_name = "lrs_attachments"
        primary_key = peewee.CompositeKey("tenant_id", "sha2")


class LrsCredentialRecord(_Model):
    tenant_id = peewee.UUIDField()
    key_id = peewee.TextField()
    secret_hash = peewee.TextField()
    label = peewee.TextField()
    scopes = ArrayField(peewee.TextField)
    xapi_version = peewee.TextField()
    created_by = peewee.UUIDField()
    created_at = DateTimeTZField()
    revoked_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "lrs_credentials"
        primary_key = peewee.CompositeKey("tenant_id", "key_id")


class LrsKeyTenantRecord(_Model):
    key_id = peewee.TextField(primary_key=True)
    tenant_id = peewee.UUIDField()

    class Meta:
        table_name = "lrs_key_tenants"


MODELS = (StatementRecord, LessonProgressRecord, CourseProgressRecord, LearnerDayRecord, LearnerGoalRecord,
          CourseStructureRecord, ActivityTenantRecord, StatementAgentRecord, StatementActivityRecord, LrsDocumentRecord, LrsAttachmentRecord, LrsCredentialRecord,
          LrsKeyTenantRecord)


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


@dataclass
class CourseProgressRow:
    course_id: str
    percent: int
    lessons_done: int
    lessons_total: int
    required_done: bool
    completed: bool
    time_spent_s: int
    last_activity_at: datetime
    revision: int

    def key(self) -> tuple:
        """What a progress event reports: a change in any of these is a change of progress."""
        return (self.percent, self.lessons_done, self.lessons_total, self.required_done, self.completed,
                self.time_spent_s, self.last_activity_at, self.revision)


def _structure_from(row: tuple) -> CourseStructure:
    course_id, tenant_id, revision, lessons = row
    return CourseStructure(course_id=course_id, tenant_id=str(tenant_id), revision=revision,
                           lessons={l["lesson_id"]: l["required"] for l in lessons},
                           titles={l["lesson_id"]: l.get("title", "") for l in lessons})


class TrackerRepository:
    """The tracker's rows within one unit of work (``uow.tracker``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    def _values(self, sql: str, rows: list[tuple], *, fetch: bool = False, template: Optional[str] = None):
        cursor = self.db.cursor()
        return execute_values(cursor, sql, rows, template=template, page_size=max(len(rows), 1), fetch=fetch)

    # --- statements ---------------------------------------------------------------------

    def lock_learners(self, tenant_id: str, user_ids: Iterable[str]) -> None:
        """Queue this transaction behind any other ingesting the same learners' statements, until
        it ends. Without it, a consumer's batch (one transaction for several LMS events, lesson
        by lesson) and a request (its lessons in id order) lock one learner's lesson rows in
        different orders and PostgreSQL kills one of them as a deadlock."""
        for user_id in sorted(set(user_ids)):  # one order for every transaction
            self.db.execute_sql("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                (LEARNER_LOCK_CLASS, f"{tenant_id}/{user_id}"))

    def insert_statements(self, tenant_id: str, statements: list[Statement]) -> set[str]:
        """Insert statements whose id is new in the tenant; returns the ids inserted now.

        Every new statement is also indexed for xAPI queries (who and what it is about,
        registration, StatementRef target), whichever route it came by.
        """
        rows, indexes = [], {}
        for s in statements:
            idx = indexes[s.id] = xapi_statements.index(s.body)
            rows.append((tenant_id, s.id, s.user_id or None, s.verb, s.activity_id, s.parent_id, s.course_id,
                         s.lesson_id, s.duration_s, s.timestamp, s.body_hash, json.dumps(s.body), idx["registration"],
                         idx["ref_target"], s.stored))
        inserted = self._values(
            "INSERT INTO statements (tenant_id, statement_id, user_id, verb, activity_id, parent_id, course_id,"
            " lesson_id, duration_s, ts, body_hash, body, registration, ref_target, stored) VALUES %s"
            " ON CONFLICT (tenant_id, statement_id) DO NOTHING RETURNING statement_id, seq", rows, fetch=True,
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::uuid, %s::uuid, COALESCE(%s, now()))")
        agents, activities = [], []
        for statement_id, seq in inserted:
            idx = indexes[str(statement_id)]
            direct = set(idx["agents"])
            agents += [(tenant_id, key, seq, key in direct) for key in idx["related_agents"]]
            activities += [(tenant_id, activity, seq) for activity in idx["related_activities"]]
        if agents:
            self._values("INSERT INTO statement_agents (tenant_id, agent, seq, direct) VALUES %s", agents)
        if activities:
            self._values("INSERT INTO statement_activities (tenant_id, activity, seq) VALUES %s", activities)
        return {str(row[0]) for row in inserted}

    def stored_hashes(self, tenant_id: str, statement_ids: list[str]) -> dict[str, str]:
        """``{statement_id: body_hash}`` of stored statements among ``statement_ids``."""
        if not statement_ids:
            return {}
        cursor = self.db.execute_sql(
            "SELECT statement_id, body_hash FROM statements WHERE tenant_id = %s AND statement_id = ANY(%s::uuid[])",
            (tenant_id, statement_ids))
        return {str(sid): h for sid, h in cursor.fetchall()}

    def list_statements(self, tenant_id: str, query: StatementQuery, before_seq: Optional[int],
                        user_id: Optional[str]) -> list[tuple[int, dict]]:
        """Up to ``query.limit + 1`` statements, newest stored first, as ``(seq, body)``."""
        where, params = ["tenant_id = %s"], [tenant_id]
        if user_id:
            where.append("user_id = %s")
            params.append(user_id)
        if query.verb:
            where.append("verb = %s")
            params.append(query.verb)
        if query.activity:
            if query.related_activities:
                # xAPI related_activities: the object or any context activity (parent, grouping, ...)
                where.append("(activity_id = %s OR jsonb_path_exists(body,"
                             " '$.context.contextActivities.*[*].id ? (@ == $a)', jsonb_build_object('a', %s::text)))")
                params += [query.activity, query.activity]
            else:
                where.append("activity_id = %s")
                params.append(query.activity)
        if query.since:
            where.append("stored > %s")
            params.append(query.since)
        if query.until:
            where.append("stored <= %s")
            params.append(query.until)
        if before_seq is not None:
            where.append("seq < %s")
            params.append(before_seq)
        params.append(query.limit + 1)
        cursor = self.db.execute_sql(
            f"SELECT seq, body, stored FROM statements WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT %s",
            params)
        out = []
        for seq, body, stored in cursor.fetchall():
            body = body if isinstance(body, dict) else json.loads(body)
            out.append((seq, dict(body, stored=stored)))
        return out

    # --- read-model updates from new statements -------------------------------------------

    def add_lesson_activity(self, tenant_id: str, user_id: str, rows: list[tuple]) -> None:
        """Upsert lesson progress: rows of ``(lesson_id, course_id, done, done_at, seconds, last_at, percent)``.

        Done stays done; time adds up; percent only grows; a course id learned later fills an empty one.
        """
        if not rows:
            return
        self._values(
            "INSERT INTO lesson_progress AS l (tenant_id, user_id, lesson_id, course_id, done, done_at,"
            " time_spent_s, last_activity_at, percent) VALUES %s ON CONFLICT (tenant_id, user_id, lesson_id) DO UPDATE SET"
            " course_id = CASE WHEN l.course_id = '' THEN EXCLUDED.course_id ELSE l.course_id END,"
            " done = l.done OR EXCLUDED.done,"
            " done_at = CASE WHEN l.done THEN l.done_at ELSE EXCLUDED.done_at END,"
            " time_spent_s = l.time_spent_s + EXCLUDED.time_spent_s,"
            " last_activity_at = GREATEST(l.last_activity_at, EXCLUDED.last_activity_at),"
            " percent = GREATEST(l.percent, EXCLUDED.percent)",
            [(tenant_id, user_id, *row) for row in rows],
            template="(%s, %s, %s, %s, %s, %s::timestamptz, %s, %s, %s)")

    def claim_orphan_lessons(self, tenant_id: str, user_id: str, course_of: dict[str, str]) -> dict[str, tuple]:
        """Lessons of this learner stored without a course that now have one (``{lesson: course}``).

        Returns ``{course_id: (seconds, last_activity_at)}`` of their earlier
        activity, which now counts for the course; the rows are locked and the
        caller's upsert gives them the course.
        """
        if not course_of:
            return {}
        cursor = self.db.execute_sql(
            "SELECT lesson_id, time_spent_s, last_activity_at FROM lesson_progress WHERE tenant_id = %s"
            " AND user_id = %s AND course_id = '' AND lesson_id = ANY(%s) FOR UPDATE",
            (tenant_id, user_id, sorted(course_of)))
        claimed: dict[str, tuple] = {}
        for lesson_id, seconds, last_at in cursor.fetchall():
            course_id = course_of[lesson_id]
            old_seconds, old_last = claimed.get(course_id, (0, last_at))
            claimed[course_id] = (old_seconds + int(seconds), max(old_last, last_at))
        return claimed

    def add_days(self, tenant_id: str, user_id: str, days: dict[date, tuple[int, int]]) -> None:
        """Add ``{day: (seconds, statements)}`` to the learner's active days."""
        if not days:
            return
        self._values(
            "INSERT INTO learner_days AS d (tenant_id, user_id, day, seconds, statements) VALUES %s"
            " ON CONFLICT (tenant_id, user_id, day) DO UPDATE SET seconds = d.seconds + EXCLUDED.seconds,"
            " statements = d.statements + EXCLUDED.statements",
            [(tenant_id, user_id, day, s, n) for day, (s, n) in days.items()])

    def note_activity_tenant(self, tenant_id: str, keys: Iterable[str]) -> None:
        """Remember that ``tenant_id`` has activity on these course/lesson keys (global index)."""
        rows = [(key, tenant_id) for key in sorted(set(keys))]
        if rows:
            self._values("INSERT INTO activity_tenants (activity_key, tenant_id) VALUES %s ON CONFLICT DO NOTHING",
                         rows)

    def tenants_with_activity(self, keys: list[str]) -> list[str]:
        cursor = self.db.execute_sql(
            "SELECT DISTINCT tenant_id FROM activity_tenants WHERE activity_key = ANY(%s) ORDER BY tenant_id",
            (keys,))
        return [str(row[0]) for row in cursor.fetchall()]

    # --- course progress -------------------------------------------------------------------

    def done_lessons(self, tenant_id: str, user_id: str, lesson_ids: list[str]) -> set[str]:
        cursor = self.db.execute_sql(
            "SELECT lesson_id FROM lesson_progress WHERE tenant_id = %s AND user_id = %s AND done"
            " AND lesson_id = ANY(%s)", (tenant_id, user_id, lesson_ids))
        return {row[0] for row in cursor.fetchall()}

    def lesson_rows(self, tenant_id: str, user_id: str, lesson_ids: list[str]) -> dict[str, tuple]:
        """``{lesson_id: (done, done_at, time_spent_s, last_activity_at, percent)}`` for these lessons."""
        cursor = self.db.execute_sql(
            "SELECT lesson_id, done, done_at, time_spent_s, last_activity_at, percent FROM lesson_progress"
            " WHERE tenant_id = %s AND user_id = %s AND lesson_id = ANY(%s)", (tenant_id, user_id, lesson_ids))
        return {row[0]: row[1:] for row in cursor.fetchall()}

    def course_progress(self, tenant_id: str, user_id: str, course_id: Optional[str] = None
                        ) -> list[CourseProgressRow]:
        sql = ("SELECT course_id, percent, lessons_done, lessons_total, required_done, completed, time_spent_s,"
               " last_activity_at, revision FROM course_progress WHERE tenant_id = %s AND user_id = %s")
        params: list = [tenant_id, user_id]
        if course_id is not None:
            sql += " AND course_id = %s"
            params.append(course_id)
        cursor = self.db.execute_sql(sql + " ORDER BY last_activity_at DESC, course_id", params)
        return [CourseProgressRow(*row) for row in cursor.fetchall()]

    def lock_course_progress(self, tenant_id: str, user_id: str, course_id: str,
                             first_activity_at: datetime) -> tuple[CourseProgressRow, bool]:
        """The learner's progress row of a course, locked until commit (made empty if absent).

        Returns ``(row, created_now)``. Concurrent requests of one learner in one
        course queue here, so time adds up and the percentage is computed from
        the lessons the previous request committed (no lost update).
        """
        created = self.db.execute_sql(
            "INSERT INTO course_progress (tenant_id, user_id, course_id, last_activity_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING 1", (tenant_id, user_id, course_id, first_activity_at)).fetchone()
        row = self.db.execute_sql(
            "SELECT course_id, percent, lessons_done, lessons_total, required_done, completed, time_spent_s,"
            " last_activity_at, revision FROM course_progress WHERE tenant_id = %s AND user_id = %s"
            " AND course_id = %s FOR UPDATE", (tenant_id, user_id, course_id)).fetchone()
        return CourseProgressRow(*row), created is not None

    def save_course_progress(self, tenant_id: str, user_id: str, row: CourseProgressRow) -> None:
        self.db.execute_sql(
            "INSERT INTO course_progress AS c (tenant_id, user_id, course_id, percent, lessons_done, lessons_total,"
            " required_done, completed, time_spent_s, last_activity_at, revision, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
            " ON CONFLICT (tenant_id, user_id, course_id) DO UPDATE SET percent = EXCLUDED.percent,"
            " lessons_done = EXCLUDED.lessons_done, lessons_total = EXCLUDED.lessons_total,"
            " required_done = EXCLUDED.required_done, completed = EXCLUDED.completed,"
            " time_spent_s = EXCLUDED.time_spent_s, last_activity_at = EXCLUDED.last_activity_at,"
            " revision = EXCLUDED.revision, updated_at = now()",
            (tenant_id, user_id, row.course_id, row.percent, row.lessons_done, row.lessons_total,
             row.required_done, row.completed, row.time_spent_s, row.last_activity_at, row.revision))

    def adopt_orphan_lessons(self, tenant_id: str, structure: CourseStructure) -> dict[str, tuple[int, datetime]]:
        """Give this course the tenant's lessons recorded without a course (a structure just arrived).

        Returns ``{user_id: (seconds, last_activity_at)}`` of that activity, which now counts for the course.
        """
        cursor = self.db.execute_sql(
            "UPDATE lesson_progress SET course_id = %s WHERE tenant_id = %s AND course_id = ''"
            " AND lesson_id = ANY(%s) RETURNING user_id, time_spent_s, last_activity_at",
            (structure.course_id, tenant_id, list(structure.lessons)))
        adopted: dict[str, tuple[int, datetime]] = {}
        for user_id, seconds, last_at in cursor.fetchall():
            old_seconds, old_last = adopted.get(str(user_id), (0, last_at))
            adopted[str(user_id)] = (old_seconds + int(seconds), max(old_last, last_at))
        return adopted

    def learners_of_course(self, tenant_id: str, course_id: str, lesson_ids: list[str]) -> list[str]:
        """Learners of the tenant with progress in the course or activity on any of its lessons."""
        cursor = self.db.execute_sql(
            "SELECT user_id FROM course_progress WHERE tenant_id = %s AND course_id = %s"
            " UNION SELECT user_id FROM lesson_progress WHERE tenant_id = %s AND lesson_id = ANY(%s)"
            " ORDER BY 1", (tenant_id, course_id, tenant_id, lesson_ids))
        return [str(row[0]) for row in cursor.fetchall()]

    # --- course structures (read model of lms course.published) ---------------------------

    def upsert_structure(self, structure: CourseStructure) -> bool:
        """Store a structure unless a same or newer revision is already there; True if stored."""
        lessons = [{"lesson_id": lid, "required": req, "title": structure.titles.get(lid, "")}
                   for lid, req in structure.lessons.items()]
        cursor = self.db.execute_sql(
            "INSERT INTO course_structures AS s (course_id, tenant_id, revision, lessons, lesson_ids, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (course_id) DO UPDATE SET"
            " revision = EXCLUDED.revision, lessons = EXCLUDED.lessons, lesson_ids = EXCLUDED.lesson_ids,"
            " updated_at = now() WHERE s.revision < EXCLUDED.revision RETURNING course_id",
            (structure.course_id, structure.tenant_id, structure.revision, json.dumps(lessons),
             list(structure.lessons)))
        return cursor.fetchone() is not None

    def structures(self, course_ids: Iterable[str]) -> dict[str, CourseStructure]:
        """Known structures of these courses (own tenant's and the platform's, by RLS)."""
        ids = sorted(set(course_ids) - {""})
        if not ids:
            return {}
        cursor = self.db.execute_sql(
            "SELECT course_id, tenant_id, revision, lessons FROM course_structures WHERE course_id = ANY(%s)", (ids,))
        return {row[0]: _structure_from(row) for row in cursor.fetchall()}

    def courses_of_lessons(self, lesson_ids: Iterable[str]) -> dict[str, str]:
        """``{lesson_id: course_id}`` for lessons found in a known structure."""
        ids = sorted(set(lesson_ids) - {""})
        if not ids:
            return {}
        cursor = self.db.execute_sql(
            "SELECT course_id, lesson_ids FROM course_structures WHERE lesson_ids && %s::text[]", (ids,))
        wanted, found = set(ids), {}
        for course_id, lesson_ids_of_course in cursor.fetchall():
            for lid in lesson_ids_of_course:
                if lid in wanted:
                    found[lid] = course_id
        return found

    # --- learner summary -------------------------------------------------------------------

    def active_days(self, tenant_id: str, user_id: str) -> dict[date, int]:
        cursor = self.db.execute_sql(
            "SELECT day, seconds FROM learner_days WHERE tenant_id = %s AND user_id = %s", (tenant_id, user_id))
        return {day: int(seconds) for day, seconds in cursor.fetchall()}

    def goal(self, tenant_id: str, user_id: str) -> int:
        row = self.db.execute_sql("SELECT minutes_per_week FROM learner_goals WHERE tenant_id = %s AND user_id = %s",
                                  (tenant_id, user_id)).fetchone()
        return int(row[0]) if row else 0

    def set_goal(self, tenant_id: str, user_id: str, minutes_per_week: int) -> None:
        self.db.execute_sql(
            "INSERT INTO learner_goals (tenant_id, user_id, minutes_per_week, updated_at) VALUES (%s, %s, %s, now())"
            " ON CONFLICT (tenant_id, user_id) DO UPDATE SET minutes_per_week = EXCLUDED.minutes_per_week,"
            " updated_at = now()", (tenant_id, user_id, minutes_per_week))


def group_lesson_rows(statements: list[Statement], course_of: dict[str, str]) -> list[tuple]:
    """Aggregate new statements per lesson into rows for :meth:`TrackerRepository.add_lesson_activity`."""
    per: dict[str, dict] = defaultdict(lambda: {"course": "", "done_at": None, "seconds": 0, "last": None,
                                                "percent": 0})
    for s in statements:
        if not s.lesson_id:
            continue
        entry = per[s.lesson_id]
        entry["course"] = entry["course"] or s.course_id or course_of.get(s.lesson_id, "")
        entry["seconds"] += s.duration_s
        entry["last"] = max(entry["last"], s.timestamp) if entry["last"] else s.timestamp
        entry["percent"] = max(entry["percent"], s.progress)
        if s.is_done:
            entry["done_at"] = min(entry["done_at"], s.timestamp) if entry["done_at"] else s.timestamp
    return [(lid, e["course"], e["done_at"] is not None, e["done_at"], e["seconds"], e["last"], e["percent"])
            for lid, e in sorted(per.items())]


class LrsRepository:
    """The LRS's rows within one unit of work: statement reads, voiding, documents, attachments, keys."""

    _STATEMENT_COLUMNS = "seq, body, stored"

    def __init__(self, db: peewee.Database):
        self.db = db

    def _rows(self, sql: str, params: Iterable) -> list[tuple]:
        return self.db.execute_sql(sql, tuple(params)).fetchall()

    # --- statements ---------------------------------------------------------------------

    def bodies(self, tenant_id: str, statement_ids: list[str]) -> dict[str, dict]:
        """``{statement_id: stored body}`` of stored statements among ``statement_ids``."""
        rows = self._rows("SELECT statement_id, body FROM statements WHERE tenant_id = %s"
                          " AND statement_id = ANY(%s::uuid[])", (tenant_id, statement_ids))
        return {str(sid): body for sid, body in rows}

    def void(self, tenant_id: str, target_ids: list[str]) -> None:
        """Mark targets voided (also those stored before their voiding statement arrives)."""
        if target_ids:
            self.db.execute_sql("UPDATE statements SET voided = true WHERE tenant_id = %s"
                                " AND statement_id = ANY(%s::uuid[]) AND verb <> %s",
                                (tenant_id, target_ids, xapi_statements.VOIDED))

    def voided_by_earlier(self, tenant_id: str, new_ids: list[str]) -> list[str]:
        """New statements that a voiding statement stored earlier already targets."""
        rows = self._rows("SELECT DISTINCT ref_target FROM statements WHERE tenant_id = %s AND verb = %s"
                          " AND ref_target = ANY(%s::uuid[])", (tenant_id, xapi_statements.VOIDED, new_ids))
        return [str(r[0]) for r in rows]

    def one(self, tenant_id: str, statement_id: str, voided: bool, user_id: Optional[str]) -> Optional[dict]:
        sql = "SELECT body FROM statements WHERE tenant_id = %s AND statement_id = %s AND voided = %s"
        params: list = [tenant_id, statement_id, voided]
        if user_id:
            sql += " AND user_id = %s"
            params.append(user_id)
        row = self.db.execute_sql(sql, params).fetchone()
        return row[0] if row else None

    def query(self, tenant_id: str, flt, user_id: Optional[str]) -> list[tuple[int, dict, datetime]]:
        """Up to ``flt.limit + 1`` statements matching an xAPI filter, as ``(seq, body, stored)``.

        Voided statements are left out; a statement whose StatementRef targets a
        statement that matches the filters is in (xAPI: "statements that reference").
        Two branches, each ordered and limited on its own index, then merged: an OR of
        both would make PostgreSQL walk the tenant's whole history.
        """
        order = "ASC" if flt.ascending else "DESC"
        limit = flt.limit + 1
        bounds, bound_params = ["s.tenant_id = %s", "NOT s.voided"], [tenant_id]
        if user_id:
            bounds.append("s.user_id = %s")
            bound_params.append(user_id)
        for clause, value in (("s.stored > %s", flt.since_time()), ("s.stored <= %s", flt.until_time())):
            if value is not None:
                bounds.append(clause)
                bound_params.append(value)
        if flt.after_seq is not None:
            bounds.append("s.seq > %s" if flt.ascending else "s.seq < %s")
            bound_params.append(flt.after_seq)
        drive, drive_where, drive_params = self._drive(flt)
        match, params = self._match(flt)
        if not drive and not match:
            return self._rows(f"SELECT s.seq, s.body, s.stored FROM statements s WHERE {' AND '.join(bounds)}"
                              f" ORDER BY s.seq {order} LIMIT %s", bound_params + [limit])
        # Direct matches, walked in storage order from the most selective index: the agent's or
        # related activity's rows when filtered by them, else the statements' own indexes.
        key = "x.seq" if drive else "s.seq"
        direct_from = (f"{drive} JOIN statements s ON s.tenant_id = x.tenant_id AND s.seq = x.seq" if drive
                       else "statements s")
        direct_where = " AND ".join(bounds + drive_where + [m.format(t="s") for m in match])
        # Statements whose StatementRef targets a match (few: voiding and referring statements).
        referring = " AND ".join(bounds + ["s.ref_target IS NOT NULL"] + [m.format(t="t") for m in match]
                                 + self._exists(flt, "t"))
        return self._rows(
            f"SELECT s.seq, s.body, s.stored FROM statements s WHERE s.tenant_id = %s AND s.seq IN ("
            f"(SELECT {key} FROM {direct_from} WHERE {direct_where} ORDER BY {key} {order} LIMIT %s) UNION"
            f" (SELECT s.seq FROM statements s JOIN statements t ON t.tenant_id = s.tenant_id"
            f" AND t.statement_id = s.ref_target WHERE {referring} ORDER BY s.seq {order} LIMIT %s))"
            f" ORDER BY s.seq {order} LIMIT %s",
            [tenant_id] + bound_params + drive_params + params + [limit]
            + bound_params + params + drive_params + [limit, limit])

    @staticmethod
    def _drive(flt) -> tuple[str, list[str], list]:
        """The side table a filter walks (agent, else related activity): ``(from, conditions, params)``."""
        if flt.agent:
            return "statement_agents x", ["x.agent = %s"] + ([] if flt.related_agents else ["x.direct"]), [flt.agent]
        if flt.activity and flt.related_activities:
            return "statement_activities x", ["x.activity = %s"], [flt.activity]
        return "", [], []

    @staticmethod
    def _match(flt) -> tuple[list[str], list]:
        """Column filters on statement ``{t}`` besides the driving one, and their params."""
        match, params = [], []
        if flt.verb:
            match.append("{t}.verb = %s")
            params.append(flt.verb)
        if flt.registration:
            match.append("{t}.registration = %s::uuid")
            params.append(flt.registration)
        if flt.activity and not flt.related_activities:
            match.append("{t}.activity_id = %s")
            params.append(flt.activity)
        if flt.activity and flt.related_activities and flt.agent:  # the agent drives; the activity checks
            match.append("EXISTS (SELECT 1 FROM statement_activities y WHERE y.tenant_id = {t}.tenant_id"
                         " AND y.activity = %s AND y.seq = {t}.seq)")
            params.append(flt.activity)
        return match, params

    @staticmethod
    def _exists(flt, t: str) -> list[str]:
        """The driving filter as a condition on one statement ``t`` (the referring branch)."""
        if flt.agent:
            direct = "" if flt.related_agents else " AND x.direct"
            return [f"EXISTS (SELECT 1 FROM statement_agents x WHERE x.tenant_id = {t}.tenant_id"
                    f" AND x.agent = %s AND x.seq = {t}.seq{direct})"]
        if flt.activity and flt.related_activities:
            return [f"EXISTS (SELECT 1 FROM statement_activities x WHERE x.tenant_id = {t}.tenant_id"
                    f" AND x.activity = %s AND x.seq = {t}.seq)"]
        return []

    def activity_definitions(self, tenant_id: str, activity_id: str, most: int = 200) -> list[dict]:
        """Definitions statements gave an activity as their object, oldest first (the latest ``most``)."""
        rows = self._rows(
            "SELECT d FROM (SELECT seq, body #> '{object,definition}' AS d FROM statements WHERE tenant_id = %s"
            " AND activity_id = %s AND body->'object' ? 'definition' ORDER BY seq DESC LIMIT %s) x ORDER BY seq",
            (tenant_id, activity_id, most))
        return [row[0] for row in rows]

    # --- attachments ----------------------------------------------------------------------

    def save_attachments(self, tenant_id: str, parts: dict[str, tuple[str, bytes]]) -> None:
        for sha2, (content_type, content) in parts.items():
            self.db.execute_sql("INSERT INTO lrs_attachments (tenant_id, sha2, content_type, content)"
                                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                (tenant_id, sha2, content_type, content))

    def attachments(self, tenant_id: str, shas: list[str]) -> list[tuple[str, str, bytes]]:
        rows = self._rows("SELECT sha2, content_type, content FROM lrs_attachments WHERE tenant_id = %s"
                          " AND sha2 = ANY(%s)", (tenant_id, shas))
        return [(sha2, ct, bytes(content)) for sha2, ct, content in rows]

    # --- documents -------------------------------------------------------------------------

    _DOC_KEY = "tenant_id = %s AND kind = %s AND activity_id = %s AND agent = %s AND registration = %s"

    def _key(self, tenant_id: str, key) -> list:
        return [tenant_id, key.kind, key.activity_id, key.agent, key.registration]

    def document(self, tenant_id: str, key) -> Optional[tuple[bytes, str, str, datetime]]:
        """``(content, content_type, etag, updated)`` of one document, locked until commit."""
        row = self.db.execute_sql(f"SELECT content, content_type, etag, updated FROM lrs_documents WHERE"
                                  f" {self._DOC_KEY} AND doc_id = %s FOR UPDATE",
                                  self._key(tenant_id, key) + [key.doc_id]).fetchone()
        return (bytes(row[0]), row[1], row[2], row[3]) if row else None

    def document_ids(self, tenant_id: str, key, since: Optional[datetime]) -> list[tuple[str, datetime]]:
        sql = f"SELECT doc_id, updated FROM lrs_documents WHERE {self._DOC_KEY}"
        params = self._key(tenant_id, key)
        if since is not None:
            sql += " AND updated > %s"
            params.append(since)
        return self._rows(sql + " ORDER BY doc_id", params)

    def put_document(self, tenant_id: str, key, content: bytes, content_type: str, etag: str) -> datetime:
        return self.db.execute_sql(
            "INSERT INTO lrs_documents (tenant_id, kind, activity_id, agent, registration, doc_id, content,"
            " content_type, etag, updated) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())"
            " ON CONFLICT (tenant_id, kind, activity_id, agent, registration, doc_id) DO UPDATE SET"
            " content = EXCLUDED.content, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag,"
            " updated = EXCLUDED.updated RETURNING updated",
            self._key(tenant_id, key) + [key.doc_id, content, content_type, etag]).fetchone()[0]

    def delete_documents(self, tenant_id: str, key) -> None:
        """One document, or (no id) every State of the activity and agent (of every registration
        unless the request named one)."""
        if key.doc_id or key.registration:
            sql, params = f"DELETE FROM lrs_documents WHERE {self._DOC_KEY}", self._key(tenant_id, key)
        else:
            sql = "DELETE FROM lrs_documents WHERE tenant_id = %s AND kind = %s AND activity_id = %s AND agent = %s"
            params = self._key(tenant_id, key)[:4]
        if key.doc_id:
            sql += " AND doc_id = %s"
            params.append(key.doc_id)
        self.db.execute_sql(sql, params)

    # --- credentials -----------------------------------------------------------------------

    def tenant_of_key(self, key_id: str) -> Optional[str]:
        row = self.db.execute_sql("SELECT tenant_id FROM lrs_key_tenants WHERE key_id = %s", (key_id,)).fetchone()
        return str(row[0]) if row else None

    def credential(self, tenant_id: str, key_id: str) -> Optional[tuple]:
        """``(secret_hash, label, scopes, revoked, xapi_version)`` of a key."""
        return self.db.execute_sql("SELECT secret_hash, label, scopes, revoked_at IS NOT NULL, xapi_version"
                                   " FROM lrs_credentials"
                                   " WHERE tenant_id = %s AND key_id = %s", (tenant_id, key_id)).fetchone()

    def add_credential(self, tenant_id: str, key_id: str, secret_hash: str, label: str, scopes: list[str],
                       created_by: str, xapi_version: str) -> datetime:
        self.db.execute_sql("INSERT INTO lrs_key_tenants (key_id, tenant_id) VALUES (%s, %s)", (key_id, tenant_id))
        return self.db.execute_sql(
            "INSERT INTO lrs_credentials (tenant_id, key_id, secret_hash, label, scopes, created_by, xapi_version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING created_at",
            (tenant_id, key_id, secret_hash, label, scopes, created_by, xapi_version)).fetchone()[0]

    def credentials(self, tenant_id: str) -> list[tuple]:
        return self._rows("SELECT key_id, label, scopes, xapi_version, created_by, created_at, revoked_at"
                          " FROM lrs_credentials"
                          " WHERE tenant_id = %s ORDER BY created_at, key_id", (tenant_id,))

    def revoke_credential(self, tenant_id: str, key_id: str) -> bool:
        row = self.db.execute_sql("UPDATE lrs_credentials SET revoked_at = COALESCE(revoked_at, now())"
                                  " WHERE tenant_id = %s AND key_id = %s RETURNING 1", (tenant_id, key_id)).fetchone()
        return row is not None


class TrackerUnitOfWork(UnitOfWork):
    """One tracker transaction and its repositories."""

    repositories = {"tracker": TrackerRepository, "lrs": LrsRepository}
    tracker: TrackerRepository
    lrs: LrsRepository
