"""What each intent of a message needs beyond the gap analysis, computed from the knowledge base.

Pure. :func:`topic_for` returns the ``topic`` part of the facts: a time budget
against the hours needed, two roles compared, one skill explained, the next
step after a finished course, interview preparation, CV feedback, course
choices under the stated budget, or what the consultant can help with. Every
provider writes from these numbers, so a hosted model and the embedded writer
say the same thing about time, hours and overlap. No salary or demand figures
exist here: CareerOS has none.
"""
from __future__ import annotations

import math
from typing import Optional

from careeros_services.ai_core import conversation, domain
from careeros_services.ai_core.domain import Course, Facts, LearnerProfile
from careeros_services.ai_core.knowledge import KnowledgeBase, Role, normalise
from careeros_services.common import esco

CAPABILITIES = (
    "map the gap to a target role (skills, levels and hours)",
    "answer 'what if I aimed for another role?' and compare two roles",
    "check whether a time budget (hours a week, a deadline) fits, and what to drop or which pace fits",
    "pick courses that are free or included in your plan, at your level",
    "explain a skill: what it is, why the role needs it, how it is usually learnt",
    "say what to do after finishing a course or milestone",
    "prepare interviews for a role",
    "give feedback on your uploaded CV against the target role",
)


def topic_for(kb: KnowledgeBase, facts: Facts, reading: conversation.Reading, state: conversation.State,
              courses: list[Course], profile: LearnerProfile) -> dict:
    """The intent's own facts (``{"kind": intent, ...}``)."""
    role, intent = facts.role, facts.intent
    builders = {"time_fit": lambda: time_fit(kb, facts, state.constraints),
                "compare": lambda: compare(kb, facts, reading, state),
                "what_if": lambda: compare(kb, facts, reading, state, previous=True),
                "explain_skill": lambda: explain(kb, facts, reading, courses, state),
                "next_after": lambda: next_after(kb, facts, reading, courses, state),
                "courses": lambda: course_choice(kb, facts, courses, state),
                "interview": lambda: {"topics": list(role.interview_topics) if role else [],
                                      "revise": [g["name"] for g in facts.gaps[:4]]},
                "cv_feedback": lambda: cv_feedback(kb, facts, state)}
    if intent == "overview":
        return {"kind": intent, "alternatives": "alternatives" in reading.cues}
    if role is None or intent not in builders:
        return {"kind": intent, "capabilities": list(CAPABILITIES)} if intent == "help" else {"kind": intent}
    return {"kind": intent, **builders[intent]()}


def _needed(facts: Facts) -> int:
    return sum(a["estimated_hours"] for a in facts.next_actions)


def time_fit(kb: KnowledgeBase, facts: Facts, c: conversation.Constraints) -> dict:
    """Hours needed (every milestone, prerequisites included) against hours available."""
    needed = _needed(facts)
    out: dict = {"hours_needed": needed, "hours_per_week": c.hours_per_week, "weeks_available": c.weeks_available,
                 "hours_available": None, "fits": None, "weeks_needed": None, "hours_per_week_needed": None,
                 "drop": [], "hours_after_drop": needed, "closer_role": None}
    if c.hours_per_week:
        out["weeks_needed"] = math.ceil(needed / c.hours_per_week) if needed else 0
    if c.weeks_available:
        out["hours_per_week_needed"] = math.ceil(needed / c.weeks_available) if needed else 0
    if c.hours_per_week and c.weeks_available:
        available = c.hours_per_week * c.weeks_available
        out.update(hours_available=available, fits=needed <= available)
        if needed > available:
            out["drop"], out["hours_after_drop"] = _what_to_drop(kb, facts, available)
            out["closer_role"] = closer_role(kb, facts, available)
    return out


