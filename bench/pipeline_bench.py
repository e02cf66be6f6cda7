"""Event pipeline benchmark: commit N domain writes, measure until a consuming
service has applied them all, beside the broker's raw produce/consume rate.

    .venv/bin/python bench/pipeline_bench.py [N]

Uses the real PostgreSQL and the embedded Kafka-compatible broker (started
here on a free port), the real outbox relay and the real consumer loop with
its inbox. Lag per event = applied_at (in the consumer's transaction) -
occurred_at (in the producer's transaction).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("CAREEROS_DB_PREFIX", "careeros_bench_")
os.environ.setdefault("KAFKA_TOPIC_PREFIX", f"bench{uuid.uuid4().hex[:6]}")

from confluent_kafka import Consumer, Producer  # noqa: E402

from bus import kafka  # noqa: E402
from bus.consumer import EventConsumer  # noqa: E402
from bus.relay import OutboxRelay  # noqa: E402
from bus.store import ServiceStore, migrations  # noqa: E402
from careeros_services.common import db as dbmod, infra  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from tests.bus.demo import EVENT, DemoService, payload  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def raw_broker_rate(config: dict, n: int) -> tuple[float, float]:
    topic = f"{config['kafka']['topic_prefix']}.raw"
    kafka.ensure_topics(config, [topic])
    producer = Producer(kafka.producer_config(config))
    value = b"x" * 300
    started = time.perf_counter()
    for i in range(n):
        while True:
            try:
                producer.produce(topic, value, key=str(i % 50).encode())
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)
    produce_rate = n / (time.perf_counter() - started)
    consumer = Consumer(kafka.consumer_config(config, f"raw-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    got, first = 0, None
    while got < n:
        batch = consumer.consume(1000, 1.0)
        if batch and first is None:
            first = time.perf_counter()
        got += sum(1 for m in batch if not m.error())
    consume_rate = (n - 1) / (time.perf_counter() - first)
    consumer.close()
    return produce_rate, consume_rate


def main(n: int = 20000) -> None:
    infra.ensure_servers()
    port = infra.free_port()
    broker = kafka.start_embedded_broker(port)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
    config = load_config()
    try:
        dbmod.drop_database(config, "pipeline")
        dbmod.migrate(config, "pipeline", migrations("tests.bus.demo"))
        store = ServiceStore.from_config(config, "pipeline")
        demo = DemoService(store)

        produce_rate, consume_rate = raw_broker_rate(config, n)

        consumer = EventConsumer(config, f"{config['kafka']['topic_prefix']}.bench",
                                 kafka.topics_for(config, [EVENT]), demo.handle_events)
        consumer.start()
        stop = threading.Event()
        relay = threading.Thread(target=OutboxRelay(config, "pipeline").run, args=(stop,), daemon=True)
        relay.start()
        applied = {"n": 0}
        consuming = threading.Thread(target=lambda: [consumer.poll_once(timeout_s=0.2)
                                                     for _ in iter(lambda: stop.is_set(), True)], daemon=True)
        consuming.start()
        time.sleep(5)  # group join

        writers, per_writer = 4, n // 4
        started = time.perf_counter()

        def write(k: int) -> None:
            for i in range(per_writer):
                tenant = str(uuid.uuid4())
                with store.transaction(tenant) as tx:
                    tx.publish(EVENT, aggregate_id=f"agg-{k}-{i % 20}",
                               payload=payload(tenant, str(uuid.uuid4())))

        threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        committed = time.perf_counter()
        total = writers * per_writer
        while True:
            with store.transaction() as tx:
                applied["n"] = tx.db.execute_sql("SELECT count(*) FROM effects").fetchone()[0]
            if applied["n"] >= total:
                break
            time.sleep(0.1)
        done = time.perf_counter()
        stop.set()
        with store.transaction() as tx:
            lags = [row[0] for row in tx.db.execute_sql(
                "SELECT extract(epoch FROM applied_at - occurred_at) FROM effects").fetchall()]
        consuming.join(5)
        consumer.close()

        print(f"pipeline: {total} events committed by {writers} writers in {committed - started:.2f} s "
              f"({total / (committed - started):,.0f} commits/s)")
        print(f"pipeline: all applied after {done - started:.2f} s -> {total / (done - started):,.0f} events/s "
              f"end to end")
        print(f"pipeline: commit-to-applied lag p50 {percentile(lags, 50) * 1000:.0f} ms, "
              f"p99 {percentile(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
        print(f"broker (same run, raw 300 B messages): produce {produce_rate:,.0f} msgs/s, "
              f"consume {consume_rate:,.0f} msgs/s")
        print(f"ratio: pipeline throughput = {total / (done - started) / produce_rate:.1%} of raw produce")
    finally:
        kafka.stop_process(broker)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
