"""For tests that run writers at once against one database: start them together, count deadlocks."""
from __future__ import annotations

import threading
from typing import Any, Callable


def deadlocks(store) -> int:
    """Deadlocks PostgreSQL has detected (and broken up) in ``store``'s database so far."""
    with store.transaction(None) as tx:
        return tx.db.execute_sql("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                                 ).fetchone()[0]


def run_at_once(calls: list[Callable[[], Any]], timeout_s: float = 60) -> list[Any]:
    """Run every call in its own thread, released together; their results in order."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    return results
