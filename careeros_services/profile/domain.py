"""The learner's career profile: the aggregate and its rules. Pure Python.

No database, broker or framework here: :func:`apply_patch` takes a profile and
a patch (the JSON-ish dict a caller sent) and returns the new profile and the
names of the fields whose value really changed, or raises
:class:`ValidationFailed` naming every bad field at once.

Text is stored as the plain text the learner typed (stripped of surrounding
whitespace). It is never interpreted: ``<script>`` or ``'; DROP TABLE`` are
just characters to us; escaping belongs to whoever renders them. What *is*
refused is text that cannot be shown faithfully: control characters (C0/C1,
which includes NUL, newlines and tabs) and bidirectional-override marks that
make text display differently from what it is.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Optional

from careeros_services.common import skills as skill_table
from careeros_services.common.errors import ValidationFailed

LEARNING_PACES = ("relaxed", "steady", "intensive")
DEFAULT_PACE = "steady"

MAX_DISPLAY_NAME = 120
MAX_HEADLINE = 200
MAX_ROLE = 120
MAX_YEARS = 70
MAX_SKILLS = 100
MAX_SKILL_NAME = 80
SKILL_LEVELS = range(1, 6)
ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
MAX_INTERESTS = 50
MAX_INTEREST = 60

UNKNOWN_FIELD = "is not a field of the profile that can be changed"

# Bidirectional embedding/override/isolate marks (Unicode category Cf).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Profile:
    """One learner's profile; ``user_id`` is also the aggregate id."""

    user_id: str
    tenant_id: str
    display_name: str = ""
    headline: str = ""
    current_role: str = ""
    target_role: str = ""
    years_experience: int = 0
    skills: list[dict] = field(default_factory=list)   # [{"name": str, "level": 1..5}]
    interests: list[str] = field(default_factory=list)
    learning_pace: str = DEFAULT_PACE
    # {skill name casefolded: {"level", "source", "roadmap_id", "evidence": [{kind, id}], "at"}}:
    # why the platform (not the learner) added or raised a skill.
    skill_evidence: dict = field(default_factory=dict)
    version: int = 1
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None

    def to_dict(self) -> dict:
        """The JSON-ready representation (what the service layer returns)."""
        return {
            "user_id": self.user_id,
            "tenant_id": self.tenant_id,
            "display_name": self.display_name,
            "headline": self.headline,
            "current_role": self.current_role,
            "target_role": self.target_role,
            "years_experience": self.years_experience,
            "skills": [dict(s) for s in self.skills],
            "interests": list(self.interests),
            "learning_pace": self.learning_pace,
            "skill_evidence": {k: dict(v) for k, v in self.skill_evidence.items()},
            "version": self.version,
            "created_at": _iso_utc(self.created_at),
            "updated_at": _iso_utc(self.updated_at),
        }


def _iso_utc(moment: Optional[datetime]) -> Optional[str]:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def new_profile(user_id: str, tenant_id: str, display_name: str, now: datetime) -> Profile:
    """The empty profile a newly registered learner starts with.

    ``display_name`` comes from auth's event, a fact rather than input, so it
    is cleaned (control characters dropped, trimmed to length) instead of refused.
    """
    cleaned = "".join(ch for ch in display_name or "" if not _is_control(ch)).strip()
    return Profile(user_id=str(user_id), tenant_id=str(tenant_id),
                   display_name=cleaned[:MAX_DISPLAY_NAME], created_at=now, updated_at=now)


