"""Roadmaps: from a target role to a plan of milestones. Pure Python.

A *proposal* (what ai_core's ProposeRoadmap returned: skills at a level with
prerequisites) is never trusted: :func:`validate_proposal` rejects unknown
prerequisites, duplicates, bad levels and cycles, whatever the provider said.
:func:`build_plan` then orders the milestones topologically (Kahn's algorithm:
prerequisites first, then the skill the target role needs most, then the
proposal's own order — never alphabetically), skips skills the learner already has at the needed level, links each
milestone to catalog courses and lessons and lays the hours out week by week
without ever putting more than ``hours_per_week`` into a week or starting a
milestone before its prerequisites are finished.

:func:`overlay` puts tracked progress (per course) and the learner's own marks
on a plan: percent and status per milestone, and whether the learner is ahead
of or behind the schedule.

No database, broker or framework here.
"""
from __future__ import annotations

import heapq
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Mapping, Optional, Sequence

from careeros_services.common import skills as skill_table
from careeros_services.common.errors import DomainError, ValidationFailed

STATUSES = ("pending", "learning", "done", "skipped")
MARKABLE = STATUSES  # a learner may mark any status (a mark can also be cleared)
MAX_HOURS_PER_WEEK = 80
MAX_ROLE = 120
MAX_MILESTONES = 500
MAX_MILESTONE_HOURS = 2000
DEFAULT_MILESTONE_HOURS = 10
MAX_COURSES_PER_MILESTONE = 3
LEVELS = range(1, 6)


class ProposalRejected(DomainError):
    """The roadmap provider returned a graph the roadmap service will not use."""

    code, status, grpc_status, title = ("roadmap_proposal_rejected", 502, "FAILED_PRECONDITION",
                                        "Roadmap proposal rejected")


# --- inputs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProposedMilestone:
    """One skill at a level, as the provider proposed it."""

    skill_id: str
    skill_name: str
    level: int
    estimated_hours: int = 0
    prerequisite_skill_ids: tuple[str, ...] = ()
    course_slugs: tuple[str, ...] = ()
    esco_uri: str = ""
    practice_task: str = ""       # ai_core's concrete task for a skill no catalog course teaches


@dataclass(frozen=True)
class Proposal:
    role_id: str
    role_title: str
    milestones: tuple[ProposedMilestone, ...]
    esco_occupation_uri: str = ""

    def to_dict(self) -> dict:
        return {"role_id": self.role_id, "role_title": self.role_title,
                "esco_occupation_uri": self.esco_occupation_uri,
                "milestones": [{"skill_id": m.skill_id, "skill_name": m.skill_name, "level": m.level,
                                "estimated_hours": m.estimated_hours, "esco_uri": m.esco_uri,
                                "prerequisite_skill_ids": list(m.prerequisite_skill_ids),
                                "course_slugs": list(m.course_slugs), "practice_task": m.practice_task}
                               for m in self.milestones]}

    @classmethod
    def from_dict(cls, data: dict) -> "Proposal":
        return cls(role_id=data["role_id"], role_title=data["role_title"],
                   esco_occupation_uri=data.get("esco_occupation_uri", ""),
                   milestones=tuple(ProposedMilestone(
                       skill_id=m["skill_id"], skill_name=m["skill_name"], level=m["level"],
                       estimated_hours=m.get("estimated_hours", 0), esco_uri=m.get("esco_uri", ""),
                       prerequisite_skill_ids=tuple(m.get("prerequisite_skill_ids", ())),
                       course_slugs=tuple(m.get("course_slugs", ())), practice_task=m.get("practice_task", ""))
                       for m in data["milestones"]))


@dataclass(frozen=True)
class CatalogLesson:
    lesson_id: str
    title: str
    required: bool = True
    estimated_minutes: int = 0


@dataclass(frozen=True)
class CatalogCourse:
    """A published course as the roadmap's read model knows it."""

    course_id: str
    slug: str
    title: str
    estimated_hours: int = 0
    skills: tuple[tuple[str, str, int], ...] = ()      # (name, esco_uri, level)
    lessons: tuple[CatalogLesson, ...] = ()
    archived: bool = False


@dataclass(frozen=True)
class Goal:
    """What the learner asked for (validated by :func:`parse_goal`)."""

    target_role: str
    hours_per_week: int
    deadline: Optional[date] = None


