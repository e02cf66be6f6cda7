"""The billing service's settings: the ``billing`` section, its defaults in one place (config.yaml
documents them); read once in ``build()`` (the timer and the gateway read it too), a bad value
fails naming its key. ``billing.allow_clock_override`` is not here: the entrypoint checks it
strictly (only a literal true lets a caller move the billing clock)."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from careeros_services.common.settings import BillingGatewaySettings, read


@dataclasses.dataclass(frozen=True)
class Settings(BillingGatewaySettings):
    """The ``billing`` section (``activation_wait_s``: BillingGatewaySettings)."""

    provider: str = "sandbox"            # the default payment provider
    providers: dict = dataclasses.field(default_factory=dict)   # per provider: webhook_secret, api_key, api_base
    tick_interval_s: float = 30.0        # the nameko timer that runs renewals, dunning and saga retries
    dunning_retry_days: list = dataclasses.field(default_factory=lambda: [1, 3, 5])
    saga_step_timeout_s: float = 60.0
    saga_max_attempts: int = 3
    payment_grace_s: float = 120.0
    failpoints: str = ""                 # "<step>[:fail|crash],...": break a saga step on purpose (tests, drills)
    plans: dict = dataclasses.field(default_factory=dict)       # overrides of common/plans.yaml

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return read(cls, config, "billing")

    def failpoint_steps(self) -> dict[str, str]:
        """``failpoints`` as ``{step: "fail" | "crash"}``."""
        steps = {}
        for item in self.failpoints.split(","):
            step, _, action = item.strip().partition(":")
            if step:
                steps[step] = action or "fail"
        return steps


def check(config: Mapping[str, Any]) -> None:
    """Read every section billing reads (``careeros run`` checks them before starting anything)."""
    Settings.from_config(config)
