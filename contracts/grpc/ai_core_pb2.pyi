from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SkillLevel(_message.Message):
    __slots__ = ("name", "level")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    level: int
    def __init__(self, name: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class ProposeRoadmapRequest(_message.Message):
    __slots__ = ("caller", "target_role", "known_skills")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    KNOWN_SKILLS_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    target_role: str
    known_skills: _containers.RepeatedCompositeFieldContainer[SkillLevel]
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., target_role: _Optional[str] = ..., known_skills: _Optional[_Iterable[_Union[SkillLevel, _Mapping]]] = ...) -> None: ...

class ProposedMilestone(_message.Message):
    __slots__ = ("skill_id", "skill_name", "esco_uri", "level", "estimated_hours", "prerequisite_skill_ids", "course_slugs", "practice_task")
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    SKILL_NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    PREREQUISITE_SKILL_IDS_FIELD_NUMBER: _ClassVar[int]
    COURSE_SLUGS_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_TASK_FIELD_NUMBER: _ClassVar[int]
    skill_id: str
    skill_name: str
    esco_uri: str
    level: int
    estimated_hours: int
    prerequisite_skill_ids: _containers.RepeatedScalarFieldContainer[str]
    course_slugs: _containers.RepeatedScalarFieldContainer[str]
    practice_task: str
    def __init__(self, skill_id: _Optional[str] = ..., skill_name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., level: _Optional[int] = ..., estimated_hours: _Optional[int] = ..., prerequisite_skill_ids: _Optional[_Iterable[str]] = ..., course_slugs: _Optional[_Iterable[str]] = ..., practice_task: _Optional[str] = ...) -> None: ...

class ProposeRoadmapResponse(_message.Message):
    __slots__ = ("role_id", "role_title", "esco_occupation_uri", "milestones")
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_TITLE_FIELD_NUMBER: _ClassVar[int]
    ESCO_OCCUPATION_URI_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    role_title: str
    esco_occupation_uri: str
    milestones: _containers.RepeatedCompositeFieldContainer[ProposedMilestone]
    def __init__(self, role_id: _Optional[str] = ..., role_title: _Optional[str] = ..., esco_occupation_uri: _Optional[str] = ..., milestones: _Optional[_Iterable[_Union[ProposedMilestone, _Mapping]]] = ...) -> None: ...

class RoleSkill(_message.Message):
    __slots__ = ("skill_id", "name", "esco_uri", "level")
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    skill_id: str
    name: str
    esco_uri: str
    level: int
    def __init__(self, skill_id: _Optional[str] = ..., name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class Role(_message.Message):
    __slots__ = ("role_id", "title", "track", "esco_occupation_uri", "skills", "interview_topics")
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    ESCO_OCCUPATION_URI_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_TOPICS_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    title: str
    track: str
    esco_occupation_uri: str
    skills: _containers.RepeatedCompositeFieldContainer[RoleSkill]
    interview_topics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, role_id: _Optional[str] = ..., title: _Optional[str] = ..., track: _Optional[str] = ..., esco_occupation_uri: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[RoleSkill, _Mapping]]] = ..., interview_topics: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRolesRequest(_message.Message):
    __slots__ = ("caller", "track")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    track: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., track: _Optional[str] = ...) -> None: ...

class ListRolesResponse(_message.Message):
    __slots__ = ("roles",)
    ROLES_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedCompositeFieldContainer[Role]
    def __init__(self, roles: _Optional[_Iterable[_Union[Role, _Mapping]]] = ...) -> None: ...

class SearchSkillsRequest(_message.Message):
    __slots__ = ("caller", "q", "limit")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    q: str
    limit: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., q: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class TaxonomySkill(_message.Message):
    __slots__ = ("skill_id", "name", "esco_uri", "aliases")
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    skill_id: str
    name: str
    esco_uri: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, skill_id: _Optional[str] = ..., name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchSkillsResponse(_message.Message):
    __slots__ = ("skills",)
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    skills: _containers.RepeatedCompositeFieldContainer[TaxonomySkill]
    def __init__(self, skills: _Optional[_Iterable[_Union[TaxonomySkill, _Mapping]]] = ...) -> None: ...

