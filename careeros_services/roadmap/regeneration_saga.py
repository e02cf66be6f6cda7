"""The roadmap regeneration saga: how a roadmap gets a new version.

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

A mixin of :class:`~careeros_services.roadmap.service.RoadmapService`: it uses
the service's store, proposer, settings and clock, and its ``_settle`` (the
achievements of a committed version).
"""
from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import TYPE_CHECKING, Optional, Protocol

from prometheus_client import Counter

from bus.store import ServiceStore
from careeros_services.common.clock import Clock
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError, NotFound, Unavailable, require_uuids
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork
from careeros_services.roadmap import domain
from careeros_services.roadmap.domain import Goal, Proposal
from careeros_services.roadmap.events import ROADMAP_GENERATED
from careeros_services.roadmap.persistence import RoadmapRecord, RoadmapRepository, RoadmapUnitOfWork, SagaRecord

if TYPE_CHECKING:
    from careeros_services.roadmap.settings import Settings

log = logging.getLogger(__name__)

TERMINAL = ("committed", "compensated")
SAGAS = Counter("careeros_roadmap_sagas_total",
                "Roadmap generation sagas that ended (committed, compensated) or were put off (retry).",
                ["reason", "outcome"])
STEP_AFTER = {"started": "propose", "proposed": "plan", "planned": "commit"}


class Proposer(Protocol):
    """Where proposals come from (ai_core's ProposeRoadmap, see ``proposer.py``)."""

    def propose(self, caller: Caller, target_role: str, known_skills: list[dict]) -> Proposal: ...


def roadmap_not_found() -> NotFound:
    return NotFound("No such roadmap for this learner.", code="roadmap_not_found")


class SagaFailed(Exception):
    """Internal: a step failed for good; carries the DomainError to record."""

    def __init__(self, error: DomainError):
        self.error = error


class RegenerationSaga(ServiceWithUnitOfWork[RoadmapUnitOfWork]):
    """Reserve, propose, plan, commit; compensation; the recovery sweep."""

    store: ServiceStore
    proposer: Optional[Proposer]
    settings: Settings
    clock: Clock

    def _add_saga(self, repo: RoadmapRepository, roadmap: RoadmapRecord, reason: str, trigger_key: str,
                  goal: Goal, caller: Optional[Caller] = None) -> Optional[str]:
        """Step 1 (reserve): the saga row and its queue entry; None when the trigger already has one."""
        now = self.clock()
        saga_id = str(uuid.uuid4())
        params = {"target_role": goal.target_role, "hours_per_week": goal.hours_per_week,
                  "deadline": goal.deadline.isoformat() if goal.deadline else None,
                  "caller": {"user_id": str(roadmap.user_id), "tenant_id": str(roadmap.tenant_id),
                             "org_role": (caller and caller.org_role) or roadmap.org_role,
                             "plan_tier": (caller and caller.plan_tier) or roadmap.plan_tier}}
        added = repo.add_saga({
            "saga_id": saga_id, "tenant_id": str(roadmap.tenant_id), "roadmap_id": str(roadmap.roadmap_id),
            "user_id": str(roadmap.user_id), "trigger_key": trigger_key, "reason": reason, "state": "started",
            "params": params, "base_version": roadmap.active_version,
            "log": [{"step": "reserve", "outcome": "done", "at": now.isoformat()}],
            "created_at": now, "updated_at": now})
        return saga_id if added else None

    def _regenerate(self, uow: RoadmapUnitOfWork, tenant_id: str, roadmap_id: str, reason: str, trigger_key: str,
                    target_role: Optional[str] = None) -> Optional[str]:
        """Record a regeneration saga of the active version's goal (the runner will run it)."""
        uow.scope_to(tenant_id)
        repo = uow.roadmaps
        roadmap = repo.roadmap(tenant_id, roadmap_id)
        if roadmap is None or roadmap.active_version == 0:
            return None
        current = repo.version(tenant_id, roadmap_id, roadmap.active_version)
        goal = Goal(target_role or current.target_role, current.hours_per_week,
                    current.deadline if current.deadline and current.deadline > self._today() else None)
        return self._add_saga(repo, roadmap, reason, trigger_key, goal)

    def run_due(self, limit: int = 10) -> int:
        """The recovery sweep: run sagas that are due and not leased (or whose runner died)."""
        with self.unit_of_work(None) as uow:
            due = uow.roadmaps.lease_due_sagas(self.settings.saga_lease_s, limit)
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
        with self.unit_of_work(tenant_id) as uow:
            saga = uow.roadmaps.saga(tenant_id, saga_id)
        if saga is None:
            return roadmap_not_found()
        if saga.state in TERMINAL:  # finished before (commit and compensation dequeue it themselves)
            with self.unit_of_work(tenant_id) as uow:
                uow.roadmaps.dequeue_saga(saga_id)
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
            proposal = self.proposer.propose(Caller(**saga.params["caller"]), saga.params["target_role"], [])
        except DomainError as error:
            raise SagaFailed(error) from None
        return self._advance(saga, "proposed", "propose", proposal=proposal.to_dict())

    def _step_plan(self, saga: SagaRecord) -> SagaRecord:
        tenant_id, user_id = str(saga.tenant_id), str(saga.user_id)
        params = saga.params
        goal = Goal(params["target_role"], params["hours_per_week"],
                    date.fromisoformat(params["deadline"]) if params["deadline"] else None)
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.roadmaps
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
        with self.unit_of_work(tenant_id, causation_id=None) as uow:
            repo = uow.roadmaps
            current = repo.saga(tenant_id, saga_id, for_update=True)
            if current.state != "planned":  # another runner got here first
                return current
            roadmap = repo.roadmap(tenant_id, roadmap_id, for_update=True)
            if roadmap is None:
                raise SagaFailed(roadmap_not_found())
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
            uow.publish(ROADMAP_GENERATED, aggregate_id=roadmap_id, payload={
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
            self._settle(uow, roadmap, check_behind=False, plan=plan)
        return current

    def _advance(self, saga: SagaRecord, state: str, step: str, **result) -> SagaRecord:
        now = self.clock()
        with self.unit_of_work(str(saga.tenant_id)) as uow:
            repo = uow.roadmaps
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
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.roadmaps
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
        with self.unit_of_work(tenant_id) as uow:
            saga = uow.roadmaps.saga(tenant_id, saga_id)
        if saga is None:
            return None
        return {k: getattr(saga, k) for k in ("state", "reason", "trigger_key", "error", "attempts", "log",
                                              "base_version", "new_version", "proposal", "plan")}

    def sagas(self, tenant_id: str, roadmap_id: str) -> list[dict]:
        """A roadmap's regeneration sagas, oldest first (operators: ``n.rpc.roadmap.sagas``)."""
        tenant_id, roadmap_id = require_uuids(tenant_id=tenant_id, roadmap_id=roadmap_id)
        with self.unit_of_work(tenant_id) as uow:
            records = uow.roadmaps.sagas_of(tenant_id, roadmap_id)
        return [{"saga_id": str(s.saga_id), "state": s.state, "reason": s.reason, "trigger_key": s.trigger_key,
                 "error": s.error, "new_version": s.new_version} for s in records]
