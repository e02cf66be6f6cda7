"""OpenTelemetry setup and W3C trace-context propagation helpers.

At process start::

    from bus import tracing
    tracing.configure_tracing("jobs-service", mode=config["observability"]["tracing"])

Sending side (HTTP, gRPC metadata, Kafka headers)::

    headers = tracing.inject_headers()                     # {"traceparent": "00-..."}
    kafka_headers = [(k, v.encode()) for k, v in headers.items()]

Receiving side::

    ctx = tracing.extract_context(grpc_context.invocation_metadata())
    with tracing.tracer(__name__).start_span("GetProfile", context=ctx): ...
"""
from __future__ import annotations

import functools
import sys
import threading
from typing import Iterable, Mapping, Optional, Union

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind  # re-exported for callers  # noqa: F401
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (BatchSpanProcessor, ConsoleSpanExporter,
                                            SimpleSpanProcessor)

MODES = ("off", "console", "otlp")

Carrier = Union[Mapping[str, str], Iterable[tuple[str, Union[str, bytes, None]]]]

_lock = threading.Lock()
_provider: Optional[TracerProvider] = None
_modes_added: set[str] = set()


class _Stdout:
    """Looks up sys.stdout on every write (the exporter's default is bound at
    import, which misses later redirections such as pytest's capture)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _exporting_processor(mode: str) -> Optional[SpanProcessor]:
    if mode == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter(out=_Stdout()))
    if mode == "otlp":
        # Imported lazily: only processes that export pay for it. The exporter
        # reads OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* vars) itself.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        return BatchSpanProcessor(OTLPSpanExporter())
    return None


def configure_tracing(service: str, mode: str = "off",
                      extra_processor: Optional[SpanProcessor] = None) -> None:
    """Install an SDK TracerProvider for ``service`` and the exporter for ``mode``.

    ``mode``: "off" (no exporter, but spans still get real ids so trace
    context propagates and log lines carry trace ids), "console" or "otlp".
    Idempotent: the provider is created once (OpenTelemetry refuses to replace
    it; the first ``service`` name wins) and each mode's exporter is added at
    most once. ``extra_processor`` (e.g. an in-memory exporter in tests) is
    added on every call that passes one.
    """
    global _provider
    if mode not in MODES:
        raise ValueError(f"tracing mode must be one of {MODES}, got {mode!r}")
    with _lock:
        if _provider is None:
            current = trace.get_tracer_provider()
            if isinstance(current, TracerProvider):  # someone already installed an SDK provider
                _provider = current
            else:
                _provider = TracerProvider(resource=Resource.create({"service.name": service}))
                trace.set_tracer_provider(_provider)
        if mode not in _modes_added:
            processor = _exporting_processor(mode)
            if processor is not None:
                _provider.add_span_processor(processor)
            _modes_added.add(mode)
        if extra_processor is not None:
            _provider.add_span_processor(extra_processor)


@functools.lru_cache(maxsize=None)
def tracer(name: str) -> trace.Tracer:
    """A tracer from the global provider (cached: get_tracer is not free on a hot path)."""
    return trace.get_tracer(name)


def inject_headers(context: Optional[Context] = None) -> dict[str, str]:
    """The current (or given) trace context as W3C headers in a fresh dict."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def extract_context(carrier: Carrier) -> Context:
    """An OTel Context from incoming headers.

    Accepts a dict or other mapping (HTTP headers), gRPC metadata (a sequence
    of ``(key, value)``), or Kafka headers (``(key, bytes)`` tuples, values may
    be None). Keys are matched case-insensitively; bytes are decoded as UTF-8.
    """
    pairs = carrier.items() if hasattr(carrier, "items") else carrier
    headers: dict[str, str] = {}
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        headers.setdefault(key.lower(), value)
    return propagate.extract(headers)
