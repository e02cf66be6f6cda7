"""What the notifications tests share: the embedded SMTP sink (real aiosmtpd, restartable), and the
real auth service answering whom to write to."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

import pytest
import redis

from careeros_services.auth.service import build as build_auth
from careeros_services.common.infra import free_port
from careeros_services.notifications import sink
from careeros_services.notifications.service import NotificationsService, build

@pytest.fixture(scope="module")
def smtp_config(config, tmp_path_factory) -> dict:
    return {**config, "smtp": {**config["smtp"], "port": free_port(),
                               "sink_dir": str(tmp_path_factory.mktemp("mail"))}}


class RestartableSink:
    """The embedded sink, which a test may stop and start again (an aiosmtpd controller runs once)."""

    def __init__(self, config: dict):
        self.config, self.controller = config, sink.start(config)

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        self.controller = sink.start(self.config)


@pytest.fixture(scope="module")
def smtp_sink(smtp_config):
    running = RestartableSink(smtp_config)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def auth(config, fresh_store):
    fresh_store("auth")
    prefix = f"careeros.test{uuid.uuid4().hex[:8]}.auth."
    service = build_auth({**config, "auth": {**config["auth"], "redis_prefix": prefix}})
    yield service
    client = redis.Redis.from_url(config["redis_url"])
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    service.store.close()




class Clock:
    """The service's time: real unless a test sets ``now`` (the digest's week boundary)."""

    def __init__(self):
        self.now: Optional[datetime] = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def notifications(smtp_config, fresh_store, smtp_sink, clock) -> NotificationsService:
    fresh_store("notifications")
    service = build({**smtp_config, "notifications": {**smtp_config["notifications"], "max_attempts": 3,
                                                      "backoff_s": 0, "max_backoff_s": 0}}, clock=clock)
    yield service
    service.store.close()
