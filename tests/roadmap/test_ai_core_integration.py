"""Roadmap generation against ai_core's real gRPC servicer (its knowledge base, its database)."""
from __future__ import annotations

import uuid

import pytest

from careeros_services.common.caller import Caller
from careeros_services.ai_core.entrypoints.grpc_server import registration as ai_core_registration
from careeros_services.common import grpc_support
from careeros_services.common.errors import ValidationFailed
from careeros_services.common.infra import free_port
from careeros_services.roadmap.proposer import AiCoreProposer
from careeros_services.roadmap.service import RoadmapService, Settings
from tests.roadmap.support import profile_updated


@pytest.fixture(scope="module")
def ai_core_address(config, fresh_store):
    fresh_store("ai_core")
    add, servicer, name = ai_core_registration(config)
    address = f"127.0.0.1:{free_port()}"
    server = grpc_support.serve([(add, servicer, name)], address, workers=2)
    grpc_support.wait_for_server(address, timeout_s=10)
    yield address
    server.stop(grace=None)
    servicer.service.store.close()


@pytest.fixture(scope="module")
def roadmaps(config, fresh_store, ai_core_address):
    proposer = AiCoreProposer(config, address=ai_core_address)
    yield RoadmapService(fresh_store("roadmap"), proposer, Settings())
    proposer.close()


def test_a_roadmap_from_the_real_knowledge_base(roadmaps):
    learner = {"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "org_role": "member",
               "plan_tier": "free"}
    assert roadmaps.handle_event(profile_updated(learner["tenant_id"], learner["user_id"], 2,
                                                 skills=[{"name": "Python", "level": 5}])) is True
    view = roadmaps.create_roadmap(Caller(**learner), {"target_role": "Data Engineer", "hours_per_week": 6})
    ms = view["milestones"]
    assert view["role_title"] and len(ms) >= 3
    positions = {m["skill_id"]: m["position"] for m in ms}
    assert all(positions[p] < m["position"] for m in ms for p in m["prerequisites"])
    python = [m for m in ms if m["skill_name"].casefold() == "python"]
    assert python and python[0]["skipped"] and python[0]["status"] == "skipped"
    assert all(week["hours"] <= 6 for week in view["schedule"])
    # Issue 14: what the role needs most leads (not Git and Linux by the alphabet), a milestone without a
    # catalog course says so and carries ai_core's practice task, and day one is neither ahead nor behind.
    order = [m["skill_id"] for m in sorted(ms, key=lambda m: m["position"])]
    assert order.index("sql") < order.index("git")
    engineering = next(m for m in ms if m["skill_id"] == "data_engineering")
    warehouse = next(m for m in ms if m["skill_id"] == "data_warehouse")
    assert warehouse["no_course"] and "star schema" in warehouse["practice_task"]
    assert engineering["courses"] or engineering["practice_task"]
    assert all(m["practice_task"] for m in ms if m["no_course"])
    assert view["progress"]["weeks_ahead"] == 0 and view["progress"]["schedule_status"] == "on_track"


def test_an_unknown_role_is_the_learners_mistake_and_creates_nothing(roadmaps):
    learner = {"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}
    with pytest.raises(ValidationFailed) as raised:
        roadmaps.create_roadmap(Caller(**learner), {"target_role": "Dragon tamer of the seven seas", "hours_per_week": 6})
    assert raised.value.code == "unknown_role" and "target_role" in raised.value.fields
