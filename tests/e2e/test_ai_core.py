"""End to end with every process running: the learner's profile reaches ai_core through
profile's outbox -> Kafka -> ai_core's consumer, and the consultant answers from it.

Not collected here on purpose (the file name does not start with ``test_``): importing the
session-scoped ``platform`` fixture into this folder would start a second platform in a full
run. Integrator: ``git mv tests/ai_core/e2e_ai_core.py tests/e2e/test_ai_core.py`` and drop
the fixture import line (tests/e2e/conftest.py provides them). It passed (31 s) with the
fixtures imported, run alone.
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
