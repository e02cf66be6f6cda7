"""The tracker gRPC server in process, called through a real grpcio stub."""
from __future__ import annotations

import json

import grpc
import pytest

from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from careeros_services.tracker.entrypoints.grpc_server import registration
from contracts.grpc import common_pb2, tracker_pb2, tracker_pb2_grpc
from tests.tracker.support import course_published, new_id, statement


@pytest.fixture(scope="module")
def server(config, fresh_store):
    """A running tracker gRPC server, built by ``registration(config)`` as in production."""
    fresh_store("tracker")
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    assert name == "careeros.tracker.v1.TrackerService"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    try:
        grpc_support.wait_for_server(address, timeout_s=10)
        yield address, servicer.service
    finally:
        server.stop(grace=None)
        servicer.service.store.close()


@pytest.fixture(scope="module")
def stub(server):
    with grpc.insecure_channel(server[0]) as channel:
        yield tracker_pb2_grpc.TrackerServiceStub(channel)


@pytest.fixture
def caller() -> common_pb2.Caller:
    return common_pb2.Caller(user_id=new_id(), tenant_id=new_id(), org_role="member", plan_tier="free")


def trailers(error: grpc.RpcError) -> dict:
    return dict(error.trailing_metadata() or ())


def post(stub, caller, body) -> tracker_pb2.PostStatementsResponse:
    return stub.PostStatements(tracker_pb2.PostStatementsRequest(caller=caller, body_json=json.dumps(body)), timeout=5)


def test_post_list_and_progress(stub, server, caller):
    course, lesson = new_id(), new_id()
    server[1].handle_event(course_published(caller.tenant_id, course, [(lesson, True), (new_id(), True)]))
    sid = new_id()
    body = [statement(caller.user_id, "completed", lesson_id=lesson, course_id=course, statement_id=sid,
                      duration="PT90S"), statement(caller.user_id, "launched", statement_id=new_id())]
    first = post(stub, caller, body)
    assert list(first.statement_ids)[0] == sid and first.stored == 2
    assert post(stub, caller, body).duplicates == 2

    page = stub.ListStatements(tracker_pb2.ListStatementsRequest(caller=caller, limit=1), timeout=5)
    assert len(json.loads(page.statements_json)) == 1 and page.next_cursor
    rest = stub.ListStatements(tracker_pb2.ListStatementsRequest(caller=caller, limit=1, cursor=page.next_cursor))
    assert json.loads(rest.statements_json)[0]["id"] == sid and rest.next_cursor == ""

    progress = stub.GetProgress(tracker_pb2.GetProgressRequest(caller=caller, course_id=course), timeout=5)
    [course_progress] = progress.courses
    assert (course_progress.percent, course_progress.lessons_done, course_progress.time_spent_s) == (50, 1, 90)
    assert [l.done for l in course_progress.lessons] == [True, False]

    goal = stub.SetWeeklyGoal(tracker_pb2.SetWeeklyGoalRequest(caller=caller, minutes_per_week=3), timeout=5)
    assert (goal.minutes_per_week, goal.minutes_this_week, goal.percent) == (3, 1, 50)


def test_invalid_statement_is_invalid_argument_naming_the_field(stub, caller):
    bad = statement(caller.user_id)
    bad["result"] = {"duration": "ten minutes"}
    with pytest.raises(grpc.RpcError) as caught:
        post(stub, caller, bad)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(caught.value)["careeros-error-code"] == "invalid_statement"
    assert "result.duration" in json.loads(trailers(caught.value)["careeros-error-fields"])


def test_conflicting_id_is_already_exists(stub, caller):
    sid = new_id()
    post(stub, caller, statement(caller.user_id, "launched", statement_id=sid))
    with pytest.raises(grpc.RpcError) as caught:
        post(stub, caller, statement(caller.user_id, "completed", statement_id=sid))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert trailers(caught.value)["careeros-error-code"] == "statement_conflict"


def test_member_cannot_read_another_learner(stub, caller):
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetProgress(tracker_pb2.GetProgressRequest(caller=caller, learner=new_id()), timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_goal_out_of_range(stub, caller):
    with pytest.raises(grpc.RpcError) as caught:
        stub.SetWeeklyGoal(tracker_pb2.SetWeeklyGoalRequest(caller=caller, minutes_per_week=20000), timeout=5)
    assert "minutes_per_week" in json.loads(trailers(caught.value)["careeros-error-fields"])
