"""The AI HR consultant's rules. Pure Python: no database, broker, provider or framework.

* :func:`analyse` turns a learner's profile, a question and the knowledge base
  into *facts*: the target role, skill gaps, next steps in prerequisite order,
  fitting courses, other roles that fit, interview topics and the ESCO URIs
  behind them. Every provider answers from these facts, so the gap analysis
  is the same whichever model writes the prose.
* :func:`compose_answer` is the embedded provider's writer: a deterministic
  answer built from the facts (no model).
* :func:`answer_problems` is the semantic half of the answer check (the JSON
  Schema is the other half): no invented labour-market figures, only real
  ESCO URIs, gaps that name known skills.
* :func:`propose_roadmap` for the roadmap service, :func:`extract_cv_skills`
  for CV analysis, token estimates and integer costs.
"""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Iterable, Optional

import yaml

from careeros_services.ai_core import conversation
from careeros_services.ai_core.conversation import learner_band
from careeros_services.ai_core.knowledge import KNOWLEDGE_DIR, PREREQUISITE_LEVEL, KnowledgeBase, Role, normalise
from careeros_services.common import esco
from careeros_services.common.errors import ValidationFailed

MAX_QUESTION = 4000
MAX_NEXT_ACTIONS = 20   # every gap gets one (the schema's maximum)
MAX_COURSES = 8
MAX_RECOMMENDED = 3

NO_MARKET_DATA = ("CareerOS has no salary, pay or labour-market demand data for this role, so this "
                  "answer gives none; check a current, local source such as your national statistics office.")

_MARKET_QUESTION = re.compile(
    r"(?i)\b(salar(y|ies)|pay(ed|s)?|earn(ing|ings|s)?|wage|income|compensation package|how much (do|does|will|can)"
    r"|demand|job market|hiring market|openings|vacanc(y|ies))\b")
# Money or demand figures: "$120k", "EUR 60,000", "60 000 €", "salary of 90", "demand grew 25%".
_MARKET_FIGURE = re.compile(
    r"(?i)([$€£¥]\s?\d|\d[\d,.\s]*\s?(k\b|usd|eur|gbp|dollars|euros|pounds|€|\$|£)"
    r"|\b(usd|eur|gbp)\s?\d"
    r"|\b(salar(y|ies)|wages?|pay|earn\w*|income)\b[^.!?\n]{0,40}\d"
    r"|\d[^.!?\n]{0,40}\b(salar(y|ies)|wages?)\b"
    r"|\b(demand|job openings|vacancies|postings)\b[^.!?\n]{0,40}\d+\s?%"
    r"|\d+\s?%[^.!?\n]{0,40}\b(demand|job openings|vacancies|postings)\b)")


# --- the learner ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LearnerProfile:
    """What ai_core knows of a learner (its read model of profile events)."""

    user_id: str
    tenant_id: str
    skills: tuple[tuple[str, int], ...] = ()   # (name, level) as the learner wrote them
    target_role: str = ""
    years_experience: int = 0
    headline: str = ""                           # free text: data, never instructions


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    level: str
    tenant_id: str
    skill_ids: tuple[str, ...]      # the skills it teaches, the main one first
    premium: bool = False           # premium courses need a paid plan (lms.domain.access)
    hours: int = 0
    course_id: str = ""             # the LMS's id (what a client links to)


