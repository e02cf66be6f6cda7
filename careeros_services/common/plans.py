"""The plan catalogue (``contracts/plans.yaml``), read the same way by billing, ai_core and auth.

Billing advertises and sells these plans; ai_core enforces ``ai_quota`` and auth
``seats_included`` from the very same values, so what ``/billing/plans`` says is
what is enforced (tests/billing/test_plans_enforced.py compares them).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional

import yaml

CATALOGUE = Path(__file__).resolve().parents[2] / "contracts" / "plans.yaml"
UNLIMITED = -1


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict]:
    return yaml.safe_load(CATALOGUE.read_text())["plans"]


def load(overrides: Optional[Mapping[str, Mapping]] = None) -> dict[str, dict]:
    """Every plan's fields: the catalogue with per-plan ``overrides`` (config's ``billing.plans``) applied."""
    return {code: {**values, **dict((overrides or {}).get(code) or {})} for code, values in _catalogue().items()}


def from_config(config: Mapping) -> dict[str, dict]:
    """The catalogue as a process configured with ``config`` sees it."""
    return load((config.get("billing") or {}).get("plans"))


def ai_quotas(plans: Mapping[str, Mapping]) -> dict[str, int]:
    """Monthly AI answers per user, by plan tier."""
    return {code: int(plan["ai_quota"]) for code, plan in plans.items()}


def seats_included(plans: Mapping[str, Mapping]) -> dict[str, int]:
    """Seats an organisation has without buying per-seat plans, by plan tier."""
    return {code: int(plan.get("seats_included") or 0) for code, plan in plans.items()}
