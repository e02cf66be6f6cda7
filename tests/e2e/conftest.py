"""The whole platform, started the way `make run` starts it, on free ports.

Its own databases (prefix ``careeros_e2e_``), topic prefix and RabbitMQ vhost
keep it apart from the other tests and from a developer's `make run`.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from careeros_services.common import db as dbmod, infra
from careeros_services.common.config import load_config
from careeros_services.supervisor import Platform

VHOST = "careeros_test"


def _ensure_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", VHOST], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)


@pytest.fixture(scope="session")
def platform_env(kafka_broker) -> dict:
    grpc_port, gateway_port = infra.free_port(), infra.free_port()
    return {
        "CAREEROS_DB_PREFIX": "careeros_e2e_",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker,
        "KAFKA_TOPIC_PREFIX": f"e2e{uuid.uuid4().hex[:8]}",
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{VHOST}",
        "CAREEROS_GRPC_BIND": f"127.0.0.1:{grpc_port}",
        "CAREEROS_GRPC_AUTH": f"127.0.0.1:{grpc_port}",
        "CAREEROS_GRPC_PROFILE": f"127.0.0.1:{grpc_port}",
        "CAREEROS_GATEWAY_BIND": f"127.0.0.1:{gateway_port}",
        "CAREEROS_METRICS_NAMEKO": str(infra.free_port()),
        "CAREEROS_METRICS_GRPC": str(infra.free_port()),
        "CAREEROS_METRICS_RELAY": str(infra.free_port()),
        "CAREEROS_LOGIN_MAX_FAILURES": "3",
    }


@pytest.fixture(scope="session")
def platform(platform_env, tmp_path_factory):
    """Start every process kind; stop them all at the end of the session."""
    _ensure_vhost()
    saved = {k: os.environ.get(k) for k in platform_env}
    os.environ.update(platform_env)
    try:
        config = load_config()
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    for service in ("auth", "profile"):
        dbmod.drop_database(config, service)
    running = Platform(config, log_dir=Path(tmp_path_factory.mktemp("platform-logs")), env=platform_env)
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
