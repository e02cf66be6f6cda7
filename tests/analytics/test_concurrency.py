"""Partitions are handled concurrently (nameko runs each partition's batch in its own worker): batches
touching the same shared rows (a learner's day, a tenant's event tally) must neither deadlock nor
lose an increment."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from careeros_services.common.caller import Caller
from careeros_services.analytics.service import AnalyticsService
from tests.analytics import support as ev
from tests.concurrency import deadlocks, run_at_once

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def service(fresh_store) -> AnalyticsService:
    return AnalyticsService(fresh_store("analytics"), clock=lambda: NOW)


def test_concurrent_batches_in_opposite_orders_all_apply(service):
    tenant, owner = ev.new_id(), ev.new_id()
    users = [ev.new_id() for _ in range(40)]
    rounds = 3
    batches = []
    for _ in range(rounds):
        forward = [ev.statement(tenant, u, f"2026-03-0{2 + i % 3}T10:00", duration_s=10)
                   for i, u in enumerate(users)]
        # the same learners' days as `forward`, in the opposite order
        backward = [ev.statement(tenant, u, f"2026-03-0{2 + i % 3}T11:00", duration_s=5)
                    for i, u in reversed(list(enumerate(users)))]
        batches += [forward, backward]
    deadlocks_before = deadlocks(service.store)
    results = run_at_once([lambda batch=batch: service.handle_events(batch) for batch in batches])

    failures = [r for batch in results for r in batch if r is not True]
    assert failures == []
    assert deadlocks(service.store) == deadlocks_before  # none had to be broken up and retried
    report = service.overview(Caller(tenant, owner, "owner"), "2026-03-01", "2026-03-14")
    assert report["activity"] == {"statements": 2 * rounds * len(users),
                                  "time_spent_s": 15 * rounds * len(users)}
    assert report["active_learners"]["total"] == len(users)
    assert report["events"] == [{"event_type": "careeros.tracker.statement.recorded.v1",
                                 "events": 2 * rounds * len(users)}]
