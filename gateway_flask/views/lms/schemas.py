"""Bodies and query strings of /lms."""
import marshmallow as ma
from marshmallow import validate

from contracts import lms as course_rules
from gateway_flask.extensions.api import NAME, NON_BLANK, SINGLE_LINE, Schema

LEVEL = validate.OneOf(course_rules.LEVELS)
ESCO_URI = validate.Regexp(r"^(http://data\.europa\.eu/esco/skill/[^\s\u0000-\u001f\u007f-\u009f]*)?$",
                           error="must be an ESCO skill URI or empty")
SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="must be lowercase letters, digits and dashes")
LANGUAGE = validate.Regexp(r"^ *[A-Za-z0-9]+(-[A-Za-z0-9]+)* *$",
                           error="must be a BCP 47 language tag such as en or pt-BR")
MAX_BODY_MD = 60_000  # within the gateway's 64 KiB body limit with the rest of the lesson


class CourseSkillSchema(Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=course_rules.MAX_SKILL_NAME), NAME])
    esco_uri = ma.fields.String(load_default="", validate=[validate.Length(max=500), ESCO_URI])
    level = ma.fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 5))


class CoursePatch(Schema):
    """Only the fields present change."""
    title = ma.fields.String(validate=[validate.Length(min=1, max=course_rules.MAX_TITLE), NAME])
    summary = ma.fields.String(validate=validate.Length(max=course_rules.MAX_SUMMARY))
    level = ma.fields.String(validate=LEVEL)
    language = ma.fields.String(validate=[validate.Length(min=2, max=35), LANGUAGE])
    estimated_hours = ma.fields.Integer(strict=True, validate=validate.Range(0, course_rules.MAX_HOURS))
    tags = ma.fields.List(ma.fields.String(validate=[validate.Length(min=1, max=course_rules.MAX_TAG), NAME]),
                          validate=validate.Length(max=course_rules.MAX_TAGS))
    skills = ma.fields.List(ma.fields.Nested(CourseSkillSchema), validate=validate.Length(max=course_rules.MAX_SKILLS))
    track = ma.fields.String(validate=[validate.Length(max=80), SINGLE_LINE])
    premium = ma.fields.Boolean()
    slug = ma.fields.String(validate=[validate.Length(min=1, max=course_rules.MAX_SLUG), SLUG])


class CourseIn(CoursePatch):
    title = ma.fields.String(required=True, validate=[validate.Length(min=1, max=course_rules.MAX_TITLE), NAME])


class SearchQuery(Schema):
    q = ma.fields.String(load_default="", validate=validate.Length(max=200))
    skill = ma.fields.String(load_default="", metadata={"description": "skill name or ESCO URI"})
    level = ma.fields.String(load_default="", validate=validate.OneOf(("",) + course_rules.LEVELS))
    track = ma.fields.String(load_default="")
    language = ma.fields.String(load_default="")
    status = ma.fields.String(load_default="published", validate=validate.OneOf(("draft", "published", "archived")),
                              metadata={"description": "draft/archived: your organisation's own (authors)"})
    page = ma.fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    page_size = ma.fields.Integer(load_default=20, validate=validate.Range(1, 100))


class LessonOutlineSchema(Schema):
    lesson_id = ma.fields.String()
    title = ma.fields.String()
    kind = ma.fields.String()
    required = ma.fields.Boolean()
    position = ma.fields.Integer()
    estimated_minutes = ma.fields.Integer()
    has_asset = ma.fields.Boolean()


class ModuleOutlineSchema(Schema):
    module_id = ma.fields.String()
    title = ma.fields.String()
    position = ma.fields.Integer()
    lessons = ma.fields.List(ma.fields.Nested(LessonOutlineSchema))


class CourseOut(Schema):
    id = ma.fields.String()
    tenant_id = ma.fields.String()
    slug = ma.fields.String()
    title = ma.fields.String()
    summary = ma.fields.String()
    level = ma.fields.String()
    language = ma.fields.String()
    estimated_hours = ma.fields.Integer()
    tags = ma.fields.List(ma.fields.String())
    skills = ma.fields.List(ma.fields.Nested(CourseSkillSchema))
    track = ma.fields.String()
    premium = ma.fields.Boolean()
    visibility = ma.fields.String()
    status = ma.fields.String()
    revision = ma.fields.Integer()
    created_at = ma.fields.String()
    updated_at = ma.fields.String()
    modules = ma.fields.List(ma.fields.Nested(ModuleOutlineSchema))
    enrolled = ma.fields.Boolean()
    access = ma.fields.String(metadata={"description": "full | read_only (premium course on a free plan)"})


