"""profile's handler of careeros.roadmap.milestone.achieved.v1 (real PostgreSQL), and the closed loop:
roadmap achievement -> profile skill (with evidence) -> profile.updated -> the next roadmap knows it."""
from __future__ import annotations

import uuid

import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.common.errors import ValidationFailed
from careeros_services.profile import domain as profile_domain
from careeros_services.profile.service import PROFILE_UPDATED, ProfileService
from tests.profile.support import outbox_rows, user_registered
from tests.roadmap.support import envelope


@pytest.fixture(scope="module")
def profiles(fresh_store) -> ProfileService:
    return ProfileService(fresh_store("profile"))


@pytest.fixture
def learner(profiles) -> dict:
    registered = user_registered()
    assert profiles.handle_event(registered) is True
    return registered["payload"]


def achieved(learner: dict, skill: str, level: int, course_id: str | None = None) -> dict:
    roadmap_id = str(uuid.uuid4())
    return envelope("careeros.roadmap.milestone.achieved.v1", learner["tenant_id"], {
        "roadmap_id": roadmap_id, "tenant_id": learner["tenant_id"], "user_id": learner["user_id"],
        "skill_name": skill, "esco_uri": "http://data.europa.eu/esco/skill/x", "level": level,
        "evidence": [{"kind": "course_completed", "id": course_id or str(uuid.uuid4())}]}, roadmap_id)


def test_achievement_adds_the_skill_citing_the_evidence_and_publishes_profile_updated(profiles, learner):
    event = achieved(learner, "SQL", 3, course_id="c-1")
    assert profiles.handle_event(event) is True
    profile = profiles.get_profile(Caller(learner["tenant_id"], learner["user_id"]))
    assert profile["skills"] == [{"name": "SQL", "level": 3, "esco_uri": "http://data.europa.eu/esco/skill/9cf681c7-89ec-470c-b651-7fe03786f586"}] and profile["version"] == 2
    cited = profile["skill_evidence"]["sql"]
    assert cited["evidence"] == [{"kind": "course_completed", "id": "c-1"}] and cited["level"] == 3
    assert cited["roadmap_id"] == event["payload"]["roadmap_id"] and cited["source"] == "roadmap"
    [updated] = outbox_rows(profiles.store, PROFILE_UPDATED, learner["user_id"])
    contracts.validate(updated)
    assert updated["payload"]["changes"] == {"skills": [{"name": "SQL", "level": 3, "esco_uri": "http://data.europa.eu/esco/skill/9cf681c7-89ec-470c-b651-7fe03786f586"}]}
    assert updated["causation_id"] == event["id"]
    assert profiles.handle_event(event) is False       # redelivered: nothing changes


def test_achievement_raises_a_lower_level_and_never_lowers(profiles, learner):
    profiles.update_profile(Caller(learner["tenant_id"], learner["user_id"]), {"skills": [{"name": "Python", "level": 2}]})
    assert profiles.handle_event(achieved(learner, "python", 4)) is True
    assert profiles.get_profile(Caller(learner["tenant_id"], learner["user_id"]))["skills"] == [
        {"name": "Python", "esco_uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "level": 4}]
    assert profiles.handle_event(achieved(learner, "PYTHON", 3)) is True
    profile = profiles.get_profile(Caller(learner["tenant_id"], learner["user_id"]))
    assert profile["skills"] == [{"name": "Python", "esco_uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "level": 4}] and profile["version"] == 3
    assert len(outbox_rows(profiles.store, PROFILE_UPDATED, learner["user_id"])) == 2


def test_raise_skill_refuses_unusable_names():
    profile = profile_domain.new_profile(str(uuid.uuid4()), str(uuid.uuid4()), "A", None)
    with pytest.raises(ValidationFailed) as raised:
        profile_domain.raise_skill(profile, "bad\x00name", 9, {})
    assert set(raised.value.fields) == {"skill_name", "level"}
