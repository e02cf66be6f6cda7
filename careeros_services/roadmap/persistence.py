"""Roadmaps in PostgreSQL: Peewee models and a repository with domain verbs.

As in the profile service, the repository runs every query on the unit of
work's connection (``uow.roadmaps``) and names the tenant in every
tenant-scoped query; row-level security is the second lock. ``saga_queue`` and
``roadmap_directory`` hold ids only and are read across tenants (raw SQL).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.common.unit_of_work import UnitOfWork
from careeros_services.roadmap.domain import CatalogCourse, CatalogLesson, CourseProgress

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py), children before their roadmap.
_MINE = "user_id = %(user)s AND tenant_id = %(tenant)s"
_OF_MY_ROADMAP = "tenant_id = %(tenant)s AND roadmap_id IN (SELECT roadmap_id FROM roadmaps WHERE " + _MINE + ")"
PERSONAL_ROWS = (
    ("saga_queue", "tenant_id = %(tenant)s AND saga_id IN (SELECT saga_id FROM regen_sagas WHERE " + _MINE + ")"),
    ("regen_sagas", _MINE), ("achievements", _MINE), ("milestone_marks", _OF_MY_ROADMAP),
    ("roadmap_versions", _OF_MY_ROADMAP), ("roadmap_directory", _OF_MY_ROADMAP), ("roadmaps", _MINE),
    ("course_progress", _MINE), ("learner_profiles", _MINE))


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class RoadmapRecord(_Model):
    roadmap_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    active_version = peewee.IntegerField(default=0)
    org_role = peewee.TextField(default="member")
    plan_tier = peewee.TextField(default="free")
    last_regeneration = BinaryJSONField(default=dict)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "roadmaps"


class VersionRecord(_Model):
    roadmap_id = peewee.UUIDField()
    version = peewee.IntegerField()
    tenant_id = peewee.UUIDField()
    target_role = peewee.TextField()
    hours_per_week = peewee.IntegerField()
    deadline = peewee.DateField(null=True)
    reason = peewee.TextField()
    saga_id = peewee.UUIDField()
    plan = BinaryJSONField()
    created_at = DateTimeTZField()

    class Meta:
        table_name = "roadmap_versions"
        primary_key = peewee.CompositeKey("roadmap_id", "version")


class MarkRecord(_Model):
    roadmap_id = peewee.UUIDField()
    skill_id = peewee.TextField()
    tenant_id = peewee.UUIDField()
    status = peewee.TextField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "milestone_marks"
        primary_key = peewee.CompositeKey("roadmap_id", "skill_id")


class AchievementRecord(_Model):
    roadmap_id = peewee.UUIDField()
    skill_key = peewee.TextField()
    level = peewee.IntegerField()
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    skill_name = peewee.TextField()
    evidence = BinaryJSONField()
    achieved_at = DateTimeTZField()

    class Meta:
        table_name = "achievements"
        primary_key = peewee.CompositeKey("roadmap_id", "skill_key", "level")


class SagaRecord(_Model):
    saga_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    roadmap_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    trigger_key = peewee.TextField()
    reason = peewee.TextField()
    state = peewee.TextField()
    params = BinaryJSONField()
    proposal = BinaryJSONField(null=True)
    plan = BinaryJSONField(null=True)
    base_version = peewee.IntegerField()
    new_version = peewee.IntegerField(null=True)
    attempts = peewee.IntegerField(default=0)
    error = peewee.TextField(default="")
    log = BinaryJSONField(default=list)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "regen_sagas"


class CatalogRecord(_Model):
    course_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    visibility = peewee.TextField()
    slug = peewee.TextField()
    title = peewee.TextField()
    estimated_hours = peewee.IntegerField(default=0)
    skills = BinaryJSONField(default=list)
    lessons = BinaryJSONField(default=list)
    revision = peewee.IntegerField(default=0)
    archived = peewee.BooleanField(default=False)
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "catalog_courses"


class ProgressRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField()
    percent = peewee.IntegerField()
    completed = peewee.BooleanField()
    lessons_done = peewee.IntegerField(default=0)
    lessons_total = peewee.IntegerField(default=0)
    last_activity_at = DateTimeTZField()

    class Meta:
        table_name = "course_progress"
        primary_key = peewee.CompositeKey("tenant_id", "user_id", "course_id")


class LearnerRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    target_role = peewee.TextField(default="")
    skills = BinaryJSONField(default=list)
    profile_version = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "learner_profiles"
        primary_key = peewee.CompositeKey("tenant_id", "user_id")


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


class RoadmapRepository:
    """Roadmaps, versions, sagas and read models of one unit of work."""

    def __init__(self, db: peewee.Database):
        self.db = db

    # --- roadmaps and versions ---------------------------------------------------------

    def roadmap_of(self, tenant_id: str, user_id: str, *, for_update: bool = False) -> Optional[RoadmapRecord]:
        query = RoadmapRecord.select().where((RoadmapRecord.tenant_id == tenant_id)
                                             & (RoadmapRecord.user_id == user_id))
        return (query.for_update() if for_update else query).first(self.db)

    def roadmap(self, tenant_id: str, roadmap_id: str, *, for_update: bool = False) -> Optional[RoadmapRecord]:
        query = RoadmapRecord.select().where((RoadmapRecord.tenant_id == tenant_id)
                                             & (RoadmapRecord.roadmap_id == roadmap_id))
        return (query.for_update() if for_update else query).first(self.db)

    def create_roadmap(self, record: dict) -> RoadmapRecord:
        """Insert the learner's roadmap unless one exists; returns the stored one."""
        RoadmapRecord.insert(record).on_conflict_ignore().execute(self.db)
        return self.roadmap_of(str(record["tenant_id"]), str(record["user_id"]), for_update=True)

    def delete_roadmap_without_versions(self, tenant_id: str, roadmap_id: str) -> int:
        return (RoadmapRecord.delete()
                .where((RoadmapRecord.tenant_id == tenant_id) & (RoadmapRecord.roadmap_id == roadmap_id)
                       & (RoadmapRecord.active_version == 0)).execute(self.db))

    def set_last_regeneration(self, tenant_id: str, roadmap_id: str, value: dict, now: datetime,
                              active_version: Optional[int] = None) -> None:
        changes = {RoadmapRecord.last_regeneration: value, RoadmapRecord.updated_at: now}
        if active_version is not None:
            changes[RoadmapRecord.active_version] = active_version
        (RoadmapRecord.update(changes)
         .where((RoadmapRecord.tenant_id == tenant_id) & (RoadmapRecord.roadmap_id == roadmap_id))
         .execute(self.db))

    def version(self, tenant_id: str, roadmap_id: str, version: int) -> Optional[VersionRecord]:
        return (VersionRecord.select()
                .where((VersionRecord.tenant_id == tenant_id) & (VersionRecord.roadmap_id == roadmap_id)
                       & (VersionRecord.version == version)).first(self.db))

    def versions(self, tenant_id: str, roadmap_id: str) -> list[VersionRecord]:
        return list(VersionRecord.select(VersionRecord.version, VersionRecord.target_role, VersionRecord.reason,
                                         VersionRecord.created_at, VersionRecord.plan)
                    .where((VersionRecord.tenant_id == tenant_id) & (VersionRecord.roadmap_id == roadmap_id))
                    .order_by(VersionRecord.version).execute(self.db))

    def max_version(self, tenant_id: str, roadmap_id: str) -> int:
        return (VersionRecord.select(peewee.fn.COALESCE(peewee.fn.MAX(VersionRecord.version), 0))
                .where((VersionRecord.tenant_id == tenant_id) & (VersionRecord.roadmap_id == roadmap_id))
                .scalar(self.db))

    def add_version(self, record: dict) -> None:
        VersionRecord.insert(record).execute(self.db)

    def set_directory(self, tenant_id: str, roadmap_id: str, course_ids: list[str]) -> None:
        self.db.execute_sql(
            "INSERT INTO roadmap_directory (roadmap_id, tenant_id, course_ids) VALUES (%s, %s, %s)"
            " ON CONFLICT (roadmap_id) DO UPDATE SET course_ids = EXCLUDED.course_ids",
            (roadmap_id, tenant_id, sorted(set(course_ids))))

    def roadmaps_linking(self, course_id: str) -> list[tuple[str, str]]:
        """``(tenant_id, roadmap_id)`` of every roadmap whose active version links the course."""
        cursor = self.db.execute_sql("SELECT tenant_id, roadmap_id FROM roadmap_directory"
                                     " WHERE course_ids @> ARRAY[%s]::text[] ORDER BY roadmap_id", (course_id,))
        return [(str(t), str(r)) for t, r in cursor.fetchall()]

    # --- marks and achievements ----------------------------------------------------------

    def marks(self, tenant_id: str, roadmap_id: str) -> dict[str, str]:
        rows = (MarkRecord.select(MarkRecord.skill_id, MarkRecord.status)
                .where((MarkRecord.tenant_id == tenant_id) & (MarkRecord.roadmap_id == roadmap_id)).execute(self.db))
        return {r.skill_id: r.status for r in rows}

    def set_mark(self, tenant_id: str, roadmap_id: str, skill_id: str, status: str, now: datetime) -> None:
        if not status:
            (MarkRecord.delete().where((MarkRecord.tenant_id == tenant_id) & (MarkRecord.roadmap_id == roadmap_id)
                                       & (MarkRecord.skill_id == skill_id)).execute(self.db))
            return
        (MarkRecord.insert(roadmap_id=roadmap_id, skill_id=skill_id, tenant_id=tenant_id, status=status,
                           updated_at=now)
         .on_conflict(conflict_target=[MarkRecord.roadmap_id, MarkRecord.skill_id],
                      update={MarkRecord.status: status, MarkRecord.updated_at: now}).execute(self.db))

    def achievements(self, tenant_id: str, roadmap_id: str) -> set[tuple[str, int]]:
        rows = (AchievementRecord.select(AchievementRecord.skill_key, AchievementRecord.level)
                .where((AchievementRecord.tenant_id == tenant_id)
                       & (AchievementRecord.roadmap_id == roadmap_id)).execute(self.db))
        return {(r.skill_key, r.level) for r in rows}

    def achieved_skills(self, tenant_id: str, user_id: str) -> list[dict]:
        rows = (AchievementRecord.select(AchievementRecord.skill_name, AchievementRecord.level)
                .where((AchievementRecord.tenant_id == tenant_id) & (AchievementRecord.user_id == user_id))
                .execute(self.db))
        return [{"name": r.skill_name, "level": r.level} for r in rows]

    def add_achievement(self, record: dict) -> bool:
        cursor = (AchievementRecord.insert(record).on_conflict_ignore()
                  .returning(AchievementRecord.level).execute(self.db))
        return len(list(cursor)) == 1

    # --- sagas ----------------------------------------------------------------------------

    def add_saga(self, record: dict) -> bool:
        """Insert a saga and queue it; False (nothing written) when its trigger already has one."""
        cursor = (SagaRecord.insert(record).on_conflict_ignore().returning(SagaRecord.saga_id).execute(self.db))
        if len(list(cursor)) != 1:
            return False
        self.db.execute_sql("INSERT INTO saga_queue (saga_id, tenant_id) VALUES (%s, %s)",
                            (str(record["saga_id"]), str(record["tenant_id"])))
        return True

    def saga(self, tenant_id: str, saga_id: str, *, for_update: bool = False) -> Optional[SagaRecord]:
        query = SagaRecord.select().where((SagaRecord.tenant_id == tenant_id) & (SagaRecord.saga_id == saga_id))
        return (query.for_update() if for_update else query).first(self.db)

    def save_saga(self, saga: SagaRecord) -> None:
        fields = (SagaRecord.state, SagaRecord.proposal, SagaRecord.plan, SagaRecord.new_version,
                  SagaRecord.attempts, SagaRecord.error, SagaRecord.log, SagaRecord.updated_at)
        (SagaRecord.update({f: getattr(saga, f.name) for f in fields})
         .where((SagaRecord.tenant_id == saga.tenant_id) & (SagaRecord.saga_id == saga.saga_id))
         .execute(self.db))

    def sagas_of(self, tenant_id: str, roadmap_id: str) -> list[SagaRecord]:
        return list(SagaRecord.select()
                    .where((SagaRecord.tenant_id == tenant_id) & (SagaRecord.roadmap_id == roadmap_id))
                    .order_by(SagaRecord.created_at).execute(self.db))

    def lease_due_sagas(self, lease_s: float, limit: int = 10) -> list[tuple[str, str]]:
        """Take a lease on sagas that are due and not leased (or whose lease ran out: a crashed runner)."""
        cursor = self.db.execute_sql(
            "UPDATE saga_queue SET lease_until = now() + make_interval(secs => %s)"
            " WHERE saga_id IN (SELECT saga_id FROM saga_queue WHERE due_at <= now()"
            "   AND (lease_until IS NULL OR lease_until < now()) ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING tenant_id, saga_id", (lease_s, limit))
        return [(str(t), str(s)) for t, s in cursor.fetchall()]

    def lease_saga(self, saga_id: str, lease_s: float) -> bool:
        cursor = self.db.execute_sql(
            "UPDATE saga_queue SET lease_until = now() + make_interval(secs => %s) WHERE saga_id = %s"
            " AND (lease_until IS NULL OR lease_until < now()) RETURNING 1", (lease_s, saga_id))
        return cursor.fetchone() is not None

    def retry_saga_later(self, saga_id: str, delay_s: float) -> None:
        self.db.execute_sql("UPDATE saga_queue SET due_at = now() + make_interval(secs => %s), lease_until = NULL"
                            " WHERE saga_id = %s", (delay_s, saga_id))

    def dequeue_saga(self, saga_id: str) -> None:
        self.db.execute_sql("DELETE FROM saga_queue WHERE saga_id = %s", (saga_id,))

    # --- read models ----------------------------------------------------------------------

    def upsert_course(self, record: dict) -> None:
        """Keep the newest revision of a published course."""
        update = {getattr(CatalogRecord, k): v for k, v in record.items() if k != "course_id"}
        (CatalogRecord.insert(record)
         .on_conflict(conflict_target=[CatalogRecord.course_id], update=update,
                      where=(CatalogRecord.revision <= record["revision"])).execute(self.db))

    def archive_course(self, tenant_id: str, course_id: str, now: datetime) -> None:
        (CatalogRecord.update({CatalogRecord.archived: True, CatalogRecord.updated_at: now})
         .where((CatalogRecord.tenant_id == tenant_id) & (CatalogRecord.course_id == course_id)).execute(self.db))

    def catalog(self, tenant_id: str) -> list[CatalogCourse]:
        """The courses a learner of ``tenant_id`` can take: the tenant's own and public ones."""
        rows = (CatalogRecord.select()
                .where((CatalogRecord.tenant_id == tenant_id) | (CatalogRecord.visibility == "public"))
                .order_by(CatalogRecord.slug, CatalogRecord.course_id).execute(self.db))
        return [CatalogCourse(
            course_id=str(r.course_id), slug=r.slug, title=r.title, estimated_hours=r.estimated_hours,
            skills=tuple((s["name"], s.get("esco_uri", ""), int(s["level"])) for s in r.skills),
            lessons=tuple(CatalogLesson(le["lesson_id"], le["title"], le.get("required", True),
                                        le.get("estimated_minutes", 0)) for le in r.lessons),
            archived=r.archived) for r in rows]

    def upsert_progress(self, record: dict) -> None:
        """Keep the most recent progress per learner and course (events may arrive out of order)."""
        update = {getattr(ProgressRecord, k): v for k, v in record.items()
                  if k not in ("tenant_id", "user_id", "course_id")}
        (ProgressRecord.insert(record)
         .on_conflict(conflict_target=[ProgressRecord.tenant_id, ProgressRecord.user_id, ProgressRecord.course_id],
                      update=update, where=(ProgressRecord.last_activity_at <= record["last_activity_at"]))
         .execute(self.db))

    def progress(self, tenant_id: str, user_id: str) -> dict[str, CourseProgress]:
        rows = (ProgressRecord.select(ProgressRecord.course_id, ProgressRecord.percent, ProgressRecord.completed)
                .where((ProgressRecord.tenant_id == tenant_id) & (ProgressRecord.user_id == user_id))
                .execute(self.db))
        return {str(r.course_id): CourseProgress(r.percent, r.completed) for r in rows}

    def learner(self, tenant_id: str, user_id: str) -> Optional[LearnerRecord]:
        return (LearnerRecord.select()
                .where((LearnerRecord.tenant_id == tenant_id) & (LearnerRecord.user_id == user_id)).first(self.db))

    def upsert_learner(self, tenant_id: str, user_id: str, version: int, changes: dict) -> bool:
        """Apply a profile change unless a newer one was applied; True when applied."""
        values = {"tenant_id": tenant_id, "user_id": user_id, "profile_version": version,
                  **{k: v for k, v in changes.items() if k in ("target_role", "skills")}}
        update = {getattr(LearnerRecord, k): v for k, v in values.items() if k not in ("tenant_id", "user_id")}
        cursor = (LearnerRecord.insert(values)
                  .on_conflict(conflict_target=[LearnerRecord.tenant_id, LearnerRecord.user_id], update=update,
                               where=(LearnerRecord.profile_version < version))
                  .returning(LearnerRecord.user_id).execute(self.db))
        return len(list(cursor)) == 1


class RoadmapUnitOfWork(UnitOfWork):
    """One roadmap transaction and its repository."""

    repositories = {"roadmaps": RoadmapRepository}
    roadmaps: RoadmapRepository
