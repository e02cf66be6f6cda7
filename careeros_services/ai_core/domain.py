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

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from careeros_services.ai_core.knowledge import PREREQUISITE_LEVEL, KnowledgeBase, Role, normalise
from careeros_services.common import esco
from careeros_services.common.errors import ValidationFailed

MAX_QUESTION = 4000
MAX_NEXT_ACTIONS = 8
MAX_COURSES = 8
MAX_RECOMMENDED = 3
CHARS_PER_TOKEN = 4   # the embedded provider's documented token estimate

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
    skill_ids: tuple[str, ...]


@dataclass
class Facts:
    """Everything an answer may say, computed from the knowledge base."""

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
    """The role's skills the learner lacks or has below the required level, prerequisites first."""
    order = kb.prerequisite_closure(role.skills)
    gaps = []
    for skill_id in order:
        required = role.skills.get(skill_id)
        if required is None or known.get(skill_id, 0) >= required:
            continue
        skill = kb.skills[skill_id]
        current = known.get(skill_id, 0)
        gaps.append({"skill_id": skill_id, "name": skill.name, "esco_uri": skill.esco_uri or "",
                     "current_level": current, "required_level": required,
                     "estimated_hours": skill.hours_between(current, required)})
    return gaps


def plan_milestones(kb: KnowledgeBase, role: Role, known: dict[str, int]) -> list[dict]:
    """Milestones to reach the role: each gap, plus unmet prerequisites (to level 2) they depend on.

    Ordered topologically over the prerequisite DAG (ties by skill id, so the
    order is deterministic); each milestone names the earlier milestones it waits for.
    """
    targets: dict[str, int] = {}
    for skill_id, required in role.skills.items():
        if known.get(skill_id, 0) < required:
            targets[skill_id] = required
    # Pull in prerequisites the learner has not reached yet (transitively).
    pending = list(targets)
    while pending:
        skill_id = pending.pop()
        for pre in kb.skills[skill_id].prerequisites:
            if known.get(pre, 0) < PREREQUISITE_LEVEL and pre not in targets:
                targets[pre] = max(PREREQUISITE_LEVEL, role.skills.get(pre, 0))
                pending.append(pre)
    milestones = []
    for skill_id in kb.prerequisite_closure(targets):
        if skill_id not in targets:
            continue
        skill = kb.skills[skill_id]
        level = targets[skill_id]
        milestones.append({
            "skill_id": skill_id, "skill_name": skill.name, "esco_uri": skill.esco_uri or "", "level": level,
            "estimated_hours": max(1, skill.hours_between(known.get(skill_id, 0), level)),
            # Only prerequisites that are milestones too: those the learner has met need no waiting.
            "prerequisite_skill_ids": sorted(p for p in skill.prerequisites if p in targets),
            "course_slugs": [],
        })
    return milestones


def fit_percent(role: Role, known: dict[str, int]) -> int:
    """How much of the role's required skill levels the learner already has (0..100)."""
    required = sum(role.skills.values())
    have = sum(min(known.get(skill_id, 0), level) for skill_id, level in role.skills.items())
    return int(round(100 * have / required)) if required else 0


def recommend_roles(kb: KnowledgeBase, known: dict[str, int], exclude: Optional[str],
                    limit: int = MAX_RECOMMENDED) -> list[dict]:
    """The roles the learner's skills fit best (ties by id), with what each still misses."""
    scored = sorted(((fit_percent(role, known), role.id) for role in kb.roles.values() if role.id != exclude),
                    key=lambda t: (-t[0], t[1]))
    out = []
    for fit, role_id in scored[:limit]:
        role = kb.roles[role_id]
        missing = [kb.skills[s].name for s, lvl in sorted(role.skills.items()) if known.get(s, 0) < lvl]
        out.append({"role_id": role.id, "title": role.title, "esco_occupation_uri": role.esco_occupation_uri,
                    "fit_percent": fit, "missing_skills": missing})
    return out


def courses_for(courses: Iterable[Course], skill_ids: Iterable[str], limit: int = MAX_COURSES) -> list[dict]:
    """Courses that teach any of the skills, those covering more (and earlier) skills first."""
    wanted = list(dict.fromkeys(skill_ids))
    rank = {s: i for i, s in enumerate(wanted)}
    scored = []
    seen: set[str] = set()
    for course in courses:
        if course.slug in seen:
            continue
        covers = [s for s in course.skill_ids if s in rank]
        if covers:
            seen.add(course.slug)
            scored.append((-len(covers), min(rank[s] for s in covers), course.slug, course, covers))
    scored.sort(key=lambda t: t[:3])
    return [{"slug": c.slug, "title": c.title, "level": c.level if c.level in ("beginner", "intermediate", "advanced") else "",
             "tenant_id": c.tenant_id, "covers": sorted(covers, key=rank.get)}
            for *_rank, c, covers in scored[:limit]]


