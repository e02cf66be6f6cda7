"""Messages and preferences in PostgreSQL: the Peewee models and a repository with domain verbs.

The repository runs every query on the unit of work's connection (``tx.db``), and names its
tenant explicitly: row-level security is the second lock. Schema: ``migrations/m0001_initial.py``.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.common.unit_of_work import UnitOfWork

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py): the person's messages (their address,
# the event that caused each), their preferences and the digest's weekly activity, in the tenant.
PERSONAL_ROWS = (("messages", "user_id = %(user)s AND tenant_id = %(tenant)s"),
                 ("preferences", "user_id = %(user)s AND tenant_id = %(tenant)s"),
                 ("weekly_activity", "user_id = %(user)s AND tenant_id = %(tenant)s"))
ACTIVITY_COLUMNS = ("statements", "seconds_spent", "lessons_completed", "courses_completed", "milestones",
                    "active_days", "next_course_id", "next_course_percent")


class MessageRecord(peewee.Model):
    """A row of ``messages``: one per causing event (``event_id``), with its delivery state."""

    id = peewee.UUIDField(primary_key=True)
    event_id = peewee.UUIDField(unique=True)
    tenant_id = peewee.UUIDField()
    kind = peewee.TextField()
    user_id = peewee.UUIDField(null=True)
    recipient = BinaryJSONField()
    event = BinaryJSONField()
    state = peewee.TextField(default="queued")
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = DateTimeTZField()
    last_error = peewee.TextField(default="")
    to_address = peewee.TextField(default="")
    subject = peewee.TextField(default="")
    created_at = DateTimeTZField()
    sent_at = DateTimeTZField(null=True)

    class Meta:
        database = database_proxy
        table_name = "messages"


class PreferenceRecord(peewee.Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    kind = peewee.TextField()
    enabled = peewee.BooleanField()
    updated_at = DateTimeTZField()

    class Meta:
        database = database_proxy
        table_name = "preferences"
        primary_key = peewee.CompositeKey("tenant_id", "user_id", "kind")


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


SUMMARY_COLUMNS = ("id", "event_id", "tenant_id", "kind", "state", "attempts", "last_error", "to_address",
                   "subject", "created_at", "sent_at")


def _summary(values: tuple) -> dict:
    row = dict(zip(SUMMARY_COLUMNS, values))
    for key in ("id", "event_id", "tenant_id"):
        row[key] = str(row[key])
    for key in ("created_at", "sent_at"):
        row[key] = row[key].isoformat() if row[key] else None
    return row


class NotificationRepository:
    """Messages and preferences of one unit of work (``uow.notifications``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    def enqueue(self, envelope: dict, kind: str, recipient: dict, user_id: Optional[str], now: datetime) -> bool:
        """Queue the message an event causes; a message the event already made is left alone,
        unless it had failed (a DLQ replay): then it is queued again with fresh attempts."""
        cursor = self.db.execute_sql(
            "INSERT INTO messages (id, event_id, tenant_id, kind, user_id, recipient, event, next_attempt_at,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (event_id) DO UPDATE SET state = 'queued', attempts = 0, last_error = '',"
            " next_attempt_at = EXCLUDED.next_attempt_at WHERE messages.state = 'failed' RETURNING id",
            (str(uuid.uuid4()), envelope["id"], envelope["tenant_id"], kind, user_id, json.dumps(recipient),
             json.dumps(envelope), now, now))
        return cursor.fetchone() is not None

    def due(self, at: datetime, limit: int) -> list[tuple[str, str]]:
        """``(tenant_id, message_id)`` of queued messages due at ``at``, oldest first (all tenants)."""
        cursor = self.db.execute_sql("SELECT tenant_id, message_id FROM notifications_due(%s, %s)", (at, limit))
        return [(str(t), str(m)) for t, m in cursor.fetchall()]

    def lock_queued(self, tenant_id: str, message_id: str, at: datetime) -> Optional[MessageRecord]:
        """The message if it is still queued and due, locked (another worker skips it) until commit."""
        return (MessageRecord.select()
                .where((MessageRecord.tenant_id == tenant_id) & (MessageRecord.id == message_id)
                       & (MessageRecord.state == "queued") & (MessageRecord.next_attempt_at <= at))
                .for_update("FOR UPDATE SKIP LOCKED").first(self.db))

    def mark(self, message: MessageRecord, **values) -> None:
        (MessageRecord.update({getattr(MessageRecord, k): v for k, v in values.items()})
         .where((MessageRecord.tenant_id == message.tenant_id) & (MessageRecord.id == message.id))
         .execute(self.db))

    def overview(self, state: str, limit: int) -> list[dict]:
        cursor = self.db.execute_sql("SELECT * FROM notifications_overview(%s, %s)", (state or "", limit))
        return [_summary(row) for row in cursor.fetchall()]

    def counts(self) -> dict[str, int]:
        return {state: int(n) for state, n in self.db.execute_sql("SELECT * FROM notifications_counts()").fetchall()}

    def message(self, tenant_id: str, message_id: str) -> Optional[MessageRecord]:
        return (MessageRecord.select()
                .where((MessageRecord.tenant_id == tenant_id) & (MessageRecord.id == message_id)).first(self.db))

    # --- preferences -----------------------------------------------------------------------------

    def preferences(self, tenant_id: str, user_id: str) -> dict[str, bool]:
        rows = (PreferenceRecord.select(PreferenceRecord.kind, PreferenceRecord.enabled)
                .where((PreferenceRecord.tenant_id == tenant_id) & (PreferenceRecord.user_id == user_id))
                .execute(self.db))
        return {row.kind: row.enabled for row in rows}

    def set_preferences(self, tenant_id: str, user_id: str, values: dict[str, bool], now: datetime) -> None:
        for kind, enabled in values.items():
            (PreferenceRecord.insert({PreferenceRecord.tenant_id: tenant_id, PreferenceRecord.user_id: user_id,
                                      PreferenceRecord.kind: kind, PreferenceRecord.enabled: enabled,
                                      PreferenceRecord.updated_at: now})
             .on_conflict(conflict_target=[PreferenceRecord.tenant_id, PreferenceRecord.user_id,
                                           PreferenceRecord.kind],
                          update={PreferenceRecord.enabled: enabled, PreferenceRecord.updated_at: now})
             .execute(self.db))

    # --- the weekly digest's read model ----------------------------------------------------------

    def add_activity(self, tenant_id: str, user_id: str, week: date, now: datetime, *, statements: int = 0,
                     seconds: int = 0, lesson: Optional[str] = None, courses: int = 0,
                     milestone: Optional[str] = None, active_day: int = 0) -> None:
        """Add one event's worth of activity to the person's week (the inbox makes it once per event)."""
        self.db.execute_sql(
            "INSERT INTO weekly_activity AS w (tenant_id, user_id, week_start, statements, seconds_spent,"
            " lessons_completed, courses_completed, milestones, active_days, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s::text[], %s, %s::text[], %s, %s)"
            " ON CONFLICT (tenant_id, user_id, week_start) DO UPDATE SET"
            " statements = w.statements + EXCLUDED.statements,"
            " seconds_spent = w.seconds_spent + EXCLUDED.seconds_spent,"
            " lessons_completed = CASE WHEN EXCLUDED.lessons_completed <@ w.lessons_completed"
            "   THEN w.lessons_completed ELSE w.lessons_completed || EXCLUDED.lessons_completed END,"
            " courses_completed = w.courses_completed + EXCLUDED.courses_completed,"
            " milestones = w.milestones || EXCLUDED.milestones,"
            " active_days = w.active_days | EXCLUDED.active_days, updated_at = EXCLUDED.updated_at",
            (tenant_id, user_id, week, statements, seconds, [lesson] if lesson else [], courses,
             [milestone] if milestone else [], active_day, now))

    def set_next_course(self, tenant_id: str, user_id: str, week: date, course_id: str, percent: int,
                        completed: bool, now: datetime) -> None:
        """The course to continue, as of the person's latest progress this week (cleared once completed)."""
        if completed:
            self.db.execute_sql(
                "UPDATE weekly_activity SET next_course_id = '', next_course_percent = 0, updated_at = %s"
                " WHERE tenant_id = %s AND user_id = %s AND week_start = %s AND next_course_id = %s",
                (now, tenant_id, user_id, week, course_id))
            return
        self.db.execute_sql(
            "INSERT INTO weekly_activity AS w (tenant_id, user_id, week_start, next_course_id, next_course_percent,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, user_id, week_start) DO UPDATE"
            " SET next_course_id = EXCLUDED.next_course_id, next_course_percent = EXCLUDED.next_course_percent,"
            " updated_at = EXCLUDED.updated_at", (tenant_id, user_id, week, course_id, percent, now))

    def digest_due(self, week: date, limit: int) -> list[tuple[str, str]]:
        """``(tenant_id, user_id)`` of people active in ``week`` whose digest is undecided (every schema)."""
        cursor = self.db.execute_sql("SELECT tenant_id, user_id FROM notifications_digest_due(%s, %s)",
                                     (week, limit))
        return [(str(t), str(u)) for t, u in cursor.fetchall()]

    def claim_digest(self, tenant_id: str, user_id: str, week: date, now: datetime) -> Optional[dict]:
        """Mark the person's week digested and return its activity, or None when another run did first
        (the row lock makes a concurrent claim wait, then find ``digested_at`` set)."""
        cursor = self.db.execute_sql(
            f"UPDATE weekly_activity SET digested_at = %s WHERE tenant_id = %s AND user_id = %s"
            f" AND week_start = %s AND digested_at IS NULL RETURNING {', '.join(ACTIVITY_COLUMNS)}",
            (now, tenant_id, user_id, week))
        row = cursor.fetchone()
        return dict(zip(ACTIVITY_COLUMNS, row)) if row else None

    def active_weeks(self, tenant_id: str, user_id: str, until: date) -> list[date]:
        """The weeks up to ``until`` in which the person did something (for the streak)."""
        cursor = self.db.execute_sql(
            "SELECT week_start FROM weekly_activity WHERE tenant_id = %s AND user_id = %s AND week_start <= %s"
            " AND (statements > 0 OR courses_completed > 0 OR cardinality(milestones) > 0)",
            (tenant_id, user_id, until))
        return [row[0] for row in cursor.fetchall()]

class NotificationsUnitOfWork(UnitOfWork):
    """One notifications transaction and its repositories."""

    repositories = {"notifications": NotificationRepository}
    notifications: NotificationRepository
