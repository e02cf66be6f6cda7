"""Bodies of /ai. Answers mirror contracts/ai/consultation_answer.v1.json."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import Schema


class ConsultationIn(Schema):
    question = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000),
                                metadata={"description": "Your question or goal"})
    target_role = ma.fields.String(validate=validate.Length(max=120),
                                   metadata={"description": "Optional; else the role in the question or your profile's"})


class MessageIn(Schema):
    content = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))


class SkillLevelSchema(Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    level = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))


class CvConfirmIn(Schema):
    skills = ma.fields.List(ma.fields.Nested(SkillLevelSchema), required=True, validate=validate.Length(min=1, max=100))


class CvQuery(Schema):
    filename = ma.fields.String(load_default="cv", validate=validate.Length(min=1, max=200))


class RolesQuery(Schema):
    track = ma.fields.String(load_default="", validate=validate.Length(max=40))


class TargetRoleOut(Schema):
    role_id = ma.fields.String()
    title = ma.fields.String()
    esco_occupation_uri = ma.fields.String()


class SkillGapOut(Schema):
    skill_id = ma.fields.String()
    name = ma.fields.String()
    esco_uri = ma.fields.String()
    current_level = ma.fields.Integer()
    required_level = ma.fields.Integer()
    estimated_hours = ma.fields.Integer()


class RecommendedRoleOut(Schema):
    role_id = ma.fields.String()
    title = ma.fields.String()
    esco_occupation_uri = ma.fields.String()
    fit_percent = ma.fields.Integer()
    missing_skills = ma.fields.List(ma.fields.String())


class NextActionOut(Schema):
    order = ma.fields.Integer()
    skill_id = ma.fields.String()
    action = ma.fields.String()
    estimated_hours = ma.fields.Integer()
    course_slugs = ma.fields.List(ma.fields.String())


class CourseOut(Schema):
    slug = ma.fields.String()
    title = ma.fields.String()
    level = ma.fields.String()
    tenant_id = ma.fields.String()
    covers = ma.fields.List(ma.fields.String())


class MarketDataOut(Schema):
    available = ma.fields.Boolean()
    note = ma.fields.String()


class AnswerOut(Schema):
    answer = ma.fields.String()
    target_role = ma.fields.Nested(TargetRoleOut)
    skill_gaps = ma.fields.List(ma.fields.Nested(SkillGapOut))
    recommended_roles = ma.fields.List(ma.fields.Nested(RecommendedRoleOut))
    next_actions = ma.fields.List(ma.fields.Nested(NextActionOut))
    courses = ma.fields.List(ma.fields.Nested(CourseOut))
    interview_topics = ma.fields.List(ma.fields.String())
    cited_esco_uris = ma.fields.List(ma.fields.String())
    market_data = ma.fields.Nested(MarketDataOut)


class MessageOut(Schema):
    message_id = ma.fields.String()
    role = ma.fields.String(metadata={"description": "user | assistant"})
    content = ma.fields.String()
    answer = ma.fields.Nested(AnswerOut, allow_none=True, metadata={"description": "assistant messages only"})
    provider = ma.fields.String()
    model = ma.fields.String()
    prompt_tokens = ma.fields.Integer()
    completion_tokens = ma.fields.Integer()
    created_at = ma.fields.String()


class ConsultationOut(Schema):
    consultation_id = ma.fields.String()
    user_id = ma.fields.String()
    tenant_id = ma.fields.String()
    topic = ma.fields.String()
    target_role = ma.fields.String()
    created_at = ma.fields.String()
    messages = ma.fields.List(ma.fields.Nested(MessageOut))


class ProposedSkillOut(Schema):
    name = ma.fields.String()
    esco_uri = ma.fields.String()
    level = ma.fields.Integer()
    evidence = ma.fields.String()


class CvOut(Schema):
    cv_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "proposed | confirmed"})
    object_key = ma.fields.String()
    filename = ma.fields.String()
    proposed_skills = ma.fields.List(ma.fields.Nested(ProposedSkillOut))
    confirmed_skills = ma.fields.List(ma.fields.Nested(SkillLevelSchema))
    created_at = ma.fields.String()


class UsageTotalsOut(Schema):
    calls = ma.fields.Integer()
    prompt_tokens = ma.fields.Integer()
    completion_tokens = ma.fields.Integer()
    cost_micro_usd = ma.fields.Integer(metadata={"description": "integer micro-USD"})


class UsageOut(Schema):
    period = ma.fields.String()
    plan_tier = ma.fields.String()
    consultations_used = ma.fields.Integer()
    consultations_quota = ma.fields.Integer(metadata={"description": "-1 = unlimited"})
    user = ma.fields.Nested(UsageTotalsOut)
    tenant = ma.fields.Nested(UsageTotalsOut, metadata={"description": "owners and admins only; zeros otherwise"})


class RoleSkillOut(Schema):
    skill_id = ma.fields.String()
    name = ma.fields.String()
    esco_uri = ma.fields.String()
    level = ma.fields.Integer()


class RoleOut(Schema):
    role_id = ma.fields.String()
    title = ma.fields.String()
    track = ma.fields.String()
    esco_occupation_uri = ma.fields.String()
    skills = ma.fields.List(ma.fields.Nested(RoleSkillOut))
    interview_topics = ma.fields.List(ma.fields.String())


class RolesOut(Schema):
    roles = ma.fields.List(ma.fields.Nested(RoleOut))
