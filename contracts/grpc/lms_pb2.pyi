from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Skill(_message.Message):
    __slots__ = ("name", "esco_uri", "level")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    esco_uri: str
    level: int
    def __init__(self, name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class CourseFields(_message.Message):
    __slots__ = ("title", "summary", "level", "language", "estimated_hours", "tags", "skills", "track", "premium", "slug")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    PREMIUM_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    title: str
    summary: str
    level: str
    language: str
    estimated_hours: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    track: str
    premium: bool
    slug: str
    def __init__(self, title: _Optional[str] = ..., summary: _Optional[str] = ..., level: _Optional[str] = ..., language: _Optional[str] = ..., estimated_hours: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., track: _Optional[str] = ..., premium: _Optional[bool] = ..., slug: _Optional[str] = ...) -> None: ...

class LessonOutline(_message.Message):
    __slots__ = ("lesson_id", "title", "kind", "required", "position", "estimated_minutes", "has_asset")
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    HAS_ASSET_FIELD_NUMBER: _ClassVar[int]
    lesson_id: str
    title: str
    kind: str
    required: bool
    position: int
    estimated_minutes: int
    has_asset: bool
    def __init__(self, lesson_id: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[str] = ..., required: _Optional[bool] = ..., position: _Optional[int] = ..., estimated_minutes: _Optional[int] = ..., has_asset: _Optional[bool] = ...) -> None: ...

class ModuleOutline(_message.Message):
    __slots__ = ("module_id", "title", "position", "lessons")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    title: str
    position: int
    lessons: _containers.RepeatedCompositeFieldContainer[LessonOutline]
    def __init__(self, module_id: _Optional[str] = ..., title: _Optional[str] = ..., position: _Optional[int] = ..., lessons: _Optional[_Iterable[_Union[LessonOutline, _Mapping]]] = ...) -> None: ...

class Course(_message.Message):
    __slots__ = ("id", "tenant_id", "slug", "title", "summary", "level", "language", "estimated_hours", "tags", "skills", "track", "premium", "visibility", "status", "revision", "created_at", "updated_at", "modules", "enrolled", "access")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    PREMIUM_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODULES_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    slug: str
    title: str
    summary: str
    level: str
    language: str
    estimated_hours: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    track: str
    premium: bool
    visibility: str
    status: str
    revision: int
    created_at: str
    updated_at: str
    modules: _containers.RepeatedCompositeFieldContainer[ModuleOutline]
    enrolled: bool
    access: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., level: _Optional[str] = ..., language: _Optional[str] = ..., estimated_hours: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., track: _Optional[str] = ..., premium: _Optional[bool] = ..., visibility: _Optional[str] = ..., status: _Optional[str] = ..., revision: _Optional[int] = ..., created_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., modules: _Optional[_Iterable[_Union[ModuleOutline, _Mapping]]] = ..., enrolled: _Optional[bool] = ..., access: _Optional[str] = ...) -> None: ...

class SearchCoursesRequest(_message.Message):
    __slots__ = ("caller", "q", "skill", "level", "track", "language", "status", "page", "page_size")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    q: str
    skill: str
    level: str
    track: str
    language: str
    status: str
    page: int
    page_size: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., q: _Optional[str] = ..., skill: _Optional[str] = ..., level: _Optional[str] = ..., track: _Optional[str] = ..., language: _Optional[str] = ..., status: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class CoursePage(_message.Message):
    __slots__ = ("items", "total", "page", "page_size")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Course]
    total: int
    page: int
    page_size: int
    def __init__(self, items: _Optional[_Iterable[_Union[Course, _Mapping]]] = ..., total: _Optional[int] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class CourseRef(_message.Message):
    __slots__ = ("caller", "course_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    course_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., course_id: _Optional[str] = ...) -> None: ...

class CreateCourseRequest(_message.Message):
    __slots__ = ("caller", "course")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    COURSE_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    course: CourseFields
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., course: _Optional[_Union[CourseFields, _Mapping]] = ...) -> None: ...

class UpdateCourseRequest(_message.Message):
    __slots__ = ("caller", "course_id", "course", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    course_id: str
    course: CourseFields
    update_mask: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., course_id: _Optional[str] = ..., course: _Optional[_Union[CourseFields, _Mapping]] = ..., update_mask: _Optional[_Iterable[str]] = ...) -> None: ...

class AddModuleRequest(_message.Message):
    __slots__ = ("caller", "course_id", "title", "position", "has_position")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    HAS_POSITION_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    course_id: str
    title: str
    position: int
    has_position: bool
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., course_id: _Optional[str] = ..., title: _Optional[str] = ..., position: _Optional[int] = ..., has_position: _Optional[bool] = ...) -> None: ...

