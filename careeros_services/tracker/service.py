"""The tracker service layer: what the nameko and gRPC entrypoints both call.

Statements come in two ways and take ONE path: the statements API
(:meth:`TrackerService.record_statements`, one transaction per request) and
the LMS's ``careeros.lms.activity.recorded.v1`` events (the consumer's
transaction) both end in :meth:`TrackerService.ingest`. It stores new
statements with one multi-row insert, recognises replays by statement id
(same content: counted once; other content: 409), updates the read models
set-based and publishes ``statement.recorded`` per new statement and
``progress.updated`` per course whose progress changed, in that transaction.

What 100% means comes from ``careeros.lms.course.published.v1`` (a read model
of course structures), never from calling the LMS. A structure that arrives
after the statements recomputes the progress of every learner with activity
on the course, in every tenant that has some.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, Optional

from bus.handlers import EventHandlingService, by_learner, handles
from bus.store import ServiceStore, Transaction
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import Forbidden, require_uuids
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork
from careeros_services.tracker import domain, persistence
from careeros_services.tracker.domain import CourseStructure, Statement, StatementConflict
from careeros_services.tracker.persistence import CourseProgressRow, TrackerUnitOfWork, group_lesson_rows
from careeros_services.tracker.xapi.statements import same_statement
from bus.contracts import (  # event types, from contracts/events
    LMS_ACTIVITY_RECORDED_V1 as LMS_ACTIVITY,
    LMS_COURSE_PUBLISHED_V1 as COURSE_PUBLISHED,
    LMS_ENROLLMENT_COMPLETED_V1 as ENROLLMENT_COMPLETED,
    TRACKER_STATEMENT_RECORDED_V1 as STATEMENT_RECORDED,
    TRACKER_PROGRESS_UPDATED_V1 as PROGRESS_UPDATED,
)

SERVICE = "tracker"

# Organisation roles that may read every learner of their tenant (members read only their own).
READER_ROLES = frozenset({"owner", "admin", "instructor"})


class TrackerService(ServiceWithUnitOfWork[TrackerUnitOfWork], PersonalDataOwner, EventHandlingService):
    """Learning activity (xAPI statements) and progress per learner, course and lesson."""

    consumer_name = SERVICE
    unit_of_work_class = TrackerUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS
    # Every writer of a learner's rows first takes the learner's lock (``lock_learners``), learners
    # in (tenant, user) order: a batch runs in that order too, so batches and requests queue.
    lock_order = by_learner

    def __init__(self, store: ServiceStore, clock: Clock = system_clock):
        self.store = store
        self.clock = clock

    # --- ingestion: the one path -------------------------------------------------------------

    def record_statements(self, caller: Caller, body: Any) -> dict:
        """Store the caller's statements (``body``: one statement object or a list of them).

        One transaction for the request. Returns ``{"statement_ids": [...]
        (in request order), "stored": n_new, "duplicates": n_replayed}``.
        Errors: 400 ``invalid_statement`` naming the field, 413
        ``batch_too_large``, 403 ``actor_not_caller``, 409 ``statement_conflict``
        (nothing of the request is kept then).
        """
        with self.unit_of_work(caller.tenant_id) as uow:
            return self.ingest(uow, caller.tenant_id, caller.user_id, body)

    @handles(LMS_ACTIVITY)
    def _on_lms_activity(self, tx: Transaction, envelope: dict) -> None:
        """The LMS reports a learner's activity: the same ingestion as the statements API."""
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        self.ingest(uow, envelope["tenant_id"], payload["user_id"], payload["statement"])

    def ingest(self, uow: TrackerUnitOfWork, tenant_id: str, user_id: str, body: Any) -> dict:
        """Validate and store statements of ``user_id`` in the open unit of work ``uow``."""
        statements, _was_list = domain.parse_statements(body, caller_user_id=user_id, now=self.clock())
        repo = uow.tracker
        repo.lock_learners(tenant_id, [user_id])
        new_ids = repo.insert_statements(tenant_id, statements)
        replayed = [s for s in statements if s.id not in new_ids]
        if replayed:
            stored = repo.stored_hashes(tenant_id, [s.id for s in replayed])
            clashes = [s.id for s in replayed if stored.get(s.id) != s.body_hash]
            if clashes:  # raising rolls back the whole request, as an LRS refuses the whole batch
                raise StatementConflict(
                    "A statement with this id is already stored with different content.",
                    fields={"id": [f"{sid} is already stored with different content" for sid in clashes]})
        fresh = [s for s in statements if s.id in new_ids]
        if fresh:
            self._apply_new(uow, tenant_id, user_id, fresh)
        return {"statement_ids": [s.id for s in statements], "stored": len(fresh), "duplicates": len(replayed)}

    def ingest_lrs(self, uow: TrackerUnitOfWork, tenant_id: str, statements: list[Statement]) -> set[str]:
        """Store statements the LRS validated and filled in; the same path as :meth:`ingest`.

        A stored id is a replay when xAPI's comparison finds the statements the same
        (whichever route stored it) and a 409 otherwise (the whole request rolls back).
        New statements of CareerOS learners move progress, streaks and publish events
        exactly as the statements API's do. Returns the ids stored now.
        """
        repo = uow.tracker
        repo.lock_learners(tenant_id, [s.user_id for s in statements if s.user_id])
        new_ids = repo.insert_statements(tenant_id, statements)
        replayed = [s for s in statements if s.id not in new_ids]
        if replayed:
            stored = uow.lrs.bodies(tenant_id, [s.id for s in replayed])
            clashes = [s.id for s in replayed if s.id in stored and not same_statement(stored[s.id], s.body)]
            if clashes:
                raise StatementConflict(
                    "A statement with this id is already stored with different content.",
                    fields={"id": [f"{sid} is already stored with different content" for sid in clashes]})
        by_learner: dict[str, list[Statement]] = defaultdict(list)
        for s in statements:
            if s.id in new_ids and s.user_id:
                by_learner[s.user_id].append(s)
        for user_id, fresh in sorted(by_learner.items()):
            self._apply_new(uow, tenant_id, user_id, fresh)
        return new_ids

    def _apply_new(self, uow: TrackerUnitOfWork, tenant_id: str, user_id: str,
                   fresh: list[Statement]) -> None:
        repo = uow.tracker
        # Lessons reported without their course: find the course in a known structure.
        orphans = {s.lesson_id for s in fresh if s.lesson_id and not s.course_id}
        course_of = repo.courses_of_lessons(orphans) if orphans else {}
        # Lessons stored earlier without a course that this batch places: their time moves to the course.
        placed = {s.lesson_id: s.course_id or course_of.get(s.lesson_id, "") for s in fresh if s.lesson_id}
        claimed = repo.claim_orphan_lessons(tenant_id, user_id, {l: c for l, c in placed.items() if c})
        repo.add_lesson_activity(tenant_id, user_id, group_lesson_rows(fresh, course_of))

        days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        courses: dict[str, list] = {c: [seconds, last] for c, (seconds, last) in claimed.items()}  # [seconds, last]
        recorded: list[tuple[str, str, dict]] = []
        for s in fresh:
            days[s.day][0] += s.duration_s
            days[s.day][1] += 1
            course_id = s.course_id or course_of.get(s.lesson_id, "")
            if course_id:
                entry = courses.setdefault(course_id, [0, s.timestamp])
                entry[0] += s.duration_s
                entry[1] = max(entry[1], s.timestamp)
            recorded.append((STATEMENT_RECORDED, s.id, {
                "statement_id": s.id, "user_id": s.user_id, "tenant_id": tenant_id, "verb": s.verb,
                "activity_id": s.activity_id, "course_id": course_id, "lesson_id": s.lesson_id,
                "duration_s": s.duration_s, "timestamp": domain.iso(s.timestamp)}))
        uow.publish_many(recorded, tenant_id=tenant_id)  # one outbox insert for the batch's events
        repo.add_days(tenant_id, user_id, {day: (v[0], v[1]) for day, v in days.items()})
        repo.note_activity_tenant(tenant_id, [f"course:{c}" for c in courses]
                                  + [f"lesson:{l}" for l in orphans if l not in course_of])
        structures = repo.structures(courses)
        for course_id, (seconds, last_at) in sorted(courses.items()):
            self._refresh_course(uow, tenant_id, user_id, course_id, structures.get(course_id),
                                 add_seconds=seconds, last_at=last_at)

    def _refresh_course(self, uow: TrackerUnitOfWork, tenant_id: str, user_id: str,
                        course_id: str, structure: Optional[CourseStructure], *, add_seconds: int = 0,
                        last_at: Optional[datetime] = None, completed: bool = False) -> None:
        """Recompute one learner's progress in one course; publish ``progress.updated`` if it changed.

        ``completed`` is the LMS's verdict (``enrollment.completed``); once stored it stays."""
        repo = uow.tracker
        locked, created = repo.lock_course_progress(tenant_id, user_id, course_id, last_at or self.clock())
        current = None if created else locked
        completed = completed or bool(current and current.completed)
        lesson_ids = list(structure.lessons) if structure else []
        done = repo.done_lessons(tenant_id, user_id, lesson_ids) if lesson_ids else set()
        progress = domain.compute_progress(structure, done, completed)
        last_seen = [t for t in (current.last_activity_at if current else None, last_at) if t is not None] \
            or [locked.last_activity_at]
        row = CourseProgressRow(
            course_id=course_id, percent=progress.percent, lessons_done=progress.lessons_done,
            lessons_total=progress.lessons_total, required_done=progress.required_done,
            completed=completed, time_spent_s=(current.time_spent_s if current else 0) + add_seconds,
            last_activity_at=max(last_seen), revision=structure.revision if structure else 0)
        if current is not None and current.key() == row.key():
            return
        repo.save_course_progress(tenant_id, user_id, row)
        uow.publish(PROGRESS_UPDATED, aggregate_id=f"{user_id}:{course_id}", tenant_id=tenant_id, payload={
            "user_id": user_id, "tenant_id": tenant_id, "course_id": course_id, "percent": row.percent,
            "lessons_done": row.lessons_done, "lessons_total": row.lessons_total,
            "required_done": row.required_done, "time_spent_s": int(row.time_spent_s),
            "last_activity_at": domain.iso(row.last_activity_at), "completed": row.completed})

    @handles(ENROLLMENT_COMPLETED)
    def _on_enrollment_completed(self, tx: Transaction, envelope: dict) -> None:
        """The LMS, which owns completion, says the learner completed the course: 100 %, completed."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        repo = uow.tracker
        repo.lock_learners(p["tenant_id"], [p["user_id"]])
        self._refresh_course(uow, p["tenant_id"], p["user_id"], p["course_id"],
                             repo.structures([p["course_id"]]).get(p["course_id"]), completed=True)

    # --- course structures ----------------------------------------------------------------------

    @handles(COURSE_PUBLISHED)
    def _on_course_published(self, tx: Transaction, envelope: dict) -> None:
        """Keep the course's latest structure; recompute progress of its learners.

        An older or equal revision (a late or repeated event) changes nothing.
        A public course (platform tenant) has learners in any tenant; a
        tenant's own course only in that tenant.
        """
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        structure = CourseStructure.from_published(payload)
        repo = uow.tracker
        if not repo.upsert_structure(structure):
            return
        lesson_ids = list(structure.lessons)
        keys = [f"course:{structure.course_id}"] + [f"lesson:{lid}" for lid in lesson_ids]
        tenants = repo.tenants_with_activity(keys)
        if structure.tenant_id != domain.PLATFORM_TENANT:
            tenants = [t for t in tenants if t == structure.tenant_id]
        home = uow.tenant_id
        try:
            for tenant_id in tenants:
                uow.scope_to(tenant_id)  # RLS: this tenant's learners for the rest of the loop body
                learners = repo.learners_of_course(tenant_id, structure.course_id, lesson_ids)
                repo.lock_learners(tenant_id, learners)
                adopted = repo.adopt_orphan_lessons(tenant_id, structure)
                late = set(adopted) - set(learners)  # a lesson's first activity committed just now
                repo.lock_learners(tenant_id, late)
                for user_id in sorted({*learners, *late}):
                    seconds, last_at = adopted.get(user_id, (0, None))
                    self._refresh_course(uow, tenant_id, user_id, structure.course_id, structure,
                                         add_seconds=seconds, last_at=last_at)
        finally:
            uow.scope_to(home)

    # --- reads ------------------------------------------------------------------------------------

    @staticmethod
    def _target(user_id: str, org_role: str, learner: str) -> str:
        """Whose data the caller may read: their own, or (owner/admin/instructor) a learner's of the tenant."""
        if not learner or learner == user_id:
            return user_id
        if org_role not in READER_ROLES:
            raise Forbidden("Only organisation owners, admins and instructors may read other learners.",
                            code="not_allowed", fields={"learner": ["must be your own user id"]})
        return learner

    def list_statements(self, caller: Caller, *, learner: str = "", verb: str = "",
                        activity: str = "", related_activities: bool = False, since: str = "", until: str = "",
                        limit: int = 0, cursor: str = "") -> dict:
        """Statements newest first (by storage order), filtered, a page at a time.

        A member reads only their own; owner/admin/instructor read their
        tenant's (all learners, or ``learner``). ``since``/``until`` bound the
        time of storage, as in xAPI. Returns ``{"statements": [...],
        "next_cursor": "" when there is no more}``; the cursor is opaque and
        bound to the filters (400 ``invalid_cursor`` otherwise).
        """
        tenant_id, user_id, org_role = caller.tenant_id, caller.user_id, caller.org_role
        query = domain.statement_query(learner=learner, verb=verb, activity=activity,
                                       related_activities=related_activities, since=since, until=until, limit=limit)
        only_user: Optional[str] = self._target(user_id, org_role, query.learner)
        if org_role in READER_ROLES and not query.learner:
            only_user = None  # the whole tenant
        before = domain.decode_cursor(query, cursor)
        with self.unit_of_work(tenant_id) as uow:
            rows = uow.tracker.list_statements(tenant_id, query, before, only_user)
        page = rows[:query.limit]
        statements = [dict(body, stored=domain.iso(body["stored"])) for _seq, body in page]
        more = len(rows) > query.limit
        return {"statements": statements, "next_cursor": domain.encode_cursor(query, page[-1][0]) if more else ""}

    def get_progress(self, caller: Caller, *, learner: str = "", course_id: str = "") -> dict:
        """A learner's progress: per course (and its lessons), streaks, weekly goal, total time."""
        tenant_id = caller.tenant_id
        if learner:
            [learner] = require_uuids(learner=learner)  # not the caller's id: checked here
        target = self._target(caller.user_id, caller.org_role, learner)
        today = self.clock().date()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.tracker
            rows = repo.course_progress(tenant_id, target, course_id or None)
            structures = repo.structures(r.course_id for r in rows)
            all_lessons = [lid for s in structures.values() for lid in s.lessons]
            lessons = repo.lesson_rows(tenant_id, target, all_lessons) if all_lessons else {}
            days = repo.active_days(tenant_id, target)
            goal_minutes = repo.goal(tenant_id, target)
        current, longest = domain.streaks(days, today)
        start = domain.week_start(today)
        week_seconds = sum(seconds for day, seconds in days.items() if start <= day <= today)
        courses = []
        for row in rows:
            structure = structures.get(row.course_id)
            course_lessons = []
            for lid, required in (structure.lessons.items() if structure else ()):
                done, done_at, seconds, last, percent = lessons.get(lid, (False, None, 0, None, 0))
                course_lessons.append({"lesson_id": lid, "title": structure.titles.get(lid, ""), "required": required,
                                       "done": bool(done), "percent": 100 if done else int(percent),
                                       "done_at": domain.iso(done_at),
                                       "time_spent_s": int(seconds), "last_activity_at": domain.iso(last)})
            courses.append({"course_id": row.course_id, "percent": row.percent, "lessons_done": row.lessons_done,
                            "lessons_total": row.lessons_total, "required_done": row.required_done,
                            "completed": row.completed, "time_spent_s": int(row.time_spent_s),
                            "last_activity_at": domain.iso(row.last_activity_at), "revision": row.revision,
                            "structure_known": structure is not None, "lessons": course_lessons})
        return {
            "user_id": target,
            "courses": courses,
            "streak": {"current_days": current, "longest_days": longest,
                       "last_active_day": max(days).isoformat() if days else ""},
            "weekly_goal": self._goal_dict(goal_minutes, start, week_seconds),
            "total_time_spent_s": sum(days.values()),
        }

    @staticmethod
    def _goal_dict(minutes: int, start: date, week_seconds: int) -> dict:
        return {"minutes_per_week": minutes, "week_start": start.isoformat(),
                **domain.weekly_goal_progress(minutes, week_seconds)}

    def set_weekly_goal(self, caller: Caller, minutes_per_week: Any) -> dict:
        """Set the caller's weekly goal in minutes (0 clears it); returns the goal and this week's progress."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        minutes = domain.validate_goal(minutes_per_week)
        today = self.clock().date()
        start = domain.week_start(today)
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.tracker
            repo.set_goal(tenant_id, user_id, minutes)
            days = repo.active_days(tenant_id, user_id)
        week_seconds = sum(seconds for day, seconds in days.items() if start <= day <= today)
        return self._goal_dict(minutes, start, week_seconds)


def build(config: dict, clock: Clock = system_clock) -> TrackerService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    return TrackerService(store, clock)
