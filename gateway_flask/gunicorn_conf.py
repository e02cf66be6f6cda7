"""gunicorn settings for the gateway (``--config python:gateway_flask.gunicorn_conf``).

Prometheus runs in multi-process mode so ``/metrics`` sums every worker; the
directory must be set before prometheus_client is imported anywhere.
"""
import os
import shutil
import tempfile

_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                             tempfile.mkdtemp(prefix="careeros-gateway-metrics-"))
shutil.rmtree(_dir, ignore_errors=True)  # stale files from an earlier run would be summed in
os.makedirs(_dir, exist_ok=True)

from gunicorn.glogging import Logger


class NoAccessLog(Logger):
    """gunicorn's logger without its access log: the app logs each request as a JSON line, and
    with ``logconfig_dict`` set gunicorn formats an access line for every request anyway, to drop
    it (about 7 % of a gateway worker's CPU in bench/gateway_bench.py's profile)."""

    def access(self, resp, req, environ, request_time) -> None:
        return None


logger_class = NoAccessLog
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
keepalive = 5
# No request-line limit here: gunicorn would answer an over-long URL with its own HTML page;
# the app answers 414 problem+json past hardening.MAX_URL_BYTES instead.
limit_request_line = 0
accesslog = None  # request logs come from the app as JSON lines
# gunicorn's own lines (master and workers) in the same JSON format, redacted (docs/logging.md)
logconfig_dict = {
    "version": 1, "disable_existing_loggers": False, "root": {"level": "INFO", "handlers": []},
    "formatters": {"json": {"()": "careeros_services.common.logging.JsonFormatter", "service": "gateway"}},
    "filters": {"redact": {"()": "careeros_services.common.logging.RedactionFilter"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"],
                          "stream": "ext://sys.stderr"}},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
                "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False}},
}


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
