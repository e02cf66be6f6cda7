"""/api/v1/lms through the real gateway app, the real lms gRPC server and real Redis."""
from __future__ import annotations

import copy
import json
import uuid
from urllib.parse import urlparse

import pytest

from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.lms.entrypoints.grpc_server import registration
from gateway_flask.app import create_app
from gateway_flask.views.lms.resources import blp
from tests.gateway.conftest import gw_config, jwks, make_token, redis_client, signing_key  # noqa: F401

UPLOAD_LIMIT = 5000  # the global max_body_bytes of gw_config is 2048


@pytest.fixture(scope="module")
def lms_address(config, lms_store, tmp_path_factory):
    conf = copy.deepcopy(config)
    conf["lms"]["storage"].update(backend="local", root=str(tmp_path_factory.mktemp("gw-objects")),
                                  public_base_url="http://localhost/api/v1/lms/files")
    conf["lms"]["max_upload_bytes"] = UPLOAD_LIMIT
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(conf)
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    yield address
    server.stop(grace=None)
    servicer.service.store.close()


@pytest.fixture
def http(gw_config, jwks, redis_client, lms_address):  # noqa: F811
    gw_config["grpc"]["addresses"]["lms"] = lms_address
    gw_config["lms"].update(max_upload_bytes=UPLOAD_LIMIT, upload_chunk_bytes=1024)
    from gateway_flask import services
    services._clients.clear()
    app = create_app(gw_config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                     blueprints=[blp])
    return app.test_client()


@pytest.fixture
def people(make_token):  # noqa: F811
    tenant = str(uuid.uuid4())

    def auth(role="member", plan="free", tenant_id=tenant, sub=None):
        token = make_token(sub=sub or str(uuid.uuid4()), tenant_id=tenant_id, org_role=role, plan_tier=plan)
        return {"Authorization": f"Bearer {token}"}
    return auth


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["code"] == code
    return body


