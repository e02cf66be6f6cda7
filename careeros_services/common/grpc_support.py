"""gRPC plumbing shared by every service's server and the gateway's clients.

Server side (:func:`serve`): a plain grpcio thread-pool server (grpcio does not
run under eventlet, so it lives in its own process and calls the same service
layer as the nameko process), the standard health service, and an interceptor
that binds the caller's correlation id and trace context, times every call and
turns :class:`DomainError` into a status code plus trailing metadata.

Client side (:class:`ServiceClient`): a deadline on every call, the correlation
id and trace context in metadata, a pybreaker circuit breaker per service, and
the reverse mapping from status + metadata back to the same DomainError.

Only transport failures and timeouts (UNAVAILABLE or DEADLINE_EXCEEDED that the
service itself did not raise) count against a breaker: a caller's bad input or a
service's error, even an INTERNAL one, never shuts a service off for everyone.
While open, the breaker asks the service's health endpoint every
``probe_interval_s``; once it answers SERVING the next call is the half-open
trial, so a returning service is used again within about a second.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent import futures
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional

import grpc
import pybreaker
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from bus import correlation
from careeros_services.common import text
from careeros_services.common.errors import BY_GRPC_STATUS, DomainError, Unavailable, ValidationFailed

log = logging.getLogger(__name__)

ERROR_CODE_KEY = "careeros-error-code"
ERROR_FIELDS_KEY = "careeros-error-fields"
RETRY_AFTER_KEY = "careeros-retry-after"
# A service's own error classes (402 payment_declined, 502 roadmap_proposal_rejected) share a
# gRPC status with others; their HTTP status and title ride along so the caller rebuilds them whole.
ERROR_STATUS_KEY = "careeros-error-status"
ERROR_TITLE_KEY = "careeros-error-title"
CLIENT_IP_KEY = "x-client-ip"  # the end client's address, passed on by the gateway (audit logs)


def _metrics():
    from careeros_services.common import metrics
    return metrics


def _tracing():
    from bus import tracing
    return tracing


# --- server ---------------------------------------------------------------------------------

class _ServerInterceptor(grpc.ServerInterceptor):
    """Correlation, tracing, metrics and error mapping around every unary call."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        full_method = handler_call_details.method  # "/careeros.auth.v1.Auth/Login"
        service, _, method = full_method.rpartition("/")
        service = service.lstrip("/").split(".")[-1].lower() if service else "unknown"
        inner = handler.unary_unary

        def behaviour(request, context: grpc.ServicerContext):
            metadata = dict(context.invocation_metadata() or ())
            tracing = _tracing()
            with correlation.bound(correlation.accept_or_new(metadata.get(correlation.GRPC_METADATA_KEY))), \
                    tracing.tracer("careeros.grpc").start_as_current_span(
                        full_method, context=tracing.extract_context(metadata),
                        kind=tracing.SpanKind.SERVER), \
                    _metrics().time_rpc(service, method, "grpc"):
                try:
                    text.require_safe_message(request)
                    return _data_errors_are_invalid_arguments(inner, request, context)
                except DomainError as exc:
                    trailing = [(ERROR_CODE_KEY, exc.code), (ERROR_STATUS_KEY, str(exc.status)),
                                (ERROR_TITLE_KEY, exc.title)]
                    if exc.fields:
                        trailing.append((ERROR_FIELDS_KEY, json.dumps(exc.fields)))
                    if exc.retry_after is not None:
                        trailing.append((RETRY_AFTER_KEY, str(exc.retry_after)))
                    context.set_trailing_metadata(tuple(trailing))
                    context.abort(getattr(grpc.StatusCode, exc.grpc_status), exc.detail)
                except Exception:  # noqa: BLE001 - a bug: log it here, tell the caller nothing inside
                    if context.code() is not None:  # abort() raised: already answered
                        raise
                    log.exception("unhandled error in %s", full_method)
                    context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            behaviour, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)


