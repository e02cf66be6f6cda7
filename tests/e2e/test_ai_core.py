"""End to end with every process running (the platform fixture of tests/e2e), the events between
profile and ai_core: the learner's profile reaches ai_core through profile's outbox -> Kafka ->
ai_core's consumer and the consultant answers from it; skills confirmed from a CV reach the
profile through ai_core's ``cv.confirmed`` the same way.
"""
from __future__ import annotations

import time

import pytest

from tests.e2e.test_walking_skeleton import bearer, login, register, wait_for_profile

pytestmark = pytest.mark.e2e


def test_consultation_uses_the_profile_that_arrived_by_event(api):  # noqa: F811
    user = register(api)
    token = login(api, user["email"])["access_token"]
    wait_for_profile(api, token)
    patch = {"target_role": "Data Engineer", "skills": [{"name": "Python", "level": 4}, {"name": "SQL", "level": 4}]}
    assert api.patch("/profile", json=patch, headers=bearer(token)).status_code == 200

    deadline = time.monotonic() + 60
    while True:  # until ai_core's read model has the update (the answer then names the role)
        response = api.post("/ai/consultations", json={"question": "What should I learn next?"},
                            headers=bearer(token), timeout=30)
        assert response.status_code == 201, response.text
        answer = response.json()["messages"][1]["answer"]
        if answer["target_role"]["role_id"] == "data_engineer":
            break
        assert time.monotonic() < deadline, "ai_core never saw the profile update"
        time.sleep(0.5)
    gaps = {g["skill_id"] for g in answer["skill_gaps"]}
    assert "python" not in gaps and "sql" not in gaps and "data_engineering" in gaps
    usage = api.get("/ai/usage", headers=bearer(token)).json()
    assert usage["user"]["calls"] >= 1 and usage["consultations_used"] >= 1


def _plain(skills: list[dict]) -> list[dict]:
    return [{"name": s["name"], "level": s["level"]} for s in skills]


def test_skills_confirmed_from_a_cv_reach_the_profile_by_event(api):  # noqa: F811
    user = register(api)
    token = login(api, user["email"])["access_token"]
    wait_for_profile(api, token)
    assert api.patch("/profile", json={"skills": [{"name": "SQL", "level": 5}]},
                     headers=bearer(token)).status_code == 200
    cv = b"Jane Doe\nData analyst, 4 years of SQL\nTableau dashboards for the sales team\njane@example.com"
    uploaded = api.post("/ai/cv?filename=jane.txt", data=cv,
                        headers={**bearer(token), "Content-Type": "text/plain"}, timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    proposed = {p["name"] for p in uploaded.json()["proposed_skills"]}
    assert {"SQL", "Business intelligence tools"} <= proposed
    assert _plain(api.get("/profile", headers=bearer(token)).json()["skills"]) == [{"name": "SQL", "level": 5}]

    confirmed = api.post(f"/ai/cv/{uploaded.json()['cv_id']}/confirm", headers=bearer(token), json={
        "skills": [{"name": "SQL", "level": 3}, {"name": "Business intelligence tools", "level": 2}]})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text

    deadline = time.monotonic() + 40
    while True:  # ai_core's outbox -> Kafka -> profile's consumer
        profile = api.get("/profile", headers=bearer(token)).json()
        if len(profile["skills"]) > 1:
            break
        assert time.monotonic() < deadline, f"the confirmed skills never reached the profile: {profile}"
        time.sleep(0.3)
    # Added, and SQL kept at the learner's own higher level (a CV never lowers a skill).
    assert _plain(profile["skills"]) == [{"name": "SQL", "level": 5},
                                         {"name": "Business intelligence tools", "level": 2}]
    assert all(s["esco_uri"].startswith("http://data.europa.eu/esco/skill/") for s in profile["skills"])
    assert profile["version"] == 3  # created, the learner's patch, the one update of the confirmation