def skill_key(name: str) -> str:
    """Skills are matched by name, case-insensitively and Unicode-normalised."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def parse_goal(raw: Mapping, today: date) -> Goal:
    """Validate a learner's request; ValidationFailed names every bad field."""
    errors: dict[str, list[str]] = {}
    role = raw.get("target_role")
    if not isinstance(role, str) or not role.strip():
        errors["target_role"] = ["must be a non-empty string"]
    elif len(role.strip()) > MAX_ROLE or any(unicodedata.category(c) in ("Cc", "Cs") for c in role):
        errors["target_role"] = [f"must be at most {MAX_ROLE} characters without control characters"]
    hours = raw.get("hours_per_week")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS_PER_WEEK:
        errors["hours_per_week"] = [f"must be an integer between 1 and {MAX_HOURS_PER_WEEK}"]
    deadline = raw.get("deadline")
    if deadline in (None, ""):
        deadline = None
    elif isinstance(deadline, str):
        try:
            deadline = date.fromisoformat(deadline)
        except ValueError:
            errors["deadline"] = ["must be a date (YYYY-MM-DD)"]
            deadline = None
    elif not isinstance(deadline, date):
        errors["deadline"] = ["must be a date (YYYY-MM-DD)"]
        deadline = None
    if deadline is not None and deadline <= today:
        errors["deadline"] = ["must be in the future"]
    if errors:
        raise ValidationFailed("The roadmap request has invalid fields.", fields=errors)
    return Goal(target_role=role.strip(), hours_per_week=hours, deadline=deadline)


# --- the graph ----------------------------------------------------------------------------

def validate_proposal(proposal: Proposal) -> None:
    """Raise ProposalRejected unless the proposal is a well-formed DAG."""
    problems: list[str] = []
    milestones = proposal.milestones
    if not milestones:
        problems.append("no milestones")
    if len(milestones) > MAX_MILESTONES:
        problems.append(f"more than {MAX_MILESTONES} milestones")
    ids = {m.skill_id for m in milestones}
    seen: set[str] = set()
    for m in milestones:
        if not m.skill_id:
            problems.append("a milestone has no skill_id")
        if m.skill_id in seen:
            problems.append(f"skill {m.skill_id!r} is proposed twice")
        seen.add(m.skill_id)
        if not m.skill_name.strip() or len(m.skill_name) > 80:
            problems.append(f"skill {m.skill_id!r} has no usable name")
        if m.level not in LEVELS:
            problems.append(f"skill {m.skill_id!r} has level {m.level} (must be 1..5)")
        if not 0 <= m.estimated_hours <= MAX_MILESTONE_HOURS:
            problems.append(f"skill {m.skill_id!r} has {m.estimated_hours} estimated hours")
        for pre in m.prerequisite_skill_ids:
            if pre not in ids:
                problems.append(f"skill {m.skill_id!r} needs unknown prerequisite {pre!r}")
            elif pre == m.skill_id:
                problems.append(f"skill {m.skill_id!r} is its own prerequisite")
    if problems:
        raise ProposalRejected("; ".join(problems[:10]), fields={"milestones": problems[:10]})
    cycle = find_cycle({m.skill_id: m.prerequisite_skill_ids for m in milestones})
    if cycle:
        raise ProposalRejected("prerequisite cycle: " + " -> ".join(cycle),
                               fields={"milestones": ["prerequisite cycle: " + " -> ".join(cycle)]})


