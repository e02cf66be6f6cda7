"""Roadmap domain: graph checks, plans, schedules and the progress overlay (pure, no I/O)."""
from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from careeros_services.common.errors import ValidationFailed
from careeros_services.roadmap import domain, rendering
from careeros_services.roadmap.domain import (CatalogCourse, CatalogLesson, CourseProgress, Goal, Proposal,
                                              ProposalRejected, ProposedMilestone as PM)

TODAY = date(2026, 11, 30)


def proposal(*milestones: PM) -> Proposal:
    return Proposal(role_id="data-engineer", role_title="Data Engineer", milestones=tuple(milestones))


DE = proposal(
    PM("python", "Python", 2, 20),
    PM("sql", "SQL", 3, 15),
    PM("git", "Git", 2, 5),
    PM("etl", "ETL pipelines", 3, 30, ("python", "sql")),
    PM("airflow", "Airflow", 3, 25, ("etl", "git")),
)
CATALOG = [
    CatalogCourse("c-sql", "sql-basics", "SQL basics", 12, (("SQL", "", 3),),
                  (CatalogLesson("l1", "SELECT"), CatalogLesson("l2", "JOIN", False))),
    CatalogCourse("c-etl", "etl-101", "ETL 101", 30, (("ETL pipelines", "", 3),)),
    CatalogCourse("c-old", "old-sql", "Old SQL", 5, (("SQL", "", 5),), archived=True),
]


# --- goals ---------------------------------------------------------------------------------

def test_parse_goal_names_every_bad_field():
    with pytest.raises(ValidationFailed) as raised:
        domain.parse_goal({"target_role": " ", "hours_per_week": 0, "deadline": "tomorrow"}, TODAY)
    assert set(raised.value.fields) == {"target_role", "hours_per_week", "deadline"}
    with pytest.raises(ValidationFailed) as raised:
        domain.parse_goal({"target_role": "X", "hours_per_week": True, "deadline": "2020-01-01"}, TODAY)
    assert set(raised.value.fields) == {"hours_per_week", "deadline"}
    goal = domain.parse_goal({"target_role": " Data Engineer ", "hours_per_week": 8,
                              "deadline": "2027-03-01"}, TODAY)
    assert goal == Goal("Data Engineer", 8, date(2027, 3, 1))


# --- graph checks --------------------------------------------------------------------------

def test_cycle_is_rejected_with_its_path():
    bad = proposal(PM("a", "A", 1, 1, ("c",)), PM("b", "B", 1, 1, ("a",)), PM("c", "C", 1, 1, ("b",)))
    with pytest.raises(ProposalRejected) as raised:
        domain.validate_proposal(bad)
    assert "cycle" in raised.value.detail and raised.value.code == "roadmap_proposal_rejected"
    assert domain.find_cycle({"a": ["c"], "b": ["a"], "c": ["b"]}) == ["a", "c", "b", "a"]


@pytest.mark.parametrize("milestones, fragment", [
    ((PM("a", "A", 1, 1, ("ghost",)),), "unknown prerequisite 'ghost'"),
    ((PM("a", "A", 1, 1, ("a",)),), "its own prerequisite"),
    ((PM("a", "A", 1), PM("a", "A2", 2)), "proposed twice"),
    ((PM("a", "A", 7),), "level 7"),
    ((PM("a", "A", 1, -3),), "-3 estimated hours"),
    ((), "no milestones"),
])
def test_malformed_proposals_are_rejected(milestones, fragment):
    with pytest.raises(ProposalRejected) as raised:
        domain.validate_proposal(proposal(*milestones))
    assert fragment in raised.value.detail


def test_topological_order_puts_prerequisites_first_then_need_then_the_given_order_never_the_alphabet():
    prereqs = {"z": (), "a": ("z",), "m": (), "b": ("m", "a")}
    assert domain.topological_order(prereqs) == ["z", "a", "m", "b"]            # as given, not alphabetical
    assert domain.topological_order(prereqs, {"m": 5, "z": 1}) == ["m", "z", "a", "b"]   # the most needed first
    assert domain.topological_order(dict(reversed(list(prereqs.items())))) == ["m", "z", "a", "b"]


def test_a_prerequisite_is_as_urgent_as_what_it_unlocks():
    need = domain.needs(DE)
    assert need == {"python": 3, "sql": 3, "git": 3, "etl": 3, "airflow": 3}   # git (level 2) unlocks airflow (3)
    low = proposal(PM("linux", "Linux", 2, 5), PM("git", "Git", 3, 5), PM("python", "Python", 4, 20))
    plan = domain.build_plan(low, {}, [], Goal("x", 10), TODAY)
    assert [m["skill_id"] for m in plan["milestones"]] == ["python", "git", "linux"]