def analyse(kb: KnowledgeBase, profile: LearnerProfile, question: str, courses: Iterable[Course],
            explicit_role: str = "") -> Facts:
    """The facts of one consultation turn (see module docstring)."""
    known, unmatched = known_levels(kb, profile.skills)
    role = choose_role(kb, explicit_role, question, profile.target_role)
    recommended = recommend_roles(kb, known, exclude=role.id if role else None)
    if role is None and recommended and known:
        role = kb.roles[recommended[0]["role_id"]]   # no goal yet: the best fit is the working hypothesis
        recommended = recommend_roles(kb, known, exclude=role.id)
    gaps = gaps_for(kb, role, known) if role else []
    milestones = plan_milestones(kb, role, known) if role else []
    course_list = courses_for(list(courses), [m["skill_id"] for m in milestones])
    slugs_by_skill: dict[str, list[str]] = {}
    for course in course_list:
        for skill_id in course["covers"]:
            slugs_by_skill.setdefault(skill_id, []).append(course["slug"])
    next_actions = []
    for order, milestone in enumerate(milestones[:MAX_NEXT_ACTIONS], start=1):
        current = known.get(milestone["skill_id"], 0)
        verb = "Learn" if current == 0 else "Deepen"
        waits = [kb.skills[p].name for p in milestone["prerequisite_skill_ids"]
                 if p in {m["skill_id"] for m in milestones[:order - 1]}]
        action = f"{verb} {milestone['skill_name']} from level {current} to {milestone['level']}"
        if waits:
            action += f" (after {', '.join(waits)})"
        next_actions.append({"order": order, "skill_id": milestone["skill_id"], "action": action[:400],
                             "estimated_hours": milestone["estimated_hours"],
                             "course_slugs": slugs_by_skill.get(milestone["skill_id"], [])[:3]})
    mentioned = [skill.id for skill, _name in kb.skills_in_text(question)]
    uris = [role.esco_occupation_uri] if role else []
    uris += [g["esco_uri"] for g in gaps if g["esco_uri"]]
    uris += [r["esco_occupation_uri"] for r in recommended if r["esco_occupation_uri"]]
    return Facts(role=role, known=known, unmatched_skills=unmatched, gaps=gaps, next_actions=next_actions,
                 courses=course_list, recommended_roles=recommended,
                 interview_topics=list(role.interview_topics) if role else [],
                 cited_esco_uris=list(dict.fromkeys(uris)), asks_market=bool(_MARKET_QUESTION.search(question)),
                 question=question, years_experience=profile.years_experience, mentioned_skills=mentioned)


# --- the embedded writer ----------------------------------------------------------------------

