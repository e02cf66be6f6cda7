"""The consumer path over the real (embedded) Kafka broker: LMS events in, progress out.

Events are produced to the LMS's topics exactly as its relay would (JSON
envelope, keyed by aggregate id) and consumed by the bus's EventConsumer
with the tracker's service layer as dispatch, as the nameko entrypoint does.
"""
from __future__ import annotations

import copy
import json
import time
import uuid

import pytest
from confluent_kafka import Producer

from bus import contracts, kafka
from bus.consumer import EventConsumer
from bus.privacy import REQUEST_TYPES
from careeros_services.common.caller import Caller
from careeros_services.tracker.service import (COURSE_PUBLISHED, ENROLLMENT_COMPLETED, LMS_ACTIVITY, STATEMENT_RECORDED,
                                               TrackerService)
from tests.tracker.support import activity_recorded, course_published, new_id, outbox, statement


@pytest.fixture
def env(config, fresh_store):
    cfg = copy.deepcopy(config)
    cfg["kafka"]["topic_prefix"] = f"trk{uuid.uuid4().hex[:8]}"
    cfg["kafka"]["max_attempts"] = 2
    cfg["kafka"]["retry_backoff_s"] = 0.01
    service = TrackerService(fresh_store("tracker"))
    consumer = EventConsumer(cfg, kafka.group_id(cfg, "tracker"),
                             kafka.topics_for(cfg, TrackerService.handled_event_types()), service.handle_events)
    consumer.start()
    producer = Producer(kafka.producer_config(cfg))
    yield cfg, service, consumer, producer
    consumer.close()


def produce(cfg, producer, envelope: dict) -> None:
    producer.produce(contracts.topic_for(envelope["type"], cfg["kafka"]["topic_prefix"]),
                     key=envelope["aggregate_id"], value=json.dumps(envelope),
                     headers={"event_type": envelope["type"], "event_id": envelope["id"]})
    producer.flush(10)


def consume_until(consumer, done, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for the consumer"
        consumer.poll_once(timeout_s=0.2)


def test_lms_activity_events_drive_progress_through_kafka(env):
    cfg, service, consumer, producer = env
    tenant, user, course = new_id(), new_id(), new_id()
    lessons = [new_id(), new_id()]
    passed = statement(user, "passed", lesson_id=lessons[0], course_id=course, statement_id=new_id(),
                       duration="PT4M")
    activity = activity_recorded(tenant, user, passed)
    # the activity arrives before the course structure, and twice (at-least-once delivery)
    for envelope in (activity, activity,
                     course_published(tenant, course, [(lessons[0], True), (lessons[1], True)])):
        produce(cfg, producer, envelope)

    def progressed():
        courses = service.get_progress(Caller(tenant, user, "member"))["courses"]
        return bool(courses) and courses[0]["percent"] == 50

    consume_until(consumer, progressed)
    [course_progress] = service.get_progress(Caller(tenant, user, "member"))["courses"]
    assert (course_progress["lessons_done"], course_progress["time_spent_s"]) == (1, 240)
    assert len([e for e in outbox(service.store, STATEMENT_RECORDED)
                if e["payload"]["statement_id"] == passed["id"]]) == 1
    assert {LMS_ACTIVITY, COURSE_PUBLISHED, ENROLLMENT_COMPLETED, *REQUEST_TYPES} == set(
        TrackerService.handled_event_types())  # plus auth's privacy requests (bus/privacy.py)
