"""The lms service over gRPC (``careeros.lms.v1.LmsService``).

A plain grpcio servicer hosted by ``careeros grpc`` in its own process, calling the same
service layer as the nameko entrypoints; DomainErrors become status + trailing metadata in
``grpc_support``'s interceptor. Messages <-> service-layer dicts are converted here only.
"""
from __future__ import annotations

from typing import Callable, Optional


from careeros_services.lms.service import Caller, LmsService, build
from contracts.grpc import lms_pb2, lms_pb2_grpc

SERVICE_NAME = lms_pb2.DESCRIPTOR.services_by_name["LmsService"].full_name


def _caller(message) -> Caller:
    return Caller.from_message(message.caller)


def course_message(c: dict) -> lms_pb2.Course:
    return lms_pb2.Course(
        id=c["id"], tenant_id=c["tenant_id"], slug=c["slug"], title=c["title"], summary=c["summary"],
        level=c["level"], language=c["language"], estimated_hours=c["estimated_hours"], tags=c["tags"],
        skills=[lms_pb2.Skill(**s) for s in c["skills"]], track=c["track"], premium=c["premium"],
        visibility=c["visibility"], status=c["status"], revision=c["revision"],
        created_at=c["created_at"] or "", updated_at=c["updated_at"] or "",
        modules=[lms_pb2.ModuleOutline(
            module_id=m["module_id"], title=m["title"], position=m["position"],
            lessons=[lms_pb2.LessonOutline(**{k: l[k] for k in (
                "lesson_id", "title", "kind", "required", "position", "estimated_minutes", "has_asset")})
                for l in m["lessons"]]) for m in c.get("modules", [])],
        enrolled=c.get("enrolled", False), access=c.get("access", "full"))


def _quiz_message(quiz: Optional[dict]) -> Optional[lms_pb2.Quiz]:
    if not quiz:
        return None
    return lms_pb2.Quiz(pass_percent=quiz["pass_percent"], max_attempts=quiz["max_attempts"], questions=[
        lms_pb2.Question(id=q["id"] or "", prompt=q["prompt"], multiple=q["multiple"], choices=[
            lms_pb2.Choice(id=ch["id"] or "", text=ch["text"], correct=bool(ch.get("correct", False)))
            for ch in q["choices"]]) for q in quiz["questions"]])


def _asset_message(asset: Optional[dict]) -> Optional[lms_pb2.Asset]:
    if not asset:
        return None
    return lms_pb2.Asset(filename=asset["filename"], content_type=asset["content_type"], size=asset["size"],
                         url=asset.get("url", ""), sha256=asset.get("sha256", ""))


def _quiz_dict(q: lms_pb2.Quiz) -> dict:
    """A quiz from a request (ids, when a client sends them, keep edited questions comparable)."""
    return {"pass_percent": q.pass_percent, "max_attempts": q.max_attempts, "questions": [
        {"id": x.id or None, "prompt": x.prompt, "multiple": x.multiple,
         "choices": [{"id": c.id or None, "text": c.text, "correct": c.correct} for c in x.choices]}
        for x in q.questions]}


def lesson_message(l: dict) -> lms_pb2.Lesson:
    return lms_pb2.Lesson(
        lesson_id=l["lesson_id"], course_id=l["course_id"], module_id=l.get("module_id") or "", title=l["title"],
        kind=l["kind"], required=l["required"], estimated_minutes=l["estimated_minutes"], body_md=l["body_md"],
        quiz=_quiz_message(l.get("quiz")), has_quiz=bool(l.get("quiz")), asset=_asset_message(l.get("asset")),
        has_asset=bool(l.get("asset")), revision=l.get("revision", 0), attempts_used=l.get("attempts_used", 0),
        passed=l.get("passed", False))


def enrollment_message(e: dict) -> lms_pb2.Enrollment:
    return lms_pb2.Enrollment(**{k: (e[k] if e[k] is not None else "") for k in (
        "enrollment_id", "course_id", "course_title", "course_slug", "premium", "status", "access", "revision",
        "enrolled_revision", "percent", "certificate_id", "enrolled_at", "completed_at")},
        created=e.get("created", False))


def _fields(f: lms_pb2.CourseFields, names) -> dict:
    out = {}
    for name in names:
        if name == "skills":
            out[name] = [{"name": s.name, "esco_uri": s.esco_uri, "level": s.level} for s in f.skills]
        elif name == "tags":
            out[name] = list(f.tags)
        else:
            out[name] = getattr(f, name)
    return out


def _masked(request, settable: tuple[str, ...]) -> dict:
    """The fields an update_mask names; a name that is not settable is passed on for the service to
    refuse with a 422 naming it (never an AttributeError)."""
    return {name: getattr(request, name) if name in settable else None
            for name in request.update_mask if name != "quiz"}


