"""The outbox relay: publishes committed outbox rows to Kafka, in id order.

One relay is active per service database (a PostgreSQL advisory lock elects
it; a second instance waits as a hot standby). It wakes on the outbox's
NOTIFY at commit time and also sweeps on a timer, so nothing depends on a
notification arriving. Each pass reads *all* unsent rows in id order (no
high-water mark, so a transaction that commits after a later id is never
skipped), produces them with the idempotent producer keyed by aggregate id
(per-aggregate order), waits for the broker's acknowledgements and only then
marks the acknowledged rows sent. A crash between publish and mark re-sends
those rows; consumers deduplicate by event id, so the effect is once.

A broker that forgets what it acknowledged (the embedded, memory-only one
after a restart) is noticed by its new cluster id: the relay then queues every
row sent within ``keep_sent_hours`` again and recreates the platform's topics.
Any producer error ends in a fresh producer; unsent rows are simply sent again.
"""
from __future__ import annotations

import logging
import select
import threading
import time
from typing import Callable, Optional

import psycopg2
from confluent_kafka import KafkaError, KafkaException, Producer

from bus import kafka
from bus.database import connect_kwargs

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 727_002
CHANNEL = "careeros_outbox"
CLUSTER_ID_STATE = "broker_cluster_id"  # relay_state row: the broker the sent rows went to
MAX_BACKOFF_S = 30.0


def _metrics():
    from bus import metrics
    return metrics


