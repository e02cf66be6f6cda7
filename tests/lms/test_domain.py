"""Pure LMS rules: validation, transitions, grading, access, completion, xAPI, snapshots."""
from __future__ import annotations

import json

import fastjsonschema
import pytest
from hypothesis import given, strategies as st

from careeros_services.common.errors import Conflict, Forbidden, ValidationFailed
from careeros_services.lms import domain

XAPI = fastjsonschema.compile(json.load(open("contracts/xapi/statement.v1.json")))
QUIZ = {"pass_percent": 50, "max_attempts": 2, "questions": [
    {"id": "q1", "prompt": "a", "multiple": False,
     "choices": [{"id": "a", "text": "A", "correct": True}, {"id": "b", "text": "B", "correct": False}]},
    {"id": "q2", "prompt": "b", "multiple": True,
     "choices": [{"id": "c", "text": "C", "correct": True}, {"id": "d", "text": "D", "correct": True},
                 {"id": "e", "text": "E", "correct": False}]}]}


def test_course_validation_names_every_bad_field():
    with pytest.raises(ValidationFailed) as err:
        domain.validate_course({"title": " ", "level": "guru", "estimated_hours": True, "tags": ["ok", 3],
                                "skills": [{"name": "X", "esco_uri": "http://evil", "level": 9}], "slug": "Not OK"})
    assert set(err.value.fields) == {"title", "level", "estimated_hours", "tags.1", "skills.0.esco_uri",
                                     "skills.0.level", "slug"}
    ok = domain.validate_course({"title": "  Go  ", "tags": ["Go", "go", "API"]})
    assert ok["title"] == "Go" and ok["tags"] == ["go", "api"] and ok["level"] == "beginner"
    assert domain.validate_course({"summary": "x"}, partial=True) == {"summary": "x"}


def test_course_skills_resolve_through_the_shared_skill_table():
    """An organisation's own course names skills as it likes; they are stored as the taxonomy's."""
    meta = domain.validate_course({"title": "Budget sheets", "skills": [
        {"name": "excel", "level": 2}, {"name": "Google Sheets", "level": 3},
        {"name": "Payroll", "esco_uri": "http://data.europa.eu/esco/skill/9d916d7c-89b3-4084-a6d9-e2b0b3091404"},
        {"name": "Underwater basket weaving", "level": 1}]})
    assert meta["skills"] == [
        {"name": "Spreadsheets", "esco_uri": "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be",
         "level": 3},
        {"name": "Payroll", "esco_uri": "http://data.europa.eu/esco/skill/9d916d7c-89b3-4084-a6d9-e2b0b3091404",
         "level": 1},
        {"name": "Underwater basket weaving", "esco_uri": "", "level": 1}]
    assert domain.skill_keys(meta["skills"])[:2] == [
        "spreadsheets", "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be"]


def test_slugify():
    assert domain.slugify("Data Analysis: with pandas!") == "data-analysis-with-pandas"
    assert domain.slugify("Ünïcödé") == "unicode" and domain.slugify("!!!") == "course"


def test_status_transitions_and_roles():
    assert domain.next_status("draft", "publish") == "published"
    assert domain.next_status("published", "publish") == "published"  # a new revision
    assert domain.next_status("published", "archive") == "archived"
    for action in ("publish", "archive"):
        with pytest.raises(Conflict):
            domain.next_status("archived", action)
    for role in domain.AUTHOR_ROLES:
        domain.require_author(role)
    with pytest.raises(Forbidden):
        domain.require_author("member")


def test_quiz_validation():
    errors: dict = {}
    domain.validate_quiz({"questions": [{"prompt": "p", "choices": [{"text": "a", "correct": True},
                                                                    {"text": "b", "correct": True}]},
                                        {"prompt": "q", "choices": [{"text": "only"}]}]}, errors)
    assert set(errors) == {"quiz.questions.0.choices", "quiz.questions.1.choices"}
    with pytest.raises(ValidationFailed) as err:
        domain.validate_lesson({"title": "Q", "kind": "quiz"})
    assert "quiz" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        domain.validate_lesson({"title": "A", "kind": "article", "quiz": QUIZ})
    assert set(err.value.fields) == {"body_md", "quiz"}


