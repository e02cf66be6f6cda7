"""Notifications benchmark: e-mails sent per second from a backlog of N events, beside the raw
acceptance rate of the same SMTP sink in the same run.

    .venv/bin/python bench/notifications_bench.py [N] [RECIPIENTS]

Real parts throughout: PostgreSQL, the embedded Kafka-compatible broker (started here on a free
port), the embedded SMTP sink in its own process (``careeros smtp-sink``: aiosmtpd, keeping every
message in a Maildir), the real consumer
loop with its inbox, the notifications service layer and, for each recipient's address, the
real auth service layer (in production a nameko RPC to auth).

* baseline — N pre-rendered messages of the same kind handed to the sink with smtplib over one
  connection: the sink's own acceptance rate;
* backlog — N ``assignment.created`` events for RECIPIENTS registered users are produced to their
  topic first (the backlog); then the consumer (queueing one message per event) and the delivery
  loop (lock, ask auth, render text + HTML, SMTP, mark sent) start together; timed until every
  message is ``sent``. Also printed: how fast the consumer queued them.
"""
from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("CAREEROS_DB_PREFIX", "careeros_bench_")
os.environ.setdefault("KAFKA_TOPIC_PREFIX", f"bench{uuid.uuid4().hex[:6]}")
os.environ.setdefault("CAREEROS_AUTH_REDIS_PREFIX", f"careeros.bench{uuid.uuid4().hex[:6]}.auth.")

from confluent_kafka import Producer  # noqa: E402

from bus import contracts, kafka  # noqa: E402
from bus.consumer import EventConsumer  # noqa: E402
from bus.store import migrations  # noqa: E402
from careeros_services.auth.service import build as build_auth  # noqa: E402
from careeros_services.common import db as dbmod, infra  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from careeros_services.notifications import domain, sink  # noqa: E402
from careeros_services.notifications.persistence import NotificationRepository  # noqa: E402
from careeros_services.notifications.service import build as build_notifications  # noqa: E402

EVENT = contracts.AUTH_ASSIGNMENT_CREATED_V1


def assignment(owner: dict) -> dict:
    return {"id": str(uuid.uuid4()), "type": EVENT, "version": 1,
            "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "auth",
            "tenant_id": owner["tenant_id"], "correlation_id": str(uuid.uuid4()), "causation_id": None,
            "aggregate_type": "assignment", "aggregate_id": str(uuid.uuid4()),
            "payload": {"assignment_id": str(uuid.uuid4()), "tenant_id": owner["tenant_id"],
                        "user_id": owner["user_id"], "course_id": str(uuid.uuid4()), "target_role": "Data analyst",
                        "assigned_by": owner["user_id"], "due_at": ""}}


def raw_sink_rate(config: dict, sample, n: int) -> float:
    """The sink's acceptance rate for ``n`` copies of a real rendered message, one SMTP connection."""
    started = time.perf_counter()
    with smtplib.SMTP(config["smtp"]["host"], int(config["smtp"]["port"]), timeout=30) as smtp:
        for _ in range(n):
            smtp.send_message(sample)
    return n / (time.perf_counter() - started)


def produce_backlog(config: dict, envelopes: list[dict]) -> None:
    producer = Producer(kafka.producer_config(config))
    topic = contracts.topic_for(EVENT, config["kafka"]["topic_prefix"])
    kafka.ensure_topics(config, [topic, contracts.dlq_topic(topic)])
    for envelope in envelopes:
        while True:
            try:
                producer.produce(topic, json.dumps(envelope).encode(), key=envelope["aggregate_id"].encode())
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0


def count(notifications, state: str) -> int:
    return notifications.counts().get(state, 0)


def start_sink(config: dict) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "careeros_services.cli", "smtp-sink"], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not infra.port_open(int(config["smtp"]["port"])):
        assert process.poll() is None and time.monotonic() < deadline, "the SMTP sink did not start"
        time.sleep(0.1)
    return process


def main(n: int = 5000, recipients: int = 20) -> None:
    infra.ensure_servers()
    port = infra.free_port()
    broker = infra.start_embedded_broker(port)
    os.environ.update({"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}", "CAREEROS_SMTP_PORT": str(infra.free_port()),
                       "CAREEROS_SMTP_SINK_DIR": tempfile.mkdtemp(prefix="careeros-bench-mail-")})
    config = load_config()
    sink_process = start_sink(config)
    try:
        for service in ("auth", "notifications"):
            dbmod.drop_database(config, service)
            dbmod.migrate(config, service, migrations(f"careeros_services.{service}"))
        auth, notifications = build_auth(config), build_notifications(config)
        owners = [auth.register(f"bench{uuid.uuid4().hex[:10]}@example.com", "benchmark password", f"Learner {i}",
                                organization_name=f"Bench org {i}") for i in range(recipients)]
        envelopes = [assignment(owners[i % recipients]) for i in range(n)]

        # Baseline: one real rendered message (with its unsubscribe header), sent n times raw.
        notifications.handle_event(contracts.validate(assignment(owners[0])))
        [message_id] = [r["id"] for r in notifications.list_messages("queued", 1)]
        with notifications.store.transaction(owners[0]["tenant_id"]) as tx:
            row = NotificationRepository(tx.db).message(owners[0]["tenant_id"], message_id)
        sample = notifications._compose(domain.KINDS["assignment"], row,
                                        auth.contact(owners[0]["tenant_id"], user_id=owners[0]["user_id"]))
        baseline = raw_sink_rate(config, sample, n)
        print(f"raw SMTP sink (same run, {len(sample.as_bytes()):,} B messages, one connection): "
              f"{baseline:,.0f} msgs/s accepted")
        notifications.deliver_due(auth.contact)  # the sample's own message: not part of the timing

        produce_backlog(config, envelopes)
        stop, total_before = threading.Event(), sum(notifications.counts().values())
        consumer = EventConsumer(config, kafka.group_id(config, "notifications"),
                                 [contracts.topic_for(EVENT, config["kafka"]["topic_prefix"])],
                                 notifications.handle_events)
        consumer.start()
        queued_at: list[float] = []

        def consume() -> None:
            while not stop.is_set():
                consumer.poll_once()
                if not queued_at and sum(notifications.counts().values()) - total_before >= n:
                    queued_at.append(time.perf_counter() - started)

        sent_before = count(notifications, "sent")
        started = time.perf_counter()
        consuming = threading.Thread(target=consume)
        consuming.start()
        while count(notifications, "sent") - sent_before < n:
            notifications.deliver_due(auth.contact)
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        consuming.join()
        consumer.close()
        kept = sum(1 for _ in sink.messages(config))
        print(f"backlog of {n:,} events for {recipients} recipients: all {n:,} sent in {elapsed:.1f} s = "
              f"{n / elapsed:,.0f} notifications/s ({n / elapsed / baseline:.1%} of the raw sink rate); "
              f"all queued by the consumer after {queued_at[0] if queued_at else elapsed:.1f} s; "
              f"the sink kept {kept:,} messages")
        auth.store.close()
        notifications.store.close()
    finally:
        infra.stop_process(sink_process)
        infra.stop_process(broker)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
