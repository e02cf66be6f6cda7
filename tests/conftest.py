"""Shared fixtures: real PostgreSQL, Redis, RabbitMQ and Kafka-compatible broker.

Tests run against a separate set of databases (prefix ``careeros_test_``) and
their own topic prefix, so a `make run` platform on the same machine is
untouched. This process is not eventlet-patched: nameko runs in real
``nameko run`` subprocesses, as it does in production.
"""
from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("CAREEROS_DB_PREFIX", "careeros_test_")
os.environ.setdefault("KAFKA_TOPIC_PREFIX", f"t{uuid.uuid4().hex[:8]}")

from bus.store import ServiceStore, migrations  # noqa: E402
from careeros_services.common import db as dbmod  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from careeros_services.common import infra  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def servers() -> None:
    infra.ensure_servers()


@pytest.fixture(scope="session")
def kafka_broker(servers):
    """The embedded Kafka-compatible broker on a free port, for the whole session."""
    port = infra.free_port()
    process = infra.start_embedded_broker(port)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
    yield f"127.0.0.1:{port}"
    infra.stop_process(process)


@pytest.fixture(scope="session")
def config(servers, kafka_broker) -> dict:
    return load_config()


@pytest.fixture(scope="session")
def fresh_store(config):
    """``fresh_store("profile")``: the service's test database, dropped, re-migrated once per session.

    ``package`` names the package whose ``migrations`` to apply (default: the service's own).
    """
    stores: dict[str, ServiceStore] = {}

    def make(service: str, package: str | None = None) -> ServiceStore:
        if service not in stores:
            dbmod.drop_database(config, service)
            dbmod.migrate(config, service, migrations(package or f"careeros_services.{service}"))
            stores[service] = ServiceStore.from_config(config, service)
        return stores[service]

    yield make
    for store in stores.values():
        store.close()
