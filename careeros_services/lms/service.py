"""The lms service layer: what the nameko and gRPC entrypoints both call.

Each operation is one unit of work (``self.unit_of_work(tenant_id)``): the state change and
its events commit together. Callers are the verified token's facts (:class:`Caller`):
tenant, user, org role and plan tier. Access to premium content is decided from the plan
tier on every call, never stored, so a lapsed plan makes premium enrolments read-only and
an upgrade restores them without any data change.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import uuid
from pathlib import Path
from typing import Any, Optional

import fastjsonschema
import peewee

from bus.handlers import EventHandlingService, handles
from bus import privacy
from bus.store import ServiceStore, Transaction
from careeros_services.common import esco, read_cache
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.common.storage import ObjectMissing, ObjectStorage, check_key, service_storage
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork
from careeros_services.lms import certificate_pdf, domain, persistence
from careeros_services.lms.persistence import LmsRepository, LmsUnitOfWork
from careeros_services.lms.settings import Settings
from bus.contracts import (  # event types, from contracts/events
    LMS_COURSE_PUBLISHED_V1 as COURSE_PUBLISHED,
    LMS_COURSE_ARCHIVED_V1 as COURSE_ARCHIVED,
    LMS_COURSE_CHANGED_V1 as COURSE_CHANGED,
    LMS_ENROLLMENT_CREATED_V1 as ENROLLMENT_CREATED,
    LMS_ENROLLMENT_CANCELLED_V1 as ENROLLMENT_CANCELLED,
    LMS_ACTIVITY_RECORDED_V1 as ACTIVITY_RECORDED,
    LMS_QUIZ_ATTEMPTED_V1 as QUIZ_ATTEMPTED,
    LMS_CERTIFICATE_ISSUED_V1 as CERTIFICATE_ISSUED,
    LMS_ENROLLMENT_COMPLETED_V1 as ENROLLMENT_COMPLETED,
    AUTH_TENANT_CREATED_V1 as TENANT_CREATED,
    TRACKER_PROGRESS_UPDATED_V1 as PROGRESS_UPDATED,
    AUTH_USER_REGISTERED_V1 as USER_REGISTERED,
)

SERVICE = "lms"

STALE_UPLOAD_S = 3600  # staged chunks of an upload never finished are dropped after this
CERT_NAMESPACE = uuid.UUID("0d7c3c4e-7f0e-4b59-9d8a-2f2b8d1f6a31")
ACTIVITY_NAMESPACE = uuid.UUID("6a0f5f8e-2d1c-4f4b-9a57-1c3e8b0d7e21")  # statement ids of recorded activity
PLATFORM_ISSUER = "CareerOS"
_XAPI_SCHEMA = Path(__file__).resolve().parents[2] / "contracts" / "xapi" / "statement.v1.json"
_validate_statement = fastjsonschema.compile(json.loads(_XAPI_SCHEMA.read_text()))


def _uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed(f"{name} must be a UUID.", fields={name: ["must be a UUID"]}) from None


def _course_not_found() -> NotFound:
    return NotFound("No such course.", code="course_not_found")


def _lesson_not_found() -> NotFound:
    return NotFound("No such lesson.", code="lesson_not_found")


def course_out(row: dict, **extra: Any) -> dict:
    keys = ("id", "tenant_id", "slug", "title", "summary", "level", "language", "estimated_hours", "tags",
            "track", "premium", "skills", "visibility", "status", "revision", "created_at", "updated_at")
    return {**{k: row[k] for k in keys}, **extra}


def _completion_view(row: dict) -> dict:
    """An enrolment's status and percent as every view shows them: ``completed`` and 100 once the
    LMS judged it complete, else the tracker's percent of the counted lessons."""
    if row.get("completed_at"):
        return {"status": "completed", "percent": 100, "completed_at": row["completed_at"]}
    return {"status": row["status"], "percent": row.get("percent") or 0, "completed_at": ""}


def _assign_quiz_ids(quiz: dict) -> None:
    """Ids for new questions and choices (edited ones keep theirs, so attempts stay comparable)."""
    for q in quiz["questions"]:
        q["id"] = q.get("id") or str(uuid.uuid4())
        for c in q["choices"]:
            c["id"] = c.get("id") or str(uuid.uuid4())


def _moved(ids: list[str], item: str, position: int) -> list[str]:
    """``ids`` with ``item`` re-inserted at ``position`` (clamped to the end)."""
    rest = [i for i in ids if i != item]
    return rest[:position] + [item] + rest[position:]


def _link_skills(skills: list[dict]) -> list[dict]:
    """Link course skills to the ESCO taxonomy: a given URI must be an ESCO skill (422 otherwise);
    a name alone gets the URI of the concept ESCO knows it by, or stays unlinked (still searchable
    by name) when ESCO has no such skill."""
    errors, linked = {}, []
    for i, skill in enumerate(skills):
        uri = skill["esco_uri"]
        if uri and esco.skill(uri) is None:
            errors[f"skills.{i}.esco_uri"] = ["is not a skill in ESCO"]
        elif not uri:
            match = esco.resolve_skill(skill["name"])
            uri = match.uri if match else ""
        linked.append({**skill, "esco_uri": uri})
    if errors:
        raise ValidationFailed("Unknown ESCO skills.", fields=errors)
    return linked