# --- plans ---------------------------------------------------------------------------------

def test_plan_skips_known_skills_links_courses_and_schedules_weeks():
    plan = domain.build_plan(DE, {"sql": 4, "python": 1}, CATALOG, Goal("Data Engineer", 10), TODAY)
    by_id = {m["skill_id"]: m for m in plan["milestones"]}
    assert [m["skill_id"] for m in plan["milestones"]] == ["python", "sql", "git", "etl", "airflow"]
    assert by_id["sql"]["skipped"] and by_id["sql"]["planned_hours"] == 0 and by_id["sql"]["start_week"] is None
    assert by_id["python"]["planned_hours"] == 10           # known at 1 of 2: half the 20 hours
    assert [c["slug"] for c in by_id["sql"]["courses"]] == ["sql-basics"]   # archived course not linked
    assert [le["lesson_id"] for le in by_id["sql"]["lessons"]] == ["l1", "l2"]
    assert by_id["etl"]["courses"][0]["course_id"] == "c-etl" and by_id["etl"]["depth"] == 1
    assert by_id["airflow"]["depth"] == 2
    assert plan["summary"]["total_hours"] == 5 + 10 + 30 + 25
    assert [w["hours"] for w in plan["schedule"]] == [10] * 7
    assert plan["schedule"][0]["items"] == [{"skill_id": "python", "hours": 10}]
    assert plan["schedule"][1]["items"] == [{"skill_id": "git", "hours": 5}, {"skill_id": "etl", "hours": 5}]
    assert plan["summary"]["finishes_on"] == (TODAY + timedelta(weeks=7)).isoformat()


def test_deadline_that_cannot_be_met_says_how_many_hours_a_week_it_needs():
    plan = domain.build_plan(DE, {}, CATALOG, Goal("Data Engineer", 5, TODAY + timedelta(weeks=5)), TODAY)
    assert plan["summary"]["fits_deadline"] is False
    assert plan["summary"]["hours_per_week_needed"] == 19  # 95 hours over 5 weeks
    relaxed = domain.build_plan(DE, {}, CATALOG, Goal("Data Engineer", 40, TODAY + timedelta(weeks=5)), TODAY)
    assert relaxed["summary"]["fits_deadline"] is True


def test_provider_hours_missing_fall_back_to_course_hours():
    plan = domain.build_plan(proposal(PM("sql", "sql", 3, 0)), {}, CATALOG, Goal("X", 4), TODAY)
    assert plan["milestones"][0]["estimated_hours"] == 12


# --- overlay -------------------------------------------------------------------------------

def test_overlay_percent_status_marks_and_schedule_position():
    plan = domain.build_plan(DE, {"sql": 4}, CATALOG, Goal("Data Engineer", 10), TODAY)
    progress = {"c-etl": CourseProgress(50, False)}
    view = domain.overlay(plan, progress, {"git": "done"}, TODAY + timedelta(weeks=1), margin_weeks=2)
    ms = view["milestones"]
    assert ms["sql"]["status"] == "skipped" and ms["git"] == {
        "percent": 100, "status": "done", "tracked_status": "pending", "marked": "done"}
    assert ms["etl"]["status"] == "learning" and ms["etl"]["percent"] == 50
    assert ms["python"]["status"] == "pending" and ms["airflow"]["percent"] == 0
    # done: 5 (git) + 15 (half of etl) = 20 hours after one week of 10 -> a week ahead
    assert view["done_hours"] == 20 and view["expected_hours"] == 10
    assert view["schedule_status"] == "ahead" and view["regenerate"] is False
    late = domain.overlay(plan, {}, {}, TODAY + timedelta(weeks=4), margin_weeks=2)
    assert late["schedule_status"] == "behind" and late["weeks_ahead"] == -4 and late["regenerate"] is True
    done = domain.overlay(plan, {"c-etl": CourseProgress(100, True)}, {}, TODAY, 2)
    assert done["states"]["etl"].achieved_by_evidence and done["states"]["etl"].evidence_courses == ("c-etl",)
    assert not done["states"]["git"].achieved_by_evidence  # no course, no evidence


