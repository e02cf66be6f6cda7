"""The loop over the real bus: tracker progress on Kafka -> roadmap consumer -> milestone.achieved in
roadmap's outbox -> relay -> Kafka -> profile consumer -> profile.updated -> relay -> roadmap's read model."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from confluent_kafka import Producer

from bus import kafka
from bus.consumer import EventConsumer
from bus.relay import OutboxRelay
from careeros_services.common.caller import Caller
from careeros_services.profile.service import ProfileService
from careeros_services.roadmap.persistence import RoadmapRepository
from careeros_services.roadmap.proposer import AiCoreProposer
from careeros_services.roadmap.service import RoadmapService, Settings
from tests.profile.support import user_registered
from tests.roadmap.support import AiCoreServer, SLUG_IDS, course_published, progress_updated


@pytest.fixture(scope="module")
def ai():
    server = AiCoreServer()
    yield server
    server.stop()


def pump(consumers, relays, done, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the loop did not close in time"
        for relay in relays:
            relay.publish_pending()
        for consumer in consumers:
            consumer.poll_once(timeout_s=0.1)


def test_achievement_travels_to_the_profile_and_back_over_kafka(config, fresh_store, ai):
    roadmap_store, profile_store = fresh_store("roadmap"), fresh_store("profile")
    proposer = AiCoreProposer(config, address=ai.address)
    roadmap = RoadmapService(roadmap_store, proposer, Settings())
    profiles = ProfileService(profile_store)
    registered = user_registered()
    profiles.handle_event(registered)
    tenant, user = registered["tenant_id"], registered["payload"]["user_id"]
    roadmap.handle_event(course_published("python-basics", [("Python", 3)]))
    ai.servicer.mode = "ok"
    view = roadmap.create_roadmap(Caller(tenant, user), {"target_role": "Data Engineer",
                                                                           "hours_per_week": 5})

    prefix = config["kafka"]["topic_prefix"]
    consumers = [EventConsumer(config, f"{prefix}.{uuid.uuid4().hex[:6]}.roadmap",
                               kafka.topics_for(config, RoadmapService.handled_event_types()), roadmap.handle_events),
                 EventConsumer(config, f"{prefix}.{uuid.uuid4().hex[:6]}.profile",
                               kafka.topics_for(config, ProfileService.handled_event_types()), profiles.handle_events)]
    relays = [OutboxRelay(config, "roadmap"), OutboxRelay(config, "profile")]
    try:
        for c in consumers:
            c.start()
        for r in relays:
            r.connect()
        # What the tracker's relay would produce.
        done = progress_updated(tenant, user, SLUG_IDS["python-basics"], 100)
        producer = Producer(kafka.producer_config(config))
        producer.produce(kafka.topics_for(config, [done["type"]])[0], json.dumps(done).encode(),
                         key=done["aggregate_id"].encode())
        producer.flush(10)

        def learner_knows_python() -> bool:
            with roadmap_store.transaction(tenant) as tx:
                learner = RoadmapRepository(tx.db).learner(tenant, user)
            return learner is not None and any((s["name"], s["level"]) == ("Python", 2) and s["esco_uri"]
                                               for s in learner.skills)

        pump(consumers, relays, learner_knows_python)
    finally:
        for c in consumers:
            c.close()
        for r in relays:
            r.conn.close()
        proposer.close()
    profile = profiles.get_profile(Caller(tenant, user))
    assert profile["skill_evidence"]["python"]["roadmap_id"] == view["roadmap_id"]
    assert profile["skill_evidence"]["python"]["evidence"] == [
        {"kind": "course_completed", "id": SLUG_IDS["python-basics"]}]
    current = roadmap.get_current_roadmap(Caller(tenant, user))
    python = {m["skill_id"]: m for m in current["milestones"]}["python"]
    assert python["status"] == "done" and python["achieved"]