@dataclass
class Facts:
    """Everything an answer may say, computed from the knowledge base and the conversation."""

    role: Optional[Role]
    known: dict[str, int]
    unmatched_skills: list[str]
    gaps: list[dict]
    next_actions: list[dict]
    courses: list[dict]
    recommended_roles: list[dict]
    interview_topics: list[str]
    cited_esco_uris: list[str]
    asks_market: bool
    question: str
    years_experience: int
    mentioned_skills: list[str] = field(default_factory=list)
    intent: str = "overview"
    constraints_used: dict = field(default_factory=dict)
    topic: dict = field(default_factory=dict)        # what the intent needs (comparison, time budget, ...)
    previous_answer: str = ""
    catalog: dict = field(default_factory=dict)      # slug -> premium, the courses the learner can see
    course_ids: dict = field(default_factory=dict)   # slug -> the LMS's course id, for links (not for the model)

    def as_dict(self) -> dict:
        """The facts as JSON (what an external model is given to write from)."""
        return {
            "target_role": _role_ref(self.role),
            "known_skills": [{"skill_id": k, "level": v} for k, v in sorted(self.known.items())],
            "unrecognised_profile_skills": self.unmatched_skills,
            "skill_gaps": self.gaps,
            "next_actions": self.next_actions,
            "courses": self.courses,
            "recommended_roles": self.recommended_roles,
            "interview_topics": self.interview_topics,
            "cited_esco_uris": self.cited_esco_uris,
            "market_data": {"available": False, "note": NO_MARKET_DATA},
            "years_experience": self.years_experience,
            "conversation": {"intent": self.intent, "constraints_used": self.constraints_used,
                             "topic": self.topic},
        }


def _role_ref(role: Optional[Role]) -> dict:
    if role is None:
        return {"role_id": "", "title": "", "esco_occupation_uri": ""}
    return {"role_id": role.id, "title": role.title, "esco_occupation_uri": role.esco_occupation_uri}


def validate_question(text: object, field_name: str = "question") -> str:
    """The learner's question/message, trimmed; ValidationFailed naming the field otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("The text is empty.", fields={field_name: ["must not be empty"]})
    value = text.strip()
    if len(value) > MAX_QUESTION:
        raise ValidationFailed("The text is too long.", fields={field_name: [f"must be at most {MAX_QUESTION} characters"]})
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in value):
        raise ValidationFailed("The text has control characters.", fields={field_name: ["must not contain control characters"]})
    return value


def known_levels(kb: KnowledgeBase, skills: Iterable[tuple[str, int]]) -> tuple[dict[str, int], list[str]]:
    """Profile skills mapped to KB skill ids (highest level wins) and the names that matched nothing."""
    known: dict[str, int] = {}
    unmatched: list[str] = []
    for name, level in skills:
        skill = kb.skill_for(name)
        if skill is None:
            unmatched.append(name)
            continue
        known[skill.id] = max(known.get(skill.id, 0), int(level))
    return known, unmatched


def choose_role(kb: KnowledgeBase, explicit: str, question: str, profile_target: str) -> Optional[Role]:
    """The role the consultation is about: named explicitly, else in the question, else the profile's."""
    for text, via_esco in ((explicit, True), (question, False), (profile_target, True)):
        if text:
            role = kb.role_for(text, via_esco=via_esco)  # a question is a sentence, not a title
            if role is not None:
                return role
    return None


def gaps_for(kb: KnowledgeBase, role: Role, known: dict[str, int]) -> list[dict]:
    """The role's skills the learner lacks or has below the required level, in planning order."""
    gaps = []
    for skill_id in planning_order(kb, role, role.skills):
        required = role.skills.get(skill_id)
        if required is None or known.get(skill_id, 0) >= required:
            continue
        skill = kb.skills[skill_id]
        current = known.get(skill_id, 0)
        gaps.append({"skill_id": skill_id, "name": skill.name, "esco_uri": skill.esco_uri or "",
                     "current_level": current, "required_level": required,
                     "estimated_hours": skill.hours_between(current, required)})
    return gaps


def gap_hours(kb: KnowledgeBase, role: Role, known: dict[str, int]) -> int:
    """Hours from ``known`` to every required level of ``role``."""
    return sum(kb.skills[s].hours_between(known.get(s, 0), lvl) for s, lvl in role.skills.items())


