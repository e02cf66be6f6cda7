"""Issue 4's journey through every process (gateway, gRPC, nameko, relays, Kafka):

register -> fill the profile -> consult (embedded provider) -> POST /roadmaps (roadmap gRPC -> ai_core ProposeRoadmap) -> the learner takes a
milestone's courses in the LMS (enrol, open, pass: the LMS records the statements and decides completion)
-> lms.enrollment.completed -> tracker progress.updated (completed) -> roadmap emits milestone.achieved -> profile gains
the skill -> GET /roadmaps/current shows it done and achieved -> GET .svg is well-formed -> the next
consultation no longer lists that skill as a gap -> the target role changes -> the regeneration saga
makes a new version (the old one stays readable).
"""
from __future__ import annotations

import json
import time
from xml.etree import ElementTree

import pytest

from tests.e2e.test_completion_journey import CATALOG, catalog_answers, learn
from tests.e2e.test_walking_skeleton import bearer, login, register, wait_for_profile

pytestmark = pytest.mark.e2e


def consult(api, h: dict, question: str, role_id: str) -> dict:
    """A consultation's structured answer, once ai_core's profile read model has caught up."""
    deadline = time.monotonic() + 60
    while True:
        r = api.post("/ai/consultations", json={"question": question}, headers=h, timeout=30)
        assert r.status_code == 201, r.text
        answer = r.json()["messages"][1]["answer"]
        if answer["target_role"]["role_id"] == role_id:
            return answer
        assert time.monotonic() < deadline, "ai_core never saw the profile"
        time.sleep(0.5)


def test_goal_to_plan_to_evidence_to_a_new_version(api):
    user = register(api)
    token = login(api, user["email"])["access_token"]
    h = bearer(token)
    wait_for_profile(api, token)
    profile = {"target_role": "Data Engineer", "skills": [{"name": "Python", "level": 3}]}
    assert api.patch("/profile", json=profile, headers=h).status_code == 200
    first_answer = consult(api, h, "How do I become a data engineer?", "data_engineer")
    assert first_answer["skill_gaps"] and first_answer["next_actions"]
    premium = {c["id"] for c in json.loads(CATALOG.read_text())["courses"] if c["premium"]}
    deadline = time.monotonic() + 60
    while True:
        r = api.post("/roadmaps", json={"target_role": "Data Engineer", "hours_per_week": 6}, headers=h)
        assert r.status_code == 201, r.text
        view = r.json()
        targets = [m for m in view["milestones"] if m["courses"] and not m["skipped"]
                   and not {c["course_id"] for c in m["courses"]} & premium]
        if targets:
            break
        assert time.monotonic() < deadline, "catalog never reached the roadmap"
        time.sleep(1)
    # The learner takes the milestone's courses in the LMS (a free plan: a milestone without premium
    # courses); the LMS's completion reaches the roadmap through the tracker's progress.
    m = targets[0]
    answers = catalog_answers()
    for course in m["courses"]:
        learn(api, h, course["course_id"], answers)
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

    # The loop closes: the next consultation sees the evidenced skill.
    gap_ids = lambda answer: {g["skill_id"] for g in answer["skill_gaps"]}  # noqa: E731
    if m["skill_id"] in gap_ids(first_answer):
        deadline = time.monotonic() + 60
        while m["skill_id"] in gap_ids(consult(api, h, "What next?", "data_engineer")):
            assert time.monotonic() < deadline, f"ai_core still lists {m['skill_id']} as a gap"
            time.sleep(0.5)

    # A new target role -> profile.updated -> the regeneration saga -> version 2, version 1 kept.
    roadmap_id, old_version = cur["roadmap_id"], cur["version"]
    assert api.patch("/profile", json={"target_role": "Data Scientist"}, headers=h).status_code == 200
    deadline = time.monotonic() + 90
    while True:
        versions = api.get(f"/roadmaps/{roadmap_id}/versions", headers=h).json()
        if versions["active_version"] > old_version:
            break
        assert time.monotonic() < deadline, f"no new version: {versions}"
        time.sleep(0.5)
    new = api.get("/roadmaps/current", headers=h).json()
    assert new["version"] == versions["active_version"] and new["target_role"] == "Data Scientist"
    assert len([v for v in versions["versions"] if v["is_active"]]) == 1
    old = api.get(f"/roadmaps/{roadmap_id}", params={"version": old_version}, headers=h)
    assert old.status_code == 200 and old.json()["target_role"] == "Data Engineer"
