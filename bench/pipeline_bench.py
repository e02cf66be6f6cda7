"""Event pipeline benchmark: commit N of auth's ``user.registered`` events, measure until the
profile service has made every profile, beside the broker's raw produce/consume rate.

    .venv/bin/python bench/pipeline_bench.py [N]

Uses the real PostgreSQL and the embedded Kafka-compatible broker (started
here on a free port), auth's outbox (each write is the outbox row of a registration,
without the password hashing), the real outbox relay, and the real consumer loop feeding
the real profile service (its inbox, its profile row and its ``profile.created`` outbox row).
Lag per event = the profile's inbox ``processed_at`` (in the consumer's transaction) -
the outbox row's ``created_at`` (in the producer's transaction).
"""
from __future__ import annotations

import copy
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("CAREEROS_DB_PREFIX", "careeros_bench_")
os.environ.setdefault("KAFKA_TOPIC_PREFIX", f"bench{uuid.uuid4().hex[:6]}")

from confluent_kafka import Consumer, Producer  # noqa: E402

import psycopg2  # noqa: E402

from bus import kafka  # noqa: E402
from bus.consumer import EventConsumer  # noqa: E402
from bus.contracts import AUTH_USER_REGISTERED_V1 as EVENT  # noqa: E402
from bus.relay import OutboxRelay  # noqa: E402
from bus.store import ServiceStore, migrations  # noqa: E402
from careeros_services import registry  # noqa: E402
from careeros_services.common import db as dbmod, infra  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from careeros_services.profile.service import build as build_profile  # noqa: E402

PRODUCER, CONSUMER = "auth", "profile"


def registered(tenant_id: str, user_id: str) -> dict:
    """The payload auth's registration publishes."""
    return {"user_id": user_id, "tenant_id": tenant_id, "tenant_kind": "personal", "org_role": "owner",
            "plan_tier": "free", "display_name": "Bench Learner",
            "registered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


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


def write_events(store: ServiceStore, n: int, writers: int) -> float:
    """Commit n domain writes (each its own transaction + outbox row); returns seconds taken."""
    per_writer = n // writers

    def write(k: int) -> None:
        for i in range(per_writer):
            tenant = str(uuid.uuid4())
            user = str(uuid.uuid4())
            with store.transaction(tenant) as tx:
                tx.publish(EVENT, aggregate_id=user, payload=registered(tenant, user))

    started = time.perf_counter()
    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return time.perf_counter() - started


def _admin_query(config: dict, service: str, query: str) -> list[tuple]:
    """Read across tenants (row-level security binds the services' own role, not the admin's)."""
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, service, admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()
    finally:
        conn.close()


def applied(config: dict) -> int:
    """Profiles the profile service has made."""
    return _admin_query(config, CONSUMER, "SELECT count(*) FROM profiles")[0][0]


def lags_ms(config: dict) -> list[float]:
    written = dict(_admin_query(config, PRODUCER, "SELECT event_id::text, created_at FROM outbox"
                                                  f" WHERE event_type = '{EVENT}'"))
    handled = _admin_query(config, CONSUMER, "SELECT event_id::text, processed_at FROM inbox"
                                             f" WHERE event_type = '{EVENT}'")
    return [(at - written[event_id]).total_seconds() * 1000 for event_id, at in handled if event_id in written]


def reset(config: dict) -> None:
    """Empty databases for both services (their full migrations, as the set-up runs them)."""
    for service in (PRODUCER, CONSUMER):
        dbmod.drop_database(config, service)
        dbmod.migrate(config, service, migrations(registry.SERVICES[service].package))


class Pipeline:
    """The relay and the consumer, each in its own thread, as in the relay and nameko processes."""

    def __init__(self, config: dict, with_relay: bool = True):
        self.config = config
        self.stop = threading.Event()
        self.profiles = build_profile(config)
        # Partitions run concurrently, as they do on green threads in the nameko process.
        pool = ThreadPoolExecutor(max_workers=int(config["kafka"]["partitions"]))
        self.consumer = EventConsumer(config, f"{config['kafka']['topic_prefix']}.bench.{uuid.uuid4().hex[:4]}",
                                      kafka.topics_for(config, [EVENT]), self.profiles.handle_events,
                                      run_all=lambda jobs: list(pool.map(lambda job: job(), list(jobs))))
        self.consumer.start()
        self.threads = [threading.Thread(target=self._consume)]
        self.threads[0].start()
        if with_relay:
            self.start_relay()

    def start_relay(self) -> None:
        relay = threading.Thread(target=OutboxRelay(self.config, PRODUCER).run, args=(self.stop,))
        relay.start()
        self.threads.append(relay)

    def _consume(self) -> None:
        while not self.stop.is_set():
            self.consumer.poll_once(timeout_s=0.2)
        self.consumer.close()

    def close(self) -> None:
        self.stop.set()
        [t.join(10) for t in self.threads]
        self.profiles.store.close()


def wait_applied(config: dict, total: int, timeout_s: float = 300) -> float:
    deadline = time.monotonic() + timeout_s
    while applied(config) < total:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {applied(config)} of {total} applied")
        time.sleep(0.05)
    return time.perf_counter()


def main(n: int = 20000, writers: int = 8) -> None:
    infra.ensure_servers()
    port = infra.free_port()
    broker = infra.start_embedded_broker(port)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
    config = load_config()
    try:
        reset(config)
        store = ServiceStore.from_config(config, PRODUCER)

        produce_rate, consume_rate = raw_broker_rate(config, n)
        print(f"broker (raw 300 B messages, same run): produce {produce_rate:,.0f} msgs/s, "
              f"consume {consume_rate:,.0f} msgs/s")

        # 1. Sustained: writers commit while the relay and consumer run.
        pipeline = Pipeline(config)
        time.sleep(4)  # consumer-group join
        started = time.perf_counter()
        write_s = write_events(store, n, writers)
        done = wait_applied(config, n)
        pipeline.close()
        lags = lags_ms(config)
        sustained_p99 = percentile(lags, 99)
        print(f"sustained: {n} writes committed by {writers} writers at {n / write_s:,.0f}/s; all applied "
              f"after {done - started:.1f} s = {n / (done - started):,.0f} events/s; commit-to-applied lag "
              f"p50 {percentile(lags, 50):,.0f} ms, p99 {percentile(lags, 99):,.0f} ms")

        # 2. Drain: a committed backlog, then the relay starts (consumer already joined):
        #    the pipeline's own rate, without the writers competing for the 2 cores.
        store.close()
        reset(config)
        config = copy.deepcopy(config)  # fresh topics: phase 1's events must not count
        config["kafka"]["topic_prefix"] += "drain"
        store = ServiceStore.from_config(config, PRODUCER)
        pipeline = Pipeline(config, with_relay=False)
        write_events(store, n, writers)
        time.sleep(1)
        started = time.perf_counter()
        pipeline.start_relay()
        done = wait_applied(config, n)
        pipeline.close()
        rate = n / (done - started)
        print(f"drain: a backlog of {n} committed events relayed and applied in {done - started:.1f} s = "
              f"{rate:,.0f} events/s = {rate / produce_rate:.1%} of the broker's raw produce rate")
        store.close()
        # Issue 17's targets.
        print(f"target drain >= 4,000 events/s and >= 10% of raw produce: "
              f"{'met' if rate >= 4000 and rate / produce_rate >= 0.10 else 'NOT met'}; "
              f"target sustained p99 lag < 500 ms: {'met' if sustained_p99 < 500 else 'NOT met'}")
    finally:
        infra.stop_process(broker)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
