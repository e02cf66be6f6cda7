"""Completion owned by the LMS, progress recorded on the learner's behalf, authoring edits, results,
catalog access and certificate issuers: the lms service layer on its real PostgreSQL database."""
from __future__ import annotations

import io
import uuid

import pypdf
import pytest

from careeros_services.common import esco
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from careeros_services.lms import domain
from tests.lms.support import author, build_course, envelope, learner, outbox, progress, right_answers

COMPLETED = "careeros.lms.enrollment.completed.v1"


def _statements(store, user_id: str) -> list[dict]:
    return [e["payload"]["statement"] for e in outbox(store, "careeros.lms.activity.recorded.v1")
            if e["payload"]["user_id"] == user_id]


def _verbs(store, user_id: str) -> list[tuple[str, str]]:
    return [(s["verb"]["id"].rsplit("/", 1)[1], s["object"]["id"].rsplit("/", 1)[1]) for s in _statements(store, user_id)]


def _organisation(svc, tenant_id: str, name: str) -> None:
    assert svc.handle_event(envelope("careeros.auth.tenant.created.v1", tenant_id, {
        "tenant_id": tenant_id, "name": name, "kind": "organization", "plan_tier": "team",
        "owner_user_id": str(uuid.uuid4())}))


def test_opening_every_lesson_and_passing_the_quiz_completes_once(svc, lms_store, storage):
    owner = author()
    _organisation(svc, owner.tenant_id, "Acme Learning")
    built = build_course(svc, owner, title="Seams 101")
    course_id, lessons = built["course"]["id"], built["lessons"]
    student = learner(owner.tenant_id)
    svc.enroll(student, course_id)

    for kind in ("article", "file", "quiz", "article"):  # the article twice: recorded once
        svc.get_lesson(student, lessons[kind]["lesson_id"])
    ids = {k: l["lesson_id"] for k, l in lessons.items()}
    assert _verbs(lms_store, student.user_id) == [
        ("completed", ids["article"]), ("completed", ids["file"]), ("launched", ids["quiz"])]
    statements = _statements(lms_store, student.user_id)
    assert len({s["id"] for s in statements}) == 3 and all(
        s["context"]["contextActivities"]["parent"][0]["id"].endswith(course_id) for s in statements)
    assert svc.list_enrollments(student)[0]["status"] == "active"

    # No tracker event has arrived: the LMS's own records and the graded quiz complete the course.
    result = svc.submit_quiz(student, ids["quiz"], right_answers(lessons["quiz"]["quiz"]))
    assert result["passed"] and result["certificate_id"]
    [mine] = svc.list_enrollments(student)
    assert (mine["status"], mine["percent"], mine["certificate_id"]) == ("completed", 100, result["certificate_id"])
    assert mine["completed_at"]
    again = svc.enroll(student, course_id)  # enrolling again answers the same, complete enrolment
    assert (again["created"], again["status"], again["certificate_id"]) == (False, "completed", result["certificate_id"])
    completed = [e["payload"] for e in outbox(lms_store, COMPLETED) if e["payload"]["user_id"] == student.user_id]
    assert completed == [{"enrollment_id": mine["enrollment_id"], "course_id": course_id, "user_id": student.user_id,
                          "tenant_id": student.tenant_id, "revision": 1, "certificate_id": result["certificate_id"],
                          "completed_at": completed[0]["completed_at"]}]

    # A late tracker event (and a redelivery) changes nothing: one completion, one certificate.
    late = progress(student.tenant_id, student.user_id, course_id, percent=66)
    assert svc.handle_event(late) and not svc.handle_event(late)
    assert len([e for e in outbox(lms_store, COMPLETED) if e["payload"]["user_id"] == student.user_id]) == 1
    assert svc.list_enrollments(student)[0]["percent"] == 100

    cert = svc.get_certificate(result["certificate_id"])
    assert cert["issuer"] == "Acme Learning"
    assert cert["verify_url"] == f"http://web/certificates/{cert['certificate_id']}"  # the web's page
    text = pypdf.PdfReader(io.BytesIO(storage.get(f"lms/certificates/{cert['certificate_id']}.pdf"))).pages[0]
    assert "Issued by Acme Learning" in text.extract_text()


