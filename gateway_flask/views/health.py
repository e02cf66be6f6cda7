"""Liveness, readiness and Prometheus endpoints (outside /api/v1, not rate limited)."""
from __future__ import annotations

import logging

from flask import Blueprint, Response

from careeros_services.common import metrics
from gateway_flask.problems import NotReady
from gateway_flask.state import gateway_state

log = logging.getLogger(__name__)

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> dict:
    """Readiness: every registered check passes, else 503 ``not_ready`` naming the failures."""
    checks, failures = {}, {}
    for name, check in gateway_state().readiness_checks.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            log.warning("readiness check %s failed", name, exc_info=True)
            # Only the exception class: messages may carry DSNs or hostnames.
            failures[name] = [f"failed: {type(exc).__name__}"]
    if failures:
        raise NotReady(f"Not ready: {', '.join(sorted(failures))}.", fields=failures)
    return {"status": "ok", "checks": checks}


@blp.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus exposition of this process (or all workers in multiprocess mode)."""
    body, content_type = metrics.render_latest()
    return Response(body, content_type=content_type)
