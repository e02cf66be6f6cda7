"""How tests wait for what happens asynchronously (an event handled, a process up, an e-mail sent)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


def eventually(fetch: Callable[[], T], ok: Optional[Callable[[T], object]] = None, *,
               what: str = "the condition", timeout_s: float = 30.0, every_s: float = 0.2,
               log_dir: Optional[Path] = None) -> T:
    """Call ``fetch`` until ``ok(value)`` holds (without ``ok``: until the value is truthy); return it.

    After ``timeout_s`` fail naming ``what`` and the last value, with the tail of every log in
    ``log_dir`` when given (a platform's processes).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if (ok(value) if ok is not None else value):
            return value
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                           for p in sorted(log_dir.glob("*.log"))) if log_dir else ""
            raise AssertionError(f"timed out waiting for {what}; last: {value!r}"[:2000] + logs)
        time.sleep(every_s)
