"""The roadmap service's settings: the ``roadmap`` section, its defaults in one place (config.yaml
documents them); read once in ``build()`` / ``registration()``, a bad value fails naming its key."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from careeros_services.common.settings import read


@dataclasses.dataclass(frozen=True)
class Settings:
    """The ``roadmap`` section."""

    behind_margin_weeks: float = 2.0
    saga_max_attempts: int = 3
    saga_retry_s: float = 5.0
    saga_lease_s: float = 60.0
    saga_poll_s: float = 1.0            # the gRPC process's saga runner
    schedule_check_s: float = 3600.0
    propose_deadline_s: float = 0.0     # ai_core's ProposeRoadmap; 0: grpc.deadline_s

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return read(cls, config, "roadmap")


def check(config: Mapping[str, Any]) -> None:
    """Read every section roadmap reads (``careeros run`` checks them before starting anything)."""
    Settings.from_config(config)
