"""The consultant's knowledge base: roles, skills, levels, prerequisites, hours, interview topics.

Shipped with the code (``knowledge/*.yaml``) and loaded once per process. Pure:
no database, no framework. Free-text names (profile skills, CV terms, course
skills, target roles) are matched here against ids, names and aliases first
(curated, so "React" is the frontend-frameworks skill and not ESCO's "react to
physical changes"), then through ``common.esco`` by concept URI.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

import yaml

from careeros_services.common import esco
from careeros_services.common import skills as skill_table

KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"
LEVELS = range(1, 6)
# A prerequisite counts as met at this level (enough to start the dependent skill).
PREREQUISITE_LEVEL = 2


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    aliases: tuple[str, ...]
    esco_uri: Optional[str]
    esco_label: str
    unmapped: str
    hours: tuple[int, ...]            # hours[n-1]: from level n-1 to level n
    prerequisites: tuple[str, ...]
    related_esco_uris: tuple[str, ...] = ()   # finer ESCO concepts counted as this skill

    def hours_between(self, current: int, target: int) -> int:
        """Hours to go from ``current`` to ``target`` level (0 when already there)."""
        return sum(self.hours[level - 1] for level in range(max(current, 0) + 1, target + 1))


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    track: str
    aliases: tuple[str, ...]
    esco_occupation_uri: str
    esco_label: str
    skills: dict = field(hash=False)  # skill id -> required level
    interview_topics: tuple[str, ...] = ()


class KnowledgeError(ValueError):
    """The knowledge files are inconsistent (unknown ids, cycles, bad levels)."""


normalise = skill_table.normalise  # one name matching for every service (common.skills)


class KnowledgeBase:
    """Roles and skills with lookups by id, name, alias or ESCO URI."""

    def __init__(self, skills: Iterable[Skill], roles: Iterable[Role]):
        self.skills: dict[str, Skill] = {s.id: s for s in skills}
        self.roles: dict[str, Role] = {r.id: r for r in roles}
        # The same resolver every service uses on writes (common.skills), over this knowledge base's skills.
        self._skill_table = skill_table.SkillTable(
            skill_table.Entry(id=s.id, name=s.name, aliases=s.aliases, esco_uri=s.esco_uri or "",
                              related_esco_uris=s.related_esco_uris) for s in self.skills.values())
        self._role_names: dict[str, str] = {}
        for role in self.roles.values():
            for name in (role.id.replace("_", " "), role.title, *role.aliases):
                self._role_names.setdefault(normalise(name), role.id)

    # --- lookups ------------------------------------------------------------------------------

    def skill_for(self, name: str, esco_uri: str = "") -> Optional[Skill]:
        """The KB skill for a free-text name (or ESCO URI), or None.

        Order: the URI if given; id/name/alias; then ESCO resolution of the
        name to a URI that a KB skill is mapped to.
        """
        found = self._skill_table.lookup(name, esco_uri)
        return self.skills[found] if found is not None else None

    def esco_uri_for(self, name: str) -> str:
        """The ESCO URI of a skill name: the KB's curated one, else ESCO's own match, else ""."""
        skill = self.skill_for(name)
        if skill is not None:
            return skill.esco_uri or ""
        match = esco.resolve_skill(name) if name and len(name) <= 120 else None
        return match.uri if match else ""

    def role_for(self, text: str, *, via_esco: bool = True) -> Optional[Role]:
        """The role named by an id, title or alias (exact after normalising), else the role
        whose title/alias occurs in ``text`` (longest wins), else (for short titles) via the
        ESCO occupation the text names."""
        key = normalise(text)
        if not key:
            return None
        if key in self._role_names:
            return self.roles[self._role_names[key]]
        padded = f" {key} "
        hits = [(len(name), role_id) for name, role_id in self._role_names.items() if f" {name} " in padded]
        if hits:
            return self.roles[max(hits)[1]]
        # A title, not a sentence: scanning ESCO for every question would cost a full pass each.
        match = esco.resolve_occupation(text) if via_esco and len(key.split()) <= 5 else None
        if match:
            for role in self.roles.values():
                if role.esco_occupation_uri == match.uri:
                    return role
        return None

    def skills_in_text(self, text: str) -> list[tuple[Skill, str]]:
        """KB skills mentioned in free text (a question, a CV) with the phrase that named them."""
        padded = f" {normalise(text)} "
        found: dict[str, tuple[Skill, str]] = {}
        # Longest names first so "machine learning" wins over "learning"-like fragments.
        names = self._skill_table.names
        for name in sorted(names, key=len, reverse=True):
            if len(name) < 2 or f" {name} " not in padded:
                continue
            skill = self.skills[names[name]]
            found.setdefault(skill.id, (skill, name))
        return list(found.values())

    # --- the prerequisite DAG -----------------------------------------------------------------

    def prerequisite_closure(self, skill_ids: Iterable[str]) -> list[str]:
        """The skills and all their transitive prerequisites, prerequisites first (topological)."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(skill_id: str, path: tuple[str, ...]) -> None:
            if state.get(skill_id) == 2:
                return
            if state.get(skill_id) == 1:
                raise KnowledgeError(f"prerequisite cycle: {' -> '.join(path + (skill_id,))}")
            state[skill_id] = 1
            for pre in sorted(self.skills[skill_id].prerequisites):
                visit(pre, path + (skill_id,))
            state[skill_id] = 2
            order.append(skill_id)

        for skill_id in sorted(skill_ids):
            visit(skill_id, ())
        return order

    def check(self) -> list[str]:
        """Integrity problems (empty list when consistent): unknown ids, levels, cycles, ESCO links."""
        problems: list[str] = []
        for skill in self.skills.values():
            for pre in skill.prerequisites:
                if pre not in self.skills:
                    problems.append(f"skill {skill.id}: unknown prerequisite {pre}")
            if len(skill.hours) != 5 or any(h <= 0 for h in skill.hours):
                problems.append(f"skill {skill.id}: hours must be 5 positive numbers")
            if skill.esco_uri:
                if esco.skill(skill.esco_uri) is None:
                    problems.append(f"skill {skill.id}: {skill.esco_uri} is not an ESCO skill")
                elif not esco.head_starts_with(skill.esco_uri, skill.esco_label):
                    problems.append(f"skill {skill.id}: ESCO labels do not start with {skill.esco_label!r}")
            elif not skill.unmapped:
                problems.append(f"skill {skill.id}: neither esco_uri nor an unmapped reason")
            for uri in skill.related_esco_uris:
                if esco.skill(uri) is None:
                    problems.append(f"skill {skill.id}: related {uri} is not an ESCO skill")
        if not problems:
            try:
                self.prerequisite_closure(self.skills)
            except KnowledgeError as exc:
                problems.append(str(exc))
        for role in self.roles.values():
            if not role.skills:
                problems.append(f"role {role.id}: no skills")
            for skill_id, level in role.skills.items():
                if skill_id not in self.skills:
                    problems.append(f"role {role.id}: unknown skill {skill_id}")
                if level not in LEVELS:
                    problems.append(f"role {role.id}: level {level} of {skill_id} outside 1..5")
            if esco.occupation(role.esco_occupation_uri) is None:
                problems.append(f"role {role.id}: {role.esco_occupation_uri} is not an ESCO occupation")
            elif not esco.head_starts_with(role.esco_occupation_uri, role.esco_label):
                problems.append(f"role {role.id}: ESCO labels do not start with {role.esco_label!r}")
            if len(role.interview_topics) < 3:
                problems.append(f"role {role.id}: fewer than 3 interview topics")
        return problems