def need_of(kb: KnowledgeBase, role: Role, skill_ids: Iterable[str]) -> dict[str, int]:
    """How much the role needs each skill: its required level, or for a prerequisite the
    greatest need of what it unlocks (a prerequisite is as urgent as its dependants)."""
    ids = set(skill_ids)
    need = {s: role.skills.get(s, 0) for s in ids}
    for skill_id in reversed(kb.prerequisite_closure(ids)):   # dependants before their prerequisites
        for pre in kb.skills[skill_id].prerequisites:
            if pre in need:
                need[pre] = max(need[pre], need.get(skill_id, 0))
    return need


def planning_order(kb: KnowledgeBase, role: Role, skill_ids: Iterable[str]) -> list[str]:
    """Prerequisites first; among skills ready to start, the one the role needs most
    (then the one more others wait for, then the knowledge base's order) — never alphabetical."""
    return list(_planning_order(kb, role, tuple(dict.fromkeys(skill_ids))))


@lru_cache(maxsize=4096)   # the same role and gaps come back turn after turn
def _planning_order(kb: KnowledgeBase, role: Role, ids: tuple[str, ...]) -> tuple[str, ...]:
    need = need_of(kb, role, ids)
    rank = {s: i for i, s in enumerate(kb.skills)}
    unlocks = {s: sum(1 for o in ids if s in kb.skills[o].prerequisites) for s in ids}
    waiting = {s: {p for p in kb.skills[s].prerequisites if p in need} for s in ids}
    ready = [(-need[s], -unlocks[s], rank[s], s) for s in ids if not waiting[s]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        *_key, skill_id = heapq.heappop(ready)
        order.append(skill_id)
        for other in ids:
            if skill_id in waiting[other]:
                waiting[other].discard(skill_id)
                if not waiting[other]:
                    heapq.heappush(ready, (-need[other], -unlocks[other], rank[other], other))
    return tuple(order)


def plan_milestones(kb: KnowledgeBase, role: Role, known: dict[str, int]) -> list[dict]:
    """Milestones to reach the role: each gap, plus unmet prerequisites (to level 2) they depend on,
    in :func:`planning_order`; each milestone names the earlier milestones it waits for."""
    targets: dict[str, int] = {}
    for skill_id, required in role.skills.items():
        if known.get(skill_id, 0) < required:
            targets[skill_id] = required
    pending = list(targets)   # pull in prerequisites the learner has not reached yet (transitively)
    while pending:
        skill_id = pending.pop()
        for pre in kb.skills[skill_id].prerequisites:
            if known.get(pre, 0) < PREREQUISITE_LEVEL and pre not in targets:
                targets[pre] = max(PREREQUISITE_LEVEL, role.skills.get(pre, 0))
                pending.append(pre)
    milestones = []
    for skill_id in planning_order(kb, role, targets):
        skill = kb.skills[skill_id]
        level = targets[skill_id]
        milestones.append({
            "skill_id": skill_id, "skill_name": skill.name, "esco_uri": skill.esco_uri or "", "level": level,
            "estimated_hours": max(1, skill.hours_between(known.get(skill_id, 0), level)),
            # Only prerequisites that are milestones too: those the learner has met need no waiting.
            "prerequisite_skill_ids": sorted(p for p in skill.prerequisites if p in targets),
            "course_slugs": [], "practice_task": "",
        })
    return milestones


def fit_percent(role: Role, known: dict[str, int]) -> int:
    """How much of the role's required skill levels the learner already has (0..100)."""
    required = sum(role.skills.values())
    have = sum(min(known.get(skill_id, 0), level) for skill_id, level in role.skills.items())
    return int(round(100 * have / required)) if required else 0


def recommend_roles(kb: KnowledgeBase, known: dict[str, int], exclude: Optional[str],
                    limit: int = MAX_RECOMMENDED, track: str = "") -> list[dict]:
    """The roles the learner's skills fit best (the preferred track first, ties by id), with what each misses."""
    scored = sorted(((fit_percent(role, known), role.id) for role in kb.roles.values() if role.id != exclude),
                    key=lambda t: (track and kb.roles[t[1]].track != track, -t[0], t[1]))
    out = []
    for fit, role_id in scored[:limit]:
        role = kb.roles[role_id]
        missing = [kb.skills[s].name for s, lvl in sorted(role.skills.items()) if known.get(s, 0) < lvl]
        out.append({"role_id": role.id, "title": role.title, "esco_occupation_uri": role.esco_occupation_uri,
                    "fit_percent": fit, "missing_skills": missing})
    return out


# --- course choice ------------------------------------------------------------------------------

_BANDS = ("beginner", "intermediate", "advanced")


def in_plan(course: Course, plan_tier: str) -> bool:
    """Whether the learner's plan opens the course (premium needs a paid plan, as lms.domain.access)."""
    return not course.premium or plan_tier not in ("", "free")


def courses_for_skill(courses: Iterable[Course], skill_id: str, current_level: int, *, plan_tier: str = "free",
                      free_only: bool = False) -> list[Course]:
    """Courses for one gap, best first: the skill is the course's subject (not a side topic), the
    course's level suits the learner's (a beginner gets a beginner course when one exists), the
    plan includes it; with ``free_only`` premium courses are left out."""
    band = _BANDS.index(learner_band(current_level))
    ranked = []
    for course in courses:
        if skill_id not in course.skill_ids or (free_only and course.premium):
            continue
        level = _BANDS.index(course.level) if course.level in _BANDS else 1
        ranked.append((course.skill_ids.index(skill_id) > 0, abs(level - band), level < band,
                       not in_plan(course, plan_tier), course.slug, course))
    ranked.sort(key=lambda t: t[:5])
    return [t[-1] for t in ranked]


def course_ref(kb: KnowledgeBase, course: Course, covers: Iterable[str], plan_tier: str) -> dict:
    return {"slug": course.slug, "title": course.title,
            "level": course.level if course.level in _BANDS else "", "tenant_id": course.tenant_id,
            "covers": list(dict.fromkeys(covers)), "premium": course.premium,
            "in_plan": in_plan(course, plan_tier)}


@lru_cache(maxsize=1)
def _practice() -> dict:
    document = yaml.safe_load((KNOWLEDGE_DIR / "practice.yaml").read_text())
    return {"default": document["default"], **document["tasks"]}


def practice_task(kb: KnowledgeBase, skill_id: str) -> str:
    """A concrete practice task or project for a skill (used when no course teaches it)."""
    tasks = _practice()
    return tasks.get(skill_id) or tasks["default"].format(skill=kb.skills[skill_id].name)


def next_actions_for(kb: KnowledgeBase, milestones: list[dict], known: dict[str, int], courses: list[Course],
                     plan_tier: str, free_only: bool) -> tuple[list[dict], list[dict]]:
    """One next action per milestone (a course, or a practice task with hours) and the courses they use."""
    actions, used = [], {}
    for order, milestone in enumerate(milestones[:MAX_NEXT_ACTIONS], start=1):
        skill_id = milestone["skill_id"]
        current = known.get(skill_id, 0)
        picks = courses_for_skill(courses, skill_id, current, plan_tier=plan_tier, free_only=free_only)[:2]
        verb = "Learn" if current == 0 else "Deepen"
        action = f"{verb} {milestone['skill_name']} from level {current} to {milestone['level']}"
        waits = [kb.skills[p].name for p in milestone["prerequisite_skill_ids"]]
        if waits:
            action += f" (after {', '.join(waits)})"
        if not picks:
            action += (f". No {'free ' if free_only else ''}catalog course teaches it yet; practice: "
                       f"{practice_task(kb, skill_id)}")
        for course in picks:
            used.setdefault(course.slug, course_ref(kb, course, [], plan_tier))["covers"].append(skill_id)
        actions.append({"order": order, "skill_id": skill_id, "action": action[:400],
                        "estimated_hours": milestone["estimated_hours"],
                        "course_slugs": [c.slug for c in picks]})
    for ref in used.values():
        ref["covers"] = list(dict.fromkeys(ref["covers"]))
    return actions, list(used.values())[:MAX_COURSES]


def analyse(kb: KnowledgeBase, profile: LearnerProfile, question: str, courses: Iterable[Course],
            explicit_role: str = "", state: Optional[conversation.State] = None,
            today: Optional[date] = None, first: bool = True) -> Facts:
    """The facts of one consultation turn: the role in focus, gaps, next actions, courses, and what
    this message's intent needs, honouring the constraints stated so far (see module docstring)."""
    today = today or date.today()
    state = state or conversation.State()
    known, unmatched = known_levels(kb, profile.skills)
    asks_market = bool(_MARKET_QUESTION.search(question))
    reading = conversation.read(kb, question, state, today, asks_market=asks_market, first=first)
    state = conversation.with_reading(state, reading)
    role = _role_in_focus(kb, explicit_role, reading, state, profile, known)
    course_list = list(courses)
    c = state.constraints
    recommended = recommend_roles(kb, known, exclude=role.id if role else None, track=c.track)
    gaps = gaps_for(kb, role, known) if role else []
    milestones = plan_milestones(kb, role, known) if role else []
    actions, chosen = next_actions_for(kb, milestones, known, course_list, state.plan_tier, c.free_only)
    uris = [role.esco_occupation_uri] if role else []
    uris += [g["esco_uri"] for g in gaps if g["esco_uri"]]
    uris += [r["esco_occupation_uri"] for r in recommended if r["esco_occupation_uri"]]
    facts = Facts(role=role, known=known, unmatched_skills=unmatched, gaps=gaps, next_actions=actions,
                  courses=chosen, recommended_roles=recommended,
                  interview_topics=list(role.interview_topics) if role else [],
                  cited_esco_uris=list(dict.fromkeys(uris)), asks_market=asks_market, question=question,
                  years_experience=profile.years_experience, mentioned_skills=list(reading.skills),
                  intent=reading.intent, constraints_used=c.used(state.plan_tier),
                  previous_answer=state.previous_answer, catalog={c.slug: c.premium for c in course_list},
                  course_ids={c.slug: c.course_id for c in course_list if c.course_id})
    from careeros_services.ai_core import topics   # topics builds on this module's rules
    facts.topic = topics.topic_for(kb, facts, reading, state, course_list, profile)
    return facts


def _role_in_focus(kb: KnowledgeBase, explicit: str, reading: conversation.Reading, state: conversation.State,
                   profile: LearnerProfile, known: dict[str, int]) -> Optional[Role]:
    """The explicit role, else a role this message names (the newly asked one for what-if), else the
    role the conversation is about, else the profile's, else the best fit (in the preferred track)."""
    if explicit and kb.role_for(explicit):
        return kb.role_for(explicit)
    named = [r for r in reading.roles if r != state.focus_role] if reading.intent == "what_if" else list(reading.roles)
    if reading.intent == "compare" and state.focus_role:
        named = [state.focus_role]
    for role_id in named + [state.focus_role]:
        if role_id in kb.roles:
            return kb.roles[role_id]
    role = choose_role(kb, "", "", profile.target_role)
    if role is None and known:
        best = recommend_roles(kb, known, exclude=None, limit=1, track=state.constraints.track)
        role = kb.roles[best[0]["role_id"]] if best else None   # no goal yet: the best fit is the hypothesis
    return role


# --- checks beyond the JSON Schema --------------------------------------------------------------

def answer_problems(kb: KnowledgeBase, answer: dict, facts: Optional[Facts] = None) -> list[str]:
    """Semantic problems of a schema-valid answer (empty list when fine).

    With the turn's ``facts`` it is also checked against the conversation: about the role
    in focus, the constraints stated so far reported as used, only courses the learner can
    see (no premium one under "free only"), a next action for every gap, and not the
    previous answer again.
    """
    problems = []
    text = " ".join([answer.get("answer", ""), answer.get("market_data", {}).get("note", "")]
                    + [a.get("action", "") for a in answer.get("next_actions", [])])
    if states_market_figures(text):
        problems.append("answer: states salary or demand figures, but CareerOS has no labour-market data")
    if answer.get("market_data", {}).get("available"):
        problems.append("market_data.available: CareerOS has no labour-market data; must be false")
    for uri in answer.get("cited_esco_uris", []):
        if not esco.exists(uri):
            problems.append(f"cited_esco_uris: {uri} is not an ESCO concept")
    for i, gap in enumerate(answer.get("skill_gaps", [])):
        if gap.get("skill_id") not in kb.skills:
            problems.append(f"skill_gaps[{i}].skill_id: {gap.get('skill_id')!r} is not a known skill")
        elif gap["current_level"] >= gap["required_level"]:
            problems.append(f"skill_gaps[{i}]: current level is not below the required level")
    role_id = answer.get("target_role", {}).get("role_id")
    if role_id and role_id not in kb.roles:
        problems.append(f"target_role.role_id: {role_id!r} is not a known role")
    for i, role in enumerate(answer.get("recommended_roles", [])):
        if role.get("role_id") not in kb.roles:
            problems.append(f"recommended_roles[{i}].role_id: {role.get('role_id')!r} is not a known role")
    return problems + (conversation_problems(answer, facts) if facts is not None else [])


_MARKET_HINT = re.compile(r"(?i)[$€£¥]|\d\s?k\b|\b(usd|eur|gbp|dollar|euro|pound|salar|wage|pay|earn|income|demand|"
                          r"job openings|vacanc|postings)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


def states_market_figures(text: str) -> bool:
    """Whether the text states a salary or demand figure. Only sentences with a digit and a money or
    market word are searched with the full pattern (answers are long; most sentences have neither)."""
    return any(_MARKET_FIGURE.search(sentence) for sentence in _SENTENCE_END.split(text)
               if _MARKET_HINT.search(sentence) and any(ch.isdigit() for ch in sentence))


def link_courses(answer: dict, facts: Facts) -> dict:
    """The answer with each suggested course's LMS id, so that clients link to the course itself.
    Set here from the catalog, never taken from the model (which speaks in slugs)."""
    courses = []
    for course in answer.get("courses", []):
        course = {k: v for k, v in course.items() if k != "course_id"}
        if course.get("slug") in facts.course_ids:
            course["course_id"] = facts.course_ids[course["slug"]]
        courses.append(course)
    return {**answer, "courses": courses}


def conversation_problems(answer: dict, facts: Facts) -> list[str]:
    """How an answer fails the conversation it answers (see :func:`answer_problems`)."""
    problems = []
    if facts.role is not None and answer.get("target_role", {}).get("role_id") != facts.role.id:
        problems.append(f"target_role.role_id: the conversation is about {facts.role.id}")
    if answer.get("constraints_used") != facts.constraints_used:
        problems.append(f"constraints_used: must report the constraints stated so far: {facts.constraints_used}")
    slugs = [c.get("slug") for c in answer.get("courses", [])]
    slugs += [s for a in answer.get("next_actions", []) for s in a.get("course_slugs", [])]
    for slug in dict.fromkeys(slugs):
        if slug not in facts.catalog:
            problems.append(f"courses: {slug!r} is not a course the learner can see")
        elif facts.constraints_used.get("free_only") and facts.catalog[slug]:
            problems.append(f"courses: {slug!r} is premium but the learner asked for free courses only")
    acted = {a.get("skill_id") for a in answer.get("next_actions", [])}
    missing = [g["skill_id"] for g in answer.get("skill_gaps", []) if g.get("skill_id") not in acted]
    if missing:
        problems.append(f"next_actions: no next action for the gaps {missing}")
    if facts.previous_answer and answer.get("answer", "").strip() == facts.previous_answer.strip():
        problems.append("answer: repeats the previous answer word for word")
    return problems


# --- roadmap proposals --------------------------------------------------------------------------

def propose_roadmap(kb: KnowledgeBase, target_role: str, known_skills: Iterable[tuple[str, int]],
                    courses: Iterable[Course]) -> dict:
    """Milestones for ``target_role`` given known skills (the roadmap service's request)."""
    role = kb.role_for(target_role)
    if role is None:
        raise ValidationFailed("Unknown target role.", fields={"target_role": [
            "is not a role the knowledge base knows; see ListRoles"]}, code="unknown_role")
    for i, (name, level) in enumerate(known_skills):
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise ValidationFailed("A known skill has a bad level.", fields={f"known_skills[{i}].level": ["must be 1..5"]})
    known, _unmatched = known_levels(kb, known_skills)
    milestones = plan_milestones(kb, role, known)
    course_list = list(courses)
    for milestone in milestones:
        picks = courses_for_skill(course_list, milestone["skill_id"], known.get(milestone["skill_id"], 0))
        milestone["course_slugs"] = [c.slug for c in picks[:3]]
        milestone["practice_task"] = "" if picks else practice_task(kb, milestone["skill_id"])
    return {"role_id": role.id, "role_title": role.title, "esco_occupation_uri": role.esco_occupation_uri,
            "milestones": milestones}


def roadmap_problems(proposal: dict) -> list[str]:
    """Semantic problems of a proposal: duplicates, or a prerequisite that is not an earlier milestone."""
    problems, earlier = [], set()
    for i, milestone in enumerate(proposal.get("milestones", [])):
        if milestone["skill_id"] in earlier:
            problems.append(f"milestones[{i}]: {milestone['skill_id']} is proposed twice")
        for pre in milestone["prerequisite_skill_ids"]:
            if pre not in earlier:
                problems.append(f"milestones[{i}]: prerequisite {pre} is not an earlier milestone")
        earlier.add(milestone["skill_id"])
    return problems


# --- CV ---------------------------------------------------------------------------------------

_YEARS = re.compile(r"(\d{1,2})\+?\s*(years?|yrs?)")


def extract_cv_skills(kb: KnowledgeBase, text: str, limit: int = 60) -> list[dict]:
    """Skills the knowledge base recognises in CV text, with a level guess and the evidence line.

    Level: 2 for a mention; 3 when the line says 2-4 years; 4 for 5+ years;
    "expert"/"lead" adds one (max 5). The learner confirms or edits each one.
    The text is data: nothing in it is followed, only matched.
    """
    proposals: dict[str, dict] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        for skill, _phrase in kb.skills_in_text(line):
            level = 2
            years = _YEARS.search(line.casefold())
            if years:
                n = int(years.group(1))
                level = 4 if n >= 5 else 3 if n >= 2 else 2
            if re.search(r"(?i)\b(expert|lead|principal|architect(ed)?)\b", line):
                level = min(5, level + 1)
            current = proposals.get(skill.id)
            if current is None or level > current["level"]:
                proposals[skill.id] = {"name": skill.name, "esco_uri": skill.esco_uri or "", "level": level,
                                       "evidence": line[:300]}
    return sorted(proposals.values(), key=lambda p: (-p["level"], p["name"]))[:limit]


# --- tokens and money -------------------------------------------------------------------------

def cost_micro_usd(prices: dict, provider: str, model: str, prompt_tokens: int, completion_tokens: int) -> int:
    """Cost in integer micro-USD by the price table ``{provider: {model|"*": {prompt_per_1k, completion_per_1k}}}``.

    Prices are micro-USD per 1,000 tokens (integers); the total is rounded up to a whole micro-USD.
    """
    table = (prices or {}).get(provider) or {}
    price = table.get(model) or table.get("*") or {}
    numerator = prompt_tokens * int(price.get("prompt_per_1k", 0)) + completion_tokens * int(price.get("completion_per_1k", 0))
    return -(-numerator // 1000)


def normalised_question(text: str) -> str:
    """Case- and whitespace-insensitive form of a question (cache keys)."""
    return normalise(text)
