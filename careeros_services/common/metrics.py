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

# From 0.5 ms (an in-process nameko call) to 10 s (a slow AI provider call).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

EVENT_OUTCOMES = ("processed", "duplicate", "ignored", "retried", "dead_lettered", "invalid")
# Values for BREAKER_STATE; keys are pybreaker's state names.
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}

# --- RPC (gRPC servers and nameko RPC) ---------------------------------------
RPC_LATENCY = Histogram("careeros_rpc_latency_seconds", "Server-side RPC latency.",
                        ["service", "method", "transport"], buckets=LATENCY_BUCKETS)
RPC_ERRORS = Counter("careeros_rpc_errors_total", "RPCs that raised, by error code.",
                     ["service", "method", "transport", "code"])

# --- HTTP gateway --------------------------------------------------------------
HTTP_LATENCY = Histogram("careeros_http_request_latency_seconds", "Gateway request latency.",
                         ["route", "method", "status"], buckets=LATENCY_BUCKETS)
HTTP_REQUESTS = Counter("careeros_http_requests_total", "Gateway requests.",
                        ["route", "method", "status"])

# --- Events: outbox relay and consumers ----------------------------------------
# Gauges need a multiprocess mode; "livemax" ignores dead workers and does not
# double count when several processes report the same backlog/lag/state.
OUTBOX_BACKLOG = Gauge("careeros_outbox_backlog", "Unpublished outbox rows.",
                       ["service"], multiprocess_mode="livemax")
OUTBOX_PUBLISHED = Counter("careeros_outbox_published_total", "Outbox rows published to Kafka.",
                           ["service", "topic"])
OUTBOX_REPUBLISHED = Counter("careeros_outbox_republished_total",
                             "Sent outbox rows queued again because the broker was new (lost its log).",
                             ["service"])
RELAY_PRODUCER_RESETS = Counter("careeros_relay_producer_resets_total",
                                "Producers the relay replaced after a producer error.", ["service"])
EVENTS_CONSUMED = Counter("careeros_events_consumed_total", "Consumed events by outcome.",
                          ["group", "topic", "outcome"])
CONSUMER_LAG = Gauge("careeros_consumer_lag", "Consumer lag in messages.",
                     ["group", "topic", "partition"], multiprocess_mode="livemax")
DLQ_MESSAGES = Gauge("careeros_dlq_messages", "Messages waiting in a dead-letter topic.",
                     ["topic"], multiprocess_mode="livemax")
EVENT_HANDLE_LATENCY = Histogram("careeros_event_handle_latency_seconds", "Event handler latency.",
                                 ["group", "event_type"], buckets=LATENCY_BUCKETS)

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
