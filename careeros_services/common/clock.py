"""The one clock every service reads "now" from.

A service takes a ``Clock`` in its constructor (default: :func:`system_clock`)
so a test can decide what time it is instead of sleeping until something
expires. A clock is any callable returning an aware UTC ``datetime``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(timezone.utc)


class MovedClock:
    """A clock that stands still until moved (tests, drills): ``clock.advance(seconds=2)``.

    Without a start it starts at the wall clock's now, so tokens it stamps are
    also valid for code that still reads the wall clock.
    """

    def __init__(self, start: Optional[datetime] = None):
        self.now = start or system_clock()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def timestamp(self) -> float:
        """Seconds since the epoch, for code that counts in POSIX time (JWT ``iat``/``exp``)."""
        return self.now.timestamp()
