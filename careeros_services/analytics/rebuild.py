"""``careeros analytics rebuild``: replay every analytics topic into empty read models.

1. In one transaction (admin role): truncate the read models and delete the
   analytics inbox claims, so every event can be applied again.
2. Consume every subscribed topic from its earliest offset with a fresh
   consumer group (``<prefix>.analytics.rebuild.<random>``), through the same
   ``EventConsumer`` and ``handle_events`` as the live consumer (validation,
   retries and DLQ included), until each partition reaches the high watermark
   it had when the replay started.

The live consumer group may keep running meanwhile: an event it applies after
the truncation is claimed in the inbox and the replay skips it, and the fact
writers are order-independent upserts, so interleaving cannot change a result.
Events newer than the starting watermarks are left to the live group.

Kafka retention bounds what can be replayed: on a real cluster set the domain
topics' retention to cover the history the reports need (the embedded broker
keeps everything until it restarts).
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Optional

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from bus import contracts, kafka
from bus.consumer import EventConsumer
from careeros_services.analytics.persistence import truncate_read_models
from careeros_services.analytics.service import SERVICE, AnalyticsService, build

log = logging.getLogger(__name__)


def rebuild(config: dict, *, service: Optional[AnalyticsService] = None, timeout_s: float = 600.0) -> dict:
    """Truncate and replay; returns ``{"group", "topics", "events"}`` (events = messages consumed)."""
    service = service or build(config)
    truncate_read_models(config, SERVICE, service.consumer_name)
    topics = kafka.topics_for(config, service.subscribed_event_types())
    kafka.ensure_topics(config, topics + [contracts.dlq_topic(t) for t in topics])
    group = f"{kafka.group_id(config, SERVICE)}.rebuild.{uuid.uuid4().hex[:12]}"
    consumer = EventConsumer(config, group, topics, service.handle_events)
    try:
        targets = _high_watermarks(consumer, topics)
        # assign() rather than subscribe(): no group join to wait for, every partition from offset 0.
        consumer.consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for (t, p) in targets])
        pending = {tp: high for tp, (low, high) in targets.items() if high > low}
        consumed, deadline = 0, time.monotonic() + timeout_s
        while pending:
            consumed += consumer.poll_once(timeout_s=0.5)
            for tp in consumer.consumer.position([TopicPartition(t, p) for (t, p) in pending]):
                if tp.offset >= pending[(tp.topic, tp.partition)]:
                    del pending[(tp.topic, tp.partition)]
            if time.monotonic() > deadline:
                raise TimeoutError(f"rebuild did not catch up within {timeout_s} s;"
                                   f" behind on {sorted(pending)}")
        log.info("analytics rebuild: %d event(s) replayed from %d topic(s)", consumed, len(topics))
        return {"group": group, "topics": len(topics), "events": consumed}
    finally:
        consumer.close()


def _high_watermarks(consumer: EventConsumer, topics: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """``{(topic, partition): (low, high) watermarks}`` for every partition of ``topics``, now.

    A partition whose messages all expired (low == high) has nothing to replay.
    """
    targets = {}
    metadata = consumer.consumer.list_topics(timeout=10)
    for topic in topics:
        for partition in metadata.topics[topic].partitions:
            low, high = consumer.consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            targets[(topic, partition)] = (max(0, low), max(0, high))
    return targets
