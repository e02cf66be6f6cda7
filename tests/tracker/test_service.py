"""The tracker service layer against a real, freshly migrated PostgreSQL database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.common.errors import Forbidden
from careeros_services.tracker import persistence
from careeros_services.tracker.domain import PLATFORM_TENANT, InvalidStatement, StatementConflict
from careeros_services.tracker.service import ENROLLMENT_COMPLETED, PROGRESS_UPDATED, STATEMENT_RECORDED, TrackerService
from tests.concurrency import deadlocks, run_at_once
from tests.tracker.support import activity_recorded, course_published, envelope, new_id, outbox, statement


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("tracker")


@pytest.fixture(scope="module")
def service(store) -> TrackerService:
    return TrackerService(store)


@pytest.fixture
def learner() -> tuple[str, str]:
    return new_id(), new_id()  # (tenant_id, user_id)


def count(store, tenant_id, table: str, where: str = "TRUE", params=()) -> int:
    with store.transaction(tenant_id) as tx:
        return tx.db.execute_sql(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]


def events_for(store, event_type: str, **match) -> list[dict]:
    return [e for e in outbox(store, event_type) if all(e["payload"].get(k) == v for k, v in match.items())]


def ago(**kw) -> str:
    return (datetime.now(timezone.utc) - timedelta(**kw)).isoformat().replace("+00:00", "Z")


# --- schema --------------------------------------------------------------------------------

def test_models_match_the_migrated_tables(store):
    with store.transaction(None) as tx:
        for model in persistence.MODELS:
            columns = {r[0] for r in tx.db.execute_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                (model._meta.table_name,)).fetchall()}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, model._meta.table_name


def test_learner_tables_force_row_level_security(store):
    with store.transaction(None) as tx:
        rows = dict(tx.db.execute_sql(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
            (["statements", "lesson_progress", "course_progress", "learner_days", "learner_goals",
              "course_structures"],)).fetchall())
    assert len(rows) == 6 and all(rows.values())


# --- ingestion, idempotency ------------------------------------------------------------------

def test_replaying_the_same_statements_counts_once(service, store, learner):
    tenant, user = learner
    course, lesson = new_id(), new_id()
    batch = [statement(user, "experienced", lesson_id=lesson, course_id=course, duration="PT10M",
                       statement_id=new_id(), timestamp=ago(minutes=30)),
             statement(user, "completed", lesson_id=lesson, course_id=course, duration="PT5M",
                       statement_id=new_id(), timestamp=ago(minutes=20))]

    first = service.record_statements(Caller(tenant, user), batch)
    again = service.record_statements(Caller(tenant, user), batch)

    assert first["stored"] == 2 and first["duplicates"] == 0
    assert again == {"statement_ids": first["statement_ids"], "stored": 0, "duplicates": 2}
    assert count(store, tenant, "statements") == 2
    assert len(events_for(store, STATEMENT_RECORDED, user_id=user)) == 2
    [updated] = events_for(store, PROGRESS_UPDATED, user_id=user)  # one per request and course, not per replay
    contracts.validate(updated)
    assert updated["payload"]["time_spent_s"] == 900 and updated["payload"]["course_id"] == course
    progress = service.get_progress(Caller(tenant, user, "member"))
    assert progress["courses"][0]["time_spent_s"] == 900
    assert progress["total_time_spent_s"] == 900


def test_same_id_with_other_content_is_a_conflict_and_keeps_nothing_of_the_request(service, store, learner):
    tenant, user = learner
    sid = new_id()
    service.record_statements(Caller(tenant, user), statement(user, "experienced", statement_id=sid))
    other = new_id()
    with pytest.raises(StatementConflict) as caught:
        service.record_statements(Caller(tenant, user), [statement(user, "experienced", statement_id=other),
                                                 statement(user, "completed", statement_id=sid)])
    assert caught.value.status == 409 and sid in caught.value.fields["id"][0]
    assert count(store, tenant, "statements") == 1  # the batch was all or nothing
    assert count(store, tenant, "statements", "statement_id = %s", (other,)) == 0


def test_statement_without_id_or_timestamp_gets_them(service, learner):
    tenant, user = learner
    result = service.record_statements(Caller(tenant, user), statement(user, "launched"))
    [stored] = service.list_statements(Caller(tenant, user, "member"))["statements"]
    assert stored["id"] == result["statement_ids"][0] and stored["timestamp"] and stored["stored"]
    assert stored["version"] == "1.0.3"


def test_invalid_statement_names_the_field_and_stores_nothing(service, store, learner):
    tenant, user = learner
    bad = statement(user)
    bad["verb"] = {"display": {"en": "did"}}
    with pytest.raises(InvalidStatement) as caught:
        service.record_statements(Caller(tenant, user), [statement(user), bad])
    assert "[1].verb.id" in caught.value.fields
    assert count(store, tenant, "statements") == 0


def test_a_learner_cannot_record_someone_elses_statement(service, learner):
    tenant, user = learner
    with pytest.raises(Forbidden) as caught:
        service.record_statements(Caller(tenant, user), statement(new_id()))
    assert caught.value.code == "actor_not_caller"


# --- progress ----------------------------------------------------------------------------------

def test_progress_reaches_100_from_structure_and_statements(service, store, learner):
    tenant, user = learner
    course = new_id()
    lessons = [new_id(), new_id(), new_id()]
    assert service.handle_event(course_published(tenant, course, [(lessons[0], True), (lessons[1], True),
                                                                  (lessons[2], False)])) is True
    service.record_statements(Caller(tenant, user), statement(user, "completed", lesson_id=lessons[0], course_id=course))
    assert service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]["percent"] == 50
    service.record_statements(Caller(tenant, user), statement(user, "failed", lesson_id=lessons[1], course_id=course))
    mid = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]
    assert (mid["percent"], mid["lessons_done"], mid["required_done"]) == (50, 1, False)
    service.record_statements(Caller(tenant, user), [
        statement(user, "passed", lesson_id=lessons[1], course_id=course),
        statement(user, "completed", lesson_id=lessons[2], course_id=course, duration="PT1H")])

    course_progress = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]
    # Every lesson done, yet not *completed*: that is the LMS's call, which has not come yet.
    assert course_progress["percent"] == 100 and course_progress["completed"] is False
    assert course_progress["lessons_done"] == course_progress["lessons_total"] == 3
    assert course_progress["required_done"] is True and course_progress["time_spent_s"] == 3600
    assert [l["done"] for l in course_progress["lessons"]] == [True, True, True]
    last = events_for(store, PROGRESS_UPDATED, user_id=user, course_id=course)[-1]["payload"]
    assert (last["percent"], last["completed"], last["lessons_total"]) == (100, False, 3)


def test_the_lms_completion_event_completes_the_course_at_100_percent(service, store, learner):
    tenant, user = learner
    course, lessons = new_id(), [new_id(), new_id()]
    service.handle_event(course_published(tenant, course, [(lessons[0], True), (lessons[1], True)]))
    service.record_statements(Caller(tenant, user), statement(user, "completed", lesson_id=lessons[0], course_id=course))
    assert service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]["percent"] == 50
    # The LMS judged the course complete (its own records saw the second lesson, the statement is still on its way).
    completed = envelope(ENROLLMENT_COMPLETED, tenant, new_id(), {
        "enrollment_id": new_id(), "course_id": course, "user_id": user, "tenant_id": tenant, "revision": 1,
        "certificate_id": new_id(), "completed_at": "2026-01-01T00:00:00+00:00"})
    assert service.handle_event(completed) is True and service.handle_event(completed) is False
    after = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]
    assert (after["percent"], after["completed"], after["required_done"], after["lessons_done"]) == (100, True, True, 1)
    last = events_for(store, PROGRESS_UPDATED, user_id=user, course_id=course)[-1]["payload"]
    assert (last["percent"], last["completed"]) == (100, True)
    # Later activity keeps it complete (completion is never undone by statements).
    service.record_statements(Caller(tenant, user), statement(user, "failed", lesson_id=lessons[1], course_id=course))
    again = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]
    assert (again["percent"], again["completed"]) == (100, True)


def test_statements_before_the_structure_are_recomputed_when_it_arrives(service, store, learner):
    tenant, user = learner
    course = new_id()
    lessons = [new_id(), new_id()]
    service.record_statements(Caller(tenant, user), [
        statement(user, "completed", lesson_id=lessons[0], course_id=course, duration="PT3M"),
        # no parent: the course is found later, through the structure
        statement(user, "completed", lesson_id=lessons[1], duration="PT2M")])
    before = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]
    assert (before["percent"], before["lessons_total"], before["structure_known"]) == (0, 0, False)

    service.handle_event(course_published(tenant, course, [(lessons[0], True), (lessons[1], True)]))

    after = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]
    assert (after["percent"], after["lessons_done"], after["lessons_total"]) == (100, 2, 2)
    assert after["time_spent_s"] == 300  # the lesson reported without its course counts too
    assert events_for(store, PROGRESS_UPDATED, user_id=user, course_id=course)[-1]["payload"]["required_done"] is True


def test_public_course_structure_recomputes_learners_of_every_tenant(service, learner):
    (tenant_a, user_a), (tenant_b, user_b) = learner, (new_id(), new_id())
    course, lesson = new_id(), new_id()
    service.record_statements(Caller(tenant_a, user_a), statement(user_a, "completed", lesson_id=lesson, course_id=course))
    service.record_statements(Caller(tenant_b, user_b), statement(user_b, "passed", lesson_id=lesson, course_id=course))

    service.handle_event(course_published(PLATFORM_TENANT, course, [(lesson, True), (new_id(), True)]))

    for tenant, user in ((tenant_a, user_a), (tenant_b, user_b)):
        assert service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]["percent"] == 50


def test_newer_revision_replaces_structure_and_removed_lessons_stop_counting(service, learner):
    tenant, user = learner
    course = new_id()
    keep, drop, added = new_id(), new_id(), new_id()
    service.handle_event(course_published(tenant, course, [(keep, True), (drop, True)], revision=1))
    service.record_statements(Caller(tenant, user), [statement(user, "completed", lesson_id=keep, course_id=course),
                                             statement(user, "completed", lesson_id=drop, course_id=course)])
    assert service.get_progress(Caller(tenant, user, "member"))["courses"][0]["percent"] == 100

    service.handle_event(course_published(tenant, course, [(keep, True), (added, True)], revision=2))
    progress = service.get_progress(Caller(tenant, user, "member"))["courses"][0]
    assert (progress["percent"], progress["lessons_done"], progress["revision"]) == (50, 1, 2)

    # a late event with an older revision changes nothing
    service.handle_event(course_published(tenant, course, [(keep, True), (drop, True)], revision=1))
    assert service.get_progress(Caller(tenant, user, "member"))["courses"][0]["percent"] == 50


def test_lms_activity_event_takes_the_same_path_as_the_api(service, store, learner):
    tenant, user = learner
    course, lesson = new_id(), new_id()
    service.handle_event(course_published(tenant, course, [(lesson, True)]))
    body = statement(user, "passed", lesson_id=lesson, course_id=course, statement_id=new_id(), duration="PT7M")
    event = activity_recorded(tenant, user, body)

    assert service.handle_event(event) is True
    assert service.handle_event(event) is False  # redelivery: the inbox
    # the same statement through the API afterwards is a replay, counted once
    assert service.record_statements(Caller(tenant, user), body)["duplicates"] == 1

    assert service.get_progress(Caller(tenant, user, "member"))["courses"][0]["percent"] == 100
    [recorded] = events_for(store, STATEMENT_RECORDED, statement_id=body["id"])
    assert recorded["payload"]["duration_s"] == 420 and recorded["causation_id"] == event["id"]


def test_lms_activity_for_another_actor_is_refused(service, learner):
    tenant, user = learner
    with pytest.raises(Forbidden):
        service.handle_event(activity_recorded(tenant, user, statement(new_id())))


# --- streaks and goal --------------------------------------------------------------------------

def test_streak_and_weekly_goal(service, learner):
    tenant, user = learner
    service.record_statements(Caller(tenant, user), [
        statement(user, "experienced", duration="PT20M", timestamp=ago(days=d)) for d in (0, 1, 2, 5)])
    goal = service.set_weekly_goal(Caller(tenant, user), 60)
    progress = service.get_progress(Caller(tenant, user, "member"))
    assert progress["streak"]["current_days"] == 3 and progress["streak"]["longest_days"] == 3
    assert progress["weekly_goal"]["minutes_per_week"] == goal["minutes_per_week"] == 60
    today = datetime.now(timezone.utc).date()
    in_week = sum(1 for d in (0, 1, 2, 5) if (today - timedelta(days=d)).weekday() <= today.weekday())
    assert progress["weekly_goal"]["minutes_this_week"] == 20 * in_week
    assert progress["weekly_goal"]["percent"] == min(100, 20 * in_week * 100 // 60)


# --- reading: isolation and pagination ------------------------------------------------------------

def test_learners_read_only_their_own_and_admins_their_tenants(service, learner):
    tenant, user = learner
    other = new_id()
    service.record_statements(Caller(tenant, user), statement(user, "launched"))
    service.record_statements(Caller(tenant, other), statement(other, "launched"))
    assert {s["actor"]["account"]["name"] for s in service.list_statements(Caller(tenant, user, "member"))["statements"]} \
        == {user}
    with pytest.raises(Forbidden):
        service.list_statements(Caller(tenant, user, "member"), learner=other)
    with pytest.raises(Forbidden):
        service.get_progress(Caller(tenant, user, "member"), learner=other)
    admin = new_id()
    assert len(service.list_statements(Caller(tenant, admin, "admin"))["statements"]) == 2
    assert len(service.list_statements(Caller(tenant, admin, "instructor"), learner=other)["statements"]) == 1
    # another tenant's admin sees none of them
    assert service.list_statements(Caller(new_id(), admin, "owner"))["statements"] == []


def test_pagination_is_stable_and_complete(service, learner):
    tenant, user = learner
    ids = service.record_statements(Caller(tenant, user), [statement(user, "experienced") for _ in range(7)])["statement_ids"]
    seen, cursor = [], ""
    while True:
        page = service.list_statements(Caller(tenant, user, "member"), limit=3, cursor=cursor)
        seen += [s["id"] for s in page["statements"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        service.record_statements(Caller(tenant, user), statement(user, "launched"))  # new ones do not shift pages
    assert sorted(seen) == sorted(ids) and len(seen) == 7


def test_concurrent_requests_of_one_learner_lose_no_time_or_lesson(service, learner):
    """Different lessons and days, so nothing but the course row itself orders the writers."""
    import threading

    tenant, user = learner
    course = new_id()
    lessons = [new_id() for _ in range(16)]
    service.handle_event(course_published(tenant, course, [(lid, True) for lid in lessons]))
    errors: list[Exception] = []

    def worker(index: int) -> None:
        try:
            for offset in range(2):
                lid = lessons[index * 2 + offset]
                service.record_statements(Caller(tenant, user), statement(
                    user, "completed", lesson_id=lid, course_id=course, duration="PT1M",
                    timestamp=ago(days=index * 2 + offset)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    [progress] = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"]
    assert (progress["time_spent_s"], progress["lessons_done"], progress["percent"]) == (16 * 60, 16, 100)


def test_the_same_batch_posted_concurrently_is_stored_once(service, store, learner):
    tenant, user = learner
    batch = [statement(user, "experienced", statement_id=new_id(), duration="PT1M") for _ in range(20)]
    results = run_at_once([lambda: service.record_statements(Caller(tenant, user), batch)] * 4)
    assert sorted(r["stored"] for r in results) == [0, 0, 0, 20]
    assert count(store, tenant, "statements") == 20
    assert service.get_progress(Caller(tenant, user, "member"))["total_time_spent_s"] == 20 * 60


def _until_a_session_waits_on_a_lock(store, timeout_s: float = 10) -> bool:
    """Polled from a thread of its own: its own connection, outside the caller's transaction."""
    import threading
    import time

    seen: list[bool] = []

    def poll() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with store.transaction(None) as tx:
                if tx.db.execute_sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
                                  "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())").fetchone()[0]:
                    seen.append(True)
                    return
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    poller.join()
    return bool(seen)


