"""/tracking: learning activity as xAPI statements, progress, weekly goal (the tracker service)."""
from __future__ import annotations

import json
from typing import Any

from flask import request

from careeros_services.common.errors import DomainError
from contracts.grpc import tracker_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.tracking.schemas import (STATEMENTS_BODY, LrsKeyIn, LrsKeyListOut, LrsKeyOut, TrackingGoalIn,
                                                  TrackingProgressArgs, TrackingProgressOut,
                                                  TrackingStatementPage, TrackingStatementQueryArgs, TrackingStatementsPosted,
                                                  TrackingWeeklyGoalOut)

blp = Blueprint("tracking", __name__, url_prefix="/tracking",
                description="Learning activity (xAPI statements), progress and weekly goal")
tracker_rpc = rpc_client("tracker")

# gRPC carries the tracker's error code but not its HTTP status; these are not 422s.
_STATUS_BY_CODE = {
    "invalid_statement": (400, "Invalid xAPI statement"),
    "batch_too_large": (413, "Too many statements"),
    "invalid_cursor": (400, "Invalid cursor"),
    "invalid_query": (400, "Invalid statement query"),
}


def _tracker(rpc, message) -> Any:
    try:
        return rpc(message)
    except DomainError as exc:
        if exc.code in _STATUS_BY_CODE:
            exc.status, exc.title = _STATUS_BY_CODE[exc.code]
        raise


def _int_fields(data: dict, *names: str) -> dict:
    for name in names:  # int64 comes back as a JSON string from MessageToDict
        data[name] = int(data.get(name, 0))
    return data


@blp.route("/statements", methods=["POST"])
@auth_required
@blp.doc(security=[{"bearerAuth": []}], requestBody=STATEMENTS_BODY)
@blp.response(200, TrackingStatementsPosted)
def post_statements():
    """Record your learning activity: one xAPI statement or an array of up to 100.

    The actor must be you (`account.homePage` https://careeros.dev, `account.name` your user id).
    400 `invalid_statement` names the first bad field (e.g. `verb.id`, or `[3].verb.id` in a batch);
    413 `batch_too_large`; 409 `statement_conflict` when an id is stored with other content.
    """
    # The middleware already refused malformed JSON (400 malformed_json): forward the text as it
    # came rather than parse and re-serialise it here (the tracker parses it once).
    body = request.get_data(cache=True, as_text=True)
    message = tracker_pb2.PostStatementsRequest(caller=caller(current_principal()), body_json=body)
    return to_dict(_tracker(tracker_rpc.PostStatements, message))


@blp.route("/statements", methods=["GET"])
@auth_required
@blp.arguments(TrackingStatementQueryArgs, location="query")
@blp.response(200, TrackingStatementPage)
@blp.doc(security=[{"bearerAuth": []}])
def list_statements(args: dict):
    """Statements, newest stored first, a page at a time (follow `next_cursor`).

    Members read their own; owners, admins and instructors read their organisation's learners.
    """
    message = tracker_pb2.ListStatementsRequest(caller=caller(current_principal()), **args)
    page = _tracker(tracker_rpc.ListStatements, message)
    return {"statements": json.loads(page.statements_json), "next_cursor": page.next_cursor}


@blp.route("/progress", methods=["GET"])
@auth_required
@blp.arguments(TrackingProgressArgs, location="query")
@blp.response(200, TrackingProgressOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_progress(args: dict):
    """Progress per course and lesson (percent, time spent, last activity), streaks and weekly goal."""
    message = tracker_pb2.GetProgressRequest(caller=caller(current_principal()), **args)
    data = to_dict(_tracker(tracker_rpc.GetProgress, message))
    _int_fields(data, "total_time_spent_s")
    for course in data["courses"]:
        _int_fields(course, "time_spent_s")
        for lesson in course["lessons"]:
            _int_fields(lesson, "time_spent_s")
    return data


@blp.route("/goal", methods=["PUT"])
@auth_required
@blp.arguments(TrackingGoalIn)
@blp.response(200, TrackingWeeklyGoalOut)
@blp.doc(security=[{"bearerAuth": []}])
def put_goal(goal: dict):
    """Set your weekly learning goal in minutes (0 clears it); returns this week's progress toward it."""
    message = tracker_pb2.SetWeeklyGoalRequest(caller=caller(current_principal()), **goal)
    return to_dict(_tracker(tracker_rpc.SetWeeklyGoal, message))


@blp.route("/lrs-keys", methods=["POST"])
@auth_required
@blp.arguments(LrsKeyIn)
@blp.response(201, LrsKeyOut)
@blp.doc(security=[{"bearerAuth": []}])
def create_lrs_key(body: dict):
    """Create an LRS key of your organisation (owner/admin): HTTP Basic key and secret for `/xapi`.

    The secret is in this answer only (it is kept hashed). Scopes: `statements/write` for content,
    `statements/read` for reporting, `state`, `profile`, `all/read`, `all`.
    """
    message = tracker_pb2.CreateLrsKeyRequest(caller=caller(current_principal()), **body)
    return to_dict(_tracker(tracker_rpc.CreateLrsKey, message))


@blp.route("/lrs-keys", methods=["GET"])
@auth_required
@blp.response(200, LrsKeyListOut)
@blp.doc(security=[{"bearerAuth": []}])
def list_lrs_keys():
    """Your organisation's LRS keys, revoked ones included (never their secrets). Owner/admin."""
    message = tracker_pb2.ListLrsKeysRequest(caller=caller(current_principal()))
    return to_dict(_tracker(tracker_rpc.ListLrsKeys, message))


@blp.route("/lrs-keys/<string:key>", methods=["DELETE"])
@auth_required
@blp.response(204)
@blp.doc(security=[{"bearerAuth": []}])
def revoke_lrs_key(key: str):
    """Revoke an LRS key (owner/admin): it stops authenticating at once."""
    _tracker(tracker_rpc.RevokeLrsKey, tracker_pb2.RevokeLrsKeyRequest(caller=caller(current_principal()), key=key))
