"""`careeros run`'s supervisor: a crashed child is started again with backoff, a crash loop stops.

Real child processes, killed with SIGKILL."""
import os
import re
import signal
import sys
import time

import pytest
from prometheus_client import REGISTRY

from careeros_services.supervisor import Platform

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def restarts(name: str) -> float:
    return REGISTRY.get_sample_value("careeros_process_restarts_total", {"process": name}) or 0


def supervise_until(platform: Platform, done, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the supervisor did not act in time"
        platform.check_alive()
        time.sleep(0.02)


@pytest.fixture
def platform(tmp_path):
    running = Platform({}, services=["auth"], log_dir=tmp_path, max_crashes=3, crash_window_s=30,
                       backoff_s=0.2, max_backoff_s=5)
    yield running
    running.stop()


def test_a_child_killed_by_sigkill_is_restarted_counted_and_the_others_keep_running(platform, caplog):
    platform.launch({"relay": SLEEPER, "grpc": SLEEPER})
    grpc_pid, killed = platform.children["grpc"].pid, platform.children["relay"]
    counted = restarts("relay")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(5)
    supervise_until(platform, lambda: platform.children["relay"] is not killed)
    assert platform.children["relay"].poll() is None
    assert platform.children["grpc"].pid == grpc_pid  # nothing else was touched
    assert platform.restarts == {"relay": 1} and restarts("relay") == counted + 1
    assert any("relay exited with -9" in r.getMessage() for r in caplog.records)


def test_backoff_doubles_and_a_crash_loop_stops_the_platform(platform, caplog):
    platform.launch({"nameko": [sys.executable, "-c", "raise SystemExit(3)"]})
    with pytest.raises(RuntimeError, match=r"nameko exited 4 times within 30 s \(last with 3\); giving up"):
        supervise_until(platform, lambda: False, timeout_s=15)
    assert platform.restarts["nameko"] == 3
    delays = [float(m.group(1)) for r in caplog.records
              if (m := re.search(r"nameko exited with 3; restarting it in ([\d.]+) s", r.getMessage()))]
    assert delays == [0.2, 0.4, 0.8]