def test_grading_is_exact_per_question_and_hides_nothing_it_should_not():
    assert domain.grade(QUIZ, {"q1": ["a"], "q2": ["c", "d"]}).score_percent == 100
    half = domain.grade(QUIZ, {"q1": ["a"], "q2": ["c"]})
    assert (half.score_percent, half.passed, half.correct) == (50, True, 1)
    assert domain.grade(QUIZ, {}).score_percent == 0
    with pytest.raises(ValidationFailed) as err:
        domain.grade(QUIZ, {"q1": ["a", "b"], "zz": ["a"], "q2": ["nope"]})
    assert set(err.value.fields) == {"answers.q1", "answers.zz", "answers.q2"}
    public = domain.public_quiz(QUIZ)
    assert "correct" not in json.dumps(public) and len(public["questions"][1]["choices"]) == 3


@given(st.lists(st.sampled_from(["a", "b"]), max_size=1), st.sets(st.sampled_from(["c", "d", "e"])))
def test_score_is_the_share_of_exactly_right_questions(q1, q2):
    result = domain.grade(QUIZ, {"q1": q1, "q2": sorted(q2)})
    expected = (q1 == ["a"]) + (q2 == {"c", "d"})
    assert result.correct == expected and result.score_percent == round(100 * expected / 2)
    assert result.passed == (result.score_percent >= 50)


def test_attempt_limit():
    domain.check_attempts_left(QUIZ, 1, False)
    with pytest.raises(Conflict) as err:
        domain.check_attempts_left(QUIZ, 2, False)
    assert err.value.code == "attempt_limit_reached"
    with pytest.raises(Conflict):
        domain.check_attempts_left(QUIZ, 0, True)
    domain.check_attempts_left({**QUIZ, "max_attempts": 0}, 999, False)


def test_access_follows_plan():
    assert domain.access(False, "free") == "full"
    assert domain.access(True, "free") == "read_only"
    assert domain.access(True, "pro") == domain.access(True, "team") == "full"
    with pytest.raises(Forbidden) as err:
        domain.require_entitlement(True, "free")
    assert err.value.code == "entitlement_required"


def _snap():
    modules = [{"id": "m1", "title": "M", "lessons": [
        {"id": "l1", "title": "A", "kind": "article", "required": True, "estimated_minutes": 5, "body_md": "x"},
        {"id": "l2", "title": "Q", "kind": "quiz", "required": True, "estimated_minutes": 5, "quiz": QUIZ},
        {"id": "l3", "title": "Q2", "kind": "quiz", "required": False, "estimated_minutes": 5, "quiz": QUIZ}]}]
    return domain.snapshot({"id": "c", "title": "C"}, modules)


def test_completion_needs_tracker_and_required_quizzes():
    snap = _snap()
    assert domain.required_quizzes(snap) == ["l2"]
    assert not domain.is_complete(snap, True, [], [])             # the tracker alone cannot pass a quiz
    assert not domain.is_complete(snap, False, [], ["l2"])        # the article is not done
    assert domain.is_complete(snap, True, [], ["l2"])             # the tracker saw the article done
    assert domain.is_complete(snap, False, ["l1"], ["l2"])        # the LMS recorded the article itself
    assert not domain.is_complete(snap, False, ["l1", "l2"], [])  # a "done" quiz is not a passed one
    outline = domain.outline(snap)
    assert "body_md" not in json.dumps(outline) and outline[0]["lessons"][1]["position"] == 1
    assert domain.find_lesson(snap, "l3")["title"] == "Q2" and domain.find_lesson(snap, "zz") is None


def test_the_counted_lessons():
    snap = _snap()
    assert domain.counted_lessons(snap) == ["l1", "l2"]  # the optional quiz does not count
    optional = domain.snapshot({"id": "c", "title": "C"}, [{"id": "m", "title": "M", "lessons": [
        {"id": "o1", "title": "A", "kind": "article", "required": False, "estimated_minutes": 5, "body_md": "x"},
        {"id": "o2", "title": "B", "kind": "article", "required": False, "estimated_minutes": 5, "body_md": "y"}]}])
    assert domain.counted_lessons(optional) == ["o1", "o2"]  # nothing required: every lesson counts
    assert not domain.is_complete(optional, False, ["o1"], []) and domain.is_complete(optional, False, ["o1", "o2"], [])


