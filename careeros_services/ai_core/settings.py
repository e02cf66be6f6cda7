"""The ai_core service's settings: the ``ai_core`` section and its ``openai`` and ``redaction``
subsections, their defaults in one place (config.yaml documents them); read once in ``build()``
(the gateway reads some keys too), a bad value fails naming its key."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from careeros_services.common.settings import AiCoreGatewaySettings, read

DEFAULT_PRICES = {  # micro-USD per 1,000 tokens
    "embedded": {"*": {"prompt_per_1k": 0, "completion_per_1k": 0}},
    "openai": {"*": {"prompt_per_1k": 150, "completion_per_1k": 600}},
}


@dataclasses.dataclass(frozen=True)
class Settings(AiCoreGatewaySettings):
    """The ``ai_core`` section (``max_cv_bytes`` and ``gateway_deadline_s``: AiCoreGatewaySettings)."""

    provider: str = "embedded"                   # embedded | openai
    openai: dict = dataclasses.field(default_factory=dict)       # OpenAISettings
    redaction: dict = dataclasses.field(default_factory=dict)    # RedactionSettings
    prices: dict = dataclasses.field(default_factory=lambda: DEFAULT_PRICES)
    redis_url: str = ""                          # empty: the platform's redis_url
    redis_prefix: str = "careeros.ai."
    rate_limit_per_tenant_per_minute: int = 120
    cache_ttl_s: int = 86400
    storage: dict = dataclasses.field(default_factory=dict)      # the CV bucket (objects.py)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return read(cls, config, "ai_core")


@dataclasses.dataclass(frozen=True)
class OpenAISettings:
    """``ai_core.openai``: an OpenAI-compatible chat-completions endpoint."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str = ""
    model: str = "gpt-4o-mini"
    response_format: str = "json_schema"         # or json_object
    temperature: float = 0.2
    timeout_s: float = 20.0
    max_attempts: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    breaker_fail_max: int = 5
    breaker_reset_s: float = 30.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> "OpenAISettings":
        return read(cls, {"ai_core": {"openai": section}}, "ai_core.openai")


@dataclasses.dataclass(frozen=True)
class RedactionSettings:
    """``ai_core.redaction``: what is removed from text before it reaches a hosted model."""

    enabled: bool = True
    emails: bool = True
    phones: bool = True
    extra_patterns: list = dataclasses.field(default_factory=list)

    @classmethod
    def from_section(cls, section: Any) -> "RedactionSettings":
        return read(cls, {"ai_core": {"redaction": section or {}}}, "ai_core.redaction")


def check(config: Mapping[str, Any]) -> None:
    """Read every section ai_core reads (``careeros run`` checks them before starting anything)."""
    settings = Settings.from_config(config)
    OpenAISettings.from_section(settings.openai)
    RedactionSettings.from_section(settings.redaction)
