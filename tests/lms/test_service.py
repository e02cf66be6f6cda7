"""The lms service layer on its real PostgreSQL database (RLS on, as careeros_app)."""
from __future__ import annotations

import copy
import io
import json
import uuid

import fastjsonschema
import psycopg2
import pypdf
import pytest

from careeros_services.common import db as dbmod
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from careeros_services.lms import domain, seeding
from tests.lms.support import author, build_course, learner, outbox, progress, right_answers, envelope

XAPI = fastjsonschema.compile(json.load(open("contracts/xapi/statement.v1.json")))
PYTHON_FOUNDATIONS = "python-foundations"


def _admin_cursor(config):
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "lms", admin=True))
    return conn, conn.cursor()


# --- seed and catalog ---------------------------------------------------------------------------

def test_seeded_catalog_is_public_to_every_tenant(svc):
    someone = learner(str(uuid.uuid4()))
    page = svc.search_courses(someone, page_size=100)
    catalog = seeding.load_catalog()
    assert page["total"] == len(catalog["courses"]) >= 30
    assert {c["slug"] for c in page["items"]} == {c["slug"] for c in catalog["courses"]}
    assert all(c["tenant_id"] == domain.PLATFORM_TENANT and c["visibility"] == "public" for c in page["items"])
    course = svc.get_course(someone, catalog["courses"][0]["id"])
    assert course["revision"] >= 1 and course["modules"] and course["modules"][0]["lessons"]


def test_search_by_text_skill_level_and_stable_pages(svc):
    someone = learner(str(uuid.uuid4()))
    hits = svc.search_courses(someone, text="python testing")["items"]
    assert hits[0]["slug"] == "python-testing-pytest"
    typo = svc.search_courses(someone, text="Pythn Foundatons")["items"]
    assert PYTHON_FOUNDATIONS in [c["slug"] for c in typo]
    by_uri = svc.search_courses(someone, skill="http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d")
    assert by_uri["total"] >= 3 and all(any(s["esco_uri"].endswith("ccd0a1d9-afda-43d9-b901-96344886e14d")
                                            for s in c["skills"]) for c in by_uri["items"])
    by_name = svc.search_courses(someone, skill="SQL")
    assert {c["slug"] for c in by_name["items"]} >= {"sql-for-everyone", "data-engineering-pipelines"}
    advanced = svc.search_courses(someone, level="advanced", page_size=100)["items"]
    assert advanced and all(c["level"] == "advanced" for c in advanced)
    everything = [c["id"] for c in svc.search_courses(someone, page_size=100)["items"]]
    pages = [c["id"] for p in range(1, 5) for c in svc.search_courses(someone, page=p, page_size=10)["items"]]
    assert pages == everything  # stable order, no overlap, nothing lost
    with pytest.raises(ValidationFailed) as err:
        svc.search_courses(someone, level="expert", page_size=500)
    assert set(err.value.fields) == {"level", "page_size"}


def test_seeding_is_idempotent_and_republishes_changed_courses(svc, lms_store, config):
    conn, cur = _admin_cursor(config)
    try:
        before = len(outbox(lms_store, "careeros.lms.course.published.v1"))
        assert seeding.seed(cur) == []
        conn.commit()
        assert len(outbox(lms_store, "careeros.lms.course.published.v1")) == before
        catalog = copy.deepcopy(seeding.load_catalog())
        course = next(c for c in catalog["courses"] if c["slug"] == "git-and-code-review")
        dropped = course["modules"][0]["lessons"].pop(1)  # the video walkthrough
        course["title"] = "Git and Code Review"
        assert seeding.seed(cur, catalog) == ["git-and-code-review"]
        conn.commit()
    finally:
        conn.close()
    event = outbox(lms_store, "careeros.lms.course.published.v1")[-1]["payload"]
    assert event["slug"] == "git-and-code-review" and event["revision"] == 2 and event["visibility"] == "public"
    lesson_ids = [l["lesson_id"] for m in event["modules"] for l in m["lessons"]]
    assert dropped["id"] not in lesson_ids and course["modules"][0]["lessons"][0]["id"] in lesson_ids


# --- authoring and tenancy ----------------------------------------------------------------------

