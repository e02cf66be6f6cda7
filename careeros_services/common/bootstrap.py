"""Per-process set-up shared by every kind of CareerOS process.

Logging (JSON, PII redacted), tracing and the Prometheus endpoint are
configured once per process, whichever entrypoint starts first.
"""
from __future__ import annotations

import threading

_done: set[str] = set()
_lock = threading.Lock()


def configure_process(config: dict, service: str, kind: str) -> None:
    """Configure logging, tracing and metrics for a process of ``kind``.

    kind: "nameko" | "grpc" | "relay" | "gateway" | "cli" — picks the metrics port.
    """
    with _lock:
        if kind in _done:
            return
        _done.add(kind)
    from bus import tracing
    from careeros_services.common import logging as json_logging, metrics

    obs = config.get("observability", {})
    json_logging.configure_logging(f"{service}" if kind != "nameko" else "nameko", obs.get("log_level", "INFO"))
    mode = obs.get("tracing", "off")
    # YAML reads a bare `off` as False; accept both spellings.
    tracing.configure_tracing(f"careeros-{kind}", "off" if mode in (False, None, "") else str(mode))
    port = int(obs.get("metrics_ports", {}).get(kind, 0) or 0)
    if port:
        # 127.0.0.1 on a laptop; containers set 0.0.0.0 so Prometheus and probes reach it.
        metrics.start_metrics_server(port, str(obs.get("metrics_host") or "127.0.0.1"))


def configure_nameko_process(config: dict, service: str) -> None:
    """The set-up ``bus.nameko.ServiceApp`` runs when a nameko container starts."""
    configure_process(config, service, "nameko")