class CoursePageOut(Schema):
    items = ma.fields.List(ma.fields.Nested(CourseOut))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()


class ModuleIn(Schema):
    title = ma.fields.String(required=True, validate=[validate.Length(min=1, max=course_rules.MAX_TITLE), NAME])
    position = ma.fields.Integer(strict=True, validate=validate.Range(0, 1000))


class ModuleOut(Schema):
    module_id = ma.fields.String()
    course_id = ma.fields.String()
    title = ma.fields.String()
    position = ma.fields.Integer()


class ChoiceSchema(Schema):
    id = ma.fields.String(dump_only=True)
    text = ma.fields.String(required=True, validate=[validate.Length(min=1, max=500), NAME])
    correct = ma.fields.Boolean(load_default=False)


class QuestionSchema(Schema):
    id = ma.fields.String(dump_only=True)
    prompt = ma.fields.String(required=True, validate=[validate.Length(min=1, max=1000), NON_BLANK])
    multiple = ma.fields.Boolean(load_default=False)
    choices = ma.fields.List(ma.fields.Nested(ChoiceSchema), required=True,
                             validate=validate.Length(min=2, max=course_rules.MAX_CHOICES))


class QuizSchema(Schema):
    pass_percent = ma.fields.Integer(strict=True, load_default=70, validate=validate.Range(0, 100))
    max_attempts = ma.fields.Integer(strict=True, load_default=3, validate=validate.Range(0, 100),
                                     metadata={"description": "0 = unlimited"})
    questions = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True,
                               validate=validate.Length(min=1, max=course_rules.MAX_QUESTIONS))


class LessonIn(Schema):
    title = ma.fields.String(required=True, validate=[validate.Length(min=1, max=course_rules.MAX_TITLE), NAME])
    kind = ma.fields.String(required=True, validate=validate.OneOf(course_rules.KINDS))
    required = ma.fields.Boolean(load_default=True)
    estimated_minutes = ma.fields.Integer(strict=True, load_default=10, validate=validate.Range(0, 10_000))
    body_md = ma.fields.String(load_default="", validate=validate.Length(max=MAX_BODY_MD), metadata={
        "description": "Markdown; at most 60,000 characters (the whole request must fit the 64 KiB body limit)"})
    quiz = ma.fields.Nested(QuizSchema)


class LessonPatch(Schema):
    """Only the fields present change; the kind of a lesson never does."""
    title = ma.fields.String(validate=validate.Length(min=1, max=course_rules.MAX_TITLE))
    required = ma.fields.Boolean()
    estimated_minutes = ma.fields.Integer(strict=True, validate=validate.Range(0, 10_000))
    body_md = ma.fields.String(validate=validate.Length(max=course_rules.MAX_BODY))
    quiz = ma.fields.Nested(QuizSchema, metadata={"description": "the whole quiz (quiz lessons only)"})
    position = ma.fields.Integer(strict=True, validate=validate.Range(0, 1000),
                                 metadata={"description": "move within the module (0-based)"})


class ModulePatch(Schema):
    title = ma.fields.String(validate=validate.Length(min=1, max=course_rules.MAX_TITLE))
    position = ma.fields.Integer(strict=True, validate=validate.Range(0, 1000),
                                 metadata={"description": "move among the course's modules (0-based)"})


class LessonDoneOut(Schema):
    lesson_id = ma.fields.String()
    course_id = ma.fields.String()
    done = ma.fields.Boolean()
    recorded = ma.fields.Boolean(metadata={"description": "false: it was already recorded (counted once)"})
    course_completed = ma.fields.Boolean()
    certificate_id = ma.fields.String()


class EnrollmentFiguresOut(Schema):
    total = ma.fields.Integer()
    active = ma.fields.Integer()
    completed = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    completion_rate_percent = ma.fields.Integer()


class LearnerResultOut(Schema):
    user_id = ma.fields.String()
    display_name = ma.fields.String()
    status = ma.fields.String(metadata={"description": "active | completed | cancelled"})
    percent = ma.fields.Integer()
    enrolled_at = ma.fields.String()
    completed_at = ma.fields.String()
    certificate_id = ma.fields.String()


class QuestionFiguresOut(Schema):
    question_id = ma.fields.String()
    prompt = ma.fields.String()
    answered = ma.fields.Integer()
    correct = ma.fields.Integer()
    correct_percent = ma.fields.Integer(metadata={"description": "of all attempts at the quiz"})


class QuizFiguresOut(Schema):
    lesson_id = ma.fields.String()
    title = ma.fields.String()
    attempts = ma.fields.Integer()
    passed = ma.fields.Integer()
    learners_passed = ma.fields.Integer()
    mean_score_percent = ma.fields.Integer()
    questions = ma.fields.List(ma.fields.Nested(QuestionFiguresOut))