def apply_patch(profile: Profile, patch: dict) -> tuple[Profile, list[str]]:
    """Validate ``patch`` and apply it to ``profile``.

    Returns ``(new_profile, changed_fields)``; ``changed_fields`` lists only
    fields whose value differs after normalisation, so a no-op patch returns
    the profile unchanged and ``[]``. Version and timestamps are not touched
    here: the service layer bumps them when something changed.
    """
    if not isinstance(patch, dict):
        raise ValidationFailed("The patch must be an object.", fields={"patch": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, raw in patch.items():
        parser = _PARSERS.get(name)
        if parser is None:
            errors.setdefault(str(name), []).append(UNKNOWN_FIELD)
            continue
        value = parser(name, raw, errors)
        if value is not _INVALID:
            values[name] = value
    if errors:
        raise ValidationFailed("The profile has invalid fields.", fields=errors)
    changed = [name for name in EDITABLE_FIELDS if name in values and values[name] != getattr(profile, name)]
    if not changed:
        return profile, []
    return replace(profile, **{name: values[name] for name in changed}), changed


def raise_skill(profile: Profile, name: str, level: int, evidence: dict) -> tuple[Profile, bool]:
    """Add a skill proved elsewhere (a roadmap milestone, a confirmed CV), or raise its level; never lower it.

    ``evidence`` (where the proof is) is kept per skill. Returns ``(profile, changed)``;
    a skill already held at that level or higher changes nothing.
    """
    errors: dict[str, list[str]] = {}
    clean = _text("skill_name", name, errors, max_len=MAX_SKILL_NAME, min_len=1)
    lvl = _int_in("level", level, errors, SKILL_LEVELS)
    if errors:
        raise ValidationFailed("The achieved skill is invalid.", fields=errors)
    resolved = skill_table.resolve(clean)
    if not resolved.esco_uri and evidence.get("esco_uri"):
        resolved = replace(resolved, esco_uri=str(evidence["esco_uri"]))
    key = resolved.name.casefold()
    skills = [dict(s) for s in profile.skills]
    for skill in skills:
        if skill_table.resolve(skill["name"], skill.get("esco_uri") or "").key == resolved.key:
            if skill["level"] >= lvl:
                return profile, False
            skill["level"] = lvl
            break
    else:
        if len(skills) >= MAX_SKILLS:
            raise ValidationFailed("The profile has no room for another skill.",
                                   fields={"skills": [f"must have at most {MAX_SKILLS} skills"]})
        skills.append({"name": resolved.name, "level": lvl, "esco_uri": resolved.esco_uri})
    cited = {**profile.skill_evidence, key: {**evidence, "level": lvl}}
    return replace(profile, skills=skills, skill_evidence=cited), True


# --- field parsers: return the normalised value or _INVALID after recording errors ---------

_INVALID = object()


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS


def _text(where: str, raw: Any, errors: dict, *, max_len: int, min_len: int = 0) -> Any:
    if not isinstance(raw, str):
        errors.setdefault(where, []).append("must be a string")
        return _INVALID
    value = raw.strip()
    ok = True
    if any(_is_control(ch) for ch in value):
        errors.setdefault(where, []).append("must not contain control characters")
        ok = False
    if len(value) > max_len:
        errors.setdefault(where, []).append(f"must be at most {max_len} characters")
        ok = False
    if len(value) < min_len:
        errors.setdefault(where, []).append("must not be empty")
        ok = False
    return value if ok else _INVALID


def _int_in(where: str, raw: Any, errors: dict, allowed: range) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.setdefault(where, []).append("must be an integer")
        return _INVALID
    if raw not in allowed:
        errors.setdefault(where, []).append(f"must be between {allowed.start} and {allowed.stop - 1}")
        return _INVALID
    return raw


def _headline(name: str, raw: Any, errors: dict) -> Any:
    return _text(name, raw, errors, max_len=MAX_HEADLINE)


def _role(name: str, raw: Any, errors: dict) -> Any:
    return _text(name, raw, errors, max_len=MAX_ROLE)


def _years(name: str, raw: Any, errors: dict) -> Any:
    return _int_in(name, raw, errors, range(0, MAX_YEARS + 1))


def _pace(name: str, raw: Any, errors: dict) -> Any:
    if not isinstance(raw, str) or raw not in LEARNING_PACES:
        errors.setdefault(name, []).append(f"must be one of {', '.join(LEARNING_PACES)}")
        return _INVALID
    return raw


def _skills(name: str, raw: Any, errors: dict) -> Any:
    if not isinstance(raw, list):
        errors.setdefault(name, []).append("must be a list")
        return _INVALID
    if len(raw) > MAX_SKILLS:
        errors.setdefault(name, []).append(f"must have at most {MAX_SKILLS} skills")
        return _INVALID
    skills, seen, ok = [], set(), True
    for i, item in enumerate(raw):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            errors.setdefault(where, []).append("must be an object with name and level")
            ok = False
            continue
        for key in sorted(set(item) - {"name", "level", "esco_uri"}, key=str):
            errors.setdefault(f"{where}.{key}", []).append("is not a field of a skill")
            ok = False
        skill_name = _text(f"{where}.name", item.get("name"), errors,
                           max_len=MAX_SKILL_NAME, min_len=1)
        level = _int_in(f"{where}.level", item.get("level"), errors, SKILL_LEVELS)
        if skill_name is _INVALID or level is _INVALID:
            ok = False
            continue
        uri = item.get("esco_uri") or ""
        if not isinstance(uri, str) or (uri and not uri.startswith(ESCO_SKILL_PREFIX)):
            errors.setdefault(f"{where}.esco_uri", []).append("must be an ESCO skill URI or empty")
            ok = False
            continue
        key = skill_name.casefold()
        if key in seen:
            errors.setdefault(f"{where}.name", []).append("is listed twice (names are case-insensitive)")
            ok = False
        seen.add(key)
        skills.append({"name": skill_name, "level": level, "esco_uri": uri})
    # Names resolve through the shared skill table: "Excel" is stored as Spreadsheets with its ESCO URI,
    # and two names of one skill become one entry at the higher level.
    return skill_table.normalise_skills(skills) if ok else _INVALID


def _interests(name: str, raw: Any, errors: dict) -> Any:
    if not isinstance(raw, list):
        errors.setdefault(name, []).append("must be a list")
        return _INVALID
    if len(raw) > MAX_INTERESTS:
        errors.setdefault(name, []).append(f"must have at most {MAX_INTERESTS} interests")
        return _INVALID
    interests, seen, ok = [], set(), True
    for i, item in enumerate(raw):
        where = f"{name}[{i}]"
        value = _text(where, item, errors, max_len=MAX_INTEREST, min_len=1)
        if value is _INVALID:
            ok = False
            continue
        if value.casefold() in seen:
            errors.setdefault(where, []).append("is listed twice (case-insensitive)")
            ok = False
        seen.add(value.casefold())
        interests.append(value)
    return interests if ok else _INVALID


# Fields a learner may change, in the order they are reported, and their parsers.
_PARSERS = {
    "headline": _headline,
    "current_role": _role,
    "target_role": _role,
    "years_experience": _years,
    "skills": _skills,
    "interests": _interests,
    "learning_pace": _pace,
}
EDITABLE_FIELDS = tuple(_PARSERS)
