"""The gateway's per-app state, kept in ``app.extensions["careeros"]``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from flask import current_app, request

if TYPE_CHECKING:
    from redis import Redis

    from gateway_flask.idempotency import IdempotencyStore
    from gateway_flask.ratelimit import RateLimiter
    from careeros_services.common.settings import GatewaySettings
    from gateway_flask.security import TokenVerifier

EXTENSION_KEY = "careeros"


@dataclass
class GatewayState:
    """Everything the request hooks need, built once by ``create_app``."""

    config: dict
    redis: "Redis"
    redis_prefix: str
    verifier: "TokenVerifier"
    limiter: "RateLimiter"
    idempotency: "IdempotencyStore"
    readiness_checks: dict[str, Callable[[], Any]] = field(default_factory=dict)
    trusted_proxies: tuple = ()  # networks whose X-Forwarded-For is believed (gateway.trusted_proxies)
    settings: "GatewaySettings | None" = None  # the checked gateway section


def gateway_state() -> GatewayState:
    """The :class:`GatewayState` of the current app."""
    return current_app.extensions[EXTENSION_KEY]


def view_marker(name: str) -> Any:
    """A marker a decorator set on this request's view function (or its MethodView method), or None."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), view)
    return getattr(view, name, None)
