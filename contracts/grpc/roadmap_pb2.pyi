from contracts.grpc import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Course(_message.Message):
    __slots__ = ("course_id", "slug", "title", "estimated_hours")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    slug: str
    title: str
    estimated_hours: int
    def __init__(self, course_id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., estimated_hours: _Optional[int] = ...) -> None: ...

class Lesson(_message.Message):
    __slots__ = ("course_id", "lesson_id", "title", "required")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    lesson_id: str
    title: str
    required: bool
    def __init__(self, course_id: _Optional[str] = ..., lesson_id: _Optional[str] = ..., title: _Optional[str] = ..., required: _Optional[bool] = ...) -> None: ...

class Milestone(_message.Message):
    __slots__ = ("skill_id", "skill_name", "esco_uri", "level", "known_level", "depth", "position", "prerequisites", "skipped", "estimated_hours", "planned_hours", "start_week", "end_week", "courses", "lessons", "percent", "status", "tracked_status", "marked", "achieved", "no_course", "practice_task")
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    SKILL_NAME_FIELD_NUMBER: _ClassVar[int]
    ESCO_URI_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    KNOWN_LEVEL_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PREREQUISITES_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_HOURS_FIELD_NUMBER: _ClassVar[int]
    PLANNED_HOURS_FIELD_NUMBER: _ClassVar[int]
    START_WEEK_FIELD_NUMBER: _ClassVar[int]
    END_WEEK_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACKED_STATUS_FIELD_NUMBER: _ClassVar[int]
    MARKED_FIELD_NUMBER: _ClassVar[int]
    ACHIEVED_FIELD_NUMBER: _ClassVar[int]
    NO_COURSE_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_TASK_FIELD_NUMBER: _ClassVar[int]
    skill_id: str
    skill_name: str
    esco_uri: str
    level: int
    known_level: int
    depth: int
    position: int
    prerequisites: _containers.RepeatedScalarFieldContainer[str]
    skipped: bool
    estimated_hours: int
    planned_hours: int
    start_week: int
    end_week: int
    courses: _containers.RepeatedCompositeFieldContainer[Course]
    lessons: _containers.RepeatedCompositeFieldContainer[Lesson]
    percent: int
    status: str
    tracked_status: str
    marked: str
    achieved: bool
    no_course: bool
    practice_task: str
    def __init__(self, skill_id: _Optional[str] = ..., skill_name: _Optional[str] = ..., esco_uri: _Optional[str] = ..., level: _Optional[int] = ..., known_level: _Optional[int] = ..., depth: _Optional[int] = ..., position: _Optional[int] = ..., prerequisites: _Optional[_Iterable[str]] = ..., skipped: _Optional[bool] = ..., estimated_hours: _Optional[int] = ..., planned_hours: _Optional[int] = ..., start_week: _Optional[int] = ..., end_week: _Optional[int] = ..., courses: _Optional[_Iterable[_Union[Course, _Mapping]]] = ..., lessons: _Optional[_Iterable[_Union[Lesson, _Mapping]]] = ..., percent: _Optional[int] = ..., status: _Optional[str] = ..., tracked_status: _Optional[str] = ..., marked: _Optional[str] = ..., achieved: _Optional[bool] = ..., no_course: _Optional[bool] = ..., practice_task: _Optional[str] = ...) -> None: ...

class WeekItem(_message.Message):
    __slots__ = ("skill_id", "hours")
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    skill_id: str
    hours: int
    def __init__(self, skill_id: _Optional[str] = ..., hours: _Optional[int] = ...) -> None: ...

class Week(_message.Message):
    __slots__ = ("week", "starts_on", "hours", "items")
    WEEK_FIELD_NUMBER: _ClassVar[int]
    STARTS_ON_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    week: int
    starts_on: str
    hours: int
    items: _containers.RepeatedCompositeFieldContainer[WeekItem]
    def __init__(self, week: _Optional[int] = ..., starts_on: _Optional[str] = ..., hours: _Optional[int] = ..., items: _Optional[_Iterable[_Union[WeekItem, _Mapping]]] = ...) -> None: ...

