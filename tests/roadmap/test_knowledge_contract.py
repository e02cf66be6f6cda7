"""ai_core's knowledge base and the LMS seed catalog, through the roadmap's graph logic: every role
graph (as ProposeRoadmap builds it for the roadmap, no known skills) is a valid DAG, and plans link
the seed courses."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from careeros_services.ai_core import domain as ai_domain, knowledge
from careeros_services.roadmap import domain
from careeros_services.roadmap.domain import CatalogCourse, CatalogLesson, Goal, Proposal, ProposedMilestone

KB = knowledge.default()
SEED = json.loads((Path(__file__).resolve().parents[2] / "careeros_services/lms/seed/catalog.json").read_text())
CATALOG = [CatalogCourse(
    course_id=c["id"], slug=c["slug"], title=c["title"], estimated_hours=c["estimated_hours"],
    skills=tuple((s["name"], s.get("esco_uri", ""), s["level"]) for s in c["skills"]),
    lessons=tuple(CatalogLesson(le["id"], le["title"], le["required"], le["estimated_minutes"])
                  for m in c["modules"] for le in m["lessons"])) for c in SEED["courses"]]


def role_proposal(role) -> Proposal:
    return Proposal(role.id, role.title, tuple(ProposedMilestone(
        skill_id=m["skill_id"], skill_name=m["skill_name"], level=m["level"], esco_uri=m["esco_uri"],
        estimated_hours=m["estimated_hours"], prerequisite_skill_ids=tuple(m["prerequisite_skill_ids"]),
        course_slugs=tuple(m["course_slugs"])) for m in ai_domain.plan_milestones(KB, role, {})))


@pytest.mark.parametrize("role_id", sorted(KB.roles))
def test_every_role_graph_is_a_valid_dag_and_plans_within_the_weekly_hours(role_id):
    proposal = role_proposal(KB.roles[role_id])
    plan = domain.build_plan(proposal, {}, CATALOG, Goal(proposal.role_title, 7), date(2026, 12, 1))
    assert len(plan["milestones"]) == len(proposal.milestones) > 0
    assert all(week["hours"] <= 7 for week in plan["schedule"])


def test_seed_courses_are_linked_to_milestones():
    linked = set()
    for role in KB.roles.values():
        plan = domain.build_plan(role_proposal(role), {}, CATALOG, Goal(role.title, 10), date(2026, 12, 1))
        linked |= {c["slug"] for m in plan["milestones"] for c in m["courses"]}
    assert len(linked) >= 10, sorted(linked)
