"""A whole platform for tests, started the way `make run` starts it, apart from everything else:
its own databases (``db_prefix``), topics, RabbitMQ vhost, Redis prefixes and free ports."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

from careeros_services import registry, supervisor
from careeros_services.common import db as dbmod


@contextmanager
def fresh_platform(kafka_bootstrap: str, db_prefix: str, vhost: str, log_dir: Path,
                   **extra_env: str) -> Iterator[supervisor.Platform]:
    """Every process kind of every registered service on empty databases; stopped on exit.

    The yielded platform also has ``env`` (its environment) and ``base_url`` (the gateway's /api/v1).
    """
    env = supervisor.isolated_env(kafka_bootstrap, db_prefix, vhost, **extra_env)
    supervisor.ensure_vhost(vhost)
    config = supervisor.config_with(env)
    for service in registry.SERVICES:
        dbmod.drop_database(config, service)
    running = supervisor.Platform(config, log_dir=log_dir, env=env)
    try:
        running.start()
    except Exception:
        for log in sorted(running.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")
        running.stop()
        raise
    running.env = env
    running.base_url = f"http://{config['gateway']['bind']}/api/v1"
    try:
        yield running
    finally:
        running.stop()


class ApiSession(requests.Session):
    """A requests session bound to a gateway's /api/v1, with a default timeout."""

    def __init__(self, base_url: str, timeout_s: float = 10) -> None:
        super().__init__()
        self.base_url, self.timeout_s = base_url, timeout_s

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout_s)
        return super().request(method, self.base_url + url, *args, **kwargs)