def test_private_course_is_invisible_to_other_tenants(svc, lms_store):
    owner = author()
    built = build_course(svc, owner, title="Internal onboarding for Acme")
    course_id = built["course"]["id"]
    colleague = learner(owner.tenant_id)
    assert course_id in [c["id"] for c in svc.search_courses(colleague, text="Acme onboarding")["items"]]
    stranger = learner(str(uuid.uuid4()), plan="team")
    assert course_id not in [c["id"] for c in svc.search_courses(stranger, text="Acme onboarding")["items"]]
    assert course_id not in [c["id"] for c in svc.search_courses(stranger, page_size=100)["items"]]
    for call in (lambda: svc.get_course(stranger, course_id), lambda: svc.enroll(stranger, course_id),
                 lambda: svc.get_lesson(stranger, built["lessons"]["article"]["lesson_id"])):
        with pytest.raises(NotFound):
            call()
    # RLS, not only the repository filter: the stranger's transaction sees no row at all
    with lms_store.transaction(stranger.tenant_id) as tx:
        assert tx.db.execute_sql("SELECT count(*) FROM courses WHERE id = %s", (course_id,)).fetchone()[0] == 0
        assert tx.db.execute_sql("SELECT count(*) FROM lessons WHERE course_id = %s", (course_id,)).fetchone()[0] == 0


def test_only_authors_write_and_drafts_stay_hidden(svc):
    owner = author()
    with pytest.raises(Forbidden) as err:
        svc.create_course(learner(owner.tenant_id), {"title": "Nope"})
    assert err.value.code == "author_role_required"
    with pytest.raises(ValidationFailed) as err:
        svc.create_course(owner, {"title": "", "level": "expert", "estimated_hours": -1, "colour": "red"})
    assert set(err.value.fields) == {"title", "level", "estimated_hours", "colour"}
    draft = svc.create_course(owner, {"title": "Draft only"})
    with pytest.raises(NotFound):
        svc.get_course(learner(owner.tenant_id), draft["id"])
    drafts = svc.search_courses(owner, status="draft")["items"]
    assert draft["id"] in [c["id"] for c in drafts]
    with pytest.raises(ValidationFailed) as err:
        svc.publish_course(owner, draft["id"])
    assert err.value.code == "course_incomplete" and "modules" in err.value.fields
    module = svc.add_module(owner, draft["id"], {"title": "M"})
    video = svc.add_lesson(owner, module["module_id"], {"title": "Clip", "kind": "video"})
    with pytest.raises(ValidationFailed) as err:
        svc.publish_course(owner, draft["id"])
    assert f"lessons.{video['lesson_id']}.asset" in err.value.fields
    platform_course = seeding.load_catalog()["courses"][0]["id"]
    with pytest.raises(Forbidden):
        svc.update_course(owner, platform_course, {"title": "Hijacked"})


def test_republish_keeps_lesson_ids_and_progress(svc, lms_store):
    owner = author()
    built = build_course(svc, owner)
    course_id, lessons = built["course"]["id"], built["lessons"]
    student = learner(owner.tenant_id, plan="pro")
    svc.enroll(student, course_id)
    svc.remove_lesson(owner, lessons["file"]["lesson_id"])
    module_id = built["course"]["modules"][0]["module_id"]
    extra = svc.add_lesson(owner, module_id, {"title": "New bit", "kind": "article", "body_md": "More."})
    # The learner still reads revision 1 until the next publish.
    assert svc.get_lesson(student, lessons["file"]["lesson_id"])["revision"] == 1
    republished = svc.publish_course(owner, course_id)
    assert republished["revision"] == 2 and republished["status"] == "published"
    event = outbox(lms_store, "careeros.lms.course.published.v1")[-1]["payload"]
    ids = [l["lesson_id"] for m in event["modules"] for l in m["lessons"]]
    assert lessons["article"]["lesson_id"] in ids and extra["lesson_id"] in ids
    assert lessons["file"]["lesson_id"] not in ids
    with pytest.raises(NotFound):
        svc.get_lesson(student, lessons["file"]["lesson_id"])
    assert svc.get_lesson(student, lessons["article"]["lesson_id"])["revision"] == 2
    assert svc.list_enrollments(student)[0]["enrolled_revision"] == 1
    svc.archive_course(owner, course_id)
    assert outbox(lms_store, "careeros.lms.course.archived.v1")[-1]["payload"]["course_id"] == course_id
    with pytest.raises(Conflict):
        svc.enroll(learner(owner.tenant_id, plan="pro"), course_id)
    assert svc.get_lesson(student, lessons["article"]["lesson_id"])["title"] == "Why Kotlin"  # enrolled keep access