def test_a_catalog_course_certificate_is_issued_by_careeros(svc):
    owner = author()  # no tenant.created seen for it: the issuer falls back to CareerOS too
    built = build_course(svc, owner, with_file=False)
    student = learner(owner.tenant_id)
    svc.enroll(student, built["course"]["id"])
    svc.get_lesson(student, built["lessons"]["article"]["lesson_id"])
    quiz = built["lessons"]["quiz"]
    certificate_id = svc.submit_quiz(student, quiz["lesson_id"], right_answers(quiz["quiz"]))["certificate_id"]
    assert svc.get_certificate(certificate_id)["issuer"] == "CareerOS"


def test_a_certificate_issued_before_the_learner_s_name_arrived_is_named_when_it_does(svc, storage):
    """The LMS learns names from auth's user.registered: a learner may finish first (events race)."""
    owner = author()
    built = build_course(svc, owner, with_file=False)
    student = learner(owner.tenant_id)
    svc.enroll(student, built["course"]["id"])
    svc.get_lesson(student, built["lessons"]["article"]["lesson_id"])
    quiz = built["lessons"]["quiz"]
    certificate_id = svc.submit_quiz(student, quiz["lesson_id"], right_answers(quiz["quiz"]))["certificate_id"]
    assert svc.get_certificate(certificate_id)["learner_name"] == ""
    assert svc.handle_event(envelope("careeros.auth.user.registered.v1", owner.tenant_id, {
        "user_id": student.user_id, "tenant_id": owner.tenant_id, "tenant_kind": "organization",
        "org_role": "member", "plan_tier": "team", "display_name": "Late Lee",
        "registered_at": "2026-12-06T00:00:00+00:00"}))
    assert svc.get_certificate(certificate_id)["learner_name"] == "Late Lee"
    pdf = pypdf.PdfReader(io.BytesIO(storage.get(f"lms/certificates/{certificate_id}.pdf"))).pages[0]
    assert "Late Lee" in pdf.extract_text()


def test_mark_done_is_explicit_idempotent_and_not_for_quizzes(svc, lms_store):
    owner = author()
    built = build_course(svc, owner)
    student = learner(owner.tenant_id)
    file_id = built["lessons"]["file"]["lesson_id"]
    with pytest.raises(Forbidden) as err:
        svc.complete_lesson(student, file_id)
    assert err.value.code == "enrollment_required"
    svc.enroll(student, built["course"]["id"])
    first = svc.complete_lesson(student, file_id)
    assert (first["done"], first["recorded"], first["course_completed"]) == (True, True, False)
    assert svc.complete_lesson(student, file_id)["recorded"] is False
    assert _verbs(lms_store, student.user_id) == [("completed", file_id)]
    with pytest.raises(ValidationFailed) as err:
        svc.complete_lesson(student, built["lessons"]["quiz"]["lesson_id"])
    assert err.value.code == "quiz_needs_attempt"


def test_catalog_access_is_the_same_in_the_list_and_the_course_page(svc):
    owner = author()
    built = build_course(svc, owner, premium=True, with_file=False, title=f"Premium seams {uuid.uuid4().hex[:6]}")
    course_id = built["course"]["id"]
    for plan, expected in (("free", "read_only"), ("pro", "full")):
        caller = learner(owner.tenant_id, plan)
        [listed] = [c for c in svc.search_courses(caller, text=built["course"]["title"])["items"] if c["id"] == course_id]
        assert listed["access"] == svc.get_course(caller, course_id)["access"] == expected


