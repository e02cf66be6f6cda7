from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportRequest(_message.Message):
    __slots__ = ("caller", "date_from", "date_to", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    date_from: str
    date_to: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class DailyActive(_message.Message):
    __slots__ = ("date", "active_learners")
    DATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_LEARNERS_FIELD_NUMBER: _ClassVar[int]
    date: str
    active_learners: int
    def __init__(self, date: _Optional[str] = ..., active_learners: _Optional[int] = ...) -> None: ...

class WeeklyActive(_message.Message):
    __slots__ = ("week_start", "active_learners")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_LEARNERS_FIELD_NUMBER: _ClassVar[int]
    week_start: str
    active_learners: int
    def __init__(self, week_start: _Optional[str] = ..., active_learners: _Optional[int] = ...) -> None: ...

class ActiveLearners(_message.Message):
    __slots__ = ("total", "daily", "weekly")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DAILY_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_FIELD_NUMBER: _ClassVar[int]
    total: int
    daily: _containers.RepeatedCompositeFieldContainer[DailyActive]
    weekly: _containers.RepeatedCompositeFieldContainer[WeeklyActive]
    def __init__(self, total: _Optional[int] = ..., daily: _Optional[_Iterable[_Union[DailyActive, _Mapping]]] = ..., weekly: _Optional[_Iterable[_Union[WeeklyActive, _Mapping]]] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("statements", "time_spent_s")
    STATEMENTS_FIELD_NUMBER: _ClassVar[int]
    TIME_SPENT_S_FIELD_NUMBER: _ClassVar[int]
    statements: int
    time_spent_s: int
    def __init__(self, statements: _Optional[int] = ..., time_spent_s: _Optional[int] = ...) -> None: ...

class Enrollments(_message.Message):
    __slots__ = ("created", "cancelled", "cohort", "completed", "completion_rate_percent")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    COHORT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    created: int
    cancelled: int
    cohort: int
    completed: int
    completion_rate_percent: int
    def __init__(self, created: _Optional[int] = ..., cancelled: _Optional[int] = ..., cohort: _Optional[int] = ..., completed: _Optional[int] = ..., completion_rate_percent: _Optional[int] = ...) -> None: ...

class Quizzes(_message.Message):
    __slots__ = ("attempts", "passed", "average_score_percent", "pass_rate_percent")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SCORE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PASS_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    passed: int
    average_score_percent: int
    pass_rate_percent: int
    def __init__(self, attempts: _Optional[int] = ..., passed: _Optional[int] = ..., average_score_percent: _Optional[int] = ..., pass_rate_percent: _Optional[int] = ...) -> None: ...

class Assignments(_message.Message):
    __slots__ = ("total", "completed", "overdue", "completion_rate_percent")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    total: int
    completed: int
    overdue: int
    completion_rate_percent: int
    def __init__(self, total: _Optional[int] = ..., completed: _Optional[int] = ..., overdue: _Optional[int] = ..., completion_rate_percent: _Optional[int] = ...) -> None: ...

class AiUsage(_message.Message):
    __slots__ = ("requests", "prompt_tokens", "completion_tokens", "cost_micro_usd")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_MICRO_USD_FIELD_NUMBER: _ClassVar[int]
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    def __init__(self, requests: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost_micro_usd: _Optional[int] = ...) -> None: ...

class Revenue(_message.Message):
    __slots__ = ("currency", "total_minor", "invoices")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MINOR_FIELD_NUMBER: _ClassVar[int]
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    currency: str
    total_minor: int
    invoices: int
    def __init__(self, currency: _Optional[str] = ..., total_minor: _Optional[int] = ..., invoices: _Optional[int] = ...) -> None: ...

class EventCount(_message.Message):
    __slots__ = ("event_type", "events")
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    event_type: str
    events: int
    def __init__(self, event_type: _Optional[str] = ..., events: _Optional[int] = ...) -> None: ...

class Overview(_message.Message):
    __slots__ = ("tenant_id", "date_from", "date_to", "active_learners", "activity", "enrollments", "certificates", "quizzes", "assignments", "ai_usage", "revenue", "events", "completions_daily")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_LEARNERS_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENTS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    QUIZZES_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    AI_USAGE_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    COMPLETIONS_DAILY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    date_from: str
    date_to: str
    active_learners: ActiveLearners
    activity: Activity
    enrollments: Enrollments
    certificates: int
    quizzes: Quizzes
    assignments: Assignments
    ai_usage: AiUsage
    revenue: _containers.RepeatedCompositeFieldContainer[Revenue]
    events: _containers.RepeatedCompositeFieldContainer[EventCount]
    completions_daily: _containers.RepeatedCompositeFieldContainer[DailyCompletions]
    def __init__(self, tenant_id: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., active_learners: _Optional[_Union[ActiveLearners, _Mapping]] = ..., activity: _Optional[_Union[Activity, _Mapping]] = ..., enrollments: _Optional[_Union[Enrollments, _Mapping]] = ..., certificates: _Optional[int] = ..., quizzes: _Optional[_Union[Quizzes, _Mapping]] = ..., assignments: _Optional[_Union[Assignments, _Mapping]] = ..., ai_usage: _Optional[_Union[AiUsage, _Mapping]] = ..., revenue: _Optional[_Iterable[_Union[Revenue, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[EventCount, _Mapping]]] = ..., completions_daily: _Optional[_Iterable[_Union[DailyCompletions, _Mapping]]] = ...) -> None: ...

class DailyCompletions(_message.Message):
    __slots__ = ("date", "completions")
    DATE_FIELD_NUMBER: _ClassVar[int]
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    date: str
    completions: int
    def __init__(self, date: _Optional[str] = ..., completions: _Optional[int] = ...) -> None: ...

class LearnerRow(_message.Message):
    __slots__ = ("user_id", "display_name", "role", "active_days", "statements", "time_spent_s", "last_active_at", "enrollments", "enrollments_completed", "completion_rate_percent", "certificates", "quiz_attempts", "average_quiz_score_percent", "quizzes_passed", "assignments", "assignments_completed", "ai_requests", "ai_tokens", "ai_cost_micro_usd")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_DAYS_FIELD_NUMBER: _ClassVar[int]
    STATEMENTS_FIELD_NUMBER: _ClassVar[int]
    TIME_SPENT_S_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVE_AT_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENTS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENTS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    QUIZ_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_QUIZ_SCORE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    QUIZZES_PASSED_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    AI_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    AI_TOKENS_FIELD_NUMBER: _ClassVar[int]
    AI_COST_MICRO_USD_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    display_name: str
    role: str
    active_days: int
    statements: int
    time_spent_s: int
    last_active_at: str
    enrollments: int
    enrollments_completed: int
    completion_rate_percent: int
    certificates: int
    quiz_attempts: int
    average_quiz_score_percent: int
    quizzes_passed: int
    assignments: int
    assignments_completed: int
    ai_requests: int
    ai_tokens: int
    ai_cost_micro_usd: int
    def __init__(self, user_id: _Optional[str] = ..., display_name: _Optional[str] = ..., role: _Optional[str] = ..., active_days: _Optional[int] = ..., statements: _Optional[int] = ..., time_spent_s: _Optional[int] = ..., last_active_at: _Optional[str] = ..., enrollments: _Optional[int] = ..., enrollments_completed: _Optional[int] = ..., completion_rate_percent: _Optional[int] = ..., certificates: _Optional[int] = ..., quiz_attempts: _Optional[int] = ..., average_quiz_score_percent: _Optional[int] = ..., quizzes_passed: _Optional[int] = ..., assignments: _Optional[int] = ..., assignments_completed: _Optional[int] = ..., ai_requests: _Optional[int] = ..., ai_tokens: _Optional[int] = ..., ai_cost_micro_usd: _Optional[int] = ...) -> None: ...

class LearnerReport(_message.Message):
    __slots__ = ("tenant_id", "scope", "date_from", "date_to", "learners", "total", "limit", "offset")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    LEARNERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    scope: str
    date_from: str
    date_to: str
    learners: _containers.RepeatedCompositeFieldContainer[LearnerRow]
    total: int
    limit: int
    offset: int
    def __init__(self, tenant_id: _Optional[str] = ..., scope: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., learners: _Optional[_Iterable[_Union[LearnerRow, _Mapping]]] = ..., total: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class CsvExport(_message.Message):
    __slots__ = ("filename", "content")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content: str
    def __init__(self, filename: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...
