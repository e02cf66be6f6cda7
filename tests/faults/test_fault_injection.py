"""Fault injection under write load: SIGKILL the relay, nameko and gRPC processes and restart the
memory-only broker while registrations pour in through the gateway, then check the history.

Its own platform (started as `make run` starts one, with its own embedded broker, since it kills
processes) supervised as `careeros run` supervises it: the supervisor restarts what was killed.
The history must show: every acknowledged write present, every outbox event applied by every
consuming group (the inbox holds each claim once; the profile read model has each user once),
nothing left unsent, and no 5xx other than 503 with ``Retry-After``.
"""
from __future__ import annotations

import importlib
import os
import signal
import threading
import time
import uuid
from collections import Counter

import psycopg2
import pytest
import requests

from bus.handlers import EventHandlingService
from careeros_services import registry
from careeros_services.common import db as dbmod
from careeros_services.common.infra import free_port
from tests.platform_support import ApiSession, fresh_platform
from tests.polling import eventually

# Part of `make test`; `make faults` runs it alone. Its hardest moment is nameko's SIGKILL 2 s after
# the broker restart, while consumers rejoin the new broker (tests/bus/test_broker_restart.py has the
# mechanism on its own).
pytestmark = [pytest.mark.e2e, pytest.mark.faults]

VHOST = os.environ.get("CAREEROS_E2E_VHOST", "careeros_test") + "_faults"
DB_PREFIX = os.environ.get("CAREEROS_E2E_PREFIX", "careeros_e2e_") + "f_"


@pytest.fixture
def supervised_platform(servers, tmp_path):
    """A platform with its own embedded broker, and a thread doing what `careeros run` does."""
    with fresh_platform("embedded", DB_PREFIX, VHOST, tmp_path, KAFKA_EMBEDDED_PORT=str(free_port()),
                        # a killed consumer's partitions move on sooner
                        KAFKA_SESSION_TIMEOUT_MS="3000", KAFKA_HEARTBEAT_INTERVAL_MS="500",
                        CAREEROS_RATE_LIMIT_IP="1000000", CAREEROS_RATE_LIMIT_TENANT="1000000",
                        CAREEROS_GRPC_DEADLINE_S="10") as running:  # a busy CI machine is slow
        stop, crashed = threading.Event(), []

        def supervise():
            while not stop.wait(0.2):
                try:
                    running.check_alive()
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    crashed.append(exc)
                    return

        thread = threading.Thread(target=supervise, daemon=True)
        thread.start()
        running.supervisor_errors = crashed
        try:
            yield running
        finally:
            stop.set()
            thread.join(10)


class WriteLoad:
    """Threads registering users through the gateway; records every answer."""

    def __init__(self, base_url: str, workers: int = 3):
        self.base_url = base_url
        self.stop = threading.Event()
        self.acknowledged: list[dict] = []
        self.answers: Counter = Counter()
        self.bad: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(workers)]

    def __enter__(self) -> "WriteLoad":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _run(self, worker: int) -> None:
        with ApiSession(self.base_url, timeout_s=15) as api:
            while not self.stop.is_set():
                self._register(api, organization=worker == 0 and len(self.acknowledged) % 3 == 0)

    def _register(self, api: ApiSession, organization: bool) -> None:
        email = f"f{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": "correct horse battery", "display_name": "Fault Drill"}
        if organization:
            body["organization_name"] = "Fault Drill Ltd"
        try:
            response = api.post("/auth/register", json=body)
        except requests.RequestException as exc:
            self.answers["no answer"] += 1
            self.bad.append(f"no answer: {exc}")
            return
        self.answers[response.status_code] += 1
        if response.status_code == 201:
            self.acknowledged.append({**response.json(), "at": time.monotonic()})
        elif response.status_code == 503 and response.headers.get("Retry-After"):
            time.sleep(0.1)
        else:
            self.bad.append(f"{response.status_code} {response.headers.get('Retry-After')} {response.text[:300]}")


def consumers_by_event_type() -> dict[str, list[str]]:
    """Which services' consumer groups apply (claim in their inbox) each event type."""
    found: dict[str, list[str]] = {}
    for name in registry.SERVICES:
        module = importlib.import_module(f"careeros_services.{name}.service")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, EventHandlingService) \
                    and getattr(value, "consumer_name", None) == name:
                for event_type in value.handled_event_types():
                    found.setdefault(event_type, []).append(name)
    return found