def _what_to_drop(kb: KnowledgeBase, facts: Facts, available: int) -> tuple[list[dict], int]:
    """Postpone only what the role needs least (below its highest required level, nothing still
    planned waiting on it), smallest need first, until the rest fits. Core skills are never dropped:
    if it still does not fit, the answer offers a pace or a closer role instead."""
    role = facts.role
    need = domain.need_of(kb, role, [a["skill_id"] for a in facts.next_actions])
    top = max(role.skills.values())
    hours = {a["skill_id"]: a["estimated_hours"] for a in facts.next_actions}
    remaining = sum(hours.values())
    dropped: list[str] = []
    for skill_id in sorted(hours, key=lambda s: (need[s], -hours[s], s)):
        if remaining <= available or need[skill_id] >= top:
            break
        if any(skill_id in kb.skills[o].prerequisites for o in hours if o not in dropped and o != skill_id):
            continue
        dropped.append(skill_id)
        remaining -= hours[skill_id]
    return [{"skill_id": s, "name": kb.skills[s].name, "hours": hours[s]} for s in dropped], remaining


def closer_role(kb: KnowledgeBase, facts: Facts, available: int) -> Optional[dict]:
    """The role of the same track (else one the learner fits best) fewest hours away, if fewer than the goal's."""
    same_track = [r.id for r in kb.roles.values() if r.track == facts.role.track and r.id != facts.role.id]
    candidates = same_track or [r["role_id"] for r in facts.recommended_roles]
    options = [(domain.gap_hours(kb, kb.roles[r], facts.known), r) for r in candidates]
    if not options:
        return None
    hours, role_id = min(options)
    if hours >= _needed(facts):
        return None
    return {"role_id": role_id, "title": kb.roles[role_id].title, "hours": hours, "fits": hours <= available}


def compare(kb: KnowledgeBase, facts: Facts, reading: conversation.Reading, state: conversation.State,
            previous: bool = False) -> dict:
    """The role in focus against another one: shared skills, what each adds, hours from the learner's
    levels, and the hours of going via the other role first. Skills and hours only: no market figures."""
    role = facts.role
    if previous:
        other_id = state.focus_role if state.focus_role != role.id else ""
    else:
        others = [r for r in reading.roles if r != role.id]
        other_id = others[0] if others else ""
    if other_id not in kb.roles:
        return {"other_role": None}
    other = kb.roles[other_id]
    known = facts.known
    via = dict(known)
    for skill_id, level in other.skills.items():
        via[skill_id] = max(via.get(skill_id, 0), level)
    shared = sorted(set(role.skills) & set(other.skills), key=lambda s: -role.skills[s])
    return {"other_role": {"role_id": other.id, "title": other.title},
            "shared_skills": [kb.skills[s].name for s in shared],
            "only_in_focus": [kb.skills[s].name for s in role.skills if s not in other.skills],
            "only_in_other": [kb.skills[s].name for s in other.skills if s not in role.skills],
            "hours_to_focus": domain.gap_hours(kb, role, known),
            "hours_to_other": domain.gap_hours(kb, other, known),
            "extra_hours_other_to_focus": domain.gap_hours(kb, role, via),
            "fit_focus": domain.fit_percent(role, known), "fit_other": domain.fit_percent(other, known)}


def _skill_courses(kb: KnowledgeBase, skill_id: str, level: int, courses: list[Course],
                   state: conversation.State) -> list[dict]:
    picks = domain.courses_for_skill(courses, skill_id, level, plan_tier=state.plan_tier,
                                     free_only=state.constraints.free_only)
    return [domain.course_ref(kb, c, [skill_id], state.plan_tier) for c in picks[:3]]


