"""A broker that forgets everything, and a producer that fails for good: nothing is lost.

Real PostgreSQL and the real embedded (memory-only) broker, SIGKILLed and started again on
the same port with a new cluster id, as `make run`'s supervisor does after a crash.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from prometheus_client import REGISTRY

from bus import kafka
from bus.consumer import EventConsumer
from bus.relay import OutboxRelay
from careeros_services.common import infra
from tests.bus.demo import EVENT
from tests.bus.test_pipeline import (  # noqa: F401 - env is a fixture
    consume_until, env, make_consumer, publish, unsent, with_own_broker)
from tests.polling import eventually

SERVICE = "busdemo"


def run_relay(relay: OutboxRelay) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def kill_broker(broker) -> None:
    broker.kill()  # SIGKILL, by its id: only the broker this test started
    broker.wait(10)


def test_events_the_broker_acknowledged_then_forgot_are_applied_once_after_it_restarts(env, caplog):
    cfg, store, demo = env
    cfg, port, broker = with_own_broker(cfg)
    relay = OutboxRelay(cfg, SERVICE)
    thread, stop = run_relay(relay)
    consumer = make_consumer(cfg, demo)
    republished = REGISTRY.get_sample_value("careeros_outbox_republished_total", {"service": SERVICE}) or 0
    try:
        applied = publish(store, 30)
        consume_until(consumer, lambda: len(demo.effects()) == 30)
        # Older than the retention window: these are not sent again, so after the restart the
        # consumer's old positions point into the middle of the new, shorter log.
        with store.transaction() as tx:
            tx.db.execute_sql("UPDATE outbox SET sent_at = now() - interval '1000 hours'")
        acknowledged = publish(store, 40)
        eventually(lambda: unsent(store) == 0, what="the relay to mark the rows sent")   # acked, not consumed
        kill_broker(broker)
        broker = infra.start_embedded_broker(port)
        after = publish(store, 10)
        # Everything is on the new broker before the consumer polls again: its old positions
        # now point inside the new log (it would skip what lies before them).
        eventually(lambda: (REGISTRY.get_sample_value("careeros_outbox_republished_total", {"service": SERVICE})
                            or 0) > republished and unsent(store) == 0, what="the relay to publish again")
        expected = {e["id"] for e in applied + acknowledged + after}
        with caplog.at_level(logging.WARNING):
            consume_until(consumer, lambda: {e[0] for e in demo.effects()} >= expected, timeout_s=60)
            for _ in range(5):
                consumer.poll_once(timeout_s=0.2)  # re-sent duplicates arrive and are dropped
        effects = [e[0] for e in demo.effects()]
        assert sorted(effects) == sorted(expected)  # each applied exactly once
        assert (REGISTRY.get_sample_value("careeros_outbox_republished_total", {"service": SERVICE})
                - republished) == 40  # the rows sent within keep_sent_hours
        assert thread.is_alive()
        unknown = [r for r in caplog.records if "UNKNOWN_TOPIC" in r.getMessage()]
        assert len(unknown) <= 1, "missing topics must be waited for quietly"
        assert any("is new" in r.getMessage() for r in caplog.records)
    finally:
        consumer.close()
        stop.set()
        thread.join(10)
        infra.stop_process(broker)


class FatalOnFirstFlush:
    """A real producer whose first flush() fails as librdkafka does when a restarted broker
    forgot the idempotent producer's id (after the messages went out: they are sent twice)."""

    def __init__(self, producer: Producer, fail: bool):
        self.producer, self.fail = producer, fail

    def flush(self, *args):
        remaining = self.producer.flush(*args)
        if self.fail:
            self.fail = False
            raise KafkaException(KafkaError(KafkaError._FATAL, "UNKNOWN_PRODUCER_ID", fatal=True))
        return remaining

    def __getattr__(self, name):
        return getattr(self.producer, name)