def test_authors_edit_move_and_delete_lessons_and_modules(svc):
    owner = author()
    course = svc.create_course(owner, {"title": f"Editing {uuid.uuid4().hex[:6]}"})
    m1 = svc.add_module(owner, course["id"], {"title": "One"})
    m2 = svc.add_module(owner, course["id"], {"title": "Two"})
    m3 = svc.add_module(owner, course["id"], {"title": "Three"})
    a = svc.add_lesson(owner, m1["module_id"], {"title": "A", "kind": "article", "body_md": "a"})
    b = svc.add_lesson(owner, m1["module_id"], {"title": "B", "kind": "article", "body_md": "b"})
    q = svc.add_lesson(owner, m2["module_id"], {"title": "Q", "kind": "quiz", "quiz": {"questions": [
        {"prompt": "?", "choices": [{"text": "y", "correct": True}, {"text": "n"}]}]}})

    edited = svc.update_lesson(owner, a["lesson_id"], {"title": "A, revised", "body_md": "# New", "position": 1})
    assert (edited["title"], edited["body_md"], edited["kind"]) == ("A, revised", "# New", "article")
    quiz = svc.update_lesson(owner, q["lesson_id"], {"quiz": {"pass_percent": 100, "questions": [
        {"prompt": "Sure?", "choices": [{"text": "yes", "correct": True}, {"text": "no"}]}]}})["quiz"]
    assert quiz["pass_percent"] == 100 and quiz["questions"][0]["prompt"] == "Sure?" and quiz["questions"][0]["id"]
    with pytest.raises(ValidationFailed) as err:
        svc.update_lesson(owner, a["lesson_id"], {"kind": "video"})
    assert "kind" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        svc.update_lesson(owner, a["lesson_id"], {"title": ""})
    assert "title" in err.value.fields

    assert svc.update_module(owner, m3["module_id"], {"position": 0, "title": "Intro"})["title"] == "Intro"
    svc.remove_module(owner, m2["module_id"])
    structure = svc.get_course(owner, course["id"])["modules"]
    assert [(m["title"], m["position"]) for m in structure] == [("Intro", 0), ("One", 1)]
    assert [l["title"] for l in structure[1]["lessons"]] == ["B", "A, revised"]

    member = learner(owner.tenant_id)
    with pytest.raises(Forbidden):
        svc.update_module(member, m1["module_id"], {"title": "Mine"})
    with pytest.raises(NotFound):
        svc.update_lesson(author(), a["lesson_id"], {"title": "Theirs"})  # another organisation's author
    svc.publish_course(owner, course["id"])
    svc.archive_course(owner, course["id"])
    with pytest.raises(Conflict):
        svc.update_lesson(owner, b["lesson_id"], {"title": "Too late"})


def test_instructors_see_the_results_of_their_courses(svc):
    owner = author(role="owner")
    built = build_course(svc, owner, with_file=False)
    course_id, quiz = built["course"]["id"], built["lessons"]["quiz"]
    passer, failer = learner(owner.tenant_id), learner(owner.tenant_id)
    for student in (passer, failer):
        svc.enroll(student, course_id)
    svc.get_lesson(passer, built["lessons"]["article"]["lesson_id"])
    svc.submit_quiz(passer, quiz["lesson_id"], right_answers(quiz["quiz"]))
    wrong = {qq["id"]: [next(c["id"] for c in qq["choices"] if not c["correct"])] for qq in quiz["quiz"]["questions"]}
    svc.submit_quiz(failer, quiz["lesson_id"], wrong)

    instructor = author(owner.tenant_id, role="instructor")
    results = svc.course_results(instructor, course_id)
    assert results["enrollments"] == {"total": 2, "active": 1, "completed": 1, "cancelled": 0,
                                      "completion_rate_percent": 50}
    by_user = {r["user_id"]: r for r in results["learners"]}
    assert (by_user[passer.user_id]["status"], by_user[passer.user_id]["percent"]) == ("completed", 100)
    assert by_user[failer.user_id]["status"] == "active"
    [figures] = results["quizzes"]
    assert (figures["attempts"], figures["passed"], figures["mean_score_percent"]) == (2, 1, 50)
    assert [(x["correct"], x["correct_percent"]) for x in figures["questions"]] == [(1, 50)] * 3
    with pytest.raises(Forbidden) as err:
        svc.course_results(passer, course_id)
    assert err.value.code == "author_role_required"
    with pytest.raises(NotFound):
        svc.course_results(author(), course_id)


def test_course_skills_are_linked_to_esco(svc):
    owner = author()
    python = esco.resolve_skill("Python")
    course = svc.create_course(owner, {"title": f"Skills {uuid.uuid4().hex[:6]}", "skills": [
        {"name": "Python", "level": 2}, {"name": "Quantum basket weaving", "level": 1}]})
    assert [(s["name"], s["esco_uri"]) for s in course["skills"]] == [
        ("Python", python.uri), ("Quantum basket weaving", "")]
    found = svc.search_courses(owner, status="draft", skill=python.uri)["items"]
    assert course["id"] in [c["id"] for c in found]  # searchable by its ESCO URI
    bad = "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ValidationFailed) as err:
        svc.update_course(owner, course["id"], {"skills": [{"name": "Python", "esco_uri": bad, "level": 2}]})
    assert list(err.value.fields) == ["skills.0.esco_uri"]
    assert domain.skill_keys(course["skills"])[:2] == ["python", python.uri]
