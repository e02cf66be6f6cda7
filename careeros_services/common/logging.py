"""JSON log lines with PII redaction, one format for every CareerOS process.

Usage (once, at process start)::

    from careeros_services.common.logging import configure_logging
    configure_logging("profile-service", level="INFO")

    log = logging.getLogger(__name__)
    log.info("login for %s", email, extra={"tenant_id": tenant_id})

Every line is one JSON object: ``ts``, ``level``, ``logger``, ``message``,
``service``, ``correlation_id`` and, inside a valid OpenTelemetry span,
``trace_id``/``span_id``; then ``exc_info`` and the caller's ``extra`` fields.

Redaction happens in a handler filter *after* ``%`` formatting, so secrets
passed as arguments are caught too. :func:`redact` is public so other code
(gateway error bodies, text sent to an external AI provider) can reuse it.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import IO, Any, Mapping, Optional

from opentelemetry import trace

from bus import correlation

REDACTED = "[REDACTED]"

# Marks the handler configure_logging installed, so a second call finds it
# instead of adding another one.
_MARK = "_careeros_json_handler"

# --- key-based redaction -----------------------------------------------------

# A key is sensitive when one of these words appears in it as a whole
# "_"-separated word ("user_email", "access_token", "X-Api-Key", "apiKey"),
# but not as part of another word ("prompt_tokens", "scorecard" stay visible).
_SENSITIVE_KEY = re.compile(
    r"(?:^|_)(password|passwd|secret|token|authorization|cookie|set_cookie|"
    r"api_key|apikey|email|phone|card|card_number|cvc|cvv)(?:_|$)"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_sensitive_key(key: Any) -> bool:
    """True when a mapping key names a secret or PII value (case-insensitive)."""
    if not isinstance(key, str):
        return False
    normalized = _CAMEL_BOUNDARY.sub("_", key).lower().replace("-", "_")
    return bool(_SENSITIVE_KEY.search(normalized))


# --- free-text redaction -----------------------------------------------------
# Each pattern starts with a look-behind so it is only tried at the start of a
# token: that keeps matching linear on long strings and stops matches from
# starting inside UUIDs, hex trace ids or other words.

_JWT = re.compile(r"(?<![\w-])eyJ[\w-]+\.[\w-]+\.[\w-]*")
# "password=..", "token: ..", '"api_key": "..."' inside messages or URLs.
_KEY_VALUE = re.compile(
    r"(?i)(?<![a-z0-9])(password|passwd|secret|token|api[_-]?key|authorization)"
    r"(\"?\s*[=:]\s*\"?)((?:bearer|basic)\s+)?[^\s&,;\"']+"
)
_BEARER = re.compile(r"(?i)(?<![\w-])(bearer)\s+[\w.~+/=-]+")
_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<![\w.+-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+.-])(\+)?(\(?\d[\d ().-]{6,}\d)(?![\w-])")
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _redact_card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return "[REDACTED_CARD]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else m.group(0)


def _redact_phone(m: re.Match) -> str:
    text, plus, body = m.group(0), m.group(1), m.group(2)
    digits = re.sub(r"\D", "", body)
    if not 9 <= len(digits) <= 15:  # E.164 allows at most 15 digits
        return text
    date = _ISO_DATE.search(text)
    if date:
        # "+00:00 2024-01-15 10:20" is a timestamp: keep it up to the date and
        # only look for phone numbers after it.
        return text[:date.end()] + _PHONE.sub(_redact_phone, text[date.end():])
    if not plus:
        # IPs and decimals also look like separated digits.
        if _IPV4.fullmatch(body) or re.fullmatch(r"\d+\.\d+", body):
            return text
        # A plain digit run is an id, count or timestamp unless it starts with
        # a trunk prefix "0" (e.g. 0612345678).
        if body.isdigit() and not body.startswith("0"):
            return text
    return "[REDACTED_PHONE]"


def redact_text(text: str) -> str:
    """Remove emails, JWTs, bearer tokens, ``key=secret`` pairs, card and phone numbers."""
    text = _JWT.sub("[REDACTED_JWT]", text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _EMAIL.sub("[REDACTED_EMAIL]", text)
    text = _CARD.sub(_redact_card, text)
    return _PHONE.sub(_redact_phone, text)


def redact(value: Any) -> Any:
    """Return a redacted copy of ``value``.

    Strings go through :func:`redact_text`; in dicts, values under sensitive
    keys (password, token, email, ...) become ``"[REDACTED]"`` and the rest are
    redacted recursively; lists and tuples are redacted item by item. Other
    values (numbers, None, ...) are returned unchanged.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_sensitive_key(k) and v is not None else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact(v) for v in value)
    return value


# --- logging plumbing --------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came from extra=.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "taskName",
}


def _extra_keys(record: logging.LogRecord) -> list[str]:
    return [k for k in record.__dict__ if k not in _STANDARD_ATTRS and not k.startswith("_")]


class RedactionFilter(logging.Filter):
    """Redacts a record in place before any handler formats it.

    The message is formatted with its (key-redacted) args first and then the
    final text is redacted, so ``log.info("login %s", email)`` is caught too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = redact(record.args)
        if isinstance(record.msg, (Mapping, list, tuple)):
            record.msg = redact(record.msg)
        try:
            message = record.getMessage()
        except Exception:  # bad format string: keep the line rather than raise in the caller
            message = f"{record.msg} (unformattable args: {record.args!r})"
        record.msg, record.args = redact_text(message), None
        for key in _extra_keys(record):
            value = record.__dict__[key]
            record.__dict__[key] = REDACTED if is_sensitive_key(key) and value is not None else redact(value)
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line (see module docstring)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "correlation_id": correlation.get(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            payload["trace_id"] = format(span_context.trace_id, "032x")
            payload["span_id"] = format(span_context.span_id, "016x")
        if record.exc_info:
            # Exception messages can carry PII too ("no user a@b.com").
            payload["exc_info"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            payload["stack_info"] = redact_text(self.formatStack(record.stack_info))
        for key in _extra_keys(record):
            payload.setdefault(key, record.__dict__[key])  # standard fields win
        # Unknown objects are stringified, and that text is redacted as well.
        return json.dumps(payload, default=lambda o: redact_text(str(o)))


def configure_logging(service: str, level: str = "INFO", stream: Optional[IO[str]] = None) -> None:
    """Install the JSON + redaction handler on the root logger.

    Idempotent: a second call reconfigures the existing handler (service,
    level, stream) instead of adding another. Other root handlers are left
    alone. ``stream`` defaults to ``sys.stderr``.
    """
    root = logging.getLogger()
    root.setLevel(level.upper())
    stream = stream if stream is not None else sys.stderr
    handler = next((h for h in root.handlers if getattr(h, _MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(stream)
        setattr(handler, _MARK, True)
        # A handler filter (not a logger filter) also sees records that
        # propagate up from child loggers.
        handler.addFilter(RedactionFilter())
        root.addHandler(handler)
    else:
        handler.setStream(stream)
    handler.setFormatter(JsonFormatter(service))
    logging.captureWarnings(True)  # warnings become JSON lines (logger py.warnings), not raw stderr text