def load(directory: Path = KNOWLEDGE_DIR) -> KnowledgeBase:
    """Read the knowledge files; KnowledgeError on unknown ids or prerequisite cycles."""
    skills_doc = yaml.safe_load((directory / "skills.yaml").read_text())
    profiles = skills_doc["effort_profiles"]
    related = skills_doc.get("related_esco_uris") or {}
    unknown = sorted(set(related) - {s["id"] for s in skills_doc["skills"]})
    if unknown:
        raise KnowledgeError(f"related_esco_uris names unknown skills: {unknown}")
    skills = [Skill(id=s["id"], name=s["name"], aliases=tuple(s.get("aliases") or ()),
                    esco_uri=s.get("esco_uri") or None, esco_label=s.get("esco_label") or "",
                    unmapped=s.get("unmapped") or "", hours=tuple(profiles[s["effort"]]),
                    prerequisites=tuple(s.get("prerequisites") or ()),
                    related_esco_uris=tuple(related.get(s["id"]) or ()))
              for s in skills_doc["skills"]]
    roles_doc = yaml.safe_load((directory / "roles.yaml").read_text())
    roles = [Role(id=r["id"], title=r["title"], track=r["track"], aliases=tuple(r.get("aliases") or ()),
                  esco_occupation_uri=r["esco_occupation_uri"], esco_label=r.get("esco_label") or "",
                  skills=dict(r["skills"]), interview_topics=tuple(r.get("interview_topics") or ()))
             for r in roles_doc["roles"]]
    kb = KnowledgeBase(skills, roles)
    for skill in kb.skills.values():
        for pre in skill.prerequisites:
            if pre not in kb.skills:
                raise KnowledgeError(f"skill {skill.id}: unknown prerequisite {pre}")
    kb.prerequisite_closure(kb.skills)  # raises on a cycle
    return kb


@lru_cache(maxsize=1)
def default() -> KnowledgeBase:
    """The shipped knowledge base (loaded once per process)."""
    return load()