def compose_answer(kb: KnowledgeBase, facts: Facts) -> dict:
    """A complete, schema-valid answer written from the facts alone (deterministic, no model)."""
    parts: list[str] = []
    role = facts.role
    if role is None:
        parts.append("I could not tell which role you are aiming for, and your profile has no skills I "
                     "recognise yet. Tell me a target role (for example one of: "
                     + ", ".join(sorted(r.title for r in kb.roles.values())[:6])
                     + ") or add skills to your profile, and I will map the gap.")
    else:
        total = sum(g["estimated_hours"] for g in facts.gaps)
        fit = fit_percent(role, facts.known)
        have = [kb.skills[s].name for s in sorted(facts.known) if s in role.skills and facts.known[s] >= role.skills[s]]
        parts.append(f"Goal: {role.title}. Your profile already covers about {fit}% of the skill levels this "
                     f"role needs" + (f" ({', '.join(have)} at the required level)." if have else "."))
        if facts.gaps:
            listed = "; ".join(f"{g['name']} {g['current_level']}->{g['required_level']}" for g in facts.gaps[:6])
            parts.append(f"The gaps are {len(facts.gaps)} skills ({listed}"
                         + ("; ..." if len(facts.gaps) > 6 else "")
                         + f"), about {total} hours of focused study by this knowledge base's estimates.")
        else:
            parts.append("You meet every skill level this role lists; focus on interview practice and evidence of your work.")
        if facts.next_actions:
            first = facts.next_actions[0]
            parts.append(f"Start with: {first['action']}, roughly {first['estimated_hours']} hours"
                         + (f", e.g. with the course {first['course_slugs'][0]}." if first["course_slugs"] else "."))
        if facts.mentioned_skills:
            named = [kb.skills[s] for s in facts.mentioned_skills]
            notes = []
            for skill in named:
                need = role.skills.get(skill.id)
                have_level = facts.known.get(skill.id, 0)
                if need is None:
                    notes.append(f"{skill.name} is not among this role's core skills")
                elif have_level >= need:
                    notes.append(f"your {skill.name} (level {have_level}) already meets the role's level {need}")
                else:
                    notes.append(f"{skill.name} needs level {need} for this role, you are at {have_level}")
            parts.append("About what you asked: " + "; ".join(notes) + ".")
        if facts.interview_topics:
            parts.append("Interviews for this role usually probe: " + ", ".join(facts.interview_topics[:3]) + ".")
    if facts.recommended_roles:
        alt = ", ".join(f"{r['title']} ({r['fit_percent']}% fit)" for r in facts.recommended_roles)
        parts.append(f"Other roles your current skills fit: {alt}.")
    if facts.unmatched_skills:
        parts.append("Skills in your profile I could not map to the knowledge base: "
                     + ", ".join(facts.unmatched_skills[:5]) + ".")
    if facts.asks_market:
        parts.append(NO_MARKET_DATA)
    lead = _lead_for_intent(kb, facts)
    if lead:
        parts.insert(0, lead)  # answer what was asked first, then the full picture
    return {
        "answer": " ".join(parts)[:6000],
        "target_role": _role_ref(role),
        "skill_gaps": facts.gaps,
        "recommended_roles": facts.recommended_roles,
        "next_actions": facts.next_actions,
        "courses": facts.courses,
        "interview_topics": facts.interview_topics,
        "cited_esco_uris": facts.cited_esco_uris,
        "market_data": {"available": False, "note": NO_MARKET_DATA},
    }


_INTENTS = (
    ("interview", re.compile(r"(?i)\binterview")),
    ("courses", re.compile(r"(?i)\b(courses?|training|learn from|study material)\b")),
    ("time", re.compile(r"(?i)\b(how long|how much time|how many (hours|weeks|months)|timeline)\b")),
    ("alternatives", re.compile(r"(?i)\b(other roles?|alternatives?|instead|which roles?|what roles?|suits? me)\b")),
)
HOURS_PER_WEEK = 10   # the pace the time estimate assumes, stated in the answer


def _lead_for_intent(kb: KnowledgeBase, facts: Facts) -> str:
    """One opening sentence for what the message asks about (interviews, courses, time, alternatives)."""
    for intent, pattern in _INTENTS:
        if not pattern.search(facts.question):
            continue
        if intent == "interview" and facts.interview_topics:
            return (f"To prepare interviews for {facts.role.title}, practise: "
                    + "; ".join(facts.interview_topics) + ".")
        if intent == "courses":
            if not facts.courses:
                return "No course in your catalog covers the gaps for this role yet."
            return "Courses that fit your gaps: " + "; ".join(
                f"{c['title']} ({c['slug']}, covers {', '.join(kb.skills[s].name for s in c['covers'])})"
                for c in facts.courses[:4]) + "."
        if intent == "time" and facts.gaps:
            total = sum(m["estimated_hours"] for m in facts.next_actions) if facts.next_actions else 0
            total = max(total, sum(g["estimated_hours"] for g in facts.gaps))
            weeks = -(-total // HOURS_PER_WEEK)
            return (f"By this knowledge base's estimates the gaps take about {total} hours of study: "
                    f"about {weeks} weeks at {HOURS_PER_WEEK} hours a week.")
        if intent == "alternatives" and facts.recommended_roles:
            best = facts.recommended_roles[0]
            return (f"The closest other role for your current skills is {best['title']} "
                    f"({best['fit_percent']}% of its skill levels covered).")
    return ""


# --- checks beyond the JSON Schema --------------------------------------------------------------

def answer_problems(kb: KnowledgeBase, answer: dict) -> list[str]:
    """Semantic problems of a schema-valid answer (empty list when fine)."""
    problems = []
    text = " ".join([answer.get("answer", ""), answer.get("market_data", {}).get("note", "")]
                    + [a.get("action", "") for a in answer.get("next_actions", [])])
    if _MARKET_FIGURE.search(text):
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
        milestone["course_slugs"] = [c["slug"] for c in courses_for(course_list, [milestone["skill_id"]], limit=3)]
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

def estimate_tokens(text: str) -> int:
    """The embedded provider's token estimate: ceil(characters / 4), at least 1 for non-empty text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


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
