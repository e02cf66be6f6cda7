"""Pure rules of the tracker: statement validation, durations, progress, streaks, goals, cursors."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from careeros_services.common.errors import Forbidden, ValidationFailed
from careeros_services.tracker import domain
from careeros_services.tracker.domain import (BatchTooLarge, CourseStructure, InvalidStatement, StatementConflict,
                                              compute_progress, parse_duration, parse_statement, parse_statements,
                                              streaks)
from tests.tracker.support import course_published_payload, new_id, statement

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)  # a Wednesday
USER = new_id()


def fields_of(raw, **kw) -> dict:
    with pytest.raises(InvalidStatement) as caught:
        parse_statement(raw, caller_user_id=USER, now=NOW, **kw)
    assert caught.value.status == 400 and caught.value.code == "invalid_statement"
    return caught.value.fields


# --- validation ---------------------------------------------------------------------------

def test_a_conventional_lesson_statement_is_indexed():
    course, lesson = new_id(), new_id()
    s = parse_statement(statement(USER, "completed", lesson_id=lesson, course_id=course, duration="PT1M30S",
                                  timestamp="2026-03-04T10:00:00+02:00"), caller_user_id=USER, now=NOW)
    assert (s.user_id, s.course_id, s.lesson_id, s.duration_s) == (USER, course, lesson, 90)
    assert s.timestamp == datetime(2026, 3, 4, 8, 0, tzinfo=timezone.utc) and s.is_done
    assert s.body["version"] == "1.0.3" and s.body["id"] == s.id


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s["verb"].update(id="completed"), "verb.id"),
    (lambda s: s["verb"].pop("id"), "verb.id"),
    (lambda s: s.pop("actor"), "actor"),
    (lambda s: s["actor"]["account"].update(homePage="https://evil.example"), "actor.account.homePage"),
    (lambda s: s["actor"]["account"].update(name="not-a-uuid"), "actor.account.name"),
    (lambda s: s["object"].update(id=""), "object.id"),
    (lambda s: s["object"].update(objectType="SubStatement"), "object.objectType"),
    (lambda s: s.update(result={"duration": "90 seconds"}), "result.duration"),
    (lambda s: s.update(result={"score": {"scaled": 1.5}}), "result.score.scaled"),
    (lambda s: s.update(timestamp="yesterday"), "timestamp"),
    (lambda s: s.update(id="123"), "id"),
    (lambda s: s.update(attachments=[]), "attachments"),
    (lambda s: s.update(context={"contextActivities": {"parent": [{"id": "nope"}]}}),
     "context.contextActivities.parent[0].id"),
])
def test_invalid_statements_name_the_field(mutate, field):
    raw = statement(USER, "completed", lesson_id=new_id(), course_id=new_id())
    mutate(raw)
    assert field in fields_of(raw)


def test_future_timestamps_are_refused_but_clock_skew_is_tolerated():
    assert "timestamp" in fields_of(statement(USER, timestamp=(NOW + timedelta(hours=1)).isoformat()))
    parse_statement(statement(USER, timestamp=(NOW + timedelta(minutes=1)).isoformat()), caller_user_id=USER, now=NOW)


def test_actor_must_be_the_caller():
    with pytest.raises(Forbidden):
        parse_statement(statement(new_id()), caller_user_id=USER, now=NOW)


def test_batches_name_the_index_and_are_capped():
    good, bad = statement(USER), statement(USER)
    bad["verb"] = {}
    with pytest.raises(InvalidStatement) as caught:
        parse_statements([good, bad], caller_user_id=USER, now=NOW)
    assert list(caught.value.fields) == ["[1].verb.id"]
    with pytest.raises(BatchTooLarge) as too_many:
        parse_statements([good] * (domain.MAX_BATCH + 1), caller_user_id=USER, now=NOW)
    assert too_many.value.status == 413
    assert len(parse_statements([good] * domain.MAX_BATCH, caller_user_id=USER, now=NOW)[0]) == domain.MAX_BATCH


def test_same_id_twice_in_a_batch():
    sid = new_id()
    one = statement(USER, "launched", statement_id=sid)
    assert len(parse_statements([one, dict(one)], caller_user_id=USER, now=NOW)[0]) == 1
    with pytest.raises(StatementConflict):
        parse_statements([one, dict(one, verb={"id": domain.VERB_COMPLETED})], caller_user_id=USER, now=NOW)


def test_fingerprint_ignores_version_but_not_content():
    sid = new_id()
    base = statement(USER, "launched", statement_id=sid, timestamp="2026-03-01T00:00:00Z")
    a = parse_statement(base, caller_user_id=USER, now=NOW)
    b = parse_statement(dict(base, version="1.0.0"), caller_user_id=USER, now=NOW + timedelta(days=1))
    c = parse_statement(dict(base, timestamp="2026-03-01T00:00:01Z"), caller_user_id=USER, now=NOW)
    assert a.body_hash == b.body_hash != c.body_hash


def test_statement_without_parent_has_no_course():
    s = parse_statement(statement(USER, lesson_id=new_id(), course_id=new_id(), with_parent=False),
                        caller_user_id=USER, now=NOW)
    assert s.lesson_id and s.course_id == ""


# --- durations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("PT0S", 0), ("PT45S", 45), ("PT1.9S", 1), ("PT1M30S", 90), ("PT2H", 7200), ("P1D", 86400),
    ("P1DT1H", 90000), ("P1W", 604800), ("PT0.5H", 1800), ("P1Y", 365 * 86400), ("P1M", 30 * 86400),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "1H", "PT1H2", "P1DT", "PT-1S", "pt1s"])
def test_parse_duration_refuses_non_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_duration_roundtrip(h, m, s):
    assert parse_duration(f"PT{h}H{m}M{s}S") == h * 3600 + m * 60 + s


# --- progress ------------------------------------------------------------------------------------

def structure(*required: bool) -> CourseStructure:
    lessons = [(new_id(), r) for r in required]
    return CourseStructure.from_published(course_published_payload(new_id(), new_id(), lessons))


def test_percent_counts_the_required_lessons_rounded_down():
    s = structure(True, True, True, False)
    ids = list(s.lessons)
    assert compute_progress(s, []).percent == 0
    assert compute_progress(s, ids[:1]) == domain.Progress(33, 1, 4, False)
    assert compute_progress(s, ids[:2] + ids[3:]) == domain.Progress(66, 3, 4, False)  # the optional one adds none
    assert compute_progress(s, ids[:3]) == domain.Progress(100, 3, 4, True)  # 100 % = required_done


def test_nothing_required_means_every_lesson_counts():
    s = structure(False, False)
    assert compute_progress(s, list(s.lessons)[:1]) == domain.Progress(50, 1, 2, False)


def test_completed_is_the_lms_verdict_and_means_100():
    s = structure(True, True)
    assert compute_progress(s, list(s.lessons)[:1], completed=True) == domain.Progress(100, 1, 2, True)
    assert compute_progress(None, [], completed=True).percent == 100


def test_done_lessons_outside_the_structure_do_not_count():
    s = structure(True, True)
    assert compute_progress(s, [new_id(), new_id(), list(s.lessons)[0]]).percent == 50


def test_no_structure_no_percentage():
    assert compute_progress(None, [new_id()]) == domain.Progress(0, 0, 0, False)


@given(st.integers(1, 40), st.data())
def test_percent_is_100_only_when_every_lesson_is_done(n, data):
    s = structure(*([True] * n))
    done = data.draw(st.sets(st.sampled_from(list(s.lessons))))
    p = compute_progress(s, done)
    assert 0 <= p.percent <= 100 and (p.percent == 100) == (len(done) == n)


def test_structure_keeps_course_order():
    payload = course_published_payload(new_id(), new_id(), [(new_id(), True) for _ in range(4)])
    payload["modules"].reverse()
    expected = [l["lesson_id"] for m in sorted(payload["modules"], key=lambda m: m["position"]) for l in m["lessons"]]
    assert list(CourseStructure.from_published(payload).lessons) == expected


# --- streaks and goals ---------------------------------------------------------------------------

def days_before(today: date, *offsets: int) -> list[date]:
    return [today - timedelta(days=o) for o in offsets]


def test_streaks():
    today = NOW.date()
    assert streaks([], today) == (0, 0)
    assert streaks(days_before(today, 0, 1, 2, 5, 6), today) == (3, 3)
    assert streaks(days_before(today, 1, 2), today) == (2, 2)        # today is not over: still alive
    assert streaks(days_before(today, 2, 3, 4, 5), today) == (0, 4)  # broken yesterday
    assert streaks(days_before(today, 0, 0, 1), today) == (2, 2)


def test_weekly_goal():
    assert domain.week_start(NOW.date()) == date(2026, 3, 2)
    assert domain.weekly_goal_progress(60, 30 * 60) == {"minutes_this_week": 30, "percent": 50, "met": False}
    assert domain.weekly_goal_progress(60, 90 * 60)["percent"] == 100
    assert domain.weekly_goal_progress(0, 90 * 60) == {"minutes_this_week": 90, "percent": 0, "met": False}
    for bad in (-1, 10081, True, "60", 1.5):
        with pytest.raises(ValidationFailed):
            domain.validate_goal(bad)


# --- cursors -------------------------------------------------------------------------------------

def test_cursor_roundtrip_and_binding():
    q = domain.statement_query(verb="http://adlnet.gov/expapi/verbs/completed", limit=10)
    cursor = domain.encode_cursor(q, 1234)
    assert domain.decode_cursor(q, cursor) == 1234 and "1234" not in cursor
    with pytest.raises(domain.DomainError) as other:
        domain.decode_cursor(domain.statement_query(limit=10), cursor)
    assert other.value.code == "invalid_cursor"
    with pytest.raises(domain.DomainError):
        domain.decode_cursor(q, "%%%")


def test_query_validation_names_parameters():
    with pytest.raises(domain.DomainError) as caught:
        domain.statement_query(learner="bob", since="monday", verb="completed", limit=1000)
    assert set(caught.value.fields) == {"learner", "since", "verb", "limit"}


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s.update(result={"score": {"raw": float("nan")}}), "NaN"),
    (lambda s: s.update(result={"score": {"raw": float("inf")}}), "NaN"),
    (lambda s: s.update(result={"response": "a\x00b"}), "NUL"),
    (lambda s: s.update(result={"duration": "P400D"}), "366 days"),
])
def test_values_postgres_cannot_store_are_refused_as_400(mutate, message):
    raw = statement(USER)
    mutate(raw)
    assert any(message in m for messages in fields_of(raw).values() for m in messages)


def test_cmi5_progress_extension_sets_lesson_progress():
    lesson = new_id()
    progressed = statement(USER, "progressed", lesson_id=lesson,
                           result={"extensions": {domain.PROGRESS_EXTENSION: 40}})
    assert parse_statement(progressed, caller_user_id=USER, now=NOW).progress == 40
    assert parse_statement(statement(USER, "passed", lesson_id=lesson), caller_user_id=USER, now=NOW).progress == 100
    assert parse_statement(statement(USER, "launched", lesson_id=lesson), caller_user_id=USER, now=NOW).progress == 0
    progressed["result"]["extensions"][domain.PROGRESS_EXTENSION] = 140
    assert f"result.extensions.{domain.PROGRESS_EXTENSION}" in fields_of(progressed)


def test_only_uuid_ids_in_careeros_iris_are_courses_and_lessons():
    course = new_id()
    s = parse_statement(statement(USER, object={"id": "https://careeros.dev/xapi/lessons/intro"},
                                  context={"contextActivities": {"parent": [
                                      {"id": "https://careeros.dev/xapi/courses/" + course.upper()}]}}),
                        caller_user_id=USER, now=NOW)
    assert (s.lesson_id, s.course_id) == ("", course)  # not a lesson; the course id is canonical
