"""/lms: the course catalog, authoring, enrolment, lesson content, quizzes and certificates.

Authoring needs org_role owner/admin/instructor (checked by the lms service). Premium
content is checked against the token's plan_tier on every request. Two routes are public:
certificate verification and signed file downloads (the signature is the authorisation).
"""
from __future__ import annotations

import html
import uuid

from flask import Response, request

from careeros_services.common.read_cache import COURSE, LMS_LEARNER
from careeros_services.common.settings import LmsGatewaySettings
from contracts import lms as course_rules
from contracts.grpc import common_pb2, lms_pb2
from gateway_flask import read_cache
from gateway_flask.files import CHUNK_BYTES, signed_download
from gateway_flask.extensions.api import Blueprint
from gateway_flask.middleware import accepts, max_body
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.state import gateway_state
from gateway_flask.views.lms import schemas as s

blp = Blueprint("lms", __name__, url_prefix="/lms", description="Courses, enrolment, lessons, quizzes, certificates")
lms_rpc = rpc_client("lms")
BEARER = [{"bearerAuth": []}]
COURSE_FIELDS = ("title", "summary", "level", "language", "estimated_hours", "tags", "skills", "track", "premium",
                 "slug")


def _me():
    return caller(current_principal())


# A visitor without a token reads the public catalog as the platform tenant: its courses only,
# never a tenant's private ones, with no enrolment and the access of a caller without a plan.
VISITOR = common_pb2.Caller(user_id="00000000-0000-0000-0000-000000000000", tenant_id=course_rules.PLATFORM_TENANT)
OPTIONAL_BEARER = [{"bearerAuth": []}, {}]


def _me_or_visitor():
    if "Authorization" not in request.headers:
        return VISITOR
    return _me()  # a token that is present must be valid (401 otherwise)


# An author who edits a lesson sees the edit on the next GET, before course.changed ends everyone's.
read_cache.writers_read_their_writes(blp, LMS_LEARNER)


def _lms_settings() -> LmsGatewaySettings:
    return LmsGatewaySettings.from_config(gateway_state().config)


def _upload_limit() -> int:
    return _lms_settings().max_upload_bytes


def _course_fields(body: dict) -> lms_pb2.CourseFields:
    fields = {k: v for k, v in body.items() if k != "skills"}
    return lms_pb2.CourseFields(**fields, skills=[lms_pb2.Skill(**sk) for sk in body.get("skills", [])])


def _course(message) -> dict:
    return to_dict(message)


def _lesson(message, *, learner: bool) -> dict:
    data = to_dict(message)
    data["quiz"] = data.get("quiz") if message.has_quiz else None
    data["asset"] = data.get("asset") if message.has_asset else None
    if learner and data["quiz"]:
        for q in data["quiz"]["questions"]:
            for c in q["choices"]:
                c.pop("correct", None)  # never sent before submission
    for k in ("has_quiz", "has_asset"):
        data.pop(k, None)
    return data


@blp.route("/courses", methods=["GET"])
@blp.arguments(s.SearchQuery, location="query")
@blp.response(200, s.CoursePageOut)
@blp.alt_response(401, description="A bearer token was sent and is not valid")
@blp.doc(security=OPTIONAL_BEARER)
def search_courses(query: dict):
    """Search the catalog (public courses plus your organisation's) by text, skill (name or ESCO URI),
    level, track and language; ranked by relevance, then title, stable across pages.
    `access` is the caller's, as on the course page (`read_only` for premium on a free plan).
    Without a token: the published public catalog only (a visitor's `access`: `read_only` for premium)."""
    return to_dict(lms_rpc.SearchCourses(lms_pb2.SearchCoursesRequest(caller=_me_or_visitor(), **query)))


@blp.route("/courses", methods=["POST"])
@auth_required
@blp.arguments(s.CourseIn)
@blp.response(201, s.CourseOut)
@blp.doc(security=BEARER)
def create_course(body: dict):
    """Create a draft course in your organisation (owner/admin/instructor; visible only inside it)."""
    created = _course(lms_rpc.CreateCourse(lms_pb2.CreateCourseRequest(caller=_me(), course=_course_fields(body))))
    return created, {"Location": f"/api/v1/lms/courses/{created['id']}"}


@blp.route("/courses/<uuid:course_id>", methods=["GET"])
# Cached per caller (tenant, user, role) and course; the LMS's course and enrolment events, and
# the caller's own LMS writes (above), make it stale; the plan tier is part of every entry's tag.
@read_cache.cached(COURSE, scope=lambda c, a: f"{c['tenant_id']}:{c['sub']}:{c['org_role']}:{a['course_id']}",
                   owners=lambda c, a: [(COURSE, a["course_id"]), (LMS_LEARNER, c["sub"])])
@blp.response(200, s.CourseOut)
@blp.alt_response(401, description="A bearer token was sent and is not valid")
@blp.doc(security=OPTIONAL_BEARER)
def get_course(course_id):
    """A course and its structure (authors see the working copy; learners the latest published revision).
    Without a token: published public courses only (404 for a tenant's), outline without content."""
    return _course(lms_rpc.GetCourse(lms_pb2.CourseRef(caller=_me_or_visitor(), course_id=str(course_id))))


@blp.route("/courses/<uuid:course_id>", methods=["PATCH"])
@auth_required
@blp.arguments(s.CoursePatch)
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def patch_course(patch: dict, course_id):
    """Change catalog fields of your course (live at once; lessons change with the next publish)."""
    return _course(lms_rpc.UpdateCourse(lms_pb2.UpdateCourseRequest(
        caller=_me(), course_id=str(course_id), course=_course_fields(patch), update_mask=sorted(patch))))


