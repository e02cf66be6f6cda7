"""Bodies and query strings of /tracking."""
import marshmallow as ma
from marshmallow import validate

from gateway_flask.extensions.api import UUID_TEXT, Schema, rfc3339

# The tracker's IRI rule (contracts/xapi/statement.v1.json), without the control characters the gateway refuses.
IRI = validate.Regexp(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\u0000-\u001f\u007f-\u009f]+$", error="must be an IRI")

# The xAPI statement itself is validated by the tracker against
# contracts/xapi/statement.v1.json; the OpenAPI document shows its outline.
STATEMENT_OUTLINE = {
    "type": "object",
    "required": ["actor", "verb", "object"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "Optional; the LRS assigns one when absent"},
        "actor": {"type": "object", "example": {"objectType": "Agent", "account": {
            "homePage": "https://careeros.dev", "name": "<your user id>"}}},
        "verb": {"type": "object", "example": {"id": "http://adlnet.gov/expapi/verbs/completed"}},
        "object": {"type": "object", "example": {"objectType": "Activity",
                                                 "id": "https://careeros.dev/xapi/lessons/<lesson_id>"}},
        "result": {"type": "object", "example": {"completion": True, "duration": "PT12M30S"}},
        "context": {"type": "object", "example": {"contextActivities": {
            "parent": [{"id": "https://careeros.dev/xapi/courses/<course_id>"}]}}},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}
STATEMENTS_BODY = {
    "required": True,
    "description": "One xAPI statement, or an array of at most 100 (one transaction). A statement id already "
                   "stored with the same content is accepted again and counted once; with other content: 409.",
    "content": {"application/json": {"schema": {"oneOf": [
        STATEMENT_OUTLINE, {"type": "array", "items": STATEMENT_OUTLINE, "minItems": 1, "maxItems": 100}]}}},
}


class TrackingStatementsPosted(Schema):
    statement_ids = ma.fields.List(ma.fields.String(), metadata={"description": "In request order"})
    stored = ma.fields.Integer(metadata={"description": "New statements stored now"})
    duplicates = ma.fields.Integer(metadata={"description": "Replays of statements already stored"})


class TrackingStatementQueryArgs(Schema):
    learner = ma.fields.String(validate=UUID_TEXT, metadata={
        "format": "uuid", "description": "User id (owner/admin/instructor: any learner of the tenant; members: "
                                         "only themselves)"})
    verb = ma.fields.String(validate=IRI, metadata={"description": "Verb IRI"})
    activity = ma.fields.String(validate=IRI, metadata={"description": "Activity IRI (the statement's object)"})
    related_activities = ma.fields.Boolean(load_default=False,
                                           metadata={"description": "Also match context activities (course parent)"})
    since = ma.fields.String(validate=rfc3339, metadata={"format": "date-time",
                                                         "description": "RFC 3339; statements stored after it"})
    until = ma.fields.String(validate=rfc3339, metadata={"format": "date-time",
                                       "description": "RFC 3339; statements stored at or before it"})
    limit = ma.fields.Integer(validate=validate.Range(1, 200), metadata={"description": "Page size (default 50)"})
    cursor = ma.fields.String(metadata={"description": "Opaque; next_cursor of the previous page"})


class TrackingStatementPage(Schema):
    statements = ma.fields.List(ma.fields.Dict(), metadata={"description": "Newest stored first"})
    next_cursor = ma.fields.String(metadata={"description": "Empty when this is the last page"})


class TrackingProgressArgs(Schema):
    course_id = ma.fields.String(metadata={"description": "Only this course"})
    learner = ma.fields.String(validate=UUID_TEXT, metadata={"format": "uuid",
                                                              "description": "User id (owner/admin/instructor only)"})


class TrackingLessonProgressOut(Schema):
    lesson_id = ma.fields.String()
    title = ma.fields.String()
    required = ma.fields.Boolean()
    done = ma.fields.Boolean()
    percent = ma.fields.Integer(metadata={"description": "100 when done, else the highest cmi5 progress "
                                                        "(result.extensions .../cmi5/result/extensions/progress)"})
    done_at = ma.fields.String()
    time_spent_s = ma.fields.Integer()
    last_activity_at = ma.fields.String()


class TrackingCourseProgressOut(Schema):
    course_id = ma.fields.String()
    percent = ma.fields.Integer()
    lessons_done = ma.fields.Integer()
    lessons_total = ma.fields.Integer()
    required_done = ma.fields.Boolean()
    completed = ma.fields.Boolean()
    time_spent_s = ma.fields.Integer()
    last_activity_at = ma.fields.String()
    revision = ma.fields.Integer()
    structure_known = ma.fields.Boolean()
    lessons = ma.fields.List(ma.fields.Nested(TrackingLessonProgressOut))


class TrackingStreakOut(Schema):
    current_days = ma.fields.Integer()
    longest_days = ma.fields.Integer()
    last_active_day = ma.fields.String()


class TrackingWeeklyGoalOut(Schema):
    minutes_per_week = ma.fields.Integer()
    week_start = ma.fields.String()
    minutes_this_week = ma.fields.Integer()
    percent = ma.fields.Integer()
    met = ma.fields.Boolean()


class TrackingProgressOut(Schema):
    user_id = ma.fields.String()
    courses = ma.fields.List(ma.fields.Nested(TrackingCourseProgressOut))
    streak = ma.fields.Nested(TrackingStreakOut)
    weekly_goal = ma.fields.Nested(TrackingWeeklyGoalOut)
    total_time_spent_s = ma.fields.Integer()


class TrackingGoalIn(Schema):
    minutes_per_week = ma.fields.Integer(required=True, strict=True, validate=validate.Range(0, 10080),
                                         metadata={"description": "0 clears the goal"})


class LrsKeyIn(Schema):
    label = ma.fields.String(required=True, validate=validate.Length(1, 100),
                             metadata={"description": "What the key is for, e.g. the content package or report"})
    scopes = ma.fields.List(ma.fields.String(validate=validate.OneOf(
        ["all", "all/read", "statements/write", "statements/read", "state", "profile"])),
        load_default=["statements/write"],
        metadata={"description": "statements/write (content), statements/read (reporting), state, profile, "
                                 "all/read, all"})
    xapi_version = ma.fields.String(load_default="2.0.0", validate=validate.OneOf(["1.0.3", "2.0.0"]),
                                    metadata={"description": "Named in answers to this key's requests that name "
                                                             "no X-Experience-API-Version (they are refused)"})


class LrsKeyOut(Schema):
    key = ma.fields.String(metadata={"description": "HTTP Basic user name for /xapi"})
    secret = ma.fields.String(metadata={"description": "HTTP Basic password: shown only when the key is created"})
    label = ma.fields.String()
    scopes = ma.fields.List(ma.fields.String())
    xapi_version = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.String()
    revoked_at = ma.fields.String(metadata={"description": "Empty while the key is active"})


class LrsKeyListOut(Schema):
    keys = ma.fields.List(ma.fields.Nested(LrsKeyOut))
