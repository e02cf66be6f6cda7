"""The roadmap service layer on a real, freshly migrated PostgreSQL, with ai_core over real gRPC."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.common.errors import NotFound, Unavailable, ValidationFailed
from careeros_services.roadmap.domain import ProposalRejected
from careeros_services.roadmap.proposer import AiCoreProposer
from careeros_services.roadmap.service import MILESTONE_ACHIEVED, ROADMAP_GENERATED, RoadmapService, Settings
from tests.polling import eventually
from tests.profile.support import outbox_rows
from tests.roadmap.support import (AiCoreServer, course_archived, course_published, profile_updated,
                                   progress_updated)


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("roadmap")


@pytest.fixture(scope="module")
def ai():
    server = AiCoreServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def catalog(store) -> dict:
    """Public platform courses, as lms publishes them."""
    service = RoadmapService(store)
    courses = {slug: course_published(slug, skills, hours=hours) for slug, skills, hours in [
        ("python-basics", [("Python", 3)], 20),
        ("sql-basics", [("SQL", 3)], 12),
        ("etl-pipelines", [("ETL pipelines", 3)], 25),
    ]}
    for env in courses.values():
        assert service.handle_event(env) is True
    return {slug: env["payload"]["course_id"] for slug, env in courses.items()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_service(store, ai, config, clock):
    made = []

    def make(address: str | None = None, **settings) -> RoadmapService:
        ai.servicer.mode = "ok"
        proposer = AiCoreProposer(config, address=address or ai.address)
        made.append(proposer)
        return RoadmapService(store, proposer, Settings(**{"saga_retry_s": 0.0, **settings}), clock)

    yield make
    for proposer in made:
        proposer.close()


@pytest.fixture
def service(make_service, ai, catalog) -> RoadmapService:
    ai.servicer.mode = "ok"
    return make_service()


@pytest.fixture
def learner() -> dict:
    return {"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "org_role": "owner", "plan_tier": "pro"}


def create(service, learner, role="Data Engineer", hours=10, **extra) -> dict:
    return service.create_roadmap(Caller(**learner), {"target_role": role, "hours_per_week": hours, **extra})


def by_skill(view: dict) -> dict:
    return {m["skill_id"]: m for m in view["milestones"]}


# --- generation and versions ---------------------------------------------------------------

def test_roadmap_from_goal_skips_known_skills_and_links_catalog_courses(service, learner, ai, catalog, store):
    assert service.handle_event(profile_updated(learner["tenant_id"], learner["user_id"], 2,
                                                skills=[{"name": "sql", "level": 4}])) is True
    view = create(service, learner, deadline="2027-01-05")

    request = ai.servicer.last_request
    assert request.target_role == "Data Engineer" and request.caller.plan_tier == "pro"
    assert list(request.known_skills) == []   # the whole role graph; the plan applies known skills
    assert view["version"] == view["active_version"] == 1 and view["is_active"]
    assert view["role_id"] == "data-engineer" and view["reason"] == "requested"
    ms = by_skill(view)
    assert [m["skill_id"] for m in view["milestones"]] == ["python", "sql", "etl", "airflow"]
    assert ms["sql"]["skipped"] and ms["sql"]["status"] == "skipped"
    assert [c["course_id"] for c in ms["python"]["courses"]] == [catalog["python-basics"]]
    assert [c["course_id"] for c in ms["etl"]["courses"]] == [catalog["etl-pipelines"]]  # matched by skill
    assert len(ms["etl"]["lessons"]) == 2 and ms["etl"]["status"] == "pending"
    assert all(w["hours"] <= 10 for w in view["schedule"]) and view["summary"]["total_hours"] == 62
    assert view["summary"]["fits_deadline"] is False and view["summary"]["hours_per_week_needed"] == 13  # 62 h in 5 weeks
    [generated] = outbox_rows(store, ROADMAP_GENERATED, view["roadmap_id"])
    contracts.validate(generated)
    assert generated["payload"]["reason"] == "requested" and generated["payload"]["milestones_total"] == 4


def test_new_request_is_a_new_version_and_old_versions_stay_readable(service, learner):
    first = create(service, learner)
    second = create(service, learner, role="ML Engineer", hours=5)
    assert second["roadmap_id"] == first["roadmap_id"] and second["version"] == 2
    old = service.get_roadmap(Caller(learner["tenant_id"], learner["user_id"]), first["roadmap_id"], 1)
    assert old["target_role"] == "Data Engineer" and not old["is_active"] and old["active_version"] == 2
    assert service.get_current_roadmap(Caller(learner["tenant_id"], learner["user_id"]))["target_role"] == "ML Engineer"
    versions = service.list_versions(Caller(learner["tenant_id"], learner["user_id"]), first["roadmap_id"])
    assert [(v["version"], v["is_active"], v["target_role"]) for v in versions["versions"]] == [
        (1, False, "Data Engineer"), (2, True, "ML Engineer")]
    with pytest.raises(NotFound):
        service.get_roadmap(Caller(learner["tenant_id"], learner["user_id"]), first["roadmap_id"], 9)


def test_roadmaps_are_private_to_their_learner_and_tenant(service, learner):
    view = create(service, learner)
    with pytest.raises(NotFound):
        service.get_roadmap(Caller(learner["tenant_id"], str(uuid.uuid4())), view["roadmap_id"])
    with pytest.raises(NotFound):
        service.get_roadmap(Caller(str(uuid.uuid4()), learner["user_id"]), view["roadmap_id"])
    with pytest.raises(NotFound):
        service.get_roadmap(Caller(learner["tenant_id"], learner["user_id"]), "not-a-uuid")


def test_bad_goal_names_the_fields(service, learner):
    with pytest.raises(ValidationFailed) as raised:
        service.create_roadmap(Caller(**learner), {"target_role": "", "hours_per_week": 0})
    assert set(raised.value.fields) == {"target_role", "hours_per_week"}


def test_provider_cycle_is_rejected_and_nothing_is_created(service, learner, ai):
    ai.servicer.mode = "cycle"
    with pytest.raises(ProposalRejected) as raised:
        create(service, learner)
    assert "cycle" in raised.value.detail
    with pytest.raises(NotFound):
        service.get_current_roadmap(Caller(learner["tenant_id"], learner["user_id"]))


# --- overlay, marks, achievements ----------------------------------------------------------

def test_progress_overlay_marks_and_achievement_closes_the_loop(service, learner, catalog, store, clock):
    view = create(service, learner)
    tenant, user, rid = learner["tenant_id"], learner["user_id"], view["roadmap_id"]
    assert service.handle_event(progress_updated(tenant, user, catalog["python-basics"], 50)) is True
    ms = by_skill(service.get_current_roadmap(Caller(tenant, user)))
    assert (ms["python"]["status"], ms["python"]["percent"]) == ("learning", 50)
    assert outbox_rows(store, MILESTONE_ACHIEVED, rid) == []

    done = progress_updated(tenant, user, catalog["python-basics"], 100)
    assert service.handle_event(done) is True
    assert service.handle_event(done) is False                       # redelivery changes nothing
    assert service.handle_event(progress_updated(tenant, user, catalog["python-basics"], 100)) is True
    [achieved] = outbox_rows(store, MILESTONE_ACHIEVED, rid)          # once, whatever the repeats
    contracts.validate(achieved)
    assert achieved["payload"] == {"roadmap_id": rid, "tenant_id": tenant, "user_id": user,
                                   "skill_name": "Python", "esco_uri": "", "level": 2,
                                   "evidence": [{"kind": "course_completed", "id": catalog["python-basics"]}]}
    current = service.get_current_roadmap(Caller(tenant, user))
    assert by_skill(current)["python"]["status"] == "done" and by_skill(current)["python"]["achieved"]

    marked = service.mark_milestone(Caller(tenant, user), rid, "sql", "done")
    assert by_skill(marked)["sql"]["status"] == "done" and by_skill(marked)["sql"]["marked"] == "done"
    assert by_skill(marked)["sql"]["tracked_status"] == "pending"
    assert len(outbox_rows(store, MILESTONE_ACHIEVED, rid)) == 1     # a mark is not evidence
    cleared = service.mark_milestone(Caller(tenant, user), rid, "sql", "")
    assert by_skill(cleared)["sql"]["status"] == "pending"
    with pytest.raises(ValidationFailed) as raised:
        service.mark_milestone(Caller(tenant, user), rid, "sql", "finished")
    assert "status" in raised.value.fields
    with pytest.raises(ValidationFailed):
        service.mark_milestone(Caller(tenant, user), rid, "cobol", "done")
    # python (20 h at level 2) done in week one of 10 h: ahead
    assert marked["progress"]["schedule_status"] == "ahead" and marked["progress"]["done_hours"] == 35


def test_achieved_skill_counts_as_known_in_the_next_generation(service, learner, catalog, ai):
    create(service, learner)
    service.handle_event(progress_updated(learner["tenant_id"], learner["user_id"], catalog["python-basics"], 100))
    python = by_skill(create(service, learner))["python"]
    assert python["skipped"] and python["known_level"] == 2 and python["status"] == "skipped"


# --- the regeneration saga -----------------------------------------------------------------

def test_target_role_change_processed_twice_yields_one_new_version(service, learner, store):
    view = create(service, learner)
    tenant, user, rid = learner["tenant_id"], learner["user_id"], view["roadmap_id"]
    event = profile_updated(tenant, user, 5, target_role="ML Engineer")
    assert service.handle_event(event) is True
    assert service.handle_event(event) is False
    # Even past the inbox (a DLQ replay into a fresh inbox, say) the trigger makes one saga.
    with store.transaction(tenant) as tx:
        assert service._regenerate(service.unit_of_work_in(tx), tenant, rid, "target_role_changed", f"event:{event['id']}") is None
    assert service.run_due() >= 1
    assert service.run_due() == 0
    current = service.get_current_roadmap(Caller(tenant, user))
    assert current["version"] == 2 and current["target_role"] == "ML Engineer"
    assert current["reason"] == "target_role_changed"
    sagas = [s for s in service.sagas(tenant, rid) if s["reason"] == "target_role_changed"]
    assert len(sagas) == 1 and sagas[0]["state"] == "committed" and sagas[0]["new_version"] == 2
    log = [(e["step"], e["outcome"]) for e in service.saga_record(tenant, sagas[0]["saga_id"])["log"]]
    assert log == [("reserve", "done"), ("propose", "done"), ("plan", "done"), ("commit", "done")]
    # The same role again (any case) is not a change worth a version.
    assert service.handle_event(profile_updated(tenant, user, 6, target_role="ml engineer")) is True
    assert service.run_due() == 0


def test_a_failing_step_keeps_the_current_version_and_records_why(service, learner, ai):
    from prometheus_client import REGISTRY

    def compensated() -> float:
        return REGISTRY.get_sample_value("careeros_roadmap_sagas_total",
                                         {"reason": "target_role_changed", "outcome": "compensated"}) or 0
    before = compensated()
    view = create(service, learner)
    tenant, user, rid = learner["tenant_id"], learner["user_id"], view["roadmap_id"]
    ai.servicer.mode = "unknown_prerequisite"
    service.handle_event(profile_updated(tenant, user, 3, target_role="ML Engineer"))
    service.run_due()
    current = service.get_current_roadmap(Caller(tenant, user))
    assert current["version"] == 1 and current["target_role"] == "Data Engineer"
    assert current["last_regeneration"]["state"] == "compensated"
    assert "quantum-basics" in current["last_regeneration"]["error"]
    [saga] = [s for s in service.sagas(tenant, rid) if s["reason"] == "target_role_changed"]
    record = service.saga_record(tenant, saga["saga_id"])
    assert record["state"] == "compensated" and record["plan"] is None
    steps = [(e["step"], e["outcome"]) for e in record["log"]]
    assert steps == [("reserve", "done"), ("propose", "done"), ("plan", "failed"),
                     ("propose", "compensated"), ("reserve", "compensated")]
    assert compensated() == before + 1


def test_provider_unavailable_is_retried_then_compensated(make_service, learner, catalog, ai, store):
    service = make_service()
    view = create(service, learner)
    tenant, user, rid = learner["tenant_id"], learner["user_id"], view["roadmap_id"]
    down = make_service(address=f"127.0.0.1:1", saga_max_attempts=2)  # nothing listens there
    service.handle_event(profile_updated(tenant, user, 4, target_role="ML Engineer"))
    assert down.run_due() == 1                    # attempt 1 fails: retried later
    [saga] = [s for s in down.sagas(tenant, rid) if s["reason"] == "target_role_changed"]
    assert down.saga_record(tenant, saga["saga_id"])["state"] == "started"
    assert down.run_due() == 1                    # attempt 2 fails: compensated
    record = down.saga_record(tenant, saga["saga_id"])
    assert record["state"] == "compensated" and record["attempts"] == 2
    assert "upstream_unavailable" in record["error"] or "circuit_open" in record["error"]
    assert down.get_current_roadmap(Caller(tenant, user))["version"] == 1


def test_unavailable_provider_on_request_answers_unavailable_and_keeps_nothing(make_service, learner, catalog):
    down = make_service(address="127.0.0.1:1")
    with pytest.raises(Unavailable):
        create(down, learner)
    with pytest.raises(NotFound):
        down.get_current_roadmap(Caller(learner["tenant_id"], learner["user_id"]))


def test_a_crash_mid_saga_resumes_from_the_last_step_on_the_recovery_sweep(service, learner, ai, store):
    create(service, learner)
    tenant, user = learner["tenant_id"], learner["user_id"]
    service.handle_event(profile_updated(tenant, user, 7, target_role="ML Engineer"))
    with store.transaction(None) as tx:
        [(t, saga_id)] = [row for row in service.store.database.execute_sql(
            "SELECT tenant_id::text, saga_id::text FROM saga_queue WHERE tenant_id = %s", (tenant,)).fetchall()]
        tx.db.execute_sql("UPDATE saga_queue SET lease_until = now() + interval '1 hour' WHERE saga_id = %s",
                          (saga_id,))
    calls = ai.servicer.calls
    service.run_saga(tenant, saga_id, max_steps=1)        # proposes, then "dies" holding the lease
    assert service.saga_record(tenant, saga_id)["state"] == "proposed"
    assert service.run_due() == 0                         # the lease still holds: nobody else runs it
    with store.transaction(None) as tx:                   # ... until it runs out
        tx.db.execute_sql("UPDATE saga_queue SET lease_until = now() - interval '1 second'")
    assert service.run_due() == 1
    assert ai.servicer.calls == calls + 1                 # resumed: the stored proposal was reused
    assert service.saga_record(tenant, saga_id)["state"] == "committed"
    assert service.get_current_roadmap(Caller(tenant, user))["target_role"] == "ML Engineer"


def test_archived_public_course_regenerates_roadmaps_in_every_tenant(make_service, ai, store):
    service = make_service()
    ai.servicer.mode = "ok"
    course = course_published("airflow-intro", [("Airflow", 2)], hours=12)
    assert service.handle_event(course) is True
    learners = [{"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())} for _ in range(2)]
    views = [create(service, who) for who in learners]
    assert all(course["payload"]["course_id"] in [c["course_id"] for c in by_skill(v)["airflow"]["courses"]]
               for v in views)
    archived = course_archived(course)
    assert service.handle_event(archived) is True
    while service.run_due():
        pass
    for who, view in zip(learners, views):
        current = service.get_current_roadmap(Caller(who["tenant_id"], who["user_id"]))
        assert current["version"] == 2 and current["reason"] == "course_archived"
        assert by_skill(current)["airflow"]["courses"] == []
        [generated] = outbox_rows(store, ROADMAP_GENERATED, view["roadmap_id"])[1:]
        assert generated["payload"]["reason"] == "course_archived"


def test_falling_behind_by_more_than_the_margin_regenerates_once_per_version(service, learner, catalog, clock):
    view = create(service, learner)
    tenant, user = learner["tenant_id"], learner["user_id"]
    clock.now += timedelta(weeks=1)  # one week, nothing done: behind by 1 week, within the 2-week margin
    service.handle_event(progress_updated(tenant, user, catalog["sql-basics"], 10))
    assert service.run_due() == 0
    clock.now += timedelta(weeks=3)
    service.handle_event(progress_updated(tenant, user, catalog["sql-basics"], 20))
    service.handle_event(progress_updated(tenant, user, catalog["sql-basics"], 30))
    assert service.get_current_roadmap(Caller(tenant, user))["progress"]["schedule_status"] == "behind"
    assert service.run_due() == 1
    current = service.get_current_roadmap(Caller(tenant, user))
    assert current["version"] == 2 and current["reason"] == "behind_schedule"
    assert current["summary"]["starts_on"] == clock.now.date().isoformat()
    assert current["progress"]["schedule_status"] != "behind"
    assert [s["reason"] for s in service.sagas(tenant, view["roadmap_id"])].count("behind_schedule") == 1


def test_schedule_sweep_catches_a_learner_who_stopped(service, learner, clock):
    create(service, learner)
    clock.now += timedelta(weeks=5)
    assert service.check_schedules() >= 1
    while service.run_due():
        pass
    assert service.get_current_roadmap(Caller(learner["tenant_id"], learner["user_id"]))["reason"] == "behind_schedule"


def test_catalog_keeps_the_newest_revision_and_tenant_courses_stay_in_their_tenant(service, learner, store):
    own = course_published("in-house-python", [("Python", 2)], tenant_id=learner["tenant_id"], revision=2)
    assert service.handle_event(own) is True
    view = create(service, learner)
    slugs = [c["slug"] for c in by_skill(view)["python"]["courses"]]
    assert "in-house-python" in slugs
    stranger = {"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}
    assert "in-house-python" not in [c["slug"] for c in by_skill(create(service, stranger))["python"]["courses"]]
    older = course_published("renamed", [("Python", 2)], tenant_id=learner["tenant_id"],
                             course_id=own["payload"]["course_id"], revision=1)
    assert service.handle_event(older) is True
    view = create(service, learner)
    assert "in-house-python" in [c["slug"] for c in by_skill(view)["python"]["courses"]]


def test_tables_force_row_level_security(store):
    with store.transaction(None) as tx:
        rows = dict(tx.db.execute_sql(
            "SELECT relname, relforcerowsecurity FROM pg_class WHERE relname IN ('roadmaps', 'roadmap_versions',"
            " 'regen_sagas', 'course_progress', 'catalog_courses', 'milestone_marks', 'achievements',"
            " 'learner_profiles')").fetchall())
        assert rows and all(rows.values()) and len(rows) == 8
        assert tx.db.execute_sql("SELECT count(*) FROM roadmaps").fetchone() == (0,)  # no tenant: nothing


def test_the_loop_closes_through_the_profile_service(service, catalog, store, fresh_store, ai):
    from careeros_services.profile.service import PROFILE_UPDATED, ProfileService
    from careeros_services.roadmap.persistence import RoadmapRepository
    from tests.profile.support import user_registered

    profiles = ProfileService(fresh_store("profile"))
    registered = user_registered()
    profiles.handle_event(registered)
    learner = {"tenant_id": registered["tenant_id"], "user_id": registered["payload"]["user_id"]}
    view = create(service, learner)
    service.handle_event(progress_updated(learner["tenant_id"], learner["user_id"], catalog["python-basics"], 100))

    [achieved] = outbox_rows(store, MILESTONE_ACHIEVED, view["roadmap_id"])
    assert profiles.handle_event(contracts.validate(achieved)) is True
    profile = profiles.get_profile(Caller(learner["tenant_id"], learner["user_id"]))
    assert {"name": "Python", "level": 2, "esco_uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"} in profile["skills"]
    assert profile["skill_evidence"]["python"]["evidence"] == achieved["payload"]["evidence"]

    [updated] = outbox_rows(profiles.store, PROFILE_UPDATED, learner["user_id"])
    assert service.handle_event(contracts.validate(updated)) is True
    with store.transaction(learner["tenant_id"]) as tx:
        seen = RoadmapRepository(tx.db).learner(learner["tenant_id"], learner["user_id"])
    assert {"name": "Python", "level": 2, "esco_uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"} in seen.skills
    with store.transaction(learner["tenant_id"]) as tx:   # forget the roadmap's own record: the profile's counts
        tx.db.execute_sql("DELETE FROM achievements WHERE user_id = %s", (learner["user_id"],))
    python = by_skill(create(service, learner))["python"]
    assert python["skipped"] and python["known_level"] == 2


def test_a_leased_saga_is_run_by_one_runner_only_and_the_nameko_side_cannot_run_sagas(service, learner, store):
    view = create(service, learner)
    service.handle_event(profile_updated(learner["tenant_id"], learner["user_id"], 9, target_role="ML Engineer"))
    from careeros_services.roadmap.persistence import RoadmapRepository
    with store.transaction(None) as tx:
        first = RoadmapRepository(tx.db).lease_due_sagas(60, limit=100)
    with store.transaction(None) as tx:
        second = RoadmapRepository(tx.db).lease_due_sagas(60, limit=100)
    assert [t for t, _ in first].count(learner["tenant_id"]) == 1 and second == []
    (saga_id,) = [s for t, s in first if t == learner["tenant_id"]]
    with pytest.raises(RuntimeError, match="cannot run roadmap sagas"):
        RoadmapService(store).run_saga(learner["tenant_id"], saga_id)   # built as in nameko: no proposer
    assert service.run_saga(learner["tenant_id"], saga_id) is None
    assert service.get_current_roadmap(Caller(learner["tenant_id"], learner["user_id"]))["version"] == 2
    with pytest.raises(ValidationFailed):
        service.sagas("nope", view["roadmap_id"])


RUNNER = """
import sys
from careeros_services.common.config import load_config
from careeros_services.roadmap.proposer import AiCoreProposer
from careeros_services.roadmap.service import build, Settings
config = load_config()
config["grpc"]["addresses"]["ai_core"] = sys.argv[1]
config["grpc"]["deadline_s"] = 60
config["roadmap"] = {**config.get("roadmap", {}), "saga_lease_s": 2, "propose_deadline_s": 60}
service = build(config, AiCoreProposer(config))
service.run_due(limit=100)
"""


def test_a_runner_killed_mid_step_is_recovered_by_the_next_sweep(service, learner, ai, store):
    import os
    import signal
    import subprocess
    import sys
    import time

    view = create(service, learner)
    tenant, user = learner["tenant_id"], learner["user_id"]
    service.handle_event(profile_updated(tenant, user, 11, target_role="ML Engineer"))
    with store.transaction(None) as tx:   # only this test's saga is due now
        tx.db.execute_sql("UPDATE saga_queue SET due_at = now() + interval '1 day' WHERE tenant_id <> %s", (tenant,))
    ai.servicer.mode = "slow"
    calls = ai.servicer.calls
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, ai.address], env=dict(os.environ),
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        deadline = time.monotonic() + 30
        while ai.servicer.calls == calls:     # the runner is inside ProposeRoadmap now
            assert runner.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert service.run_due() == 0         # its lease holds: nobody else takes the saga
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        ai.servicer.release.set()
    ai.servicer.mode = "ok"
    [saga] = [s for s in service.sagas(tenant, view["roadmap_id"]) if s["reason"] == "target_role_changed"]
    assert service.saga_record(tenant, saga["saga_id"])["state"] == "started"   # died before committing
    eventually(service.run_due, what="the 2 s lease to run out", timeout_s=10)
    assert service.saga_record(tenant, saga["saga_id"])["state"] == "committed"
    assert service.get_current_roadmap(Caller(tenant, user))["target_role"] == "ML Engineer"


def test_progress_of_two_courses_in_concurrent_transactions_still_achieves_the_milestone(
        service, learner, catalog, store, monkeypatch):
    """Progress events of one learner's courses are handled by different partitions at once. Each
    transaction pauses right after writing its progress; without serialising on the learner's
    roadmap both would read before the other commits, and no one would ever see the milestone done."""
    import threading

    from careeros_services.roadmap import persistence

    extra = course_published("python-practice", [("Python", 3)], hours=10)
    assert service.handle_event(extra) is True
    view = create(service, learner)
    tenant, user, rid = learner["tenant_id"], learner["user_id"], view["roadmap_id"]
    python_courses = {c["course_id"] for c in by_skill(view)["python"]["courses"]}
    assert python_courses == {catalog["python-basics"], extra["payload"]["course_id"]}

    barrier = threading.Barrier(2, timeout=3)
    upsert = persistence.RoadmapRepository.upsert_progress

    def upsert_then_wait_for_the_other(self, record):
        upsert(self, record)
        try:
            barrier.wait()  # both written, neither committed (unless one is blocked on the lock)
        except threading.BrokenBarrierError:
            pass
    monkeypatch.setattr(persistence.RoadmapRepository, "upsert_progress", upsert_then_wait_for_the_other)

    events = [progress_updated(tenant, user, course, 100) for course in sorted(python_courses)]
    threads = [threading.Thread(target=service.handle_event, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    [achieved] = outbox_rows(store, MILESTONE_ACHIEVED, rid)
    assert {e["id"] for e in achieved["payload"]["evidence"]} == python_courses


def test_progress_made_before_a_version_is_its_baseline_so_day_one_is_on_track(service, learner, catalog):
    tenant, user = learner["tenant_id"], learner["user_id"]
    assert service.handle_event(progress_updated(tenant, user, catalog["python-basics"], 50)) is True
    view = create(service, learner)          # python's course is half done before the plan starts
    assert by_skill(view)["python"]["percent"] > 0 and view["progress"]["done_hours"] > 0
    assert view["progress"]["weeks_ahead"] == 0 and view["progress"]["schedule_status"] == "on_track"
    assert "baseline_done_hours" not in view["summary"]
