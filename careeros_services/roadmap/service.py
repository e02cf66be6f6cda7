"""The roadmap service layer: what the nameko and gRPC entrypoints both call.

Learners' roadmaps: queries, milestone marks, the request for a new roadmap,
achievements and the events that trigger a regeneration. How a roadmap gets a
new version (the persisted, compensating saga) is in ``regeneration_saga.py``.
"""
from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timezone
from typing import Optional

from bus.handlers import EventHandlingService, by_learner, handles
from bus.store import ServiceStore, Transaction
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.caller import Caller
from careeros_services.common.errors import NotFound, ValidationFailed
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.roadmap import domain, persistence, rendering
from careeros_services.roadmap.events import (  # noqa: F401 - the event types, for callers and tests
    COURSE_ARCHIVED, COURSE_PUBLISHED, MILESTONE_ACHIEVED, PROFILE_UPDATED, PROGRESS_UPDATED, ROADMAP_GENERATED)
from careeros_services.roadmap.persistence import RoadmapRecord, RoadmapRepository, RoadmapUnitOfWork
from careeros_services.roadmap.settings import Settings
from careeros_services.roadmap.regeneration_saga import Proposer, RegenerationSaga, roadmap_not_found

log = logging.getLogger(__name__)

SERVICE = "roadmap"


