"""Shared Prometheus metrics (careeros_services.common.metrics)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from careeros_services.common import errors, metrics

ROOT = Path(__file__).resolve().parents[2]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_time_rpc_observes_latency_as_context_manager():
    labels = dict(service="profile", method="Get", transport="grpc")
    before = value("careeros_rpc_latency_seconds_count", **labels)
    with metrics.time_rpc("profile", "Get", "grpc"):
        pass
    assert value("careeros_rpc_latency_seconds_count", **labels) == before + 1
    assert value("careeros_rpc_errors_total", code="NotFound", **labels) == 0


def test_time_rpc_counts_domain_error_code_and_reraises():
    labels = dict(service="profile", method="Find", transport="nameko")
    before = value("careeros_rpc_errors_total", code="not_found", **labels)
    with pytest.raises(errors.NotFound):
        with metrics.time_rpc("profile", "Find", "nameko"):
            raise errors.NotFound("no such profile")
    assert value("careeros_rpc_errors_total", code="not_found", **labels) == before + 1
    assert value("careeros_rpc_latency_seconds_count", **labels) >= 1


def test_time_rpc_as_decorator_uses_class_name_without_code():
    @metrics.time_rpc("jobs", "Boom", "grpc")
    def boom():
        raise KeyError("x")

    for _ in range(2):  # each call gets a fresh timer
        with pytest.raises(KeyError):
            boom()
    labels = dict(service="jobs", method="Boom", transport="grpc")
    assert value("careeros_rpc_errors_total", code="KeyError", **labels) == 2
    assert value("careeros_rpc_latency_seconds_count", **labels) == 2


def test_time_rpc_calls_grpc_style_code_method():
    class FakeStatus:
        name = "UNAVAILABLE"

    class FakeRpcError(Exception):
        def code(self):
            return FakeStatus()

    with pytest.raises(FakeRpcError):
        with metrics.time_rpc("ai", "Complete", "grpc"):
            raise FakeRpcError()
    assert value("careeros_rpc_errors_total", service="ai", method="Complete",
                 transport="grpc", code="UNAVAILABLE") == 1


def test_all_metrics_are_registered():
    metrics.OUTBOX_BACKLOG.labels(service="jobs").set(3)
    metrics.CONSUMER_LAG.labels(group="g", topic="t", partition="0").set(7)
    metrics.BREAKER_STATE.labels(service="ai").set(metrics.BREAKER_STATES["open"])
    metrics.EVENTS_CONSUMED.labels(group="g", topic="t", outcome="processed").inc()
    metrics.AI_TOKENS.labels(tenant_id="t1", provider="openai", kind="prompt").inc(12)
    metrics.TENANT_COST_MICROS.labels(tenant_id="t1", source="ai").inc(250)
    assert value("careeros_outbox_backlog", service="jobs") == 3
    assert value("careeros_consumer_lag", group="g", topic="t", partition="0") == 7
    assert value("careeros_breaker_state", service="ai") == 2
    assert value("careeros_events_consumed_total", group="g", topic="t", outcome="processed") == 1
    assert value("careeros_ai_tokens_total", tenant_id="t1", provider="openai", kind="prompt") == 12
    assert value("careeros_tenant_cost_micros_total", tenant_id="t1", source="ai") == 250


def test_render_latest_single_process(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics.HTTP_REQUESTS.labels(route="/v1/jobs", method="GET", status="200").inc()
    body, content_type = metrics.render_latest()
    assert content_type.startswith("text/plain")
    assert b'careeros_http_requests_total{method="GET",route="/v1/jobs",status="200"}' in body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_metrics_server_serves_metrics():
    port = _free_port()
    metrics.start_metrics_server(port)
    metrics.start_metrics_server(port)  # idempotent: would fail with "address in use" otherwise
    metrics.start_metrics_server(0)     # disabled
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert "careeros_rpc_latency_seconds" in text


def test_render_latest_multiprocess(tmp_path):
    # The env var must be set before prometheus_client is imported, so this
    # runs in a fresh interpreter with two "workers" writing to the same dir.
    script = textwrap.dedent("""
        from careeros_services.common import metrics
        metrics.HTTP_REQUESTS.labels(route="/r", method="GET", status="200").inc(2)
        metrics.BREAKER_STATE.labels(service="ai").set(1)
        body, _ = metrics.render_latest()
        print(body.decode())
    """)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True, timeout=60).stdout
    # The second process sees both processes' counters summed.
    assert 'careeros_http_requests_total{method="GET",route="/r",status="200"} 4.0' in out
    assert "careeros_breaker_state" in out