# --- enrolment and entitlement ------------------------------------------------------------------

def test_premium_access_follows_the_plan_in_the_token(svc, lms_store):
    owner = author()
    built = build_course(svc, owner, premium=True)
    course_id, article = built["course"]["id"], built["lessons"]["article"]["lesson_id"]
    tenant = owner.tenant_id
    free = learner(tenant, plan="free")
    with pytest.raises(Forbidden) as err:
        svc.enroll(free, course_id)
    assert err.value.code == "entitlement_required"
    pro = learner(tenant, plan="pro")
    enrolled = svc.enroll(pro, course_id)
    assert enrolled["created"] and enrolled["access"] == "full"
    assert svc.enroll(pro, course_id)["enrollment_id"] == enrolled["enrollment_id"]  # idempotent
    created = outbox(lms_store, "careeros.lms.enrollment.created.v1")
    assert [e["payload"]["enrollment_id"] for e in created].count(enrolled["enrollment_id"]) == 1
    lapsed = type(pro).of(pro.tenant_id, pro.user_id, "member", "free")
    listed = svc.list_enrollments(lapsed)
    assert [(e["course_id"], e["access"]) for e in listed] == [(course_id, "read_only")]
    for call in (lambda: svc.get_lesson(lapsed, article),
                 lambda: svc.submit_quiz(lapsed, built["lessons"]["quiz"]["lesson_id"], {})):
        with pytest.raises(Forbidden) as err:
            call()
        assert err.value.code == "entitlement_required"
    assert svc.get_lesson(pro, article)["body_md"].startswith("# Why Kotlin")  # upgrade restores it
    svc.leave(pro, course_id)
    assert outbox(lms_store, "careeros.lms.enrollment.cancelled.v1")[-1]["payload"]["user_id"] == pro.user_id
    with pytest.raises(Forbidden) as err:
        svc.get_lesson(pro, article)
    assert err.value.code == "enrollment_required"
    assert svc.list_enrollments(pro) == []


# --- quizzes, completion, certificates ----------------------------------------------------------

def test_quiz_hides_answers_grades_on_server_and_limits_attempts(svc, lms_store):
    owner = author()
    built = build_course(svc, owner)
    quiz_id = built["lessons"]["quiz"]["lesson_id"]
    student = learner(owner.tenant_id)
    svc.enroll(student, built["course"]["id"])
    seen = svc.get_lesson(student, quiz_id)
    assert "correct" not in json.dumps(seen["quiz"])
    wrong = {q["id"]: [next(c["id"] for c in q["choices"] if not c["correct"])]
             for q in built["lessons"]["quiz"]["quiz"]["questions"][:2]}
    first = svc.submit_quiz(student, quiz_id, wrong)
    assert (first["passed"], first["score_percent"], first["attempt_no"], first["attempts_left"]) == (False, 0, 1, 1)
    statement = outbox(lms_store, "careeros.lms.activity.recorded.v1")[-1]["payload"]["statement"]
    XAPI(statement)
    assert statement["verb"]["id"].endswith("/failed") and statement["result"]["success"] is False
    assert statement["context"]["contextActivities"]["parent"][0]["id"].endswith(built["course"]["id"])
    with pytest.raises(ValidationFailed) as err:
        svc.submit_quiz(student, quiz_id, {"not-a-question": []})
    assert "answers.not-a-question" in err.value.fields
    svc.submit_quiz(student, quiz_id, {})
    with pytest.raises(Conflict) as err:
        svc.submit_quiz(student, quiz_id, right_answers(built["lessons"]["quiz"]["quiz"]))
    assert err.value.code == "attempt_limit_reached"
    attempts = [e["payload"] for e in outbox(lms_store, "careeros.lms.quiz.attempted.v1")
                if e["payload"]["user_id"] == student.user_id]
    assert [(a["attempt_no"], a["passed"]) for a in attempts] == [(1, False), (2, False)]


