"""profile's handler of careeros.ai_core.cv.confirmed.v1 through handle_events (the bus's entry),
against a real, freshly migrated PostgreSQL database: the skills a learner confirmed from their CV
are added or raised (never lowered), citing the CV, once per event however often it is delivered."""
from __future__ import annotations

import uuid

import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.common.errors import NotFound
from careeros_services.profile.service import CV_CONFIRMED, PROFILE_UPDATED, ProfileService
from tests.profile.support import cv_confirmed, outbox_rows, user_registered


def plain(skills: list[dict]) -> list[dict]:
    """Names and levels (the ESCO URIs are checked where they matter)."""
    return [{"name": s["name"], "level": s["level"]} for s in skills]


@pytest.fixture(scope="module")
def service(fresh_store) -> ProfileService:
    return ProfileService(fresh_store("profile"))


@pytest.fixture
def learner(service) -> dict:
    registered = user_registered()
    assert service.handle_events([registered]) == [True]
    return registered["payload"]


def profile_of(service, learner) -> dict:
    return service.get_profile(Caller(learner["tenant_id"], learner["user_id"]))


def updates_of(service, learner) -> list[dict]:
    return outbox_rows(service.store, PROFILE_UPDATED, learner["user_id"])


def test_the_profile_consumes_cv_confirmed():
    assert CV_CONFIRMED in ProfileService.handled_event_types()


def test_confirmed_skills_are_added_citing_the_cv_and_one_profile_updated_is_published(service, learner):
    event = cv_confirmed(learner, [("SQL", 3), ("Python", 2)])
    cv_id = event["payload"]["cv_id"]

    assert service.handle_events([event]) == [True]

    profile = profile_of(service, learner)
    assert plain(profile["skills"]) == [{"name": "SQL", "level": 3}, {"name": "Python", "level": 2}]
    assert all(s["esco_uri"].startswith("http://data.europa.eu/esco/skill/") for s in profile["skills"])
    assert profile["version"] == 2
    for key, level in (("sql", 3), ("python", 2)):
        cited = profile["skill_evidence"][key]
        assert cited["evidence"] == [{"kind": "cv", "id": cv_id}]
        assert (cited["source"], cited["cv_id"], cited["level"]) == ("cv", cv_id, level)
        assert cited["esco_uri"] == f"http://data.europa.eu/esco/skill/{key}"
    [updated] = updates_of(service, learner)
    contracts.validate(updated)
    assert updated["payload"]["changed_fields"] == ["skills"] and updated["payload"]["version"] == 2
    assert updated["payload"]["changes"] == {"skills": profile["skills"]}
    assert updated["causation_id"] == event["id"] and updated["correlation_id"] == event["correlation_id"]


def test_a_redelivered_confirmation_changes_nothing(service, learner):
    event = cv_confirmed(learner, [("Docker", 2)])
    assert service.handle_events([event]) == [True]
    before = profile_of(service, learner)

    assert service.handle_events([event, event]) == [False, False]
    assert service.handle_events([event]) == [False]

    assert profile_of(service, learner) == before
    assert len(updates_of(service, learner)) == 1


def test_confirmed_levels_raise_but_never_lower_existing_skills(service, learner):
    service.update_profile(Caller(learner["tenant_id"], learner["user_id"]),
                           {"skills": [{"name": "Python", "level": 2}, {"name": "SQL", "level": 5}]})
    event = cv_confirmed(learner, [("python", 4), ("sql", 3), ("Git", 1)])

    assert service.handle_events([event]) == [True]

    profile = profile_of(service, learner)
    assert plain(profile["skills"]) == [{"name": "Python", "level": 4}, {"name": "SQL", "level": 5},
                                 {"name": "Git", "level": 1}]
    assert set(profile["skill_evidence"]) == {"python", "git"}  # SQL was not raised: no CV evidence
    assert profile["version"] == 3
    # one by the learner's own update_profile, one for the whole confirmation
    assert [u["payload"]["version"] for u in updates_of(service, learner)] == [2, 3]


def test_a_confirmation_that_raises_nothing_writes_and_publishes_nothing(service, learner):
    service.update_profile(Caller(learner["tenant_id"], learner["user_id"]),
                           {"skills": [{"name": "Excel", "level": 4}]})
    before, published = profile_of(service, learner), updates_of(service, learner)

    assert service.handle_events([cv_confirmed(learner, [("EXCEL", 4), ("excel", 1)])]) == [True]

    assert profile_of(service, learner) == before
    assert updates_of(service, learner) == published


def test_a_confirmation_before_the_profile_exists_fails_alone_and_applies_on_retry(service):
    registered = user_registered()
    learner = registered["payload"]
    early = cv_confirmed(learner, [("Kotlin", 3)])
    other = user_registered()

    [failed, applied] = service.handle_events([early, other])

    assert isinstance(failed, NotFound) and applied is True  # the batch's other event is kept
    assert service.handle_events([registered]) == [True]
    assert service.handle_events([early]) == [True]  # its inbox claim was rolled back with it
    assert plain(profile_of(service, learner)["skills"]) == [{"name": "Kotlin", "level": 3}]


def test_a_confirmation_naming_another_tenant_is_refused(service, learner):
    event = cv_confirmed(learner, [("Rust", 5)])
    event["payload"]["tenant_id"] = str(uuid.uuid4())

    [refused] = service.handle_events([event])

    assert isinstance(refused, ValueError) and "tenant" in str(refused)
    assert profile_of(service, learner)["skills"] == []