def find_cycle(prerequisites: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle (``[a, b, ..., a]``) in the prerequisite graph, or ``[]``. Iterative DFS."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {node: WHITE for node in prerequisites}
    for root in sorted(prerequisites):
        if colour[root] != WHITE:
            continue
        stack = [(root, iter(sorted(prerequisites[root])))]
        path = [root]
        colour[root] = GREY
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = BLACK
                stack.pop()
                path.pop()
                continue
            if child not in colour:
                continue
            if colour[child] == GREY:
                return path[path.index(child):] + [child]
            if colour[child] == WHITE:
                colour[child] = GREY
                stack.append((child, iter(sorted(prerequisites[child]))))
                path.append(child)
    return []


def depths(prerequisites: Mapping[str, Sequence[str]], order: Sequence[str]) -> dict[str, int]:
    """Longest path from a root to each node (roots are depth 0); ``order`` is topological."""
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = 1 + max((depth[p] for p in prerequisites[node]), default=-1)
    return depth


def needs(proposal: Proposal) -> dict[str, int]:
    """How much the target role needs each milestone: its level, or for a prerequisite the
    greatest need of what it unlocks (a prerequisite is as urgent as its dependants).

    One pass from the skills nothing depends on back to the roots (the graph is already validated)."""
    need = {m.skill_id: m.level for m in proposal.milestones}
    prerequisites = {m.skill_id: set(m.prerequisite_skill_ids) for m in proposal.milestones}
    waiting = dict.fromkeys(need, 0)      # dependants not yet passed back
    for pres in prerequisites.values():
        for pre in pres:
            waiting[pre] += 1
    ready = [node for node, count in waiting.items() if count == 0]
    while ready:
        node = ready.pop()
        for pre in prerequisites[node]:
            need[pre] = max(need[pre], need[node])
            waiting[pre] -= 1
            if waiting[pre] == 0:
                ready.append(pre)
    return need


def topological_order(prerequisites: Mapping[str, Sequence[str]],
                      need: Optional[Mapping[str, int]] = None) -> list[str]:
    """Kahn's algorithm: a node is ready once its prerequisites are placed; among ready nodes the
    one with the greatest ``need`` goes first, then the one given first in ``prerequisites``
    (the proposal's order). Deterministic, and never an alphabetical tie-break."""
    need = need or {}
    given = {node: i for i, node in enumerate(prerequisites)}
    dependants: dict[str, list[str]] = {node: [] for node in prerequisites}
    missing = {node: len(set(pres)) for node, pres in prerequisites.items()}
    for node, pres in prerequisites.items():
        for pre in set(pres):
            dependants[pre].append(node)
    ready = [(-need.get(node, 0), given[node], node) for node, count in missing.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        *_key, node = heapq.heappop(ready)
        order.append(node)
        for child in dependants[node]:
            missing[child] -= 1
            if missing[child] == 0:
                heapq.heappush(ready, (-need.get(child, 0), given[child], child))
    if len(order) != len(prerequisites):
        raise ProposalRejected("prerequisite cycle", fields={"milestones": ["prerequisite cycle"]})
    return order


# --- the plan -----------------------------------------------------------------------------

class CourseIndex:
    """The active catalog indexed by slug and by the skills (name or ESCO URI) courses teach."""

    def __init__(self, catalog: Sequence[CatalogCourse]):
        self.by_slug: dict[str, CatalogCourse] = {}
        for course in sorted(catalog, key=lambda c: (c.slug, c.course_id)):
            if not course.archived:
                self.by_slug[course.slug] = course
        self.by_skill: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for slug, course in sorted(self.by_slug.items()):
            for name, uri, level in course.skills:
                self.by_skill.setdefault(("name", skill_key(name)), []).append((slug, level))
                if uri:
                    self.by_skill.setdefault(("uri", uri), []).append((slug, level))

    def link(self, milestone: ProposedMilestone) -> list[CatalogCourse]:
        """The provider's slugs first (if in the catalog and not archived), then courses
        teaching the skill at the level or above, by slug; at most 3."""
        chosen = [slug for slug in dict.fromkeys(milestone.course_slugs) if slug in self.by_slug]
        teaching = self.by_skill.get(("name", skill_key(milestone.skill_name)), [])
        if milestone.esco_uri:
            teaching = teaching + self.by_skill.get(("uri", milestone.esco_uri), [])
        for slug in sorted({slug for slug, level in teaching if level >= milestone.level}):
            if slug not in chosen:
                chosen.append(slug)
        return [self.by_slug[slug] for slug in chosen[:MAX_COURSES_PER_MILESTONE]]


def link_courses(milestone: ProposedMilestone, catalog: Sequence[CatalogCourse]) -> list[CatalogCourse]:
    """The milestone's courses in ``catalog`` (see :meth:`CourseIndex.link`)."""
    return CourseIndex(catalog).link(milestone)


def build_plan(proposal: Proposal, known_skills: Mapping[str, int], catalog: Sequence[CatalogCourse],
               goal: Goal, starts_on: date, progress: Optional[Mapping[str, "CourseProgress"]] = None,
               marks: Optional[Mapping[str, str]] = None) -> dict:
    """The roadmap for ``goal``: ordered milestones, course links and a weekly schedule.

    ``known_skills`` maps :func:`learner_skill_key` keys to the learner's level. ``progress`` and
    ``marks`` as they stand when the plan is made are its baseline: ahead/behind counts
    only what is done after ``starts_on``. Raises ProposalRejected when the proposal is not a DAG.
    """
    validate_proposal(proposal)
    by_id = {m.skill_id: m for m in proposal.milestones}
    prerequisites = {m.skill_id: tuple(dict.fromkeys(m.prerequisite_skill_ids)) for m in proposal.milestones}
    order = topological_order(prerequisites, needs(proposal))
    depth = depths(prerequisites, order)
    hpw = goal.hours_per_week
    courses_index = CourseIndex(catalog)
    cursor = 0  # hours into the plan; week n (1-based) holds hours [(n-1)*hpw, n*hpw)
    milestones: list[dict] = []
    for position, skill_id in enumerate(order):
        m = by_id[skill_id]
        courses = courses_index.link(m)
        hours = m.estimated_hours or sum(c.estimated_hours for c in courses) or DEFAULT_MILESTONE_HOURS
        known = int(known_skills.get(learner_skill_key(m.skill_name, m.esco_uri), 0))
        skipped = known >= m.level
        # A skill known at a lower level needs only the rest of the way.
        planned = 0 if skipped else math.ceil(hours * (m.level - known) / m.level)
        start = cursor
        cursor += planned
        milestones.append({
            "skill_id": m.skill_id, "skill_name": m.skill_name, "esco_uri": m.esco_uri,
            "level": m.level, "known_level": known, "depth": depth[skill_id], "position": position,
            "prerequisites": list(prerequisites[skill_id]),
            "skipped": skipped, "estimated_hours": hours, "planned_hours": planned,
            "start_hour": start, "end_hour": cursor,
            "start_week": None if skipped else start // hpw + 1,
            "end_week": None if skipped else max(start, cursor - 1) // hpw + 1,
            "courses": [{"course_id": c.course_id, "slug": c.slug, "title": c.title,
                         "estimated_hours": c.estimated_hours} for c in courses],
            "no_course": not courses,
            "practice_task": "" if courses else (m.practice_task or _generic_practice(m.skill_name)),
            "lessons": [{"course_id": c.course_id, "lesson_id": lesson.lesson_id, "title": lesson.title,
                         "required": lesson.required} for c in courses for lesson in c.lessons],
        })
    schedule = weekly_schedule(milestones, hpw, starts_on)
    weeks = len(schedule)
    finishes_on = starts_on + timedelta(days=7 * weeks) if weeks else starts_on
    summary = {"total_hours": cursor, "weeks": weeks, "starts_on": starts_on.isoformat(),
               "finishes_on": finishes_on.isoformat(),
               "deadline": goal.deadline.isoformat() if goal.deadline else None,
               "fits_deadline": True, "hours_per_week_needed": hpw,
               "baseline_done_hours": round(done_hours(milestones, progress or {}, marks or {}), 1)}
    if goal.deadline is not None:
        weeks_available = max(1, (goal.deadline - starts_on).days // 7)
        summary["fits_deadline"] = finishes_on <= goal.deadline
        summary["hours_per_week_needed"] = max(1, math.ceil(cursor / weeks_available)) if cursor else 0
    return {"role_id": proposal.role_id, "role_title": proposal.role_title,
            "esco_occupation_uri": proposal.esco_occupation_uri,
            "target_role": goal.target_role, "hours_per_week": hpw, "milestones": milestones,
            "schedule": schedule, "summary": summary}


def _generic_practice(skill_name: str) -> str:
    return (f"No catalog course teaches {skill_name} yet: build a small, finished project that uses it end to end "
            "and have someone experienced review it")


def weekly_schedule(milestones: Sequence[dict], hours_per_week: int, starts_on: date) -> list[dict]:
    """Split each milestone's ``[start_hour, end_hour)`` over the weeks it spans."""
    weeks: dict[int, list[dict]] = {}
    for m in milestones:
        hour = m["start_hour"]
        while hour < m["end_hour"]:
            week = hour // hours_per_week + 1
            week_end = week * hours_per_week
            chunk = min(m["end_hour"], week_end) - hour
            weeks.setdefault(week, []).append({"skill_id": m["skill_id"], "hours": chunk})
            hour += chunk
    return [{"week": week, "starts_on": (starts_on + timedelta(days=7 * (week - 1))).isoformat(),
             "hours": sum(i["hours"] for i in items), "items": items}
            for week, items in sorted(weeks.items())]


# --- progress overlay ---------------------------------------------------------------------

@dataclass(frozen=True)
class CourseProgress:
    percent: int
    completed: bool


@dataclass(frozen=True)
class MilestoneState:
    skill_id: str
    percent: int
    status: str
    tracked_status: str           # what the evidence alone says
    marked: Optional[str]         # the learner's own mark, if any
    evidence_courses: tuple[str, ...] = field(default_factory=tuple)  # completed course ids

    @property
    def achieved_by_evidence(self) -> bool:
        return self.tracked_status == "done" and bool(self.evidence_courses)


def milestone_state(milestone: dict, progress: Mapping[str, CourseProgress],
                    mark: Optional[str]) -> MilestoneState:
    """Percent and status of one milestone. A learner's mark wins over the evidence."""
    course_ids = [c["course_id"] for c in milestone["courses"]]
    if milestone["skipped"]:
        tracked, percent = "skipped", 100
    elif not course_ids:
        tracked, percent = "pending", 0
    else:
        percents = [progress[c].percent if c in progress else 0 for c in course_ids]
        percent = sum(percents) // len(percents)
        if all(c in progress and progress[c].completed for c in course_ids):
            tracked, percent = "done", 100
        elif any(p > 0 for p in percents):
            tracked = "learning"
        else:
            tracked = "pending"
    done_courses = tuple(c for c in course_ids if c in progress and progress[c].completed)
    status = mark or tracked
    if status == "done":
        percent = 100
    return MilestoneState(milestone["skill_id"], percent, status, tracked, mark, done_courses)


def overlay(plan: dict, progress: Mapping[str, CourseProgress], marks: Mapping[str, str],
            today: date, margin_weeks: float) -> dict:
    """The plan's milestones with percent and status, and the schedule position.

    ``schedule_status`` is ``ahead`` / ``on_track`` / ``behind`` by at least
    half a week of hours; ``regenerate`` is true when the learner is behind by
    more than ``margin_weeks`` weeks of hours.
    """
    hpw = plan["hours_per_week"]
    states = {m["skill_id"]: milestone_state(m, progress, marks.get(m["skill_id"])) for m in plan["milestones"]}
    total = plan["summary"]["total_hours"]
    done = _done_hours(plan["milestones"], states)
    # Measured from the plan's start: what was done before it is its baseline, not a lead.
    baseline = float(plan["summary"].get("baseline_done_hours", 0))
    elapsed_days = max(0, (today - date.fromisoformat(plan["summary"]["starts_on"])).days)
    expected = min(max(0.0, float(total) - baseline), elapsed_days / 7 * hpw)
    delta_weeks = round((done - baseline - expected) / hpw, 2)
    status = "ahead" if delta_weeks >= 0.5 else "behind" if delta_weeks <= -0.5 else "on_track"
    return {
        "milestones": {k: {"percent": s.percent, "status": s.status, "tracked_status": s.tracked_status,
                           "marked": s.marked} for k, s in states.items()},
        "percent": round(100 * done / total) if total else 100,
        "done_hours": round(done, 1), "expected_hours": round(expected, 1),
        "weeks_ahead": delta_weeks, "schedule_status": status,
        "regenerate": -delta_weeks > margin_weeks,
        "counts": {st: sum(1 for s in states.values() if s.status == st) for st in STATUSES},
        "states": states,
    }


def _done_hours(milestones: Sequence[dict], states: Mapping[str, MilestoneState]) -> float:
    return sum(m["planned_hours"] * states[m["skill_id"]].percent / 100 for m in milestones
               if states[m["skill_id"]].status != "skipped")


def done_hours(milestones: Sequence[dict], progress: Mapping[str, CourseProgress], marks: Mapping[str, str]) -> float:
    """Planned hours already done by tracked progress and marks (a plan's baseline at its start)."""
    states = {m["skill_id"]: milestone_state(m, progress, marks.get(m["skill_id"])) for m in milestones}
    return _done_hours(milestones, states)


def learner_skill_key(name: str, esco_uri: str = "") -> str:
    """The same skill under any of its names: the shared skill table's key (common.skills), so "Excel"
    in a profile is the Spreadsheets milestone."""
    return skill_table.key(name, esco_uri or "")


def known_from(skills: Iterable[Mapping]) -> dict[str, int]:
    """A profile's ``[{name, level, esco_uri?}]`` as ``{learner_skill_key: level}`` (highest level wins)."""
    known: dict[str, int] = {}
    for s in skills:
        key = learner_skill_key(s["name"], s.get("esco_uri") or "")
        known[key] = max(known.get(key, 0), int(s["level"]))
    return known
