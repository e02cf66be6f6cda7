"""The profile's rules (pure: no database)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from careeros_services.common.errors import ValidationFailed
from careeros_services.profile.domain import EDITABLE_FIELDS, Profile, apply_patch, new_profile, raise_skill

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def profile() -> Profile:
    return new_profile("6f1c8d7e-8a52-4c1e-9b0e-1f2a3b4c5d6e", "0d7f3a3e-1111-4c1e-9b0e-1f2a3b4c5d6e",
                       "  Ada Lovelace ", NOW)


def bad_fields(profile: Profile, patch: dict) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        apply_patch(profile, patch)
    assert caught.value.code == "validation_failed"
    return caught.value.fields


def test_new_profile_is_empty_with_defaults(profile):
    assert profile.display_name == "Ada Lovelace"
    assert (profile.headline, profile.current_role, profile.target_role) == ("", "", "")
    assert (profile.years_experience, profile.skills, profile.interests) == (0, [], [])
    assert profile.learning_pace == "steady" and profile.version == 1
    assert profile.created_at == profile.updated_at == NOW


def test_new_profile_cleans_the_display_name_it_is_given():
    made = new_profile("u", "t", "Ada\x00\n Love\u202elace" + "x" * 200, NOW)
    assert made.display_name.startswith("Ada Lovelace") and len(made.display_name) == 120


def test_valid_patch_changes_only_named_fields_and_strips_text(profile):
    patch = {"headline": "  Backend engineer  ", "years_experience": 7,
             "skills": [{"name": " Python ", "level": 5}, {"name": "SQL", "level": 3}],
             "interests": [" data ", "ml"], "learning_pace": "intensive"}
    new, changed = apply_patch(profile, patch)
    assert changed == ["headline", "years_experience", "skills", "interests", "learning_pace"]
    assert new.headline == "Backend engineer"
    assert new.skills == [{"name": "Python", "esco_uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "level": 5},
                          {"name": "SQL", "esco_uri": "http://data.europa.eu/esco/skill/9cf681c7-89ec-470c-b651-7fe03786f586", "level": 3}]
    assert new.interests == ["data", "ml"]
    assert new.current_role == profile.current_role == ""
    assert new.version == profile.version  # the service bumps it, not the domain
    assert profile.headline == ""  # the original is untouched


def test_boundary_values_are_accepted(profile):
    patch = {"headline": "h" * 200, "current_role": "r" * 120, "target_role": "t" * 120,
             "years_experience": 70,
             "skills": [{"name": f"s{i}".ljust(80, "x"), "level": 1 + i % 5} for i in range(100)],
             "interests": [f"i{i}".ljust(60, "x") for i in range(50)]}
    new, changed = apply_patch(profile, patch)
    assert set(changed) == set(patch) and len(new.skills) == 100
    assert apply_patch(profile, {"years_experience": 0})[1] == []


@pytest.mark.parametrize("patch, field", [
    ({"headline": "h" * 201}, "headline"),
    ({"headline": 5}, "headline"),
    ({"headline": None}, "headline"),
    ({"current_role": "r" * 121}, "current_role"),
    ({"target_role": "t" * 121}, "target_role"),
    ({"years_experience": -1}, "years_experience"),
    ({"years_experience": 71}, "years_experience"),
    ({"years_experience": True}, "years_experience"),
    ({"years_experience": 3.0}, "years_experience"),
    ({"years_experience": "3"}, "years_experience"),
    ({"learning_pace": "fast"}, "learning_pace"),
    ({"learning_pace": "Steady"}, "learning_pace"),
    ({"learning_pace": ["steady"]}, "learning_pace"),
    ({"skills": "python"}, "skills"),
    ({"skills": [{"name": "x", "level": 1}] * 101}, "skills"),
    ({"skills": ["python"]}, "skills[0]"),
    ({"skills": [{"name": "", "level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "   ", "level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "n" * 81, "level": 1}]}, "skills[0].name"),
    ({"skills": [{"level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "Go", "level": 0}]}, "skills[0].level"),
    ({"skills": [{"name": "Go", "level": 6}]}, "skills[0].level"),
    ({"skills": [{"name": "Go", "level": False}]}, "skills[0].level"),
    ({"skills": [{"name": "Go"}]}, "skills[0].level"),
    ({"skills": [{"name": "Go", "level": 2, "years": 3}]}, "skills[0].years"),
    ({"skills": [{"name": "Python", "level": 2}, {"name": " python ", "level": 4}]}, "skills[1].name"),
    ({"interests": "ml"}, "interests"),
    ({"interests": ["x"] * 51}, "interests"),
    ({"interests": ["i" * 61]}, "interests[0]"),
    ({"interests": [""]}, "interests[0]"),
    ({"interests": [7]}, "interests[0]"),
    ({"interests": ["ML", "ml"]}, "interests[1]"),
    ({"headline": "line one\nline two"}, "headline"),
    ({"headline": "tab\there"}, "headline"),
    ({"current_role": "nul\x00byte"}, "current_role"),
    ({"target_role": "c1\x85control"}, "target_role"),
    ({"headline": "bidi \u202eoverride"}, "headline"),
    ({"skills": [{"name": "esc\x1b[31m", "level": 2}]}, "skills[0].name"),
    ({"nickname": "ada"}, "nickname"),
    ({"display_name": "Someone else"}, "display_name"),
    ({"version": 99}, "version"),
    ({"user_id": "6f1c8d7e-0000-4c1e-9b0e-1f2a3b4c5d6e"}, "user_id"),
    ({"tenant_id": "0d7f3a3e-0000-4c1e-9b0e-1f2a3b4c5d6e"}, "tenant_id"),
])
def test_each_invalid_input_names_its_field(profile, patch, field):
    fields = bad_fields(profile, patch)
    assert list(fields) == [field], fields
    assert all(isinstance(msg, str) and msg for msg in fields[field])


def test_every_bad_field_is_named_at_once_and_nothing_is_applied(profile):
    fields = bad_fields(profile, {"headline": "h" * 201, "years_experience": 99, "learning_pace": "x",
                                  "skills": [{"name": "Go", "level": 9}, {"name": "", "level": 1}],
                                  "interests": ["ok", "\x07"], "colour": "blue",
                                  "target_role": "valid on its own"})
    assert set(fields) == {"headline", "years_experience", "learning_pace", "skills[0].level",
                           "skills[1].name", "interests[1]", "colour"}
    assert profile.target_role == ""


def test_patch_must_be_an_object(profile):
    assert "patch" in bad_fields(profile, ["headline"])  # type: ignore[arg-type]


@pytest.mark.parametrize("patch", [
    {},
    {"headline": ""},
    {"headline": "   "},
    {"years_experience": 0, "learning_pace": "steady", "skills": [], "interests": []},
])
def test_patch_that_changes_nothing_is_a_no_op(profile, patch):
    new, changed = apply_patch(profile, patch)
    assert changed == [] and new is profile


def test_setting_the_same_values_again_changes_nothing(profile):
    first, _ = apply_patch(profile, {"headline": "Engineer", "skills": [{"name": "Go", "level": 3}]})
    again, changed = apply_patch(first, {"headline": " Engineer ", "skills": [{"name": "Go", "level": 3}]})
    assert changed == [] and again is first
    _, changed = apply_patch(first, {"skills": [{"name": "Go", "level": 4}]})
    assert changed == ["skills"]


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script>",
    "'; DROP TABLE profiles; --",
    "Robert'); DELETE FROM outbox WHERE ('1'='1",
    "<img src=x onerror=alert(1)> & \"quotes\"",
    "café — 日本語 — emoji 👩‍💻",  # ZWJ sequences are not control characters
])
def test_markup_and_sql_text_is_kept_verbatim_as_plain_text(profile, text):
    patch = {"headline": text, "skills": [{"name": text[:80], "level": 2}], "interests": [text[:60]]}
    new, changed = apply_patch(profile, patch)
    assert new.headline == text
    assert new.skills == [{"name": text[:80].strip(), "esco_uri": "", "level": 2}]
    assert new.interests == [text[:60].strip()]
    assert changed == ["headline", "skills", "interests"]


def test_skills_resolve_through_the_shared_table_aliases_merge_and_carry_their_esco_uri(profile):
    new, _ = apply_patch(profile, {"skills": [{"name": "Excel", "level": 3}, {"name": "google sheets", "level": 2},
                                              {"name": "Python 3", "level": 1}]})
    assert new.skills == [
        {"name": "Spreadsheets", "esco_uri": "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be",
         "level": 3},
        {"name": "Python", "esco_uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
         "level": 1}]
    with pytest.raises(ValidationFailed) as caught:
        apply_patch(profile, {"skills": [{"name": "Go", "level": 2, "esco_uri": "https://example.com/go"}]})
    assert list(caught.value.fields) == ["skills[0].esco_uri"]
    raised, changed = raise_skill(new, "excel", 4, {"source": "cv"})
    assert changed and [s["level"] for s in raised.skills if s["name"] == "Spreadsheets"] == [4]


def test_to_dict_is_json_ready(profile):
    data = profile.to_dict()
    assert data["created_at"] == NOW.isoformat()
    assert set(data) >= {"user_id", "tenant_id", "version", *EDITABLE_FIELDS}
