"""The gRPC edge: a domain error keeps its code, a bug is INTERNAL with nothing leaked."""
import itertools
import time

import grpc
import peewee
import psycopg2.errors
import pytest
from grpc_health.v1 import health_pb2

from careeros_services.common import grpc_support
from careeros_services.common.errors import NotFound
from careeros_services.common.infra import free_port


def _serve(behaviour):
    handler = grpc.method_handlers_generic_handler("test.Echo", {"Call": grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=health_pb2.HealthCheckRequest.FromString,
        response_serializer=health_pb2.HealthCheckResponse.SerializeToString)})
    address = f"127.0.0.1:{free_port()}"
    server = grpc_support.serve([(lambda servicer, srv: srv.add_generic_rpc_handlers((servicer,)),
                                  handler, "test.Echo")], address, workers=2)
    channel = grpc.insecure_channel(address)
    call = channel.unary_unary("/test.Echo/Call", request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                               response_deserializer=health_pb2.HealthCheckResponse.FromString)
    return server, channel, call


@pytest.mark.parametrize("raised, status, code, leaked", [
    (NotFound("no such thing", code="thing_not_found"), grpc.StatusCode.NOT_FOUND, "thing_not_found", None),
    (RuntimeError("password=hunter2 for ada@example.com"), grpc.StatusCode.INTERNAL, None, "hunter2"),
    # A value the database refuses is the caller's bad input (no breaker counts it), not a bug:
    (peewee.DataError("invalid input syntax for type json"), grpc.StatusCode.INVALID_ARGUMENT, "unstorable_value",
     "json"),
    (ValueError("A string literal cannot contain NUL (0x00) characters."), grpc.StatusCode.INVALID_ARGUMENT,
     "unstorable_value", "literal"),
    (ValueError("some other bug"), grpc.StatusCode.INTERNAL, None, "bug"),
    # PostgreSQL rolled the transaction back (peewee re-raises psycopg2's error as its own): retry it.
    (peewee.OperationalError(psycopg2.errors.DeadlockDetected("deadlock detected DETAIL: Process 8")),
     grpc.StatusCode.UNAVAILABLE, "contention", "Process"),
    (psycopg2.errors.SerializationFailure("could not serialize access"), grpc.StatusCode.UNAVAILABLE,
     "contention", "serialize"),
])
def test_errors_at_the_grpc_edge(raised, status, code, leaked):
    def behaviour(request, context):
        raise raised

    server, channel, call = _serve(behaviour)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            call(health_pb2.HealthCheckRequest(), timeout=5)
        assert caught.value.code() == status
        assert dict(caught.value.trailing_metadata() or ()).get("careeros-error-code") == code
        if leaked:
            assert leaked not in (caught.value.details() or "")
    finally:
        channel.close()
        server.stop(None)


def test_a_service_specific_status_survives_the_round_trip():
    """402 payment_declined shares FAILED_PRECONDITION with a 502; the caller still sees 402."""
    from careeros_services.common.errors import DomainError

    class PaymentDeclined(DomainError):
        code, status, grpc_status, title = "payment_declined", 402, "FAILED_PRECONDITION", "Payment declined"

    def behaviour(request, context):
        raise PaymentDeclined("card declined", fields={"payment_method": ["declined"]})

    server, channel, call = _serve(behaviour)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            call(health_pb2.HealthCheckRequest(), timeout=5)
        rebuilt = grpc_support._error_from(caught.value)
        assert (rebuilt.status, rebuilt.code, rebuilt.title) == (402, "payment_declined", "Payment declined")
        assert rebuilt.fields == {"payment_method": ["declined"]} and rebuilt.detail == "card declined"
    finally:
        channel.close()
        server.stop(None)


# --- the breaker: what counts against it, and how soon it lets a returning service back ------

class _EchoStub:
    def __init__(self, channel):
        self.Call = channel.unary_unary(
            "/test.Echo/Call", request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString)


def _serve_at(address: str, behaviour):
    handler = grpc.method_handlers_generic_handler("test.Echo", {"Call": grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=health_pb2.HealthCheckRequest.FromString,
        response_serializer=health_pb2.HealthCheckResponse.SerializeToString)})
    return grpc_support.serve([(lambda servicer, srv: srv.add_generic_rpc_handlers((servicer,)),
                                handler, "test.Echo")], address, workers=4)


