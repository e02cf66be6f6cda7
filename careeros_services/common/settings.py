"""Typed settings: one dataclass per configuration section, its defaults in one place.

``read(GatewaySettings, config, "gateway")`` reads ``config["gateway"]`` into the dataclass:
a missing key takes the field's default (a field without one is required), a value is converted
to the field's type, and anything else fails at start-up with :class:`SettingsError` naming the
key (``gateway.jwks_cache_s: expected a number, got 'soon'``) instead of at the first request.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """A configuration value that is missing or of the wrong type; the message names the key."""


def _convert(value: Any, kind: Any, key: str) -> Any:
    if kind is Any:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        flag = str(value).strip().lower()  # an environment variable may say "1", "yes", "off"
        if flag in ("1", "true", "yes", "on"):
            return True
        if flag in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{key}: expected true or false, got {value!r}")
    if kind in (int, float):
        if isinstance(value, bool) or value == "" or value is None:
            raise SettingsError(f"{key}: expected a number, got {value!r}")
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key}: expected a number, got {value!r}") from None
        if kind is int and isinstance(value, float) and number != value:
            raise SettingsError(f"{key}: expected a whole number, got {value!r}")
        return number
    if kind is str:
        if isinstance(value, (dict, list)):
            raise SettingsError(f"{key}: expected text, got {value!r}")
        return "" if value is None else str(value)
    origin = typing.get_origin(kind) or kind
    if origin in (dict, list):
        if value in (None, ""):
            return origin()
        if not isinstance(value, origin):
            raise SettingsError(f"{key}: expected a {'mapping' if origin is dict else 'list'}, got {value!r}")
        return value
    raise TypeError(f"{key}: settings of type {kind!r} are not supported")


def read(cls: type[T], config: Mapping[str, Any], section: str) -> T:
    """The ``section`` of ``config`` as a ``cls`` (a dataclass), checked; see the module docstring.
    A dotted ``section`` (``ai_core.openai``) names a subsection."""
    values: Any = config
    for depth, part in enumerate(section.split(".")):
        values = values.get(part) if isinstance(values, Mapping) else None
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise SettingsError(f"{'.'.join(section.split('.')[:depth + 1])}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    found: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        name = item.metadata.get("key", item.name)  # e.g. smtp.from, a Python keyword
        key = f"{section}.{name}"
        if name in values:
            found[item.name] = _convert(values[name], hints[item.name], key)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            raise SettingsError(f"{key}: missing (it has no default)")
    return cls(**found)


@dataclasses.dataclass(frozen=True)
class GatewaySettings:
    """The ``gateway`` section: what the REST gateway reads, with its defaults."""

    max_body_bytes: int
    idempotency_ttl_s: int
    bind: str = "127.0.0.1:8000"
    xapi_max_body_bytes: int = 3 * 1024 * 1024   # /xapi (the LRS) has its own body limit
    xapi_deadline_s: float = 15.0                # and its own gRPC deadline (statement batches)
    idempotency_in_flight_ttl_s: int = 60
    rate_limit: dict = dataclasses.field(default_factory=dict)
    jwks_cache_s: float = 300.0                  # how long auth's key set is trusted
    jwks_min_refresh_s: float = 1.0              # an unknown key id refetches at most this often
    redis_prefix: str = "careeros:gw:"
    read_cache_ttl_s: int = 30                   # cached GET answers (gateway_flask/read_cache.py); 0: off
    # Calls that hash a password (argon2id, deliberately CPU-heavy) wait longer than grpc.deadline_s:
    # on a saturated machine a sign-up that takes 4 s is better than a 503.
    password_deadline_s: float = 15.0
    trusted_proxies: Any = ""                    # a list or a comma-separated string
    swagger_ui_url: str = ""


def gateway_settings(config: Mapping[str, Any]) -> GatewaySettings:
    return read(GatewaySettings, config, "gateway")


# The keys of a service's section that the gateway reads too. The gateway may not import a
# service's modules (tests/unit/test_layers.py), so they are here, and each service's Settings
# (careeros_services/<service>/settings.py) extends its class: the defaults stay in one place.

@dataclasses.dataclass(frozen=True)
class LmsGatewaySettings:
    """The ``lms`` keys the gateway reads: upload size and streaming chunk."""

    max_upload_bytes: int = 20 * 1024 * 1024
    upload_chunk_bytes: int = 1024 * 1024

    @classmethod
    def from_config(cls, config: Mapping[str, Any]):
        return read(cls, config, "lms")


@dataclasses.dataclass(frozen=True)
class AiCoreGatewaySettings:
    """The ``ai_core`` keys the gateway reads: the CV size limit and the AI routes' deadline."""

    max_cv_bytes: int = 2 * 1024 * 1024          # gRPC's default message limit is 4 MiB
    gateway_deadline_s: float = 30.0             # a hosted model may take seconds

    @classmethod
    def from_config(cls, config: Mapping[str, Any]):
        return read(cls, config, "ai_core")


@dataclasses.dataclass(frozen=True)
class BillingGatewaySettings:
    """The ``billing`` key the gateway reads: how long a checkout waits for the plan to reach auth."""

    activation_wait_s: float = 15.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]):
        return read(cls, config, "billing")