def test_completion_issues_one_certificate_with_a_pdf(svc, lms_store, storage):
    owner = author()
    built = build_course(svc, owner, title="Certificates 101")
    course_id, quiz = built["course"]["id"], built["lessons"]["quiz"]
    student = learner(owner.tenant_id)
    assert svc.handle_event(envelope("careeros.auth.user.registered.v1", student.tenant_id, {
        "user_id": student.user_id, "tenant_id": student.tenant_id, "tenant_kind": "organization",
        "org_role": "member", "plan_tier": "free", "display_name": "Grace Hopper",
        "registered_at": "2026-01-01T00:00:00+00:00"}))
    svc.enroll(student, course_id)
    # Required lessons done per the tracker, but the quiz not passed: no certificate yet.
    assert svc.handle_event(progress(student.tenant_id, student.user_id, course_id, percent=67)) is True
    assert svc.list_enrollments(student)[0]["certificate_id"] == ""
    result = svc.submit_quiz(student, quiz["lesson_id"], right_answers(quiz["quiz"]))
    assert result["passed"] and result["score_percent"] == 100 and result["certificate_id"]
    passed_stmt = [e["payload"]["statement"] for e in outbox(lms_store, "careeros.lms.activity.recorded.v1")
                   if e["payload"]["user_id"] == student.user_id]
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in passed_stmt] == ["passed", "completed"]
    issued = [e for e in outbox(lms_store, "careeros.lms.certificate.issued.v1")
              if e["payload"]["user_id"] == student.user_id]
    assert len(issued) == 1 and issued[0]["payload"]["course_title"] == "Certificates 101"
    again = progress(student.tenant_id, student.user_id, course_id)
    assert svc.handle_event(again) is True and svc.handle_event(again) is False  # inbox: once
    assert len([e for e in outbox(lms_store, "careeros.lms.certificate.issued.v1")
                if e["payload"]["user_id"] == student.user_id]) == 1
    cert = svc.get_certificate(result["certificate_id"])
    assert (cert["course_title"], cert["learner_name"], cert["valid"]) == ("Certificates 101", "Grace Hopper", True)
    key = f"lms/certificates/{cert['certificate_id']}.pdf"
    text = pypdf.PdfReader(io.BytesIO(storage.get(key))).pages[0].extract_text()
    assert "Certificates 101" in text and "Grace Hopper" in text and cert["certificate_id"] in text
    with pytest.raises(NotFound):
        svc.get_certificate(str(uuid.uuid4()))


def test_completion_by_progress_event_after_quiz(svc, lms_store):
    owner = author()
    built = build_course(svc, owner)
    student = learner(owner.tenant_id)
    svc.enroll(student, built["course"]["id"])
    quiz = built["lessons"]["quiz"]
    assert svc.submit_quiz(student, quiz["lesson_id"], right_answers(quiz["quiz"]))["certificate_id"] == ""
    svc.handle_event(progress(student.tenant_id, student.user_id, built["course"]["id"], required_done=False,
                              percent=50))
    assert svc.list_enrollments(student)[0]["certificate_id"] == ""
    svc.handle_event(progress(student.tenant_id, student.user_id, built["course"]["id"]))
    assert svc.list_enrollments(student)[0]["certificate_id"]


# --- assets -------------------------------------------------------------------------------------

