"""Bodies of /ai. Answers mirror contracts/ai/consultation_answer.v1.json."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import NAME, NON_BLANK, Schema


class AiConsultationIn(Schema):
    question = ma.fields.String(required=True, validate=[validate.Length(min=1, max=4000), NON_BLANK],
                                metadata={"description": "Your question or goal"})
    target_role = ma.fields.String(validate=validate.Length(max=120),
                                   metadata={"description": "Optional; else the role in the question or your profile's"})


class AiMessageIn(Schema):
    content = ma.fields.String(required=True, validate=[validate.Length(min=1, max=4000), NON_BLANK])


class AiSkillLevelSchema(Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=80), NAME])
    level = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))


class AiCvConfirmIn(Schema):
    skills = ma.fields.List(ma.fields.Nested(AiSkillLevelSchema), required=True, validate=validate.Length(min=1, max=100))


class AiCvQuery(Schema):
    filename = ma.fields.String(load_default="cv", validate=validate.Length(min=1, max=200))


class AiRolesQuery(Schema):
    track = ma.fields.String(load_default="", validate=validate.Length(max=40))


class AiTargetRoleOut(Schema):
    role_id = ma.fields.String()
    title = ma.fields.String()
    esco_occupation_uri = ma.fields.String()


class AiSkillGapOut(Schema):
    skill_id = ma.fields.String()
    name = ma.fields.String()
    esco_uri = ma.fields.String()
    current_level = ma.fields.Integer()
    required_level = ma.fields.Integer()
    estimated_hours = ma.fields.Integer()


class AiRecommendedRoleOut(Schema):
    role_id = ma.fields.String()
    title = ma.fields.String()
    esco_occupation_uri = ma.fields.String()
    fit_percent = ma.fields.Integer()
    missing_skills = ma.fields.List(ma.fields.String())


class AiNextActionOut(Schema):
    order = ma.fields.Integer()
    skill_id = ma.fields.String()
    action = ma.fields.String()
    estimated_hours = ma.fields.Integer()
    course_slugs = ma.fields.List(ma.fields.String())


class AiCourseOut(Schema):
    slug = ma.fields.String()
    title = ma.fields.String()
    level = ma.fields.String()
    tenant_id = ma.fields.String()
    covers = ma.fields.List(ma.fields.String())
    premium = ma.fields.Boolean(metadata={"description": "needs a paid plan (absent in older answers)"})
    in_plan = ma.fields.Boolean(metadata={"description": "your plan opens it"})
    course_id = ma.fields.String(metadata={"description": "the course's id: `GET /lms/courses/{course_id}` "
                                                          "(absent in older answers)"})


class AiConstraintsUsedOut(Schema):
    hours_per_week = ma.fields.Integer(allow_none=True)
    weeks_available = ma.fields.Integer(allow_none=True)
    deadline = ma.fields.String(metadata={"description": "ISO date or empty"})
    free_only = ma.fields.Boolean()
    track = ma.fields.String()
    plan_tier = ma.fields.String()


class AiMarketDataOut(Schema):
    available = ma.fields.Boolean()
    note = ma.fields.String()


class AiAnswerOut(Schema):
    answer = ma.fields.String()
    target_role = ma.fields.Nested(AiTargetRoleOut)
    skill_gaps = ma.fields.List(ma.fields.Nested(AiSkillGapOut))
    recommended_roles = ma.fields.List(ma.fields.Nested(AiRecommendedRoleOut))
    next_actions = ma.fields.List(ma.fields.Nested(AiNextActionOut))
    courses = ma.fields.List(ma.fields.Nested(AiCourseOut))
    interview_topics = ma.fields.List(ma.fields.String())
    cited_esco_uris = ma.fields.List(ma.fields.String())
    market_data = ma.fields.Nested(AiMarketDataOut)
    intent = ma.fields.String(metadata={"description": "what your message was read as (overview, what_if, compare, "
                                                        "time_fit, courses, explain_skill, next_after, interview, "
                                                        "cv_feedback, market, help)"})
    constraints_used = ma.fields.Nested(AiConstraintsUsedOut, metadata={
        "description": "the constraints from the conversation this answer honours"})


class AiMessageOut(Schema):
    message_id = ma.fields.String()
    role = ma.fields.String(metadata={"description": "user | assistant"})
    content = ma.fields.String()
    answer = ma.fields.Nested(AiAnswerOut, allow_none=True, metadata={"description": "assistant messages only"})
    provider = ma.fields.String()
    model = ma.fields.String()
    prompt_tokens = ma.fields.Integer()
    completion_tokens = ma.fields.Integer()
    created_at = ma.fields.String()


class AiConsultationOut(Schema):
    consultation_id = ma.fields.String()
    user_id = ma.fields.String()
    tenant_id = ma.fields.String()
    topic = ma.fields.String()
    target_role = ma.fields.String()
    created_at = ma.fields.String()
    messages = ma.fields.List(ma.fields.Nested(AiMessageOut))


class AiConsultationsQuery(Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 100),
                              metadata={"description": "how many, newest activity first (1..100, default 20)"})


class AiConsultationSummaryOut(Schema):
    consultation_id = ma.fields.String()
    topic = ma.fields.String(metadata={"description": "the opening question, shortened"})
    target_role = ma.fields.String()
    created_at = ma.fields.String()
    last_message_at = ma.fields.String()
    message_count = ma.fields.Integer()


class AiConsultationsOut(Schema):
    consultations = ma.fields.List(ma.fields.Nested(AiConsultationSummaryOut))


class AiProposedSkillOut(Schema):
    name = ma.fields.String()
    esco_uri = ma.fields.String()
    level = ma.fields.Integer()
    evidence = ma.fields.String()


class AiCvOut(Schema):
    cv_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "proposed | confirmed"})
    object_key = ma.fields.String()
    filename = ma.fields.String()
    proposed_skills = ma.fields.List(ma.fields.Nested(AiProposedSkillOut))
    confirmed_skills = ma.fields.List(ma.fields.Nested(AiSkillLevelSchema))
    created_at = ma.fields.String()


class AiQuotaTotalsOut(Schema):
    calls = ma.fields.Integer()
    prompt_tokens = ma.fields.Integer()
    completion_tokens = ma.fields.Integer()
    cost_micro_usd = ma.fields.Integer(metadata={"description": "integer micro-USD"})


class AiProviderUsageOut(Schema):
    provider = ma.fields.String()
    model_called = ma.fields.Boolean(metadata={"description": "false: the embedded consultant (no model, no tokens)"})
    calls = ma.fields.Integer()
    prompt_tokens = ma.fields.Integer()
    completion_tokens = ma.fields.Integer()
    cost_micro_usd = ma.fields.Integer()


class AiQuotaUsageOut(Schema):
    period = ma.fields.String()
    plan_tier = ma.fields.String()
    consultations_used = ma.fields.Integer()
    consultations_quota = ma.fields.Integer(metadata={"description": "-1 = unlimited"})
    user = ma.fields.Nested(AiQuotaTotalsOut)
    tenant = ma.fields.Nested(AiQuotaTotalsOut, metadata={"description": "owners and admins only; zeros otherwise"})
    by_provider = ma.fields.List(ma.fields.Nested(AiProviderUsageOut),
                                 metadata={"description": "your calls this month per provider"})


class AiRoleSkillOut(Schema):
    skill_id = ma.fields.String()
    name = ma.fields.String()
    esco_uri = ma.fields.String()
    level = ma.fields.Integer()


class AiRoleOut(Schema):
    role_id = ma.fields.String()
    title = ma.fields.String()
    track = ma.fields.String()
    esco_occupation_uri = ma.fields.String()
    skills = ma.fields.List(ma.fields.Nested(AiRoleSkillOut))
    interview_topics = ma.fields.List(ma.fields.String())


class AiRolesOut(Schema):
    roles = ma.fields.List(ma.fields.Nested(AiRoleOut))


class AiSkillsQuery(Schema):
    q = ma.fields.String(load_default="", validate=validate.Length(max=100),
                         metadata={"description": "What the person typed (name, alias or part of one)"})
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AiTaxonomySkillOut(Schema):
    skill_id = ma.fields.String()
    name = ma.fields.String()
    esco_uri = ma.fields.String(metadata={"description": "ESCO skill concept ('' when ESCO has none)"})
    aliases = ma.fields.List(ma.fields.String())


class AiSkillsOut(Schema):
    skills = ma.fields.List(ma.fields.Nested(AiTaxonomySkillOut))