def test_ahead_or_behind_counts_from_the_plans_start_zero_on_day_one():
    before = {"c-etl": CourseProgress(100, True), "c-sql": CourseProgress(50, False)}
    plan = domain.build_plan(DE, {}, CATALOG, Goal("Data Engineer", 10), TODAY, progress=before, marks={"git": "done"})
    assert plan["summary"]["baseline_done_hours"] == 30 + 5 + 7.5       # etl, git, half of sql
    day_one = domain.overlay(plan, before, {"git": "done"}, TODAY, 2)
    assert day_one["weeks_ahead"] == 0 and day_one["schedule_status"] == "on_track"
    assert day_one["done_hours"] == 42.5                                  # progress still shows
    week_two = domain.overlay(plan, before, {"git": "done"}, TODAY + timedelta(weeks=2), 2)
    assert week_two["weeks_ahead"] == -2 and week_two["schedule_status"] == "behind"   # nothing new done
    caught_up = domain.overlay(plan, {**before, "c-sql": CourseProgress(100, True)}, {"git": "done"},
                               TODAY + timedelta(days=3), 2)
    assert caught_up["weeks_ahead"] == round((7.5 - 3 / 7 * 10) / 10, 2)


def test_milestones_without_a_course_say_so_and_carry_a_practice_task():
    with_task = proposal(PM("python", "Python", 2, 20, practice_task="Write a CLI to-do app with tests"),
                         PM("sql", "SQL", 3, 15), PM("dw", "Data warehousing", 3, 40))
    by_id = {m["skill_id"]: m for m in domain.build_plan(with_task, {}, CATALOG, Goal("x", 10), TODAY)["milestones"]}
    assert by_id["python"]["no_course"] and by_id["python"]["practice_task"] == "Write a CLI to-do app with tests"
    assert by_id["dw"]["no_course"] and "Data warehousing" in by_id["dw"]["practice_task"]   # generic fallback
    assert not by_id["sql"]["no_course"] and by_id["sql"]["practice_task"] == ""


def test_known_from_takes_the_highest_level_per_case_insensitive_name():
    assert domain.known_from([{"name": "SQL", "level": 2}, {"name": " sql", "level": 4}]) == {"sql": 4}
    assert domain.known_from([{"name": "Underwater basket weaving", "level": 2}]) == {
        "name:underwater basket weaving": 2}


def test_a_skill_known_under_an_alias_is_credited_at_its_level():
    spreadsheets = PM("spreadsheets", "Spreadsheets", 3, 30, ())
    prop = proposal(spreadsheets, PM("budgeting", "Budgeting", 2, 20, ("spreadsheets",)))
    fresh = domain.build_plan(prop, {}, [], Goal("Analyst", 10), TODAY)
    with_excel = domain.build_plan(prop, domain.known_from([{"name": "Excel", "level": 2}]), [],
                                   Goal("Analyst", 10), TODAY)
    hours = {m["skill_id"]: m["planned_hours"] for m in with_excel["milestones"]}
    assert {m["skill_id"]: m["planned_hours"] for m in fresh["milestones"]}["spreadsheets"] == 30
    assert hours["spreadsheets"] == 10 and hours["budgeting"] == 20      # 1 of 3 levels left: a third


# --- pictures ------------------------------------------------------------------------------

def _version(plan: dict) -> dict:
    view = domain.overlay(plan, {}, {}, TODAY, 2)
    return {"target_role": plan["target_role"], "version": 1, "progress": view,
            "milestones": [{**m, **view["milestones"][m["skill_id"]]} for m in plan["milestones"]]}


def test_svg_is_well_formed_and_escapes_text():
    evil = proposal(PM("x", "<script>alert('&')</script>", 1, 3), PM("y", 'A "B" & C', 2, 3, ("x",)))
    plan = domain.build_plan(evil, {}, [], Goal("Role </svg><b>", 5), TODAY)
    svg = rendering.render_svg(_version(plan))
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    groups = root.findall("{http://www.w3.org/2000/svg}g")
    assert [g.get("data-skill") for g in groups] == ["x", "y"]
    assert len(root.findall("{http://www.w3.org/2000/svg}path")) == 1  # one edge x -> y


def test_mermaid_export_has_nodes_edges_and_no_raw_quotes():
    plan = domain.build_plan(proposal(PM("x", 'Say "hi"', 1, 3), PM("y", "Y", 2, 3, ("x",))), {}, [],
                             Goal("R", 5), TODAY)
    text = rendering.render_mermaid(_version(plan))
    assert text.startswith("flowchart LR\n") and "m0 --> m1" in text
    assert 'Say #34;hi#34;' in text and ":::pending" in text


# --- properties ----------------------------------------------------------------------------

