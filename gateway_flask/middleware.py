"""Request guards, run in this order for every request (see :func:`install`).

Before the view: bind the correlation id, find the client's address, check the
URL's length and parameters, rate-limit (and read a cacheable GET's cached answer in the same
Redis round trip), check the body (size, media type, JSON well-formedness and text, upload
content), then answer a cache hit or claim/replay the Idempotency-Key.
After it: complete the idempotent request, keep a cacheable answer, echo
``X-Correlation-ID``, set the security headers, record metrics. One hook per phase keeps the
order explicit (Flask runs multiple ``after_request`` functions in reverse registration order).
"""
from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

from flask import Flask, Response, current_app, g, request

from opentelemetry import context as otel_context, trace

from bus import correlation, tracing
from careeros_services.common import metrics
from gateway_flask import hardening, read_cache
from gateway_flask.idempotency import WRITE_METHODS
from gateway_flask.problems import PayloadTooLarge, UnsupportedMediaType
from gateway_flask.state import gateway_state, view_marker

F = TypeVar("F", bound=Callable)
_ACCEPTS_ATTR = "_careeros_accepts"
_MAX_BODY_ATTR = "_careeros_max_body"
_ANY_BODY_ATTR = "_careeros_any_body"


def accepts(*mimetypes: str) -> Callable[[F], F]:
    """Mark a view as taking request bodies of ``mimetypes`` instead of JSON.

    ``"image/*"`` style wildcards are allowed. For upload routes::

        @blp.route("/avatar", methods=["PUT"])
        @accepts("image/png", "image/jpeg")
        def put_avatar(): ...
    """
    def decorator(func: F) -> F:
        setattr(func, _ACCEPTS_ATTR, frozenset(m.lower() for m in mimetypes))
        return func
    return decorator


def max_body(limit: Callable[[], int]) -> Callable[[F], F]:
    """Let a view (an upload route) take bodies up to ``limit()`` bytes instead of the global
    ``gateway.max_body_bytes``; ``limit`` is read per request (from configuration)."""
    def decorator(func: F) -> F:
        setattr(func, _MAX_BODY_ATTR, limit)
        return func
    return decorator


def any_body(func: F) -> F:
    """Let a view take bodies of any media type, unparsed (the xAPI LRS: documents, multipart/mixed)."""
    setattr(func, _ANY_BODY_ATTR, True)
    return func


def install(app: Flask) -> None:
    """Register the gateway's before/after/teardown request hooks on ``app``."""
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_teardown)


def _before() -> Optional[Response]:
    cid = correlation.accept_or_new(request.headers.get(correlation.HEADER))
    g._careeros_cid, g._careeros_cid_token = cid, correlation.set(cid)
    g._careeros_started = time.perf_counter()
    _start_span(cid)
    state = gateway_state()
    hardening.resolve_client_address(state.trusted_proxies)
    hardening.check_url_length()
    state.limiter.check_request()
    hardening.check_params()
    _check_body()
    hit = read_cache.cached_response()
    return hit if hit is not None else state.idempotency.before_request()


def _after(response: Response) -> Response:
    response = gateway_state().idempotency.after_request(response)
    read_cache.store(response)
    response.headers[correlation.HEADER] = g.get("_careeros_cid") or correlation.get() or ""
    hardening.secure_headers(response, credentials=hardening.credentials_sent())
    route = request.url_rule.rule if request.url_rule else "unmatched"  # bounded label values
    labels = (route, request.method, str(response.status_code))
    metrics.HTTP_REQUESTS.labels(*labels).inc()
    started = g.get("_careeros_started")
    if started is not None:
        metrics.HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)
    return response


def _start_span(cid: str) -> None:
    """The request's server span: the root of the trace every service call joins."""
    span = tracing.tracer("careeros.gateway").start_span(
        f"{request.method} {request.url_rule.rule if request.url_rule else 'unmatched'}",
        context=tracing.extract_context(request.headers), kind=tracing.SpanKind.SERVER,
        attributes={"http.request.method": request.method, "careeros.correlation_id": cid})
    g._careeros_span = span
    g._careeros_span_token = otel_context.attach(trace.set_span_in_context(span))


def _end_span(exc: Optional[BaseException]) -> None:
    span, token = g.pop("_careeros_span", None), g.pop("_careeros_span_token", None)
    if span is None:
        return
    if exc is not None:
        span.record_exception(exc)
    span.end()
    try:
        otel_context.detach(token)
    except ValueError:
        pass


def _teardown(exc: Optional[BaseException]) -> None:
    _end_span(exc)
    gateway_state().idempotency.teardown(exc)
    token = g.pop("_careeros_cid_token", None)
    if token is not None:
        try:
            correlation.reset(token)
        except ValueError:  # set in another context (should not happen under WSGI)
            correlation.set(None)


def _check_body() -> None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    own_limit = view_marker(_MAX_BODY_ATTR) if request.url_rule is not None else None
    if own_limit is not None:
        limit = int(own_limit())
        request.max_content_length = limit  # Werkzeug enforces the same limit while reading
    # Checked up front so the 413 does not depend on who reads the body first.
    if limit is not None and (request.content_length or 0) > limit:
        _drain_body(request.content_length)
        raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
    if request.method not in WRITE_METHODS or request.url_rule is None or not _has_body():
        return
    if view_marker(_ANY_BODY_ATTR):
        return
    mimetype = request.mimetype.lower()
    accepted = view_marker(_ACCEPTS_ATTR)
    if accepted:
        if not any(_matches(mimetype, pattern) for pattern in accepted):
            raise UnsupportedMediaType(f"Content-Type must be one of: {', '.join(sorted(accepted))}.")
        hardening.check_upload(mimetype, request.get_data(cache=True))
        return
    if not _is_json(mimetype):
        raise UnsupportedMediaType("Content-Type must be application/json.")
    # Parsed here too so every route, with or without a schema, answers
    # malformed_json (and unsafe text) the same way (the body is cached for the view).
    hardening.check_json(request.get_data(cache=True))


DRAIN_MAX_BYTES = 4 * 1024 * 1024


def _drain_body(length: int) -> None:
    """Read and drop a refused body so the client reads our 413 instead of a reset
    connection; past DRAIN_MAX_BYTES the server just closes the connection."""
    if length > DRAIN_MAX_BYTES:
        return
    stream = request.environ.get("wsgi.input")
    while stream is not None and length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            return
        length -= len(chunk)


def _has_body() -> bool:
    return (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def _matches(mimetype: str, pattern: str) -> bool:
    return mimetype == pattern or (pattern.endswith("/*") and mimetype.startswith(pattern[:-1]))
