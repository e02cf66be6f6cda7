"""The learning scenario over HTTP with every process running (the platform fixture of tests/e2e):
an organisation's owner invites an instructor and a learner; the instructor builds and publishes a
course with a quiz and an asset; the learner enrols, reads, passes the quiz and reports statements
(a retried batch counts once); the tracker's progress event completes the course and the LMS
issues a publicly verifiable certificate PDF. The organisation's analytics count the enrolment,
the completion and the active learner (a learner sees their own row only); another organisation
sees none of it."""
from __future__ import annotations

import csv
import io
import uuid
from urllib.parse import urlparse

import pypdf

from careeros_services.lms import domain
from tests.e2e.test_walking_skeleton import PASSWORD, bearer, login, register
from tests.polling import eventually


def _join(api, owner_token: str, role: str, name: str) -> dict:  # noqa: F811
    email = f"{role}{uuid.uuid4().hex[:8]}@example.com"
    invite = api.post("/orgs/current/invites", json={"email": email, "role": role}, headers=bearer(owner_token))
    assert invite.status_code == 201, invite.text
    accepted = api.post(f"/orgs/invites/{invite.json()['token']}/accept",
                        json={"password": PASSWORD, "display_name": name})
    assert accepted.status_code in (200, 201), accepted.text
    body = accepted.json()
    return {"token": body["tokens"]["access_token"], "user_id": body["user_id"], "tenant_id": body["tenant_id"]}


def _course_progress(api, headers: dict, course_id: str):
    response = api.get("/tracking/progress", params={"course_id": course_id}, headers=headers)
    courses = response.json()["courses"]
    return courses[0] if courses else None