def _iso_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class LmsService(ServiceWithUnitOfWork[LmsUnitOfWork], PersonalDataOwner, EventHandlingService):
    """Catalog, authoring, enrolment, quizzes, certificates."""

    consumer_name = SERVICE
    unit_of_work_class = LmsUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS

    def __init__(self, store: ServiceStore, storage: ObjectStorage, settings: Settings = Settings(),
                 clock: Clock = system_clock, read_cache_keeper: read_cache.Keeper = read_cache.NO_CACHE):
        self.store = store
        self.read_cache = read_cache_keeper  # the gateway's cached GET /lms/courses/{id} answers
        self.clock = clock
        self.storage = storage
        self.max_asset_bytes = settings.max_upload_bytes
        self.download_ttl_s = settings.download_url_ttl_s
        self.certificate_ttl_s = settings.certificate_url_ttl_s
        self.verify_base_url = settings.certificate_verify_base_url.rstrip("/")

    # --- privacy: the person's part of an export, and erasure (bus/privacy.py) ----------------

    def export_extra(self, tx: Transaction, user_id: str, tenant_id: str, held: dict,
                     storage: ObjectStorage, prefix: str) -> list[str]:
        """Copy the person's certificate PDFs beside their export part."""
        copied = []
        for cert in held.get("certificates", []):
            try:
                pdf = self.storage.get(cert["pdf_key"]) if cert.get("pdf_key") else None
            except ObjectMissing:
                pdf = None
            if pdf:
                copied.append(f"{prefix}/certificates/{cert['id']}.pdf")
                storage.put(copied[-1], pdf, "application/pdf")
        return copied

    def erase_extra(self, tx: Transaction, user_id: str, tenant_id: str, request: dict) -> int:
        """Delete the certificate PDFs (they print the name); unname what the person authored."""
        params = {"user": user_id, "tenant": tenant_id}
        for (key,) in tx.db.execute_sql("SELECT pdf_key FROM certificates WHERE tenant_id = %(tenant)s"
                                        " AND user_id = %(user)s AND pdf_key <> ''", params).fetchall():
            self.storage.delete(key)
        touched = privacy.execute(tx, "UPDATE courses SET created_by = NULL WHERE tenant_id = %(tenant)s"
                                      " AND created_by = %(user)s", params)
        touched += privacy.execute(tx, "UPDATE course_revisions SET published_by = NULL"
                                       " WHERE tenant_id = %(tenant)s AND published_by = %(user)s", params)
        if privacy.is_personal_tenant(request, tenant_id):
            touched += privacy.execute(tx, "UPDATE organisations SET name = '' WHERE tenant_id = %(tenant)s", params)
        return touched

    # --- catalog ----------------------------------------------------------------------------

    def search_courses(self, caller: Caller, *, text: str = "", skill: str = "", level: str = "", track: str = "",
                       language: str = "", status: str = "published", page: int = 1, page_size: int = 20) -> dict:
        """Catalog search: the public catalog plus the tenant's own published courses.

        ``status`` draft/archived lists the tenant's own courses in that state (authors only).
        Stable order (relevance, title, id); ``page`` is 1-based, ``page_size`` 1..100.
        """
        errors = {}
        if level and level not in domain.LEVELS:
            errors["level"] = [f"must be one of {', '.join(domain.LEVELS)}"]
        if status not in (domain.DRAFT, domain.PUBLISHED, domain.ARCHIVED):
            errors["status"] = ["must be draft, published or archived"]
        if not 1 <= page <= 10_000:
            errors["page"] = ["must be between 1 and 10000"]
        if not 1 <= page_size <= 100:
            errors["page_size"] = ["must be between 1 and 100"]
        if len(text) > 200:
            errors["q"] = ["must be at most 200 characters"]
        if errors:
            raise ValidationFailed("The search is not valid.", fields=errors)
        if status != domain.PUBLISHED:
            domain.require_author(caller.org_role)
        with self.unit_of_work(caller.tenant_id) as uow:
            rows, total = uow.lms.search(
                caller.tenant_id, text=text.strip(), skill=skill.strip(), level=level, track=track.strip(),
                language=language.strip(), status=status, limit=page_size, offset=(page - 1) * page_size)
        # ``access`` as the course page computes it: the same value for the same caller in both.
        items = [course_out(r, access=domain.access(r["premium"], caller.plan_tier)) for r in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    def get_course(self, caller: Caller, course_id: str) -> dict:
        """A course with its structure: authors of the owning tenant see the working copy,
        everyone else the latest published revision (no lesson content)."""
        course_id = _uuid(course_id, "course_id")
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = self._visible_course(repo, caller, course_id)
            if self._is_author_of(caller, course):
                modules = [{"module_id": m["id"], "title": m["title"], "position": i, "lessons": [
                    {"lesson_id": l["id"], "title": l["title"], "kind": l["kind"], "required": l["required"],
                     "position": j, "estimated_minutes": l["estimated_minutes"], "has_asset": bool(l["asset"])}
                    for j, l in enumerate(m["lessons"])]} for i, m in enumerate(repo.working_copy(course_id))]
            else:
                latest = repo.latest_snapshot(course_id)
                modules = [{**m, "lessons": [{**l, "has_asset": bool(a)} for l, a in zip(
                    m["lessons"], [x.get("asset") for x in s["lessons"]])]}
                    for m, s in zip(domain.outline(latest[1]), latest[1]["modules"])] if latest else []
            enrollment = repo.active_enrollment(caller.tenant_id, caller.user_id, course_id)
        return course_out(course, modules=modules, enrolled=enrollment is not None,
                          access=domain.access(course["premium"], caller.plan_tier))

    def _visible_course(self, repo: LmsRepository, caller: Caller, course_id: str) -> dict:
        course = repo.course(caller.tenant_id, course_id)
        if course is None:
            raise _course_not_found()
        if course["status"] != domain.PUBLISHED and not self._is_author_of(caller, course):
            if not (course["status"] == domain.ARCHIVED
                    and repo.active_enrollment(caller.tenant_id, caller.user_id, course_id)):
                raise _course_not_found()  # drafts are invisible outside the authoring team
        return course

    @staticmethod
    def _is_author_of(caller: Caller, course: dict) -> bool:
        return course["tenant_id"] == caller.tenant_id and caller.org_role in domain.AUTHOR_ROLES

    # --- authoring --------------------------------------------------------------------------

    def _own_course(self, repo: LmsRepository, caller: Caller, course_id: str) -> dict:
        domain.require_author(caller.org_role)
        course = repo.course(caller.tenant_id, _uuid(course_id, "course_id"))
        if course is None or course["tenant_id"] != caller.tenant_id:
            if course is not None:
                raise Forbidden("Platform catalog courses cannot be edited.", code="course_not_editable")
            raise _course_not_found()
        return course

    def create_course(self, caller: Caller, data: dict) -> dict:
        """A new draft course of the caller's tenant (visible only inside it)."""
        domain.require_author(caller.org_role)
        meta = domain.validate_course(data)
        meta["skills"] = _link_skills(meta["skills"])
        slug = meta.pop("slug", None) or domain.slugify(meta["title"])
        course = {"id": str(uuid.uuid4()), "tenant_id": caller.tenant_id, "slug": slug, **meta,
                  "skill_keys": domain.skill_keys(meta["skills"]), "visibility": "tenant",
                  "created_by": caller.user_id}
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            if repo.slug_taken(caller.tenant_id, slug):
                raise Conflict("A course with this slug exists.", code="slug_taken", fields={"slug": ["is taken"]})
            repo.insert_course(course)
            row = repo.course(caller.tenant_id, course["id"])
        return course_out(row, modules=[], enrolled=False, access="full")

    def update_course(self, caller: Caller, course_id: str, patch: dict) -> dict:
        """Change catalog metadata (live at once; structure changes wait for the next publish)."""
        meta = domain.validate_course(patch, partial=True)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = self._own_course(repo, caller, course_id)
            if course["status"] == domain.ARCHIVED:
                raise Conflict("An archived course cannot be edited.", code="course_archived")
            if "slug" in meta and repo.slug_taken(caller.tenant_id, meta["slug"], course["id"]):
                raise Conflict("A course with this slug exists.", code="slug_taken", fields={"slug": ["is taken"]})
            if "skills" in meta:
                meta["skills"] = _link_skills(meta["skills"])
                meta["skill_keys"] = domain.skill_keys(meta["skills"])
            if meta:
                repo.update_course(caller.tenant_id, course["id"], meta)
                self._changed(uow, caller.tenant_id, course["id"], "catalog")
        return self.get_course(caller, course["id"])

    def publish_course(self, caller: Caller, course_id: str) -> dict:
        """Freeze the working copy as revision N+1 and publish ``course.published``."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = self._own_course(repo, caller, course_id)
            status = domain.next_status(course["status"], "publish")
            modules = repo.working_copy(course["id"])
            problems = domain.publish_problems(modules)
            if problems:
                raise ValidationFailed("The course cannot be published yet.", fields=problems,
                                       code="course_incomplete")
            revision = course["revision"] + 1
            snap = domain.snapshot(course, modules)
            repo.insert_revision(caller.tenant_id, course["id"], revision, snap, caller.user_id)
            repo.update_course(caller.tenant_id, course["id"], {"status": status, "revision": revision})
            uow.publish(COURSE_PUBLISHED, aggregate_id=course["id"],
                        payload=domain.published_payload(course, snap, revision))
        return self.get_course(caller, course["id"])

    def archive_course(self, caller: Caller, course_id: str) -> dict:
        """No new enrolments; enrolled learners keep reading the last revision."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = self._own_course(repo, caller, course_id)
            repo.update_course(caller.tenant_id, course["id"], {"status": domain.next_status(course["status"],
                                                                                              "archive")})
            uow.publish(COURSE_ARCHIVED, aggregate_id=course["id"],
                        payload={"course_id": course["id"], "tenant_id": caller.tenant_id, "slug": course["slug"]})
        return self.get_course(caller, course["id"])

    def add_module(self, caller: Caller, course_id: str, data: dict) -> dict:
        clean = domain.validate_module(data)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = self._own_course(repo, caller, course_id)
            if course["status"] == domain.ARCHIVED:
                raise Conflict("An archived course cannot be edited.", code="course_archived")
            module = {"id": str(uuid.uuid4()), "tenant_id": caller.tenant_id, "course_id": course["id"],
                      "title": clean["title"],
                      "position": clean["position"] if clean["position"] is not None
                      else repo.next_position("course_modules", "course_id", course["id"])}
            repo.insert_module(module)
            self._changed(uow, caller.tenant_id, course["id"], "structure")
        return {"module_id": module["id"], "course_id": course["id"], "title": module["title"],
                "position": module["position"]}

    def add_lesson(self, caller: Caller, module_id: str, data: dict) -> dict:
        """A lesson in the working copy; quiz questions and choices get ids here."""
        domain.require_author(caller.org_role)
        clean = domain.validate_lesson(data)
        if clean["quiz"]:
            _assign_quiz_ids(clean["quiz"])
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            module = repo.module(caller.tenant_id, _uuid(module_id, "module_id"))
            if module is None:
                raise NotFound("No such module.", code="module_not_found")
            course = self._own_course(repo, caller, module["course_id"])
            if course["status"] == domain.ARCHIVED:
                raise Conflict("An archived course cannot be edited.", code="course_archived")
            lesson = {**clean, "id": str(uuid.uuid4()), "tenant_id": caller.tenant_id, "course_id": course["id"],
                      "module_id": module["id"],
                      "position": clean["position"] if clean["position"] is not None
                      else repo.next_position("lessons", "module_id", module["id"])}
            repo.insert_lesson(lesson)
            self._changed(uow, caller.tenant_id, course["id"], "structure")
        return self._lesson_out(lesson, asset=None, for_author=True)

    def remove_lesson(self, caller: Caller, lesson_id: str) -> None:
        """Drop a lesson from the working copy (and so from the next revision). Its id is never reused."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            lesson = repo.lesson(caller.tenant_id, _uuid(lesson_id, "lesson_id"))
            if lesson is None or lesson["removed"]:
                raise _lesson_not_found()
            self._own_course(repo, caller, lesson["course_id"])
            repo.remove_lesson(caller.tenant_id, lesson["id"])
            self._changed(uow, caller.tenant_id, lesson["course_id"], "structure")

    def update_lesson(self, caller: Caller, lesson_id: str, patch: dict) -> dict:
        """Edit a lesson of the working copy (learners see it with the next publish). Only the given
        fields change; ``position`` moves it within its module; its kind never changes."""
        if "kind" in patch:
            raise ValidationFailed("A lesson's kind cannot change.", fields={"kind": ["cannot be changed"]})
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            lesson = self._editable_lesson(repo, caller, lesson_id)
            keep = ("title", "kind", "required", "estimated_minutes", "body_md", "quiz")
            clean = domain.validate_lesson({**{k: lesson[k] for k in keep}, **patch})
            if clean["quiz"]:
                _assign_quiz_ids(clean["quiz"])
            fields = {k: clean[k] for k in keep if k in patch}
            if fields:
                repo.update_lesson(caller.tenant_id, lesson["id"], fields)
            if clean["position"] is not None:
                siblings = [l["id"] for m in repo.working_copy(lesson["course_id"]) if m["id"] == lesson["module_id"]
                            for l in m["lessons"]]
                repo.renumber("lessons", caller.tenant_id, _moved(siblings, lesson["id"], clean["position"]))
            updated = repo.lesson(caller.tenant_id, lesson["id"])
            self._changed(uow, caller.tenant_id, lesson["course_id"], "structure")
        return self._lesson_out(updated, asset=updated["asset"], for_author=True)

    @staticmethod
    def _changed(uow: LmsUnitOfWork, tenant_id: str, course_id: str, change: str) -> None:
        """``course.changed`` with the change (the gateway's cached course answers end with it)."""
        uow.publish(COURSE_CHANGED, aggregate_id=course_id,
                    payload={"course_id": course_id, "tenant_id": tenant_id, "change": change})

    def _editable_lesson(self, repo: LmsRepository, caller: Caller, lesson_id: str) -> dict:
        lesson = repo.lesson(caller.tenant_id, _uuid(lesson_id, "lesson_id"))
        if lesson is None or lesson["removed"]:
            raise _lesson_not_found()
        if self._own_course(repo, caller, lesson["course_id"])["status"] == domain.ARCHIVED:
            raise Conflict("An archived course cannot be edited.", code="course_archived")
        return lesson

    def update_module(self, caller: Caller, module_id: str, patch: dict) -> dict:
        """Rename a module and/or move it to ``position`` (0-based) among the course's modules."""
        clean = domain.validate_module_patch(patch)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            module = self._editable_module(repo, caller, module_id)
            if "title" in clean:
                repo.update_module(caller.tenant_id, module["id"], clean["title"])
            if "position" in clean:
                order = [m["id"] for m in repo.working_copy(module["course_id"])]
                repo.renumber("course_modules", caller.tenant_id, _moved(order, module["id"], clean["position"]))
            module = repo.module(caller.tenant_id, module["id"])
            self._changed(uow, caller.tenant_id, module["course_id"], "structure")
        return {"module_id": module["id"], "course_id": module["course_id"], "title": module["title"],
                "position": module["position"]}

    def remove_module(self, caller: Caller, module_id: str) -> None:
        """Drop a module and its lessons from the working copy (they leave the course at the next publish)."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            module = self._editable_module(repo, caller, module_id)
            repo.remove_module(caller.tenant_id, module["id"])
            order = [m["id"] for m in repo.working_copy(module["course_id"])]
            repo.renumber("course_modules", caller.tenant_id, order)
            self._changed(uow, caller.tenant_id, module["course_id"], "structure")

    def _editable_module(self, repo: LmsRepository, caller: Caller, module_id: str) -> dict:
        domain.require_author(caller.org_role)
        module = repo.module(caller.tenant_id, _uuid(module_id, "module_id"))
        if module is None:
            raise NotFound("No such module.", code="module_not_found")
        if self._own_course(repo, caller, module["course_id"])["status"] == domain.ARCHIVED:
            raise Conflict("An archived course cannot be edited.", code="course_archived")
        return module

    def course_results(self, caller: Caller, course_id: str) -> dict:
        """What the organisation's authors (owner, admin, instructor) see of a course they teach:
        enrolments, completion, each learner's progress and the quizzes' scores per question."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = self._own_course(repo, caller, course_id)
            latest = repo.latest_snapshot(course["id"])
            results = domain.course_results(latest[1] if latest else None,
                                            repo.course_enrollments(caller.tenant_id, course["id"]),
                                            repo.course_attempts(caller.tenant_id, course["id"]))
        return {"course_id": course["id"], "title": course["title"], "revision": latest[0] if latest else 0,
                **results}

    # --- assets -----------------------------------------------------------------------------

    def upload_asset_chunk(self, caller: Caller, lesson_id: str, *, upload_id: str, seq: int, data: bytes,
                           last: bool, filename: str, content_type: str, total_size: int) -> Optional[dict]:
        """Receive one chunk of an asset upload (chunks keep gRPC messages far below 4 MiB).

        Chunks are staged in PostgreSQL, so any gRPC replica can take the next one; the last
        chunk assembles them, checks the size, stores the object and attaches it to the
        lesson. Returns the asset after the last chunk, None before.
        """
        lesson_id, upload_id = _uuid(lesson_id, "lesson_id"), _uuid(upload_id, "upload_id")
        errors = {}
        if not 0 < total_size <= self.max_asset_bytes:
            errors["size"] = [f"must be between 1 and {self.max_asset_bytes} bytes"]
        name = Path(filename or "asset").name
        # ASCII only: object keys (and the download links built from them) allow nothing else.
        safe_name = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name)[:120]
        safe_name = safe_name.strip(".") or "asset"
        if errors:
            raise ValidationFailed("The upload is not valid.", fields=errors)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            lesson = repo.lesson(caller.tenant_id, lesson_id)
            if lesson is None or lesson["removed"]:
                raise _lesson_not_found()
            self._own_course(repo, caller, lesson["course_id"])
            if lesson["kind"] not in domain.ASSET_KINDS:
                raise ValidationFailed("Only video and file lessons take assets.",
                                       fields={"lesson_id": [f"is a {lesson['kind']} lesson"]})
            if content_type not in domain.ASSET_TYPES[lesson["kind"]]:
                raise ValidationFailed("This file type is not accepted for the lesson.",
                                       fields={"content_type": [f"must be one of "
                                                                f"{', '.join(domain.ASSET_TYPES[lesson['kind']])}"]},
                                       code="unsupported_asset_type")
            if repo.uploaded_bytes(caller.tenant_id, upload_id) + len(data) > total_size:
                repo.drop_upload(caller.tenant_id, upload_id)
                raise ValidationFailed("The upload is larger than announced.", fields={"size": ["too large"]})
            if seq == 0:
                repo.drop_stale_uploads(caller.tenant_id, STALE_UPLOAD_S)
            repo.add_chunk(caller.tenant_id, upload_id, seq, lesson_id, data)
            if not last:
                return None
            chunks = repo.chunks(caller.tenant_id, upload_id, lesson_id)
            if [s for s, _ in chunks] != list(range(len(chunks))):
                raise ValidationFailed("Chunks are missing.", fields={"seq": ["chunks must be 0..n without gaps"]})
            blob = b"".join(d for _, d in chunks)
            if len(blob) != total_size:
                raise ValidationFailed("The upload is incomplete.", fields={"size": [
                    f"received {len(blob)} of {total_size} bytes"]})
            key = check_key(f"lms/{caller.tenant_id}/lessons/{lesson_id}/{upload_id}/{safe_name}")
            self.storage.put(key, blob, content_type)
            asset = {"key": key, "filename": safe_name, "content_type": content_type, "size": len(blob),
                     "sha256": hashlib.sha256(blob).hexdigest(), "uploaded_at": self.clock().isoformat()}
            repo.set_asset(caller.tenant_id, lesson_id, asset)
            self._changed(uow, caller.tenant_id, lesson["course_id"], "structure")
            repo.drop_upload(caller.tenant_id, upload_id)
        return asset

    def read_file(self, key: str, expires: int, signature: str, offset: int = 0,
                  length: int = 1024 * 1024) -> dict:
        """Bytes of a locally stored object behind a signed download link (no token needed:
        the signature is the authorisation, issued only to entitled callers)."""
        try:
            ok = self.storage.verify(key, int(expires), signature)
        except ValueError:
            ok = False
        if not ok:
            raise Forbidden("The download link is invalid or expired.", code="invalid_download_link")
        try:
            size = self.storage.size(key)
            data = self.storage.get(key, offset, min(length, 2 * 1024 * 1024))
        except ObjectMissing:
            raise NotFound("No such file.", code="file_not_found") from None
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return {"data": data, "size": size, "content_type": content_type, "offset": offset}

    # --- enrolment --------------------------------------------------------------------------

    def enroll(self, caller: Caller, course_id: str) -> dict:
        """Enrol the caller (idempotent: an existing enrolment is returned as it is).

        Premium courses need a paid plan (403 ``entitlement_required``).
        """
        course_id = _uuid(course_id, "course_id")
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course = repo.course(caller.tenant_id, course_id)
            if course is None or course["status"] == domain.DRAFT and not self._is_author_of(caller, course):
                raise _course_not_found()
            existing = repo.active_enrollment(caller.tenant_id, caller.user_id, course_id)
            if existing:
                certificate = repo.certificate_for(caller.tenant_id, caller.user_id, course_id)
                return self._enrollment_out(existing, course, caller, created=False,
                                            certificate_id=certificate["id"] if certificate else "")
            if course["status"] != domain.PUBLISHED:
                raise Conflict("This course is not open for enrolment.", code="course_not_open")
            domain.require_entitlement(course["premium"], caller.plan_tier)
            enrollment = {"id": str(uuid.uuid4()), "tenant_id": caller.tenant_id, "user_id": caller.user_id,
                          "course_id": course_id, "course_tenant_id": course["tenant_id"],
                          "premium": course["premium"], "enrolled_revision": course["revision"]}
            if not repo.insert_enrollment(enrollment):
                # A concurrent enrol committed first (ON CONFLICT waited for it): same answer as a retry.
                return self._enrollment_out(repo.active_enrollment(caller.tenant_id, caller.user_id, course_id),
                                            course, caller, created=False)
            uow.publish(ENROLLMENT_CREATED, aggregate_id=enrollment["id"], payload={
                "enrollment_id": enrollment["id"], "course_id": course_id, "user_id": caller.user_id,
                "tenant_id": caller.tenant_id, "premium": course["premium"]})
            row = repo.active_enrollment(caller.tenant_id, caller.user_id, course_id)
        return self._enrollment_out(row, course, caller, created=True)

    def leave(self, caller: Caller, course_id: str) -> dict:
        """Cancel the caller's enrolment (quiz attempts and certificates are kept)."""
        course_id = _uuid(course_id, "course_id")
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            existing = repo.active_enrollment(caller.tenant_id, caller.user_id, course_id)
            if existing is None:
                raise NotFound("You are not enrolled in this course.", code="enrollment_not_found")
            repo.cancel_enrollment(caller.tenant_id, existing["id"])
            uow.publish(ENROLLMENT_CANCELLED, aggregate_id=existing["id"], payload={
                "enrollment_id": existing["id"], "course_id": course_id, "user_id": caller.user_id,
                "tenant_id": caller.tenant_id})
        return {"enrollment_id": existing["id"], "course_id": course_id, "status": "cancelled"}

    def list_enrollments(self, caller: Caller) -> list[dict]:
        """The caller's active enrolments, each with ``access`` judged from the token's plan now."""
        with self.unit_of_work(caller.tenant_id) as uow:
            rows = uow.lms.enrollments(caller.tenant_id, caller.user_id)
        return [{"enrollment_id": r["id"], "course_id": r["course_id"], "course_title": r["title"],
                 "course_slug": r["slug"], "premium": r["premium"], **_completion_view(r),
                 "access": domain.access(r["premium"], caller.plan_tier), "revision": r["revision"],
                 "enrolled_revision": r["enrolled_revision"], "certificate_id": r["certificate_id"] or "",
                 "enrolled_at": r["created_at"]} for r in rows]

    def _enrollment_out(self, row: dict, course: dict, caller: Caller, *, created: bool,
                        certificate_id: str = "") -> dict:
        return {"enrollment_id": row["id"], "course_id": row["course_id"], "course_title": course["title"],
                "course_slug": course["slug"], "premium": row["premium"], **_completion_view({**row, "percent": 0}),
                "access": domain.access(row["premium"], caller.plan_tier), "revision": course["revision"],
                "enrolled_revision": row["enrolled_revision"], "certificate_id": certificate_id,
                "enrolled_at": row["created_at"], "created": created}

    # --- learning ---------------------------------------------------------------------------

    def _learning_context(self, repo: LmsRepository, caller: Caller, lesson_id: str) -> tuple[dict, int, dict]:
        """(course, revision, lesson of the latest revision) for an entitled, enrolled learner."""
        row = repo.lesson(caller.tenant_id, _uuid(lesson_id, "lesson_id"))
        if row is None:
            raise _lesson_not_found()
        course = repo.course(caller.tenant_id, row["course_id"])
        latest = repo.latest_snapshot(row["course_id"])
        lesson = domain.find_lesson(latest[1], row["id"]) if latest else None
        if course is None or lesson is None:
            raise _lesson_not_found()  # removed from the latest revision, or never published
        if not repo.active_enrollment(caller.tenant_id, caller.user_id, course["id"]):
            raise Forbidden("Enrol in the course to open its lessons.", code="enrollment_required")
        domain.require_entitlement(course["premium"], caller.plan_tier)
        return course, latest[0], lesson

    def get_lesson(self, caller: Caller, lesson_id: str) -> dict:
        """A lesson of the latest revision for an enrolled, entitled learner: Markdown, the quiz
        without answers, or a time-limited download link for the asset."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course, revision, lesson = self._learning_context(repo, caller, lesson_id)
            attempts, passed = (repo.attempts(caller.tenant_id, caller.user_id, lesson["lesson_id"])
                                if lesson["kind"] == "quiz" else (0, False))
            # Opening is progress, recorded on the learner's behalf (once: re-opening adds nothing).
            if self._record_lesson(uow, caller.user_id, course["id"], lesson, domain.verb_on_open(lesson["kind"])):
                self._complete_if_done(uow, caller.tenant_id, caller.user_id, course["id"])
        out = self._lesson_out({**lesson, "id": lesson["lesson_id"], "course_id": course["id"]},
                               asset=lesson.get("asset"), for_author=False)
        out.update(revision=revision, attempts_used=attempts, passed=passed)
        return out

    def get_lesson_draft(self, caller: Caller, lesson_id: str) -> dict:
        """A lesson of the working copy as its authors edit it: text, the quiz with its answers and
        the asset. Owners, admins and instructors of the course's organisation only (403 otherwise;
        404 for a lesson of another organisation or one removed from the working copy)."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            domain.require_author(caller.org_role)
            lesson = repo.lesson(caller.tenant_id, _uuid(lesson_id, "lesson_id"))
            if lesson is None or lesson["removed"]:
                raise _lesson_not_found()
            self._own_course(repo, caller, lesson["course_id"])
        return self._lesson_out(lesson, asset=lesson["asset"], for_author=True)

    def complete_lesson(self, caller: Caller, lesson_id: str) -> dict:
        """Mark a lesson done (a video player calls it when the video ends; a reader may mark any
        article or file). Idempotent; a quiz is done only by passing it (422 ``quiz_needs_attempt``)."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course, _revision, lesson = self._learning_context(repo, caller, lesson_id)
            domain.require_markable(lesson["kind"])
            recorded = self._record_lesson(uow, caller.user_id, course["id"], lesson, "completed")
            certificate = self._complete_if_done(uow, caller.tenant_id, caller.user_id, course["id"])
            enrollment = repo.active_enrollment(caller.tenant_id, caller.user_id, course["id"])
        return {"lesson_id": lesson["lesson_id"], "course_id": course["id"], "done": True, "recorded": recorded,
                "course_completed": bool(enrollment and enrollment["completed_at"]),
                "certificate_id": certificate["id"] if certificate else ""}

    def _record_lesson(self, uow: LmsUnitOfWork, user_id: str, course_id: str, lesson: dict,
                       verb: str) -> bool:
        """Record ``verb`` on a lesson for the learner and report it to the tracker as an xAPI statement
        (through ``activity.recorded``, the tracker's one ingestion path). False when already recorded."""
        repo = uow.lms
        statement_id = str(uuid.uuid5(ACTIVITY_NAMESPACE, f"{uow.tenant_id}/{user_id}/{lesson['lesson_id']}/{verb}"))
        if not repo.record_lesson_activity({"tenant_id": uow.tenant_id, "user_id": user_id, "course_id": course_id,
                                            "lesson_id": lesson["lesson_id"], "verb": verb,
                                            "statement_id": statement_id}):
            return False
        self._record_activity(uow, user_id, domain.statement(
            user_id, verb, course_id=course_id, lesson_id=lesson["lesson_id"], title=lesson["title"],
            statement_id=statement_id, timestamp=self.clock().isoformat()))
        return True

    def _lesson_out(self, lesson: dict, *, asset: Optional[dict], for_author: bool) -> dict:
        quiz = lesson.get("quiz")
        return {"lesson_id": lesson["id"], "course_id": lesson["course_id"], "module_id": lesson.get("module_id", ""),
                "title": lesson["title"], "kind": lesson["kind"], "required": lesson["required"],
                "estimated_minutes": lesson["estimated_minutes"], "body_md": lesson.get("body_md", ""),
                "quiz": (quiz if for_author else domain.public_quiz(quiz)) if quiz else None,
                "asset": {"filename": asset["filename"], "content_type": asset["content_type"],
                          "size": asset["size"],
                          "url": self.storage.presigned_url(asset["key"], self.download_ttl_s)} if asset else None}

    def submit_quiz(self, caller: Caller, lesson_id: str, answers: dict) -> dict:
        """Grade an attempt on the server; publishes quiz.attempted and an xAPI passed/failed
        statement, and issues the certificate when this pass completes the course."""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.lms
            course, revision, lesson = self._learning_context(repo, caller, lesson_id)
            if lesson["kind"] != "quiz":
                raise ValidationFailed("This lesson is not a quiz.", fields={"lesson_id": ["is not a quiz"]})
            quiz = lesson["quiz"]
            count, passed_before = repo.attempts(caller.tenant_id, caller.user_id, lesson["lesson_id"])
            domain.check_attempts_left(quiz, count, passed_before)
            result = domain.grade(quiz, answers)
            attempt = {"id": str(uuid.uuid4()), "tenant_id": caller.tenant_id, "user_id": caller.user_id,
                       "course_id": course["id"], "lesson_id": lesson["lesson_id"], "attempt_no": count + 1,
                       "revision": revision, "score_percent": result.score_percent, "passed": result.passed,
                       "answers": answers}
            try:
                with uow.db.atomic():
                    repo.insert_attempt(attempt)
            except peewee.IntegrityError:
                raise Conflict("Another attempt was submitted at the same time.", code="attempt_conflict") from None
            uow.publish(QUIZ_ATTEMPTED, aggregate_id=attempt["id"], payload={
                k: attempt[k] for k in ("user_id", "tenant_id", "course_id", "lesson_id", "score_percent",
                                        "passed", "attempt_no")} | {"attempt_id": attempt["id"]})
            self._record_activity(uow, caller.user_id, domain.statement(
                caller.user_id, "passed" if result.passed else "failed", course_id=course["id"],
                lesson_id=lesson["lesson_id"], title=lesson["title"], score_percent=result.score_percent,
                success=result.passed, statement_id=attempt["id"], timestamp=self.clock().isoformat()))
            certificate = None
            if result.passed:
                certificate = self._complete_if_done(uow, caller.tenant_id, caller.user_id, course["id"])
        left = max(0, quiz["max_attempts"] - attempt["attempt_no"]) if quiz["max_attempts"] else -1
        return {"attempt_id": attempt["id"], "attempt_no": attempt["attempt_no"],
                "score_percent": result.score_percent, "passed": result.passed, "correct": result.correct,
                "total": result.total, "pass_percent": quiz["pass_percent"], "attempts_left": left,
                "results": result.results, "certificate_id": certificate["id"] if certificate else ""}

    def _record_activity(self, uow: LmsUnitOfWork, user_id: str, stmt: dict) -> None:
        _validate_statement(stmt)  # the tracker refuses what its statements API would refuse
        uow.publish(ACTIVITY_RECORDED, aggregate_id=user_id,
                    payload={"statement": stmt, "user_id": user_id, "tenant_id": uow.tenant_id})

    # --- completion -------------------------------------------------------------------------

    @handles(COURSE_PUBLISHED, COURSE_ARCHIVED, COURSE_CHANGED)
    def _forget_cached_course(self, tx: Transaction, envelope: dict) -> None:
        """Our own course events, after their commit: cached answers showing the course are stale
        (``common.read_cache``), whoever made the change (gateway, ``nameko shell``, seeding)."""
        self.read_cache.forget(read_cache.COURSE, envelope["payload"]["course_id"])

    @handles(ENROLLMENT_CREATED, ENROLLMENT_CANCELLED, ENROLLMENT_COMPLETED)
    def _forget_cached_enrolment(self, tx: Transaction, envelope: dict) -> None:
        """A learner's enrolment changed: their cached course answers (``enrolled``) are stale."""
        self.read_cache.forget(read_cache.LMS_LEARNER, envelope["payload"]["user_id"])

    @handles(PROGRESS_UPDATED)
    def _on_progress_updated(self, tx: Transaction, envelope: dict) -> None:
        """Keep the tracker's view of required lessons (it also counts statements clients sent);
        complete the enrolment when that finishes the course."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        try:
            course_id = str(uuid.UUID(p["course_id"]))
        except ValueError:
            return  # not an LMS course (the tracker accepts any activity)
        repo = uow.lms
        repo.save_progress(p["tenant_id"], p["user_id"], course_id, p["percent"], p["required_done"])
        self._complete_if_done(uow, p["tenant_id"], p["user_id"], course_id)

    @handles(USER_REGISTERED)
    def _on_user_registered(self, tx: Transaction, envelope: dict) -> None:
        """Remember the learner's display name for certificates, and name (re-render) any certificate
        issued before this event arrived: the LMS learns names by event, and a fast learner can finish
        a course first."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        repo = uow.lms
        repo.save_learner(envelope["tenant_id"], p["user_id"], p["display_name"])
        for cert in repo.nameless_certificates(envelope["tenant_id"], p["user_id"]):
            course = {"id": cert["course_id"], "title": cert["course_title"]}
            pdf = certificate_pdf.render(certificate_id=str(cert["id"]), learner_name=p["display_name"],
                                         course_title=course["title"], issued_at=_iso_text(cert["issued_at"]),
                                         verify_url=self._verify_url(str(cert["id"])),
                                         issuer=cert.get("issuer") or PLATFORM_ISSUER)
            self.storage.put(cert["pdf_key"], pdf, "application/pdf")
            repo.name_certificate(envelope["tenant_id"], str(cert["id"]), p["display_name"])

    @handles(TENANT_CREATED)
    def _on_tenant_created(self, tx: Transaction, envelope: dict) -> None:
        """Remember organisation names: a certificate names the organisation that issued it."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        uow.lms.save_organisation(p["tenant_id"], p["name"], p["kind"])

    def _complete_if_done(self, uow: LmsUnitOfWork, tenant_id: str, user_id: str,
                          course_id: str) -> Optional[dict]:
        """THE completion decision (``domain.is_complete``), for the learner's active enrolment.

        The first time it holds: the certificate is issued and ``enrollment.completed`` published in
        this transaction; the tracker, the roadmap (through the tracker) and analytics follow that
        event. Returns the certificate of a complete enrolment, None otherwise.
        """
        repo = uow.lms
        enrollment = repo.active_enrollment(tenant_id, user_id, course_id)
        course, latest = repo.course(tenant_id, course_id), repo.latest_snapshot(course_id)
        if enrollment is None or course is None or latest is None:
            return None
        if not enrollment["completed_at"]:
            progress = repo.progress(tenant_id, user_id, course_id)
            if not domain.is_complete(latest[1], bool(progress and progress["required_done"]),
                                      repo.done_lessons(tenant_id, user_id, course_id, domain.DONE_VERBS),
                                      repo.passed_quizzes(tenant_id, user_id, course_id)):
                return None
        certificate = repo.certificate_for(tenant_id, user_id, course_id) \
            or self._issue_certificate(uow, course, latest[0], tenant_id, user_id)
        completed_at = repo.complete_enrollment(tenant_id, enrollment["id"])
        if completed_at:
            uow.publish(ENROLLMENT_COMPLETED, aggregate_id=enrollment["id"], tenant_id=tenant_id, payload={
                "enrollment_id": enrollment["id"], "course_id": course_id, "user_id": user_id,
                "tenant_id": tenant_id, "revision": latest[0], "certificate_id": certificate["id"],
                "completed_at": completed_at})
        return certificate

    def _issue_certificate(self, uow: LmsUnitOfWork, course: dict, revision: int, tenant_id: str,
                           user_id: str) -> dict:
        repo = uow.lms
        # Deterministic id and key: a retried event renders the same object again, harmlessly.
        cert_id = str(uuid.uuid5(CERT_NAMESPACE, f"{tenant_id}/{user_id}/{course['id']}"))
        issued_at = self.clock().isoformat()
        name = repo.learner_name(tenant_id, user_id)
        issuer = PLATFORM_ISSUER if course["tenant_id"] == domain.PLATFORM_TENANT \
            else repo.organisation_name(course["tenant_id"]) or PLATFORM_ISSUER
        pdf = certificate_pdf.render(certificate_id=cert_id, learner_name=name, course_title=course["title"],
                                     issued_at=issued_at, verify_url=self._verify_url(cert_id), issuer=issuer)
        key = f"lms/certificates/{cert_id}.pdf"
        self.storage.put(key, pdf, "application/pdf")
        cert = {"id": cert_id, "tenant_id": tenant_id, "user_id": user_id, "course_id": course["id"],
                "course_title": course["title"], "learner_name": name, "revision": revision,
                "issued_at": issued_at, "pdf_key": key, "issuer": issuer}
        if not repo.insert_certificate(cert):
            return repo.certificate_for(tenant_id, user_id, course["id"])
        uow.publish(CERTIFICATE_ISSUED, aggregate_id=cert_id, tenant_id=tenant_id, payload={
            "certificate_id": cert_id, "user_id": user_id, "tenant_id": tenant_id, "course_id": course["id"],
            "course_title": course["title"], "issued_at": issued_at})
        stmt = domain.statement(user_id, "completed", course_id=course["id"], title=course["title"],
                                statement_id=cert_id, timestamp=issued_at)
        _validate_statement(stmt)
        uow.publish(ACTIVITY_RECORDED, aggregate_id=user_id, tenant_id=tenant_id,
                    payload={"statement": stmt, "user_id": user_id, "tenant_id": tenant_id})
        return cert

    def _verify_url(self, certificate_id: str) -> str:
        return f"{self.verify_base_url}/{certificate_id}"

    def get_certificate(self, certificate_id: str) -> dict:
        """Public verification: the certificate's facts and a link to its PDF (no caller needed)."""
        certificate_id = _uuid(certificate_id, "certificate_id")
        with self.unit_of_work(None) as uow:
            cert = uow.lms.certificate(certificate_id)
        if cert is None:
            raise NotFound("No such certificate.", code="certificate_not_found")
        return {"certificate_id": cert["id"], "course_id": cert["course_id"], "course_title": cert["course_title"],
                "learner_name": cert["learner_name"], "user_id": cert["user_id"], "issued_at": cert["issued_at"],
                "revision": cert["revision"], "valid": True, "issuer": cert["issuer"] or PLATFORM_ISSUER,
                "verify_url": self._verify_url(cert["id"]),
                "pdf_url": self.storage.presigned_url(cert["pdf_key"], self.certificate_ttl_s)}


def build(config: dict, clock: Clock = system_clock) -> LmsService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    settings = Settings.from_config(config)
    section = settings.storage or Settings().storage
    return LmsService(store, service_storage(config, section), settings, clock, read_cache.Keeper.from_config(config))