class TargetRole(_message.Message):
    __slots__ = ("role_id", "title", "esco_occupation_uri")
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ESCO_OCCUPATION_URI_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    title: str
    esco_occupation_uri: str
    def __init__(self, role_id: _Optional[str] = ..., title: _Optional[str] = ..., esco_occupation_uri: _Optional[str] = ...) -> None: ...

class SkillGap(_message.Message):
    __slots__ = ("skill_id", "name", "esco_uri", "current_level", "required_level", "estimated_hours")
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    CURRENT_LEVEL_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    skill_id: str
    name: str
    esco_uri: str
    current_level: int
    required_level: int
    estimated_hours: int
    def __init__(self, skill_id: _Optional[str] = ..., name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., current_level: _Optional[int] = ..., required_level: _Optional[int] = ..., estimated_hours: _Optional[int] = ...) -> None: ...

class RecommendedRole(_message.Message):
    __slots__ = ("role_id", "title", "esco_occupation_uri", "fit_percent", "missing_skills")
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ESCO_OCCUPATION_URI_FIELD_NUMBER: _ClassVar[int]
    FIT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MISSING_SKILLS_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    title: str
    esco_occupation_uri: str
    fit_percent: int
    missing_skills: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, role_id: _Optional[str] = ..., title: _Optional[str] = ..., esco_occupation_uri: _Optional[str] = ..., fit_percent: _Optional[int] = ..., missing_skills: _Optional[_Iterable[str]] = ...) -> None: ...

class NextAction(_message.Message):
    __slots__ = ("order", "skill_id", "action", "estimated_hours", "course_slugs")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    COURSE_SLUGS_FIELD_NUMBER: _ClassVar[int]
    order: int
    skill_id: str
    action: str
    estimated_hours: int
    course_slugs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, order: _Optional[int] = ..., skill_id: _Optional[str] = ..., action: _Optional[str] = ..., estimated_hours: _Optional[int] = ..., course_slugs: _Optional[_Iterable[str]] = ...) -> None: ...

class CourseSuggestion(_message.Message):
    __slots__ = ("slug", "title", "level", "tenant_id", "covers", "premium", "in_plan", "course_id")
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    COVERS_FIELD_NUMBER: _ClassVar[int]
    PREMIUM_FIELD_NUMBER: _ClassVar[int]
    IN_PLAN_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    slug: str
    title: str
    level: str
    tenant_id: str
    covers: _containers.RepeatedScalarFieldContainer[str]
    premium: bool
    in_plan: bool
    course_id: str
    def __init__(self, slug: _Optional[str] = ..., title: _Optional[str] = ..., level: _Optional[str] = ..., tenant_id: _Optional[str] = ..., covers: _Optional[_Iterable[str]] = ..., premium: _Optional[bool] = ..., in_plan: _Optional[bool] = ..., course_id: _Optional[str] = ...) -> None: ...

class ConstraintsUsed(_message.Message):
    __slots__ = ("hours_per_week", "weeks_available", "deadline", "free_only", "track", "plan_tier")
    HOURS_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEKS_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    FREE_ONLY_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    PLAN_TIER_FIELD_NUMBER: _ClassVar[int]
    hours_per_week: int
    weeks_available: int
    deadline: str
    free_only: bool
    track: str
    plan_tier: str
    def __init__(self, hours_per_week: _Optional[int] = ..., weeks_available: _Optional[int] = ..., deadline: _Optional[str] = ..., free_only: _Optional[bool] = ..., track: _Optional[str] = ..., plan_tier: _Optional[str] = ...) -> None: ...

