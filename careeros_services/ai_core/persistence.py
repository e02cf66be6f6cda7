"""ai_core's tables in PostgreSQL: Peewee models and a repository with domain verbs.

Like the profile service, every query runs on the unit of work's connection
(``tx.db``) and names its tenant explicitly; row-level security is the second lock.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.ai_core.domain import Course, LearnerProfile
from careeros_services.ai_core.knowledge import KnowledgeBase
from careeros_services.common.clock import system_clock
from careeros_services.common.unit_of_work import UnitOfWork

database_proxy = peewee.DatabaseProxy()


# What the privacy saga exports and erases (bus/privacy.py), children first; CV files are handled
# by the service. AI cost rows stay, anonymised (the tenant's spend is the tenant's).
_MINE = "user_id = %(user)s AND tenant_id = %(tenant)s"
PERSONAL_ROWS = (
    ("consultation_messages", "tenant_id = %(tenant)s AND consultation_id IN"
                              " (SELECT id FROM consultations WHERE " + _MINE + ")"),
    ("consultations", _MINE), ("cv_uploads", _MINE), ("learner_profiles", _MINE))


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class ConsultationRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    topic = peewee.TextField()
    target_role = peewee.TextField(default="")
    created_at = DateTimeTZField()

    class Meta:
        table_name = "consultations"


class MessageRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    consultation_id = peewee.UUIDField()
    tenant_id = peewee.UUIDField()
    seq = peewee.IntegerField()
    role = peewee.TextField()
    content = peewee.TextField()
    answer = BinaryJSONField(null=True)
    provider = peewee.TextField(default="")
    model = peewee.TextField(default="")
    prompt_tokens = peewee.IntegerField(default=0)
    completion_tokens = peewee.IntegerField(default=0)
    cached = peewee.BooleanField(default=False)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "consultation_messages"


class LearnerProfileRecord(_Model):
    user_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    skills = BinaryJSONField(default=list)
    target_role = peewee.TextField(default="")
    years_experience = peewee.IntegerField(default=0)
    headline = peewee.TextField(default="")
    version = peewee.BigIntegerField(default=1)
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "learner_profiles"


class CourseRecord(_Model):
    course_id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    visibility = peewee.TextField()
    slug = peewee.TextField()
    title = peewee.TextField()
    level = peewee.TextField(default="")
    track = peewee.TextField(default="")
    skills = BinaryJSONField(default=list)
    premium = peewee.BooleanField(default=False)
    estimated_hours = peewee.IntegerField(default=0)
    revision = peewee.IntegerField(default=1)
    archived = peewee.BooleanField(default=False)
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "courses"


class CvRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    object_key = peewee.TextField()
    filename = peewee.TextField()
    content_type = peewee.TextField()
    size_bytes = peewee.IntegerField()
    status = peewee.TextField()
    proposed = BinaryJSONField(default=dict)
    confirmed = BinaryJSONField(default=list)
    created_at = DateTimeTZField()
    confirmed_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "cv_uploads"


class UsageRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    provider = peewee.TextField()
    model = peewee.TextField()
    purpose = peewee.TextField()
    prompt_tokens = peewee.IntegerField()
    completion_tokens = peewee.IntegerField()
    cost_micro_usd = peewee.BigIntegerField()
    created_at = DateTimeTZField()

    class Meta:
        table_name = "ai_usage"


MODELS = (ConsultationRecord, MessageRecord, LearnerProfileRecord, CourseRecord, CvRecord, UsageRecord)


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


def iso(moment: Optional[datetime]) -> str:
    return moment.astimezone(timezone.utc).isoformat() if moment else ""


class AiRepository:
    """ai_core's rows in one unit of work (``uow.ai``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    # --- consultations --------------------------------------------------------------------------

    def create_consultation(self, tenant_id: str, user_id: str, topic: str, target_role: str) -> str:
        consultation_id = str(uuid.uuid4())
        ConsultationRecord.insert(id=consultation_id, tenant_id=tenant_id, user_id=user_id, topic=topic[:200],
                                  target_role=target_role[:120], created_at=system_clock()).execute(self.db)
        return consultation_id

    def consultation(self, tenant_id: str, user_id: str, consultation_id: str, *,
                     for_update: bool = False) -> Optional[ConsultationRecord]:
        """The caller's own consultation (another user's in the same tenant is not found).

        ``for_update`` locks it: concurrent follow-ups then number their messages one after the other.
        """
        query = (ConsultationRecord.select()
                 .where((ConsultationRecord.tenant_id == tenant_id) & (ConsultationRecord.user_id == user_id)
                        & (ConsultationRecord.id == consultation_id)))
        return (query.for_update() if for_update else query).first(self.db)

    def consultations_of(self, tenant_id: str, user_id: str, limit: int) -> list[tuple]:
        """The user's consultations as ``(record, message count, last message time)``, newest activity first."""
        last = peewee.fn.MAX(MessageRecord.created_at)
        query = (ConsultationRecord
                 .select(ConsultationRecord, peewee.fn.COUNT(MessageRecord.id).alias("message_count"),
                         last.alias("last_message_at"))
                 .join(MessageRecord, peewee.JOIN.LEFT_OUTER,
                       on=((MessageRecord.consultation_id == ConsultationRecord.id)
                           & (MessageRecord.tenant_id == ConsultationRecord.tenant_id)))
                 .where((ConsultationRecord.tenant_id == tenant_id) & (ConsultationRecord.user_id == user_id))
                 .group_by(ConsultationRecord.id)
                 .order_by(peewee.fn.COALESCE(last, ConsultationRecord.created_at).desc(),
                           ConsultationRecord.id)
                 .limit(limit))
        return [(r, r.message_count, r.last_message_at or r.created_at) for r in query.execute(self.db)]

    def set_target_role(self, tenant_id: str, consultation_id: str, target_role: str) -> None:
        (ConsultationRecord.update(target_role=target_role[:120])
         .where((ConsultationRecord.tenant_id == tenant_id) & (ConsultationRecord.id == consultation_id))
         .execute(self.db))

    def messages(self, tenant_id: str, consultation_id: str) -> list[MessageRecord]:
        return list(MessageRecord.select()
                    .where((MessageRecord.tenant_id == tenant_id) & (MessageRecord.consultation_id == consultation_id))
                    .order_by(MessageRecord.seq).execute(self.db))

    def add_message(self, tenant_id: str, consultation_id: str, seq: int, role: str, content: str, *,
                    answer: Optional[dict] = None, provider: str = "", model: str = "",
                    prompt_tokens: int = 0, completion_tokens: int = 0, cached: bool = False) -> str:
        message_id = str(uuid.uuid4())
        MessageRecord.insert(id=message_id, consultation_id=consultation_id, tenant_id=tenant_id, seq=seq,
                             role=role, content=content, answer=answer, provider=provider, model=model,
                             prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cached=cached,
                             created_at=system_clock()).execute(self.db)
        return message_id

    def stored_answers(self, tenant_id: str) -> list[dict]:
        """Every stored assistant answer of the tenant (for audits and the schema read-back test)."""
        rows = (MessageRecord.select(MessageRecord.answer)
                .where((MessageRecord.tenant_id == tenant_id) & (MessageRecord.role == "assistant"))
                .execute(self.db))
        return [row.answer for row in rows]

    # --- learner profile read model -------------------------------------------------------------

    def profile(self, tenant_id: str, user_id: str) -> LearnerProfile:
        """The learner as ai_core knows them (an empty profile until events arrive)."""
        row = (LearnerProfileRecord.select()
               .where((LearnerProfileRecord.tenant_id == tenant_id) & (LearnerProfileRecord.user_id == user_id))
               .first(self.db))
        if row is None:
            return LearnerProfile(user_id=user_id, tenant_id=tenant_id)
        return LearnerProfile(user_id=user_id, tenant_id=tenant_id,
                              skills=tuple((s["name"], int(s["level"])) for s in row.skills or []),
                              target_role=row.target_role, years_experience=row.years_experience,
                              headline=row.headline)

    def profile_created(self, tenant_id: str, user_id: str) -> None:
        (LearnerProfileRecord.insert(user_id=user_id, tenant_id=tenant_id, version=1, updated_at=system_clock())
         .on_conflict_ignore().execute(self.db))

    def profile_updated(self, tenant_id: str, user_id: str, version: int, changes: dict) -> bool:
        """Apply the changed fields ai_core keeps; an event older than the stored version changes nothing."""
        self.profile_created(tenant_id, user_id)
        kept = {k: v for k, v in changes.items() if k in ("skills", "target_role", "years_experience", "headline")}
        values = {getattr(LearnerProfileRecord, k): v for k, v in kept.items()}
        values.update({LearnerProfileRecord.version: version, LearnerProfileRecord.updated_at: system_clock()})
        updated = (LearnerProfileRecord.update(values)
                   .where((LearnerProfileRecord.tenant_id == tenant_id) & (LearnerProfileRecord.user_id == user_id)
                          & (LearnerProfileRecord.version < version))
                   .execute(self.db))
        return updated == 1

    # --- course read model ----------------------------------------------------------------------

    def upsert_course(self, payload: dict) -> None:
        """Keep the newest revision of a published course."""
        values = dict(course_id=payload["course_id"], tenant_id=payload["tenant_id"],
                      visibility=payload["visibility"], slug=payload["slug"], title=payload["title"],
                      level=payload.get("level", ""), track=payload.get("track", ""),
                      skills=[{"name": s["name"], "esco_uri": s.get("esco_uri", ""), "level": s.get("level", 1)}
                              for s in payload.get("skills", [])],
                      premium=bool(payload.get("premium", False)),
                      estimated_hours=max(0, int(payload.get("estimated_hours") or 0)),
                      revision=int(payload.get("revision", 1)), archived=False, updated_at=system_clock())
        (CourseRecord.insert(**values)
         .on_conflict(conflict_target=[CourseRecord.course_id],
                      update={getattr(CourseRecord, k): v for k, v in values.items() if k != "course_id"},
                      where=(CourseRecord.revision <= values["revision"]))
         .execute(self.db))

    def archive_course(self, tenant_id: str, course_id: str) -> None:
        (CourseRecord.update(archived=True, updated_at=system_clock())
         .where((CourseRecord.tenant_id == tenant_id) & (CourseRecord.course_id == course_id))
         .execute(self.db))

    def courses(self, tenant_id: str, kb: KnowledgeBase) -> list[Course]:
        """Live courses owned by ``tenant_id`` as domain courses (skills mapped to KB ids)."""
        rows = (CourseRecord.select()
                .where((CourseRecord.tenant_id == tenant_id) & (CourseRecord.archived == False))  # noqa: E712
                .order_by(CourseRecord.slug).execute(self.db))
        return [course_from(kb, r.slug, r.title, r.level, str(r.tenant_id), r.skills, premium=r.premium,
                            hours=r.estimated_hours, course_id=str(r.course_id)) for r in rows]

    # --- CVs ------------------------------------------------------------------------------------

    def add_cv(self, tenant_id: str, user_id: str, cv_id: str, object_key: str, filename: str,
               content_type: str, size: int, proposed: dict) -> CvRecord:
        now = system_clock()
        CvRecord.insert(id=cv_id, tenant_id=tenant_id, user_id=user_id, object_key=object_key, filename=filename,
                        content_type=content_type, size_bytes=size, status="proposed", proposed=proposed,
                        created_at=now).execute(self.db)
        return self.cv(tenant_id, user_id, cv_id)

    def cv(self, tenant_id: str, user_id: str, cv_id: str, *, for_update: bool = False) -> Optional[CvRecord]:
        query = (CvRecord.select()
                 .where((CvRecord.tenant_id == tenant_id) & (CvRecord.user_id == user_id) & (CvRecord.id == cv_id)))
        if for_update:
            query = query.for_update()
        return query.first(self.db)

    def confirm_cv(self, tenant_id: str, cv_id: str, skills: list[dict]) -> None:
        (CvRecord.update(status="confirmed", confirmed=skills, confirmed_at=system_clock())
         .where((CvRecord.tenant_id == tenant_id) & (CvRecord.id == cv_id)).execute(self.db))

    def latest_cv_skills(self, tenant_id: str, user_id: str) -> Optional[list[tuple[str, int]]]:
        """The skills of the learner's newest CV (confirmed if confirmed, else proposed); None without a CV."""
        row = (CvRecord.select().where((CvRecord.tenant_id == tenant_id) & (CvRecord.user_id == user_id))
               .order_by(CvRecord.created_at.desc()).first(self.db))
        if row is None:
            return None
        skills = row.confirmed or (row.proposed or {}).get("proposed_skills", [])
        return [(s["name"], int(s["level"])) for s in skills]

    def stored_cv_analyses(self, tenant_id: str) -> list[dict]:
        return [r.proposed for r in CvRecord.select(CvRecord.proposed).where(CvRecord.tenant_id == tenant_id)
                .execute(self.db)]

    # --- usage ----------------------------------------------------------------------------------

    def add_usage(self, tenant_id: str, user_id: str, provider: str, model: str, purpose: str,
                  prompt_tokens: int, completion_tokens: int, cost: int) -> str:
        usage_id = str(uuid.uuid4())
        UsageRecord.insert(id=usage_id, tenant_id=tenant_id, user_id=user_id, provider=provider, model=model,
                           purpose=purpose, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                           cost_micro_usd=cost, created_at=system_clock()).execute(self.db)
        return usage_id

    def usage_totals(self, tenant_id: str, since: datetime, user_id: Optional[str] = None) -> dict:
        """Calls, tokens and cost since ``since`` for the tenant (or one of its users)."""
        where = (UsageRecord.tenant_id == tenant_id) & (UsageRecord.created_at >= since)
        if user_id:
            where &= UsageRecord.user_id == user_id
        row = (UsageRecord.select(peewee.fn.COUNT(UsageRecord.id), peewee.fn.COALESCE(peewee.fn.SUM(UsageRecord.prompt_tokens), 0),
                                  peewee.fn.COALESCE(peewee.fn.SUM(UsageRecord.completion_tokens), 0),
                                  peewee.fn.COALESCE(peewee.fn.SUM(UsageRecord.cost_micro_usd), 0))
               .where(where).tuples().execute(self.db))
        calls, prompt, completion, cost = list(row)[0]
        return {"calls": int(calls), "prompt_tokens": int(prompt), "completion_tokens": int(completion),
                "cost_micro_usd": int(cost)}

    def usage_by_provider(self, tenant_id: str, user_id: str, since: datetime) -> list[dict]:
        """The user's calls, tokens and cost since ``since`` per provider."""
        rows = (UsageRecord.select(UsageRecord.provider, peewee.fn.COUNT(UsageRecord.id),
                                   peewee.fn.SUM(UsageRecord.prompt_tokens), peewee.fn.SUM(UsageRecord.completion_tokens),
                                   peewee.fn.SUM(UsageRecord.cost_micro_usd))
                .where((UsageRecord.tenant_id == tenant_id) & (UsageRecord.user_id == user_id)
                       & (UsageRecord.created_at >= since))
                .group_by(UsageRecord.provider).order_by(UsageRecord.provider).tuples().execute(self.db))
        return [{"provider": provider, "calls": int(calls), "prompt_tokens": int(prompt or 0),
                 "completion_tokens": int(completion or 0), "cost_micro_usd": int(cost or 0)}
                for provider, calls, prompt, completion, cost in rows]


def course_from(kb: KnowledgeBase, slug: str, title: str, level: str, tenant_id: str, skills: list, *,
                premium: bool = False, hours: int = 0, course_id: str = "") -> Course:
    """A catalog or read-model course with its skills matched to KB ids (by ESCO URI, then name), main skill first."""
    ids = []
    for skill in skills or []:
        found = kb.skill_for(str(skill.get("name", "")), str(skill.get("esco_uri", "") or ""))
        if found is not None and found.id not in ids:
            ids.append(found.id)
    return Course(slug=slug, title=title, level=level or "", tenant_id=tenant_id, skill_ids=tuple(ids),
                  premium=bool(premium), hours=int(hours or 0), course_id=course_id)


class AiUnitOfWork(UnitOfWork):
    """One ai_core transaction and its repositories."""

    repositories = {"ai": AiRepository}
    ai: AiRepository
