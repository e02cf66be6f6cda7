"""Runs the consultant's evaluation set (``conversations-v*.yaml``) against a provider and scores it.

A conversation is a learner (skills, target role, plan, optionally a CV) and
turns; each turn's answer is made the way the service makes it — the state of
the conversation so far, ``domain.analyse``, the provider, the JSON Schema and
``domain.answer_problems`` with one repair — and then checked against the
turn's expected properties. Every turn also has the properties every answer
must have: valid, no invented salary/demand figures, a next action for every
gap, not the previous answer again.

Used by ``tests/ai_core/test_eval.py`` (embedded provider, must score 100 %)
and ``bench/ai_eval.py`` (any OpenAI-compatible server).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import yaml

from careeros_services.ai_core import conversation, domain, knowledge, validation
from careeros_services.ai_core.domain import LearnerProfile
from careeros_services.ai_core.providers import AiOutputInvalid, AiProviderUnavailable, Prompt, Provider
from careeros_services.ai_core.service import load_seed_catalog

EVAL_DIR = Path(__file__).resolve().parent
CURRENT = EVAL_DIR / "conversations-v1.yaml"
TODAY = date(2026, 12, 6)   # the set's deadlines are relative to this day


@dataclass
class Result:
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    turns: int = 0

    @property
    def total(self) -> int:
        return self.passed + len(self.failed)

    @property
    def score(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0

    def check(self, where: str, name: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
        else:
            self.failed.append(f"{where}: {name}" + (f" ({detail})" if detail else ""))


def load(path: Path = CURRENT) -> list[dict]:
    document = yaml.safe_load(path.read_text())
    return document["conversations"]


def run(provider: Provider, conversations: list[dict], *, progress: Callable[[str], None] = lambda _m: None,
        semantic_check: bool = True) -> Result:
    """Every turn of every conversation through ``provider``, scored property by property.

    ``semantic_check=False`` keeps only the JSON Schema between the provider and the scoring (to show
    that the properties themselves catch a wrong answer, not only the service's validation)."""
    kb = knowledge.default()
    catalog = load_seed_catalog(kb)
    premium = {c.slug: c.premium for c in catalog}
    result = Result()
    for conv in conversations:
        profile = LearnerProfile("eval", "eval", skills=tuple((n, int(lv)) for n, lv in conv.get("skills", [])),
                                 target_role=conv.get("target_role", ""))
        history: list[tuple[str, str, dict | None]] = []
        for number, turn in enumerate(conv["turns"], start=1):
            where = f"{conv['id']}#{number}"
            cv = conv.get("cv")
            state = conversation.state_of(kb, history, TODAY, plan_tier=conv.get("plan_tier", "free"),
                                          cv_skills=[(n, int(lv)) for n, lv in cv or []], has_cv=cv is not None)
            facts = domain.analyse(kb, profile, turn["ask"], catalog, explicit_role=turn.get("role_field", ""),
                                   state=state, today=TODAY, first=number == 1)
            prompt = Prompt(purpose="consultation", question=turn["ask"], facts=facts,
                            data={"profile": {"skills": [{"name": n, "level": lv} for n, lv in profile.skills],
                                              "target_role": profile.target_role},
                                  "earlier_messages": [{"role": r, "content": c[:2000]} for r, c, _a in history[-6:]]},
                            schema=validation.schema(validation.CONSULTATION_ANSWER))
            try:
                answer, _completions, _repairs = validation.validated(
                    validation.CONSULTATION_ANSWER, lambda repair: provider.complete(prompt, repair),
                    (lambda doc: domain.answer_problems(kb, doc, facts)) if semantic_check else None)
            except (AiOutputInvalid, AiProviderUnavailable) as exc:
                answer = None
                result.check(where, "valid", False, str(exc)[:200])
            if answer is not None:
                result.check(where, "valid", True)
                check_turn(result, where, turn.get("expect") or {}, answer, facts, premium)
            else:   # every property of an unusable answer fails
                for name in properties_of(turn.get("expect") or {}):
                    result.check(where, name, False, "no valid answer")
            result.turns += 1
            progress(where)
            history += [("user", turn["ask"], None),
                        ("assistant", answer["answer"] if answer else "", answer)]
    return result


def properties_of(expect: dict) -> list[str]:
    return ["no_invented_figures", "action_for_every_gap", "not_repeated", *expect]


_FIGURE = re.compile(r"(?i)([$€£]\s?\d|\d+\s?k\b|\b(salar(y|ies)|wages?|income)\b[^.]{0,30}\d|\d+\s?%[^.]{0,30}\bdemand)")


def _slugs(answer: dict) -> list[str]:
    return list(dict.fromkeys([c["slug"] for c in answer.get("courses", [])]
                              + [s for a in answer.get("next_actions", []) for s in a.get("course_slugs", [])]))


def check_turn(result: Result, where: str, expect: dict, answer: dict, facts: domain.Facts,
               premium: dict[str, bool]) -> None:
    """The properties every answer has, then the turn's own (see conversations-v1.yaml's header)."""
    text = answer["answer"]
    folded = text.casefold()
    result.check(where, "no_invented_figures",
                 not _FIGURE.search(text) and not answer["market_data"]["available"], text[:120])
    acted = {a["skill_id"] for a in answer["next_actions"]}
    result.check(where, "action_for_every_gap", all(g["skill_id"] in acted for g in answer["skill_gaps"]))
    result.check(where, "not_repeated", text.strip() != facts.previous_answer.strip())
    used = answer.get("constraints_used") or {}
    gaps = {g["skill_id"] for g in answer["skill_gaps"]}
    checks = {
        "role": lambda v: answer["target_role"]["role_id"] == v,
        "intent": lambda v: answer.get("intent") == v,
        "constraints": lambda v: all(used.get(k) == want for k, want in v.items()),
        "says": lambda v: all(s.casefold() in folded for s in v),
        "never_says": lambda v: not any(s.casefold() in folded for s in v),
        "gaps_include": lambda v: set(v) <= gaps,
        "gaps_exclude": lambda v: not set(v) & gaps,
        "courses_allowed": lambda v: set(_slugs(answer)) <= set(v),
        "no_premium": lambda v: not v or not any(premium.get(s, False) for s in _slugs(answer)),
        "first_course": lambda v: all(_first_course(answer, skill) == slug for skill, slug in v.items()),
        "first_action": lambda v: bool(answer["next_actions"]) and answer["next_actions"][0]["skill_id"] == v,
        "before": lambda v: all(_position(answer, a) < _position(answer, b) for a, b in v),
        "practice_for": lambda v: all("practice" in _action(answer, s).casefold() for s in v),
        "plan_flags": lambda v: all(_course(answer, slug).get("in_plan") == flag for slug, flag in v.items()),
    }
    for name, wanted in expect.items():
        ok = checks[name](wanted)
        result.check(where, name, ok, "" if ok else json.dumps({"want": wanted, "answer": text[:300]})[:400])


def _first_course(answer: dict, skill_id: str) -> str:
    action = next((a for a in answer["next_actions"] if a["skill_id"] == skill_id), None)
    return action["course_slugs"][0] if action and action["course_slugs"] else ""


def _action(answer: dict, skill_id: str) -> str:
    return next((a["action"] for a in answer["next_actions"] if a["skill_id"] == skill_id), "")


def _position(answer: dict, skill_id: str) -> int:
    order = [a["skill_id"] for a in answer["next_actions"]]
    return order.index(skill_id) if skill_id in order else 10_000


def _course(answer: dict, slug: str) -> dict:
    return next((c for c in answer["courses"] if c["slug"] == slug), {})