class MarketData(_message.Message):
    __slots__ = ("available", "note")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    available: bool
    note: str
    def __init__(self, available: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("answer", "target_role", "skill_gaps", "recommended_roles", "next_actions", "courses", "interview_topics", "cited_esco_uris", "market_data", "intent", "constraints_used")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    SKILL_GAPS_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_ROLES_FIELD_NUMBER: _ClassVar[int]
    NEXT_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_TOPICS_FIELD_NUMBER: _ClassVar[int]
    CITED_ESCO_URIS_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_USED_FIELD_NUMBER: _ClassVar[int]
    answer: str
    target_role: TargetRole
    skill_gaps: _containers.RepeatedCompositeFieldContainer[SkillGap]
    recommended_roles: _containers.RepeatedCompositeFieldContainer[RecommendedRole]
    next_actions: _containers.RepeatedCompositeFieldContainer[NextAction]
    courses: _containers.RepeatedCompositeFieldContainer[CourseSuggestion]
    interview_topics: _containers.RepeatedScalarFieldContainer[str]
    cited_esco_uris: _containers.RepeatedScalarFieldContainer[str]
    market_data: MarketData
    intent: str
    constraints_used: ConstraintsUsed
    def __init__(self, answer: _Optional[str] = ..., target_role: _Optional[_Union[TargetRole, _Mapping]] = ..., skill_gaps: _Optional[_Iterable[_Union[SkillGap, _Mapping]]] = ..., recommended_roles: _Optional[_Iterable[_Union[RecommendedRole, _Mapping]]] = ..., next_actions: _Optional[_Iterable[_Union[NextAction, _Mapping]]] = ..., courses: _Optional[_Iterable[_Union[CourseSuggestion, _Mapping]]] = ..., interview_topics: _Optional[_Iterable[str]] = ..., cited_esco_uris: _Optional[_Iterable[str]] = ..., market_data: _Optional[_Union[MarketData, _Mapping]] = ..., intent: _Optional[str] = ..., constraints_used: _Optional[_Union[ConstraintsUsed, _Mapping]] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("message_id", "role", "content", "answer", "provider", "model", "prompt_tokens", "completion_tokens", "created_at")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    role: str
    content: str
    answer: Answer
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    created_at: str
    def __init__(self, message_id: _Optional[str] = ..., role: _Optional[str] = ..., content: _Optional[str] = ..., answer: _Optional[_Union[Answer, _Mapping]] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., created_at: _Optional[str] = ...) -> None: ...

class Consultation(_message.Message):
    __slots__ = ("consultation_id", "user_id", "tenant_id", "topic", "target_role", "created_at", "messages")
    CONSULTATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    consultation_id: str
    user_id: str
    tenant_id: str
    topic: str
    target_role: str
    created_at: str
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    def __init__(self, consultation_id: _Optional[str] = ..., user_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., topic: _Optional[str] = ..., target_role: _Optional[str] = ..., created_at: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ...) -> None: ...

class OpenConsultationRequest(_message.Message):
    __slots__ = ("caller", "question", "target_role")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    question: str
    target_role: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., question: _Optional[str] = ..., target_role: _Optional[str] = ...) -> None: ...

class GetConsultationRequest(_message.Message):
    __slots__ = ("caller", "consultation_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CONSULTATION_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    consultation_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., consultation_id: _Optional[str] = ...) -> None: ...

class PostMessageRequest(_message.Message):
    __slots__ = ("caller", "consultation_id", "content")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CONSULTATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    consultation_id: str
    content: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., consultation_id: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ListConsultationsRequest(_message.Message):
    __slots__ = ("caller", "limit")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    limit: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class ConsultationSummary(_message.Message):
    __slots__ = ("consultation_id", "topic", "target_role", "created_at", "last_message_at", "message_count")
    CONSULTATION_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    consultation_id: str
    topic: str
    target_role: str
    created_at: str
    last_message_at: str
    message_count: int
    def __init__(self, consultation_id: _Optional[str] = ..., topic: _Optional[str] = ..., target_role: _Optional[str] = ..., created_at: _Optional[str] = ..., last_message_at: _Optional[str] = ..., message_count: _Optional[int] = ...) -> None: ...

class ConsultationList(_message.Message):
    __slots__ = ("consultations",)
    CONSULTATIONS_FIELD_NUMBER: _ClassVar[int]
    consultations: _containers.RepeatedCompositeFieldContainer[ConsultationSummary]
    def __init__(self, consultations: _Optional[_Iterable[_Union[ConsultationSummary, _Mapping]]] = ...) -> None: ...

class ProposedSkill(_message.Message):
    __slots__ = ("name", "esco_uri", "level", "evidence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    esco_uri: str
    level: int
    evidence: str
    def __init__(self, name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., level: _Optional[int] = ..., evidence: _Optional[str] = ...) -> None: ...

class CvAnalysis(_message.Message):
    __slots__ = ("cv_id", "status", "object_key", "filename", "proposed_skills", "confirmed_skills", "created_at")
    CV_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    PROPOSED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    cv_id: str
    status: str
    object_key: str
    filename: str
    proposed_skills: _containers.RepeatedCompositeFieldContainer[ProposedSkill]
    confirmed_skills: _containers.RepeatedCompositeFieldContainer[SkillLevel]
    created_at: str
    def __init__(self, cv_id: _Optional[str] = ..., status: _Optional[str] = ..., object_key: _Optional[str] = ..., filename: _Optional[str] = ..., proposed_skills: _Optional[_Iterable[_Union[ProposedSkill, _Mapping]]] = ..., confirmed_skills: _Optional[_Iterable[_Union[SkillLevel, _Mapping]]] = ..., created_at: _Optional[str] = ...) -> None: ...

class AnalyzeCvRequest(_message.Message):
    __slots__ = ("caller", "filename", "content_type", "content")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    filename: str
    content_type: str
    content: bytes
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class ConfirmCvRequest(_message.Message):
    __slots__ = ("caller", "cv_id", "skills")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CV_ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    cv_id: str
    skills: _containers.RepeatedCompositeFieldContainer[SkillLevel]
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., cv_id: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[SkillLevel, _Mapping]]] = ...) -> None: ...

