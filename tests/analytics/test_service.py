"""The analytics service layer on a real, freshly migrated PostgreSQL database.

Events are built as the producers publish them and validated against the real
contract files, then fed through ``handle_events`` exactly as the bus does.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.analytics import persistence
from careeros_services.analytics.persistence import TABLES
from careeros_services.analytics.service import AnalyticsService
from careeros_services.common.errors import Forbidden, ValidationFailed
from tests.analytics import support as ev
from tests.analytics.scenario import Scenario

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)
MARCH_1_14 = ("2026-03-01", "2026-03-14")


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("analytics")


@pytest.fixture(scope="module")
def service(store) -> AnalyticsService:
    persistence.bind(store.database)
    return AnalyticsService(store, clock=lambda: NOW)


@pytest.fixture(scope="module")
def month(service) -> Scenario:
    """The scenario's events, handled in one batch (as one partition's poll would be)."""
    scenario = Scenario()
    results = service.handle_events(scenario.all_events())
    assert results == [True] * len(results)
    return scenario


def count(store, tenant_id, table) -> int:
    with store.transaction(tenant_id) as tx:
        return tx.db.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- schema --------------------------------------------------------------------------------

def test_every_read_model_has_tenant_id_and_forced_row_level_security(store):
    with store.transaction(None) as tx:
        for table in TABLES:
            assert tx.db.execute_sql("SELECT relrowsecurity, relforcerowsecurity FROM pg_class"
                                     " WHERE relname = %s", (table,)).fetchone() == (True, True), table
            assert tx.db.execute_sql("SELECT is_nullable FROM information_schema.columns WHERE"
                                     " table_name = %s AND column_name = 'tenant_id'", (table,)
                                     ).fetchone() == ("NO",), table
        assert tx.db.execute_sql("SELECT rolbypassrls OR rolsuper FROM pg_roles"
                                 " WHERE rolname = current_user").fetchone() == (False,)


def test_model_columns_match_the_migrated_tables(store):
    with store.transaction(None) as tx:
        for model in persistence.MODELS:
            cursor = tx.db.execute_sql("SELECT column_name FROM information_schema.columns"
                                       " WHERE table_name = %s", (model._meta.table_name,))
            assert {f.column_name for f in model._meta.sorted_fields} == {r[0] for r in cursor.fetchall()}


def test_the_consumer_subscribes_only_to_types_whose_contract_exists():
    subscribed = AnalyticsService.subscribed_event_types()
    known = set(contracts.known_types())
    assert set(subscribed) <= known
    assert set(subscribed) == set(AnalyticsService.handled_event_types()) & known
    assert "careeros.tracker.statement.recorded.v1" in subscribed


# --- the overview --------------------------------------------------------------------------

def test_overview_of_the_first_two_weeks(service, month):
    report = service.overview(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14)

    assert report["tenant_id"] == month.tenant_a and (report["from"], report["to"]) == MARCH_1_14
    active = report["active_learners"]
    assert active["total"] == 2
    assert {d["date"]: d["active_learners"] for d in active["daily"] if d["active_learners"]} == {
        "2026-03-02": 1, "2026-03-04": 2, "2026-03-10": 1}
    assert len(active["daily"]) == 14
    assert active["weekly"] == [{"week_start": "2026-02-23", "active_learners": 0},
                                {"week_start": "2026-03-02", "active_learners": 2},
                                {"week_start": "2026-03-09", "active_learners": 1}]
    assert report["activity"] == {"statements": 5, "time_spent_s": 1080}
    assert report["enrollments"] == {"created": 3, "cancelled": 1, "cohort": 2, "completed": 1,
                                     "completion_rate_percent": 50}
    assert report["certificates"] == 1
    assert len(report["completions_daily"]) == 14 and {
        d["date"]: d["completions"] for d in report["completions_daily"] if d["completions"]} == {"2026-03-12": 1}
    assert report["quizzes"] == {"attempts": 3, "passed": 2, "average_score_percent": 72,
                                 "pass_rate_percent": 67}
    assert report["assignments"] == {"total": 3, "completed": 1, "overdue": 1, "completion_rate_percent": 33}
    assert report["ai_usage"] == {"requests": 2, "prompt_tokens": 110, "completion_tokens": 55,
                                  "cost_micro_usd": 1700}
    assert report["revenue"] == [{"currency": "EUR", "total_minor": 4900, "invoices": 1},
                                 {"currency": "USD", "total_minor": 1000, "invoices": 1}]
    # every domain event of A dated in the period, by type (the registrations carry today's date)
    assert {e["event_type"]: e["events"] for e in report["events"]} == {
        "careeros.tracker.statement.recorded.v1": 5, "careeros.lms.enrollment.created.v1": 3,
        "careeros.lms.enrollment.cancelled.v1": 1, "careeros.lms.certificate.issued.v1": 1,
        "careeros.lms.enrollment.completed.v1": 1,
        "careeros.lms.quiz.attempted.v1": 3, "careeros.auth.assignment.created.v1": 3,
        "careeros.ai_core.usage.recorded.v1": 2, "careeros.billing.invoice.issued.v1": 2}


def test_every_contract_type_is_consumed_and_counted_even_without_a_fact_table(service):
    assert set(AnalyticsService.handled_event_types()) >= set(contracts.known_types())
    tenant, user = ev.new_id(), ev.new_id()
    profile = ev.envelope("careeros.profile.profile.created.v1", {"user_id": user, "tenant_id": tenant},
                          occurred_at=ev.at("2026-03-03T08:00"))
    assert service.handle_event(profile) is True
    assert service.handle_event(profile) is False
    report = service.overview(Caller(tenant, user, "owner"), *MARCH_1_14)
    assert report["events"] == [{"event_type": "careeros.profile.profile.created.v1", "events": 1}]


def test_a_longer_period_counts_later_completions(service, month):
    report = service.overview(Caller(month.tenant_a, month.olga, "admin"), "2026-03-01", "2026-03-31")
    assert report["enrollments"] == {"created": 4, "cancelled": 1, "cohort": 3, "completed": 2,
                                     "completion_rate_percent": 67}
    assert report["certificates"] == 2
    assert report["revenue"][0] == {"currency": "EUR", "total_minor": 9800, "invoices": 2}


def test_the_other_tenant_sees_only_its_own_numbers(service, month):
    report = service.overview(Caller(month.tenant_b, month.bea, "owner"), *MARCH_1_14)
    assert report["active_learners"]["total"] == 1
    assert report["activity"] == {"statements": 1, "time_spent_s": 5000}
    assert report["enrollments"]["cohort"] == 1 and report["enrollments"]["completed"] == 1
    assert report["quizzes"]["attempts"] == 1 and report["quizzes"]["average_score_percent"] == 10
    assert report["ai_usage"]["cost_micro_usd"] == 90000
    assert report["revenue"] == [{"currency": "EUR", "total_minor": 9999, "invoices": 1}]
    learners = service.learner_report(Caller(month.tenant_b, month.bea, "owner"), *MARCH_1_14)["learners"]
    assert [r["user_id"] for r in learners] == [month.bea]


def test_members_and_instructors_get_no_overview(service, month):
    for role in ("member", "instructor"):
        with pytest.raises(Forbidden) as caught:
            service.overview(Caller(month.tenant_a, month.ann, role), *MARCH_1_14)
        assert caught.value.code == "analytics_forbidden"


def test_a_bad_period_is_refused_naming_the_field(service, month):
    with pytest.raises(ValidationFailed) as caught:
        service.overview(Caller(month.tenant_a, month.olga, "owner"), "2026-03-14", "2026-03-01")
    assert caught.value.fields == {"from": ["must not be after to"]}


def test_default_period_is_the_last_30_days(service, month):
    report = service.overview(Caller(month.tenant_a, month.olga, "owner"))
    assert (report["from"], report["to"]) == ("2026-03-02", "2026-03-31")


# --- per-learner report --------------------------------------------------------------------

def test_owner_gets_a_row_per_learner(service, month):
    report = service.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14)
    assert report["scope"] == "tenant"
    rows = {r["display_name"]: r for r in report["learners"]}
    assert list(rows) == ["Ann", "Bob", "Olga"]
    assert rows["Ann"] == {
        "user_id": month.ann, "display_name": "Ann", "role": "member", "active_days": 2, "statements": 3,
        "time_spent_s": 1020, "last_active_at": "2026-03-04T10:00:00+00:00", "enrollments": 1,
        "enrollments_completed": 1, "completion_rate_percent": 100, "certificates": 1, "quiz_attempts": 2,
        "average_quiz_score_percent": 60, "quizzes_passed": 1, "assignments": 1, "assignments_completed": 1,
        "ai_requests": 1, "ai_tokens": 150, "ai_cost_micro_usd": 1500}
    bob = rows["Bob"]
    assert (bob["active_days"], bob["time_spent_s"], bob["enrollments"], bob["enrollments_completed"],
            bob["certificates"], bob["assignments"], bob["assignments_completed"], bob["ai_tokens"]) == (
        2, 60, 1, 0, 0, 2, 0, 15)
    olga = rows["Olga"]
    assert olga["role"] == "owner" and olga["statements"] == 0 and olga["last_active_at"] == ""


def test_the_learner_report_pages_in_name_order(service, month):
    full = service.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14)
    assert (full["total"], full["limit"], full["offset"]) == (3, 100, 0)
    page1 = service.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14, limit=2)
    page2 = service.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14, limit=2, offset=2)
    assert [r["display_name"] for r in page1["learners"]] == ["Ann", "Bob"]
    assert [r["display_name"] for r in page2["learners"]] == ["Olga"]
    assert page1["total"] == page2["total"] == 3
    beyond = service.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14, limit=2, offset=10)
    assert beyond["learners"] == [] and beyond["total"] == 3
    with pytest.raises(ValidationFailed) as caught:
        service.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14, limit=1001)
    assert caught.value.fields == {"limit": ["must be between 1 and 1000"]}


def test_a_learner_sees_only_their_own_row(service, month):
    report = service.learner_report(Caller(month.tenant_a, month.bob, "member"), *MARCH_1_14)
    assert report["scope"] == "self" and report["total"] == 1
    assert [r["user_id"] for r in report["learners"]] == [month.bob]
    assert report["learners"][0]["quiz_attempts"] == 1


def test_a_learner_without_facts_gets_a_zero_row(service, month):
    stranger = ev.new_id()
    [row] = service.learner_report(Caller(month.tenant_a, stranger, "member"), *MARCH_1_14)["learners"]
    assert row["user_id"] == stranger and row["statements"] == 0 and row["completion_rate_percent"] == 0


def test_nothing_of_tenant_a_is_visible_from_tenant_b_even_by_user_id(service, month):
    # Ann's user id asked for under tenant B (a forged pairing): B has no rows of hers.
    [row] = service.learner_report(Caller(month.tenant_b, month.ann, "member"), *MARCH_1_14)["learners"]
    assert row["statements"] == 0 and row["display_name"] == ""


# --- idempotency and order -----------------------------------------------------------------

def test_redelivered_events_change_nothing(service, store):
    scenario = Scenario()
    events = scenario.all_events()
    assert service.handle_events(events) == [True] * len(events)
    before = service.learner_report(Caller(scenario.tenant_a, scenario.olga, "owner"), *MARCH_1_14)

    assert service.handle_events(events) == [False] * len(events)

    assert service.learner_report(Caller(scenario.tenant_a, scenario.olga, "owner"), *MARCH_1_14) == before
    assert count(store, scenario.tenant_a, "statements") == 6


def test_a_cancellation_that_arrives_first_still_cancels(service):
    tenant, user, course, enrollment = ev.new_id(), ev.new_id(), ev.new_id(), ev.new_id()
    owner = ev.new_id()
    assert service.handle_event(ev.cancelled(tenant, user, course, "2026-03-06T10:00", enrollment)) is True
    assert service.handle_event(ev.enrolled(tenant, user, course, "2026-03-05T10:00", enrollment)) is True
    report = service.overview(Caller(tenant, owner, "owner"), *MARCH_1_14)
    assert (report["enrollments"]["created"], report["enrollments"]["cancelled"],
            report["enrollments"]["cohort"]) == (1, 1, 0)


def test_a_statement_recorded_twice_under_new_event_ids_counts_once(service, store):
    first = ev.statement(ev.new_id(), ev.new_id(), "2026-03-02T09:00", duration_s=30)
    second = dict(first, id=ev.new_id())
    assert service.handle_events([first, second]) == [True, True]
    assert count(store, first["tenant_id"], "statements") == 1
    with store.transaction(first["tenant_id"]) as tx:
        assert tx.db.execute_sql("SELECT statements, time_spent_s FROM activity_days").fetchall() == [(1, 30)]


def test_an_event_whose_payload_names_another_tenant_is_refused(service, store):
    envelope = ev.statement(ev.new_id(), ev.new_id(), "2026-03-02T09:00")
    tenant = envelope["tenant_id"]
    envelope["tenant_id"] = ev.new_id()
    with pytest.raises(ValueError, match="tenant"):
        service.handle_event(envelope)
    assert count(store, tenant, "statements") == count(store, envelope["tenant_id"], "statements") == 0
    envelope["tenant_id"] = tenant  # mended: the rolled-back claim lets it through
    assert service.handle_event(envelope) is True


def test_an_event_without_a_tenant_files_no_facts(service, store):
    envelope = ev.statement(ev.new_id(), ev.new_id(), "2026-03-02T09:00")
    tenant = envelope["tenant_id"]
    envelope["tenant_id"] = envelope["payload"]["tenant_id"] = None
    assert service.handle_event(envelope) is True
    assert count(store, tenant, "statements") == 0


def test_membership_changes_update_the_role_and_removed_members_drop_out(service):
    tenant, owner, user = ev.new_id(), ev.new_id(), ev.new_id()
    service.handle_event(ev.registered(tenant, owner, "Owner", role="owner"))
    service.handle_event(ev.envelope("careeros.auth.membership.changed.v1", {
        "tenant_id": tenant, "user_id": user, "role": "admin", "actor_user_id": owner}))
    rows = service.learner_report(Caller(tenant, owner, "owner"), *MARCH_1_14)["learners"]
    assert {r["user_id"]: r["role"] for r in rows} == {owner: "owner", user: "admin"}
    service.handle_event(ev.envelope("careeros.auth.membership.changed.v1", {
        "tenant_id": tenant, "user_id": user, "role": "removed", "actor_user_id": owner}))
    rows = service.learner_report(Caller(tenant, owner, "owner"), *MARCH_1_14)["learners"]
    assert [r["user_id"] for r in rows] == [owner]


def test_the_latest_role_and_plan_win_whatever_the_arrival_order(service, store):
    tenant, owner, user = ev.new_id(), ev.new_id(), ev.new_id()
    promoted = ev.envelope("careeros.auth.membership.changed.v1", {
        "tenant_id": tenant, "user_id": user, "role": "admin", "actor_user_id": owner},
        occurred_at=ev.at("2026-03-05T10:00"))
    registered = ev.registered(tenant, user, "Late Comer")
    registered["occurred_at"] = ev.at("2026-03-01T10:00")
    upgraded = ev.envelope("careeros.auth.tenant.plan_changed.v1", {
        "tenant_id": tenant, "plan_tier": "team", "seats": 5, "saga_id": ""},
        occurred_at=ev.at("2026-03-05T10:00"))
    created = ev.envelope("careeros.auth.tenant.created.v1", {
        "tenant_id": tenant, "name": "Acme", "kind": "organization", "plan_tier": "free",
        "owner_user_id": owner}, occurred_at=ev.at("2026-03-01T10:00"))

    for envelope in (promoted, upgraded, registered, created):  # the newer ones first
        assert service.handle_event(envelope) is True

    with store.transaction(tenant) as tx:
        assert tx.db.execute_sql("SELECT display_name, role FROM learners").fetchall() == [
            ("Late Comer", "admin")]
        assert tx.db.execute_sql("SELECT name, kind, plan_tier FROM tenants").fetchall() == [
            ("Acme", "organization", "team")]
    removed = ev.envelope("careeros.auth.membership.changed.v1", {
        "tenant_id": tenant, "user_id": user, "role": "removed", "actor_user_id": owner},
        occurred_at=ev.at("2026-03-06T10:00"))
    assert service.handle_event(removed) is True
    with store.transaction(tenant) as tx:
        assert tx.db.execute_sql("SELECT role FROM learners").fetchall() == [("removed",)]


def test_plan_changes_and_tenant_creation_fill_the_tenant_row(service, store):
    tenant, owner = ev.new_id(), ev.new_id()
    service.handle_event(ev.envelope("careeros.auth.tenant.created.v1", {
        "tenant_id": tenant, "name": "Acme", "kind": "organization", "plan_tier": "free",
        "owner_user_id": owner}))
    service.handle_event(ev.envelope("careeros.auth.tenant.plan_changed.v1", {
        "tenant_id": tenant, "plan_tier": "team", "seats": 5, "saga_id": ""}))
    with store.transaction(tenant) as tx:
        row = tx.db.execute_sql("SELECT name, kind, plan_tier FROM tenants").fetchone()
    assert row == ("Acme", "organization", "team")


# --- CSV export ----------------------------------------------------------------------------

def test_csv_export_has_the_report_rows_with_injection_guarded(service):
    import csv
    import io

    tenant, owner, user = ev.new_id(), ev.new_id(), ev.new_id()
    service.handle_events([ev.registered(tenant, owner, '=HYPERLINK("http://evil","x")', role="owner"),
                           ev.registered(tenant, user, 'Doe, "Jim"'),
                           ev.statement(tenant, user, "2026-03-03T10:00", duration_s=45)])

    filename, text = service.export_learners_csv(Caller(tenant, owner, "owner"), *MARCH_1_14)

    assert filename == "careeros-learners-2026-03-01-2026-03-14.csv"
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    # sorted by name: "=" sorts before "D"; the guard's quote is added after sorting
    assert [r["display_name"] for r in rows] == ['\'=HYPERLINK("http://evil","x")', 'Doe, "Jim"']
    assert rows[1]["time_spent_s"] == "45" and rows[1]["user_id"] == user
    assert '"Doe, ""Jim"""' in text
    assert text.splitlines()[0] == ",".join(["user_id", "display_name", "role", "active_days", "statements",
                                             "time_spent_s", "last_active_at", "enrollments",
                                             "enrollments_completed", "completion_rate_percent",
                                             "certificates", "quiz_attempts", "average_quiz_score_percent",
                                             "quizzes_passed", "assignments", "assignments_completed",
                                             "ai_requests", "ai_tokens", "ai_cost_micro_usd"])
    _, own = service.export_learners_csv(Caller(tenant, user, "member"), *MARCH_1_14)
    assert [r["user_id"] for r in csv.DictReader(io.StringIO(own, newline=""))] == [user]