class Module(_message.Message):
    __slots__ = ("module_id", "course_id", "title", "position")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    course_id: str
    title: str
    position: int
    def __init__(self, module_id: _Optional[str] = ..., course_id: _Optional[str] = ..., title: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class Choice(_message.Message):
    __slots__ = ("id", "text", "correct")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    correct: bool
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ..., correct: _Optional[bool] = ...) -> None: ...

class Question(_message.Message):
    __slots__ = ("id", "prompt", "multiple", "choices")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MULTIPLE_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    id: str
    prompt: str
    multiple: bool
    choices: _containers.RepeatedCompositeFieldContainer[Choice]
    def __init__(self, id: _Optional[str] = ..., prompt: _Optional[str] = ..., multiple: _Optional[bool] = ..., choices: _Optional[_Iterable[_Union[Choice, _Mapping]]] = ...) -> None: ...

class Quiz(_message.Message):
    __slots__ = ("pass_percent", "max_attempts", "questions")
    PASS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    pass_percent: int
    max_attempts: int
    questions: _containers.RepeatedCompositeFieldContainer[Question]
    def __init__(self, pass_percent: _Optional[int] = ..., max_attempts: _Optional[int] = ..., questions: _Optional[_Iterable[_Union[Question, _Mapping]]] = ...) -> None: ...

class AddLessonRequest(_message.Message):
    __slots__ = ("caller", "module_id", "title", "kind", "required", "estimated_minutes", "body_md", "quiz")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BODY_MD_FIELD_NUMBER: _ClassVar[int]
    QUIZ_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    module_id: str
    title: str
    kind: str
    required: bool
    estimated_minutes: int
    body_md: str
    quiz: Quiz
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., module_id: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[str] = ..., required: _Optional[bool] = ..., estimated_minutes: _Optional[int] = ..., body_md: _Optional[str] = ..., quiz: _Optional[_Union[Quiz, _Mapping]] = ...) -> None: ...

class Asset(_message.Message):
    __slots__ = ("filename", "content_type", "size", "url", "sha256")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    size: int
    url: str
    sha256: str
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., url: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class Lesson(_message.Message):
    __slots__ = ("lesson_id", "course_id", "module_id", "title", "kind", "required", "estimated_minutes", "body_md", "quiz", "has_quiz", "asset", "has_asset", "revision", "attempts_used", "passed")
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BODY_MD_FIELD_NUMBER: _ClassVar[int]
    QUIZ_FIELD_NUMBER: _ClassVar[int]
    HAS_QUIZ_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    HAS_ASSET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_USED_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    lesson_id: str
    course_id: str
    module_id: str
    title: str
    kind: str
    required: bool
    estimated_minutes: int
    body_md: str
    quiz: Quiz
    has_quiz: bool
    asset: Asset
    has_asset: bool
    revision: int
    attempts_used: int
    passed: bool
    def __init__(self, lesson_id: _Optional[str] = ..., course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[str] = ..., required: _Optional[bool] = ..., estimated_minutes: _Optional[int] = ..., body_md: _Optional[str] = ..., quiz: _Optional[_Union[Quiz, _Mapping]] = ..., has_quiz: _Optional[bool] = ..., asset: _Optional[_Union[Asset, _Mapping]] = ..., has_asset: _Optional[bool] = ..., revision: _Optional[int] = ..., attempts_used: _Optional[int] = ..., passed: _Optional[bool] = ...) -> None: ...

