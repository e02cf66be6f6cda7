"""The tracker service over gRPC (``careeros.tracker.v1.TrackerService``).

A plain grpcio servicer, hosted by ``careeros grpc`` in its own process
(grpcio does not run under eventlet), calling the same service layer as the
nameko entrypoints. Errors are DomainErrors; ``grpc_support``'s interceptor
turns them into a status and trailing metadata.
"""
from __future__ import annotations

import json
from typing import Callable

import grpc

from careeros_services.common.caller import Caller
from careeros_services.tracker.domain import InvalidStatement
from careeros_services.tracker.lrs import LrsService
from careeros_services.tracker.service import TrackerService, build
from careeros_services.tracker.xapi.protocol import XapiRequest
from contracts.grpc import tracker_pb2, tracker_pb2_grpc

SERVICE_NAME = tracker_pb2.DESCRIPTOR.services_by_name["TrackerService"].full_name


def _json_body(text: str):
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidStatement("The body is not valid JSON.", fields={"statement": ["is not valid JSON"]}) from None


def progress_message(progress: dict) -> tracker_pb2.Progress:
    """The service layer's progress dict as a Progress message."""
    return tracker_pb2.Progress(
        user_id=progress["user_id"],
        courses=[tracker_pb2.CourseProgress(
            **{k: v for k, v in course.items() if k != "lessons"},
            lessons=[tracker_pb2.LessonProgress(**lesson) for lesson in course["lessons"]])
            for course in progress["courses"]],
        streak=tracker_pb2.Streak(**progress["streak"]),
        weekly_goal=tracker_pb2.WeeklyGoal(**progress["weekly_goal"]),
        total_time_spent_s=progress["total_time_spent_s"])


class TrackerServicer(tracker_pb2_grpc.TrackerServiceServicer):
    """The statements resource, progress and weekly goal for the verified caller in the request."""

    def __init__(self, service: TrackerService):
        self.service = service
        self.lrs = LrsService(service)

    def Xapi(self, request: tracker_pb2.XapiRequest, context: grpc.ServicerContext):
        """One xAPI request; xAPI's own errors come back as a response (status, JSON body), not a gRPC error."""
        caller = request.caller
        response = self.lrs.serve(
            XapiRequest(method=request.method, resource=request.resource, params=dict(request.params),
                        headers=dict(request.headers), body=request.body),
            basic=(request.basic_key, request.basic_secret) if request.basic_key else None,
            caller=(caller.tenant_id, caller.user_id, caller.org_role) if caller.user_id else None)
        return tracker_pb2.XapiResponse(status=response.status, headers=response.headers, body=response.body)

    def CreateLrsKey(self, request: tracker_pb2.CreateLrsKeyRequest, context: grpc.ServicerContext):
        return tracker_pb2.LrsKey(**self.lrs.create_key(Caller.from_message(request.caller),
                                                        request.label, list(request.scopes),
                                                        request.xapi_version))

    def ListLrsKeys(self, request: tracker_pb2.ListLrsKeysRequest, context: grpc.ServicerContext):
        keys = self.lrs.list_keys(Caller.from_message(request.caller))
        return tracker_pb2.LrsKeyList(keys=[tracker_pb2.LrsKey(**k) for k in keys])

    def RevokeLrsKey(self, request: tracker_pb2.RevokeLrsKeyRequest, context: grpc.ServicerContext):
        self.lrs.revoke_key(Caller.from_message(request.caller), request.key)
        return tracker_pb2.RevokeLrsKeyResponse()

    def PostStatements(self, request: tracker_pb2.PostStatementsRequest, context: grpc.ServicerContext):
        caller = Caller.from_message(request.caller)
        result = self.service.record_statements(caller, _json_body(request.body_json))
        return tracker_pb2.PostStatementsResponse(**result)

    def ListStatements(self, request: tracker_pb2.ListStatementsRequest, context: grpc.ServicerContext):
        page = self.service.list_statements(
            Caller.from_message(request.caller), learner=request.learner, verb=request.verb,
            activity=request.activity, related_activities=request.related_activities, since=request.since,
            until=request.until, limit=request.limit, cursor=request.cursor)
        return tracker_pb2.ListStatementsResponse(statements_json=json.dumps(page["statements"]),
                                                  next_cursor=page["next_cursor"])

    def GetProgress(self, request: tracker_pb2.GetProgressRequest, context: grpc.ServicerContext):
        return progress_message(self.service.get_progress(
            Caller.from_message(request.caller), learner=request.learner, course_id=request.course_id))

    def SetWeeklyGoal(self, request: tracker_pb2.SetWeeklyGoalRequest, context: grpc.ServicerContext):
        return tracker_pb2.WeeklyGoal(**self.service.set_weekly_goal(
            Caller.from_message(request.caller), request.minutes_per_week))


def registration(config: dict) -> tuple[Callable, TrackerServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    return (tracker_pb2_grpc.add_TrackerServiceServicer_to_server, TrackerServicer(build(config)), SERVICE_NAME)
