"""RFC 9457 ``application/problem+json`` bodies for every error the gateway returns.

A problem has ``type``, ``title``, ``status``, ``code`` (stable, machine
readable), ``detail`` and ``correlation_id``; validation problems add
``errors``: ``{field: [messages]}``. Views raise :class:`DomainError`
subclasses (or errors rebuilt from gRPC trailers); werkzeug's HTTP errors and
webargs' validation errors are translated here; anything else becomes a 500
``internal_error`` whose traceback goes to the log, never to the client.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Optional

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from bus import correlation
from careeros_services.common.errors import Conflict, DomainError, Unavailable, ValidationFailed

log = logging.getLogger(__name__)

MIMETYPE = "application/problem+json"
TYPE_BASE = "https://careeros.dev/problems/"


# --- gateway-only errors (the shared table lives in careeros_services.common.errors)

class MalformedJson(DomainError):
    code, status, title = "malformed_json", 400, "Malformed JSON"


class PayloadTooLarge(DomainError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class UnsupportedMediaType(DomainError):
    code, status, title = "unsupported_media_type", 415, "Unsupported media type"


class InvalidIdempotencyKey(DomainError):
    code, status, title = "invalid_idempotency_key", 400, "Invalid Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    code, status, title = "idempotency_key_reused", 422, "Idempotency-Key reused"


class IdempotencyInFlight(Conflict):
    code, title = "idempotency_in_flight", "Request with this Idempotency-Key in progress"


class NotReady(Unavailable):
    code, title = "not_ready", "Not ready"


# Codes for werkzeug's HTTP errors; others get a snake_case of their name.
HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited",
    500: "internal_error", 503: "unavailable",
}


def problem_response(status: int, code: str, title: str, detail: str, *,
                     errors: Optional[Mapping[str, list[str]]] = None,
                     headers: Optional[Mapping[str, str]] = None) -> Response:
    """Build a ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code, "title": title, "status": status, "code": code,
        "detail": detail, "correlation_id": correlation.get(),
    }
    if errors:
        body["errors"] = dict(errors)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MIMETYPE)
    response.headers.update(headers or {})
    return response


def flatten_messages(messages: Any) -> dict[str, list[str]]:
    """Flatten webargs error messages into ``{"a.b.0.c": [msg, ...]}``.

    webargs nests messages under their location (``{"json": {...}}``); the
    location is dropped because clients map errors onto their own fields, and a
    body and a query string rarely share a field name (if they do, the
    messages are merged). Schema-level errors stay under ``_schema``.
    """
    out: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}" if path else str(key))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item, path)
        else:
            out.setdefault(path or "_schema", []).append(str(value))

    if isinstance(messages, Mapping):
        for location, sub in messages.items():
            # {"json": ["Invalid input type."]} has no field: keep the location.
            walk(sub, "" if isinstance(sub, Mapping) else str(location))
    else:
        walk(messages, "")
    return out


def handle_domain_error(exc: DomainError) -> Response:
    """Render a :class:`DomainError` (status, code, fields, retry_after)."""
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.retry_after is not None:
        headers["Retry-After"] = str(int(exc.retry_after))
    if exc.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    if exc.status >= 500:
        log.warning("domain error %s: %s", exc.code, exc.detail)
    return problem_response(exc.status, exc.code, exc.title, exc.detail,
                            errors=exc.fields, headers=headers)


def handle_http_exception(exc: HTTPException) -> Response:
    """Render werkzeug's HTTP errors, including webargs' 422 from flask-smorest."""
    status = exc.code or 500
    code = HTTP_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    data = getattr(exc, "data", None) or {}
    errors = flatten_messages(data["messages"]) if "messages" in data else None
    # Keep werkzeug's extra headers (Allow on 405) but not its text/html Content-Type.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    title, detail = exc.name, exc.description or exc.name
    if status == 422:  # same wording as a ValidationFailed raised by a service
        title, detail = ValidationFailed.title, "The request body or parameters are invalid."
    if status >= 500:
        detail = "The server could not complete the request."
    return problem_response(status, code, title, detail, errors=errors, headers=headers)


def handle_unexpected(exc: Exception) -> Response:
    """Log an unexpected exception and answer a bare 500 problem."""
    if isinstance(exc, HTTPException):  # Flask routes these here only when nothing else matched
        return handle_http_exception(exc)
    log.exception("unhandled exception in %s", type(exc).__name__)
    return problem_response(500, "internal_error", "Internal server error",
                            "The server could not complete the request.")


def register(app: Flask) -> None:
    """Install the problem handlers on ``app`` (most specific class wins in Flask)."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


__all__ = [
    "MIMETYPE", "MalformedJson", "PayloadTooLarge", "UnsupportedMediaType", "InvalidIdempotencyKey",
    "IdempotencyKeyReused", "IdempotencyInFlight", "NotReady",
    "problem_response", "flatten_messages", "register",
]