def explain(kb: KnowledgeBase, facts: Facts, reading: conversation.Reading, courses: list[Course],
            state: conversation.State) -> dict:
    """One skill: ESCO's definition, the role's level for it, the learner's, hours, how it is learnt."""
    skill = kb.skills[reading.skills[0]]
    current = facts.known.get(skill.id, 0)
    required = facts.role.skills.get(skill.id, 0)
    return {"skill_id": skill.id, "name": skill.name, "esco_uri": skill.esco_uri or "",
            "definition": esco_definition(skill.esco_uri or ""),
            "required_level": required, "current_level": current,
            "hours": skill.hours_between(current, max(required, current + 1)),
            "prerequisites": [kb.skills[p].name for p in skill.prerequisites],
            "needed_by": [kb.skills[s].name for s in facts.role.skills if skill.id in kb.skills[s].prerequisites],
            "courses": _skill_courses(kb, skill.id, current, courses, state),
            "practice_task": domain.practice_task(kb, skill.id)}


def esco_definition(uri: str) -> str:
    """ESCO's description of a skill concept, without its labels ("" when unmapped)."""
    return esco.definition(uri)[:400] if uri else ""


def _finished_course(facts: Facts, reading: conversation.Reading, courses: list[Course]) -> Optional[Course]:
    text = normalise(facts.question)
    for course in courses:
        if course.slug.replace("-", " ") in text or normalise(course.title) in text:
            return course
    return None


def next_after(kb: KnowledgeBase, facts: Facts, reading: conversation.Reading, courses: list[Course],
               state: conversation.State) -> dict:
    """What comes after the course or skill the learner says they finished: the plan with it done."""
    course = _finished_course(facts, reading, courses)
    done = list(course.skill_ids) if course else [s for s in reading.skills if s in facts.role.skills]
    if not done and facts.next_actions:
        done = [facts.next_actions[0]["skill_id"]]   # "what next?" after the current step
    known = dict(facts.known)
    for skill_id in done:
        target = facts.role.skills.get(skill_id, domain.PREREQUISITE_LEVEL)
        known[skill_id] = max(known.get(skill_id, 0), target if course is None else min(target, _course_level(course)))
    milestones = domain.plan_milestones(kb, facts.role, known)
    left = [c for c in courses if course is None or c.slug != course.slug]   # not the one just finished
    actions, _courses = domain.next_actions_for(kb, milestones, known, left, state.plan_tier,
                                                state.constraints.free_only)
    return {"finished_course": f"{course.title} ({course.slug})" if course else "", "finished_skills": [kb.skills[s].name for s in done],
            "then": actions[:3], "hours_left": sum(a["estimated_hours"] for a in actions)}


def _course_level(course: Course) -> int:
    return {"beginner": 2, "intermediate": 3, "advanced": 4}.get(course.level, 2)


def course_choice(kb: KnowledgeBase, facts: Facts, courses: list[Course], state: conversation.State) -> dict:
    """Per gap, the courses that fit the learner's level and budget (free only, or what the plan includes)."""
    per_gap = []
    for action in facts.next_actions:
        level = facts.known.get(action["skill_id"], 0)
        picks = _skill_courses(kb, action["skill_id"], level, courses, state)
        per_gap.append({"skill_id": action["skill_id"], "name": kb.skills[action["skill_id"]].name,
                        "courses": picks, "practice_task": "" if picks else domain.practice_task(kb, action["skill_id"])})
    return {"free_only": state.constraints.free_only, "plan_tier": state.plan_tier, "per_gap": per_gap}


def cv_feedback(kb: KnowledgeBase, facts: Facts, state: conversation.State) -> dict:
    """The latest uploaded CV against the role: what it shows, what the role needs that it does not."""
    cv, _unmatched = domain.known_levels(kb, state.cv_skills)
    role: Role = facts.role
    return {"has_cv": state.has_cv,
            "shows": [kb.skills[s].name for s in role.skills if cv.get(s, 0) >= 1],
            "missing_for_role": [kb.skills[s].name for s in role.skills if s not in cv],
            "profile_not_on_cv": [kb.skills[s].name for s in facts.known if s in role.skills and s not in cv],
            "not_relevant": [kb.skills[s].name for s in cv if s not in role.skills][:6]}