class History:
    """The platform's databases, read as an administrator (row-level security does not apply)."""

    def __init__(self, config: dict):
        self.conns = {name: psycopg2.connect(**dbmod.connect_kwargs(config, name, admin=True))
                      for name in registry.SERVICES}
        for conn in self.conns.values():
            conn.autocommit = True
        self.consumers = consumers_by_event_type()

    def rows(self, service: str, sql: str, args: tuple = ()) -> list[tuple]:
        with self.conns[service].cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def problems(self) -> list[str]:
        """Unsent outbox rows and events some consuming group has not applied."""
        claimed = {name: {(c, str(e)) for c, e in self.rows(name, "SELECT consumer, event_id FROM inbox")}
                   for name in registry.SERVICES}
        found = []
        for producer in registry.SERVICES:
            for event_id, event_type, sent in self.rows(
                    producer, "SELECT event_id, event_type, sent_at IS NOT NULL FROM outbox"):
                if not sent:
                    found.append(f"{producer}: {event_type} {event_id} unsent")
                for group in self.consumers.get(event_type, []):
                    if (group, str(event_id)) not in claimed[group]:
                        found.append(f"{group} never applied {event_type} {event_id}")
        return found

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def sigkill(platform, name: str) -> None:
    """SIGKILL one child (by its id) and wait until the supervisor has started it again."""
    victim = platform.children[name]
    try:
        os.kill(victim.pid, signal.SIGKILL)
    except ProcessLookupError:  # it crashed by itself a moment ago (seen: nameko, SIGSEGV in librdkafka
        pass                    # after the broker restart): the supervisor restarts it all the same
    victim.wait(10)
    eventually(lambda: platform.children[name] is not victim and platform.children[name].poll() is None,
               what=f"the supervisor to restart {name}", timeout_s=30, log_dir=platform.log_dir)


def test_sigkill_and_broker_restart_under_write_load_lose_nothing_and_apply_everything_once(
        supervised_platform):
    platform = supervised_platform
    with WriteLoad(platform.base_url) as load:
        try:
            eventually(lambda: len(load.acknowledged) >= 5, what="the first registrations", timeout_s=60)
        except AssertionError:
            raise AssertionError(f"no registrations: {load.answers} {load.bad[:3]}") from None
        for name in ("relay", "broker", "nameko", "grpc"):  # the broker while consumers run
            sigkill(platform, name)
            time.sleep(2)
        last_fault = time.monotonic()
        eventually(lambda: any(a["at"] > last_fault for a in load.acknowledged),
                   what="a registration after the last fault", timeout_s=30, log_dir=platform.log_dir)
    assert not platform.supervisor_errors, platform.supervisor_errors
    # Every killed process came back; a crash of its own (see sigkill) is one more restart, no loss.
    assert set(platform.restarts) == {"relay", "nameko", "grpc", "broker"} and min(platform.restarts.values()) >= 1
    assert load.bad == [], load.bad                     # only 201, and 503 with Retry-After
    assert set(load.answers) <= {201, 503}, load.answers

    history = History(platform.config)
    try:
        deadline = time.monotonic() + 180  # a loaded CI box: consumers replay everything after the restart
        while (problems := history.problems()) and time.monotonic() < deadline:
            time.sleep(1)
        assert problems == [], f"{len(problems)} problem(s), e.g. {problems[:5]}"
        users = {str(u) for (u,) in history.rows("auth", "SELECT id FROM users")}
        acknowledged = {a["user_id"] for a in load.acknowledged}
        assert acknowledged <= users                    # every acknowledged write is there
        profiles = Counter(str(u) for (u,) in history.rows("profile", "SELECT user_id FROM profiles"))
        assert set(profiles) == users and set(profiles.values()) == {1}
        registered = history.rows("auth", "SELECT count(*) FROM outbox"
                                          " WHERE event_type = 'careeros.auth.user.registered.v1'")[0][0]
        assert registered == len(users)                 # one event per user, each applied (above)
    finally:
        history.close()
