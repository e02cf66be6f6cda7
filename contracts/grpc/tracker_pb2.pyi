from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class XapiRequest(_message.Message):
    __slots__ = ("caller", "basic_key", "basic_secret", "method", "resource", "params", "headers", "body")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALLER_FIELD_NUMBER: _ClassVar[int]
    BASIC_KEY_FIELD_NUMBER: _ClassVar[int]
    BASIC_SECRET_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    basic_key: str
    basic_secret: str
    method: str
    resource: str
    params: _containers.ScalarMap[str, str]
    headers: _containers.ScalarMap[str, str]
    body: bytes
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., basic_key: _Optional[str] = ..., basic_secret: _Optional[str] = ..., method: _Optional[str] = ..., resource: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[bytes] = ...) -> None: ...

class XapiResponse(_message.Message):
    __slots__ = ("status", "headers", "body")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    status: int
    headers: _containers.ScalarMap[str, str]
    body: bytes
    def __init__(self, status: _Optional[int] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[bytes] = ...) -> None: ...

class LrsKey(_message.Message):
    __slots__ = ("key", "secret", "label", "scopes", "created_by", "created_at", "revoked_at", "xapi_version")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    XAPI_VERSION_FIELD_NUMBER: _ClassVar[int]
    key: str
    secret: str
    label: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    created_by: str
    created_at: str
    revoked_at: str
    xapi_version: str
    def __init__(self, key: _Optional[str] = ..., secret: _Optional[str] = ..., label: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., created_by: _Optional[str] = ..., created_at: _Optional[str] = ..., revoked_at: _Optional[str] = ..., xapi_version: _Optional[str] = ...) -> None: ...

class CreateLrsKeyRequest(_message.Message):
    __slots__ = ("caller", "label", "scopes", "xapi_version")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    XAPI_VERSION_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    label: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    xapi_version: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., label: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., xapi_version: _Optional[str] = ...) -> None: ...

class ListLrsKeysRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...

class LrsKeyList(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[LrsKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[LrsKey, _Mapping]]] = ...) -> None: ...

class RevokeLrsKeyRequest(_message.Message):
    __slots__ = ("caller", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    key: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class RevokeLrsKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PostStatementsRequest(_message.Message):
    __slots__ = ("caller", "body_json")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    body_json: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., body_json: _Optional[str] = ...) -> None: ...

class PostStatementsResponse(_message.Message):
    __slots__ = ("statement_ids", "stored", "duplicates")
    STATEMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    statement_ids: _containers.RepeatedScalarFieldContainer[str]
    stored: int
    duplicates: int
    def __init__(self, statement_ids: _Optional[_Iterable[str]] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...

class ListStatementsRequest(_message.Message):
    __slots__ = ("caller", "learner", "verb", "activity", "related_activities", "since", "until", "limit", "cursor")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    RELATED_ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    learner: str
    verb: str
    activity: str
    related_activities: bool
    since: str
    until: str
    limit: int
    cursor: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., learner: _Optional[str] = ..., verb: _Optional[str] = ..., activity: _Optional[str] = ..., related_activities: _Optional[bool] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListStatementsResponse(_message.Message):
    __slots__ = ("statements_json", "next_cursor")
    STATEMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    statements_json: str
    next_cursor: str
    def __init__(self, statements_json: _Optional[str] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetProgressRequest(_message.Message):
    __slots__ = ("caller", "learner", "course_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    learner: str
    course_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., learner: _Optional[str] = ..., course_id: _Optional[str] = ...) -> None: ...

class LessonProgress(_message.Message):
    __slots__ = ("lesson_id", "title", "required", "done", "done_at", "time_spent_s", "last_activity_at", "percent")
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    DONE_AT_FIELD_NUMBER: _ClassVar[int]
    TIME_SPENT_S_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_AT_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    lesson_id: str
    title: str
    required: bool
    done: bool
    done_at: str
    time_spent_s: int
    last_activity_at: str
    percent: int
    def __init__(self, lesson_id: _Optional[str] = ..., title: _Optional[str] = ..., required: _Optional[bool] = ..., done: _Optional[bool] = ..., done_at: _Optional[str] = ..., time_spent_s: _Optional[int] = ..., last_activity_at: _Optional[str] = ..., percent: _Optional[int] = ...) -> None: ...

class CourseProgress(_message.Message):
    __slots__ = ("course_id", "percent", "lessons_done", "lessons_total", "required_done", "completed", "time_spent_s", "last_activity_at", "revision", "structure_known", "lessons")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    LESSONS_DONE_FIELD_NUMBER: _ClassVar[int]
    LESSONS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_DONE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TIME_SPENT_S_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    STRUCTURE_KNOWN_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    percent: int
    lessons_done: int
    lessons_total: int
    required_done: bool
    completed: bool
    time_spent_s: int
    last_activity_at: str
    revision: int
    structure_known: bool
    lessons: _containers.RepeatedCompositeFieldContainer[LessonProgress]
    def __init__(self, course_id: _Optional[str] = ..., percent: _Optional[int] = ..., lessons_done: _Optional[int] = ..., lessons_total: _Optional[int] = ..., required_done: _Optional[bool] = ..., completed: _Optional[bool] = ..., time_spent_s: _Optional[int] = ..., last_activity_at: _Optional[str] = ..., revision: _Optional[int] = ..., structure_known: _Optional[bool] = ..., lessons: _Optional[_Iterable[_Union[LessonProgress, _Mapping]]] = ...) -> None: ...

class Streak(_message.Message):
    __slots__ = ("current_days", "longest_days", "last_active_day")
    CURRENT_DAYS_FIELD_NUMBER: _ClassVar[int]
    LONGEST_DAYS_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVE_DAY_FIELD_NUMBER: _ClassVar[int]
    current_days: int
    longest_days: int
    last_active_day: str
    def __init__(self, current_days: _Optional[int] = ..., longest_days: _Optional[int] = ..., last_active_day: _Optional[str] = ...) -> None: ...

class WeeklyGoal(_message.Message):
    __slots__ = ("minutes_per_week", "week_start", "minutes_this_week", "percent", "met")
    MINUTES_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    MINUTES_THIS_WEEK_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MET_FIELD_NUMBER: _ClassVar[int]
    minutes_per_week: int
    week_start: str
    minutes_this_week: int
    percent: int
    met: bool
    def __init__(self, minutes_per_week: _Optional[int] = ..., week_start: _Optional[str] = ..., minutes_this_week: _Optional[int] = ..., percent: _Optional[int] = ..., met: _Optional[bool] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("user_id", "courses", "streak", "weekly_goal", "total_time_spent_s")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    STREAK_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_GOAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TIME_SPENT_S_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    courses: _containers.RepeatedCompositeFieldContainer[CourseProgress]
    streak: Streak
    weekly_goal: WeeklyGoal
    total_time_spent_s: int
    def __init__(self, user_id: _Optional[str] = ..., courses: _Optional[_Iterable[_Union[CourseProgress, _Mapping]]] = ..., streak: _Optional[_Union[Streak, _Mapping]] = ..., weekly_goal: _Optional[_Union[WeeklyGoal, _Mapping]] = ..., total_time_spent_s: _Optional[int] = ...) -> None: ...

class SetWeeklyGoalRequest(_message.Message):
    __slots__ = ("caller", "minutes_per_week")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    MINUTES_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    minutes_per_week: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., minutes_per_week: _Optional[int] = ...) -> None: ...