def _data_errors_are_invalid_arguments(inner: Callable, request: Any, context: Any) -> Any:
    """A value the database refuses (a NUL psycopg2 will not send, an unstorable character, a number
    out of range) is the caller's bad input: INVALID_ARGUMENT, never an internal error (which the
    gateway's breaker would count against every tenant). A transaction PostgreSQL rolled back as
    a deadlock or serialization failure is 503 ``contention`` with Retry-After: nothing was kept."""
    try:
        return inner(request, context)
    except ValueError as exc:
        if "NUL" not in str(exc):
            raise
        log.warning("refused text with NUL in %s", type(request).__name__)
    except Exception as exc:  # psycopg2 is not imported here: services may not use it
        if _rolled_back_by_contention(exc):
            log.warning("transaction rolled back by contention: %s", _first_line(exc))
            raise Unavailable("The request collided with a concurrent one and changed nothing; retry it.",
                              code="contention", retry_after=1) from None
        if not any(cls.__name__ == "DataError" for cls in type(exc).__mro__):  # psycopg2's or peewee's
            raise
        log.warning("database refused a value: %s", _first_line(exc))
    raise ValidationFailed("The request has a value that cannot be stored.", code="unstorable_value")


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]


def _rolled_back_by_contention(exc: BaseException) -> bool:
    """PostgreSQL rolled the transaction back (a deadlock, a serialization failure: psycopg2's
    TransactionRollbackError), also when peewee re-raised it as its own OperationalError."""
    return any(cls.__name__ == "TransactionRollbackError"
               for candidate in (exc, getattr(exc, "orig", None), exc.__cause__, exc.__context__)
               for cls in type(candidate).__mro__)


def serve(registrations: Iterable[tuple[Callable, Any, str]], bind: str, workers: int = 16) -> grpc.Server:
    """Start a server for ``(add_XServicer_to_server, servicer, full_service_name)`` triples.

    Returns the started server; the caller waits on it (``server.wait_for_termination()``).
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers),
                         interceptors=[_ServerInterceptor()],
                         options=[("grpc.so_reuseport", 0)])
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for add, servicer, name in registrations:
        add(servicer, server)
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    if server.add_insecure_port(bind) == 0:
        raise RuntimeError(f"cannot bind gRPC server to {bind}")
    server.start()
    return server


# --- client ---------------------------------------------------------------------------------

class _BusinessError(Exception):
    """Carries a DomainError through the breaker without counting as a failure."""

    def __init__(self, error: DomainError):
        self.error = error


class _TransportFailure(Exception):
    """The service could not be reached in time: the only thing a breaker counts."""

    def __init__(self, error: DomainError):
        self.error = error


TRANSPORT_STATUSES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# Reconnect soon after a service returns (grpc's default backoff grows to 120 s).
CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.min_reconnect_backoff_ms", 200),
                   ("grpc.max_reconnect_backoff_ms", 1000)]


def is_transport_failure(rpc_error: grpc.RpcError) -> bool:
    """Unreachable or too slow, as opposed to an answer the service gave (which names its code)."""
    return rpc_error.code() in TRANSPORT_STATUSES and \
        ERROR_CODE_KEY not in dict(rpc_error.trailing_metadata() or ())


def _error_from(rpc_error: grpc.RpcError) -> DomainError:
    trailing = dict(rpc_error.trailing_metadata() or ())
    code = trailing.get(ERROR_CODE_KEY)
    status = rpc_error.code()
    if code is None:
        if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return Unavailable(f"upstream {status.name.lower()}", code="upstream_unavailable", retry_after=1)
        return Unavailable("upstream error", code="upstream_error", retry_after=1)
    cls = BY_GRPC_STATUS.get(status.name, DomainError)
    fields = json.loads(trailing[ERROR_FIELDS_KEY]) if ERROR_FIELDS_KEY in trailing else None
    retry_after = int(trailing[RETRY_AFTER_KEY]) if RETRY_AFTER_KEY in trailing else None
    error = cls(rpc_error.details() or "", fields=fields, retry_after=retry_after, code=code)
    if trailing.get(ERROR_STATUS_KEY, "").isdigit() and 400 <= int(trailing[ERROR_STATUS_KEY]) < 600:
        error.status = int(trailing[ERROR_STATUS_KEY])
        error.title = trailing.get(ERROR_TITLE_KEY) or error.title
    return error


class _BreakerGauge(pybreaker.CircuitBreakerListener):
    """Publishes each breaker's state as ``careeros_breaker_state``."""

    def state_change(self, cb, old_state, new_state) -> None:
        metrics = _metrics()
        metrics.BREAKER_STATE.labels(cb.name).set(metrics.BREAKER_STATES.get(new_state.name, 0))