def test_completion_is_the_lms_event_whatever_the_order_and_not_a_certificate(service):
    tenant, user, course, enrollment = ev.new_id(), ev.new_id(), ev.new_id(), ev.new_id()
    # The completion arrives before the enrolment it completes (two topics, no order between them).
    assert service.handle_event(ev.completed(tenant, user, course, "2026-03-05T10:00", enrollment))
    assert service.handle_event(ev.enrolled(tenant, user, course, "2026-03-02T10:00", enrollment))
    other = ev.new_id()
    assert service.handle_event(ev.enrolled(tenant, ev.new_id(), other, "2026-03-02T10:00"))
    report = service.overview(Caller(tenant, user, "owner"), *MARCH_1_14)
    assert report["enrollments"] == {"created": 2, "cancelled": 0, "cohort": 2, "completed": 1,
                                     "completion_rate_percent": 50}
    early = service.overview(Caller(tenant, user, "owner"), "2026-03-01", "2026-03-04")  # before the completion
    assert early["enrollments"]["completed"] == 0
def test_reports_show_the_names_auth_has_now_asked_for_in_one_batch(store, month):
    asked = []

    def directory(tenant_id, user_id, org_role, user_ids):
        asked.append((tenant_id, user_id, org_role, sorted(user_ids)))
        return {month.olga: "Olga Renamed"}   # others unknown to auth: the stored name stays

    named = AnalyticsService(store, clock=lambda: NOW, names=directory)
    plain = AnalyticsService(store, clock=lambda: NOW)
    rows = named.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14)["learners"]
    before = {r["user_id"]: r["display_name"] for r in
              plain.learner_report(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14)["learners"]}
    assert {r["user_id"]: r["display_name"] for r in rows} == {**before, month.olga: "Olga Renamed"}
    assert asked == [(month.tenant_a, month.olga, "owner", sorted(before))]     # one call for the page
    _, csv_text = named.export_learners_csv(Caller(month.tenant_a, month.olga, "owner"), *MARCH_1_14)
    assert "Olga Renamed" in csv_text and len(asked) == 2