class RoadmapService(RegenerationSaga, PersonalDataOwner, EventHandlingService):
    """Learners' roadmaps: generated through ai_core and the graph logic, versioned, tracked."""

    consumer_name = SERVICE
    unit_of_work_class = RoadmapUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS
    # A batch holds each learner's roadmap row it touched until it commits: in learner order, two
    # batches queue instead of deadlocking (one learner's events keep their order).
    lock_order = by_learner

    def __init__(self, store: ServiceStore, proposer: Optional[Proposer] = None,
                 settings: Settings = Settings(), clock: Clock = system_clock):
        self.store = store
        self.proposer = proposer
        self.settings = settings
        self.clock = clock

    def _today(self) -> date:
        return self.clock().astimezone(timezone.utc).date()

    # --- queries -------------------------------------------------------------------------

    def get_current_roadmap(self, caller: Caller) -> dict:
        """The caller's roadmap at its active version, with the progress overlay."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.roadmaps
            roadmap = repo.roadmap_of(tenant_id, user_id)
            if roadmap is None or roadmap.active_version == 0:
                raise roadmap_not_found()
            return self._view(repo, roadmap, roadmap.active_version)

    def get_roadmap(self, caller: Caller, roadmap_id: str, version: int = 0) -> dict:
        """One version of the caller's roadmap (0: the active one); older versions stay readable."""
        repo_args = self._owned(caller, roadmap_id)
        with self.unit_of_work(repo_args[0]) as uow:
            repo = uow.roadmaps
            roadmap = self._load_owned(repo, *repo_args)
            return self._view(repo, roadmap, version or roadmap.active_version)

    def list_versions(self, caller: Caller, roadmap_id: str) -> dict:
        """Every version of the caller's roadmap, oldest first."""
        args = self._owned(caller, roadmap_id)
        with self.unit_of_work(args[0]) as uow:
            repo = uow.roadmaps
            roadmap = self._load_owned(repo, *args)
            versions = [{"version": v.version, "target_role": v.target_role, "reason": v.reason,
                         "milestones_total": len(v.plan["milestones"]), "created_at": v.created_at.isoformat(),
                         "is_active": v.version == roadmap.active_version}
                        for v in repo.versions(args[0], args[2])]
        return {"roadmap_id": args[2], "active_version": roadmap.active_version, "versions": versions}

    def render(self, caller: Caller, roadmap_id: str, version: int, fmt: str) -> tuple[str, str]:
        """``(content_type, text)`` of the roadmap drawn as SVG or as a Mermaid flowchart."""
        if fmt not in ("svg", "mermaid"):
            raise ValidationFailed("Unknown picture format.", fields={"format": ["must be svg or mermaid"]})
        view = self.get_roadmap(caller, roadmap_id, version)
        if fmt == "svg":
            return "image/svg+xml", rendering.render_svg(view)
        return "text/vnd.mermaid", rendering.render_mermaid(view)

    @staticmethod
    def _owned(caller: Caller, roadmap_id: str) -> list[str]:
        """``[tenant, user, roadmap]``; a malformed roadmap id is one the caller does not have."""
        try:
            return [caller.tenant_id, caller.user_id, str(uuid.UUID(str(roadmap_id)))]
        except ValueError:
            raise roadmap_not_found() from None

    @staticmethod
    def _load_owned(repo: RoadmapRepository, tenant_id: str, user_id: str, roadmap_id: str) -> RoadmapRecord:
        roadmap = repo.roadmap(tenant_id, roadmap_id)
        if roadmap is None or str(roadmap.user_id) != user_id or roadmap.active_version == 0:
            raise roadmap_not_found()
        return roadmap

    def _view(self, repo: RoadmapRepository, roadmap: RoadmapRecord, version: int) -> dict:
        tenant_id, roadmap_id = str(roadmap.tenant_id), str(roadmap.roadmap_id)
        record = repo.version(tenant_id, roadmap_id, version)
        if record is None:
            raise NotFound(f"This roadmap has no version {version}.", code="roadmap_version_not_found")
        plan = record.plan
        overlay = domain.overlay(plan, repo.progress(tenant_id, str(roadmap.user_id)),
                                 repo.marks(tenant_id, roadmap_id), self._today(),
                                 self.settings.behind_margin_weeks)
        achieved = repo.achievements(tenant_id, roadmap_id)
        milestones = []
        for m in plan["milestones"]:
            state = overlay["milestones"][m["skill_id"]]
            milestones.append({
                **{k: m[k] for k in ("skill_id", "skill_name", "esco_uri", "level", "known_level", "depth",
                                     "position", "prerequisites", "skipped", "estimated_hours",
                                     "planned_hours", "courses", "lessons")},
                "start_week": m["start_week"] or 0, "end_week": m["end_week"] or 0,
                "percent": state["percent"], "status": state["status"],
                "tracked_status": state["tracked_status"], "marked": state["marked"] or "",
                "achieved": (domain.skill_key(m["skill_name"]), m["level"]) in achieved,
                "no_course": m.get("no_course", not m["courses"]), "practice_task": m.get("practice_task", "")})
        summary = {k: v for k, v in plan["summary"].items() if k != "baseline_done_hours"}
        summary["deadline"] = summary["deadline"] or ""
        regen = roadmap.last_regeneration or {}
        return {
            "roadmap_id": roadmap_id, "version": record.version, "active_version": roadmap.active_version,
            "is_active": record.version == roadmap.active_version, "tenant_id": tenant_id,
            "user_id": str(roadmap.user_id), "target_role": record.target_role, "role_id": plan["role_id"],
            "role_title": plan["role_title"], "esco_occupation_uri": plan.get("esco_occupation_uri", ""),
            "hours_per_week": record.hours_per_week, "reason": record.reason,
            "created_at": record.created_at.isoformat(), "milestones": milestones,
            "schedule": plan["schedule"], "summary": summary,
            "progress": {k: overlay[k] for k in ("percent", "done_hours", "expected_hours", "weeks_ahead",
                                                 "schedule_status", "counts")},
            "last_regeneration": {k: str(regen.get(k, "")) for k in ("saga_id", "reason", "state", "error",
                                                                     "updated_at")},
        }

    # --- commands ------------------------------------------------------------------------

    def mark_milestone(self, caller: Caller, roadmap_id: str, skill_id: str, status: str) -> dict:
        """The learner's own status for a milestone of the active version ("" clears the mark).

        A mark changes what the roadmap shows; it is not tracked evidence, so it
        never emits ``milestone.achieved`` by itself.
        """
        args = self._owned(caller, roadmap_id)
        if status not in domain.MARKABLE + ("",):
            raise ValidationFailed("Unknown milestone status.",
                                   fields={"status": [f"must be one of {', '.join(domain.MARKABLE)} or empty"]})
        with self.unit_of_work(args[0]) as uow:
            repo = uow.roadmaps
            roadmap = self._load_owned(repo, *args)
            plan = repo.version(args[0], args[2], roadmap.active_version).plan
            if skill_id not in {m["skill_id"] for m in plan["milestones"]}:
                raise ValidationFailed("The active version has no such milestone.",
                                       fields={"skill_id": ["is not a milestone of the active version"]})
            repo.set_mark(args[0], args[2], skill_id, status, self.clock())
            return self._view(repo, roadmap, roadmap.active_version)

    def create_roadmap(self, caller: Caller, request: dict) -> dict:
        """Generate the caller's roadmap for a goal (a new version when one exists); returns it.

        Runs the generation saga at once in this process (it must be one that
        may call gRPC). On failure the saga is compensated, the current version
        (if any) stays active, and the step's error is raised.
        """
        tenant_id, user_id = caller.tenant_id, caller.user_id
        goal = domain.parse_goal(request, self._today())
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.roadmaps
            roadmap = repo.create_roadmap({
                "roadmap_id": str(uuid.uuid4()), "tenant_id": tenant_id, "user_id": user_id,
                "org_role": caller.org_role, "plan_tier": caller.plan_tier,
                "created_at": now, "updated_at": now})
            saga_id = self._add_saga(repo, roadmap, "requested", f"request:{uuid.uuid4()}", goal, caller)
            repo.lease_saga(saga_id, self.settings.saga_lease_s)
        error = self.run_saga(tenant_id, saga_id, retry=False)
        if error is not None:
            raise error
        return self.get_current_roadmap(caller)

    # --- progress and achievements ---------------------------------------------------------

    def _settle(self, uow: RoadmapUnitOfWork, roadmap: RoadmapRecord,
                check_behind: bool = True, plan: Optional[dict] = None) -> Optional[dict]:
        """Emit ``milestone.achieved`` for milestones newly done with tracked evidence, and
        record a regeneration when the learner is behind by more than the margin."""
        repo = uow.roadmaps
        tenant_id, roadmap_id, user_id = str(roadmap.tenant_id), str(roadmap.roadmap_id), str(roadmap.user_id)
        if roadmap.active_version == 0:
            return None
        plan = plan or repo.version(tenant_id, roadmap_id, roadmap.active_version).plan
        view = domain.overlay(plan, repo.progress(tenant_id, user_id), repo.marks(tenant_id, roadmap_id),
                              self._today(), self.settings.behind_margin_weeks)
        achieved = repo.achievements(tenant_id, roadmap_id)
        for m in plan["milestones"]:
            state = view["states"][m["skill_id"]]
            key = (domain.skill_key(m["skill_name"]), m["level"])
            if not state.achieved_by_evidence or key in achieved:
                continue
            evidence = [{"kind": "course_completed", "id": c} for c in state.evidence_courses]
            if repo.add_achievement({"roadmap_id": roadmap_id, "skill_key": key[0], "level": key[1],
                                     "tenant_id": tenant_id, "user_id": user_id, "skill_name": m["skill_name"],
                                     "evidence": evidence, "achieved_at": self.clock()}):
                uow.publish(MILESTONE_ACHIEVED, aggregate_id=roadmap_id, payload={
                    "roadmap_id": roadmap_id, "tenant_id": tenant_id, "user_id": user_id,
                    "skill_name": m["skill_name"], "esco_uri": m["esco_uri"], "level": m["level"],
                    "evidence": evidence})
        if check_behind and view["regenerate"]:
            # One behind-schedule regeneration per version, however many events see it.
            self._regenerate(uow, tenant_id, roadmap_id, "behind_schedule",
                             f"behind:v{roadmap.active_version}")
        return view

    def check_schedules(self) -> int:
        """Periodic sweep: a learner who stops learning sends no events, so look at every roadmap."""
        with self.unit_of_work(None) as uow:
            rows = uow.db.execute_sql("SELECT tenant_id, roadmap_id FROM roadmap_directory").fetchall()
        recorded = 0
        for tenant_id, roadmap_id in rows:
            with self.unit_of_work(str(tenant_id)) as uow:
                repo = uow.roadmaps
                roadmap = repo.roadmap(str(tenant_id), str(roadmap_id))
                if roadmap is not None:
                    view = self._settle(uow, roadmap)
                    recorded += bool(view and view["regenerate"])
        return recorded

    # --- event handlers --------------------------------------------------------------------

    @handles(COURSE_PUBLISHED)
    def _on_course_published(self, tx: Transaction, envelope: dict) -> None:
        """Keep the catalog read model (newest revision wins)."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        uow.scope_to(p["tenant_id"])
        lessons = [{"lesson_id": le["lesson_id"], "title": le["title"], "required": le["required"],
                    "estimated_minutes": le["estimated_minutes"]}
                   for mod in sorted(p["modules"], key=lambda mod: mod["position"])
                   for le in sorted(mod["lessons"], key=lambda le: le["position"])]
        uow.roadmaps.upsert_course({
            "course_id": p["course_id"], "tenant_id": p["tenant_id"], "visibility": p["visibility"],
            "slug": p["slug"], "title": p["title"], "estimated_hours": p["estimated_hours"],
            "skills": [{"name": s["name"], "esco_uri": s.get("esco_uri", ""), "level": s["level"]}
                       for s in p["skills"]],
            "lessons": lessons, "revision": p["revision"], "archived": False, "updated_at": self.clock()})

    @handles(COURSE_ARCHIVED)
    def _on_course_archived(self, tx: Transaction, envelope: dict) -> None:
        """Mark the course archived and regenerate every roadmap whose active version links it."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        uow.scope_to(p["tenant_id"])
        repo = uow.roadmaps
        repo.archive_course(p["tenant_id"], p["course_id"], self.clock())
        for tenant_id, roadmap_id in repo.roadmaps_linking(p["course_id"]):
            self._regenerate(uow, tenant_id, roadmap_id, "course_archived", f"event:{envelope['id']}")

    @handles(PROGRESS_UPDATED)
    def _on_progress_updated(self, tx: Transaction, envelope: dict) -> None:
        """Update the overlay's read model; emit achievements; catch falling behind."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        uow.scope_to(p["tenant_id"])
        repo = uow.roadmaps
        # Lock the learner's roadmap BEFORE writing progress: progress events of one learner's
        # courses arrive on different partitions, handled in concurrent transactions; unserialised,
        # each would see only its own course done and none would ever see the milestone done.
        roadmap = repo.roadmap_of(p["tenant_id"], p["user_id"], for_update=True)
        repo.upsert_progress({"tenant_id": p["tenant_id"], "user_id": p["user_id"], "course_id": p["course_id"],
                              "percent": p["percent"], "completed": p["completed"],
                              "lessons_done": p["lessons_done"], "lessons_total": p["lessons_total"],
                              "last_activity_at": p["last_activity_at"]})
        if roadmap is not None:
            self._settle(uow, roadmap)

    @handles(PROFILE_UPDATED)
    def _on_profile_updated(self, tx: Transaction, envelope: dict) -> None:
        """Keep the learner's skills and target role; a new target role regenerates the roadmap."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        tenant_id, user_id = p["tenant_id"], p["user_id"]
        uow.scope_to(tenant_id)
        repo = uow.roadmaps
        if not repo.upsert_learner(tenant_id, user_id, p["version"], p["changes"]):
            return  # an older change than one already applied
        role = (p["changes"].get("target_role") or "").strip()
        if "target_role" not in p["changed_fields"] or not role:
            return
        roadmap = repo.roadmap_of(tenant_id, user_id)
        if roadmap is None or roadmap.active_version == 0:
            return
        current = repo.version(tenant_id, str(roadmap.roadmap_id), roadmap.active_version)
        if domain.skill_key(current.target_role) != domain.skill_key(role):
            self._regenerate(uow, tenant_id, str(roadmap.roadmap_id), "target_role_changed",
                             f"event:{envelope['id']}", target_role=role)


def build(config: dict, proposer: Optional[Proposer] = None, clock: Clock = system_clock) -> RoadmapService:
    """The service layer for one process; only the gRPC process passes a proposer."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    return RoadmapService(store, proposer, Settings.from_config(config), clock)