class CourseResultsOut(Schema):
    course_id = ma.fields.String()
    title = ma.fields.String()
    revision = ma.fields.Integer()
    enrollments = ma.fields.Nested(EnrollmentFiguresOut)
    learners = ma.fields.List(ma.fields.Nested(LearnerResultOut))
    quizzes = ma.fields.List(ma.fields.Nested(QuizFiguresOut))


class PublicChoice(Schema):
    id = ma.fields.String()
    text = ma.fields.String()
    correct = ma.fields.Boolean(metadata={"description": "authors only; never sent to learners"})


class PublicQuestion(Schema):
    id = ma.fields.String()
    prompt = ma.fields.String()
    multiple = ma.fields.Boolean()
    choices = ma.fields.List(ma.fields.Nested(PublicChoice))


class PublicQuiz(Schema):
    pass_percent = ma.fields.Integer()
    max_attempts = ma.fields.Integer()
    questions = ma.fields.List(ma.fields.Nested(PublicQuestion))


class AssetOut(Schema):
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    url = ma.fields.String(metadata={"description": "time-limited download link"})
    sha256 = ma.fields.String()


class LessonOut(Schema):
    lesson_id = ma.fields.String()
    course_id = ma.fields.String()
    module_id = ma.fields.String()
    title = ma.fields.String()
    kind = ma.fields.String()
    required = ma.fields.Boolean()
    estimated_minutes = ma.fields.Integer()
    body_md = ma.fields.String()
    quiz = ma.fields.Nested(PublicQuiz, allow_none=True)
    asset = ma.fields.Nested(AssetOut, allow_none=True)
    revision = ma.fields.Integer()
    attempts_used = ma.fields.Integer()
    passed = ma.fields.Boolean()


class UploadQuery(Schema):
    filename = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class EnrollmentOut(Schema):
    enrollment_id = ma.fields.String()
    course_id = ma.fields.String()
    course_title = ma.fields.String()
    course_slug = ma.fields.String()
    premium = ma.fields.Boolean()
    status = ma.fields.String(metadata={"description": "active | completed (the LMS's verdict) | cancelled"})
    access = ma.fields.String(metadata={"description": "full | read_only (premium course, plan lapsed)"})
    revision = ma.fields.Integer()
    enrolled_revision = ma.fields.Integer()
    percent = ma.fields.Integer()
    certificate_id = ma.fields.String()
    enrolled_at = ma.fields.String()
    completed_at = ma.fields.String(metadata={"description": "\"\" until complete"})


class EnrollmentListOut(Schema):
    items = ma.fields.List(ma.fields.Nested(EnrollmentOut))


class AnswerIn(Schema):
    question_id = ma.fields.String(required=True)
    choice_ids = ma.fields.List(ma.fields.String(), required=True, validate=validate.Length(max=course_rules.MAX_CHOICES))


class QuizAttemptIn(Schema):
    answers = ma.fields.List(ma.fields.Nested(AnswerIn), required=True,
                             validate=validate.Length(max=course_rules.MAX_QUESTIONS))


class QuestionResultOut(Schema):
    question_id = ma.fields.String()
    correct = ma.fields.Boolean()


class QuizResultOut(Schema):
    attempt_id = ma.fields.String()
    attempt_no = ma.fields.Integer()
    score_percent = ma.fields.Integer()
    passed = ma.fields.Boolean()
    correct = ma.fields.Integer()
    total = ma.fields.Integer()
    pass_percent = ma.fields.Integer()
    attempts_left = ma.fields.Integer(metadata={"description": "-1 = unlimited"})
    results = ma.fields.List(ma.fields.Nested(QuestionResultOut))
    certificate_id = ma.fields.String(metadata={"description": "set when this attempt completed the course"})


class CertificateOut(Schema):
    certificate_id = ma.fields.String()
    course_id = ma.fields.String()
    course_title = ma.fields.String()
    learner_name = ma.fields.String()
    user_id = ma.fields.String()
    issued_at = ma.fields.String()
    revision = ma.fields.Integer()
    valid = ma.fields.Boolean()
    pdf_url = ma.fields.String()
    issuer = ma.fields.String(metadata={"description": "the organisation that owns the course, or CareerOS"})
    verify_url = ma.fields.String(metadata={"description": "this page, as printed on the PDF"})


class FileQuery(Schema):
    expires = ma.fields.Integer(required=True, metadata={"format": "int64"})
    signature = ma.fields.String(required=True, validate=validate.Length(equal=64))
