"""The web client's settings: the ``web`` section, its defaults in one place (config.yaml documents
them), checked when the app is built so a bad value fails at start-up naming its key. The web
client stands apart from the services, so it has this small reader of its own."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping


class WebSettingsError(ValueError):
    """A ``web.*`` value that is missing or of the wrong type; the message names the key."""


@dataclasses.dataclass(frozen=True)
class WebSettings:
    """The ``web`` section."""

    api_url: str = ""                     # the API's /api/v1; the app needs one (wsgi.py derives it from gateway.bind)
    redis_prefix: str = "careeros.web."
    session_ttl_s: int = 28800
    api_timeout_s: float = 15.0
    base_url: str = "http://127.0.0.1:8000"   # where people open the web client (links in e-mails)

    @classmethod
    def from_section(cls, section: Mapping[str, Any], *, need_api: bool = False) -> "WebSettings":
        """``section`` (the ``web`` mapping) checked; ``need_api``: ``api_url`` must be set (the app)."""
        if need_api and not (section or {}).get("api_url"):
            raise WebSettingsError("web.api_url: missing (the web client needs the API's /api/v1)")
        section, values = section or {}, {}
        for item in dataclasses.fields(cls):
            key = f"web.{item.name}"
            if item.name not in section or section[item.name] in (None, ""):
                continue
            value, kind = section[item.name], {"str": str, "int": int, "float": float}[str(item.type)]
            if isinstance(value, (bool, dict, list)):
                raise WebSettingsError(f"{key}: expected {'text' if kind is str else 'a number'}, got {value!r}")
            try:
                values[item.name] = kind(value)
            except (TypeError, ValueError):
                raise WebSettingsError(f"{key}: expected a number, got {value!r}") from None
        return cls(**values)