def _course(http, teacher, *, premium=False, title="Rust for Pythonistas") -> dict:
    r = http.post("/api/v1/lms/courses", json={"title": title, "summary": "Ownership and borrowing.",
                                               "level": "intermediate", "tags": ["rust"], "premium": premium,
                                               "skills": [{"name": "Rust", "level": 2}]},
                  headers={**teacher, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.get_data(as_text=True)
    course = r.get_json()
    module = http.post(f"/api/v1/lms/courses/{course['id']}/modules", json={"title": "Basics"}, headers=teacher)
    assert module.status_code == 201
    mid = module.get_json()["module_id"]
    article = http.post(f"/api/v1/lms/modules/{mid}/lessons", headers=teacher, json={
        "title": "Ownership", "kind": "article", "body_md": "# Ownership\n\nOne owner at a time."}).get_json()
    quiz = http.post(f"/api/v1/lms/modules/{mid}/lessons", headers=teacher, json={
        "title": "Check", "kind": "quiz", "quiz": {"pass_percent": 50, "max_attempts": 2, "questions": [
            {"prompt": "Who frees memory?", "choices": [{"text": "the owner going out of scope", "correct": True},
                                                         {"text": "a garbage collector"}]}]}}).get_json()
    assert quiz["quiz"]["questions"][0]["choices"][0]["correct"] is True  # authors see answers
    sheet = http.post(f"/api/v1/lms/modules/{mid}/lessons", headers=teacher,
                      json={"title": "Cheat sheet", "kind": "file", "required": False}).get_json()
    return {"course": course, "article": article, "quiz": quiz, "file": sheet}


def test_instructor_builds_learner_passes(http, people):
    teacher = people("instructor", "team")
    built = _course(http, teacher)
    course_id, file_id = built["course"]["id"], built["file"]["lesson_id"]
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 12  # 3 kB: above the global 2 KiB limit, under the upload one
    up = http.post(f"/api/v1/lms/lessons/{file_id}/assets?filename=sheet.pdf", data=pdf,
                   headers={**teacher, "Content-Type": "application/pdf"})
    assert up.status_code == 201, up.get_data(as_text=True)
    assert up.get_json()["size"] == len(pdf)
    published = http.post(f"/api/v1/lms/courses/{course_id}/publish", headers=teacher).get_json()
    assert published["status"] == "published" and published["revision"] == 1

    learner = people()
    problem(http.get(f"/api/v1/lms/lessons/{built['article']['lesson_id']}", headers=learner), 403,
            "enrollment_required")
    enrolled = http.post(f"/api/v1/lms/courses/{course_id}/enrollments", headers=learner)
    assert enrolled.status_code == 201 and enrolled.get_json()["access"] == "full"
    assert http.post(f"/api/v1/lms/courses/{course_id}/enrollments", headers=learner).status_code == 200
    quiz = http.get(f"/api/v1/lms/lessons/{built['quiz']['lesson_id']}", headers=learner).get_json()
    assert "correct" not in json.dumps(quiz)
    question = quiz["quiz"]["questions"][0]
    answer = next(c["id"] for c in question["choices"] if c["text"].startswith("the owner"))
    result = http.post(f"/api/v1/lms/lessons/{built['quiz']['lesson_id']}/quiz-attempts", headers=learner,
                       json={"answers": [{"question_id": question["id"], "choice_ids": [answer]}]})
    assert result.status_code == 201 and result.get_json()["passed"] is True
    sheet = http.get(f"/api/v1/lms/lessons/{file_id}", headers=learner).get_json()
    link = urlparse(sheet["asset"]["url"])
    download = http.get(f"{link.path}?{link.query}")  # no token: the signature authorises
    assert download.status_code == 200 and download.data == pdf and download.mimetype == "application/pdf"
    problem(http.get(f"{link.path}?expires=1&signature={'0' * 64}"), 403, "invalid_download_link")
    listed = http.get("/api/v1/lms/enrollments", headers=learner).get_json()["items"]
    assert [e["course_id"] for e in listed] == [course_id]
    left = http.delete(f"/api/v1/lms/courses/{course_id}/enrollments", headers=learner)
    assert left.status_code == 200 and left.get_json()["status"] == "cancelled"
    problem(http.get(f"/api/v1/lms/certificates/{uuid.uuid4()}"), 404, "certificate_not_found")


def test_upload_limits_and_types(http, people):
    teacher = people("admin", "team")
    built = _course(http, teacher)
    url = f"/api/v1/lms/lessons/{built['file']['lesson_id']}/assets?filename=big.pdf"
    problem(http.post(url, data=b"x" * (UPLOAD_LIMIT + 1), headers={**teacher, "Content-Type": "application/pdf"}),
            413, "payload_too_large")
    problem(http.post(url, data=b"<html>", headers={**teacher, "Content-Type": "text/html"}),
            415, "unsupported_media_type")
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16
    body = problem(http.post(url, data=mp4, headers={**teacher, "Content-Type": "video/mp4"}),
                   422, "unsupported_asset_type")
    assert "content_type" in body["errors"]  # a video type for a file lesson
    body = problem(http.post(url.split("?")[0], data=b"%PDF", headers={**teacher, "Content-Type": "application/pdf"}),
                   422, "validation_failed")
    assert "filename" in body["errors"]
    # Other routes keep the global limit.
    problem(http.post("/api/v1/lms/courses", json={"title": "t", "summary": "s" * 3000}, headers=teacher),
            413, "payload_too_large")


def test_bad_input_names_the_field(http, people):
    teacher = people("owner", "team")
    body = problem(http.post("/api/v1/lms/courses", json={"title": "", "level": "expert"}, headers=teacher),
                   422, "validation_failed")
    assert {"title", "level"} <= set(body["errors"])
    body = problem(http.get("/api/v1/lms/courses?page_size=1000", headers=teacher), 422, "validation_failed")
    assert "page_size" in body["errors"]
    built = _course(http, teacher)
    mid = built["course"]["id"]
    body = problem(http.post(f"/api/v1/lms/modules/{uuid.uuid4()}/lessons", headers=teacher,
                             json={"title": "Q", "kind": "quiz", "quiz": {"questions": [
                                 {"prompt": "p", "choices": [{"text": "a"}, {"text": "b"}]}]}}),
                   422, "validation_failed")
    assert "quiz.questions.0.choices" in body["errors"]  # no correct choice
    body = problem(http.post(f"/api/v1/lms/courses/{mid}/publish", headers=teacher), 422, "course_incomplete")
    assert f"lessons.{built['file']['lesson_id']}.asset" in body["errors"]
    problem(http.post("/api/v1/lms/courses", json={"title": "Nope"}, headers=people()), 403, "author_role_required")
    problem(http.get("/api/v1/lms/enrollments"), 401, "unauthenticated")  # the catalog alone is open to visitors


def test_other_tenants_see_nothing_of_a_private_course(http, people):
    teacher = people("instructor", "team")
    built = _course(http, teacher, title="Zebra-internal compliance")
    course_id = built["course"]["id"]
    http.delete(f"/api/v1/lms/lessons/{built['file']['lesson_id']}", headers=teacher)
    assert http.post(f"/api/v1/lms/courses/{course_id}/publish", headers=teacher).status_code == 200
    colleague = people()
    assert course_id in [c["id"] for c in http.get("/api/v1/lms/courses?q=zebra", headers=colleague)
                         .get_json()["items"]]
    stranger = people(tenant_id=str(uuid.uuid4()), plan="team")
    listed = http.get("/api/v1/lms/courses?q=zebra&page_size=100", headers=stranger).get_json()
    assert course_id not in [c["id"] for c in listed["items"]]
    problem(http.get(f"/api/v1/lms/courses/{course_id}", headers=stranger), 404, "course_not_found")
    problem(http.post(f"/api/v1/lms/courses/{course_id}/enrollments", headers=stranger), 404, "course_not_found")
    problem(http.get(f"/api/v1/lms/lessons/{built['article']['lesson_id']}", headers=stranger), 404,
            "lesson_not_found")
    problem(http.patch(f"/api/v1/lms/courses/{course_id}", json={"title": "mine"},
                       headers=people("owner", tenant_id=str(uuid.uuid4()))), 404, "course_not_found")


def test_premium_needs_a_paid_plan_and_lapse_is_read_only(http, people):
    teacher = people("instructor", "team")
    built = _course(http, teacher, premium=True)
    course_id = built["course"]["id"]
    http.delete(f"/api/v1/lms/lessons/{built['file']['lesson_id']}", headers=teacher)
    http.post(f"/api/v1/lms/courses/{course_id}/publish", headers=teacher)
    problem(http.post(f"/api/v1/lms/courses/{course_id}/enrollments", headers=people()), 403, "entitlement_required")
    user = str(uuid.uuid4())
    pro, lapsed = people(plan="pro", sub=user), people(plan="free", sub=user)
    assert http.post(f"/api/v1/lms/courses/{course_id}/enrollments", headers=pro).status_code == 201
    article = f"/api/v1/lms/lessons/{built['article']['lesson_id']}"
    assert http.get(article, headers=pro).status_code == 200
    listed = http.get("/api/v1/lms/enrollments", headers=lapsed).get_json()["items"]
    assert [(e["course_id"], e["access"]) for e in listed] == [(course_id, "read_only")]
    problem(http.get(article, headers=lapsed), 403, "entitlement_required")
    problem(http.post(f"/api/v1/lms/lessons/{built['quiz']['lesson_id']}/quiz-attempts", headers=lapsed,
                      json={"answers": []}), 403, "entitlement_required")
    assert http.get(article, headers=pro).get_json()["body_md"].startswith("# Ownership")  # upgrade restores
    for headers, expected in ((pro, "full"), (lapsed, "read_only")):  # `access` in signed-in searches too
        found = http.get("/api/v1/lms/courses", query_string={"q": "Rust for Pythonistas"}, headers=headers)
        assert {c["id"]: c["access"] for c in found.get_json()["items"]}.get(course_id) == expected
    catalog = http.get("/api/v1/lms/courses?q=python&level=beginner", headers=people()).get_json()
    assert catalog["items"] and all(c["level"] == "beginner" for c in catalog["items"])


def test_openapi_documents_the_lms_routes(http):
    paths = json.loads(http.get("/api/v1/openapi.json").get_data())["paths"]
    assert {"/api/v1/lms/courses", "/api/v1/lms/courses/{course_id}", "/api/v1/lms/courses/{course_id}/publish",
            "/api/v1/lms/courses/{course_id}/archive", "/api/v1/lms/courses/{course_id}/modules",
            "/api/v1/lms/modules/{module_id}/lessons", "/api/v1/lms/lessons/{lesson_id}/assets",
            "/api/v1/lms/courses/{course_id}/enrollments", "/api/v1/lms/enrollments",
            "/api/v1/lms/lessons/{lesson_id}/quiz-attempts", "/api/v1/lms/certificates/{certificate_id}",
            "/api/v1/lms/lessons/{lesson_id}"} <= set(paths)
    assert "security" not in paths["/api/v1/lms/certificates/{certificate_id}"]["get"]


def test_authoring_edits_progress_results_and_the_certificate_page(http, people):
    teacher = people("instructor", "team")
    built = _course(http, teacher, title="Borrowing <in> practice")
    course_id, article_id, quiz_id = built["course"]["id"], built["article"]["lesson_id"], built["quiz"]["lesson_id"]
    assert http.delete(f"/api/v1/lms/lessons/{built['file']['lesson_id']}", headers=teacher).status_code == 204
    edited = http.patch(f"/api/v1/lms/lessons/{article_id}", headers=teacher,
                        json={"title": "Ownership, revised", "body_md": "# Revised"})
    assert edited.status_code == 200 and edited.get_json()["title"] == "Ownership, revised", edited.get_data(True)
    body = problem(http.patch(f"/api/v1/lms/lessons/{article_id}", headers=teacher, json={"kind": "video"}),
                   422, "validation_failed")
    assert "kind" in body["errors"]
    extra = http.post(f"/api/v1/lms/courses/{course_id}/modules", json={"title": "Extra"}, headers=teacher).get_json()
    moved = http.patch(f"/api/v1/lms/modules/{extra['module_id']}", json={"position": 0, "title": "First"},
                       headers=teacher)
    assert moved.status_code == 200 and moved.get_json()["position"] == 0, moved.get_data(True)
    assert http.delete(f"/api/v1/lms/modules/{extra['module_id']}", headers=teacher).status_code == 204
    problem(http.patch(f"/api/v1/lms/modules/{extra['module_id']}", json={"title": "Gone"}, headers=teacher),
            404, "module_not_found")
    assert http.post(f"/api/v1/lms/courses/{course_id}/publish", headers=teacher).status_code == 200

    learner = people()
    assert http.post(f"/api/v1/lms/courses/{course_id}/enrollments", headers=learner).status_code == 201
    assert http.get(f"/api/v1/lms/lessons/{article_id}", headers=learner).get_json()["title"] == "Ownership, revised"
    done = http.post(f"/api/v1/lms/lessons/{article_id}/complete", headers=learner)
    assert done.status_code == 200 and done.get_json()["recorded"] is False  # opening it already counted
    problem(http.post(f"/api/v1/lms/lessons/{quiz_id}/complete", headers=learner), 422, "quiz_needs_attempt")
    question = http.get(f"/api/v1/lms/lessons/{quiz_id}", headers=learner).get_json()["quiz"]["questions"][0]
    answer = next(c["id"] for c in question["choices"] if c["text"].startswith("the owner"))
    result = http.post(f"/api/v1/lms/lessons/{quiz_id}/quiz-attempts", headers=learner,
                       json={"answers": [{"question_id": question["id"], "choice_ids": [answer]}]}).get_json()
    [enrolment] = http.get("/api/v1/lms/enrollments", headers=learner).get_json()["items"]
    assert (enrolment["status"], enrolment["percent"], enrolment["certificate_id"]) == (
        "completed", 100, result["certificate_id"])

    facts = http.get(f"/api/v1/lms/certificates/{result['certificate_id']}", headers={"Accept": "*/*"})
    assert facts.mimetype == "application/json" and facts.get_json()["issuer"] == "CareerOS"
    page = http.get(f"/api/v1/lms/certificates/{result['certificate_id']}",
                    headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html" and page.headers["Vary"] == "Accept"
    text = page.get_data(as_text=True)
    assert "Borrowing &lt;in&gt; practice" in text and "Issued by" in text and "<in>" not in text

    results = http.get(f"/api/v1/lms/courses/{course_id}/results", headers=teacher)
    assert results.status_code == 200, results.get_data(True)
    figures = results.get_json()
    assert figures["enrollments"]["completed"] == 1 and figures["learners"][0]["status"] == "completed"
    assert figures["quizzes"][0]["questions"][0]["correct_percent"] == 100
    problem(http.get(f"/api/v1/lms/courses/{course_id}/results", headers=learner), 403, "author_role_required")


def test_the_new_routes_and_the_certificate_page_are_documented(http):
    spec = http.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"patch", "delete"} <= set(paths["/api/v1/lms/lessons/{lesson_id}"])
    assert {"patch", "delete"} <= set(paths["/api/v1/lms/modules/{module_id}"])
    assert "get" in paths["/api/v1/lms/courses/{course_id}/results"]
    assert "post" in paths["/api/v1/lms/lessons/{lesson_id}/complete"]
    assert "get" in paths["/api/v1/lms/lessons/{lesson_id}/draft"]
    content = paths["/api/v1/lms/certificates/{certificate_id}"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/html"} <= set(content)


def test_authors_read_a_lessons_working_copy_learners_do_not(http, people):
    teacher = people("instructor", "team")
    built = _course(http, teacher)
    quiz_id, article_id = built["quiz"]["lesson_id"], built["article"]["lesson_id"]
    assert http.delete(f"/api/v1/lms/lessons/{built['file']['lesson_id']}", headers=teacher).status_code == 204
    assert http.post(f"/api/v1/lms/courses/{built['course']['id']}/publish", headers=teacher).status_code == 200
    assert http.patch(f"/api/v1/lms/lessons/{article_id}", headers=teacher,
                      json={"body_md": "# Unpublished edit"}).status_code == 200

    draft = http.get(f"/api/v1/lms/lessons/{article_id}/draft", headers=teacher)
    assert draft.status_code == 200, draft.get_data(True)
    assert draft.get_json()["body_md"] == "# Unpublished edit"  # the working copy, not the revision
    quiz = http.get(f"/api/v1/lms/lessons/{quiz_id}/draft", headers=people("admin", "team")).get_json()
    assert quiz["quiz"]["questions"][0]["choices"][0] == {**quiz["quiz"]["questions"][0]["choices"][0],
                                                          "text": "the owner going out of scope", "correct": True}

    learner = people()
    assert http.post(f"/api/v1/lms/courses/{built['course']['id']}/enrollments", headers=learner).status_code == 201
    problem(http.get(f"/api/v1/lms/lessons/{quiz_id}/draft", headers=learner), 403, "author_role_required")
    assert http.get(f"/api/v1/lms/lessons/{article_id}", headers=learner).get_json()["body_md"].startswith("# Own")
    problem(http.get(f"/api/v1/lms/lessons/{quiz_id}/draft", headers=people("instructor", tenant_id=str(uuid.uuid4()))),
            404, "lesson_not_found")
    assert http.get(f"/api/v1/lms/lessons/{quiz_id}/draft").status_code == 401
    assert http.delete(f"/api/v1/lms/lessons/{article_id}", headers=teacher).status_code == 204
    problem(http.get(f"/api/v1/lms/lessons/{article_id}/draft", headers=teacher), 404, "lesson_not_found")
