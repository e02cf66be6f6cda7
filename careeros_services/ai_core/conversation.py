"""A consultation as a conversation: what the learner has told us so far and what this message asks.

Pure Python. :func:`state_of` folds the learner's earlier messages (and the
roles earlier answers were about) into a :class:`State`: the role in focus and
the constraints the learner stated (hours per week, a deadline, free only, a
preferred track). :func:`intent_of` places the current message among the
intents the consultant answers; anything it cannot place is ``help``.

Learners type fast: words are matched fuzzily (rapidfuzz) against the small
vocabulary the rules use, and role and skill names against the knowledge base,
so "intervew", "cources" or "data analist" are understood. Only the
vocabulary is fuzzy; numbers and dates are read exactly.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Iterable, Optional

from rapidfuzz import fuzz, process

from careeros_services.ai_core.knowledge import KnowledgeBase, normalise

INTENTS = ("overview", "what_if", "compare", "time_fit", "courses", "explain_skill", "next_after",
           "interview", "cv_feedback", "market", "help")

# Canonical words of the rules; a message word within WORD_CUTOFF of one of them is read as it.
_VOCABULARY = {
    "interview": ("interview", "interviews", "interviewing", "interviewer"),
    "cv": ("cv", "resume", "curriculum", "vitae"),
    "course": ("course", "courses", "training", "trainings", "tutorial", "tutorials", "resources",
               "materials", "class", "classes", "lessons", "catalog", "catalogue"),
    "free": ("free", "gratis"),
    "plan": ("premium", "subscription", "included", "include", "includes", "plan"),
    "budget": ("budget", "afford", "money", "cheap", "cheapest", "paid", "pay", "cost", "costs"),
    "time": ("hours", "hour", "week", "weeks", "weekly", "month", "months", "year", "years", "deadline",
             "enough", "realistic", "feasible", "pace", "schedule", "time", "long", "faster", "quicker",
             "daily", "day", "days"),
    "explain": ("explain", "meaning", "describe", "definition", "mean", "means"),
    "compare": ("compare", "comparison", "versus", "vs", "difference", "differences", "different", "differ",
                "overlap", "between", "via", "stepping", "better", "closer"),
    "what_if": ("instead", "switch", "aim", "aiming", "pivot", "rather", "change", "consider", "target",
                "become", "move"),
    "done": ("finished", "finish", "completed", "complete", "done", "passed"),
    "next": ("next", "after", "milestone"),
    "overview": ("gap", "gaps", "roadmap", "path", "start", "begin", "skills", "missing", "need", "plan",
                 "become", "learn", "study", "ready"),
}
_WORD_TO_CUE = {word: cue for cue, words in _VOCABULARY.items() for word in words}
_CUE_WORDS = tuple(_WORD_TO_CUE)
# Real words near a vocabulary word that must stay themselves ("source" is not "course").
_ANCHORS = frozenset("source sources force horse house hoping planning plans plant nice which witch there "
                     "where those these start".split())
MAX_WEEKS = 520          # a horizon beyond ten years is not a plan constraint
WORD_CUTOFF = 80
NAME_CUTOFF = 88
SKILL_WORD_CUTOFF = 80
_STOP = frozenset("what which when where with within would could should about after before there their "
                  "these those this that have from into your yours mine learn learning study studying "
                  "other others thing things really start starting hours weeks months years course courses "
                  "right first being doing going make made take taken able".split())

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "half": 0.5}
_NUM = r"(\d{1,3}(?:[.,]\d)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|half)"
_HOURS_WEEK = re.compile(rf"(?i)\b{_NUM}\s*(?:-|to)?\s*(?:h|hrs?|hours?)\s*(?:a|per|/|each|every|in\s+a)?\s*(?:w|wk|week|weekly)\b")
_HOURS_WEEKLY = re.compile(rf"(?i)\b{_NUM}\s*(?:h|hrs?|hours?)\s+weekly\b")
_HOURS_DAY = re.compile(rf"(?i)\b{_NUM}\s*(?:h|hrs?|hours?)\s*(?:a|per|/|each|every)\s*(?:d|day)\b")
_WITHIN = re.compile(rf"(?i)\b(?:within|in|by|under|less than|inside|over|for)\s+(?:the\s+next\s+|next\s+)?{_NUM}\s*(year|month|week)s?\b")
# "6 months" without a preposition, but not "3 years of experience" or "2 years ago".
_BARE_SPAN = re.compile(r"(?i)\b(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen)\s*"
                        r"(year|month|week)s?\b(?!\s+(?:ago|old|of|experience|in\s+the))")
_ISO_DATE = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")
_FREE_ONLY = re.compile(r"(?i)\b(free\s+(?:only|ones?|courses?|options?|resources?|stuff)|only\s+free|for\s+free|"
                        r"no\s+(?:money|budget)|(?:zero|0|no)\s+budget|budget\s+(?:is\s+)?(?:zero|0|nil|none)|"
                        r"can(?:'|no)?t\s+(?:afford|pay)|cannot\s+(?:afford|pay)|without\s+pay(?:ing)?|"
                        r"not\s+(?:pay|paying|spend)|which\s+(?:\w+\s+)?(?:are|is)\s+free|free\b(?!\s+time))")
_PLAN_AWARE = re.compile(r"(?i)\b((?:in|with|on)\s+my\s+(?:plan|subscription)|premium|included|subscription)\b")
_TRACK_CUE = re.compile(r"(?i)\b(prefer|stay\s+in|stick\s+to|interested\s+in|into|focus\s+on|track|field|area)\b")


@dataclass(frozen=True)
class Constraints:
    """What the learner said limits the plan (None / False / "" = not stated)."""

    hours_per_week: Optional[int] = None
    weeks_available: Optional[int] = None
    deadline: str = ""                 # ISO date when the learner gave one
    free_only: bool = False
    plan_aware: bool = False
    track: str = ""

    def merged(self, newer: "Constraints") -> "Constraints":
        """Later statements win; ``free_only`` holds once said (until the learner states a plan instead)."""
        return Constraints(
            hours_per_week=newer.hours_per_week or self.hours_per_week,
            weeks_available=newer.weeks_available or self.weeks_available,
            deadline=newer.deadline or (self.deadline if not newer.weeks_available else ""),
            free_only=newer.free_only or (self.free_only and not newer.plan_aware),
            plan_aware=newer.plan_aware or self.plan_aware,
            track=newer.track or self.track)

    def used(self, plan_tier: str) -> dict:
        """The structured ``constraints_used`` of an answer."""
        return {"hours_per_week": self.hours_per_week, "weeks_available": self.weeks_available,
                "deadline": self.deadline, "free_only": self.free_only, "track": self.track,
                "plan_tier": plan_tier or "free"}


@dataclass(frozen=True)
class State:
    """The consultation so far, as the next answer must take it into account."""

    constraints: Constraints = field(default_factory=Constraints)
    focus_role: str = ""               # role id earlier answers were about
    previous_answer: str = ""          # the last answer's text (never to be repeated verbatim)
    earlier_questions: tuple[str, ...] = ()
    plan_tier: str = "free"
    cv_skills: tuple[tuple[str, int], ...] = ()   # the latest uploaded CV's proposed skills
    has_cv: bool = False


@dataclass(frozen=True)
class Reading:
    """What one message says: its intent, the roles and skills it names, its constraints."""

    intent: str
    roles: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    constraints: Constraints = field(default_factory=Constraints)
    cues: frozenset = frozenset()
    asks_market: bool = False


# --- words -------------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9+#']+", (text or "").casefold())


@lru_cache(maxsize=4096)
def canonical_word(word: str) -> str:
    """The vocabulary word a (possibly mistyped) word stands for, else the word itself."""
    if word in _WORD_TO_CUE or word in _ANCHORS or len(word) < 5 or word.isdigit():
        return word   # a typo in a word of four letters or fewer is too often another word ("with"/"switch")
    best = process.extractOne(word, _CUE_WORDS, scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF)
    return best[0] if best else word


def cleaned(text: str) -> str:
    """The message with mistyped vocabulary words corrected (numbers and names untouched)."""
    return " ".join(canonical_word(w) for w in _words(text))


def cues_in(text: str) -> frozenset:
    words = cleaned(text).split()
    found = {_WORD_TO_CUE[w] for w in words if w in _WORD_TO_CUE}
    joined = " ".join(words)
    if re.search(r"\b(what is|what's|what are|whats|tell me about|why do i need|why does|how is .* learnt|"
                 r"how do people learn|what does)\b", joined):
        found.add("explain")
    if re.search(r"\b(other roles?|alternatives?|which roles?|what roles?|suits? me|fits? me|roles? for me)\b", joined):
        found.add("alternatives")
    if re.search(r"\b(what if|how about|go for|switch to)\b", joined):
        found.add("what_if")
    if re.search(r"\b(what now|now what|then what|what(?:'s|s| is)? next(?! steps?)|what should i do next|next after)\b",
                 joined):
        found.add("what_next")
    return frozenset(found)


# --- names -------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _role_names(kb: KnowledgeBase) -> dict[str, str]:
    names = {}
    for role in kb.roles.values():
        for name in (role.title, role.id.replace("_", " "), *role.aliases):
            names.setdefault(normalise(name), role.id)
    return names


@lru_cache(maxsize=8)
def _role_index(kb: KnowledgeBase) -> tuple[tuple[str, ...], frozenset, dict[str, frozenset]]:
    """Role names as fuzzy choices, the words role names end with, and each role's words."""
    names = _role_names(kb)
    words: dict[str, set] = {}
    for name, role_id in names.items():
        words.setdefault(role_id, set()).update(name.split())
    return tuple(names), frozenset(n.split()[-1] for n in names), {r: frozenset(w) for r, w in words.items()}


