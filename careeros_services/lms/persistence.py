"""The lms tables (schema: ``migrations/``) behind a repository with domain verbs.

Plain parameterised SQL on the unit of work's connection (``uow.lms``):
the catalog search needs full-text ranking, trigram similarity and array operators that
an ORM would only wrap. Every query names its tenant explicitly; row-level security is
the second lock (catalog tables additionally let everyone read the platform tenant's
public catalog, see ``m0001_initial``).
"""
from __future__ import annotations

import json
from typing import Any, Optional

import peewee

from careeros_services.common.unit_of_work import UnitOfWork
from careeros_services.lms.domain import PLATFORM_TENANT

COURSE_COLUMNS = ("id, tenant_id, slug, title, summary, level, language, estimated_hours, tags, track, premium, "
                  "skills, visibility, status, revision, created_by, created_at, updated_at")


def _rows(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [_clean(dict(zip(names, row))) for row in cursor.fetchall()]


def _one(cursor) -> Optional[dict]:
    rows = _rows(cursor)
    return rows[0] if rows else None


def _clean(row: dict) -> dict:
    for k, v in list(row.items()):
        if k.endswith("_id") or k in ("id", "created_by", "published_by"):
            row[k] = str(v) if v is not None else None
        elif hasattr(v, "isoformat"):
            row[k] = v.isoformat()
        elif isinstance(v, memoryview):
            row[k] = bytes(v)
    return row


# What the privacy saga exports and erases (bus/privacy.py); certificate PDFs are handled by the
# service (copied into an export, deleted on erasure).
_MINE = "user_id = %(user)s AND tenant_id = %(tenant)s"
PERSONAL_ROWS = tuple((table, _MINE) for table in (
    "certificates", "quiz_attempts", "lesson_activity", "learner_progress", "enrollments", "learners"))


class LmsRepository:
    """Queries of one unit of work."""

    def __init__(self, db: peewee.Database):
        self.db = db

    def _q(self, sql: str, params: Any = None):
        return self.db.execute_sql(sql, params)

    # --- courses ------------------------------------------------------------------------------

    def course(self, tenant_id: str, course_id: str) -> Optional[dict]:
        """A course of the tenant or of the public catalog (any status; callers filter)."""
        return _one(self._q(f"SELECT {COURSE_COLUMNS} FROM courses WHERE id = %s AND tenant_id IN (%s, %s)",
                            (course_id, tenant_id, PLATFORM_TENANT)))

    def search(self, tenant_id: str, *, text: str, skill: str, level: str, track: str, language: str,
               status: str, limit: int, offset: int) -> tuple[list[dict], int]:
        """Published catalog courses visible to the tenant (or its own courses of ``status``).

        Text: full-text match (GIN on ``search``; title > tags/track > summary) ranked by
        ``ts_rank_cd``; only when nothing matches does it fall back to title trigram similarity
        (typos: GIN trigram index). An OR of both in one query defeats both indexes (measured:
        seq scan, ~140 ms at 10k courses). Ties are broken by title and id, so pages are stable.
        """
        if text:
            rows, total = self._search(tenant_id, "fts", text, skill, level, track, language, status, limit, offset)
            if total:
                return rows, total
            return self._search(tenant_id, "trigram", text, skill, level, track, language, status, limit, offset)
        return self._search(tenant_id, "", text, skill, level, track, language, status, limit, offset)

    def _search(self, tenant_id: str, mode: str, text: str, skill: str, level: str, track: str, language: str,
                status: str, limit: int, offset: int) -> tuple[list[dict], int]:
        where = ["tenant_id = %(tenant)s AND status = %(status)s" if status != "published"
                 else "tenant_id IN (%(tenant)s, %(platform)s) AND status = 'published'"]
        params: dict = {"tenant": tenant_id, "platform": PLATFORM_TENANT, "status": status, "text": text,
                        "limit": limit, "offset": offset}
        order = "title, id"
        if mode == "fts":
            where.append("search @@ websearch_to_tsquery('english', %(text)s)")
            order = "ts_rank_cd(search, websearch_to_tsquery('english', %(text)s)) DESC, title, id"
        elif mode == "trigram":
            where.append("title %% %(text)s")
            order = "similarity(title, %(text)s) DESC, title, id"
        if skill:
            where.append("skill_keys @> ARRAY[%(skill)s]::text[]")
            params["skill"] = skill.casefold() if not skill.startswith("http") else skill
        if level:
            where.append("level = %(level)s")
            params["level"] = level
        if track:
            where.append("track = %(track)s")
            params["track"] = track
        if language:
            where.append("language = %(language)s")
            params["language"] = language
        condition = " AND ".join(where)
        # The count is its own query: count(*) OVER () would make PostgreSQL read and sort every
        # match before LIMIT, where the page alone can walk the (status, title, id) index.
        total = self._q(f"SELECT count(*) FROM courses WHERE {condition}", params).fetchone()[0]
        if not total or offset >= total:
            return [], int(total)
        rows = _rows(self._q(f"SELECT {COURSE_COLUMNS} FROM courses WHERE {condition} ORDER BY {order}"
                             " LIMIT %(limit)s OFFSET %(offset)s", params))
        return rows, int(total)

    def insert_course(self, course: dict) -> None:
        self._q("""
            INSERT INTO courses (id, tenant_id, slug, title, summary, level, language, estimated_hours, tags,
                                 track, premium, skills, skill_keys, visibility, status, created_by)
            VALUES (%(id)s, %(tenant_id)s, %(slug)s, %(title)s, %(summary)s, %(level)s, %(language)s,
                    %(estimated_hours)s, %(tags)s, %(track)s, %(premium)s, %(skills)s, %(skill_keys)s,
                    %(visibility)s, 'draft', %(created_by)s)
        """, {**course, "skills": json.dumps(course["skills"])})

    def slug_taken(self, tenant_id: str, slug: str, except_id: Optional[str] = None) -> bool:
        return self._q("SELECT 1 FROM courses WHERE tenant_id = %s AND slug = %s AND id <> %s",
                       (tenant_id, slug, except_id or PLATFORM_TENANT)).fetchone() is not None

    def update_course(self, tenant_id: str, course_id: str, fields: dict) -> None:
        sets, params = [], {"tenant": tenant_id, "id": course_id}
        for name, value in fields.items():
            sets.append(f"{name} = %({name})s")
            params[name] = json.dumps(value) if name == "skills" else value
        sets.append("updated_at = now()")
        self._q(f"UPDATE courses SET {', '.join(sets)} WHERE tenant_id = %(tenant)s AND id = %(id)s", params)

    # --- working copy -------------------------------------------------------------------------

    def working_copy(self, course_id: str) -> list[dict]:
        """Modules (not removed) with their lessons (not removed), in order."""
        modules = _rows(self._q("SELECT id, title, position FROM course_modules WHERE course_id = %s"
                                " AND NOT removed ORDER BY position, id", (course_id,)))
        lessons = _rows(self._q(
            "SELECT id, module_id, title, kind, required, position, estimated_minutes, body_md, quiz, asset"
            " FROM lessons WHERE course_id = %s AND NOT removed ORDER BY position, id", (course_id,)))
        by_module: dict[str, list] = {m["id"]: [] for m in modules}
        for l in lessons:
            by_module.get(l["module_id"], []).append(l)
        return [{**m, "lessons": by_module[m["id"]]} for m in modules]

    def module(self, tenant_id: str, module_id: str) -> Optional[dict]:
        return _one(self._q("SELECT id, tenant_id, course_id, title, position FROM course_modules"
                            " WHERE id = %s AND tenant_id = %s AND NOT removed", (module_id, tenant_id)))

    def next_position(self, table: str, column: str, parent_id: str) -> int:
        assert table in ("course_modules", "lessons") and column in ("course_id", "module_id")
        return self._q(f"SELECT coalesce(max(position) + 1, 0) FROM {table} WHERE {column} = %s AND NOT removed",
                       (parent_id,)).fetchone()[0]

    def insert_module(self, module: dict) -> None:
        self._q("INSERT INTO course_modules (id, tenant_id, course_id, title, position)"
                " VALUES (%(id)s, %(tenant_id)s, %(course_id)s, %(title)s, %(position)s)", module)

    def insert_lesson(self, lesson: dict) -> None:
        self._q("""
            INSERT INTO lessons (id, tenant_id, course_id, module_id, title, kind, required, position,
                                 estimated_minutes, body_md, quiz)
            VALUES (%(id)s, %(tenant_id)s, %(course_id)s, %(module_id)s, %(title)s, %(kind)s, %(required)s,
                    %(position)s, %(estimated_minutes)s, %(body_md)s, %(quiz)s)
        """, {**lesson, "quiz": json.dumps(lesson["quiz"]) if lesson.get("quiz") else None})

    def lesson(self, tenant_id: str, lesson_id: str) -> Optional[dict]:
        """A lesson row of the working copy (own tenant or platform), removed ones too."""
        return _one(self._q(
            "SELECT id, tenant_id, course_id, module_id, title, kind, required, estimated_minutes, body_md,"
            " quiz, asset, removed FROM lessons WHERE id = %s AND tenant_id IN (%s, %s)",
            (lesson_id, tenant_id, PLATFORM_TENANT)))

    def update_lesson(self, tenant_id: str, lesson_id: str, fields: dict) -> None:
        sets = ", ".join(f"{name} = %({name})s" for name in fields)
        params = {**fields, "tenant": tenant_id, "id": lesson_id}
        if "quiz" in fields:
            params["quiz"] = json.dumps(fields["quiz"]) if fields["quiz"] else None
        self._q(f"UPDATE lessons SET {sets} WHERE tenant_id = %(tenant)s AND id = %(id)s", params)

    def update_module(self, tenant_id: str, module_id: str, title: str) -> None:
        self._q("UPDATE course_modules SET title = %s WHERE tenant_id = %s AND id = %s", (title, tenant_id, module_id))

    def renumber(self, table: str, tenant_id: str, ordered_ids: list[str]) -> None:
        """Positions 0..n-1 in the given order (a move is a re-insert at an index)."""
        assert table in ("course_modules", "lessons")
        self._q(f"UPDATE {table} t SET position = o.n - 1 FROM unnest(%s::uuid[]) WITH ORDINALITY AS o(id, n)"
                " WHERE t.id = o.id AND t.tenant_id = %s", (ordered_ids, tenant_id))

    def remove_module(self, tenant_id: str, module_id: str) -> None:
        """A removed module takes its lessons with it (ids are kept, never reused)."""
        self._q("UPDATE lessons SET removed = true WHERE tenant_id = %s AND module_id = %s", (tenant_id, module_id))
        self._q("UPDATE course_modules SET removed = true WHERE tenant_id = %s AND id = %s", (tenant_id, module_id))

    def remove_lesson(self, tenant_id: str, lesson_id: str) -> None:
        self._q("UPDATE lessons SET removed = true WHERE id = %s AND tenant_id = %s", (lesson_id, tenant_id))

    def set_asset(self, tenant_id: str, lesson_id: str, asset: dict) -> None:
        self._q("UPDATE lessons SET asset = %s WHERE id = %s AND tenant_id = %s",
                (json.dumps(asset), lesson_id, tenant_id))

    # --- revisions ----------------------------------------------------------------------------

    def insert_revision(self, tenant_id: str, course_id: str, revision: int, snap: dict, by: str) -> None:
        self._q("INSERT INTO course_revisions (tenant_id, course_id, revision, snapshot, published_by)"
                " VALUES (%s, %s, %s, %s, %s)", (tenant_id, course_id, revision, json.dumps(snap), by))

    def latest_snapshot(self, course_id: str) -> Optional[tuple[int, dict]]:
        row = self._q("SELECT revision, snapshot FROM course_revisions WHERE course_id = %s"
                      " ORDER BY revision DESC LIMIT 1", (course_id,)).fetchone()
        return (row[0], row[1]) if row else None

    # --- enrolments ---------------------------------------------------------------------------

    def active_enrollment(self, tenant_id: str, user_id: str, course_id: str) -> Optional[dict]:
        return _one(self._q("SELECT * FROM enrollments WHERE tenant_id = %s AND user_id = %s AND course_id = %s"
                            " AND status = 'active'", (tenant_id, user_id, course_id)))

    def insert_enrollment(self, e: dict) -> bool:
        """False when an active enrolment already exists (a concurrent enrol won)."""
        cursor = self._q("""
            INSERT INTO enrollments (id, tenant_id, user_id, course_id, course_tenant_id, premium, status,
                                     enrolled_revision)
            VALUES (%(id)s, %(tenant_id)s, %(user_id)s, %(course_id)s, %(course_tenant_id)s, %(premium)s,
                    'active', %(enrolled_revision)s)
            ON CONFLICT (tenant_id, user_id, course_id) WHERE status = 'active' DO NOTHING RETURNING 1
        """, e)
        return cursor.fetchone() is not None

    def cancel_enrollment(self, tenant_id: str, enrollment_id: str) -> None:
        self._q("UPDATE enrollments SET status = 'cancelled', cancelled_at = now()"
                " WHERE tenant_id = %s AND id = %s", (tenant_id, enrollment_id))

    def enrollments(self, tenant_id: str, user_id: str) -> list[dict]:
        return _rows(self._q("""
            SELECT e.id, e.course_id, e.premium, e.status, e.enrolled_revision, e.created_at, e.completed_at,
                   c.title, c.slug, c.revision, c.status AS course_status,
                   p.percent, cert.id AS certificate_id
            FROM enrollments e
            JOIN courses c ON c.id = e.course_id AND c.tenant_id IN (%(t)s, %(p)s)
            LEFT JOIN learner_progress p ON p.tenant_id = e.tenant_id AND p.user_id = e.user_id
                                        AND p.course_id = e.course_id
            LEFT JOIN certificates cert ON cert.tenant_id = e.tenant_id AND cert.user_id = e.user_id
                                       AND cert.course_id = e.course_id
            WHERE e.tenant_id = %(t)s AND e.user_id = %(u)s AND e.status = 'active'
            ORDER BY e.created_at, e.id
        """, {"t": tenant_id, "p": PLATFORM_TENANT, "u": user_id}))

    def complete_enrollment(self, tenant_id: str, enrollment_id: str) -> Optional[str]:
        """Mark the enrolment complete once; the time, or None when it already was."""
        row = self._q("UPDATE enrollments SET completed_at = now() WHERE tenant_id = %s AND id = %s"
                      " AND completed_at IS NULL RETURNING completed_at", (tenant_id, enrollment_id)).fetchone()
        return row[0].isoformat() if row else None

    # --- recorded activity ----------------------------------------------------------------------

    def record_lesson_activity(self, a: dict) -> bool:
        """True when this (learner, lesson, verb) is new: only then is a statement published."""
        return self._q("""
            INSERT INTO lesson_activity (tenant_id, user_id, course_id, lesson_id, verb, statement_id)
            VALUES (%(tenant_id)s, %(user_id)s, %(course_id)s, %(lesson_id)s, %(verb)s, %(statement_id)s)
            ON CONFLICT DO NOTHING RETURNING 1
        """, a).fetchone() is not None

    def done_lessons(self, tenant_id: str, user_id: str, course_id: str, verbs: tuple[str, ...]) -> set[str]:
        return {str(r[0]) for r in self._q(
            "SELECT DISTINCT lesson_id FROM lesson_activity WHERE tenant_id = %s AND user_id = %s AND course_id = %s"
            " AND verb = ANY(%s)", (tenant_id, user_id, course_id, list(verbs))).fetchall()}

    # --- organisations --------------------------------------------------------------------------

    def save_organisation(self, tenant_id: str, name: str, kind: str) -> None:
        self._q("INSERT INTO organisations (tenant_id, name, kind) VALUES (%s, %s, %s)"
                " ON CONFLICT (tenant_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind",
                (tenant_id, name, kind))

    def organisation_name(self, tenant_id: str) -> str:
        row = self._q("SELECT name FROM organisations WHERE tenant_id = %s", (tenant_id,)).fetchone()
        return row[0] if row else ""

    # --- results (authors) ----------------------------------------------------------------------

    def course_enrollments(self, tenant_id: str, course_id: str) -> list[dict]:
        """Every enrolment of the course in the tenant (latest per learner first), with progress and names."""
        return _rows(self._q("""
            SELECT DISTINCT ON (e.user_id) e.id, e.user_id, e.status, e.created_at, e.completed_at,
                   coalesce(l.display_name, '') AS display_name, coalesce(p.percent, 0) AS percent,
                   cert.id AS certificate_id
            FROM enrollments e
            LEFT JOIN learners l ON l.tenant_id = e.tenant_id AND l.user_id = e.user_id
            LEFT JOIN learner_progress p ON p.tenant_id = e.tenant_id AND p.user_id = e.user_id
                                        AND p.course_id = e.course_id
            LEFT JOIN certificates cert ON cert.tenant_id = e.tenant_id AND cert.user_id = e.user_id
                                       AND cert.course_id = e.course_id
            WHERE e.tenant_id = %s AND e.course_id = %s
            ORDER BY e.user_id, e.created_at DESC
        """, (tenant_id, course_id)))

    def course_attempts(self, tenant_id: str, course_id: str) -> list[dict]:
        return _rows(self._q("SELECT user_id, lesson_id, score_percent, passed, answers FROM quiz_attempts"
                             " WHERE tenant_id = %s AND course_id = %s ORDER BY created_at, id",
                             (tenant_id, course_id)))

    # --- quizzes and progress -----------------------------------------------------------------

    def attempts(self, tenant_id: str, user_id: str, lesson_id: str) -> tuple[int, bool]:
        count, passed = self._q("SELECT count(*), coalesce(bool_or(passed), false) FROM quiz_attempts"
                                " WHERE tenant_id = %s AND user_id = %s AND lesson_id = %s",
                                (tenant_id, user_id, lesson_id)).fetchone()
        return int(count), bool(passed)

    def insert_attempt(self, a: dict) -> None:
        self._q("""
            INSERT INTO quiz_attempts (id, tenant_id, user_id, course_id, lesson_id, attempt_no, revision,
                                       score_percent, passed, answers)
            VALUES (%(id)s, %(tenant_id)s, %(user_id)s, %(course_id)s, %(lesson_id)s, %(attempt_no)s,
                    %(revision)s, %(score_percent)s, %(passed)s, %(answers)s)
        """, {**a, "answers": json.dumps(a["answers"])})

    def passed_quizzes(self, tenant_id: str, user_id: str, course_id: str) -> set[str]:
        return {str(r[0]) for r in self._q(
            "SELECT DISTINCT lesson_id FROM quiz_attempts WHERE tenant_id = %s AND user_id = %s"
            " AND course_id = %s AND passed", (tenant_id, user_id, course_id)).fetchall()}

    def save_progress(self, tenant_id: str, user_id: str, course_id: str, percent: int, required_done: bool) -> None:
        self._q("""
            INSERT INTO learner_progress (tenant_id, user_id, course_id, percent, required_done)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (tenant_id, user_id, course_id) DO UPDATE
                SET percent = EXCLUDED.percent, required_done = EXCLUDED.required_done, updated_at = now()
        """, (tenant_id, user_id, course_id, percent, required_done))

    def progress(self, tenant_id: str, user_id: str, course_id: str) -> Optional[dict]:
        return _one(self._q("SELECT percent, required_done FROM learner_progress"
                            " WHERE tenant_id = %s AND user_id = %s AND course_id = %s",
                            (tenant_id, user_id, course_id)))

    def save_learner(self, tenant_id: str, user_id: str, display_name: str) -> None:
        self._q("INSERT INTO learners (tenant_id, user_id, display_name) VALUES (%s, %s, %s)"
                " ON CONFLICT (tenant_id, user_id) DO UPDATE SET display_name = EXCLUDED.display_name",
                (tenant_id, user_id, display_name))

    def learner_name(self, tenant_id: str, user_id: str) -> str:
        row = self._q("SELECT display_name FROM learners WHERE tenant_id = %s AND user_id = %s",
                      (tenant_id, user_id)).fetchone()
        return row[0] if row else ""

    # --- certificates -------------------------------------------------------------------------

    def certificate_for(self, tenant_id: str, user_id: str, course_id: str) -> Optional[dict]:
        return _one(self._q("SELECT * FROM certificates WHERE tenant_id = %s AND user_id = %s AND course_id = %s",
                            (tenant_id, user_id, course_id)))

    def nameless_certificates(self, tenant_id: str, user_id: str) -> list[dict]:
        """Certificates issued before the learner's name reached the LMS (events race)."""
        cursor = self._q("SELECT * FROM certificates WHERE tenant_id = %s AND user_id = %s AND learner_name = ''",
                         (tenant_id, user_id))
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def name_certificate(self, tenant_id: str, certificate_id: str, learner_name: str) -> None:
        self._q("UPDATE certificates SET learner_name = %s WHERE tenant_id = %s AND id = %s",
                (learner_name, tenant_id, certificate_id))

    def insert_certificate(self, c: dict) -> bool:
        return self._q("""
            INSERT INTO certificates (id, tenant_id, user_id, course_id, course_title, learner_name, revision,
                                      issued_at, pdf_key, issuer)
            VALUES (%(id)s, %(tenant_id)s, %(user_id)s, %(course_id)s, %(course_title)s, %(learner_name)s,
                    %(revision)s, %(issued_at)s, %(pdf_key)s, %(issuer)s)
            ON CONFLICT DO NOTHING RETURNING 1
        """, c).fetchone() is not None

    def certificate(self, certificate_id: str) -> Optional[dict]:
        """Any tenant's certificate by id (public verification; RLS lets SELECT through)."""
        return _one(self._q("SELECT * FROM certificates WHERE id = %s", (certificate_id,)))

    # --- uploads ------------------------------------------------------------------------------

    def add_chunk(self, tenant_id: str, upload_id: str, seq: int, lesson_id: str, data: bytes) -> None:
        self._q("INSERT INTO asset_uploads (upload_id, seq, tenant_id, lesson_id, data) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (upload_id, seq) DO UPDATE SET data = EXCLUDED.data",
                (upload_id, seq, tenant_id, lesson_id, data))

    def chunks(self, tenant_id: str, upload_id: str, lesson_id: str) -> list[tuple[int, bytes]]:
        return [(r[0], bytes(r[1])) for r in self._q(
            "SELECT seq, data FROM asset_uploads WHERE tenant_id = %s AND upload_id = %s AND lesson_id = %s"
            " ORDER BY seq", (tenant_id, upload_id, lesson_id)).fetchall()]

    def uploaded_bytes(self, tenant_id: str, upload_id: str) -> int:
        return int(self._q("SELECT coalesce(sum(octet_length(data)), 0) FROM asset_uploads"
                           " WHERE tenant_id = %s AND upload_id = %s", (tenant_id, upload_id)).fetchone()[0])

    def drop_stale_uploads(self, tenant_id: str, older_than_s: int) -> int:
        """Forget chunks of uploads abandoned midway (the client never sent the last chunk)."""
        return self._q("DELETE FROM asset_uploads WHERE tenant_id = %s AND created_at < now() - make_interval(secs => %s)",
                       (tenant_id, older_than_s)).rowcount

    def drop_upload(self, tenant_id: str, upload_id: str) -> None:
        self._q("DELETE FROM asset_uploads WHERE tenant_id = %s AND upload_id = %s", (tenant_id, upload_id))


class LmsUnitOfWork(UnitOfWork):
    """One lms transaction and its repositories."""

    repositories = {"lms": LmsRepository}
    lms: LmsRepository