def test_opening_records_by_kind_and_a_quiz_is_done_only_by_passing():
    assert [domain.verb_on_open(k) for k in ("article", "file", "video", "quiz")] == [
        "completed", "completed", "launched", "launched"]
    domain.require_markable("video")
    with pytest.raises(ValidationFailed) as err:
        domain.require_markable("quiz")
    assert err.value.code == "quiz_needs_attempt"


def test_module_patch_and_course_results():
    assert domain.validate_module_patch({"position": 0}) == {"position": 0}
    with pytest.raises(ValidationFailed) as err:
        domain.validate_module_patch({"kind": "x", "position": -1})
    assert set(err.value.fields) == {"kind", "position"}
    with pytest.raises(ValidationFailed):
        domain.validate_module_patch({})
    quiz = {"pass_percent": 50, "max_attempts": 0, "questions": [
        {"id": "q1", "prompt": "P1", "multiple": False, "choices": [{"id": "a", "correct": True}, {"id": "b", "correct": False}]},
        {"id": "q2", "prompt": "P2", "multiple": False, "choices": [{"id": "c", "correct": True}, {"id": "d", "correct": False}]}]}
    snap = {"modules": [{"lessons": [{"lesson_id": "L", "title": "Quiz", "kind": "quiz", "quiz": quiz}]}]}
    enrolments = [
        {"user_id": "u1", "display_name": "Ann", "status": "active", "completed_at": "2026-01-02", "percent": 80,
         "created_at": "2026-01-01", "certificate_id": "c1"},
        {"user_id": "u2", "display_name": "Bo", "status": "active", "completed_at": None, "percent": 40,
         "created_at": "2026-01-01", "certificate_id": None},
        {"user_id": "u3", "display_name": "Cy", "status": "cancelled", "completed_at": None, "percent": 0,
         "created_at": "2026-01-01", "certificate_id": None}]
    attempts = [{"user_id": "u1", "lesson_id": "L", "score_percent": 50, "passed": True, "answers": {"q1": ["a"], "q2": ["d"]}},
                {"user_id": "u2", "lesson_id": "L", "score_percent": 0, "passed": False, "answers": {"q1": ["b"]}},
                {"user_id": "u1", "lesson_id": "other", "score_percent": 0, "passed": False, "answers": {}}]
    results = domain.course_results(snap, enrolments, attempts)
    assert results["enrollments"] == {"total": 3, "active": 1, "completed": 1, "cancelled": 1,
                                      "completion_rate_percent": 33}
    assert [(r["status"], r["percent"]) for r in results["learners"]] == [("completed", 100), ("active", 40),
                                                                           ("cancelled", 0)]
    [q] = results["quizzes"]
    assert (q["attempts"], q["passed"], q["learners_passed"], q["mean_score_percent"]) == (2, 1, 1, 25)
    assert [(x["question_id"], x["answered"], x["correct"], x["correct_percent"]) for x in q["questions"]] == [
        ("q1", 2, 1, 50), ("q2", 1, 0, 0)]


def test_publish_problems():
    assert "modules" in domain.publish_problems([])
    problems = domain.publish_problems([{"lessons": [{"id": "v", "kind": "video", "asset": None}]}])
    assert list(problems) == ["lessons.v.asset"]


def test_statements_match_the_tracker_schema():
    user = "11111111-1111-1111-1111-111111111111"
    lesson = domain.statement(user, "passed", course_id="c1", lesson_id="l1", title="Quiz", score_percent=80,
                              success=True, statement_id="22222222-2222-2222-2222-222222222222",
                              timestamp="2026-01-01T00:00:00+00:00")
    XAPI(lesson)
    assert lesson["object"]["id"] == "https://careeros.dev/xapi/lessons/l1"
    assert lesson["context"]["contextActivities"]["parent"] == [{"id": "https://careeros.dev/xapi/courses/c1"}]
    assert lesson["result"]["score"]["scaled"] == 0.8
    course = domain.statement(user, "completed", course_id="c1")
    XAPI(course)
    assert "context" not in course and course["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
