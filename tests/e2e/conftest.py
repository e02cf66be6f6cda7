"""The whole platform, started the way `make run` starts it, on free ports.

Its own databases (prefix ``careeros_e2e_``), topic prefix and RabbitMQ vhost
keep it apart from the other tests and from a developer's `make run`.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.platform_support import ApiSession, fresh_platform

# Overridable so that two test runs on one machine (parallel work trees) stay apart.
VHOST = os.environ.get("CAREEROS_E2E_VHOST", "careeros_test")
DB_PREFIX = os.environ.get("CAREEROS_E2E_PREFIX", "careeros_e2e_")


# Package scope: stopped once tests/e2e is done (idle, its ~20 processes took half a core from every
# later test); the fixtures built on it (web_support's too) share the scope.
@pytest.fixture(scope="package")
def platform(kafka_broker, tmp_path_factory):
    """Every process kind of every service, started once for tests/e2e."""
    # The billing journey moves billing's clock over RPC (tick(now_iso)); off outside tests.
    # ADL's xAPI conformance suite sends thousands of requests a minute from 127.0.0.1.
    with fresh_platform(kafka_broker, DB_PREFIX, VHOST, tmp_path_factory.mktemp("platform-logs"),
                        CAREEROS_LOGIN_MAX_FAILURES="3", CAREEROS_BILLING_ALLOW_CLOCK_OVERRIDE="true",
                        CAREEROS_RATE_LIMIT_IP="100000",
                        # A test may then act as another client address (X-Forwarded-For) and
                        # keep its failed logins away from everyone else's (test_api_contract.py).
                        CAREEROS_TRUSTED_PROXIES="127.0.0.1",
                        CAREEROS_NOTIFY_BACKOFF_S="0.5",  # mail retried soon after the sink is back
                        # A cached GET /profile lives an hour here: a journey that reads a change made
                        # by an event (a milestone's skill) sees it because the event ended the entry.
                        CAREEROS_READ_CACHE_TTL_S="3600",
                        # Every process shares 2 busy cores with the suite: no call should miss a 3 s deadline for that.
                        CAREEROS_GRPC_DEADLINE_S="10") as running:
        yield running


@pytest.fixture(scope="package")
def platform_env(platform) -> dict:
    """The running platform's environment (its databases, topics, vhost and ports)."""
    return platform.env


@pytest.fixture
def api(platform):
    """A requests session bound to the gateway's /api/v1."""
    with ApiSession(platform.base_url) as session:
        yield session


@pytest.fixture(autouse=True)
def _platform_log_offsets(request):
    """Where each platform log ended when a test that uses the platform started (read on failure)."""
    if "platform" in request.fixturenames:
        log_dir: Path = request.getfixturevalue("platform").log_dir
        request.node.platform_logs = log_dir, {log: log.stat().st_size for log in log_dir.glob("*.log")}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test reports the ERROR lines the platform's processes logged while it ran
    (a 503 in CI is otherwise a correlation id and nothing else)."""
    report = (yield).get_result()
    if report.when != "call" or not report.failed or not hasattr(item, "platform_logs"):
        return
    log_dir, offsets = item.platform_logs
    lines = []
    for log in sorted(log_dir.glob("*.log")):
        with log.open("rb") as f:
            f.seek(offsets.get(log, 0))
            lines += [f"{log.stem}: {line}" for line in f.read().decode(errors="replace").splitlines()
                      if '"level": "ERROR"' in line or '"level": "CRITICAL"' in line]
    if lines:
        report.sections.append(("Captured platform errors", "\n".join(lines)[-20_000:]))


# The web client's browser tests (tests/e2e/test_web_*.py): one Chromium for the session.
from tests.e2e.web_support import api_url, browser, new_page, web_redis_prefix, web_url  # noqa: E402,F401
