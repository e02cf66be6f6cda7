"""Seed the public catalog (platform tenant) from ``seed/catalog.json``, idempotently.

Runs inside a migration on its DB-API cursor (``careeros setup``), so it is raw SQL.
Each course carries a content hash: an unchanged course is skipped; a new or changed
one is upserted (lesson ids are stable, lessons dropped from the file are marked
removed), gets a new revision and a ``course.published`` event in the same transaction,
so the tracker and roadmap learn the structure the same way as for authored courses.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

from bus.contracts import LMS_COURSE_PUBLISHED_V1 as COURSE_PUBLISHED
from bus.store import Transaction
from careeros_services.lms import domain

CATALOG_FILE = Path(__file__).resolve().parent / "seed" / "catalog.json"


class _CursorDatabase:
    """Just enough of a Peewee database for ``bus.store.Transaction.publish`` on a raw cursor."""

    def __init__(self, cur):
        self.cur = cur

    def execute_sql(self, sql: str, params=None):
        self.cur.execute(sql, params)
        return self.cur


class _CursorStore:
    service = "lms"

    def __init__(self, cur, topic_prefix: str):
        self.database = _CursorDatabase(cur)
        self.topic_prefix = topic_prefix


def load_catalog(path: Path = CATALOG_FILE) -> dict:
    return json.loads(path.read_text())


def content_hash(course: dict) -> str:
    return hashlib.sha256(json.dumps(course, sort_keys=True).encode()).hexdigest()


def seed(cur, catalog: Optional[dict] = None, topic_prefix: Optional[str] = None) -> list[str]:
    """Upsert the catalog's courses; returns the slugs (re)published now."""
    if topic_prefix is None:
        from careeros_services.common import db
        topic_prefix = str(db.migration_config()["kafka"]["topic_prefix"])
    catalog = catalog or load_catalog()
    tenant = catalog.get("tenant_id", domain.PLATFORM_TENANT)
    cur.execute("SELECT set_config('careeros.tenant_id', %s, true)", (tenant,))
    tx = Transaction(_CursorStore(cur, topic_prefix), tenant, None)
    changed = []
    for course in catalog["courses"]:
        digest = content_hash(course)
        cur.execute("SELECT revision, content_hash FROM courses WHERE id = %s", (course["id"],))
        row = cur.fetchone()
        if row is not None and row[1] == digest:
            continue
        revision = (row[0] if row else 0) + 1
        meta = domain.validate_course({k: course[k] for k in domain.COURSE_FIELDS if k in course})
        cur.execute("""
            INSERT INTO courses (id, tenant_id, slug, title, summary, level, language, estimated_hours, tags,
                                 track, premium, skills, skill_keys, visibility, status, revision, content_hash)
            VALUES (%(id)s, %(tenant)s, %(slug)s, %(title)s, %(summary)s, %(level)s, %(language)s, %(hours)s,
                    %(tags)s, %(track)s, %(premium)s, %(skills)s, %(keys)s, 'public', 'published', %(rev)s, %(hash)s)
            ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, title = EXCLUDED.title, summary = EXCLUDED.summary,
                level = EXCLUDED.level, language = EXCLUDED.language, estimated_hours = EXCLUDED.estimated_hours,
                tags = EXCLUDED.tags, track = EXCLUDED.track, premium = EXCLUDED.premium, skills = EXCLUDED.skills,
                skill_keys = EXCLUDED.skill_keys, status = 'published', revision = EXCLUDED.revision,
                content_hash = EXCLUDED.content_hash, updated_at = now()
        """, {"id": course["id"], "tenant": tenant, "slug": course["slug"], "title": meta["title"],
              "summary": meta["summary"], "level": meta["level"], "language": meta["language"],
              "hours": meta["estimated_hours"], "tags": meta["tags"], "track": meta["track"],
              "premium": meta["premium"], "skills": json.dumps(meta["skills"]),
              "keys": domain.skill_keys(meta["skills"]), "rev": revision, "hash": digest})
        module_ids, lesson_ids = _upsert_outline(cur, tenant, course)
        cur.execute("UPDATE lessons SET removed = true WHERE course_id = %s AND NOT (id = ANY(%s::uuid[]))",
                    (course["id"], lesson_ids))
        cur.execute("UPDATE course_modules SET removed = true WHERE course_id = %s AND NOT (id = ANY(%s::uuid[]))",
                    (course["id"], module_ids))
        row_course = {"id": course["id"], "tenant_id": tenant, "slug": course["slug"], **meta}
        snap = domain.snapshot(row_course, course["modules"])
        cur.execute("INSERT INTO course_revisions (tenant_id, course_id, revision, snapshot) VALUES (%s, %s, %s, %s)",
                    (tenant, course["id"], revision, json.dumps(snap)))
        tx.publish(COURSE_PUBLISHED, aggregate_id=course["id"],
                   payload=domain.published_payload(row_course, snap, revision))
        changed.append(course["slug"])
    return changed


def _upsert_outline(cur, tenant: str, course: dict) -> tuple[list[str], list[str]]:
    """Upsert a seeded course's modules and lessons; returns the ids of both (what is kept)."""
    module_ids, lesson_ids = [], []
    for mpos, module in enumerate(course["modules"]):
        module_ids.append(module["id"])
        cur.execute("""
            INSERT INTO course_modules (id, tenant_id, course_id, title, position) VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, position = EXCLUDED.position, removed = false
        """, (module["id"], tenant, course["id"], module["title"], mpos))
        for lpos, lesson in enumerate(module["lessons"]):
            lesson_ids.append(lesson["id"])
            cur.execute("""
                INSERT INTO lessons (id, tenant_id, course_id, module_id, title, kind, required, position,
                                     estimated_minutes, body_md, quiz)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (id) DO UPDATE SET module_id = EXCLUDED.module_id, title = EXCLUDED.title,
                    kind = EXCLUDED.kind, required = EXCLUDED.required, position = EXCLUDED.position,
                    estimated_minutes = EXCLUDED.estimated_minutes, body_md = EXCLUDED.body_md,
                    quiz = EXCLUDED.quiz, removed = false
            """, (lesson["id"], tenant, course["id"], module["id"], lesson["title"], lesson["kind"],
                  lesson["required"], lpos, lesson["estimated_minutes"], lesson.get("body_md", ""),
                  json.dumps(lesson["quiz"]) if lesson.get("quiz") else None))
    return module_ids, lesson_ids