def _client(address: str, **kwargs) -> grpc_support.ServiceClient:
    return grpc_support.ServiceClient("echo", address, _EchoStub, **{"deadline_s": 0.5, "fail_max": 2,
                                                                     "reset_timeout_s": 30, **kwargs})


def test_only_transport_failures_and_timeouts_count_against_the_breaker():
    """A caller's bad input or a service's own error, INTERNAL included, never opens the breaker."""
    from careeros_services.common.errors import DomainError, Forbidden, Unavailable, ValidationFailed

    class Precondition(DomainError):
        code, status, grpc_status = "not_now", 409, "FAILED_PRECONDITION"

    raised = [ValidationFailed("bad", fields={"q": ["NUL"]}), NotFound("none"), Forbidden("no"),
              Precondition("later"), ValueError("a string literal cannot contain NUL (0x00) characters"),
              Unavailable("redis is away", code="redis_unavailable")]
    mode = {"slow": False}
    calls = itertools.count()

    def behaviour(request, context):
        if mode["slow"]:
            time.sleep(1.0)
            return health_pb2.HealthCheckResponse()
        raise raised[next(calls) % len(raised)]

    address = f"127.0.0.1:{free_port()}"
    server = _serve_at(address, behaviour)
    client = _client(address)
    try:
        codes = []
        for _ in range(3 * len(raised)):
            with pytest.raises(DomainError) as caught:
                client.call("Call", health_pb2.HealthCheckRequest())
            codes.append(caught.value.code)
        assert client.breaker.current_state == "closed" and client.breaker.fail_counter == 0
        assert codes[:len(raised)] == ["validation_failed", "not_found", "forbidden", "not_now",
                                       "unstorable_value", "redis_unavailable"]
        mode["slow"] = True  # now too slow: DEADLINE_EXCEEDED counts
        for expected in ("upstream_unavailable", "circuit_open", "circuit_open"):  # the 2nd trips it
            with pytest.raises(Unavailable) as caught:
                client.call("Call", health_pb2.HealthCheckRequest())
            assert caught.value.code == expected
    finally:
        client.close()
        server.stop(None)


def test_a_returning_service_is_called_again_within_two_seconds_not_after_the_reset_timeout():
    from careeros_services.common.errors import Unavailable

    address = f"127.0.0.1:{free_port()}"
    client = _client(address, reset_timeout_s=30)
    try:
        for _ in range(3):  # nothing listens: UNAVAILABLE, UNAVAILABLE, then the breaker is open
            with pytest.raises(Unavailable):
                client.call("Call", health_pb2.HealthCheckRequest())
        assert client.breaker.current_state == "open"
        time.sleep(3)  # down for a while: gRPC's reconnect backoff has grown
        server = _serve_at(address, lambda request, context: health_pb2.HealthCheckResponse(
            status=health_pb2.HealthCheckResponse.SERVING))
        back = time.monotonic()
        try:
            while True:
                try:
                    client.call("Call", health_pb2.HealthCheckRequest())
                    break
                except Unavailable as exc:
                    assert exc.code == "circuit_open" and exc.retry_after == 1
                    assert time.monotonic() - back < 2.0, "the breaker kept a returned service out"
                    time.sleep(0.05)
            assert client.breaker.current_state == "closed"
        finally:
            server.stop(None)
    finally:
        client.close()


def test_a_request_with_control_characters_is_refused_before_the_service_runs():
    ran = []

    def behaviour(request, context):
        ran.append(request)
        return health_pb2.HealthCheckResponse()

    server, channel, call = _serve(behaviour)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            call(health_pb2.HealthCheckRequest(service="a\x00b"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        trailers = dict(caught.value.trailing_metadata())
        assert trailers["careeros-error-fields"] == '{"service": ["must not contain control characters"]}'
        assert ran == []
        call(health_pb2.HealthCheckRequest(service="tabs\tand\nnewlines are text"), timeout=5)
        assert len(ran) == 1
    finally:
        channel.close()
        server.stop(None)