class UsageTotals(_message.Message):
    __slots__ = ("calls", "prompt_tokens", "completion_tokens", "cost_micro_usd")
    CALLS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_MICRO_USD_FIELD_NUMBER: _ClassVar[int]
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    def __init__(self, calls: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost_micro_usd: _Optional[int] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("period", "plan_tier", "consultations_used", "consultations_quota", "user", "tenant", "by_provider")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PLAN_TIER_FIELD_NUMBER: _ClassVar[int]
    CONSULTATIONS_USED_FIELD_NUMBER: _ClassVar[int]
    CONSULTATIONS_QUOTA_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    BY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    period: str
    plan_tier: str
    consultations_used: int
    consultations_quota: int
    user: UsageTotals
    tenant: UsageTotals
    by_provider: _containers.RepeatedCompositeFieldContainer[ProviderUsage]
    def __init__(self, period: _Optional[str] = ..., plan_tier: _Optional[str] = ..., consultations_used: _Optional[int] = ..., consultations_quota: _Optional[int] = ..., user: _Optional[_Union[UsageTotals, _Mapping]] = ..., tenant: _Optional[_Union[UsageTotals, _Mapping]] = ..., by_provider: _Optional[_Iterable[_Union[ProviderUsage, _Mapping]]] = ...) -> None: ...

class ProviderUsage(_message.Message):
    __slots__ = ("provider", "model_called", "calls", "prompt_tokens", "completion_tokens", "cost_micro_usd")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_CALLED_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_MICRO_USD_FIELD_NUMBER: _ClassVar[int]
    provider: str
    model_called: bool
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    def __init__(self, provider: _Optional[str] = ..., model_called: _Optional[bool] = ..., calls: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost_micro_usd: _Optional[int] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...
