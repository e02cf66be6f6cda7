"""/analytics: the organisation's learning, AI-usage and revenue reports.

Owners and admins see their tenant; everyone else sees only their own row
(the analytics service decides from the verified role). Nobody can name
another tenant: the tenant is the token's.
"""
from __future__ import annotations

from flask import Response

from contracts.grpc import analytics_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.analytics.schemas import (
    AnalyticsLearnerReportOut, AnalyticsOverviewOut, LearnersQuery, ReportQuery)

blp = Blueprint("analytics", __name__, url_prefix="/analytics",
                description="Learning analytics of your organisation (Open edX Aspects-style reports)")
analytics_rpc = rpc_client("analytics")


def _request(query: dict) -> analytics_pb2.ReportRequest:
    def day(name: str) -> str:
        return query[name].isoformat() if query.get(name) else ""
    return analytics_pb2.ReportRequest(caller=caller(current_principal()),
                                       date_from=day("date_from"), date_to=day("date_to"),
                                       limit=query.get("limit", 0), offset=query.get("offset", 0))


@blp.route("/overview", methods=["GET"])
@auth_required
@blp.arguments(ReportQuery, location="query", as_kwargs=False)
@blp.response(200, AnalyticsOverviewOut)
@blp.alt_response(403, description="Not an owner or admin of the organisation (`analytics_forbidden`).")
def overview(query: dict):
    """Your organisation's overview for the period: active learners (daily, weekly), enrolments and
    completion rate, quiz scores, time spent, assignments, AI usage and revenue. Owners and admins only."""
    return to_dict(analytics_rpc.GetOverview(_request(query)))


@blp.route("/learners", methods=["GET"])
@auth_required
@blp.arguments(LearnersQuery, location="query", as_kwargs=False)
@blp.response(200, AnalyticsLearnerReportOut)
def learners(query: dict):
    """One row per learner for the period (owners and admins; paged by `limit`/`offset`, ordered by
    name), your own row for everyone else."""
    return to_dict(analytics_rpc.GetLearnerReport(_request(query)))


@blp.route("/export.csv", methods=["GET"])
@auth_required
@blp.arguments(ReportQuery, location="query", as_kwargs=False)
@blp.doc(responses={"200": {
    "description": "The learner report as RFC 4180 CSV; cells a spreadsheet would run as a formula "
                   "(starting with = + - @, tab or CR) are prefixed with an apostrophe.",
    "content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_csv(query: dict):
    """The per-learner report (same scope rules) as a CSV download."""
    export = analytics_rpc.ExportLearnersCsv(_request(query))
    return Response(export.content, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "private, no-store"})