class OutboxRelay:
    """Relay one service's outbox to Kafka."""

    def __init__(self, config: dict, service: str, *, producer: Optional[Producer] = None,
                 producer_factory: Optional[Callable[[], Producer]] = None,
                 on_batch: Optional[Callable[[int], None]] = None):
        self.config = config
        self.service = service
        outbox = config["outbox"]
        self.batch_size = int(outbox["batch_size"])
        self.sweep_interval_s = float(outbox["sweep_interval_s"])
        self.keep_sent_hours = float(outbox["keep_sent_hours"])
        self.broker_check_s = float(outbox.get("broker_check_s", 1.0))
        # Without a factory an injected producer is kept as it is (tests that drive one by hand).
        self.producer_factory = producer_factory or (self._new_producer if producer is None else None)
        self.producer = producer or self.producer_factory()
        self.on_batch = on_batch  # test hook: called after a batch is produced, before it is marked
        self.conn: Optional[psycopg2.extensions.connection] = None
        self._last_cleanup = 0.0
        self._ready_topics: set[str] = set()
        self._cluster_id: Optional[str] = None
        self._broker_checked_at = float("-inf")
        self._errors_in_a_row = 0

    # -- one pass -----------------------------------------------------------------------------
    def publish_pending(self) -> int:
        """Publish every unsent row, batch by batch; returns how many were marked sent."""
        total = 0
        while True:
            sent = self._publish_batch()
            total += sent
            if sent < self.batch_size:
                return total

    def _publish_batch(self) -> int:
        with self.conn, self.conn.cursor() as cur:
            cur.execute("SELECT id, topic, key, envelope::text, headers FROM outbox"
                        " WHERE sent_at IS NULL ORDER BY id LIMIT %s", (self.batch_size,))
            rows = cur.fetchall()
        if not rows:
            return 0
        delivered: list[int] = []
        failures: list[str] = []

        def report(row_id: int):
            def on_delivery(err: Optional[KafkaError], msg) -> None:
                if err is None:
                    delivered.append(row_id)
                else:
                    failures.append(str(err))
            return on_delivery

        self._ensure_topics({row[1] for row in rows})
        for row_id, topic, key, value, headers in rows:
            self._produce(topic, key, value, headers, report(row_id))
        remaining = self.producer.flush(float(self.config["kafka"].get("flush_timeout_s", 30)))
        if self.on_batch:
            self.on_batch(len(delivered))
        if delivered:
            with self.conn, self.conn.cursor() as cur:
                cur.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (delivered,))
            counts: dict[str, int] = {}
            for row in rows:
                if row[0] in delivered:
                    counts[row[1]] = counts.get(row[1], 0) + 1
            for topic, count in counts.items():
                _metrics().OUTBOX_PUBLISHED.labels(self.service, topic).inc(count)
        if failures or remaining:
            # An idempotent producer can be left in a fatal state (a restarted
            # broker forgot its producer id); start afresh — rows are still unsent.
            self.replace_producer()
            log.warning("outbox relay: %d of %d not acknowledged (%s)", len(rows) - len(delivered),
                        len(rows), failures[:1] or "flush timeout")
            return 0  # back off; the rest is retried on the next pass
        return len(delivered)

    def replace_producer(self) -> None:
        """Drop the producer (and what it still holds) for a fresh one; topics are checked again."""
        self._ready_topics.clear()  # e.g. a restarted memory-only broker lost its topics
        if self.producer_factory is None:
            return
        old, self.producer = self.producer, self.producer_factory()
        try:
            old.purge()  # its queued messages are unsent rows: they go again through the new one
        except Exception:  # noqa: BLE001 - a producer in a fatal state may refuse even this
            pass
        _metrics().RELAY_PRODUCER_RESETS.labels(self.service).inc()

    def check_broker(self) -> int:
        """Queue the recently sent rows again if the broker is not the one they went to.

        The broker's cluster id names its incarnation (the embedded broker gets a
        fresh one at every start); the last one seen is kept in ``relay_state``, so
        a relay restarted together with the broker notices too. Returns the rows queued.
        """
        if time.monotonic() - self._broker_checked_at < self.broker_check_s:
            return 0
        self._broker_checked_at = time.monotonic()
        try:
            cluster_id = self.producer.list_topics(timeout=5).cluster_id
        except KafkaException as exc:  # broker away: publishing waits for it anyway
            log.debug("outbox relay for %s: no broker metadata: %s", self.service, exc)
            return 0
        if not cluster_id or cluster_id == self._cluster_id:
            return 0
        with self.conn, self.conn.cursor() as cur:
            cur.execute("SELECT value FROM relay_state WHERE name = %s", (CLUSTER_ID_STATE,))
            known = cur.fetchone()
            requeued = 0
            if known is None or known[0] != cluster_id:
                cur.execute("UPDATE outbox SET sent_at = NULL"
                            " WHERE sent_at >= now() - %s * interval '1 hour'", (self.keep_sent_hours,))
                requeued = cur.rowcount
                cur.execute("INSERT INTO relay_state (name, value) VALUES (%s, %s) ON CONFLICT (name)"
                            " DO UPDATE SET value = EXCLUDED.value, changed_at = now()",
                            (CLUSTER_ID_STATE, cluster_id))
        # A broker new to this relay: create every topic the platform owns before anything is
        # produced (a metadata request for a missing topic auto-creates it with the broker's defaults).
        kafka.ensure_topics(self.config, kafka.all_topics(self.config))
        self._ready_topics.clear()
        if self._cluster_id is not None:
            # Our idempotent producer's id means nothing to the new broker: its sends would
            # wait out message.timeout.ms. A fresh producer registers afresh.
            self.replace_producer()
        if requeued:
            log.warning("outbox relay for %s: broker %s is new; publishing %d sent row(s) again",
                        self.service, cluster_id, requeued)
            _metrics().OUTBOX_REPUBLISHED.labels(self.service).inc(requeued)
        self._cluster_id = cluster_id
        return requeued

    def _new_producer(self) -> Producer:
        # A short delivery timeout: an unacknowledged batch is simply retried from the outbox.
        return Producer(kafka.producer_config(self.config, **{"message.timeout.ms": 10000}))

    def _ensure_topics(self, topics: set[str]) -> None:
        """Create missing topics (and their DLQs) with the configured partitions."""
        missing = topics - self._ready_topics
        if missing:
            from bus.contracts import dlq_topic
            kafka.ensure_topics(self.config, sorted(missing | {dlq_topic(t) for t in missing}))
            self._ready_topics |= missing

    def _produce(self, topic: str, key: str, value: str, headers: dict, on_delivery) -> None:
        kafka_headers = [(k, str(v).encode()) for k, v in (headers or {}).items()]
        while True:
            try:
                self.producer.produce(topic, value=value.encode(), key=key.encode(),
                                      headers=kafka_headers, on_delivery=on_delivery)
                return
            except BufferError:  # local queue full: let deliveries drain
                self.producer.poll(0.1)

    def _pass(self) -> None:
        """One pass: notice a new broker, publish what is unsent, clean up."""
        # Before publishing too: during a broker outage the pass blocks, and
        # that is when a growing backlog must be visible.
        _metrics().OUTBOX_BACKLOG.labels(self.service).set(self.backlog())
        self.check_broker()
        self.publish_pending()
        _metrics().OUTBOX_BACKLOG.labels(self.service).set(self.backlog())
        self.cleanup()

    def backlog(self) -> int:
        with self.conn, self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            return cur.fetchone()[0]

    def cleanup(self) -> None:
        """Delete rows sent longer ago than keep_sent_hours (they are on Kafka)."""
        if time.monotonic() - self._last_cleanup < 60:
            return
        self._last_cleanup = time.monotonic()
        with self.conn, self.conn.cursor() as cur:
            cur.execute("DELETE FROM outbox WHERE sent_at < now() - %s * interval '1 hour'",
                        (self.keep_sent_hours,))

    # -- the loop -----------------------------------------------------------------------------
    def connect(self) -> None:
        self.conn = psycopg2.connect(**connect_kwargs(self.config, self.service))

    def acquire_leadership(self, stop: threading.Event) -> bool:
        """Wait until this relay holds the service's relay lock (or stop is set)."""
        while not stop.is_set():
            with self.conn, self.conn.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK_KEY,))
                if cur.fetchone()[0]:
                    return True
            stop.wait(1.0)
        return False

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set; reconnects after database errors, never exits on an error."""
        while not stop.is_set():
            try:
                self.connect()
                if not self.acquire_leadership(stop):
                    return
                self.conn.autocommit = True
                with self.conn.cursor() as cur:
                    cur.execute(f"LISTEN {CHANNEL}")
                self.conn.autocommit = False
                log.info("outbox relay for %s is active", self.service)
                self._loop(stop)
            except psycopg2.Error as exc:
                log.warning("outbox relay for %s: database error, reconnecting: %s", self.service, exc)
                stop.wait(1.0)
            except Exception:  # noqa: BLE001 - whatever it was, the relay must not die of it
                log.exception("outbox relay for %s: unexpected error, starting over", self.service)
                stop.wait(5.0)
            finally:
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._pass()
                self._errors_in_a_row = 0
            except psycopg2.Error:
                raise  # run() reconnects
            except Exception as exc:  # noqa: BLE001 - e.g. KafkaException(FATAL) from flush(): never exit
                self._errors_in_a_row += 1
                log.warning("outbox relay for %s: producer error, starting a fresh producer: %r",
                            self.service, exc)
                self.replace_producer()
                stop.wait(min(MAX_BACKOFF_S, 0.25 * 2 ** self._errors_in_a_row))
                continue
            # Sleep until a commit notifies us or the sweep interval passes.
            if select.select([self.conn], [], [], self.sweep_interval_s) != ([], [], []):
                self.conn.poll()
                self.conn.notifies.clear()


def run_relays(config: dict, services: list[str], stop: threading.Event) -> list[threading.Thread]:
    """Start one relay thread per service; they stop when ``stop`` is set."""
    threads = []
    for service in services:
        relay = OutboxRelay(config, service)
        thread = threading.Thread(target=relay.run, args=(stop,), name=f"relay-{service}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads
