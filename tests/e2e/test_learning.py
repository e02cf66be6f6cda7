"""The learning scenario over HTTP with every process running (the platform fixture of tests/e2e):
an instructor builds and publishes a course with a quiz and an asset; a learner of the same
organisation enrols, reads, passes the quiz; the tracker's progress event completes the course
and the LMS issues a publicly verifiable certificate PDF."""
from __future__ import annotations

import io
import time
import uuid
from urllib.parse import urlparse

import pypdf

from careeros_services.lms import domain
from tests.e2e.test_walking_skeleton import PASSWORD, bearer, login, register


def _join(api, owner_token: str, role: str, name: str) -> dict:  # noqa: F811
    email = f"{role}{uuid.uuid4().hex[:8]}@example.com"
    invite = api.post("/orgs/current/invites", json={"email": email, "role": role}, headers=bearer(owner_token))
    assert invite.status_code == 201, invite.text
    accepted = api.post(f"/orgs/invites/{invite.json()['token']}/accept",
                        json={"password": PASSWORD, "display_name": name})
    assert accepted.status_code in (200, 201), accepted.text
    body = accepted.json()
    return {"token": body["tokens"]["access_token"], "user_id": body["user_id"], "tenant_id": body["tenant_id"]}


def _eventually(fetch, ok, timeout_s: float = 40.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"gave up waiting; last: {value}"
        time.sleep(0.3)


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

    # The learner's client reports the article read; the tracker combines it with the LMS's
    # "passed" statement into progress.updated (required_done), and the LMS issues the certificate.
    read = domain.statement(learner["user_id"], "completed", course_id=cid, lesson_id=article["lesson_id"],
                            title="Triage")
    assert api.post("/tracking/statements", json=read, headers=me).status_code == 200
    enrolment = _eventually(lambda: api.get("/lms/enrollments", headers=me).json()["items"],
                            lambda items: items and items[0]["certificate_id"])[0]
    certificate = api.get(f"/lms/certificates/{enrolment['certificate_id']}")  # no token
    assert certificate.status_code == 200, certificate.text
    facts = certificate.json()
    assert (facts["course_title"], facts["learner_name"], facts["valid"]) == (
        "Incident Response Basics", "Lee Learner", True)
    pdf_link = urlparse(facts["pdf_url"])
    certificate_pdf = api.get(pdf_link.path.split("/api/v1", 1)[1] + "?" + pdf_link.query)
    text = pypdf.PdfReader(io.BytesIO(certificate_pdf.content)).pages[0].extract_text()
    assert "Incident Response Basics" in text and "Lee Learner" in text
