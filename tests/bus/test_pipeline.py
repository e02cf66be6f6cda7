"""The event pipeline on real PostgreSQL and the Kafka-compatible broker:
outbox → relay → Kafka → consumer → inbox-guarded handler, plus the DLQ."""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer
from prometheus_client import REGISTRY

from bus import contracts, kafka
from bus.consumer import EventConsumer
from bus.dlq import DeadLetters
from bus.relay import OutboxRelay
from bus.store import ServiceStore
from careeros_services import cli
from careeros_services.common import infra
from tests.bus.demo import EVENT, DemoService, payload
from tests.polling import eventually

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def env(config, fresh_store):
    """A demo service with its own topic prefix (so earlier tests' events stay out)."""
    base = fresh_store("busdemo", package="tests.bus.demo")
    cfg = copy.deepcopy(config)
    cfg["kafka"]["topic_prefix"] = f"bus{uuid.uuid4().hex[:8]}"
    cfg["kafka"]["max_attempts"] = 3
    cfg["kafka"]["retry_backoff_s"] = 0.01
    store = ServiceStore("busdemo", base.database, cfg["kafka"]["topic_prefix"])
    with store.transaction() as tx:
        for table in ("effects", "inbox", "outbox"):
            tx.db.execute_sql(f"DELETE FROM {table}")
    return cfg, store, DemoService(store)


def publish(store: ServiceStore, n: int, aggregates: int = 10, name: str = "demo") -> list[dict]:
    envelopes = []
    for i in range(n):
        tenant = str(uuid.uuid4())
        with store.transaction(tenant) as tx:
            envelopes.append(tx.publish(EVENT, aggregate_id=f"agg-{i % aggregates}",
                                        payload=payload(tenant, str(uuid.uuid4()), name)))
    return envelopes


def consume_until(consumer: EventConsumer, done, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for the consumer"
        consumer.poll_once(timeout_s=0.2)


def make_consumer(cfg: dict, demo: DemoService, group: str | None = None) -> EventConsumer:
    consumer = EventConsumer(cfg, group or f"{cfg['kafka']['topic_prefix']}.demo",
                             kafka.topics_for(cfg, [EVENT]), demo.handle_events)
    consumer.start()
    return consumer


def outcomes(consumer: EventConsumer, outcome: str) -> float:
    """How many events this consumer's group has counted with ``outcome`` (Prometheus)."""
    return REGISTRY.get_sample_value("careeros_events_consumed_total", {
        "group": consumer.group, "topic": consumer.topics[0], "outcome": outcome}) or 0


def unsent(store: ServiceStore) -> int:
    with store.transaction() as tx:
        return tx.db.execute_sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]


def test_committed_events_arrive_once_in_per_aggregate_order(env):
    cfg, store, demo = env
    sent = publish(store, 200, aggregates=7)
    relay = OutboxRelay(cfg, "busdemo")
    relay.connect()
    assert relay.publish_pending() == 200
    assert unsent(store) == 0

    consumer = make_consumer(cfg, demo)
    try:
        consume_until(consumer, lambda: len(demo.effects()) >= 200)
        consumer._last_lag = 0.0  # report now rather than in 5 s
        consumer._maybe_report_lag()
        lags = [REGISTRY.get_sample_value("careeros_consumer_lag", {
            "group": consumer.group, "topic": consumer.topics[0], "partition": str(p)}) for p in range(3)]
        assert lags == [0.0, 0.0, 0.0]  # everything consumed, per partition
        # A redelivered event (same envelope) changes nothing.
        raw = Producer(kafka.producer_config(cfg))
        raw.produce(kafka.topics_for(cfg, [EVENT])[0], json.dumps(sent[0]).encode(), key=b"agg-0")
        raw.flush(10)
        consume_until(consumer, lambda: outcomes(consumer, "duplicate") == 1)
    finally:
        consumer.close()
        relay.conn.close()

    effects = demo.effects()
    assert sorted(e[0] for e in effects) == sorted(e["id"] for e in sent)  # each exactly once
    for aggregate in {e["aggregate_id"] for e in sent}:
        published_order = [e["id"] for e in sent if e["aggregate_id"] == aggregate]
        applied_order = [e[0] for e in effects if e[1] == aggregate]
        assert applied_order == published_order


