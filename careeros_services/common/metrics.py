"""Prometheus metrics shared by every CareerOS process, defined once here.

Services import the metric objects and label them, e.g.::

    from careeros_services.common import metrics
    metrics.OUTBOX_PUBLISHED.labels(service="jobs", topic="jobs.events").inc()

    with metrics.time_rpc("profile", "GetProfile", "grpc"):
        ...

    metrics.start_metrics_server(9101)   # nameko / grpc / relay processes

The gunicorn gateway runs several worker processes: set
``PROMETHEUS_MULTIPROC_DIR`` *before* ``prometheus_client`` is first imported
(prometheus_client picks its storage at import) and serve
:func:`render_latest` from a /metrics route.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest, start_http_server)
from prometheus_client.multiprocess import MultiProcessCollector

from bus.metrics import (CONSUMER_LAG, DLQ_MESSAGES, EVENT_HANDLE_LATENCY,  # noqa: F401 - re-exported
                         EVENT_OUTCOMES, EVENTS_CONSUMED, LATENCY_BUCKETS, OUTBOX_BACKLOG,
                         OUTBOX_PUBLISHED, OUTBOX_REPUBLISHED, RELAY_PRODUCER_RESETS, RPC_ERRORS,
                         RPC_LATENCY)

# Values for BREAKER_STATE; keys are pybreaker's state names.
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}

# --- HTTP gateway --------------------------------------------------------------
HTTP_LATENCY = Histogram("careeros_http_request_latency_seconds", "Gateway request latency.",
                         ["route", "method", "status"], buckets=LATENCY_BUCKETS)
HTTP_REQUESTS = Counter("careeros_http_requests_total", "Gateway requests.",
                        ["route", "method", "status"])

# --- Resilience and cost ----------------------------------------------------------
BREAKER_STATE = Gauge("careeros_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
                      ["service"], multiprocess_mode="livemax")  # worst live worker wins
PROCESS_RESTARTS = Counter("careeros_process_restarts_total",
                           "Crashed child processes the local supervisor restarted.", ["process"])
AI_TOKENS = Counter("careeros_ai_tokens_total", "AI provider tokens.", ["tenant_id", "provider", "kind"])
TENANT_COST_MICROS = Counter("careeros_tenant_cost_micros_total", "Cost attributed to a tenant, in micro-units.",
                             ["tenant_id", "source"])

# --- Notifications ------------------------------------------------------------------
NOTIFICATIONS = Counter("careeros_notifications_total",
                        "Notification messages by kind and outcome (queued, sent, retried, failed, skipped).",
                        ["kind", "outcome"])

_servers: dict[int, Any] = {}
_servers_lock = threading.Lock()


def _registry() -> CollectorRegistry:
    """The default registry, or in multiprocess mode one reading all workers' files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def render_latest() -> tuple[bytes, str]:
    """Current metrics as ``(body, content_type)`` for a /metrics HTTP route.

    Aggregates every worker's values when ``PROMETHEUS_MULTIPROC_DIR`` is set,
    otherwise reads this process's default registry.
    """
    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def start_metrics_server(port: int, addr: str = "127.0.0.1") -> None:
    """Serve /metrics on ``addr:port`` from a background thread.

    ``port`` 0 disables it (config can turn metrics off); calling again with a
    port already served is a no-op, so every entrypoint may call it safely.
    """
    if not port:
        return
    with _servers_lock:
        if port in _servers:
            return
        _servers[port] = start_http_server(port, addr=addr, registry=_registry())


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    if callable(code):  # grpc.RpcError.code() is a method returning a StatusCode
        try:
            code = code()
        except Exception:
            code = None
    if code is None:
        return type(exc).__name__
    return str(getattr(code, "name", code))  # StatusCode.NOT_FOUND -> "NOT_FOUND"


@contextmanager
def time_rpc(service: str, method: str, transport: str) -> Iterator[None]:
    """Observe RPC latency and count errors; usable as ``with`` or as a decorator.

    ``transport`` is "grpc" or "nameko". An exception is counted under its
    ``code`` attribute (DomainError codes, gRPC status names) or, lacking one,
    its class name, and then re-raised unchanged.
    """
    start = time.perf_counter()
    try:
        yield
    except Exception as exc:
        RPC_ERRORS.labels(service, method, transport, _error_code(exc)).inc()
        raise
    finally:
        RPC_LATENCY.labels(service, method, transport).observe(time.perf_counter() - start)