def test_a_request_racing_a_consumer_batch_of_the_same_learner_is_not_killed_as_a_deadlock(service, store, learner):
    """The journey CI caught: the LMS's events for opening an article and then a runbook arrive
    in one consumer batch (one transaction, lesson by lesson) while the learner's client posts
    both lessons (locked in id order, runbook first). Both writers must finish."""
    import threading

    tenant, user = learner
    course = new_id()
    article, runbook = "f" + new_id()[1:], "0" + new_id()[1:]  # the request locks runbook first
    service.handle_event(course_published(tenant, course, [(article, True), (runbook, True)]))
    batch = [statement(user, "completed", lesson_id=lid, course_id=course, statement_id=new_id())
             for lid in (article, runbook)]
    request: dict = {}

    def post() -> None:
        try:
            request["result"] = service.record_statements(Caller(tenant, user), batch)
        except Exception as exc:  # noqa: BLE001 - asserted below
            request["error"] = exc

    with store.transaction(tenant) as tx:  # the consumer's batch transaction
        uow = service.unit_of_work_in(tx)
        service.ingest(uow, tenant, user, statement(user, "completed", lesson_id=article, course_id=course))
        poster = threading.Thread(target=post)
        poster.start()
        assert _until_a_session_waits_on_a_lock(store), f"the request never waited on the batch: {request}"
        service.ingest(uow, tenant, user, statement(user, "completed", lesson_id=runbook, course_id=course))
    poster.join(10)
    assert "error" not in request and request["result"]["stored"] == 2
    [progress] = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"]
    assert (progress["lessons_done"], progress["percent"]) == (2, 100)