def test_a_fatal_producer_error_ends_in_a_fresh_producer_never_in_a_dead_relay(env, caplog):
    cfg, store, demo = env
    made: list[FatalOnFirstFlush] = []

    def factory() -> FatalOnFirstFlush:
        made.append(FatalOnFirstFlush(Producer(kafka.producer_config(cfg)), fail=not made))
        return made[-1]

    relay = OutboxRelay(cfg, SERVICE, producer_factory=factory)
    consumer = make_consumer(cfg, demo)
    with caplog.at_level(logging.WARNING):
        thread, stop = run_relay(relay)
        try:
            sent = publish(store, 20)
            eventually(lambda: unsent(store) == 0, what="the relay to send the rows with a fresh producer")
            assert thread.is_alive() and len(made) >= 2
            consume_until(consumer, lambda: len(demo.effects()) >= 20)
            for _ in range(3):
                consumer.poll_once(timeout_s=0.2)
        finally:
            consumer.close()
            stop.set()
            thread.join(10)
    assert sorted(e[0] for e in demo.effects()) == sorted(e["id"] for e in sent)
    assert any("fresh producer" in r.getMessage() for r in caplog.records)


def test_a_consumer_waits_quietly_for_a_missing_topic_and_recreates_it(env, caplog):
    """(Applying events after a restart is the first test's business.)"""
    cfg, store, demo = env
    consumer = make_consumer(cfg, demo)
    topic = consumer.topics[0]
    admin = AdminClient({"bootstrap.servers": cfg["kafka"]["bootstrap_servers"]})
    try:
        consumer.poll_once(timeout_s=1)
        for future in admin.delete_topics([topic], operation_timeout=10).values():
            future.result(10)
        with caplog.at_level(logging.WARNING):
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                consumer.poll_once(timeout_s=0.2)
        assert topic in admin.list_topics(timeout=10).topics  # created again by the consumer
    finally:
        consumer.close()
    unknown = [r for r in caplog.records if "UNKNOWN_TOPIC" in r.getMessage()]
    assert len(unknown) <= 1, [r.getMessage() for r in unknown]


# A process of the group that joined the restarted broker and committed positions from the old
# log there (as a process does between the restart and noticing it), then was SIGKILLed: its
# offsets would make a successor skip the new log, and while its member is in the group the
# embedded broker refuses any commit from outside the group.
STALE_MEMBER = """
import sys
from confluent_kafka import Consumer, TopicPartition
bootstrap, group, topic = sys.argv[1:4]
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
assigned = []
consumer.subscribe([topic], on_assign=lambda c, partitions: assigned.extend(partitions))
while not assigned:
    consumer.poll(0.2)
ends = [TopicPartition(topic, p.partition, consumer.get_watermark_offsets(p, timeout=10)[1])
        for p in assigned]
consumer.commit(offsets=ends, asynchronous=False)
print("committed", flush=True)
while True:
    consumer.poll(0.2)
"""


def test_a_successor_reads_the_new_broker_from_the_beginning_despite_a_killed_members_offsets(env):
    """The fault test's hardest moment on its own: nameko SIGKILLed right after a broker restart."""
    cfg, store, demo = env
    cfg, port, broker = with_own_broker(cfg)
    relay = OutboxRelay(cfg, SERVICE)
    thread, stop = run_relay(relay)
    group = f"{cfg['kafka']['topic_prefix']}.demo"
    topics = kafka.topics_for(cfg, [EVENT])
    member = None
    try:
        first = EventConsumer(cfg, group, topics, demo.handle_events, memory=store)
        first.start()
        before = publish(store, 30)
        consume_until(first, lambda: len(demo.effects()) == 30)  # remembers the first broker
        first.close()
        kill_broker(broker)
        broker = infra.start_embedded_broker(port)
        after = publish(store, 10)
        eventually(lambda: relay._cluster_id not in (None, first._cluster_id) and unsent(store) == 0,
                   what="the relay to publish everything again to the new broker")
        member = subprocess.Popen([sys.executable, "-c", STALE_MEMBER, cfg["kafka"]["bootstrap_servers"],
                                   group, topics[0]], stdout=subprocess.PIPE, text=True)
        assert member.stdout.readline().strip() == "committed"
        member.kill()  # SIGKILL, by its id
        member.wait(10)
        successor = EventConsumer(cfg, group, topics, demo.handle_events, memory=store)
        successor.start()
        try:
            expected = {e["id"] for e in before + after}
            consume_until(successor, lambda: {e[0] for e in demo.effects()} >= expected, timeout_s=60)
        finally:
            successor.close()
        assert sorted(e[0] for e in demo.effects()) == sorted(expected)  # each applied once
    finally:
        if member is not None and member.poll() is None:
            member.kill()
        stop.set()
        thread.join(10)
        infra.stop_process(broker)
