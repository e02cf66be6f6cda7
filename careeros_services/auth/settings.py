"""The auth service's settings: the ``auth`` and ``privacy`` sections, their defaults in one place
(config.yaml documents them); read once in ``build()``, a bad value fails naming its key."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from careeros_services.common import plans
from careeros_services.common.settings import read


@dataclasses.dataclass(frozen=True)
class Settings:
    """The ``auth`` section."""

    issuer: str
    audience: str
    access_ttl_s: int
    refresh_ttl_s: int
    login_max_failures: int
    login_window_s: int
    login_max_failures_per_ip: int = 0          # 0: 20 × login_max_failures
    login_max_failures_per_account: int = 0     # 0: 10 × login_max_failures
    invite_ttl_s: int = 7 * 24 * 3600
    redis_prefix: str = "careeros.auth."
    email_verification_ttl_s: int = 48 * 3600
    password_reset_ttl_s: int = 3600
    verification_resend_interval_s: int = 60    # one verification e-mail a minute per user
    password_resets_per_hour: int = 5           # reset e-mails per address an hour; more are dropped silently
    # Seats by plan tier, from the plan catalogue (common.plans), not the auth section.
    seats_included: dict = dataclasses.field(default_factory=lambda: plans.seats_included(plans.load()))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        """The ``auth`` section, checked, with the seats of the configured plan catalogue."""
        settings = read(cls, config, "auth")
        return dataclasses.replace(settings, seats_included=plans.seats_included(plans.from_config(config)))


@dataclasses.dataclass(frozen=True)
class PrivacySettings:
    """The ``privacy`` section (its ``storage`` subsection is read by common.storage)."""

    export_ttl_s: int = 7 * 24 * 3600   # how long an export archive (and its link) lives
    link_ttl_s: int = 3600
    resend_after_s: int = 300
    storage: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PrivacySettings":
        return read(cls, config, "privacy")


def check(config: Mapping[str, Any]) -> None:
    """Read every section auth reads (``careeros run`` checks them before starting anything)."""
    Settings.from_config(config)
    PrivacySettings.from_config(config)