class ServiceClient:
    """A service's gRPC stub behind a deadline and a circuit breaker.

    ``client.call("GetProfile", request)`` returns the response message or
    raises a DomainError: the service's own errors pass through and do not trip
    the breaker; transport failures and timeouts do, and an open breaker answers
    at once with ``Unavailable`` and a ``retry_after`` until a health probe (or
    ``reset_timeout_s``) lets a trial call through.
    """

    def __init__(self, name: str, address: str, stub_factory: Callable[[grpc.Channel], Any], *,
                 deadline_s: float = 3.0, fail_max: int = 5, reset_timeout_s: float = 10.0,
                 probe_interval_s: float = 0.5):
        self.name = name
        self.deadline_s = deadline_s
        self.channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self.stub = stub_factory(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.probe_interval_s = probe_interval_s
        self._probed_at = float("-inf")
        self._probe_lock = threading.Lock()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max, reset_timeout=reset_timeout_s, name=name,
            exclude=[lambda exc: not isinstance(exc, _TransportFailure)], listeners=[_BreakerGauge()])
        _metrics().BREAKER_STATE.labels(name).set(0)

    def call(self, method: str, request: Any, *, timeout: Optional[float] = None,
             metadata: Iterable[tuple[str, str]] = ()) -> Any:
        """``metadata``: extra request metadata, e.g. ``[(CLIENT_IP_KEY, address)]``."""
        metadata = [(correlation.GRPC_METADATA_KEY, correlation.get() or correlation.new_id()), *metadata]
        metadata.extend(_tracing().inject_headers().items())
        rpc = getattr(self.stub, method)

        def invoke():
            try:
                return rpc(request, timeout=timeout or self.deadline_s, metadata=metadata)
            except grpc.RpcError as exc:
                if is_transport_failure(exc):
                    raise _TransportFailure(_error_from(exc)) from None
                raise _BusinessError(_error_from(exc)) from None

        try:
            with _metrics().time_rpc(self.name, method, "grpc-client"):
                self._probe_while_open()
                return self._guarded(invoke)
        except (_BusinessError, _TransportFailure) as wrapped:
            raise wrapped.error from None
        except pybreaker.CircuitBreakerError:
            raise Unavailable(f"{self.name} is unavailable (circuit open)", code="circuit_open",
                              retry_after=self.retry_after()) from None

    def _guarded(self, invoke: Callable[[], Any]) -> Any:
        # pybreaker's CircuitBreaker.call() holds the breaker's lock for the whole
        # call, which would serialise every request of a threaded gateway. While
        # closed we call outside the lock and only take it to record the outcome;
        # open and half-open states go through call() as designed (one trial).
        breaker = self.breaker
        if breaker.current_state != pybreaker.STATE_CLOSED:
            return breaker.call(invoke)
        try:
            result = invoke()
        except BaseException as exc:
            if breaker.is_system_error(exc):
                with breaker._lock:
                    breaker.state._handle_error(exc)  # re-raises, or raises CircuitBreakerError
            raise
        if breaker.fail_counter:
            with breaker._lock:
                breaker.state._handle_success()
        return result

    def _probe_while_open(self) -> None:
        """While open, ask the service's health (one caller per probe_interval_s); SERVING
        half-opens the breaker, so this call is the trial that closes it."""
        if self.breaker.current_state != pybreaker.STATE_OPEN:
            return
        with self._probe_lock:
            if time.monotonic() - self._probed_at < self.probe_interval_s:
                return
            self._probed_at = time.monotonic()
        try:
            answer = self.health.Check(health_pb2.HealthCheckRequest(), timeout=self.probe_interval_s)
        except grpc.RpcError:
            return
        if answer.status == health_pb2.HealthCheckResponse.SERVING \
                and self.breaker.current_state == pybreaker.STATE_OPEN:
            log.info("%s answers its health check again: letting a trial call through", self.name)
            self.breaker.half_open()

    def retry_after(self) -> int:
        """Seconds a caller should wait: the next health probe is at most probe_interval_s away."""
        opened = self.breaker._state_storage.opened_at
        if opened is None:
            return 1
        left = self.breaker.reset_timeout - (datetime.now(timezone.utc) - opened).total_seconds()
        return max(1, min(int(left + 0.999), int(self.probe_interval_s + 0.999)))

    def close(self) -> None:
        self.channel.close()


def wait_for_server(address: str, timeout_s: float = 30.0) -> None:
    """Block until a gRPC server answers its health check (tests, start-up)."""
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no gRPC server at {address}")
            time.sleep(0.1)