def test_instructor_builds_learner_passes_and_gets_a_certificate(api):  # noqa: F811
    owner = register(api, organization_name=f"Acme {uuid.uuid4().hex[:6]}")
    owner_token = login(api, owner["email"])["access_token"]
    teacher = _join(api, owner_token, "instructor", "Ivy Instructor")
    learner = _join(api, owner_token, "member", "Lee Learner")
    t, me = bearer(teacher["token"]), bearer(learner["token"])

    course = api.post("/lms/courses", headers=t, json={
        "title": "Incident Response Basics", "summary": "Triage, contain, recover.", "level": "beginner",
        "skills": [{"name": "cyber attack counter-measures", "level": 2,
                    "esco_uri": "http://data.europa.eu/esco/skill/5898d99a-62a4-4e10-a2e3-0d815ce44248"}]})
    assert course.status_code == 201, course.text
    cid = course.json()["id"]
    mid = api.post(f"/lms/courses/{cid}/modules", headers=t, json={"title": "Playbook"}).json()["module_id"]
    article = api.post(f"/lms/modules/{mid}/lessons", headers=t, json={
        "title": "Triage", "kind": "article", "body_md": "# Triage\n\nSeverity first."}).json()
    runbook = api.post(f"/lms/modules/{mid}/lessons", headers=t,
                       json={"title": "Runbook", "kind": "file", "required": False}).json()
    quiz = api.post(f"/lms/modules/{mid}/lessons", headers=t, json={
        "title": "Check", "kind": "quiz", "quiz": {"pass_percent": 100, "max_attempts": 3, "questions": [
            {"prompt": "First step?", "choices": [{"text": "Triage", "correct": True}, {"text": "Panic"}]}]}})
    assert quiz.status_code == 201, quiz.text
    quiz = quiz.json()
    pdf = b"%PDF-1.4 runbook " + b"." * 200_000  # far above the gateway's global 64 KiB body limit
    up = api.post(f"/lms/lessons/{runbook['lesson_id']}/assets?filename=runbook.pdf", data=pdf,
                  headers={**t, "Content-Type": "application/pdf"})
    assert up.status_code == 201, up.text
    published = api.post(f"/lms/courses/{cid}/publish", headers=t)
    assert published.status_code == 200 and published.json()["revision"] == 1, published.text

    found = api.get("/lms/courses", params={"q": "incident response"}, headers=me).json()["items"]
    assert cid in [c["id"] for c in found]
    assert api.post(f"/lms/courses/{cid}/enrollments", headers=me).status_code == 201
    assert api.get(f"/lms/lessons/{article['lesson_id']}", headers=me).json()["body_md"].startswith("# Triage")
    link = urlparse(api.get(f"/lms/lessons/{runbook['lesson_id']}", headers=me).json()["asset"]["url"])
    download = api.get(link.path.split("/api/v1", 1)[1] + "?" + link.query)
    assert download.status_code == 200 and download.content == pdf
    seen = api.get(f"/lms/lessons/{quiz['lesson_id']}", headers=me).json()
    question = seen["quiz"]["questions"][0]
    assert all("correct" not in c for c in question["choices"])
    answer = next(c["id"] for c in question["choices"] if c["text"] == "Triage")
    result = api.post(f"/lms/lessons/{quiz['lesson_id']}/quiz-attempts", headers=me,
                      json={"answers": [{"question_id": question["id"], "choice_ids": [answer]}]})
    assert result.status_code == 201 and result.json()["passed"] is True, result.text

    # The learner's client reports the article read and the runbook opened, as one batch with
    # statement ids; the tracker combines them with the LMS's "passed" statement into
    # progress.updated (required_done), and the LMS issues the certificate.
    batch = [domain.statement(learner["user_id"], "completed", course_id=cid, lesson_id=lesson["lesson_id"],
                              title=lesson["title"], statement_id=str(uuid.uuid4()))
             for lesson in (article, runbook)]
    for stmt, minutes in zip(batch, (5, 2)):
        stmt["result"] = {"completion": True, "duration": f"PT{minutes}M"}
    first = api.post("/tracking/statements", json=batch, headers=me)
    assert first.status_code == 200, first.text
    assert (first.json()["stored"], first.json()["duplicates"]) == (2, 0)
    progress = eventually(lambda: _course_progress(api, me, cid),
                          lambda c: c and c["completed"] and c["lessons_done"] == 3 and c["time_spent_s"] >= 7 * 60,
                          timeout_s=40.0)
    assert (progress["lessons_done"], progress["lessons_total"], progress["completed"]) == (3, 3, True)
    assert progress["time_spent_s"] >= 7 * 60

    # The client retries the same batch (a lost response): counted once, nothing moves.
    again = api.post("/tracking/statements", json=batch, headers=me)
    assert again.status_code == 200, again.text
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 2)
    assert again.json()["statement_ids"] == first.json()["statement_ids"] == [b["id"] for b in batch]
    figures = ("percent", "lessons_done", "time_spent_s", "completed")
    assert {k: _course_progress(api, me, cid)[k] for k in figures} == {k: progress[k] for k in figures}
    stored = [st["id"] for st in api.get("/tracking/statements", params={"limit": 200}, headers=me)
              .json()["statements"]]
    assert len(stored) == len(set(stored)) and {b["id"] for b in batch} <= set(stored)

    enrolment = eventually(lambda: api.get("/lms/enrollments", headers=me).json()["items"],
                           lambda items: items and items[0]["certificate_id"], timeout_s=40.0)[0]
    # no token; the name follows auth's event if the learner finished before it reached the LMS
    facts = eventually(lambda: api.get(f"/lms/certificates/{enrolment['certificate_id']}").json(),
                       lambda found: found.get("learner_name"), timeout_s=40.0)
    assert (facts["course_title"], facts["learner_name"], facts["valid"]) == (
        "Incident Response Basics", "Lee Learner", True)
    pdf_link = urlparse(facts["pdf_url"])
    certificate_pdf = api.get(pdf_link.path.split("/api/v1", 1)[1] + "?" + pdf_link.query)
    text = pypdf.PdfReader(io.BytesIO(certificate_pdf.content)).pages[0].extract_text()
    assert "Incident Response Basics" in text and "Lee Learner" in text

    # The organisation's analytics (filled from the topics by its own consumer) count the learner
    # once: one enrolment, completed (certified), one active learner, each statement once.
    o = bearer(owner_token)

    def owner_view():
        overview = api.get("/analytics/overview", headers=o)
        assert overview.status_code == 200, overview.text
        statements = api.get("/tracking/statements", params={"limit": 200}, headers=o).json()["statements"]
        return overview.json(), statements

    def counted(view):
        overview, statements = view
        return (overview["enrollments"]["created"], overview["enrollments"]["completed"],
                overview["certificates"], overview["active_learners"]["total"],
                overview["activity"]["statements"]) == (1, 1, 1, 1, len(statements))

    overview, statements = eventually(owner_view, counted, timeout_s=40.0)
    assert overview["tenant_id"] == learner["tenant_id"]
    assert overview["enrollments"]["completion_rate_percent"] == 100
    assert (overview["quizzes"]["attempts"], overview["quizzes"]["passed"]) == (1, 1)
    assert overview["activity"]["time_spent_s"] == progress["time_spent_s"]
    assert {st["actor"]["account"]["name"] for st in statements} == {learner["user_id"]}
    for not_allowed in (me, t):  # members and instructors get their own row only, never the tenant's figures
        denied = api.get("/analytics/overview", headers=not_allowed)
        assert denied.status_code == 403 and denied.json()["code"] == "analytics_forbidden", denied.text

    mine = api.get("/analytics/learners", headers=me)
    assert mine.status_code == 200, mine.text
    assert (mine.json()["scope"], mine.json()["total"]) == ("self", 1)
    [row] = mine.json()["learners"]
    assert (row["user_id"], row["display_name"]) == (learner["user_id"], "Lee Learner")
    assert (row["enrollments"], row["enrollments_completed"], row["certificates"], row["quizzes_passed"],
            row["statements"]) == (1, 1, 1, 1, len(statements))

    export = api.get("/analytics/export.csv", headers=o)
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv"), export.text
    rows = {r["user_id"]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert {learner["user_id"], teacher["user_id"], owner["user_id"]} <= set(rows)
    assert (rows[learner["user_id"]]["display_name"], rows[learner["user_id"]]["enrollments_completed"],
            rows[learner["user_id"]]["statements"]) == ("Lee Learner", "1", str(len(statements)))

    # Another organisation sees none of it: not the private course, not the statements, not the figures.
    stranger = register(api, organization_name=f"Other {uuid.uuid4().hex[:6]}")
    s = bearer(login(api, stranger["email"])["access_token"])
    assert cid not in [c["id"] for c in api.get("/lms/courses", params={"q": "incident response"},
                                                  headers=s).json()["items"]]
    hidden = api.get(f"/lms/courses/{cid}", headers=s)
    assert hidden.status_code == 404 and hidden.json()["code"] == "course_not_found", hidden.text
    assert api.get("/tracking/statements", params={"limit": 200}, headers=s).json()["statements"] == []
    theirs = api.get("/analytics/overview", headers=s)
    assert theirs.status_code == 200, theirs.text
    theirs = theirs.json()
    assert theirs["tenant_id"] == stranger["tenant_id"] != learner["tenant_id"]
    assert (theirs["enrollments"]["created"], theirs["enrollments"]["completed"], theirs["certificates"],
            theirs["active_learners"]["total"], theirs["activity"]["statements"],
            theirs["quizzes"]["attempts"]) == (0, 0, 0, 0, 0, 0)
    their_rows = list(csv.DictReader(io.StringIO(api.get("/analytics/export.csv", headers=s).text)))
    assert learner["user_id"] not in {r["user_id"] for r in their_rows}
