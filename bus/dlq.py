"""Dead-letter tooling: list, show and replay events from ``<topic>.dlq`` topics.

Replay sends an event back to its original topic with the same key, value and
headers (minus the ``dlq_*`` ones, plus ``replayed_from``). Every consumer
group sees it again; groups that already applied it find the event id in their
inbox and skip it, the group that failed applies it — so it is processed once.
``replay --all`` remembers how far it got by committing offsets for the
``<prefix>.dlq-replayer`` group, so a second ``--all`` does not re-send.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Iterator, Optional

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from bus import kafka
from bus.consumer import DLQ_HEADER_PREFIX, header_dict


@dataclass
class DeadLetter:
    dlq_topic: str
    partition: int
    offset: int
    key: Optional[str]
    headers: dict
    value: bytes

    @property
    def ref(self) -> str:
        """``topic:partition:offset`` — how the CLI names one entry."""
        return f"{self.dlq_topic}:{self.partition}:{self.offset}"

    def summary(self) -> dict:
        try:
            envelope = json.loads(self.value)
            event_id, event_type = envelope.get("id"), envelope.get("type")
        except (ValueError, AttributeError):
            event_id = event_type = None
        h = self.headers
        return {"ref": self.ref, "event_id": event_id, "event_type": event_type,
                "original_topic": h.get("dlq_original_topic"), "consumer_group": h.get("dlq_consumer_group"),
                "attempts": h.get("dlq_attempts"), "exception": h.get("dlq_exception"),
                "failed_at": h.get("dlq_failed_at")}

    def as_dict(self) -> dict:
        data = asdict(self)
        data["value"] = self.value.decode(errors="replace")
        return {**self.summary(), **data}


class DeadLetters:
    def __init__(self, config: dict):
        self.config = config
        self.prefix = str(config["kafka"]["topic_prefix"])
        self.group = f"{self.prefix}.dlq-replayer"

    def topics(self) -> list[str]:
        admin = AdminClient({"bootstrap.servers": kafka.kafka_bootstrap(self.config)})
        names = admin.list_topics(timeout=10).topics
        return sorted(t for t in names if t.startswith(self.prefix + ".") and t.endswith(".dlq"))

    def _consumer(self) -> Consumer:
        return Consumer(kafka.consumer_config(self.config, self.group, **{"enable.partition.eof": True}))

    def read(self, topic: Optional[str] = None, *, pending_only: bool = True) -> Iterator[DeadLetter]:
        """Every entry (or only those after the replayer's committed offsets)."""
        consumer = self._consumer()
        try:
            for dlq_topic in ([topic] if topic else self.topics()):
                metadata = consumer.list_topics(dlq_topic, timeout=10).topics.get(dlq_topic)
                if metadata is None or metadata.error is not None:
                    continue
                parts = [TopicPartition(dlq_topic, p) for p in metadata.partitions]
                committed = consumer.committed(parts, timeout=10) if pending_only else parts
                for tp in committed:
                    low, high = consumer.get_watermark_offsets(tp, timeout=10)
                    start = tp.offset if pending_only and tp.offset >= 0 else low
                    if start >= high:
                        continue
                    consumer.assign([TopicPartition(dlq_topic, tp.partition, start)])
                    while True:
                        msg = consumer.poll(5)
                        if msg is None or (msg.error() and msg.error().code() == -191):  # _PARTITION_EOF
                            break
                        if msg.error():
                            continue
                        yield DeadLetter(dlq_topic, msg.partition(), msg.offset(),
                                         msg.key().decode() if msg.key() else None,
                                         header_dict(msg.headers()), msg.value())
                        if msg.offset() >= high - 1:
                            break
        finally:
            consumer.close()

    def find(self, ref: str) -> DeadLetter:
        topic, partition, offset = ref.rsplit(":", 2)
        for entry in self.read(topic, pending_only=False):
            if entry.partition == int(partition) and entry.offset == int(offset):
                return entry
        raise KeyError(f"no dead letter {ref}")

    def replay(self, entries: list[DeadLetter]) -> int:
        """Send entries back to their original topics; returns how many."""
        producer = Producer(kafka.producer_config(self.config))
        for entry in entries:
            headers = {k: v for k, v in entry.headers.items() if not k.startswith(DLQ_HEADER_PREFIX)}
            headers["replayed_from"] = entry.ref
            producer.produce(entry.headers["dlq_original_topic"], value=entry.value,
                             key=entry.key.encode() if entry.key else None,
                             headers=[(k, v.encode()) for k, v in headers.items()])
        if producer.flush(30):
            raise RuntimeError("replay: the broker did not acknowledge every event")
        return len(entries)

    def replay_all(self, topic: Optional[str] = None) -> int:
        entries = list(self.read(topic))
        count = self.replay(entries)
        if entries:
            last: dict[tuple[str, int], int] = {}
            for e in entries:
                last[(e.dlq_topic, e.partition)] = max(last.get((e.dlq_topic, e.partition), -1), e.offset)
            consumer = self._consumer()
            try:
                consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in last.items()],
                                asynchronous=False)
            finally:
                consumer.close()
        return count

    def pending_counts(self) -> dict[str, int]:
        """Entries per DLQ topic not yet replayed (the DLQ-size metric)."""
        counts: dict[str, int] = {}
        for entry in self.read():
            counts[entry.dlq_topic] = counts.get(entry.dlq_topic, 0) + 1
        return counts


def dead_letter_envelope(config: dict, envelope: dict, *, group: str, reason: str, attempts: int) -> None:
    """Send an already-consumed event to its topic's DLQ (for work a consumer finishes after its
    transaction and gives up on later, e.g. a mail the SMTP server never took). ``careeros dlq
    replay`` re-publishes it like any dead letter; the original partition and offset are unknown."""
    from bus import contracts

    topic = contracts.topic_for(envelope["type"], str(config["kafka"]["topic_prefix"]))
    headers = {"correlation_id": envelope.get("correlation_id") or "", "event_type": envelope["type"],
               "event_id": envelope["id"], "dlq_original_topic": topic, "dlq_original_partition": "-1",
               "dlq_original_offset": "-1", "dlq_consumer_group": group, "dlq_exception": reason[:2000],
               "dlq_attempts": str(attempts), "dlq_failed_at": datetime.now(timezone.utc).isoformat()}
    producer = Producer(kafka.producer_config(config))
    producer.produce(contracts.dlq_topic(topic), value=json.dumps(envelope).encode(),
                     key=str(envelope.get("aggregate_id") or "").encode() or None,
                     headers=[(k, v.encode()) for k, v in headers.items()])
    if producer.flush(10):
        raise RuntimeError("dead letter: the broker did not acknowledge it")
