"""Query and bodies of /analytics."""
import marshmallow as ma

from gateway_flask.extensions.api import Schema

_FROM = "First day of the period (YYYY-MM-DD, UTC, inclusive); default: 30 days before `to`."
_TO = "Last day of the period (YYYY-MM-DD, UTC, inclusive); default: today. At most 366 days in all."


class ReportQuery(Schema):
    date_from = ma.fields.Date(data_key="from", metadata={"description": _FROM})
    date_to = ma.fields.Date(data_key="to", metadata={"description": _TO})


class LearnersQuery(ReportQuery):
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 1000),
                              metadata={"description": "rows per page (1..1000, default 100)"})
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0),
                               metadata={"description": "rows to skip"})


class _Period(Schema):
    tenant_id = ma.fields.String()
    date_from = ma.fields.String(data_key="from")
    date_to = ma.fields.String(data_key="to")


class AnalyticsDailyActiveOut(Schema):
    date = ma.fields.String()
    active_learners = ma.fields.Integer()


class AnalyticsWeeklyActiveOut(Schema):
    week_start = ma.fields.String(metadata={"description": "Monday of the ISO week"})
    active_learners = ma.fields.Integer(
        metadata={"description": "distinct learners active on its days in the period"})


class AnalyticsDailyCompletionsOut(Schema):
    date = ma.fields.String()
    completions = ma.fields.Integer(metadata={"description": "courses completed (certificates issued) that day"})


class AnalyticsActiveLearnersOut(Schema):
    total = ma.fields.Integer(
        metadata={"description": "distinct learners with an xAPI statement in the period"})
    daily = ma.fields.List(ma.fields.Nested(AnalyticsDailyActiveOut))
    weekly = ma.fields.List(ma.fields.Nested(AnalyticsWeeklyActiveOut))


class AnalyticsActivityOut(Schema):
    statements = ma.fields.Integer()
    time_spent_s = ma.fields.Integer()


class AnalyticsEnrollmentsOut(Schema):
    created = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    cohort = ma.fields.Integer(metadata={"description": "created in the period, still active at its end"})
    completed = ma.fields.Integer(metadata={"description": "of the cohort, certified by the period's end"})
    completion_rate_percent = ma.fields.Integer()


class AnalyticsQuizzesOut(Schema):
    attempts = ma.fields.Integer()
    passed = ma.fields.Integer()
    average_score_percent = ma.fields.Integer()
    pass_rate_percent = ma.fields.Integer()


class AnalyticsAssignmentsOut(Schema):
    total = ma.fields.Integer()
    completed = ma.fields.Integer()
    overdue = ma.fields.Integer()
    completion_rate_percent = ma.fields.Integer()


class AnalyticsAiUsageOut(Schema):
    requests = ma.fields.Integer()
    prompt_tokens = ma.fields.Integer()
    completion_tokens = ma.fields.Integer()
    cost_micro_usd = ma.fields.Integer()


class AnalyticsRevenueOut(Schema):
    currency = ma.fields.String()
    total_minor = ma.fields.Integer(metadata={"description": "integer minor units"})
    invoices = ma.fields.Integer()


class AnalyticsEventCountOut(Schema):
    event_type = ma.fields.String()
    events = ma.fields.Integer()


class AnalyticsOverviewOut(_Period):
    active_learners = ma.fields.Nested(AnalyticsActiveLearnersOut)
    activity = ma.fields.Nested(AnalyticsActivityOut)
    enrollments = ma.fields.Nested(AnalyticsEnrollmentsOut)
    certificates = ma.fields.Integer()
    completions_daily = ma.fields.List(ma.fields.Nested(AnalyticsDailyCompletionsOut),
                                       metadata={"description": "completions per day of the period (UTC), zero-filled"})
    quizzes = ma.fields.Nested(AnalyticsQuizzesOut)
    assignments = ma.fields.Nested(AnalyticsAssignmentsOut)
    ai_usage = ma.fields.Nested(AnalyticsAiUsageOut)
    revenue = ma.fields.List(ma.fields.Nested(AnalyticsRevenueOut))
    events = ma.fields.List(
        ma.fields.Nested(AnalyticsEventCountOut),
        metadata={"description": "every domain event of the tenant in the period, by type"})


class AnalyticsLearnerRowOut(Schema):
    user_id = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String()
    active_days = ma.fields.Integer()
    statements = ma.fields.Integer()
    time_spent_s = ma.fields.Integer()
    last_active_at = ma.fields.String(metadata={"description": "\"\" if not active in the period"})
    enrollments = ma.fields.Integer()
    enrollments_completed = ma.fields.Integer()
    completion_rate_percent = ma.fields.Integer()
    certificates = ma.fields.Integer()
    quiz_attempts = ma.fields.Integer()
    average_quiz_score_percent = ma.fields.Integer()
    quizzes_passed = ma.fields.Integer()
    assignments = ma.fields.Integer()
    assignments_completed = ma.fields.Integer()
    ai_requests = ma.fields.Integer()
    ai_tokens = ma.fields.Integer()
    ai_cost_micro_usd = ma.fields.Integer()


class AnalyticsLearnerReportOut(_Period):
    scope = ma.fields.String(metadata={"description": "\"tenant\" (owners, admins) or \"self\""})
    total = ma.fields.Integer(metadata={"description": "rows in all pages"})
    limit = ma.fields.Integer()
    offset = ma.fields.Integer()
    learners = ma.fields.List(ma.fields.Nested(AnalyticsLearnerRowOut))
