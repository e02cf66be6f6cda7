"""JSON log format and PII redaction (careeros_services.common.logging)."""
from __future__ import annotations

import io
import json
import logging

import pytest

from bus import correlation, tracing
from careeros_services.common import logging as clog

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl_-x"


@pytest.fixture
def stream():
    """Configure logging into a StringIO; remove the handler afterwards."""
    root = logging.getLogger()
    old_level = root.level
    buf = io.StringIO()
    clog.configure_logging("test-svc", level="DEBUG", stream=buf)
    yield buf
    for handler in [h for h in root.handlers if getattr(h, clog._MARK, False)]:
        root.removeHandler(handler)
    root.setLevel(old_level)


def lines(buf: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def last(buf: io.StringIO) -> dict:
    return lines(buf)[-1]


log = logging.getLogger("tests.logging")


def test_line_is_json_with_standard_fields(stream):
    log.warning("hello %s", "world")
    line = last(stream)
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.logging"
    assert line["service"] == "test-svc"
    assert line["ts"].endswith("Z") and "T" in line["ts"]
    assert line["correlation_id"] is None
    assert "trace_id" not in line and "span_id" not in line


def test_correlation_id_is_written(stream):
    with correlation.bound("corr-1234567890") as cid:
        log.info("inside")
    assert last(stream)["correlation_id"] == cid == "corr-1234567890"


def test_trace_and_span_ids_from_current_span(stream):
    tracing.configure_tracing("test-svc")
    with tracing.tracer("t").start_as_current_span("work") as span:
        log.info("traced")
    ctx = span.get_span_context()
    line = last(stream)
    assert line["trace_id"] == format(ctx.trace_id, "032x")
    assert line["span_id"] == format(ctx.span_id, "016x")


@pytest.mark.parametrize("secret", [
    "jane.doe+jobs@example.co.uk",                      # email
    JWT,                                                # JWT
    "+44 20 7946 0958", "+14155552671", "(415) 555-2671", "06 12 34 56 78", "0612345678",  # phones
    "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005",  # cards
])
def test_pii_in_args_is_redacted_after_formatting(stream, secret):
    log.info("user said %s today", secret)
    raw = stream.getvalue()
    assert secret not in raw
    assert "[REDACTED" in last(stream)["message"]
    assert last(stream)["message"].startswith("user said [REDACTED")


def test_bearer_and_key_value_secrets_in_text(stream):
    log.info("Authorization: Bearer abc.def-ghi; retry with token=s3cr3t&x=1 and password: hunter2")
    message = last(stream)["message"]
    for secret in ("abc.def-ghi", "s3cr3t", "hunter2"):
        assert secret not in message
    assert "Bearer [REDACTED]" in message
    assert "&x=1" in message


@pytest.mark.parametrize("value", [
    "550e8400-e29b-41d4-a716-446655440000",      # uuid
    "12345678-1234-1234-1234-123456789012",      # all-digit uuid
    "2024-01-15", "2024-01-15T10:20:30.123+00:00", "2024-01-15 10:20:30",
    "42", "1234567", "1700000000",               # ordinary integers, epoch seconds
    "192.168.100.200", "3.14159265",
    "1234567812345678",                          # 16 digits failing Luhn
    "4bf92f3577b34da6a3ce929d0e0e4736",          # trace id
])
def test_ordinary_values_are_not_redacted(stream, value):
    log.info("value %s end", value)
    assert last(stream)["message"] == f"value {value} end"


def test_sensitive_keys_in_dict_args(stream):
    log.info("payload %s", {"password": "hunter2", "Access_Token": "abc", "name": "Jane"})
    log.info("login %(email)s from %(ip)s", {"email": "plain-value", "ip": "10.0.0.1"})
    first, second = lines(stream)[-2:]
    assert "hunter2" not in first["message"] and "abc" not in first["message"]
    assert "Jane" in first["message"]
    assert second["message"] == "login [REDACTED] from 10.0.0.1"


def test_nested_extras_are_redacted(stream):
    log.info("signup", extra={
        "tenant_id": "t-1",
        "prompt_tokens": 512,
        "user": {"email": "x@y.io", "name": "Jane",
                 "contact": [{"phoneNumber": "0612345678"}, {"note": "call +14155552671"}]},
        "headers": {"Authorization": "Bearer zzz", "X-Api-Key": "k", "Set-Cookie": "sid=1"},
        "card_number": "4111111111111111",
        "comment": "mail me at a@b.com",
    })
    line = last(stream)
    assert line["tenant_id"] == "t-1"
    assert line["prompt_tokens"] == 512                  # "tokens" is not "token"
    assert line["card_number"] == "[REDACTED]"
    assert line["user"]["email"] == "[REDACTED]"
    assert line["user"]["name"] == "Jane"
    assert line["user"]["contact"][0]["phoneNumber"] == "[REDACTED]"
    assert line["user"]["contact"][1]["note"] == "call [REDACTED_PHONE]"
    assert set(line["headers"].values()) == {"[REDACTED]"}
    assert line["comment"] == "mail me at [REDACTED_EMAIL]"


def test_exception_is_logged_as_json_and_redacted(stream):
    try:
        raise ValueError("no account for bob@example.com")
    except ValueError:
        log.exception("lookup failed")
    line = last(stream)
    assert line["level"] == "ERROR"
    assert line["message"] == "lookup failed"
    assert "Traceback" in line["exc_info"] and "ValueError" in line["exc_info"]
    assert "bob@example.com" not in stream.getvalue()


def test_bad_format_args_do_not_raise(stream):
    log.info("two %s %s", "only-one")
    assert "only-one" in last(stream)["message"]


def test_configure_logging_is_idempotent(stream):
    buf = io.StringIO()
    clog.configure_logging("test-svc", stream=buf)
    clog.configure_logging("other-svc", stream=buf)
    ours = [h for h in logging.getLogger().handlers if getattr(h, clog._MARK, False)]
    assert len(ours) == 1
    log.info("once")
    assert [line["message"] for line in lines(buf)] == ["once"]
    assert last(buf)["service"] == "other-svc"


def test_redact_helper_on_plain_structures():
    assert clog.redact({"Password": "x", "items": ["a@b.com", 3], "t": ("0612345678",)}) == {
        "Password": "[REDACTED]", "items": ["[REDACTED_EMAIL]", 3], "t": ("[REDACTED_PHONE]",)}
    assert clog.redact(7) == 7
