"""Through real Kafka: billing's entitlement.changed reaches auth's consumer group (the same
``handle_events`` the nameko event_handler calls), which answers plan_changed and changes the
plan tier the next refreshed token carries."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import jwt
import pytest
from confluent_kafka import Producer

from bus import contracts, kafka
from bus.consumer import EventConsumer
from careeros_services.auth.service import AuthService, build

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def auth(config, fresh_store):
    fresh_store("auth")
    service = build(config)
    yield service
    service.store.close()


def test_entitlement_changed_over_kafka_answers_plan_changed_with_the_saga_id(config, auth):
    who = f"k{uuid.uuid4().hex[:10]}@example.com"
    tenant_id = auth.register(who, PASSWORD, "Kim", "Kafka Co")["tenant_id"]
    tokens = auth.login(who, PASSWORD)
    saga = uuid.uuid4().hex
    envelope = contracts.validate({
        "id": str(uuid.uuid4()), "type": "careeros.billing.entitlement.changed.v1", "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "billing", "tenant_id": tenant_id,
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": "entitlement",
        "aggregate_id": tenant_id, "payload": {
            "tenant_id": tenant_id, "subscription_id": str(uuid.uuid4()), "saga_id": saga, "plan": "team",
            "seats": 12, "entitlements": ["premium_courses"], "reason": "activated"}})
    topics = kafka.topics_for(config, AuthService.handled_event_types())
    consumer = EventConsumer(config, kafka.group_id(config, "auth"), topics, auth.handle_events)
    consumer.start()
    try:
        producer = Producer(kafka.producer_config(config))
        topic = contracts.topic_for(envelope["type"], str(config["kafka"]["topic_prefix"]))
        for _ in range(2):  # delivered twice: applied once
            producer.produce(topic, json.dumps(envelope).encode(), key=tenant_id.encode(),
                             headers=[("event_type", envelope["type"].encode()), ("event_id", envelope["id"].encode())])
        assert producer.flush(10) == 0
        deadline = time.monotonic() + 60
        while _answers(auth, tenant_id) == [] or consumer.poll_once(timeout_s=0.2):
            assert time.monotonic() < deadline, "auth did not consume entitlement.changed"
            consumer.poll_once(timeout_s=0.2)
    finally:
        consumer.close()
    assert _answers(auth, tenant_id) == [{"tenant_id": tenant_id, "plan_tier": "team", "seats": 12, "saga_id": saga}]
    claims = jwt.decode(auth.refresh(tokens["refresh_token"])["access_token"], options={"verify_signature": False})
    assert claims["plan_tier"] == "team"


def _answers(auth, tenant_id: str) -> list[dict]:
    with auth.store.transaction() as tx:
        rows = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s AND key = %s ORDER BY id",
                                 ("careeros.auth.tenant.plan_changed.v1", tenant_id)).fetchall()
    return [r[0]["payload"] for r in rows]