@st.composite
def role_graphs(draw):
    """A random DAG (edges only from lower to higher index, then ids shuffled), a profile and a goal."""
    n = draw(st.integers(1, 25))
    ids = draw(st.lists(st.text("abcdefghijklmnop", min_size=1, max_size=6), min_size=n, max_size=n,
                        unique=True))
    milestones = []
    for i, skill_id in enumerate(ids):
        pres = draw(st.lists(st.sampled_from(ids[:i]), max_size=4, unique=True)) if i else []
        milestones.append(PM(skill_id, f"Skill {skill_id}", draw(st.integers(1, 5)), draw(st.integers(0, 60)),
                             tuple(pres)))
    milestones = draw(st.permutations(milestones))
    known = draw(st.dictionaries(st.sampled_from([domain.learner_skill_key(f"Skill {i}") for i in ids]),
                                 st.integers(1, 5), max_size=n))
    goal = Goal("Role", draw(st.integers(1, 40)))
    return proposal(*milestones), known, goal


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role_graphs())
def test_every_plan_is_acyclic_respects_prerequisites_skips_known_and_fits_each_week(case):
    prop, known, goal = case
    plan = domain.build_plan(prop, known, [], goal, TODAY)
    order = [m["skill_id"] for m in plan["milestones"]]
    assert sorted(order) == sorted(m.skill_id for m in prop.milestones)
    position = {s: i for i, s in enumerate(order)}
    by_id = {m["skill_id"]: m for m in plan["milestones"]}
    assert domain.find_cycle({m["skill_id"]: m["prerequisites"] for m in plan["milestones"]}) == []
    for m in plan["milestones"]:
        for pre in m["prerequisites"]:
            assert position[pre] < position[m["skill_id"]]                 # order respects prerequisites
            assert by_id[pre]["end_hour"] <= m["start_hour"]               # ... and so does time
            assert by_id[pre]["depth"] < m["depth"]
        skill_known = known.get(domain.learner_skill_key(m["skill_name"], m["esco_uri"]), 0)
        assert m["skipped"] == (skill_known >= m["level"])                  # known skills skipped
        if m["skipped"]:
            assert m["planned_hours"] == 0 and m["start_week"] is None
    for week in plan["schedule"]:
        assert 0 < week["hours"] <= goal.hours_per_week                    # each week fits
        assert week["hours"] == sum(i["hours"] for i in week["items"])
    scheduled = {}
    for week in plan["schedule"]:
        for item in week["items"]:
            scheduled[item["skill_id"]] = scheduled.get(item["skill_id"], 0) + item["hours"]
    assert scheduled == {m["skill_id"]: m["planned_hours"] for m in plan["milestones"] if m["planned_hours"]}
    assert domain.build_plan(prop, known, [], goal, TODAY) == plan           # deterministic


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefg"), st.lists(st.sampled_from("abcdefg"), max_size=3), min_size=1))
def test_any_graph_with_a_cycle_is_rejected_and_any_other_is_ordered(graph):
    graph = {k: tuple(p for p in v if p in graph) for k, v in graph.items()}
    cycle = domain.find_cycle(graph)
    if cycle:
        assert cycle[0] == cycle[-1] and all(cycle[i + 1] in graph[cycle[i]] for i in range(len(cycle) - 1))
        with pytest.raises(ProposalRejected):
            domain.topological_order(graph)
    else:
        order = domain.topological_order(graph)
        assert all(order.index(p) < order.index(k) for k, v in graph.items() for p in v)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role_graphs(), st.data())
def test_overlay_percent_and_status_are_always_consistent(case, data):
    prop, known, goal = case
    courses = [CatalogCourse(f"c-{m.skill_id}", f"course-{m.skill_id}", m.skill_name, 5,
                             ((m.skill_name, "", 5),)) for m in prop.milestones]
    plan = domain.build_plan(prop, known, courses, goal, TODAY)
    percents = data.draw(st.lists(st.sampled_from([0, 30, 100]), min_size=len(courses), max_size=len(courses)))
    progress = {c.course_id: CourseProgress(p, p == 100) for c, p in zip(courses, percents)}
    marks = data.draw(st.dictionaries(st.sampled_from([m.skill_id for m in prop.milestones]),
                                      st.sampled_from(domain.STATUSES), max_size=3))
    view = domain.overlay(plan, progress, marks, TODAY + timedelta(days=data.draw(st.integers(0, 400))), 2)
    for m in plan["milestones"]:
        state = view["milestones"][m["skill_id"]]
        assert 0 <= state["percent"] <= 100 and state["status"] in domain.STATUSES
        assert state["status"] == (marks.get(m["skill_id"]) or state["tracked_status"])
        if m["skipped"]:
            assert state["tracked_status"] == "skipped"
        elif state["tracked_status"] == "done":
            assert all(progress[c["course_id"]].completed for c in m["courses"]) and m["courses"]
    assert sum(view["counts"].values()) == len(plan["milestones"])
    assert view["schedule_status"] in ("ahead", "on_track", "behind")
    assert view["regenerate"] == (-view["weeks_ahead"] > 2)
