"""Application factory of the REST gateway."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

import flask
import redis
import swagger_ui_bundle

from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.settings import gateway_settings
from gateway_flask import hardening, middleware
from gateway_flask.extensions.api import API_PREFIX, Api
from gateway_flask.idempotency import IdempotencyStore
from gateway_flask.ratelimit import RateLimiter
from gateway_flask.security import TokenVerifier
from gateway_flask.state import EXTENSION_KEY, GatewayState
from gateway_flask.views import health


def _no_keys() -> dict:
    # Until the auth service's JWKS is wired in, no token verifies.
    return {"keys": []}


def _swagger_ui_asset(filename: str) -> flask.Response:
    return flask.send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def create_app(config: dict, *, jwks_provider: Optional[Callable[[], dict]] = None,
               redis_client: Optional[redis.Redis] = None,
               readiness_checks: Optional[Mapping[str, Callable[[], Any]]] = None,
               blueprints: Iterable[flask.Blueprint] = (), clock: Clock = system_clock) -> flask.Flask:
    """Build the gateway app from the loaded ``config`` dict.

    ``blueprints``: flask-smorest blueprints (``gateway_flask.extensions.Blueprint``)
    are served under ``/api/v1`` and documented; plain Flask blueprints are
    registered as they are. ``readiness_checks`` (name -> callable raising on
    failure) are added to the built-in Redis ping for ``/readyz``. ``clock``: the rate limiter's
    time (tests move a ``MovedClock`` instead of waiting for the next minute).
    """
    gw, auth = gateway_settings(config), config["auth"]  # a bad gateway setting fails here, by name
    app = flask.Flask("gateway_flask")
    app.config.update(
        MAX_CONTENT_LENGTH=gw.max_body_bytes,
        API_TITLE="CareerOS API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX, OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI from the pinned swagger-ui-bundle wheel, served here: the docs work offline.
        OPENAPI_SWAGGER_UI_URL=gw.swagger_ui_url or f"{API_PREFIX}/docs/assets/",
    )
    redis_client = redis_client or redis.Redis.from_url(config["redis_url"])
    prefix = gw.redis_prefix
    limits = gw.rate_limit
    app.extensions[EXTENSION_KEY] = GatewayState(
        config=config, redis=redis_client, redis_prefix=prefix,
        verifier=TokenVerifier(
            jwks_provider or _no_keys, str(auth["issuer"]), str(auth["audience"]), redis_client,
            auth.get("revoked_jti_prefix", "careeros:revoked:jti:"),
            cache_s=gw.jwks_cache_s, min_refresh_s=gw.jwks_min_refresh_s,
            not_before_prefix=auth.get("not_before_prefix", "careeros:revoked:")),
        limiter=RateLimiter(redis_client, prefix, per_ip_per_minute=limits.get("per_ip_per_minute"),
                            per_tenant_per_minute=limits.get("per_tenant_per_minute"), clock=clock),
        idempotency=IdempotencyStore(redis_client, prefix, ttl_s=gw.idempotency_ttl_s,
                                     in_flight_ttl_s=gw.idempotency_in_flight_ttl_s),
        readiness_checks={"redis": redis_client.ping, **(readiness_checks or {})},
        trusted_proxies=hardening.parse_networks(gw.trusted_proxies),
        settings=gw,
    )

    api = Api(app)  # also installs the problem+json error handlers
    middleware.install(app)
    app.register_blueprint(health.blp)
    app.add_url_rule(f"{API_PREFIX}/docs/assets/<path:filename>", "swagger_ui_assets", _swagger_ui_asset)
    for blp in blueprints:
        if hasattr(blp, "register_views_in_doc"):
            api.register_blueprint(blp)
        else:
            app.register_blueprint(blp)
    return app