def test_a_transaction_committing_after_a_later_id_is_not_skipped(env):
    cfg, store, demo = env
    inside, release = threading.Event(), threading.Event()
    slow: list[dict] = []

    def slow_writer():
        tenant = str(uuid.uuid4())
        with store.transaction(tenant) as tx:
            slow.append(tx.publish(EVENT, aggregate_id="slow", payload=payload(tenant, str(uuid.uuid4()))))
            inside.set()
            release.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    inside.wait(10)
    fast = publish(store, 1)  # gets a higher outbox id but commits first
    relay = OutboxRelay(cfg, "busdemo")
    relay.connect()
    try:
        assert relay.publish_pending() == 1
        release.set()
        writer.join()
        assert relay.publish_pending() == 1
    finally:
        relay.conn.close()
    consumer = make_consumer(cfg, demo)
    try:
        consume_until(consumer, lambda: len(demo.effects()) >= 2)
    finally:
        consumer.close()
    assert {e[0] for e in demo.effects()} == {slow[0]["id"], fast[0]["id"]}


RELAY_SCRIPT = """
import sys, threading, time
from bus.relay import OutboxRelay
from careeros_services.common.config import load_config
cfg = load_config()
cfg["kafka"]["topic_prefix"] = sys.argv[1]
cfg["outbox"]["batch_size"] = 50
def on_batch(n):
    print("produced", n, flush=True)
    time.sleep(0.2)  # widen the produced-but-not-yet-marked window
OutboxRelay(cfg, "busdemo", on_batch=on_batch).run(threading.Event())
"""


def start_relay_process(cfg: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RELAY_SCRIPT, cfg["kafka"]["topic_prefix"]],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})


def test_relay_killed_mid_batch_loses_nothing_and_applies_once(env):
    cfg, store, demo = env
    total = 1000
    sent = publish(store, total, aggregates=25)
    relay = start_relay_process(cfg)
    for _ in range(3):  # let a few batches go out, then kill inside the next one
        assert relay.stdout.readline().startswith("produced")
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    assert 0 < unsent(store) < total  # it really died mid-way

    relay = start_relay_process(cfg)
    try:
        eventually(lambda: not unsent(store), what="the relay to send the rows", timeout_s=60)
    finally:
        relay.kill()
        relay.wait()
    consumer = make_consumer(cfg, demo)
    try:
        consume_until(consumer, lambda: len(demo.effects()) >= total)
        consumer.poll_once(timeout_s=1)  # any re-sent duplicates are consumed too
    finally:
        consumer.close()
    effects = [e[0] for e in demo.effects()]
    assert len(effects) == total and set(effects) == {e["id"] for e in sent}


def with_own_broker(cfg: dict) -> tuple[dict, int, subprocess.Popen]:
    """A copy of ``cfg`` on a broker of its own (for a test that stops or restarts it): the copy,
    the broker's port and its process."""
    port = infra.free_port()
    cfg = copy.deepcopy(cfg)
    cfg["kafka"]["bootstrap_servers"] = f"127.0.0.1:{port}"
    cfg["kafka"]["flush_timeout_s"] = 2  # while it is down, the relay gives a batch up (and retries it) sooner
    return cfg, port, infra.start_embedded_broker(port)


def test_writes_committed_while_the_broker_is_down_arrive_after_it_returns(env):
    cfg, store, demo = env
    cfg, port, broker = with_own_broker(cfg)
    stop = threading.Event()
    relay = OutboxRelay(cfg, "busdemo")
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        publish(store, 5)
        eventually(lambda: not unsent(store), what="the relay to send the rows")
        infra.stop_process(broker)  # memory-only: everything on it is gone
        while_down = publish(store, 50)
        eventually(lambda: REGISTRY.get_sample_value("careeros_outbox_backlog", {"service": "busdemo"}) == 50,
                   what="the backlog metric to show the stuck rows", timeout_s=15)
        assert unsent(store) == 50
        broker = infra.start_embedded_broker(port)
        eventually(lambda: not unsent(store), what="the relay to recover after the broker returned", timeout_s=60)
        consumer = make_consumer(cfg, demo)
        try:
            consume_until(consumer, lambda: {e["id"] for e in while_down} <= {e[0] for e in demo.effects()})
        finally:
            consumer.close()
    finally:
        stop.set()
        thread.join(10)
        infra.stop_process(broker)