class Summary(_message.Message):
    __slots__ = ("total_hours", "weeks", "starts_on", "finishes_on", "deadline", "fits_deadline", "hours_per_week_needed")
    TOTAL_HOURS_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    STARTS_ON_FIELD_NUMBER: _ClassVar[int]
    FINISHES_ON_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    FITS_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    HOURS_PER_WEEK_NEEDED_FIELD_NUMBER: _ClassVar[int]
    total_hours: int
    weeks: int
    starts_on: str
    finishes_on: str
    deadline: str
    fits_deadline: bool
    hours_per_week_needed: int
    def __init__(self, total_hours: _Optional[int] = ..., weeks: _Optional[int] = ..., starts_on: _Optional[str] = ..., finishes_on: _Optional[str] = ..., deadline: _Optional[str] = ..., fits_deadline: _Optional[bool] = ..., hours_per_week_needed: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("percent", "done_hours", "expected_hours", "weeks_ahead", "schedule_status", "counts")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    DONE_HOURS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_HOURS_FIELD_NUMBER: _ClassVar[int]
    WEEKS_AHEAD_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    percent: int
    done_hours: float
    expected_hours: float
    weeks_ahead: float
    schedule_status: str
    counts: _containers.ScalarMap[str, int]
    def __init__(self, percent: _Optional[int] = ..., done_hours: _Optional[float] = ..., expected_hours: _Optional[float] = ..., weeks_ahead: _Optional[float] = ..., schedule_status: _Optional[str] = ..., counts: _Optional[_Mapping[str, int]] = ...) -> None: ...

class Regeneration(_message.Message):
    __slots__ = ("saga_id", "reason", "state", "error", "updated_at")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    reason: str
    state: str
    error: str
    updated_at: str
    def __init__(self, saga_id: _Optional[str] = ..., reason: _Optional[str] = ..., state: _Optional[str] = ..., error: _Optional[str] = ..., updated_at: _Optional[str] = ...) -> None: ...

class Roadmap(_message.Message):
    __slots__ = ("roadmap_id", "version", "active_version", "is_active", "tenant_id", "user_id", "target_role", "role_id", "role_title", "esco_occupation_uri", "hours_per_week", "reason", "created_at", "milestones", "schedule", "summary", "progress", "last_regeneration")
    ROADMAP_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_TITLE_FIELD_NUMBER: _ClassVar[int]
    ESCO_OCCUPATION_URI_FIELD_NUMBER: _ClassVar[int]
    HOURS_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LAST_REGENERATION_FIELD_NUMBER: _ClassVar[int]
    roadmap_id: str
    version: int
    active_version: int
    is_active: bool
    tenant_id: str
    user_id: str
    target_role: str
    role_id: str
    role_title: str
    esco_occupation_uri: str
    hours_per_week: int
    reason: str
    created_at: str
    milestones: _containers.RepeatedCompositeFieldContainer[Milestone]
    schedule: _containers.RepeatedCompositeFieldContainer[Week]
    summary: Summary
    progress: Progress
    last_regeneration: Regeneration
    def __init__(self, roadmap_id: _Optional[str] = ..., version: _Optional[int] = ..., active_version: _Optional[int] = ..., is_active: _Optional[bool] = ..., tenant_id: _Optional[str] = ..., user_id: _Optional[str] = ..., target_role: _Optional[str] = ..., role_id: _Optional[str] = ..., role_title: _Optional[str] = ..., esco_occupation_uri: _Optional[str] = ..., hours_per_week: _Optional[int] = ..., reason: _Optional[str] = ..., created_at: _Optional[str] = ..., milestones: _Optional[_Iterable[_Union[Milestone, _Mapping]]] = ..., schedule: _Optional[_Iterable[_Union[Week, _Mapping]]] = ..., summary: _Optional[_Union[Summary, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., last_regeneration: _Optional[_Union[Regeneration, _Mapping]] = ...) -> None: ...

class VersionInfo(_message.Message):
    __slots__ = ("version", "target_role", "reason", "milestones_total", "created_at", "is_active")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    version: int
    target_role: str
    reason: str
    milestones_total: int
    created_at: str
    is_active: bool
    def __init__(self, version: _Optional[int] = ..., target_role: _Optional[str] = ..., reason: _Optional[str] = ..., milestones_total: _Optional[int] = ..., created_at: _Optional[str] = ..., is_active: _Optional[bool] = ...) -> None: ...

class CreateRoadmapRequest(_message.Message):
    __slots__ = ("caller", "target_role", "hours_per_week", "deadline")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    TARGET_ROLE_FIELD_NUMBER: _ClassVar[int]
    HOURS_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    target_role: str
    hours_per_week: int
    deadline: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., target_role: _Optional[str] = ..., hours_per_week: _Optional[int] = ..., deadline: _Optional[str] = ...) -> None: ...

class GetCurrentRoadmapRequest(_message.Message):
    __slots__ = ("caller",)
    CALLER_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ...) -> None: ...

class GetRoadmapRequest(_message.Message):
    __slots__ = ("caller", "roadmap_id", "version")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ROADMAP_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    roadmap_id: str
    version: int
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., roadmap_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("caller", "roadmap_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ROADMAP_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    roadmap_id: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., roadmap_id: _Optional[str] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("roadmap_id", "active_version", "versions")
    ROADMAP_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    roadmap_id: str
    active_version: int
    versions: _containers.RepeatedCompositeFieldContainer[VersionInfo]
    def __init__(self, roadmap_id: _Optional[str] = ..., active_version: _Optional[int] = ..., versions: _Optional[_Iterable[_Union[VersionInfo, _Mapping]]] = ...) -> None: ...

class MarkMilestoneRequest(_message.Message):
    __slots__ = ("caller", "roadmap_id", "skill_id", "status")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ROADMAP_ID_FIELD_NUMBER: _ClassVar[int]
    SKILL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    roadmap_id: str
    skill_id: str
    status: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., roadmap_id: _Optional[str] = ..., skill_id: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class RenderRoadmapRequest(_message.Message):
    __slots__ = ("caller", "roadmap_id", "version", "format")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ROADMAP_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    caller: _common_pb2.Caller
    roadmap_id: str
    version: int
    format: str
    def __init__(self, caller: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., roadmap_id: _Optional[str] = ..., version: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class RenderedRoadmap(_message.Message):
    __slots__ = ("content_type", "content")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    content: str
    def __init__(self, content_type: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...
