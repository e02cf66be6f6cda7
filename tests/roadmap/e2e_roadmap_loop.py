"""End-to-end roadmap loop through every process (gateway, gRPC, nameko, relays, Kafka).

NOT collected here (no ``test_`` prefix): it needs the e2e fixtures of ``tests/e2e/conftest.py``.
Integrator: move it to ``tests/e2e/test_roadmap_loop.py``. Verified locally with the e2e platform:
1 passed in ~32 s. While lms is not in the registry, the seed catalog's ``course.published``
events are produced here with lms's own payload code (what its seeding migration publishes).

register -> POST /roadmaps (roadmap gRPC -> ai_core ProposeRoadmap) -> xAPI statements completing a
milestone's courses (tracker) -> progress.updated -> roadmap emits milestone.achieved -> profile gains
the skill -> GET /roadmaps/current shows it done and achieved -> GET .svg is well-formed.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree

from careeros_services import registry
from tests.e2e.test_walking_skeleton import bearer, login, register, wait_for_profile


def statement(user_id: str, course_id: str, lesson_id: str) -> dict:
    """An xAPI 'completed' statement for a lesson of a course (the platform's conventions)."""
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": "https://careeros.dev", "name": user_id}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
            "object": {"id": f"https://careeros.dev/xapi/lessons/{lesson_id}", "objectType": "Activity"},
            "context": {"contextActivities": {"parent": [{"id": f"https://careeros.dev/xapi/courses/{course_id}"}]}},
            "timestamp": datetime.now(timezone.utc).isoformat()}


def publish_seed_catalog(platform_env):
    """What lms's seeding migration publishes (lms is not registered yet): built with lms's own code."""
    from confluent_kafka import Producer

    from bus import contracts
    from careeros_services.lms import domain as lms
    from careeros_services.lms import seed
    catalog = json.loads((Path(seed.__file__).parent / "catalog.json").read_text())
    producer = Producer({"bootstrap.servers": platform_env["KAFKA_BOOTSTRAP_SERVERS"]})
    topic = f"{platform_env['KAFKA_TOPIC_PREFIX']}.lms.course"
    for course in catalog["courses"]:
        meta = lms.validate_course({k: course[k] for k in lms.COURSE_FIELDS if k in course})
        row = {"id": course["id"], "tenant_id": catalog["tenant_id"], "slug": course["slug"], **meta}
        snap = lms.snapshot(row, course["modules"])
        env = {"id": str(uuid.uuid4()), "type": "careeros.lms.course.published.v1", "version": 1,
               "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "lms",
               "tenant_id": catalog["tenant_id"], "correlation_id": str(uuid.uuid4()), "causation_id": None,
               "aggregate_type": "course", "aggregate_id": course["id"],
               "payload": lms.published_payload(row, snap, 1)}
        contracts.validate(env)
        producer.produce(topic, json.dumps(env).encode(), key=course["id"].encode())
    producer.flush(10)


def test_roadmap_loop(api, platform_env):
    if "lms" not in registry.SERVICES:
        publish_seed_catalog(platform_env)
    user = register(api)
    token = login(api, user["email"])["access_token"]
    h = bearer(token)
    wait_for_profile(api, token)
    deadline = time.monotonic() + 60
    while True:
        r = api.post("/roadmaps", json={"target_role": "Data Engineer", "hours_per_week": 6}, headers=h)
        assert r.status_code == 201, r.text
        view = r.json()
        targets = [m for m in view["milestones"] if m["courses"] and not m["skipped"]]
        if targets:
            break
        assert time.monotonic() < deadline, "catalog never reached the roadmap"
        time.sleep(1)
    m = targets[0]
    stmts = [statement(user["user_id"], le["course_id"], le["lesson_id"]) for le in m["lessons"]]
    r = api.post("/tracking/statements", json=stmts, headers=h)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    while True:
        prof = api.get("/profile", headers=h).json()
        got = [s for s in prof["skills"] if s["name"].casefold() == m["skill_name"].casefold()]
        if got and got[0]["level"] >= m["level"]:
            break
        assert time.monotonic() < deadline, f"profile never gained {m['skill_name']}: {prof['skills']}"
        time.sleep(0.5)
    cur = api.get("/roadmaps/current", headers=h).json()
    mm = {x["skill_id"]: x for x in cur["milestones"]}[m["skill_id"]]
    assert mm["status"] == "done" and mm["achieved"], mm
    svg = api.get(f"/roadmaps/{cur['roadmap_id']}.svg", headers=h)
    assert svg.status_code == 200
    ElementTree.fromstring(svg.text)
    assert cur["progress"]["counts"]["done"] >= 1
