"""Consume domain events: validate, dispatch once, retry, dead-letter, commit.

The loop is framework-free; the nameko entrypoint (:mod:`bus.nameko`) runs it
with green threads and eventlet's thread pool, scripts and tests run it with
plain threads. For each message:

1. decode and validate the envelope against its contract; a message that
   fails goes straight to the topic's DLQ with the reason, never to a handler;
2. dispatch each partition's batch in one transaction, a savepoint per event
   (the service layer claims the event id in its inbox inside the handler's
   savepoint, so a redelivery changes nothing);
3. an event whose handler raised is retried alone, ``max_attempts`` in all, with exponential
   backoff, then the event goes to the DLQ with headers saying where it came
   from, which group failed, the exception and the attempt count;
4. only then is the offset committed: an offset never passes an event that
   was neither applied nor dead-lettered.

Partitions are independent: within one batch each partition's messages run in
order, and different partitions may run concurrently (``spawn``).

A memory-only broker that restarts forgets topics, messages and offsets, while
this group's positions (and offsets a process commits before it notices) belong
to the old log: trusted, they would skip as many messages of the new one. So
offsets are trusted only on the broker incarnation (cluster id) the group
remembers in its own database. Every assignment looks at the broker: on one
the group does not trust yet it reads each partition from the beginning,
commits offset 0 there as a member of the group, and only then remembers the
broker (a process killed in between leaves the next one to start over again).
The relays publish recent events again; the inbox drops what was applied.
The consumer is never closed to start over: the embedded broker keeps a member
that leaves during a rebalance as the group's leader for good, and the group
would never be assigned again. Missing topics are recreated; their errors are
logged at most every ``ERROR_LOG_EVERY_S``.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional, Union

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, \
    Producer, TopicPartition

from bus import contracts, kafka
from bus import correlation

log = logging.getLogger(__name__)

# dispatch(envelopes, headers) -> one result per event: True applied, False duplicate,
# None not handled, or the Exception its handler raised (see bus.handlers.handle_events).
Dispatch = Callable[[list[dict], list[dict]], list[Union[Optional[bool], Exception]]]
DLQ_HEADER_PREFIX = "dlq_"
ERROR_LOG_EVERY_S = 30.0   # one log line per error code per this many seconds
TOPICS_CHECK_S = 1.0       # how often missing topics are created again


def _metrics():
    from bus import metrics
    return metrics


def _inline(fn: Callable, *args: Any) -> Any:
    return fn(*args)


def _run_all_inline(jobs: Iterable[Callable[[], None]]) -> None:
    for job in jobs:
        job()


def header_dict(headers: Optional[list]) -> dict[str, str]:
    result = {}
    for key, value in headers or ():
        result[key] = value.decode(errors="replace") if isinstance(value, bytes) else (value or "")
    return result


class EventConsumer:
    """One service's consumer group over the topics of the events it handles."""

    def __init__(self, config: dict, group: str, topics: list[str], dispatch: Dispatch, *,
                 sleep: Callable[[float], None] = time.sleep,
                 blocking: Callable[..., Any] = _inline,
                 run_all: Callable[[Iterable[Callable[[], None]]], None] = _run_all_inline,
                 consumer: Optional[Consumer] = None, producer: Optional[Producer] = None,
                 memory: Optional[Any] = None):
        self.config = config
        self.group = group
        self.topics = topics
        self.dispatch = dispatch
        self.sleep = sleep
        self.blocking = blocking  # runs a blocking C call (tpool.execute under eventlet)
        self.run_all = run_all    # runs per-partition jobs, concurrently where possible
        self.max_attempts = int(config["kafka"]["max_attempts"])
        self.backoff_s = float(config["kafka"]["retry_backoff_s"])
        self.consumer = consumer or self._new_consumer()
        self.producer = producer or Producer(kafka.producer_config(config))
        self._last_lag = 0.0
        self._subscribed = False
        # ``memory`` (a ServiceStore: remembered/remember) keeps the broker whose offsets this group
        # trusts, so a process restarted after a broker restart still knows stale ones.
        self.memory = memory
        self._memory_key = f"consumer:{group}:broker_cluster_id"
        self._cluster_id: Optional[str] = memory.remembered(self._memory_key) if memory else None
        # Set by an assignment, finished after the poll: (partitions read from the beginning, broker)
        self._starting_over: Optional[tuple[list[TopicPartition], Optional[str]]] = None
        self._error_logged_at: dict[int, float] = {}
        self._topics_created_at = float("-inf")
        self._topics_missing = False

    def _new_consumer(self) -> Consumer:
        return Consumer(kafka.consumer_config(self.config, self.group))

    def start(self) -> None:
        self._create_topics()
        self.consumer.subscribe(self.topics, on_assign=self._on_assign)
        self._subscribed = True

    def close(self) -> None:
        self.producer.flush(5)
        self.consumer.close()

    def _create_topics(self) -> None:
        kafka.ensure_topics(self.config, self.topics + [contracts.dlq_topic(t) for t in self.topics])
        self._topics_created_at = time.monotonic()

    # -- a broker that forgot everything ------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Rebalance callback (inside poll, maybe in a pool thread: no logging, no database here):
        read from the beginning on a broker whose offsets the group does not trust yet."""
        try:
            cluster_id = consumer.list_topics(self.topics[0], timeout=5).cluster_id or None
        except KafkaException:
            cluster_id = None  # unknown: starting over is always safe
        if self._cluster_id is None and cluster_id is not None:
            self._starting_over = ([], cluster_id)  # the first broker this group reads: trust it
        elif partitions and (cluster_id is None or cluster_id != self._cluster_id):
            for partition in partitions:
                partition.offset = OFFSET_BEGINNING
            self._starting_over = (list(partitions), cluster_id)
        consumer.assign(partitions)  # explicit offsets, inside the callback (a seek here never fetched)

    def _finish_starting_over(self) -> None:
        """Commit offset 0 where the assignment started over, then trust (remember) the broker.
        If either fails, the broker stays untrusted: the next assignment (here or in a successor)
        starts over again."""
        partitions, cluster_id = self._starting_over
        self._starting_over = None
        try:
            if partitions:
                log.warning("consumer %s: broker %s is new to this group; reading every partition from"
                            " the beginning", self.group, cluster_id)
                offsets = [TopicPartition(p.topic, p.partition, 0) for p in partitions]
                self.blocking(lambda: self.consumer.commit(offsets=offsets, asynchronous=False))
            if cluster_id is not None:
                self._remember(cluster_id)
                self._cluster_id = cluster_id
        except Exception as exc:  # noqa: BLE001 - e.g. another rebalance, or the database is away
            log.warning("consumer %s: broker %s not trusted yet: %r", self.group, cluster_id, exc)

    def _remember(self, cluster_id: str) -> None:
        if self.memory is not None:
            self.memory.remember(self._memory_key, cluster_id)

    def _on_error(self, error: KafkaError) -> None:
        """Missing topics (a restarted broker) are recreated; every error is logged, rate-limited."""
        code = error.code()
        if code == KafkaError._PARTITION_EOF:
            return
        now = time.monotonic()
        if code == KafkaError.UNKNOWN_TOPIC_OR_PART and self._subscribed:
            self._topics_missing = True  # created before the next poll (see _recreate_topics)
        if now - self._error_logged_at.get(code, float("-inf")) >= ERROR_LOG_EVERY_S:
            self._error_logged_at[code] = now
            log.warning("consumer %s: %s (waiting; logged at most every %.0f s)", self.group, error,
                        ERROR_LOG_EVERY_S)

    def _recreate_topics(self) -> None:
        """Create this group's topics again after an UNKNOWN_TOPIC_OR_PART (at most every second)."""
        if not self._topics_missing or time.monotonic() - self._topics_created_at < TOPICS_CHECK_S:
            return
        self._topics_missing = False
        try:
            self.blocking(self._create_topics)
        except KafkaException as exc:
            log.debug("consumer %s: could not create topics yet: %s", self.group, exc)

    def poll_once(self, max_messages: int = 500, timeout_s: float = 0.5) -> int:
        """Fetch one batch, process it and commit it; returns how many messages."""
        # Wait for the first message only, then take what is already fetched:
        # consume(n, timeout) would hold a half-full batch until the timeout.
        self._recreate_topics()
        first = self.blocking(self.consumer.poll, timeout_s)
        messages = [] if first is None else [first, *self.blocking(self.consumer.consume, max_messages - 1, 0)]
        # An assignment that started over during this fetch: the batch may begin with messages read
        # before it, at positions in the old log. They are handled, but this batch commits nothing.
        started_over = self._starting_over is not None
        if started_over:
            self._finish_starting_over()
        batch = []
        for msg in messages:
            if msg.error():
                self._on_error(msg.error())
                continue
            batch.append(msg)
        if batch:
            self.process_batch(batch, commit=not started_over)
        self._maybe_report_lag()
        return len(batch)

    def run(self, should_stop: Callable[[], bool]) -> None:
        self.start()
        try:
            while not should_stop():
                self.poll_once()
        finally:
            self.close()

    # -- processing --------------------------------------------------------------------------
    def process_batch(self, messages: list[Message], commit: bool = True) -> None:
        by_partition: "OrderedDict[tuple[str, int], list[Message]]" = OrderedDict()
        for msg in messages:
            by_partition.setdefault((msg.topic(), msg.partition()), []).append(msg)

        def job(msgs: list[Message]) -> Callable[[], None]:
            return lambda: self.process_partition_batch(msgs)

        self.run_all(job(msgs) for msgs in by_partition.values())
        self.blocking(self.producer.flush, 10)  # DLQ writes are durable before offsets move
        if commit:
            offsets = [TopicPartition(topic, partition, msgs[-1].offset() + 1)
                       for (topic, partition), msgs in by_partition.items()]
            self.consumer.commit(offsets=offsets, asynchronous=True)

    def process_partition_batch(self, messages: list[Message]) -> list[str]:
        """Handle one partition's messages: one transaction for the batch, then
        the failed ones one by one with retries; returns each message's outcome."""
        metrics = _metrics()
        outcomes: dict[int, str] = {}
        valid: list[tuple[Message, dict, dict]] = []
        for msg in messages:
            headers = header_dict(msg.headers())
            try:
                valid.append((msg, contracts.decode(msg.value()), headers))
            except contracts.InvalidEvent as exc:
                self.dead_letter(msg, headers, reason=f"invalid: {exc}", attempts=0)
                outcomes[msg.offset()] = "invalid"
        if valid:
            started = time.perf_counter()
            try:
                results = self.dispatch([v[1] for v in valid], [v[2] for v in valid])
            except Exception as exc:  # noqa: BLE001 - the batch's commit failed: retry one by one
                results = [exc] * len(valid)
            per_event = (time.perf_counter() - started) / len(valid)
            for (msg, envelope, headers), result in zip(valid, results):
                if isinstance(result, Exception):
                    outcomes[msg.offset()] = self._retry(msg, envelope, headers, result)
                else:
                    outcomes[msg.offset()] = {True: "processed", False: "duplicate", None: "ignored"}[result]
                    metrics.EVENT_HANDLE_LATENCY.labels(self.group, envelope["type"]).observe(per_event)
        for msg in messages:
            metrics.EVENTS_CONSUMED.labels(self.group, msg.topic(), outcomes[msg.offset()]).inc()
        return [outcomes[m.offset()] for m in messages]

    def _retry(self, msg: Message, envelope: dict, headers: dict, error: Exception) -> str:
        """Attempts 2..max_attempts of one event, with exponential backoff, then the DLQ
        (its log lines carry the event's correlation id)."""
        with correlation.bound(envelope.get("correlation_id")):
            return self._retry_bound(msg, envelope, headers, error)

    def _retry_bound(self, msg: Message, envelope: dict, headers: dict, error: Exception) -> str:
        attempt = 1
        while True:
            if attempt >= self.max_attempts:
                log.error("event %s (%s) failed %d times, dead-lettering: %r",
                          envelope["id"], envelope["type"], attempt, error)
                self.dead_letter(msg, headers, reason=f"{type(error).__name__}: {error}", attempts=attempt)
                return "dead_lettered"
            log.warning("event %s (%s) failed (attempt %d), retrying: %r",
                        envelope["id"], envelope["type"], attempt, error)
            _metrics().EVENTS_CONSUMED.labels(self.group, msg.topic(), "retried").inc()
            self.sleep(self.backoff_s * 2 ** (attempt - 1))
            attempt += 1
            try:
                [result] = self.dispatch([envelope], [headers])
            except Exception as exc:  # noqa: BLE001
                result = exc
            if not isinstance(result, Exception):
                return {True: "processed", False: "duplicate", None: "ignored"}[result]
            error = result

    def dead_letter(self, msg: Message, headers: dict[str, str], *, reason: str, attempts: int) -> None:
        """Send a message to its topic's DLQ with where it came from and why."""
        dlq_headers = {k: v for k, v in headers.items() if not k.startswith(DLQ_HEADER_PREFIX)}
        dlq_headers.update({
            "dlq_original_topic": msg.topic(),
            "dlq_original_partition": str(msg.partition()),
            "dlq_original_offset": str(msg.offset()),
            "dlq_consumer_group": self.group,
            "dlq_exception": reason[:2000],
            "dlq_attempts": str(attempts),
            "dlq_failed_at": datetime.now(timezone.utc).isoformat(),
        })
        self.producer.produce(contracts.dlq_topic(msg.topic()), value=msg.value(), key=msg.key(),
                              headers=[(k, v.encode()) for k, v in dlq_headers.items()])
        self.producer.poll(0)

    def _maybe_report_lag(self) -> None:
        """Consumer lag per partition (high watermark - position), every few seconds."""
        if time.monotonic() - self._last_lag < 5:
            return
        self._last_lag = time.monotonic()
        try:
            assignment = self.consumer.assignment()
            positions = self.consumer.position(assignment) if assignment else []
        except Exception:  # noqa: BLE001 - metrics must never stop consumption
            return
        gauge = _metrics().CONSUMER_LAG
        for tp in positions:
            low, high = self.consumer.get_watermark_offsets(tp, cached=True)
            if high is None or high < 0:
                continue
            position = tp.offset if tp.offset >= 0 else low
            gauge.labels(self.group, tp.topic, str(tp.partition)).set(max(0, high - position))
