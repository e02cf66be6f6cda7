"""/lms: the course catalog, authoring, enrolment, lesson content, quizzes and certificates.

Authoring needs org_role owner/admin/instructor (checked by the lms service). Premium
content is checked against the token's plan_tier on every request. Two routes are public:
certificate verification and signed file downloads (the signature is the authorisation).
"""
from __future__ import annotations

import uuid

from flask import Response, request, stream_with_context

from careeros_services.lms import domain
from contracts.grpc import lms_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.middleware import accepts, max_body
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, client, to_dict
from gateway_flask.state import gateway_state
from gateway_flask.views.lms import schemas as s

blp = Blueprint("lms", __name__, url_prefix="/lms", description="Courses, enrolment, lessons, quizzes, certificates")
BEARER = [{"bearerAuth": []}]
COURSE_FIELDS = ("title", "summary", "level", "language", "estimated_hours", "tags", "skills", "track", "premium",
                 "slug")


def _call(method: str, message):
    return client("lms").call(method, message)


def _me():
    return caller(current_principal())


def _lms_conf() -> dict:
    return gateway_state().config.get("lms", {})


def _upload_limit() -> int:
    return int(_lms_conf().get("max_upload_bytes", 20 * 1024 * 1024))


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
@auth_required
@blp.arguments(s.SearchQuery, location="query")
@blp.response(200, s.CoursePageOut)
@blp.doc(security=BEARER)
def search_courses(query: dict):
    """Search the catalog (public courses plus your organisation's) by text, skill (name or ESCO URI),
    level, track and language; ranked by relevance, then title, stable across pages."""
    return to_dict(_call("SearchCourses", lms_pb2.SearchCoursesRequest(caller=_me(), **query)))


@blp.route("/courses", methods=["POST"])
@auth_required
@blp.arguments(s.CourseIn)
@blp.response(201, s.CourseOut)
@blp.doc(security=BEARER)
def create_course(body: dict):
    """Create a draft course in your organisation (owner/admin/instructor; visible only inside it)."""
    created = _course(_call("CreateCourse", lms_pb2.CreateCourseRequest(caller=_me(), course=_course_fields(body))))
    return created, {"Location": f"/api/v1/lms/courses/{created['id']}"}


@blp.route("/courses/<uuid:course_id>", methods=["GET"])
@auth_required
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def get_course(course_id):
    """A course and its structure (authors see the working copy; learners the latest published revision)."""
    return _course(_call("GetCourse", lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/courses/<uuid:course_id>", methods=["PATCH"])
@auth_required
@blp.arguments(s.CoursePatch)
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def patch_course(patch: dict, course_id):
    """Change catalog fields of your course (live at once; lessons change with the next publish)."""
    return _course(_call("UpdateCourse", lms_pb2.UpdateCourseRequest(
        caller=_me(), course_id=str(course_id), course=_course_fields(patch), update_mask=sorted(patch))))


@blp.route("/courses/<uuid:course_id>/publish", methods=["POST"])
@auth_required
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def publish_course(course_id):
    """Publish the working copy as a new revision. Lesson ids stay; enrolled learners keep their progress;
    lessons removed since the last revision no longer count. 422 `course_incomplete` names what is missing."""
    return _course(_call("PublishCourse", lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/courses/<uuid:course_id>/archive", methods=["POST"])
@auth_required
@blp.response(200, s.CourseOut)
@blp.doc(security=BEARER)
def archive_course(course_id):
    """Archive: no new enrolments; enrolled learners keep reading it."""
    return _course(_call("ArchiveCourse", lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/courses/<uuid:course_id>/modules", methods=["POST"])
@auth_required
@blp.arguments(s.ModuleIn)
@blp.response(201, s.ModuleOut)
@blp.doc(security=BEARER)
def add_module(body: dict, course_id):
    """Add a module to your course's working copy."""
    return to_dict(_call("AddModule", lms_pb2.AddModuleRequest(
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
        message.quiz.CopyFrom(lms_pb2.Quiz(
            pass_percent=quiz["pass_percent"], max_attempts=quiz["max_attempts"],
            questions=[lms_pb2.Question(prompt=q["prompt"], multiple=q["multiple"],
                                        choices=[lms_pb2.Choice(**c) for c in q["choices"]])
                       for q in quiz["questions"]]))
    return _lesson(_call("AddLesson", message), learner=False)


@blp.route("/lessons/<uuid:lesson_id>", methods=["DELETE"])
@auth_required
@blp.response(204)
@blp.doc(security=BEARER)
def remove_lesson(lesson_id):
    """Remove a lesson from the working copy (it leaves the course at the next publish)."""
    _call("RemoveLesson", lms_pb2.LessonRef(caller=_me(), lesson_id=str(lesson_id)))
    return None


@blp.route("/lessons/<uuid:lesson_id>/assets", methods=["POST"])
@auth_required
@max_body(_upload_limit)
@accepts(*domain.ALL_ASSET_TYPES)
@blp.arguments(s.UploadQuery, location="query")
@blp.response(201, s.AssetOut)
@blp.doc(security=BEARER, requestBody={
    "required": True, "description": "The file itself as the raw body (limit lms.max_upload_bytes, default 20 MiB)",
    "content": {t: {"schema": {"type": "string", "format": "binary", "minLength": 1}} for t in domain.ALL_ASSET_TYPES}})
def upload_asset(query: dict, lesson_id):
    """Upload the asset of a video or file lesson. 413 over the upload limit, 415 for other media types,
    422 `unsupported_asset_type` when the type does not fit the lesson kind."""
    data = request.get_data()
    chunk = int(_lms_conf().get("upload_chunk_bytes", 1024 * 1024))
    upload_id, me = str(uuid.uuid4()), _me()
    parts = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    status = None
    for seq, part in enumerate(parts):  # chunks keep every gRPC message far below its 4 MiB limit
        status = _call("UploadAssetChunk", lms_pb2.AssetChunk(
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
    return _lesson(_call("GetLesson", lms_pb2.LessonRef(caller=_me(), lesson_id=str(lesson_id))), learner=True)


@blp.route("/lessons/<uuid:lesson_id>/quiz-attempts", methods=["POST"])
@auth_required
@blp.arguments(s.QuizAttemptIn)
@blp.response(201, s.QuizResultOut)
@blp.doc(security=BEARER)
def submit_quiz(body: dict, lesson_id):
    """Submit answers; graded on the server. 409 `attempt_limit_reached` / `quiz_already_passed`."""
    return to_dict(_call("SubmitQuizAttempt", lms_pb2.QuizAttemptRequest(
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
    enrollment = _call("Enroll", lms_pb2.CourseRef(caller=_me(), course_id=str(course_id)))
    return to_dict(enrollment), 201 if enrollment.created else 200


@blp.route("/courses/<uuid:course_id>/enrollments", methods=["DELETE"])
@auth_required
@blp.response(200, s.EnrollmentOut)
@blp.doc(security=BEARER)
def leave(course_id):
    """Leave the course (your quiz results and certificates are kept)."""
    return to_dict(_call("Leave", lms_pb2.CourseRef(caller=_me(), course_id=str(course_id))))


@blp.route("/enrollments", methods=["GET"])
@auth_required
@blp.response(200, s.EnrollmentListOut)
@blp.doc(security=BEARER)
def list_enrollments():
    """Your enrolments; `access` is `read_only` for premium courses while your plan is free."""
    return to_dict(_call("ListEnrollments", lms_pb2.ListEnrollmentsRequest(caller=_me())))


@blp.route("/certificates/<uuid:certificate_id>", methods=["GET"])
@blp.response(200, s.CertificateOut)
def get_certificate(certificate_id):
    """Public verification of a certificate (no token): its facts and a link to the PDF."""
    return to_dict(_call("GetCertificate", lms_pb2.CertificateRef(certificate_id=str(certificate_id))))


@blp.route("/files/<path:key>", methods=["GET"])
@blp.arguments(s.FileQuery, location="query")
@blp.doc(responses={"200": {"description": "The file", "content": {"application/octet-stream": {}}}})
def download(query: dict, key: str):
    """A file behind a signed, time-limited link (local storage; S3 links point at the bucket)."""
    def fetch(offset: int):
        return _call("ReadFile", lms_pb2.ReadFileRequest(key=key, expires=query["expires"],
                                                         signature=query["signature"], offset=offset,
                                                         length=1024 * 1024))

    first = fetch(0)  # errors (403 bad link, 404) surface before the response starts

    def body():
        chunk, sent = first, 0
        while True:
            yield chunk.data
            sent += len(chunk.data)
            if not chunk.data or sent >= chunk.size:
                return
            chunk = fetch(sent)

    response = Response(stream_with_context(body()), mimetype=first.content_type)
    response.headers["Content-Length"] = str(first.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'attachment; filename="{key.rsplit("/", 1)[-1]}"'
    return response