@lru_cache(maxsize=8)
def _skill_words(kb: KnowledgeBase) -> dict[str, str]:
    """Single-word skill names and aliases of five letters or more (fuzzy targets for typos)."""
    words = {}
    for skill in kb.skills.values():
        for name in (skill.name, *skill.aliases):
            key = normalise(name)
            if " " not in key and len(key) >= 5:
                words.setdefault(key, skill.id)
    return words


@lru_cache(maxsize=8)
def _skill_choices(kb: KnowledgeBase) -> tuple[str, ...]:
    return tuple(_skill_words(kb))


def _ends_a_role_name(kb: KnowledgeBase, word: str) -> bool:
    ends = _role_index(kb)[1]
    return word in ends or (len(word) >= 5 and process.extractOne(word, ends, scorer=fuzz.ratio,
                                                                  score_cutoff=WORD_CUTOFF) is not None)


def roles_in(kb: KnowledgeBase, text: str) -> list[str]:
    """Role ids named in ``text`` in order of appearance (exact names first, then near misses)."""
    words = normalise(text).split()
    names = _role_names(kb)
    choices = _role_index(kb)[0]
    ends = {i for i, w in enumerate(words) if _ends_a_role_name(kb, w)}   # only phrases ending like a role
    found: list[tuple[int, str]] = []
    taken: set[int] = set()
    for size in (4, 3, 2, 1):
        for start in range(len(words) - size + 1):
            span = range(start, start + size)
            if taken.intersection(span):
                continue
            phrase = " ".join(words[start:start + size])
            role_id = names.get(phrase)
            if role_id is None and size >= 2 and len(phrase) >= 8 and start + size - 1 in ends:
                best = process.extractOne(phrase, choices, scorer=fuzz.ratio, score_cutoff=NAME_CUTOFF)
                role_id = names[best[0]] if best else None
            if role_id is not None:
                taken.update(span)
                found.append((start, role_id))
    return list(dict.fromkeys(role_id for _start, role_id in sorted(found)))


