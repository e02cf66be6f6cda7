"""Bodies of /roadmaps."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import Schema

STATUSES = ["pending", "learning", "done", "skipped"]


class RoadmapIn(Schema):
    target_role = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    hours_per_week = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 80))
    deadline = ma.fields.Date(load_default=None, allow_none=True,
                              metadata={"description": "YYYY-MM-DD, in the future"})


class RoadmapMilestonePatch(Schema):
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES + [""]),
                              metadata={"description": "your own status for the milestone; \"\" clears it"})


class RoadmapVersionQuery(Schema):
    version = ma.fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000),
                                metadata={"description": "0 (default): the active version"})


class RoadmapCourseOut(Schema):
    course_id = ma.fields.String()
    slug = ma.fields.String()
    title = ma.fields.String()
    estimated_hours = ma.fields.Integer()


class RoadmapLessonOut(Schema):
    course_id = ma.fields.String()
    lesson_id = ma.fields.String()
    title = ma.fields.String()
    required = ma.fields.Boolean()


class RoadmapMilestoneOut(Schema):
    skill_id = ma.fields.String()
    skill_name = ma.fields.String()
    esco_uri = ma.fields.String()
    level = ma.fields.Integer()
    known_level = ma.fields.Integer()
    depth = ma.fields.Integer()
    position = ma.fields.Integer()
    prerequisites = ma.fields.List(ma.fields.String())
    skipped = ma.fields.Boolean()
    estimated_hours = ma.fields.Integer()
    planned_hours = ma.fields.Integer()
    start_week = ma.fields.Integer()
    end_week = ma.fields.Integer()
    courses = ma.fields.List(ma.fields.Nested(RoadmapCourseOut))
    lessons = ma.fields.List(ma.fields.Nested(RoadmapLessonOut))
    percent = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": STATUSES})
    tracked_status = ma.fields.String()
    marked = ma.fields.String()
    achieved = ma.fields.Boolean()
    no_course = ma.fields.Boolean(metadata={"description": "no catalog course teaches it: follow practice_task"})
    practice_task = ma.fields.String()


class RoadmapWeekItemOut(Schema):
    skill_id = ma.fields.String()
    hours = ma.fields.Integer()


class RoadmapWeekOut(Schema):
    week = ma.fields.Integer()
    starts_on = ma.fields.String()
    hours = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(RoadmapWeekItemOut))


class RoadmapSummaryOut(Schema):
    total_hours = ma.fields.Integer()
    weeks = ma.fields.Integer()
    starts_on = ma.fields.String()
    finishes_on = ma.fields.String()
    deadline = ma.fields.String()
    fits_deadline = ma.fields.Boolean()
    hours_per_week_needed = ma.fields.Integer()


class RoadmapProgressOut(Schema):
    percent = ma.fields.Integer()
    done_hours = ma.fields.Float()
    expected_hours = ma.fields.Float()
    weeks_ahead = ma.fields.Float(metadata={"description": "negative: behind schedule"})
    schedule_status = ma.fields.String(metadata={"enum": ["ahead", "on_track", "behind"]})
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class RoadmapRegenerationOut(Schema):
    saga_id = ma.fields.String()
    reason = ma.fields.String()
    state = ma.fields.String()
    error = ma.fields.String()
    updated_at = ma.fields.String()


class RoadmapOut(Schema):
    roadmap_id = ma.fields.String()
    version = ma.fields.Integer()
    active_version = ma.fields.Integer()
    is_active = ma.fields.Boolean()
    tenant_id = ma.fields.String()
    user_id = ma.fields.String()
    target_role = ma.fields.String()
    role_id = ma.fields.String()
    role_title = ma.fields.String()
    esco_occupation_uri = ma.fields.String()
    hours_per_week = ma.fields.Integer()
    reason = ma.fields.String()
    created_at = ma.fields.String()
    milestones = ma.fields.List(ma.fields.Nested(RoadmapMilestoneOut))
    schedule = ma.fields.List(ma.fields.Nested(RoadmapWeekOut))
    summary = ma.fields.Nested(RoadmapSummaryOut)
    progress = ma.fields.Nested(RoadmapProgressOut)
    last_regeneration = ma.fields.Nested(RoadmapRegenerationOut)


class RoadmapVersionOut(Schema):
    version = ma.fields.Integer()
    target_role = ma.fields.String()
    reason = ma.fields.String()
    milestones_total = ma.fields.Integer()
    created_at = ma.fields.String()
    is_active = ma.fields.Boolean()


class RoadmapVersionsOut(Schema):
    roadmap_id = ma.fields.String()
    active_version = ma.fields.Integer()
    versions = ma.fields.List(ma.fields.Nested(RoadmapVersionOut))
