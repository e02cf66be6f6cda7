"""The correlation id of the request or event being handled.

Made at the gateway (or accepted from a well-formed ``X-Correlation-ID``),
carried in gRPC metadata (``x-correlation-id``), nameko context data
(``correlation_id``) and Kafka headers (``correlation_id``), and written into
every log line. A ContextVar is per thread and, under eventlet, per greenlet.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Optional

from bus import ids

HEADER = "X-Correlation-ID"
GRPC_METADATA_KEY = "x-correlation-id"
KAFKA_HEADER = "correlation_id"

# Accept what well-behaved clients send (UUIDs, ULIDs, trace ids) and nothing
# that could smuggle log-injection or oversized values.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")

_current: ContextVar[Optional[str]] = ContextVar("careeros_correlation_id", default=None)


def new_id() -> str:
    return str(ids.uuid4())


def is_well_formed(value: Optional[str]) -> bool:
    return bool(value) and bool(_WELL_FORMED.match(value))


def accept_or_new(value: Optional[str]) -> str:
    """The client's id when it is well formed, otherwise a fresh one."""
    return value if is_well_formed(value) else new_id()


def get() -> Optional[str]:
    return _current.get()


def set(value: Optional[str]):  # noqa: A001 - mirrors ContextVar.set
    return _current.set(value)


def reset(token) -> None:
    _current.reset(token)


@contextmanager
def bound(value: Optional[str]) -> Iterator[str]:
    """Run a block with ``value`` (or a fresh id) as the correlation id."""
    value = value or new_id()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
