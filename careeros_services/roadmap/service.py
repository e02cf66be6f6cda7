"""The roadmap service layer: what the nameko and gRPC entrypoints both call.

Generation is a persisted saga (``regen_sagas``), whatever starts it — a
learner's request, a changed target role, falling behind, an archived course:

    reserve   the saga row + its queue entry (+ the roadmap row on first use)
              compensation: dequeue; drop a roadmap that never got a version
    propose   ai_core's ProposeRoadmap over gRPC; the answer is stored
              compensation: none to undo at ai_core; the proposal is marked unused
    plan      the deterministic graph logic (domain.build_plan) checks and lays
              out the proposal; the plan is stored
              compensation: the plan is discarded
    commit    ONE transaction: the new version, the active pointer, the course
              directory and ``roadmap.generated`` (the pivot; nothing after it)

Each step's result and a log line are committed before the next step starts,
so a runner that dies resumes from the last committed step when its lease
runs out (the recovery sweep, :meth:`RoadmapService.run_due`). A failure at
any step compensates the steps done, keeps the current version active and
records why (on the saga and on the roadmap). A trigger makes at most one saga
(``UNIQUE (roadmap_id, trigger_key)``), so the same event processed twice
yields one new version.

grpcio does not run under eventlet: the nameko process (event handlers) only
*records* sagas; the gRPC process runs them (its saga runner thread, and the
CreateRoadmap call). A service built without a proposer cannot run a saga.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, Optional, Protocol

from prometheus_client import Counter

from bus.handlers import EventHandlingService, handles
from bus.store import ServiceStore, Transaction
from careeros_services.common.errors import DomainError, NotFound, Unavailable, ValidationFailed, require_uuids
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.roadmap import domain, persistence, rendering
from careeros_services.roadmap.domain import Goal, Proposal
from careeros_services.roadmap.persistence import RoadmapRecord, RoadmapRepository, SagaRecord
from bus.contracts import (  # event types, from contracts/events
    LMS_COURSE_PUBLISHED_V1 as COURSE_PUBLISHED,
    LMS_COURSE_ARCHIVED_V1 as COURSE_ARCHIVED,
    TRACKER_PROGRESS_UPDATED_V1 as PROGRESS_UPDATED,
    PROFILE_PROFILE_UPDATED_V1 as PROFILE_UPDATED,
    ROADMAP_ROADMAP_GENERATED_V1 as ROADMAP_GENERATED,
    ROADMAP_MILESTONE_ACHIEVED_V1 as MILESTONE_ACHIEVED,
)

log = logging.getLogger(__name__)

SERVICE = "roadmap"

TERMINAL = ("committed", "compensated")
SAGAS = Counter("careeros_roadmap_sagas_total",
                "Roadmap generation sagas that ended (committed, compensated) or were put off (retry).",
                ["reason", "outcome"])
STEP_AFTER = {"started": "propose", "proposed": "plan", "planned": "commit"}


class Proposer(Protocol):
    """Where proposals come from (ai_core's ProposeRoadmap, see ``proposer.py``)."""

    def propose(self, caller: dict, target_role: str, known_skills: list[dict]) -> Proposal: ...


@dataclass(frozen=True)
class Settings:
    behind_margin_weeks: float = 2.0
    saga_max_attempts: int = 3
    saga_retry_s: float = 5.0
    saga_lease_s: float = 60.0

    @classmethod
    def from_config(cls, config: dict) -> "Settings":
        section = config.get("roadmap") or {}
        return cls(behind_margin_weeks=float(section.get("behind_margin_weeks", 2.0)),
                   saga_max_attempts=int(section.get("saga_max_attempts", 3)),
                   saga_retry_s=float(section.get("saga_retry_s", 5.0)),
                   saga_lease_s=float(section.get("saga_lease_s", 60.0)))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _not_found() -> NotFound:
    return NotFound("No such roadmap for this learner.", code="roadmap_not_found")


class SagaFailed(Exception):
    """Internal: a step failed for good; carries the DomainError to record."""

    def __init__(self, error: DomainError):
        self.error = error


class RoadmapService(PersonalDataOwner, EventHandlingService):
    """Learners' roadmaps: generated through ai_core and the graph logic, versioned, tracked."""

    consumer_name = SERVICE
    personal_rows = persistence.PERSONAL_ROWS

    def __init__(self, store: ServiceStore, proposer: Optional[Proposer] = None,
                 settings: Settings = Settings(), clock: Callable[[], datetime] = _now):
        self.store = store
        self.proposer = proposer
        self.settings = settings
        self.clock = clock

    def _today(self) -> date:
        return self.clock().astimezone(timezone.utc).date()

    # --- queries -------------------------------------------------------------------------

    def get_current_roadmap(self, tenant_id: str, user_id: str) -> dict:
        """The caller's roadmap at its active version, with the progress overlay."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        with self.store.transaction(tenant_id) as tx:
            repo = RoadmapRepository(tx.db)
            roadmap = repo.roadmap_of(tenant_id, user_id)
            if roadmap is None or roadmap.active_version == 0:
                raise _not_found()
            return self._view(repo, roadmap, roadmap.active_version)

    def get_roadmap(self, tenant_id: str, user_id: str, roadmap_id: str, version: int = 0) -> dict:
        """One version of the caller's roadmap (0: the active one); older versions stay readable."""
        repo_args = self._owned(tenant_id, user_id, roadmap_id)
        with self.store.transaction(repo_args[0]) as tx:
            repo = RoadmapRepository(tx.db)
            roadmap = self._load_owned(repo, *repo_args)
            return self._view(repo, roadmap, version or roadmap.active_version)

    def list_versions(self, tenant_id: str, user_id: str, roadmap_id: str) -> dict:
        """Every version of the caller's roadmap, oldest first."""
        args = self._owned(tenant_id, user_id, roadmap_id)
        with self.store.transaction(args[0]) as tx:
            repo = RoadmapRepository(tx.db)
            roadmap = self._load_owned(repo, *args)
            versions = [{"version": v.version, "target_role": v.target_role, "reason": v.reason,
                         "milestones_total": len(v.plan["milestones"]), "created_at": v.created_at.isoformat(),
                         "is_active": v.version == roadmap.active_version}
                        for v in repo.versions(args[0], args[2])]
        return {"roadmap_id": args[2], "active_version": roadmap.active_version, "versions": versions}

    def render(self, tenant_id: str, user_id: str, roadmap_id: str, version: int, fmt: str) -> tuple[str, str]:
        """``(content_type, text)`` of the roadmap drawn as SVG or as a Mermaid flowchart."""
        if fmt not in ("svg", "mermaid"):
            raise ValidationFailed("Unknown picture format.", fields={"format": ["must be svg or mermaid"]})
        view = self.get_roadmap(tenant_id, user_id, roadmap_id, version)
        if fmt == "svg":
            return "image/svg+xml", rendering.render_svg(view)
        return "text/vnd.mermaid", rendering.render_mermaid(view)

    def _owned(self, tenant_id: str, user_id: str, roadmap_id: str) -> list[str]:
        try:
            return require_uuids(tenant_id=tenant_id, user_id=user_id) + [str(uuid.UUID(str(roadmap_id)))]
        except ValueError:
            raise _not_found() from None

    @staticmethod
    def _load_owned(repo: RoadmapRepository, tenant_id: str, user_id: str, roadmap_id: str) -> RoadmapRecord:
        roadmap = repo.roadmap(tenant_id, roadmap_id)
        if roadmap is None or str(roadmap.user_id) != user_id or roadmap.active_version == 0:
            raise _not_found()
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

    def mark_milestone(self, tenant_id: str, user_id: str, roadmap_id: str, skill_id: str, status: str) -> dict:
        """The learner's own status for a milestone of the active version ("" clears the mark).

        A mark changes what the roadmap shows; it is not tracked evidence, so it
        never emits ``milestone.achieved`` by itself.
        """
        args = self._owned(tenant_id, user_id, roadmap_id)
        if status not in domain.MARKABLE + ("",):
            raise ValidationFailed("Unknown milestone status.",
                                   fields={"status": [f"must be one of {', '.join(domain.MARKABLE)} or empty"]})
        with self.store.transaction(args[0]) as tx:
            repo = RoadmapRepository(tx.db)
            roadmap = self._load_owned(repo, *args)
            plan = repo.version(args[0], args[2], roadmap.active_version).plan
            if skill_id not in {m["skill_id"] for m in plan["milestones"]}:
                raise ValidationFailed("The active version has no such milestone.",
                                       fields={"skill_id": ["is not a milestone of the active version"]})
            repo.set_mark(args[0], args[2], skill_id, status, self.clock())
            return self._view(repo, roadmap, roadmap.active_version)

    def create_roadmap(self, caller: dict, request: dict) -> dict:
        """Generate the caller's roadmap for a goal (a new version when one exists); returns it.

        Runs the generation saga at once in this process (it must be one that
        may call gRPC). On failure the saga is compensated, the current version
        (if any) stays active, and the step's error is raised.
        """
        tenant_id, user_id = require_uuids(tenant_id=caller.get("tenant_id"), user_id=caller.get("user_id"))
        goal = domain.parse_goal(request, self._today())
        now = self.clock()
        with self.store.transaction(tenant_id) as tx:
            repo = RoadmapRepository(tx.db)
            roadmap = repo.create_roadmap({
                "roadmap_id": str(uuid.uuid4()), "tenant_id": tenant_id, "user_id": user_id,
                "org_role": caller.get("org_role") or "member", "plan_tier": caller.get("plan_tier") or "free",
                "created_at": now, "updated_at": now})
            saga_id = self._add_saga(repo, roadmap, "requested", f"request:{uuid.uuid4()}", goal, caller)
            repo.lease_saga(saga_id, self.settings.saga_lease_s)
        error = self.run_saga(tenant_id, saga_id, retry=False)
        if error is not None:
            raise error
        return self.get_current_roadmap(tenant_id, user_id)

    def _add_saga(self, repo: RoadmapRepository, roadmap: RoadmapRecord, reason: str, trigger_key: str,
                  goal: Goal, caller: Optional[dict] = None) -> Optional[str]:
        """Step 1 (reserve): the saga row and its queue entry; None when the trigger already has one."""
        now = self.clock()
        saga_id = str(uuid.uuid4())
        caller = caller or {}
        params = {"target_role": goal.target_role, "hours_per_week": goal.hours_per_week,
                  "deadline": goal.deadline.isoformat() if goal.deadline else None,
                  "caller": {"user_id": str(roadmap.user_id), "tenant_id": str(roadmap.tenant_id),
                             "org_role": caller.get("org_role") or roadmap.org_role,
                             "plan_tier": caller.get("plan_tier") or roadmap.plan_tier}}
        added = repo.add_saga({
            "saga_id": saga_id, "tenant_id": str(roadmap.tenant_id), "roadmap_id": str(roadmap.roadmap_id),
            "user_id": str(roadmap.user_id), "trigger_key": trigger_key, "reason": reason, "state": "started",
            "params": params, "base_version": roadmap.active_version,
            "log": [{"step": "reserve", "outcome": "done", "at": now.isoformat()}],
            "created_at": now, "updated_at": now})
        return saga_id if added else None

    def _regenerate(self, tx: Transaction, tenant_id: str, roadmap_id: str, reason: str, trigger_key: str,
                    target_role: Optional[str] = None) -> Optional[str]:
        """Record a regeneration saga of the active version's goal (the runner will run it)."""
        tx.scope_to(tenant_id)
        repo = RoadmapRepository(tx.db)
        roadmap = repo.roadmap(tenant_id, roadmap_id)
        if roadmap is None or roadmap.active_version == 0:
            return None
        current = repo.version(tenant_id, roadmap_id, roadmap.active_version)
        goal = Goal(target_role or current.target_role, current.hours_per_week,
                    current.deadline if current.deadline and current.deadline > self._today() else None)
        return self._add_saga(repo, roadmap, reason, trigger_key, goal)

    # --- the saga ------------------------------------------------------------------------

    def run_due(self, limit: int = 10) -> int:
        """The recovery sweep: run sagas that are due and not leased (or whose runner died)."""
        with self.store.transaction(None) as tx:
            due = RoadmapRepository(tx.db).lease_due_sagas(self.settings.saga_lease_s, limit)
        for tenant_id, saga_id in due:
            try:
                self.run_saga(tenant_id, saga_id)
            except Exception:  # noqa: BLE001 - one saga's bug must not stop the sweep; lease expiry retries
                log.exception("saga %s failed unexpectedly", saga_id)
        return len(due)

    def run_saga(self, tenant_id: str, saga_id: str, *, retry: bool = True,
                 max_steps: Optional[int] = None) -> Optional[DomainError]:
        """Run a leased saga from its last committed step to the end.

        Returns None when it committed, else the error it ended (or paused) on.
        ``retry``: a transient failure (ai_core unavailable) is retried later
        until ``saga_max_attempts``; without it the saga compensates at once.
        ``max_steps`` stops after that many steps, as a crash would (tests).
        """
        if self.proposer is None:
            raise RuntimeError("this process cannot run roadmap sagas (no proposer: not the gRPC process)")
        with self.store.transaction(tenant_id) as tx:
            saga = RoadmapRepository(tx.db).saga(tenant_id, saga_id)
        if saga is None:
            return _not_found()
        if saga.state in TERMINAL:  # finished before (commit and compensation dequeue it themselves)
            with self.store.transaction(tenant_id) as tx:
                RoadmapRepository(tx.db).dequeue_saga(saga_id)
        steps = 0
        while saga.state not in TERMINAL and (max_steps is None or steps < max_steps):
            step = STEP_AFTER[saga.state]
            try:
                saga = getattr(self, f"_step_{step}")(saga)  # the saga as committed after the step
            except SagaFailed as failed:
                return self._fail(tenant_id, saga_id, step, failed.error, retry)
            steps += 1
        if saga.state == "compensated":
            return DomainError(saga.error, code="roadmap_saga_failed")
        return None

    def _known_skills(self, repo: RoadmapRepository, tenant_id: str, user_id: str) -> list[dict]:
        learner = repo.learner(tenant_id, user_id)
        skills = list(learner.skills) if learner else []
        skills += repo.achieved_skills(tenant_id, user_id)
        known = domain.known_from(skills)
        named = {domain.learner_skill_key(s["name"], s.get("esco_uri") or ""): s for s in skills}
        return [{"name": named[k]["name"], "esco_uri": named[k].get("esco_uri") or "", "level": level}
                for k, level in sorted(known.items())]

    def _step_propose(self, saga: SagaRecord) -> SagaRecord:
        # The whole role graph is asked for (no known skills): a proposal trimmed by
        # the learner's skills may name prerequisites it left out, which the graph
        # check must reject; and the roadmap shows known skills as skipped milestones.
        # The learner's skills are applied by the deterministic plan (step "plan").
        try:
            proposal = self.proposer.propose(saga.params["caller"], saga.params["target_role"], [])
        except DomainError as error:
            raise SagaFailed(error) from None
        return self._advance(saga, "proposed", "propose", proposal=proposal.to_dict())

    def _step_plan(self, saga: SagaRecord) -> SagaRecord:
        tenant_id, user_id = str(saga.tenant_id), str(saga.user_id)
        params = saga.params
        goal = Goal(params["target_role"], params["hours_per_week"],
                    date.fromisoformat(params["deadline"]) if params["deadline"] else None)
        with self.store.transaction(tenant_id) as tx:
            repo = RoadmapRepository(tx.db)
            known = domain.known_from(self._known_skills(repo, tenant_id, user_id))
            catalog = repo.catalog(tenant_id)
            progress = repo.progress(tenant_id, user_id)
            marks = repo.marks(tenant_id, str(saga.roadmap_id))
        try:
            plan = domain.build_plan(Proposal.from_dict(saga.proposal), known, catalog, goal, self._today(),
                                     progress=progress, marks=marks)
        except DomainError as error:
            raise SagaFailed(error) from None
        return self._advance(saga, "planned", "plan", plan=plan)

    def _step_commit(self, saga: SagaRecord) -> SagaRecord:
        tenant_id, roadmap_id, saga_id = str(saga.tenant_id), str(saga.roadmap_id), str(saga.saga_id)
        now = self.clock()
        with self.store.transaction(tenant_id, causation_id=None) as tx:
            repo = RoadmapRepository(tx.db)
            current = repo.saga(tenant_id, saga_id, for_update=True)
            if current.state != "planned":  # another runner got here first
                return current
            roadmap = repo.roadmap(tenant_id, roadmap_id, for_update=True)
            if roadmap is None:
                raise SagaFailed(_not_found())
            version = repo.max_version(tenant_id, roadmap_id) + 1
            plan, params = current.plan, current.params
            repo.add_version({"roadmap_id": roadmap_id, "version": version, "tenant_id": tenant_id,
                              "target_role": params["target_role"], "hours_per_week": params["hours_per_week"],
                              "deadline": date.fromisoformat(params["deadline"]) if params["deadline"] else None,
                              "reason": current.reason, "saga_id": saga_id, "plan": plan, "created_at": now})
            regen = {"saga_id": saga_id, "reason": current.reason, "state": "committed", "error": "",
                     "updated_at": now.isoformat()}
            repo.set_last_regeneration(tenant_id, roadmap_id, regen, now, active_version=version)
            repo.set_directory(tenant_id, roadmap_id,
                               [c["course_id"] for m in plan["milestones"] for c in m["courses"]])
            tx.publish(ROADMAP_GENERATED, aggregate_id=roadmap_id, payload={
                "roadmap_id": roadmap_id, "version": version, "tenant_id": tenant_id,
                "user_id": str(roadmap.user_id), "target_role": params["target_role"],
                "milestones_total": len(plan["milestones"]), "reason": current.reason})
            current.state, current.new_version, current.updated_at = "committed", version, now
            current.log = current.log + [{"step": "commit", "outcome": "done", "at": now.isoformat(),
                                          "detail": f"version {version}"}]
            repo.save_saga(current)
            repo.dequeue_saga(saga_id)
            SAGAS.labels(current.reason, "committed").inc()
            roadmap.active_version = version
            # Courses of the new version may already be complete: settle achievements now.
            self._settle(tx, repo, roadmap, check_behind=False, plan=plan)
        return current

    def _advance(self, saga: SagaRecord, state: str, step: str, **result) -> SagaRecord:
        now = self.clock()
        with self.store.transaction(str(saga.tenant_id)) as tx:
            repo = RoadmapRepository(tx.db)
            current = repo.saga(str(saga.tenant_id), str(saga.saga_id), for_update=True)
            if current.state != saga.state:  # another runner advanced it meanwhile: keep theirs
                return current
            for name, value in result.items():
                setattr(current, name, value)
            current.state, current.updated_at = state, now
            current.log = current.log + [{"step": step, "outcome": "done", "at": now.isoformat()}]
            repo.save_saga(current)
        return current

    def _fail(self, tenant_id: str, saga_id: str, step: str, error: DomainError, retry: bool) -> DomainError:
        """A step failed: retry a transient failure later, else compensate the steps done."""
        now = self.clock()
        reason = f"{step}: {error.code}: {error.detail}"
        with self.store.transaction(tenant_id) as tx:
            repo = RoadmapRepository(tx.db)
            saga = repo.saga(tenant_id, saga_id, for_update=True)
            saga.attempts += 1
            transient = isinstance(error, Unavailable)
            if retry and transient and saga.attempts < self.settings.saga_max_attempts:
                saga.log = saga.log + [{"step": step, "outcome": "retry", "at": now.isoformat(), "detail": reason}]
                saga.updated_at = now
                repo.save_saga(saga)
                repo.retry_saga_later(saga_id, self.settings.saga_retry_s * 2 ** (saga.attempts - 1))
                SAGAS.labels(saga.reason, "retry").inc()
                return error
            entries = [{"step": step, "outcome": "failed", "at": now.isoformat(), "detail": reason}]
            # Compensations, newest step first.
            if saga.plan is not None:
                saga.plan = None
                entries.append({"step": "plan", "outcome": "compensated", "at": now.isoformat(),
                                "detail": "plan discarded"})
            if saga.proposal is not None:
                entries.append({"step": "propose", "outcome": "compensated", "at": now.isoformat(),
                                "detail": "proposal kept for the record, not applied (nothing to undo at ai_core)"})
            repo.dequeue_saga(saga_id)
            dropped = repo.delete_roadmap_without_versions(tenant_id, str(saga.roadmap_id))
            entries.append({"step": "reserve", "outcome": "compensated", "at": now.isoformat(),
                            "detail": "released" + ("; empty roadmap removed" if dropped else
                                                    f"; version {saga.base_version} stays active")})
            saga.state, saga.error, saga.updated_at = "compensated", reason, now
            saga.log = saga.log + entries
            repo.save_saga(saga)
            if not dropped:
                repo.set_last_regeneration(tenant_id, str(saga.roadmap_id), {
                    "saga_id": saga_id, "reason": saga.reason, "state": "compensated", "error": reason,
                    "updated_at": now.isoformat()}, now)
        SAGAS.labels(saga.reason, "compensated").inc()
        log.warning("roadmap saga %s compensated: %s", saga_id, reason)
        return error

    def saga_record(self, tenant_id: str, saga_id: str) -> Optional[dict]:
        """A saga's persisted state and log (operators, tests)."""
        with self.store.transaction(tenant_id) as tx:
            saga = RoadmapRepository(tx.db).saga(tenant_id, saga_id)
        if saga is None:
            return None
        return {k: getattr(saga, k) for k in ("state", "reason", "trigger_key", "error", "attempts", "log",
                                              "base_version", "new_version", "proposal", "plan")}

    def sagas(self, tenant_id: str, roadmap_id: str) -> list[dict]:
        """A roadmap's regeneration sagas, oldest first (operators: ``n.rpc.roadmap.sagas``)."""
        tenant_id, roadmap_id = require_uuids(tenant_id=tenant_id, roadmap_id=roadmap_id)
        with self.store.transaction(tenant_id) as tx:
            records = RoadmapRepository(tx.db).sagas_of(tenant_id, roadmap_id)
        return [{"saga_id": str(s.saga_id), "state": s.state, "reason": s.reason, "trigger_key": s.trigger_key,
                 "error": s.error, "new_version": s.new_version} for s in records]

    # --- progress and achievements ---------------------------------------------------------

    def _settle(self, tx: Transaction, repo: RoadmapRepository, roadmap: RoadmapRecord,
                check_behind: bool = True, plan: Optional[dict] = None) -> Optional[dict]:
        """Emit ``milestone.achieved`` for milestones newly done with tracked evidence, and
        record a regeneration when the learner is behind by more than the margin."""
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
                tx.publish(MILESTONE_ACHIEVED, aggregate_id=roadmap_id, payload={
                    "roadmap_id": roadmap_id, "tenant_id": tenant_id, "user_id": user_id,
                    "skill_name": m["skill_name"], "esco_uri": m["esco_uri"], "level": m["level"],
                    "evidence": evidence})
        if check_behind and view["regenerate"]:
            # One behind-schedule regeneration per version, however many events see it.
            self._regenerate(tx, tenant_id, roadmap_id, "behind_schedule",
                             f"behind:v{roadmap.active_version}")
        return view

    def check_schedules(self) -> int:
        """Periodic sweep: a learner who stops learning sends no events, so look at every roadmap."""
        with self.store.transaction(None) as tx:
            rows = tx.db.execute_sql("SELECT tenant_id, roadmap_id FROM roadmap_directory").fetchall()
        recorded = 0
        for tenant_id, roadmap_id in rows:
            with self.store.transaction(str(tenant_id)) as tx:
                repo = RoadmapRepository(tx.db)
                roadmap = repo.roadmap(str(tenant_id), str(roadmap_id))
                if roadmap is not None:
                    view = self._settle(tx, repo, roadmap)
                    recorded += bool(view and view["regenerate"])
        return recorded

    # --- event handlers --------------------------------------------------------------------

    @handles(COURSE_PUBLISHED)
    def _on_course_published(self, tx: Transaction, envelope: dict) -> None:
        """Keep the catalog read model (newest revision wins)."""
        p = envelope["payload"]
        tx.scope_to(p["tenant_id"])
        lessons = [{"lesson_id": le["lesson_id"], "title": le["title"], "required": le["required"],
                    "estimated_minutes": le["estimated_minutes"]}
                   for mod in sorted(p["modules"], key=lambda mod: mod["position"])
                   for le in sorted(mod["lessons"], key=lambda le: le["position"])]
        RoadmapRepository(tx.db).upsert_course({
            "course_id": p["course_id"], "tenant_id": p["tenant_id"], "visibility": p["visibility"],
            "slug": p["slug"], "title": p["title"], "estimated_hours": p["estimated_hours"],
            "skills": [{"name": s["name"], "esco_uri": s.get("esco_uri", ""), "level": s["level"]}
                       for s in p["skills"]],
            "lessons": lessons, "revision": p["revision"], "archived": False, "updated_at": self.clock()})

    @handles(COURSE_ARCHIVED)
    def _on_course_archived(self, tx: Transaction, envelope: dict) -> None:
        """Mark the course archived and regenerate every roadmap whose active version links it."""
        p = envelope["payload"]
        tx.scope_to(p["tenant_id"])
        repo = RoadmapRepository(tx.db)
        repo.archive_course(p["tenant_id"], p["course_id"], self.clock())
        for tenant_id, roadmap_id in repo.roadmaps_linking(p["course_id"]):
            self._regenerate(tx, tenant_id, roadmap_id, "course_archived", f"event:{envelope['id']}")

    @handles(PROGRESS_UPDATED)
    def _on_progress_updated(self, tx: Transaction, envelope: dict) -> None:
        """Update the overlay's read model; emit achievements; catch falling behind."""
        p = envelope["payload"]
        tx.scope_to(p["tenant_id"])
        repo = RoadmapRepository(tx.db)
        # Lock the learner's roadmap BEFORE writing progress: progress events of one learner's
        # courses arrive on different partitions, handled in concurrent transactions; unserialised,
        # each would see only its own course done and none would ever see the milestone done.
        roadmap = repo.roadmap_of(p["tenant_id"], p["user_id"], for_update=True)
        repo.upsert_progress({"tenant_id": p["tenant_id"], "user_id": p["user_id"], "course_id": p["course_id"],
                              "percent": p["percent"], "completed": p["completed"],
                              "lessons_done": p["lessons_done"], "lessons_total": p["lessons_total"],
                              "last_activity_at": p["last_activity_at"]})
        if roadmap is not None:
            self._settle(tx, repo, roadmap)

    @handles(PROFILE_UPDATED)
    def _on_profile_updated(self, tx: Transaction, envelope: dict) -> None:
        """Keep the learner's skills and target role; a new target role regenerates the roadmap."""
        p = envelope["payload"]
        tenant_id, user_id = p["tenant_id"], p["user_id"]
        tx.scope_to(tenant_id)
        repo = RoadmapRepository(tx.db)
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
            self._regenerate(tx, tenant_id, str(roadmap.roadmap_id), "target_role_changed",
                             f"event:{envelope['id']}", target_role=role)


def build(config: dict, proposer: Optional[Proposer] = None) -> RoadmapService:
    """The service layer for one process; only the gRPC process passes a proposer."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    return RoadmapService(store, proposer, Settings.from_config(config))
