"""Pure rules of the analytics service: periods, scopes, rates, series, fact parsing, CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from careeros_services.analytics import domain
from careeros_services.common.errors import Forbidden, ValidationFailed

TODAY = date(2026, 3, 31)


# --- periods -------------------------------------------------------------------------------

def test_default_period_is_the_30_days_ending_today():
    period = domain.parse_range("", "", TODAY)
    assert (period.start, period.end) == (date(2026, 3, 2), TODAY)
    assert len(period.days()) == 30


def test_period_bounds_are_inclusive_days_and_half_open_instants():
    period = domain.parse_range("2026-03-01", "2026-03-14", TODAY)
    assert period.starts_at == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert period.ends_before == datetime(2026, 3, 15, tzinfo=timezone.utc)
    assert period.days()[0] == date(2026, 3, 1) and period.days()[-1] == date(2026, 3, 14)


def test_only_from_given_runs_to_today_and_a_single_day_is_a_period():
    assert domain.parse_range("2026-03-20", "", TODAY).end == TODAY
    single = domain.parse_range("2026-03-05", "2026-03-05", TODAY)
    assert single.days() == [date(2026, 3, 5)]


@pytest.mark.parametrize("date_from, date_to, field, message", [
    ("2026-13-01", "", "from", "must be a date (YYYY-MM-DD)"),
    ("", "yesterday", "to", "must be a date (YYYY-MM-DD)"),
    ("2026-03-10", "2026-03-01", "from", "must not be after to"),
    ("2025-01-01", "2026-03-01", "to", "the range must span at most 366 days"),
])
def test_bad_periods_name_the_field(date_from, date_to, field, message):
    with pytest.raises(ValidationFailed) as caught:
        domain.parse_range(date_from, date_to, TODAY)
    assert caught.value.fields == {field: [message]}


def test_both_bad_dates_are_reported_at_once():
    with pytest.raises(ValidationFailed) as caught:
        domain.parse_range("x", "y", TODAY)
    assert set(caught.value.fields) == {"from", "to"}


def test_a_period_of_exactly_366_days_is_allowed():
    assert len(domain.parse_range("2025-03-31", "2026-03-31", TODAY).days()) == 366


def test_weeks_are_iso_mondays_touching_the_period():
    period = domain.parse_range("2026-03-01", "2026-03-14", TODAY)  # Sunday .. Saturday
    assert period.weeks() == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert domain.week_start(date(2026, 3, 8)) == date(2026, 3, 2)


def test_pages_default_to_100_and_are_bounded():
    assert domain.parse_page(0, 0) == (100, 0)
    assert domain.parse_page(1000, 5) == (1000, 5)
    with pytest.raises(ValidationFailed) as caught:
        domain.parse_page(1001, -1)
    assert caught.value.fields == {"limit": ["must be between 1 and 1000"],
                                   "offset": ["must not be negative"]}
    with pytest.raises(ValidationFailed):
        domain.parse_page(-1, 0)


# --- scope ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role, scope", [("owner", "tenant"), ("admin", "tenant"), ("instructor", "self"),
                                          ("member", "self"), ("", "self"), ("OWNER", "self")])
def test_only_owners_and_admins_get_the_tenant_scope(role, scope):
    assert domain.report_scope(role) == scope


def test_require_tenant_scope_refuses_members():
    domain.require_tenant_scope("admin")
    with pytest.raises(Forbidden) as caught:
        domain.require_tenant_scope("member")
    assert caught.value.code == "analytics_forbidden"


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("part, whole, expected", [(0, 0, 0), (1, 2, 50), (1, 3, 33), (2, 3, 67),
                                                   (1, 8, 13), (3, 3, 100), (5, 0, 0)])
def test_percent_rounds_half_up_and_is_zero_without_a_base(part, whole, expected):
    assert domain.percent(part, whole) == expected


def test_rounded_mean():
    assert domain.rounded_mean(215, 3) == 72 and domain.rounded_mean(5, 2) == 3
    assert domain.rounded_mean(0, 0) == 0


def test_series_are_zero_filled():
    period = domain.parse_range("2026-03-01", "2026-03-03", TODAY)
    assert domain.daily_series({date(2026, 3, 2): 4}, period) == [
        {"date": "2026-03-01", "active_learners": 0}, {"date": "2026-03-02", "active_learners": 4},
        {"date": "2026-03-03", "active_learners": 0}]
    assert domain.weekly_series({date(2026, 3, 2): 4}, period) == [
        {"week_start": "2026-02-23", "active_learners": 0},
        {"week_start": "2026-03-02", "active_learners": 4}]


# --- events --------------------------------------------------------------------------------

def test_parse_time_accepts_z_offsets_and_naive_utc():
    expected = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert domain.parse_time("2026-03-02T09:00:00Z") == expected
    assert domain.parse_time("2026-03-02T11:00:00+02:00") == expected
    assert domain.parse_time("2026-03-02T09:00:00") == expected
    assert domain.optional_time("") is None


def test_statement_durations_are_clamped():
    assert domain.statement_duration(-5) == 0
    assert domain.statement_duration(90) == 90
    assert domain.statement_duration(10 ** 9) == domain.MAX_STATEMENT_DURATION_S


# --- report rows ---------------------------------------------------------------------------

def test_learner_row_derives_rates_and_fills_gaps_with_zeros():
    row = domain.learner_row({"user_id": "u", "display_name": "Ann", "enrollments": 4,
                              "enrollments_completed": 1, "quiz_attempts": 3, "quiz_score_total": 215,
                              "last_active_at": datetime(2026, 3, 2, 9, tzinfo=timezone.utc)})
    assert list(row) == list(domain.LEARNER_COLUMNS)
    assert row["completion_rate_percent"] == 25 and row["average_quiz_score_percent"] == 72
    assert row["time_spent_s"] == 0 and row["role"] == ""
    assert row["last_active_at"] == "2026-03-02T09:00:00+00:00"
    assert domain.learner_row({"user_id": "u"})["last_active_at"] == ""


def test_overview_computes_rates_and_sorts_revenue():
    period = domain.parse_range("2026-03-02", "2026-03-03", TODAY)
    result = domain.overview(period, {
        "daily": {date(2026, 3, 3): 2}, "weekly": {date(2026, 3, 2): 3}, "active_learners": 3,
        "enrollments": 4, "enrollments_completed": 3, "quiz_attempts": 2, "quiz_score_total": 151,
        "quizzes_passed": 1, "assignments": 3, "assignments_completed": 1,
        "revenue": [{"currency": "USD", "total_minor": 5, "invoices": 1},
                    {"currency": "EUR", "total_minor": 7, "invoices": 2}]})
    assert result["enrollments"]["completion_rate_percent"] == 75
    assert result["quizzes"] == {"attempts": 2, "passed": 1, "average_score_percent": 76,
                                 "pass_rate_percent": 50}
    assert result["assignments"]["completion_rate_percent"] == 33
    assert [r["currency"] for r in result["revenue"]] == ["EUR", "USD"]
    assert result["active_learners"]["daily"][1] == {"date": "2026-03-03", "active_learners": 2}
    assert result["active_learners"]["weekly"] == [{"week_start": "2026-03-02", "active_learners": 3}]
    assert result["completions_daily"] == [{"date": "2026-03-02", "completions": 0},
                                           {"date": "2026-03-03", "completions": 0}]


# --- CSV -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("Ann", "Ann"), ("a=b", "a=b"),
    ("", ""), (None, ""), (42, "42"), (0, "0"), (True, "true")])
def test_csv_cells_guard_formula_triggers(value, cell):
    assert domain.csv_cell(value) == cell


def test_render_csv_quotes_separators_and_round_trips():
    rows = [{"a": 'Doe, "Jim"', "b": 3}, {"a": "line\nbreak", "b": 0}, {"a": "=1+1", "b": 7}]
    text = domain.render_csv(["a", "b"], rows)
    assert text.startswith("a,b\r\n")
    assert '"Doe, ""Jim"""' in text
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed == [["a", "b"], ['Doe, "Jim"', "3"], ["line\nbreak", "0"], ["'=1+1", "7"]]


def test_lock_order_sorts_by_tenant_then_statement_day_then_user():
    def statement(tenant, user, timestamp, event_id):
        return {"id": event_id, "type": "careeros.tracker.statement.recorded.v1", "tenant_id": tenant,
                "payload": {"user_id": user, "timestamp": timestamp}}
    events = [statement("t2", "a", "2026-03-01T10:00:00Z", "1"),
              statement("t1", "b", "2026-03-02T00:30:00+02:00", "2"),  # 1 March in UTC
              statement("t1", "a", "2026-03-02T10:00:00Z", "3"),
              statement("t1", "c", "2026-03-01T10:00:00Z", "4")]
    assert [e["id"] for e in sorted(events, key=domain.lock_order)] == ["2", "4", "3", "1"]
    other = {"id": "9", "type": "careeros.auth.membership.changed.v1", "tenant_id": None, "payload": {}}
    assert domain.lock_order(other) == ("", "", "", "9")
