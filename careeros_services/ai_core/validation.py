"""JSON Schemas of AI outputs (``contracts/ai/*.json``) and the parse-validate-repair step."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

import fastjsonschema
from jsonschema import Draft202012Validator

from careeros_services.ai_core.providers import AiOutputInvalid, Completion

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "contracts" / "ai"
CONSULTATION_ANSWER = "consultation_answer.v1"
ROADMAP_PROPOSAL = "roadmap_proposal.v1"
CV_ANALYSIS = "cv_analysis.v1"


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name))


@lru_cache(maxsize=None)
def _fast(name: str):
    # Compiled to Python: ~20x faster than jsonschema on a valid answer (the common
    # case); jsonschema then lists every problem of an invalid one for the repair prompt.
    return fastjsonschema.compile(schema(name))


def problems(name: str, document: object) -> list[str]:
    """Schema violations as "path: message" strings (empty when valid)."""
    try:
        _fast(name)(document)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    out = []
    for error in sorted(_validator(name).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        out.append(f"{path}: {error.message[:200]}")
    return out or ["(root): invalid"]  # the two validators disagree: stay on the safe side


def parse(name: str, text: str, extra_check: Optional[Callable[[dict], list[str]]] = None) -> tuple[Optional[dict], list[str]]:
    """``(document, [])`` when ``text`` is JSON valid against the schema and the extra check, else ``(None, problems)``."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as exc:
        return None, [f"(root): not valid JSON ({exc})"]
    found = problems(name, document)
    if not found and extra_check is not None:
        found = extra_check(document)
    return (document, []) if not found else (None, found)


def validated(name: str, ask: Callable[[Optional[tuple[str, list[str]]]], Completion],
              extra_check: Optional[Callable[[dict], list[str]]] = None) -> tuple[dict, list[Completion], int]:
    """Ask the provider, validate, and on failure ask once more with the problems (one repair).

    Returns ``(document, completions, repairs)``; raises :class:`AiOutputInvalid`
    (502) when the repaired answer is invalid too. Every completion is returned
    so its tokens are accounted even when the first one was thrown away.
    """
    first = ask(None)
    document, found = parse(name, first.text, extra_check)
    if document is not None:
        return document, [first], 0
    second = ask((first.text, found))
    document, found_again = parse(name, second.text, extra_check)
    if document is not None:
        return document, [first, second], 1
    raise AiOutputInvalid("The AI provider returned an invalid answer twice; nothing was stored.",
                          fields={"answer": found_again[:10]})