class LessonRef(_message.Message):
    __slots__ = ("caller", "lesson_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    lesson_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., lesson_id: _Optional[str] = ...) -> None: ...

class AssetChunk(_message.Message):
    __slots__ = ("caller", "lesson_id", "upload_id", "seq", "data", "last", "filename", "content_type", "total_size")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    lesson_id: str
    upload_id: str
    seq: int
    data: bytes
    last: bool
    filename: str
    content_type: str
    total_size: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., lesson_id: _Optional[str] = ..., upload_id: _Optional[str] = ..., seq: _Optional[int] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class UploadStatus(_message.Message):
    __slots__ = ("done", "asset")
    DONE_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    done: bool
    asset: Asset
    def __init__(self, done: _Optional[bool] = ..., asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class ReadFileRequest(_message.Message):
    __slots__ = ("key", "expires", "signature", "offset", "length")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    key: str
    expires: int
    signature: str
    offset: int
    length: int
    def __init__(self, key: _Optional[str] = ..., expires: _Optional[int] = ..., signature: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("data", "size", "content_type", "offset")
    DATA_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    size: int
    content_type: str
    offset: int
    def __init__(self, data: _Optional[bytes] = ..., size: _Optional[int] = ..., content_type: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class ListEnrollmentsRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...

class Enrollment(_message.Message):
    __slots__ = ("enrollment_id", "course_id", "course_title", "course_slug", "premium", "status", "access", "revision", "enrolled_revision", "percent", "certificate_id", "enrolled_at", "created", "completed_at")
    ENROLLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_TITLE_FIELD_NUMBER: _ClassVar[int]
    COURSE_SLUG_FIELD_NUMBER: _ClassVar[int]
    PREMIUM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_REVISION_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    enrollment_id: str
    course_id: str
    course_title: str
    course_slug: str
    premium: bool
    status: str
    access: str
    revision: int
    enrolled_revision: int
    percent: int
    certificate_id: str
    enrolled_at: str
    created: bool
    completed_at: str
    def __init__(self, enrollment_id: _Optional[str] = ..., course_id: _Optional[str] = ..., course_title: _Optional[str] = ..., course_slug: _Optional[str] = ..., premium: _Optional[bool] = ..., status: _Optional[str] = ..., access: _Optional[str] = ..., revision: _Optional[int] = ..., enrolled_revision: _Optional[int] = ..., percent: _Optional[int] = ..., certificate_id: _Optional[str] = ..., enrolled_at: _Optional[str] = ..., created: _Optional[bool] = ..., completed_at: _Optional[str] = ...) -> None: ...

class EnrollmentList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Enrollment]
    def __init__(self, items: _Optional[_Iterable[_Union[Enrollment, _Mapping]]] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("question_id", "choice_ids")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHOICE_IDS_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    choice_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, question_id: _Optional[str] = ..., choice_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class QuizAttemptRequest(_message.Message):
    __slots__ = ("caller", "lesson_id", "answers")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    lesson_id: str
    answers: _containers.RepeatedCompositeFieldContainer[Answer]
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., lesson_id: _Optional[str] = ..., answers: _Optional[_Iterable[_Union[Answer, _Mapping]]] = ...) -> None: ...

class QuestionResult(_message.Message):
    __slots__ = ("question_id", "correct")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    correct: bool
    def __init__(self, question_id: _Optional[str] = ..., correct: _Optional[bool] = ...) -> None: ...

class QuizResult(_message.Message):
    __slots__ = ("attempt_id", "attempt_no", "score_percent", "passed", "correct", "total", "pass_percent", "attempts_left", "results", "certificate_id")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NO_FIELD_NUMBER: _ClassVar[int]
    SCORE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PASS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    attempt_no: int
    score_percent: int
    passed: bool
    correct: int
    total: int
    pass_percent: int
    attempts_left: int
    results: _containers.RepeatedCompositeFieldContainer[QuestionResult]
    certificate_id: str
    def __init__(self, attempt_id: _Optional[str] = ..., attempt_no: _Optional[int] = ..., score_percent: _Optional[int] = ..., passed: _Optional[bool] = ..., correct: _Optional[int] = ..., total: _Optional[int] = ..., pass_percent: _Optional[int] = ..., attempts_left: _Optional[int] = ..., results: _Optional[_Iterable[_Union[QuestionResult, _Mapping]]] = ..., certificate_id: _Optional[str] = ...) -> None: ...

class CertificateRef(_message.Message):
    __slots__ = ("certificate_id",)
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    certificate_id: str
    def __init__(self, certificate_id: _Optional[str] = ...) -> None: ...

class Certificate(_message.Message):
    __slots__ = ("certificate_id", "course_id", "course_title", "learner_name", "user_id", "issued_at", "revision", "valid", "pdf_url", "issuer", "verify_url")
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_TITLE_FIELD_NUMBER: _ClassVar[int]
    LEARNER_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    PDF_URL_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    VERIFY_URL_FIELD_NUMBER: _ClassVar[int]
    certificate_id: str
    course_id: str
    course_title: str
    learner_name: str
    user_id: str
    issued_at: str
    revision: int
    valid: bool
    pdf_url: str
    issuer: str
    verify_url: str
    def __init__(self, certificate_id: _Optional[str] = ..., course_id: _Optional[str] = ..., course_title: _Optional[str] = ..., learner_name: _Optional[str] = ..., user_id: _Optional[str] = ..., issued_at: _Optional[str] = ..., revision: _Optional[int] = ..., valid: _Optional[bool] = ..., pdf_url: _Optional[str] = ..., issuer: _Optional[str] = ..., verify_url: _Optional[str] = ...) -> None: ...

class UpdateLessonRequest(_message.Message):
    __slots__ = ("caller", "lesson_id", "title", "required", "estimated_minutes", "body_md", "quiz", "position", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BODY_MD_FIELD_NUMBER: _ClassVar[int]
    QUIZ_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    lesson_id: str
    title: str
    required: bool
    estimated_minutes: int
    body_md: str
    quiz: Quiz
    position: int
    update_mask: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., lesson_id: _Optional[str] = ..., title: _Optional[str] = ..., required: _Optional[bool] = ..., estimated_minutes: _Optional[int] = ..., body_md: _Optional[str] = ..., quiz: _Optional[_Union[Quiz, _Mapping]] = ..., position: _Optional[int] = ..., update_mask: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateModuleRequest(_message.Message):
    __slots__ = ("caller", "module_id", "title", "position", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    module_id: str
    title: str
    position: int
    update_mask: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., module_id: _Optional[str] = ..., title: _Optional[str] = ..., position: _Optional[int] = ..., update_mask: _Optional[_Iterable[str]] = ...) -> None: ...

class ModuleRef(_message.Message):
    __slots__ = ("caller", "module_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    module_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., module_id: _Optional[str] = ...) -> None: ...

class LessonDone(_message.Message):
    __slots__ = ("lesson_id", "course_id", "done", "recorded", "course_completed", "certificate_id")
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    COURSE_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    lesson_id: str
    course_id: str
    done: bool
    recorded: bool
    course_completed: bool
    certificate_id: str
    def __init__(self, lesson_id: _Optional[str] = ..., course_id: _Optional[str] = ..., done: _Optional[bool] = ..., recorded: _Optional[bool] = ..., course_completed: _Optional[bool] = ..., certificate_id: _Optional[str] = ...) -> None: ...

class EnrollmentFigures(_message.Message):
    __slots__ = ("total", "active", "completed", "cancelled", "completion_rate_percent")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    total: int
    active: int
    completed: int
    cancelled: int
    completion_rate_percent: int
    def __init__(self, total: _Optional[int] = ..., active: _Optional[int] = ..., completed: _Optional[int] = ..., cancelled: _Optional[int] = ..., completion_rate_percent: _Optional[int] = ...) -> None: ...

class LearnerResult(_message.Message):
    __slots__ = ("user_id", "display_name", "status", "percent", "enrolled_at", "completed_at", "certificate_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    display_name: str
    status: str
    percent: int
    enrolled_at: str
    completed_at: str
    certificate_id: str
    def __init__(self, user_id: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[str] = ..., percent: _Optional[int] = ..., enrolled_at: _Optional[str] = ..., completed_at: _Optional[str] = ..., certificate_id: _Optional[str] = ...) -> None: ...

class QuestionFigures(_message.Message):
    __slots__ = ("question_id", "prompt", "answered", "correct", "correct_percent")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    CORRECT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    prompt: str
    answered: int
    correct: int
    correct_percent: int
    def __init__(self, question_id: _Optional[str] = ..., prompt: _Optional[str] = ..., answered: _Optional[int] = ..., correct: _Optional[int] = ..., correct_percent: _Optional[int] = ...) -> None: ...

class QuizFigures(_message.Message):
    __slots__ = ("lesson_id", "title", "attempts", "passed", "learners_passed", "mean_score_percent", "questions")
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    LEARNERS_PASSED_FIELD_NUMBER: _ClassVar[int]
    MEAN_SCORE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    lesson_id: str
    title: str
    attempts: int
    passed: int
    learners_passed: int
    mean_score_percent: int
    questions: _containers.RepeatedCompositeFieldContainer[QuestionFigures]
    def __init__(self, lesson_id: _Optional[str] = ..., title: _Optional[str] = ..., attempts: _Optional[int] = ..., passed: _Optional[int] = ..., learners_passed: _Optional[int] = ..., mean_score_percent: _Optional[int] = ..., questions: _Optional[_Iterable[_Union[QuestionFigures, _Mapping]]] = ...) -> None: ...

class CourseResults(_message.Message):
    __slots__ = ("course_id", "title", "revision", "enrollments", "learners", "quizzes")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENTS_FIELD_NUMBER: _ClassVar[int]
    LEARNERS_FIELD_NUMBER: _ClassVar[int]
    QUIZZES_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    title: str
    revision: int
    enrollments: EnrollmentFigures
    learners: _containers.RepeatedCompositeFieldContainer[LearnerResult]
    quizzes: _containers.RepeatedCompositeFieldContainer[QuizFigures]
    def __init__(self, course_id: _Optional[str] = ..., title: _Optional[str] = ..., revision: _Optional[int] = ..., enrollments: _Optional[_Union[EnrollmentFigures, _Mapping]] = ..., learners: _Optional[_Iterable[_Union[LearnerResult, _Mapping]]] = ..., quizzes: _Optional[_Iterable[_Union[QuizFigures, _Mapping]]] = ...) -> None: ...
