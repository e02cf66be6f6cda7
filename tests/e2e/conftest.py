"""The whole platform, started the way `make run` starts it, on free ports.

Its own databases (prefix ``careeros_e2e_``), topic prefix and RabbitMQ vhost
keep it apart from the other tests and from a developer's `make run`.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from careeros_services import registry, supervisor
from careeros_services.common import db as dbmod

# Overridable so that two test runs on one machine (parallel work trees) stay apart.
VHOST = os.environ.get("CAREEROS_E2E_VHOST", "careeros_test")
DB_PREFIX = os.environ.get("CAREEROS_E2E_PREFIX", "careeros_e2e_")


@pytest.fixture(scope="session")
def platform_env(kafka_broker) -> dict:
    # The billing journey moves billing's clock over RPC (tick(now_iso)); off outside tests.
    return supervisor.isolated_env(kafka_broker, DB_PREFIX, VHOST, CAREEROS_LOGIN_MAX_FAILURES="3",
                                   CAREEROS_BILLING_ALLOW_CLOCK_OVERRIDE="true")


@pytest.fixture(scope="session")
def platform(platform_env, tmp_path_factory):
    """Start every process kind; stop them all at the end of the session."""
    supervisor.ensure_vhost(VHOST)
    config = supervisor.config_with(platform_env)
    for service in registry.SERVICES:
        dbmod.drop_database(config, service)
    running = supervisor.Platform(config, log_dir=Path(tmp_path_factory.mktemp("platform-logs")),
                                  env=platform_env)
    try:
        running.start()
    except Exception:
        for log in sorted(running.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")
        running.stop()
        raise
    running.base_url = f"http://{config['gateway']['bind']}/api/v1"
    yield running
    running.stop()


@pytest.fixture
def api(platform):
    """A requests session bound to the gateway's /api/v1."""
    class Api(requests.Session):
        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", 10)
            return super().request(method, platform.base_url + url, *args, **kwargs)
    with Api() as session:
        yield session