def test_concurrent_batches_of_many_learners_in_opposite_orders_queue_instead_of_deadlocking(service, store):
    """Partitions' batches run at once and each holds every learner it touched (their lock, their
    day) until it commits: run in learner order (``lock_order``), they queue."""
    tenant = new_id()
    course = new_id()
    learners = [new_id() for _ in range(30)]

    def batch(order: list[str]) -> list[dict]:  # each event a new lesson of its learner
        return [activity_recorded(tenant, user, statement(user, "completed", lesson_id=new_id(), course_id=course,
                                                          duration="PT1M")) for user in order]

    batches = [batch(learners), batch(learners[::-1]), batch(learners), batch(learners[::-1])]

    before = deadlocks(store)
    results = run_at_once([lambda batch=batch: service.handle_events(batch) for batch in batches])
    assert [r for batch in results for r in batch if r is not True] == []
    assert deadlocks(store) == before  # none had to be broken up and retried
    assert count(store, tenant, "statements") == 4 * len(learners)


def test_lesson_percent_and_time_of_a_lesson_first_reported_without_its_course(service, learner):
    from careeros_services.tracker.domain import PROGRESS_EXTENSION

    tenant, user = learner
    course, lesson, other = new_id(), new_id(), new_id()
    service.record_statements(Caller(tenant, user), statement(
        user, "progressed", lesson_id=lesson, duration="PT2M", result={
            "duration": "PT2M", "extensions": {PROGRESS_EXTENSION: 60}}))  # no course named, none known
    service.record_statements(Caller(tenant, user), statement(
        user, "progressed", lesson_id=lesson, course_id=course, result={
            "duration": "PT1M", "extensions": {PROGRESS_EXTENSION: 30}}))  # now the course is named
    service.handle_event(course_published(tenant, course, [(lesson, True), (other, True)]))

    [progress] = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"]
    assert progress["time_spent_s"] == 180  # the first two minutes moved to the course with the lesson
    first, second = progress["lessons"]
    assert (first["percent"], first["done"], first["time_spent_s"]) == (60, False, 180)  # percent only grows
    assert second["percent"] == 0 and progress["percent"] == 0
    service.record_statements(Caller(tenant, user), statement(user, "completed", lesson_id=lesson, course_id=course))
    lessons = service.get_progress(Caller(tenant, user, "member"), course_id=course)["courses"][0]["lessons"]
    assert lessons[0]["percent"] == 100 and lessons[0]["done"]


def test_filters_since_until_verb_activity(service, learner):
    import time

    tenant, user = learner
    course, lesson = new_id(), new_id()
    first = service.record_statements(Caller(tenant, user), statement(user, "launched", lesson_id=lesson, course_id=course))
    time.sleep(0.01)
    between = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    second = service.record_statements(Caller(tenant, user), statement(user, "completed", lesson_id=lesson, course_id=course))
    ids = lambda **f: [s["id"] for s in service.list_statements(Caller(tenant, user, "member"), **f)["statements"]]  # noqa: E731
    assert ids(since=between) == second["statement_ids"]
    assert ids(until=between) == first["statement_ids"]
    assert ids(verb="http://adlnet.gov/expapi/verbs/launched") == first["statement_ids"]
    lesson_iri, course_iri = f"https://careeros.dev/xapi/lessons/{lesson}", f"https://careeros.dev/xapi/courses/{course}"
    assert len(ids(activity=lesson_iri)) == 2
    assert ids(activity=course_iri) == []  # the object only, unless related activities are asked for
    assert len(ids(activity=course_iri, related_activities=True)) == 2
