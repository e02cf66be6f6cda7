"""OpenTelemetry setup and propagation (bus.tracing)."""
from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bus import tracing

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def configured():
    tracing.configure_tracing("test-svc", "off", extra_processor=SimpleSpanProcessor(_exporter))


@pytest.fixture
def exporter():
    _exporter.clear()
    return _exporter


def _child_of(carrier):
    with tracing.tracer("test").start_as_current_span("child", context=tracing.extract_context(carrier)) as child:
        return child


def test_off_mode_still_gives_valid_ids(exporter):
    with tracing.tracer("test").start_as_current_span("s") as span:
        assert span.get_span_context().is_valid
        assert "traceparent" in tracing.inject_headers()
    assert [s.name for s in exporter.get_finished_spans()] == ["s"]
    assert exporter.get_finished_spans()[0].resource.attributes["service.name"] == "test-svc"


def test_no_current_span_injects_nothing():
    assert tracing.inject_headers() == {}


@pytest.mark.parametrize("shape", ["dict", "grpc", "kafka", "mixed-case"])
def test_child_continues_parent_trace(exporter, shape):
    with tracing.tracer("test").start_as_current_span("parent") as parent:
        headers = tracing.inject_headers()
    carrier = {
        "dict": headers,
        "grpc": [("x-correlation-id", "c-12345678")] + list(headers.items()),
        "kafka": [("correlation_id", b"c-1"), ("empty", None)] + [(k, v.encode()) for k, v in headers.items()],
        "mixed-case": {k.title(): v for k, v in headers.items()},
    }[shape]
    child = _child_of(carrier)
    parent_ctx, child_ctx = parent.get_span_context(), child.get_span_context()
    assert child_ctx.trace_id == parent_ctx.trace_id
    assert child.parent.span_id == parent_ctx.span_id
    assert child_ctx.span_id != parent_ctx.span_id


def test_extract_without_headers_starts_new_trace():
    assert not trace.get_current_span(tracing.extract_context([])).get_span_context().is_valid


def test_console_mode_writes_spans(capsys):
    tracing.configure_tracing("test-svc", "console")
    tracing.configure_tracing("test-svc", "console")  # idempotent: one exporter
    with tracing.tracer("test").start_as_current_span("printed-span"):
        pass
    assert capsys.readouterr().out.count('"name": "printed-span"') == 1


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError):
        tracing.configure_tracing("test-svc", "jaeger")
