"""The course rules both the LMS and the gateway apply, read from ``contracts/lms.yaml``."""
from __future__ import annotations

from pathlib import Path

import yaml

_RULES = yaml.safe_load((Path(__file__).resolve().parent / "lms.yaml").read_text())

PLATFORM_TENANT: str = _RULES["platform_tenant"]
LEVELS: tuple[str, ...] = tuple(_RULES["levels"])
KINDS: tuple[str, ...] = tuple(_RULES["lesson_kinds"])
ASSET_TYPES: dict[str, tuple[str, ...]] = {kind: tuple(types) for kind, types in _RULES["asset_types"].items()}
ALL_ASSET_TYPES: tuple[str, ...] = tuple(sorted({t for types in ASSET_TYPES.values() for t in types}))

_LIMITS: dict[str, int] = _RULES["limits"]
MAX_TITLE, MAX_SUMMARY, MAX_SLUG = _LIMITS["title"], _LIMITS["summary"], _LIMITS["slug"]
MAX_TAGS, MAX_TAG = _LIMITS["tags"], _LIMITS["tag"]
MAX_SKILLS, MAX_SKILL_NAME = _LIMITS["skills"], _LIMITS["skill_name"]
MAX_BODY = _LIMITS["body"]
MAX_QUESTIONS, MAX_CHOICES = _LIMITS["questions"], _LIMITS["choices"]
MAX_HOURS = _LIMITS["hours"]
