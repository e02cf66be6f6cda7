"""The one skill resolver: free-text skill names to the ESCO-backed skill table and its aliases.

The table is the knowledge base's skill list (``ai_core/knowledge/skills.yaml``: ids,
display names, aliases, curated ESCO URIs and finer ESCO concepts counted as the same
skill). A name is matched by URI, then by id/name/alias, then through ``common.esco``
to a concept URI the table knows; a name the table does not know keeps its spelling
and gets ESCO's own concept URI when there is one. Every service that writes skills
(profile, LMS course skills including an organisation's own courses, ai_core, roadmap)
resolves them here, so "Excel" in a profile and "Spreadsheets" in a roadmap are one skill.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Optional

import yaml

from careeros_services.common import esco

SKILLS_FILE = Path(__file__).resolve().parents[1] / "ai_core" / "knowledge" / "skills.yaml"
MAX_ESCO_QUERY = 120  # longer text is not a skill name; ESCO matching would only waste time


def normalise(text: str) -> str:
    """Lower-case words only: "Node.JS " -> "node js"; used for name matching."""
    return " ".join(re.findall(r"[a-z0-9+#&]+", (text or "").casefold()))


@dataclass(frozen=True)
class Entry:
    """One skill of the table."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    esco_uri: str = ""
    related_esco_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolved:
    """A skill name as the platform stores and shows it."""

    name: str          # the table's display name, else the name as given (trimmed)
    esco_uri: str      # the concept URI ("" when ESCO has none)
    skill_id: str = ""  # the table's id ("" when the table does not know the skill)

    @property
    def key(self) -> str:
        """What makes two mentions the same skill: the table id, else the ESCO URI, else the name."""
        if self.skill_id:
            return self.skill_id
        if self.esco_uri:
            return self.esco_uri
        return "name:" + unicodedata.normalize("NFKC", self.name).strip().casefold()


class SkillTable:
    """Lookups by ESCO URI, id, name or alias; ESCO resolution as the last resort."""

    def __init__(self, entries: Iterable[Entry]):
        self.entries: dict[str, Entry] = {e.id: e for e in entries}
        self._names: dict[str, str] = {}
        for entry in self.entries.values():
            for name in (entry.id.replace("_", " "), entry.name, *entry.aliases):
                self._names.setdefault(normalise(name), entry.id)
        self._uris = {e.esco_uri: e.id for e in self.entries.values() if e.esco_uri}
        for entry in self.entries.values():
            for uri in entry.related_esco_uris:
                self._uris.setdefault(uri, entry.id)

    @property
    def names(self) -> Mapping[str, str]:
        """Every normalised id, name and alias -> table id."""
        return self._names

    def lookup(self, name: str, esco_uri: str = "") -> Optional[str]:
        """The table id for a name (or ESCO URI), or None."""
        if esco_uri and esco_uri in self._uris:
            return self._uris[esco_uri]
        found = self._names.get(normalise(name))
        if found:
            return found
        match = esco.resolve_skill(name) if name and len(name) <= MAX_ESCO_QUERY else None
        return self._uris.get(match.uri) if match else None

    def key(self, name: str, esco_uri: str = "") -> str:
        """:attr:`Resolved.key` without ESCO text matching: for names already resolved on write
        (they carry their URI), so reads stay cheap."""
        found = self._uris.get(esco_uri) if esco_uri else None
        found = found or self._names.get(normalise(name))
        return Resolved(name, esco_uri, found or "").key if found or esco_uri else Resolved(name.strip(), "").key

    def search(self, text: str, limit: int = 20) -> list[Entry]:
        """Skills whose name, id or an alias matches what a person is typing (autocomplete): an exact
        name first, then names starting with it, aliases starting with it, a word starting with it,
        and any containing it; alphabetical within each. No ESCO lookup: the table's skills only."""
        wanted = normalise(text)
        ranked = []
        for entry in self.entries.values():
            names = [normalise(entry.name), normalise(entry.id.replace("_", " "))]
            aliases = [normalise(a) for a in entry.aliases]
            if not wanted:
                rank = 0
            elif wanted in names or wanted in aliases:
                rank = 0
            elif any(n.startswith(wanted) for n in names):
                rank = 1
            elif any(a.startswith(wanted) for a in aliases):
                rank = 2
            elif any(w.startswith(wanted) for n in names + aliases for w in n.split()):
                rank = 3
            elif any(wanted in n for n in names + aliases):
                rank = 4
            else:
                continue
            ranked.append((rank, entry.name.casefold(), entry))
        return [entry for *_, entry in sorted(ranked, key=lambda r: r[:2])[:max(0, limit)]]

    def resolve(self, name: str, esco_uri: str = "") -> Resolved:
        """The stored form of a skill: the table's name and URI, or the name as given with ESCO's URI.

        An explicit ``esco_uri`` is kept (it may be a finer concept than the table's).
        """
        name = (name or "").strip()
        found = self.lookup(name, esco_uri)
        if found is not None:
            entry = self.entries[found]
            return Resolved(entry.name, esco_uri or entry.esco_uri, entry.id)
        if not esco_uri and name and len(name) <= MAX_ESCO_QUERY:
            match = esco.resolve_skill(name)
            esco_uri = match.uri if match else ""
        return Resolved(name, esco_uri or "")


def load(path: Path = SKILLS_FILE) -> SkillTable:
    doc = yaml.safe_load(path.read_text())
    related = doc.get("related_esco_uris") or {}
    return SkillTable(Entry(id=s["id"], name=s["name"], aliases=tuple(s.get("aliases") or ()),
                            esco_uri=s.get("esco_uri") or "", related_esco_uris=tuple(related.get(s["id"]) or ()))
                      for s in doc["skills"])


@lru_cache(maxsize=1)
def table() -> SkillTable:
    """The shipped table (loaded once per process)."""
    return load()


@lru_cache(maxsize=4096)
def resolve(name: str, esco_uri: str = "") -> Resolved:
    """:meth:`SkillTable.resolve` on the shipped table."""
    return table().resolve(name, esco_uri)


def key(name: str, esco_uri: str = "") -> str:
    """:meth:`SkillTable.key` on the shipped table."""
    return table().key(name, esco_uri)


def warm() -> None:
    """Load the table and ESCO's skill labels now (process start), not inside the first request."""
    table()
    esco.resolve_skill("warm up")


def normalise_skills(skills: Iterable[Mapping]) -> list[dict]:
    """``[{name, level, esco_uri?}]`` resolved: ``[{name, esco_uri, level}]``, one entry per skill
    (two names of the same skill merge, keeping the higher level), in the order first named."""
    merged: dict[str, dict] = {}
    for skill in skills:
        resolved = resolve(str(skill["name"]), str(skill.get("esco_uri") or ""))
        level = int(skill["level"])
        known = merged.get(resolved.key)
        if known is None:
            merged[resolved.key] = {"name": resolved.name, "esco_uri": resolved.esco_uri, "level": level}
        else:
            known["level"] = max(known["level"], level)
    return list(merged.values())
