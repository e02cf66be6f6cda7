"""Through real Kafka: the analytics consumer group fills the read models, reports its lag per
topic, and `careeros analytics rebuild` replays the topics into fresh read models with equal results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest
from confluent_kafka import Producer
from prometheus_client import REGISTRY

from bus import contracts, kafka
from bus.consumer import EventConsumer
from careeros_services.common.caller import Caller
from careeros_services.analytics.service import AnalyticsService
from tests.analytics import support as ev
from tests.analytics.scenario import Scenario
from tests.polling import eventually

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("analytics")


@pytest.fixture(scope="module")
def service(store) -> AnalyticsService:
    return AnalyticsService(store, clock=lambda: NOW)


def produce(config: dict, envelopes: list[dict]) -> None:
    """Publish envelopes the way the outbox relay does (topic per aggregate, keyed by aggregate id)."""
    prefix = str(config["kafka"]["topic_prefix"])
    topics = {contracts.topic_for(e["type"], prefix) for e in envelopes}
    kafka.ensure_topics(config, sorted(topics | {contracts.dlq_topic(t) for t in topics}))
    producer = Producer(kafka.producer_config(config))
    for e in envelopes:
        headers = {"correlation_id": e["correlation_id"], "event_type": e["type"], "event_id": e["id"]}
        producer.produce(contracts.topic_for(e["type"], prefix), json.dumps(e).encode(),
                         key=e["aggregate_id"].encode(),
                         headers=[(k, v.encode()) for k, v in headers.items()])
    assert producer.flush(10) == 0


def claimed(store, event_ids: list[str]) -> int:
    with store.transaction(None) as tx:
        return tx.db.execute_sql("SELECT count(*) FROM inbox WHERE consumer = 'analytics'"
                                 " AND event_id = ANY(%s::uuid[])", (event_ids,)).fetchone()[0]


def reports(service: AnalyticsService, s: Scenario) -> dict:
    return {
        "a_overview": service.overview(Caller(s.tenant_a, s.olga, "owner"), "2026-03-01", "2026-03-14"),
        "a_month": service.overview(Caller(s.tenant_a, s.olga, "owner"), "2026-03-01", "2026-03-31"),
        "a_learners": service.learner_report(Caller(s.tenant_a, s.olga, "owner"), "2026-03-01", "2026-03-31"),
        "b_overview": service.overview(Caller(s.tenant_b, s.bea, "owner"), "2026-03-01", "2026-03-14"),
        "bob_csv": service.export_learners_csv(Caller(s.tenant_a, s.bob, "member"), "2026-03-01", "2026-03-31"),
    }


@pytest.fixture(scope="module")
def consumed(config, store, service):
    """The scenario published to Kafka and consumed by the analytics group, as in production."""
    scenario = Scenario()
    events = scenario.all_events()
    produce(config, events)
    topics = kafka.topics_for(config, AnalyticsService.subscribed_event_types())
    consumer = EventConsumer(config, kafka.group_id(config, "analytics"), topics, service.handle_events)
    consumer.start()
    try:
        deadline = time.monotonic() + 60
        while claimed(store, [e["id"] for e in events]) < len(events):
            assert time.monotonic() < deadline, "the analytics consumer did not apply every event"
            consumer.poll_once(timeout_s=0.2)
        consumer._last_lag = 0.0  # report now rather than in 5 s
        consumer._maybe_report_lag()
    finally:
        consumer.close()
    return scenario, consumer, events


def test_the_consumer_group_fills_the_read_models_from_kafka(service, consumed):
    scenario, _consumer, _events = consumed
    report = service.overview(Caller(scenario.tenant_a, scenario.olga, "owner"), "2026-03-01", "2026-03-14")
    assert report["active_learners"]["total"] == 2 and report["activity"]["time_spent_s"] == 1080
    assert report["enrollments"]["completion_rate_percent"] == 50
    assert report["quizzes"]["average_score_percent"] == 72
    assert report["ai_usage"]["cost_micro_usd"] == 1700
    learners = service.learner_report(Caller(scenario.tenant_a, scenario.olga, "owner"), "2026-03-01", "2026-03-14")
    assert [r["display_name"] for r in learners["learners"]] == ["Ann", "Bob", "Olga"]


def test_consumer_lag_is_exported_per_topic_and_partition_labelled_by_group(config, consumed):
    _scenario, consumer, events = consumed
    topic = contracts.topic_for("careeros.tracker.statement.recorded.v1",
                                str(config["kafka"]["topic_prefix"]))
    assert consumer.group == f"{config['kafka']['topic_prefix']}.analytics"
    lags = [REGISTRY.get_sample_value("careeros_consumer_lag", {
        "group": consumer.group, "topic": topic, "partition": str(p)})
        for p in range(int(config["kafka"]["partitions"]))]
    assert lags == [0.0] * len(lags)  # every partition reported, all consumed
    processed = REGISTRY.get_sample_value("careeros_events_consumed_total", {
        "group": consumer.group, "topic": topic, "outcome": "processed"})
    assert processed == sum(1 for e in events if e["type"] == "careeros.tracker.statement.recorded.v1")


def test_rebuild_replays_into_fresh_read_models_with_equal_results(config, store, service, consumed):
    scenario, _consumer, events = consumed
    before = reports(service, scenario)
    # A row that never came from Kafka: the rebuild must drop it.
    stray = ev.statement(scenario.tenant_a, scenario.ann, "2026-03-03T10:00", duration_s=999)
    assert service.handle_event(stray) is True
    assert reports(service, scenario) != before

    done = subprocess.run([sys.executable, "-m", "careeros_services.cli", "analytics", "rebuild"],
                          cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=180)

    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["group"].startswith(f"{config['kafka']['topic_prefix']}.analytics.rebuild.")
    assert summary["events"] >= len(events)
    assert reports(service, scenario) == before
    assert claimed(store, [e["id"] for e in events]) == len(events)
    assert claimed(store, [stray["id"]]) == 0  # its inbox claim went with the truncation


def test_rebuild_while_the_live_group_keeps_consuming(config, store, service, consumed):
    """The live group applies new events while the rebuild truncates and replays: nothing is lost
    or doubled, because the inbox is truncated with the tables and the fact writers commute."""
    from careeros_services.analytics.rebuild import rebuild

    scenario, _consumer, _events = consumed
    before = reports(service, scenario)
    topics = kafka.topics_for(config, AnalyticsService.subscribed_event_types())
    live = EventConsumer(config, kafka.group_id(config, "analytics"), topics, service.handle_events)
    live.start()
    stop = threading.Event()

    def keep_consuming() -> None:
        while not stop.is_set():
            live.poll_once(timeout_s=0.1)

    worker = threading.Thread(target=keep_consuming, daemon=True)
    worker.start()
    try:
        # A probe event applied by the live group shows it has joined: it will race the replay.
        probe = ev.statement(ev.new_id(), ev.new_id(), "2026-03-03T10:00")
        produce(config, [probe])
        eventually(lambda: claimed(store, [probe["id"]]), what="the live consumer to start", timeout_s=60)
        second = Scenario()
        second_events = second.all_events()
        produce(config, second_events)

        summary = rebuild(config, service=AnalyticsService(store, clock=lambda: NOW), timeout_s=120)

        assert summary["events"] >= len(second_events)
        eventually(lambda: claimed(store, [e["id"] for e in second_events]) >= len(second_events),
                   what="the live consumer to catch up", timeout_s=60)
    finally:
        stop.set()
        worker.join(10)
        live.close()

    assert reports(service, scenario) == before
    # The second month has the same shape as the first: the same figures under its own ids.
    for name in ("a_overview", "a_month", "b_overview"):
        assert {**reports(service, second)[name], "tenant_id": "-"} == {**before[name], "tenant_id": "-"}


def test_rebuild_also_empties_and_refills_a_tenant_moved_to_its_own_schema(config, store, service, consumed):
    from bus.store import migrations
    from careeros_services.common import tenant_schemas

    scenario, _consumer, events = consumed
    before = reports(service, scenario)
    moved = tenant_schemas.isolate(config, "analytics", scenario.tenant_b,
                                   migrations("careeros_services.analytics"))
    assert moved["rows"]["statements"] == 1
    assert reports(service, scenario) == before  # read from B's schema now
    stray = ev.statement(scenario.tenant_b, scenario.bea, "2026-03-03T10:00", duration_s=999)
    assert service.handle_event(stray) is True  # written into B's schema
    assert reports(service, scenario)["b_overview"] != before["b_overview"]

    from careeros_services.analytics.rebuild import rebuild
    rebuild(config, service=AnalyticsService(store, clock=lambda: NOW), timeout_s=120)

    assert reports(service, scenario) == before