class LmsServicer(lms_pb2_grpc.LmsServiceServicer):
    def __init__(self, service: LmsService):
        self.service = service

    def SearchCourses(self, request, context):
        page = self.service.search_courses(
            _caller(request), text=request.q, skill=request.skill, level=request.level, track=request.track,
            language=request.language, status=request.status or "published", page=request.page or 1,
            page_size=request.page_size or 20)
        return lms_pb2.CoursePage(items=[course_message(c) for c in page["items"]], total=page["total"],
                                  page=page["page"], page_size=page["page_size"])

    def GetCourse(self, request, context):
        return course_message(self.service.get_course(_caller(request), request.course_id))

    def CreateCourse(self, request, context):
        names = ("title", "summary", "level", "language", "estimated_hours", "tags", "skills", "track", "premium")
        data = _fields(request.course, names)
        for name in ("level", "language"):  # proto3 cannot say "absent": "" takes the default
            if not data[name]:
                data.pop(name)
        if request.course.slug:
            data["slug"] = request.course.slug
        return course_message(self.service.create_course(_caller(request), data))

    def UpdateCourse(self, request, context):
        return course_message(self.service.update_course(
            _caller(request), request.course_id, _fields(request.course, list(request.update_mask))))

    def PublishCourse(self, request, context):
        return course_message(self.service.publish_course(_caller(request), request.course_id))

    def ArchiveCourse(self, request, context):
        return course_message(self.service.archive_course(_caller(request), request.course_id))

    def AddModule(self, request, context):
        m = self.service.add_module(_caller(request), request.course_id, {
            "title": request.title, "position": request.position if request.has_position else None})
        return lms_pb2.Module(**m)

    def AddLesson(self, request, context):
        data = {"title": request.title, "kind": request.kind, "required": request.required,
                "estimated_minutes": request.estimated_minutes, "body_md": request.body_md}
        if request.HasField("quiz"):
            data["quiz"] = _quiz_dict(request.quiz)
        return lesson_message(self.service.add_lesson(_caller(request), request.module_id, data))

    def RemoveLesson(self, request, context):
        self.service.remove_lesson(_caller(request), request.lesson_id)
        return lms_pb2.Empty()

    def UpdateLesson(self, request, context):
        patch = _masked(request, ("title", "required", "estimated_minutes", "body_md", "position"))
        if "quiz" in request.update_mask:
            patch["quiz"] = _quiz_dict(request.quiz)
        return lesson_message(self.service.update_lesson(_caller(request), request.lesson_id, patch))

    def UpdateModule(self, request, context):
        patch = _masked(request, ("title", "position"))
        return lms_pb2.Module(**self.service.update_module(_caller(request), request.module_id, patch))

    def RemoveModule(self, request, context):
        self.service.remove_module(_caller(request), request.module_id)
        return lms_pb2.Empty()

    def GetCourseResults(self, request, context):
        r = self.service.course_results(_caller(request), request.course_id)
        return lms_pb2.CourseResults(
            course_id=r["course_id"], title=r["title"], revision=r["revision"],
            enrollments=lms_pb2.EnrollmentFigures(**r["enrollments"]),
            learners=[lms_pb2.LearnerResult(**x) for x in r["learners"]],
            quizzes=[lms_pb2.QuizFigures(**{k: v for k, v in q.items() if k != "questions"},
                                         questions=[lms_pb2.QuestionFigures(**x) for x in q["questions"]])
                     for q in r["quizzes"]])

    def CompleteLesson(self, request, context):
        return lms_pb2.LessonDone(**self.service.complete_lesson(_caller(request), request.lesson_id))

    def UploadAssetChunk(self, request, context):
        asset = self.service.upload_asset_chunk(
            _caller(request), request.lesson_id, upload_id=request.upload_id, seq=request.seq, data=request.data,
            last=request.last, filename=request.filename, content_type=request.content_type,
            total_size=request.total_size)
        return lms_pb2.UploadStatus(done=asset is not None, asset=_asset_message(asset))

    def ReadFile(self, request, context):
        f = self.service.read_file(request.key, request.expires, request.signature, request.offset,
                                   request.length or 1024 * 1024)
        return lms_pb2.FileChunk(**f)

    def Enroll(self, request, context):
        return enrollment_message(self.service.enroll(_caller(request), request.course_id))

    def Leave(self, request, context):
        e = self.service.leave(_caller(request), request.course_id)
        return lms_pb2.Enrollment(enrollment_id=e["enrollment_id"], course_id=e["course_id"], status=e["status"])

    def ListEnrollments(self, request, context):
        return lms_pb2.EnrollmentList(items=[enrollment_message(e)
                                             for e in self.service.list_enrollments(_caller(request))])

    def GetLesson(self, request, context):
        return lesson_message(self.service.get_lesson(_caller(request), request.lesson_id))

    def GetLessonDraft(self, request, context):
        return lesson_message(self.service.get_lesson_draft(_caller(request), request.lesson_id))

    def SubmitQuizAttempt(self, request, context):
        answers = {a.question_id: list(a.choice_ids) for a in request.answers}
        r = self.service.submit_quiz(_caller(request), request.lesson_id, answers)
        return lms_pb2.QuizResult(**{k: v for k, v in r.items() if k != "results"},
                                  results=[lms_pb2.QuestionResult(**x) for x in r["results"]])

    def GetCertificate(self, request, context):
        return lms_pb2.Certificate(**self.service.get_certificate(request.certificate_id))


def registration(config: dict) -> tuple[Callable, LmsServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    return lms_pb2_grpc.add_LmsServiceServicer_to_server, LmsServicer(build(config)), SERVICE_NAME
