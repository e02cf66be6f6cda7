"""The lms gRPC server in process (built by ``registration(config)``), called through a real stub."""
from __future__ import annotations

import json
import uuid

import grpc
import pytest

from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.lms.entrypoints.grpc_server import registration
from contracts.grpc import common_pb2, lms_pb2, lms_pb2_grpc


@pytest.fixture(scope="module")
def stub(config, lms_store, tmp_path_factory):
    conf = json.loads(json.dumps(config))
    conf["lms"]["storage"].update(backend="local", root=str(tmp_path_factory.mktemp("grpc-objects")))
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(conf)
    assert name == "careeros.lms.v1.LmsService"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    try:
        grpc_support.wait_for_server(address, timeout_s=10)
        with grpc.insecure_channel(address) as channel:
            yield lms_pb2_grpc.LmsServiceStub(channel)
    finally:
        server.stop(grace=None)
        servicer.service.store.close()


def _caller(tenant: str, role: str = "member", plan: str = "free") -> common_pb2.Caller:
    return common_pb2.Caller(tenant_id=tenant, user_id=str(uuid.uuid4()), org_role=role, plan_tier=plan)


def test_author_and_learn_over_grpc(stub):
    tenant = str(uuid.uuid4())
    teacher = _caller(tenant, "instructor")
    course = stub.CreateCourse(lms_pb2.CreateCourseRequest(caller=teacher, course=lms_pb2.CourseFields(
        title="gRPC in Practice", level="advanced", skills=[lms_pb2.Skill(name="gRPC", level=3)])), timeout=5)
    assert course.status == "draft" and course.slug == "grpc-in-practice" and course.visibility == "tenant"
    module = stub.AddModule(lms_pb2.AddModuleRequest(caller=teacher, course_id=course.id, title="Streams"), timeout=5)
    quiz = stub.AddLesson(lms_pb2.AddLessonRequest(
        caller=teacher, module_id=module.module_id, title="Check", kind="quiz", required=True,
        quiz=lms_pb2.Quiz(pass_percent=100, max_attempts=0, questions=[lms_pb2.Question(
            prompt="Default max message size?", choices=[lms_pb2.Choice(text="4 MiB", correct=True),
                                                          lms_pb2.Choice(text="64 KiB")])])), timeout=5)
    assert quiz.quiz.questions[0].choices[0].correct  # the author sees the answers
    file_lesson = stub.AddLesson(lms_pb2.AddLessonRequest(caller=teacher, module_id=module.module_id,
                                                          title="Slides", kind="file"), timeout=5)
    upload, blob = str(uuid.uuid4()), b"%PDF" + b"x" * 3_000_000
    for seq in range(3):
        status = stub.UploadAssetChunk(lms_pb2.AssetChunk(
            caller=teacher, lesson_id=file_lesson.lesson_id, upload_id=upload, seq=seq,
            data=blob[seq * 1_000_000:(seq + 1) * 1_000_000 + (4 if seq == 2 else 0)], last=seq == 2,
            filename="slides.pdf", content_type="application/pdf", total_size=len(blob)), timeout=10)
    assert status.done and status.asset.size == len(blob)
    published = stub.PublishCourse(lms_pb2.CourseRef(caller=teacher, course_id=course.id), timeout=5)
    assert published.revision == 1 and [l.kind for l in published.modules[0].lessons] == ["quiz", "file"]

    student = _caller(tenant)
    assert stub.Enroll(lms_pb2.CourseRef(caller=student, course_id=course.id), timeout=5).created
    seen = stub.GetLesson(lms_pb2.LessonRef(caller=student, lesson_id=quiz.lesson_id), timeout=5)
    assert not any(c.correct for q in seen.quiz.questions for c in q.choices)
    question = seen.quiz.questions[0]
    right = next(c.id for c in question.choices if c.text == "4 MiB")
    result = stub.SubmitQuizAttempt(lms_pb2.QuizAttemptRequest(
        caller=student, lesson_id=quiz.lesson_id,
        answers=[lms_pb2.Answer(question_id=question.id, choice_ids=[right])]), timeout=5)
    assert result.passed and result.score_percent == 100 and result.attempts_left == -1
    slides = stub.GetLesson(lms_pb2.LessonRef(caller=student, lesson_id=file_lesson.lesson_id), timeout=5)
    assert slides.has_asset and slides.asset.url.startswith("http")
    listed = stub.ListEnrollments(lms_pb2.ListEnrollmentsRequest(caller=student), timeout=5)
    assert [e.course_id for e in listed.items] == [course.id]


def test_errors_carry_code_and_fields(stub):
    tenant = str(uuid.uuid4())
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCourse(lms_pb2.CreateCourseRequest(caller=_caller(tenant), course=lms_pb2.CourseFields(
            title="x")), timeout=5)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert dict(err.value.trailing_metadata())["careeros-error-code"] == "author_role_required"
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCourse(lms_pb2.CreateCourseRequest(caller=_caller(tenant, "admin"), course=lms_pb2.CourseFields(
            title="ok", level="expert")), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "level" in json.loads(dict(err.value.trailing_metadata())["careeros-error-fields"])
    with pytest.raises(grpc.RpcError) as err:
        stub.GetCertificate(lms_pb2.CertificateRef(certificate_id=str(uuid.uuid4())), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    page = stub.SearchCourses(lms_pb2.SearchCoursesRequest(caller=_caller(tenant), q="kubernetes"), timeout=5)
    assert page.items[0].slug == "docker-kubernetes-basics"


def test_update_masks_over_grpc_refuse_what_cannot_be_set(stub):
    teacher = _caller(str(uuid.uuid4()), "instructor")
    course = stub.CreateCourse(lms_pb2.CreateCourseRequest(caller=teacher, course=lms_pb2.CourseFields(
        title="Masks")), timeout=5)
    module = stub.AddModule(lms_pb2.AddModuleRequest(caller=teacher, course_id=course.id, title="M"), timeout=5)
    lesson = stub.AddLesson(lms_pb2.AddLessonRequest(caller=teacher, module_id=module.module_id, title="A",
                                                     kind="article", body_md="a", required=True), timeout=5)
    renamed = stub.UpdateLesson(lms_pb2.UpdateLessonRequest(caller=teacher, lesson_id=lesson.lesson_id, title="B",
                                                            update_mask=["title"]), timeout=5)
    assert (renamed.title, renamed.body_md) == ("B", "a")
    for bad in (["caller"], ["no_such_field"], ["lesson_id"]):
        with pytest.raises(grpc.RpcError) as err:
            stub.UpdateLesson(lms_pb2.UpdateLessonRequest(caller=teacher, lesson_id=lesson.lesson_id,
                                                          update_mask=bad), timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateModule(lms_pb2.UpdateModuleRequest(caller=teacher, module_id=module.module_id,
                                                      update_mask=["course_id"]), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("field", ["q", "skill", "track", "language", "level"])
def test_a_nul_in_a_filter_is_invalid_argument_naming_it_not_a_database_error(stub, field):
    """Defence in depth (issue 10, item 5): a gRPC caller that bypasses the gateway is refused at the
    server's edge, as INVALID_ARGUMENT (which no breaker counts), not with an INTERNAL database error."""
    with pytest.raises(grpc.RpcError) as err:
        stub.SearchCourses(lms_pb2.SearchCoursesRequest(caller=_caller(str(uuid.uuid4())), **{field: "a\x00b"}),
                           timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(err.value.trailing_metadata())
    assert json.loads(trailers["careeros-error-fields"]) == {field: ["must not contain control characters"]}