def read_all(cfg: dict, topic: str, expect: int, timeout_s: float = 30) -> list:
    consumer = Consumer(kafka.consumer_config(cfg, f"reader-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    messages, deadline = [], time.monotonic() + timeout_s
    try:
        while len(messages) < expect and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                messages.append(msg)
    finally:
        consumer.close()
    return messages


def test_failing_handler_goes_to_dlq_then_replay_processes_it_once(env, capsys, monkeypatch):
    cfg, store, demo = env
    demo.failing_names = {"poison"}
    good = publish(store, 2)
    poison = publish(store, 1, name="poison")[0]
    relay = OutboxRelay(cfg, "busdemo")
    relay.connect()
    relay.publish_pending()
    relay.conn.close()
    topic = kafka.topics_for(cfg, [EVENT])[0]

    consumer = make_consumer(cfg, demo)
    try:
        consume_until(consumer, lambda: len(demo.effects()) >= 2)
        [dead] = read_all(cfg, contracts.dlq_topic(topic), expect=1)
        headers = {k: v.decode() for k, v in dead.headers()}
        assert json.loads(dead.value())["id"] == poison["id"]
        assert headers["dlq_original_topic"] == topic
        assert headers["dlq_consumer_group"] == consumer.group
        assert headers["dlq_attempts"] == "3"
        assert "demo handler refuses poison" in headers["dlq_exception"]
        assert int(headers["dlq_original_offset"]) >= 0 and "dlq_original_partition" in headers
        assert {e[0] for e in demo.effects()} == {e["id"] for e in good}

        dead_letters = DeadLetters(cfg)
        listed = [e.summary() for e in dead_letters.read()]
        assert [e["event_id"] for e in listed] == [poison["id"]]
        # The operator's view of the same thing: `careeros dlq list` and `show`.
        monkeypatch.setenv("KAFKA_TOPIC_PREFIX", cfg["kafka"]["topic_prefix"])
        cli.main(["dlq", "list"])
        [line] = capsys.readouterr().out.strip().splitlines()
        assert json.loads(line)["event_id"] == poison["id"] and json.loads(line)["attempts"] == "3"
        cli.main(["dlq", "show", listed[0]["ref"]])
        shown = json.loads(capsys.readouterr().out)
        assert json.loads(shown["value"])["id"] == poison["id"] and shown["original_topic"] == topic

        demo.failing_names.clear()  # the fix is deployed
        assert dead_letters.replay_all() == 1
        assert list(dead_letters.read()) == []  # nothing pending after a replay-all
        consume_until(consumer, lambda: len(demo.effects()) >= 3)
        # Replaying the same entry again is harmless: the inbox has it.
        dead_letters.replay([dead_letters.find(listed[0]["ref"])])
        consume_until(consumer, lambda: outcomes(consumer, "duplicate") == 1)
    finally:
        consumer.close()
    ids = [e[0] for e in demo.effects()]
    assert ids.count(poison["id"]) == 1 and len(ids) == 3


def test_invalid_messages_go_to_the_dlq_with_the_reason_never_to_a_handler(env):
    cfg, store, demo = env
    topic = kafka.topics_for(cfg, [EVENT])[0]
    kafka.ensure_topics(cfg, [topic, contracts.dlq_topic(topic)])
    bad_payload = publish(store, 1)[0]
    bad_payload["payload"]["kind"] = "not-a-kind"
    producer = Producer(kafka.producer_config(cfg))
    producer.produce(topic, b"{not json", key=b"x")
    producer.produce(topic, json.dumps(bad_payload).encode(), key=b"y")
    producer.produce(topic, json.dumps({"id": "no"}).encode(), key=b"z")
    producer.flush(10)

    consumer = make_consumer(cfg, demo)
    try:
        consume_until(consumer, lambda: outcomes(consumer, "invalid") == 3)
    finally:
        consumer.close()
    dead = read_all(cfg, contracts.dlq_topic(topic), expect=3)
    reasons = sorted({k: v.decode() for k, v in m.headers()}["dlq_exception"] for m in dead)
    assert len(reasons) == 3 and all(r.startswith("invalid:") for r in reasons)
    assert any("not JSON" in r for r in reasons) and any("kind" in r for r in reasons)
    assert demo.effects() == []