@blp.route("/courses/<uuid:course_id>/publish", methods=["POST"])
@auth_required
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def publish_course(course_id):
    """Publish the working copy as a new revision. Lesson ids stay; enrolled learners keep their progress;
    lessons removed since the last revision no longer count. 422 `course_incomplete` names what is missing."""
    return _course(lms_rpc.PublishCourse(lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/courses/<uuid:course_id>/archive", methods=["POST"])
@auth_required
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def archive_course(course_id):
    """Archive: no new enrolments; enrolled learners keep reading it."""
    return _course(lms_rpc.ArchiveCourse(lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/courses/<uuid:course_id>/modules", methods=["POST"])
@auth_required
@blp.arguments(s.ModuleIn)
@blp.response(201, s.ModuleOut)
@blp.doc(security=BEARER)
def add_module(body: dict, course_id):
    """Add a module to your course's working copy."""
    return to_dict(lms_rpc.AddModule(lms_pb2.AddModuleRequest(
        caller=_me(), course_id=str(course_id), title=body["title"], position=body.get("position", 0),
        has_position="position" in body)))


@blp.route("/modules/<uuid:module_id>/lessons", methods=["POST"])
@auth_required
@blp.arguments(s.LessonIn)
@blp.response(201, s.LessonOut)
@blp.doc(security=BEARER)
def add_lesson(body: dict, module_id):
    """Add a lesson: article (Markdown body), video or file (upload the asset next), or quiz
    (questions with choices, pass mark, attempt limit)."""
    quiz = body.pop("quiz", None)
    message = lms_pb2.AddLessonRequest(caller=_me(), module_id=str(module_id), **body)
    if quiz is not None:
        message.quiz.CopyFrom(_quiz_message(quiz))
    return _lesson(lms_rpc.AddLesson(message), learner=False)


def _quiz_message(quiz: dict) -> lms_pb2.Quiz:
    return lms_pb2.Quiz(pass_percent=quiz["pass_percent"], max_attempts=quiz["max_attempts"],
                        questions=[lms_pb2.Question(prompt=q["prompt"], multiple=q["multiple"],
                                                    choices=[lms_pb2.Choice(**c) for c in q["choices"]])
                                   for q in quiz["questions"]])


@blp.route("/lessons/<uuid:lesson_id>", methods=["PATCH"])
@auth_required
@blp.arguments(s.LessonPatch)
@blp.response(200, s.LessonOut)
@blp.doc(security=BEARER)
def patch_lesson(patch: dict, lesson_id):
    """Edit a lesson of your course's working copy (learners see it with the next publish); `position`
    moves it within its module. A quiz is replaced as a whole."""
    quiz = patch.pop("quiz", None)
    message = lms_pb2.UpdateLessonRequest(caller=_me(), lesson_id=str(lesson_id), **patch,
                                          update_mask=sorted(patch) + (["quiz"] if quiz is not None else []))
    if quiz is not None:
        message.quiz.CopyFrom(_quiz_message(quiz))
    return _lesson(lms_rpc.UpdateLesson(message), learner=False)


@blp.route("/modules/<uuid:module_id>", methods=["PATCH"])
@auth_required
@blp.arguments(s.ModulePatch)
@blp.response(200, s.ModuleOut)
@blp.doc(security=BEARER)
def patch_module(patch: dict, module_id):
    """Rename a module and/or move it to `position` (0-based) among the course's modules."""
    return to_dict(lms_rpc.UpdateModule(lms_pb2.UpdateModuleRequest(
        caller=_me(), module_id=str(module_id), **patch, update_mask=sorted(patch))))


@blp.route("/modules/<uuid:module_id>", methods=["DELETE"])
@auth_required
@blp.response(204)
@blp.doc(security=BEARER)
def remove_module(module_id):
    """Remove a module and its lessons from the working copy (they leave the course at the next publish)."""
    lms_rpc.RemoveModule(lms_pb2.ModuleRef(caller=_me(), module_id=str(module_id)))
    return None


@blp.route("/courses/<uuid:course_id>/results", methods=["GET"])
@auth_required
@blp.response(200, s.CourseResultsOut)
@blp.doc(security=BEARER)
def course_results(course_id):
    """Results of a course of your organisation (owner/admin/instructor): enrolments, completion, each
    learner's progress, and per quiz the attempts, mean score and correct answers per question."""
    return to_dict(lms_rpc.GetCourseResults(lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/lessons/<uuid:lesson_id>", methods=["DELETE"])
@auth_required
@blp.response(204)
@blp.doc(security=BEARER)
def remove_lesson(lesson_id):
    """Remove a lesson from the working copy (it leaves the course at the next publish)."""
    lms_rpc.RemoveLesson(lms_pb2.LessonRef(caller=_me(), lesson_id=str(lesson_id)))
    return None


@blp.route("/lessons/<uuid:lesson_id>/assets", methods=["POST"])
@auth_required
@max_body(_upload_limit)
@accepts(*course_rules.ALL_ASSET_TYPES)
@blp.arguments(s.UploadQuery, location="query")
@blp.response(201, s.AssetOut)
@blp.doc(security=BEARER, requestBody={
    "required": True, "description": "The file itself as the raw body (limit lms.max_upload_bytes, default 20 MiB)",
    "content": {t: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
                for t in course_rules.ALL_ASSET_TYPES}})
def upload_asset(query: dict, lesson_id):
    """Upload the asset of a video or file lesson. 413 over the upload limit, 415 for other media types,
    422 `unsupported_asset_type` when the type does not fit the lesson kind."""
    data = request.get_data()
    chunk = _lms_settings().upload_chunk_bytes
    upload_id, me = str(uuid.uuid4()), _me()
    parts = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    status = None
    for seq, part in enumerate(parts):  # chunks keep every gRPC message far below its 4 MiB limit
        status = lms_rpc.UploadAssetChunk(lms_pb2.AssetChunk(
            caller=me, lesson_id=str(lesson_id), upload_id=upload_id, seq=seq, data=part, last=seq == len(parts) - 1,
            filename=query["filename"], content_type=request.mimetype, total_size=len(data)))
    return to_dict(status.asset)


@blp.route("/lessons/<uuid:lesson_id>", methods=["GET"])
@auth_required
@blp.response(200, s.LessonOut)
@blp.doc(security=BEARER)
def get_lesson(lesson_id):
    """A lesson of a course you are enrolled in: Markdown, the quiz without answers, or a time-limited
    download link. 403 `enrollment_required`; 403 `entitlement_required` for premium courses on a free plan."""
    return _lesson(lms_rpc.GetLesson(lms_pb2.LessonRef(caller=_me(), lesson_id=str(lesson_id))), learner=True)


@blp.route("/lessons/<uuid:lesson_id>/draft", methods=["GET"])
@auth_required
@blp.response(200, s.LessonOut)
@blp.doc(security=BEARER)
def get_lesson_draft(lesson_id):
    """The working copy of a lesson, as its authors edit it (owner/admin/instructor of the course's
    organisation): Markdown, the quiz with its correct answers, the asset. Learners read lessons at
    `GET /lms/lessons/{id}` (403 `forbidden` here); 404 for a lesson removed from the working copy."""
    return _lesson(lms_rpc.GetLessonDraft(lms_pb2.LessonRef(caller=_me(), lesson_id=str(lesson_id))), learner=False)


@blp.route("/lessons/<uuid:lesson_id>/complete", methods=["POST"])
@auth_required
@blp.response(200, s.LessonDoneOut)
@blp.doc(security=BEARER)
def complete_lesson(lesson_id):
    """Mark a lesson done (a video player calls it when the video ends). Opening an article or file
    already counts; a quiz is done by passing it (422 `quiz_needs_attempt`). Idempotent."""
    return to_dict(lms_rpc.CompleteLesson(lms_pb2.LessonRef(caller=_me(), lesson_id=str(lesson_id))))


@blp.route("/lessons/<uuid:lesson_id>/quiz-attempts", methods=["POST"])
@auth_required
@blp.arguments(s.QuizAttemptIn)
@blp.response(201, s.QuizResultOut)
@blp.doc(security=BEARER)
def submit_quiz(body: dict, lesson_id):
    """Submit answers; graded on the server. 409 `attempt_limit_reached` / `quiz_already_passed`."""
    return to_dict(lms_rpc.SubmitQuizAttempt(lms_pb2.QuizAttemptRequest(
        caller=_me(), lesson_id=str(lesson_id),
        answers=[lms_pb2.Answer(**a) for a in body["answers"]])))


@blp.route("/courses/<uuid:course_id>/enrollments", methods=["POST"])
@auth_required
@blp.response(201, s.EnrollmentOut)
@blp.alt_response(200, schema=s.EnrollmentOut, description="Already enrolled: the existing enrolment")
@blp.doc(security=BEARER)
def enroll(course_id):
    """Enrol yourself (idempotent: 200 with the existing enrolment). 403 `entitlement_required` for
    premium courses on the free plan."""
    enrollment = lms_rpc.Enroll(lms_pb2.CourseRef(caller=_me(), course_id=str(course_id)))
    return to_dict(enrollment), 201 if enrollment.created else 200


@blp.route("/courses/<uuid:course_id>/enrollments", methods=["DELETE"])
@auth_required
@blp.response(200, s.EnrollmentOut)
@blp.doc(security=BEARER)
def leave(course_id):
    """Leave the course (your quiz results and certificates are kept)."""
    return to_dict(lms_rpc.Leave(lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/enrollments", methods=["GET"])
@auth_required
@blp.response(200, s.EnrollmentListOut)
@blp.doc(security=BEARER)
def list_enrollments():
    """Your enrolments; `access` is `read_only` for premium courses while your plan is free."""
    return to_dict(lms_rpc.ListEnrollments(lms_pb2.ListEnrollmentsRequest(caller=_me())))


@blp.route("/certificates/<uuid:certificate_id>", methods=["GET"])
@blp.response(200, s.CertificateOut)
@blp.doc(responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def get_certificate(certificate_id):
    """Public verification of a certificate (no token): its facts and a link to the PDF. A browser
    (`Accept: text/html`) gets a page a person can read; any other client JSON."""
    facts = to_dict(lms_rpc.GetCertificate(lms_pb2.CertificateRef(certificate_id=str(certificate_id))))
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
        return facts
    response = Response(_certificate_page(facts), mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response


def _certificate_page(facts: dict) -> str:
    e = {k: html.escape(str(v)) for k, v in facts.items()}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Certificate: {e["course_title"]}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b2a4a}}
.card{{border:3px solid #28468c;border-radius:8px;padding:2rem}}dt{{font-weight:600}}dd{{margin:0 0 .8rem}}</style>
</head><body><main class="card">
<h1>Certificate of completion</h1>
<p><strong>Valid.</strong> This certificate was issued by {e["issuer"]} through CareerOS.</p>
<dl><dt>Learner</dt><dd>{e["learner_name"] or "a CareerOS learner"}</dd>
<dt>Course</dt><dd>{e["course_title"]}</dd>
<dt>Issued by</dt><dd>{e["issuer"]}</dd>
<dt>Issued on</dt><dd><time datetime="{e["issued_at"]}">{e["issued_at"][:10]}</time></dd>
<dt>Certificate id</dt><dd><code>{e["certificate_id"]}</code></dd></dl>
<p><a href="{e["pdf_url"]}">Download the certificate (PDF)</a></p>
</main></body></html>"""


@blp.route("/files/<path:key>", methods=["GET"])
@blp.arguments(s.FileQuery, location="query")
@blp.doc(responses={"200": {"description": "The file", "content": {"application/octet-stream": {}}}})
def download(query: dict, key: str):
    """A file behind a signed, time-limited link (local storage; S3 links point at the bucket)."""
    return signed_download(lambda offset: lms_rpc.ReadFile(lms_pb2.ReadFileRequest(
        key=key, expires=query["expires"], signature=query["signature"], offset=offset,
        length=CHUNK_BYTES)), key)