def skills_in(kb: KnowledgeBase, text: str) -> list[str]:
    """Skill ids named in ``text``: the knowledge base's exact names, then single words with a typo."""
    found = [skill.id for skill, _name in kb.skills_in_text(text)]
    words = _skill_words(kb)
    for word in normalise(text).split():
        if len(word) < 5 or word in _STOP or word in _WORD_TO_CUE or word in words:
            continue
        best = process.extractOne(word, _skill_choices(kb), scorer=fuzz.ratio, score_cutoff=SKILL_WORD_CUTOFF)
        if best and words[best[0]] not in found:
            found.append(words[best[0]])
    return found


# --- constraints -------------------------------------------------------------------------------

def _number(token: str) -> float:
    token = token.casefold().replace(",", ".")
    return _NUMBER_WORDS[token] if token in _NUMBER_WORDS else float(token)


def constraints_in(kb: KnowledgeBase, text: str, today: date) -> Constraints:
    """The constraints one message states."""
    fixed = cleaned(text)
    hours = None
    match = _HOURS_WEEK.search(fixed) or _HOURS_WEEKLY.search(fixed)
    daily = None if match else _HOURS_DAY.search(fixed)
    if match:
        hours = _number(match.group(1))
    elif daily:
        hours = _number(daily.group(1)) * 7
    if match or daily:   # "6 hours a week" is a pace, not a deadline of one week
        span = (match or daily).span()
        fixed = fixed[:span[0]] + " " + fixed[span[1]:]
    weeks, deadline = None, ""
    within = _WITHIN.search(fixed) or _BARE_SPAN.search(fixed)
    if within:
        amount, unit = _number(within.group(1)), within.group(2).casefold()
        weeks = math.floor(amount * {"year": 52, "month": 52 / 12, "week": 1}[unit])
    iso = _ISO_DATE.search(text)
    if iso:
        try:
            day = date.fromisoformat(iso.group(1))
            if day > today:
                deadline, weeks = day.isoformat(), max(1, (day - today).days // 7)
        except ValueError:
            pass
    track = ""
    if _TRACK_CUE.search(text):
        words = set(normalise(text).split())
        tracks = sorted({r.track for r in kb.roles.values()})
        track = next((t for t in tracks if t.replace("_", " ") in normalise(text) or t in words), "")
    plausible = weeks is not None and 0 < weeks <= MAX_WEEKS
    return Constraints(hours_per_week=max(1, round(hours)) if hours and 0 < hours <= 100 else None,
                       weeks_available=weeks if plausible else None, deadline=deadline if plausible else "",
                       free_only=bool(_FREE_ONLY.search(fixed)), plan_aware=bool(_PLAN_AWARE.search(fixed)),
                       track=track)


# --- the consultation so far ---------------------------------------------------------------------

def state_of(kb: KnowledgeBase, history: Iterable[tuple], today: date, *,
             plan_tier: str = "free", cv_skills: Iterable[tuple[str, int]] = (), has_cv: bool = False,
             start_role: str = "") -> State:
    """Fold earlier ``(role, content, answer[, said_on])`` messages into the state the next answer starts from.

    A span such as "within a year" counts from the day it was said (``said_on``, default today)."""
    constraints = Constraints()
    focus, previous, questions = start_role, "", []
    for role, content, answer, *said_on in history:
        if role == "user":
            constraints = constraints.merged(_said(kb, content, today, said_on[0] if said_on else today))
            questions.append(content)
        elif answer:
            previous = answer.get("answer", "")
            focus = (answer.get("target_role") or {}).get("role_id") or focus
    return State(constraints=constraints, focus_role=focus, previous_answer=previous,
                 earlier_questions=tuple(questions[-6:]), plan_tier=plan_tier or "free",
                 cv_skills=tuple(cv_skills), has_cv=has_cv)


def _said(kb: KnowledgeBase, content: str, today: date, said_on: date) -> Constraints:
    said = constraints_in(kb, content, today)
    if said.weeks_available and not said.deadline and said_on < today:
        gone = (today - said_on).days // 7
        said = replace(said, weeks_available=max(1, said.weeks_available - gone))
    return said


def read(kb: KnowledgeBase, text: str, state: State, today: date, *, asks_market: bool = False,
         first: bool = False) -> Reading:
    """Place one message: its intent (see :data:`INTENTS`), named roles and skills, constraints."""
    cues = cues_in(text)
    roles = tuple(roles_in(kb, text))
    role_words = set().union(*(_role_index(kb)[2][r] for r in roles))
    skills = tuple(s for s in skills_in(kb, text) if normalise(kb.skills[s].name) not in role_words)
    said = constraints_in(kb, text, today)
    other_roles = [r for r in roles if r != state.focus_role]
    intent = _intent(cues, roles, other_roles, skills, said, state, asks_market, first)
    return Reading(intent=intent, roles=roles, skills=skills, constraints=said, cues=cues, asks_market=asks_market)


def _intent(cues: frozenset, roles: tuple, other_roles: list, skills: tuple, said: Constraints, state: State,
            asks_market: bool, first: bool) -> str:
    """The first rule that holds, most specific first (see :data:`INTENTS`)."""
    focus = state.focus_role
    rules = (
        ("cv_feedback", "cv" in cues),
        ("interview", "interview" in cues),
        ("compare", "compare" in cues and "what_if" not in cues and (len(roles) >= 2 or bool(other_roles and focus))),
        ("what_if", bool(other_roles) and not first and bool(focus)),
        ("time_fit", bool(said.hours_per_week or said.weeks_available)),
        ("next_after", "what_next" in cues or ("done" in cues and ("next" in cues or "course" in cues or bool(skills)))),
        ("explain_skill", "explain" in cues and bool(skills) and not other_roles),
        ("time_fit", "time" in cues and not said.free_only and "course" not in cues),
        ("courses", said.free_only or said.plan_aware or bool({"course", "free", "budget"} & cues)),
        ("market", asks_market),
        ("explain_skill", bool(skills) and not first),   # "is Spark important for this?"
        ("overview", first or bool(roles) or bool({"overview", "what_if", "next", "alternatives"} & cues)),
    )
    return next((intent for intent, holds in rules if holds), "help")


def with_reading(state: State, reading: Reading) -> State:
    """The state after this message: its constraints merged in."""
    return replace(state, constraints=state.constraints.merged(reading.constraints))


def learner_band(level: int) -> str:
    """The course level that suits a learner at ``level`` of a skill."""
    return "beginner" if level <= 1 else "intermediate" if level <= 3 else "advanced"