def test_chunked_upload_and_signed_download(svc):
    owner = author()
    course = svc.create_course(owner, {"title": "Assets"})
    module = svc.add_module(owner, course["id"], {"title": "M"})
    video = svc.add_lesson(owner, module["module_id"], {"title": "Clip", "kind": "video"})
    blob = bytes(range(256)) * 1000
    upload = str(uuid.uuid4())
    parts = [blob[i:i + 100_000] for i in range(0, len(blob), 100_000)]
    for seq, part in enumerate(parts):
        asset = svc.upload_asset_chunk(owner, video["lesson_id"], upload_id=upload, seq=seq, data=part,
                                       last=seq == len(parts) - 1, filename="../intro clip.mp4",
                                       content_type="video/mp4", total_size=len(blob))
    assert asset["size"] == len(blob) and asset["filename"] == "intro_clip.mp4" and ".." not in asset["key"]
    with pytest.raises(ValidationFailed) as err:
        svc.upload_asset_chunk(owner, video["lesson_id"], upload_id=str(uuid.uuid4()), seq=0, data=b"x", last=True,
                               filename="a.exe", content_type="application/x-msdownload", total_size=1)
    assert "content_type" in err.value.fields
    # A name with no ASCII letters (found by the OpenAPI fuzzer: an INTERNAL error on the object key)
    other = svc.add_lesson(owner, module["module_id"], {"title": "Other clip", "kind": "video"})
    named = svc.upload_asset_chunk(owner, other["lesson_id"], upload_id=str(uuid.uuid4()), seq=0, data=b"x",
                                   last=True, filename="\u00e6", content_type="video/mp4", total_size=1)
    assert named["filename"] == "_" and named["key"].isascii()
    with pytest.raises(ValidationFailed) as err:
        svc.upload_asset_chunk(owner, video["lesson_id"], upload_id=str(uuid.uuid4()), seq=0, data=b"x", last=False,
                               filename="a.mp4", content_type="video/mp4", total_size=svc.max_asset_bytes + 1)
    assert "size" in err.value.fields
    published = svc.publish_course(owner, course["id"])
    student = learner(owner.tenant_id)
    svc.enroll(student, published["id"])
    url = svc.get_lesson(student, video["lesson_id"])["asset"]["url"]
    from urllib.parse import parse_qs, unquote, urlparse
    parsed = urlparse(url)
    key, q = unquote(parsed.path.split("/lms/files/", 1)[1]), parse_qs(parsed.query)
    got = svc.read_file(key, int(q["expires"][0]), q["signature"][0], 0, 10**6)
    assert got["data"] == blob and got["content_type"] == "video/mp4"
    with pytest.raises(Forbidden):
        svc.read_file(key, int(q["expires"][0]), "0" * 64)
    with pytest.raises(Forbidden):
        svc.read_file(key, 1, q["signature"][0])  # expired


def test_abandoned_upload_chunks_are_dropped(svc, lms_store):
    owner = author()
    course = svc.create_course(owner, {"title": "Abandoned"})
    module = svc.add_module(owner, course["id"], {"title": "M"})
    video = svc.add_lesson(owner, module["module_id"], {"title": "Clip", "kind": "video"})
    abandoned = str(uuid.uuid4())
    svc.upload_asset_chunk(owner, video["lesson_id"], upload_id=abandoned, seq=0, data=b"ab", last=False,
                           filename="a.mp4", content_type="video/mp4", total_size=4)
    with lms_store.transaction(owner.tenant_id) as tx:
        tx.db.execute_sql("UPDATE asset_uploads SET created_at = now() - interval '2 hours' WHERE upload_id = %s",
                          (abandoned,))
    svc.upload_asset_chunk(owner, video["lesson_id"], upload_id=str(uuid.uuid4()), seq=0, data=b"cd", last=True,
                           filename="b.mp4", content_type="video/mp4", total_size=2)
    with lms_store.transaction(owner.tenant_id) as tx:
        assert tx.db.execute_sql("SELECT count(*) FROM asset_uploads WHERE tenant_id = %s",
                                 (owner.tenant_id,)).fetchone()[0] == 0


def test_concurrent_enrolments_and_attempts_stay_consistent(svc, lms_store):
    from concurrent.futures import ThreadPoolExecutor
    owner = author()
    built = build_course(svc, owner, with_file=False)
    course_id, quiz = built["course"]["id"], built["lessons"]["quiz"]
    student = learner(owner.tenant_id)

    def enrol(_):
        return svc.enroll(student, course_id)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(enrol, range(8)))
    assert len({r["enrollment_id"] for r in results}) == 1 and sum(r["created"] for r in results) == 1
    events = [e for e in outbox(lms_store, "careeros.lms.enrollment.created.v1")
              if e["payload"]["user_id"] == student.user_id]
    assert len(events) == 1

    def attempt(_):
        try:
            return svc.submit_quiz(student, quiz["lesson_id"], {})
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    numbers = sorted(o["attempt_no"] for o in outcomes if isinstance(o, dict))
    assert numbers == [1, 2][:len(numbers)] and len(numbers) >= 1  # never beyond max_attempts (2), no duplicates
    assert set(o for o in outcomes if not isinstance(o, dict)) <= {"attempt_conflict", "attempt_limit_reached"}
    with lms_store.transaction(owner.tenant_id) as tx:
        stored = tx.db.execute_sql("SELECT count(*) FROM quiz_attempts WHERE user_id = %s",
                                   (student.user_id,)).fetchone()[0]
    assert stored == len(numbers) <= 2
