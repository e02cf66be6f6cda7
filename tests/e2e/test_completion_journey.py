"""Issue 11's learning journey through every process, without the client posting one statement:

an organisation's instructor builds a course (skills linked to ESCO by name), edits and reorders it,
publishes it; a learner enrols, opens every lesson and passes the quiz. The LMS records that
progress as xAPI statements through the tracker's ingestion path, judges the course complete and
issues the certificate (naming the organisation; its verification link is a readable page), and
within seconds the enrolment, the tracker's progress, the instructor's results and the
organisation's analytics all say complete. (The roadmap milestone follows the same event: see
test_roadmap_loop.) The catalog shows a premium course to a free learner with the same ``access``
in the list and on the course page.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from tests.e2e.test_learning import _join
from tests.e2e.test_walking_skeleton import bearer, login, register
from tests.polling import eventually

pytestmark = pytest.mark.e2e
CATALOG = Path(__file__).resolve().parents[2] / "careeros_services" / "lms" / "seed" / "catalog.json"


def catalog_answers() -> dict[str, list[str]]:
    """The seeded catalog's right answers (question id -> choice ids): what a learner who knows them picks."""
    courses = json.loads(CATALOG.read_text())["courses"]
    return {q["id"]: [c["id"] for c in q["choices"] if c["correct"]]
            for course in courses for m in course["modules"] for lesson in m["lessons"] if lesson["kind"] == "quiz"
            for q in lesson["quiz"]["questions"]}


def learn(api, headers: dict, course_id: str, answers: dict[str, list[str]]) -> list[dict]:
    """Enrol, open every lesson of the course page and pass its quizzes: what a learner does in the UI."""
    enrolled = api.post(f"/lms/courses/{course_id}/enrollments", headers=headers)
    assert enrolled.status_code in (200, 201), enrolled.text
    results = []
    for module in api.get(f"/lms/courses/{course_id}", headers=headers).json()["modules"]:
        for outline in module["lessons"]:
            lesson = api.get(f"/lms/lessons/{outline['lesson_id']}", headers=headers)
            assert lesson.status_code == 200, lesson.text
            if outline["kind"] == "quiz":
                questions = lesson.json()["quiz"]["questions"]
                attempt = api.post(f"/lms/lessons/{outline['lesson_id']}/quiz-attempts", headers=headers, json={
                    "answers": [{"question_id": q["id"], "choice_ids": answers[q["id"]]} for q in questions]})
                assert attempt.status_code == 201 and attempt.json()["passed"], attempt.text
                results.append(attempt.json())
    return results


def _build(api, t: dict) -> tuple[str, dict[str, list[str]]]:
    course = api.post("/lms/courses", headers=t, json={
        "title": "Seams: Python for analysts", "summary": "Functions and data.", "level": "beginner",
        "skills": [{"name": "Python", "level": 2}]})
    assert course.status_code == 201, course.text
    assert course.json()["skills"][0]["esco_uri"].startswith("http://data.europa.eu/esco/skill/")
    cid = course.json()["id"]
    intro = api.post(f"/lms/courses/{cid}/modules", headers=t, json={"title": "Later"}).json()["module_id"]
    basics = api.post(f"/lms/courses/{cid}/modules", headers=t, json={"title": "Basics"}).json()["module_id"]
    assert api.patch(f"/lms/modules/{basics}", headers=t, json={"position": 0}).json()["position"] == 0
    article = api.post(f"/lms/modules/{basics}/lessons", headers=t, json={
        "title": "Functions", "kind": "article", "body_md": "draft"}).json()
    api.post(f"/lms/modules/{basics}/lessons", headers=t, json={
        "title": "Extra reading", "kind": "article", "body_md": "optional", "required": False})
    edited = api.patch(f"/lms/lessons/{article['lesson_id']}", headers=t, json={"body_md": "# def\n\nName it."})
    assert edited.status_code == 200, edited.text
    quiz = api.post(f"/lms/modules/{intro}/lessons", headers=t, json={
        "title": "Check", "kind": "quiz", "quiz": {"pass_percent": 100, "max_attempts": 3, "questions": [
            {"prompt": "Keyword?", "choices": [{"text": "def", "correct": True}, {"text": "fun"}]}]}}).json()
    question = quiz["quiz"]["questions"][0]
    answers = {question["id"]: [c["id"] for c in question["choices"] if c["correct"]]}
    assert api.post(f"/lms/courses/{cid}/publish", headers=t).status_code == 200
    return cid, answers


def test_a_learner_completes_a_course_without_posting_a_statement(api):
    org_name = f"Seams Org {uuid.uuid4().hex[:6]}"
    owner = register(api, organization_name=org_name)
    owner_token = login(api, owner["email"])["access_token"]
    teacher = _join(api, owner_token, "instructor", "Ina Instructor")
    learner = _join(api, owner_token, "member", "Lou Learner")
    t, me, o = bearer(teacher["token"]), bearer(learner["token"]), bearer(owner_token)

    # A premium catalog course for a free learner: the same access in the list and on the page.
    listed = api.get("/lms/courses", params={"page_size": 100}, headers=me).json()["items"]
    premium = next(c for c in listed if c["premium"])
    assert premium["access"] == api.get(f"/lms/courses/{premium['id']}", headers=me).json()["access"] == "read_only"

    cid, answers = _build(api, t)
    [attempt] = learn(api, me, cid, answers)
    assert attempt["certificate_id"], attempt  # complete at once: the LMS owns the decision

    enrolment = api.get("/lms/enrollments", headers=me).json()["items"][0]
    assert (enrolment["status"], enrolment["percent"], enrolment["certificate_id"]) == (
        "completed", 100, attempt["certificate_id"])

    def tracked():
        courses = api.get("/tracking/progress", params={"course_id": cid}, headers=me).json()["courses"]
        return courses[0] if courses else {}
    progress = eventually(tracked, lambda c: c.get("completed"))
    assert (progress["percent"], progress["required_done"], progress["lessons_total"]) == (100, True, 3)
    # What the LMS recorded on the learner's behalf: two articles read, the quiz launched and passed, the course.
    statements = eventually(lambda: api.get("/tracking/statements", params={"limit": 200}, headers=me).json()[
        "statements"], lambda found: len(found) >= 5)
    verbs = sorted(s["verb"]["id"].rsplit("/", 1)[1] for s in statements)
    assert verbs == ["completed", "completed", "completed", "launched", "passed"]

    overview = eventually(lambda: api.get("/analytics/overview", headers=o).json(),
                          lambda v: v["enrollments"]["completed"] == 1 and v["certificates"] == 1)
    assert overview["enrollments"]["completion_rate_percent"] == 100
    results = api.get(f"/lms/courses/{cid}/results", headers=t)
    assert results.status_code == 200, results.text
    assert results.json()["enrollments"]["completed"] == 1
    assert results.json()["quizzes"][0]["questions"][0]["correct_percent"] == 100

    facts = api.get(f"/lms/certificates/{attempt['certificate_id']}").json()
    assert (facts["issuer"], facts["learner_name"]) == (org_name, "Lou Learner")
    assert urlparse(facts["verify_url"]).path == f"/certificates/{attempt['certificate_id']}"  # the web's page
    page = requests.get(facts["verify_url"], timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.text
    assert org_name in page.text and "Seams: Python for analysts" in page.text
