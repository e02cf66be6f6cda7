"""`careeros run` (what `make run` calls): up, then Ctrl-C/SIGTERM stops every
process it started, and starting it again right after works."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from careeros_services import supervisor
from careeros_services.common import infra

ROOT = Path(__file__).resolve().parents[2]


def start(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "careeros_services.cli", "run"], cwd=ROOT,
                            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, process.stdout.read()
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the platform did not come up"
        time.sleep(0.3)


def test_run_stops_everything_on_a_signal_and_starts_again():
    supervisor.ensure_vhost("careeros_run")
    broker_port = infra.free_port()
    env = supervisor.isolated_env("embedded", "careeros_run_", "careeros_run",
                                  KAFKA_EMBEDDED_PORT=str(broker_port))
    env["KAFKA_BOOTSTRAP_SERVERS"] = "embedded"  # `run` starts the broker itself
    gateway = env["CAREEROS_GATEWAY_BIND"]
    ports = [int(gateway.rsplit(":", 1)[1]), int(env["CAREEROS_GRPC_BIND"].rsplit(":", 1)[1]), broker_port,
             int(env["CAREEROS_SMTP_PORT"]), int(env["CAREEROS_SMTP_SINK_HTTP_PORT"])]  # the SMTP sink and its page
    for sig in (signal.SIGTERM, signal.SIGINT):
        process = start(env)
        try:
            wait_healthy(f"http://{gateway}/readyz", process)
            assert all(infra.port_open(p) for p in ports)
            process.send_signal(sig)
            assert process.wait(60) == 0
        finally:
            if process.poll() is None:
                process.kill()
        output = process.stdout.read()
        assert "CareerOS is up" in output and "stopping CareerOS" in output
        time.sleep(0.5)
        assert not any(infra.port_open(p) for p in ports), "a child outlived the run command"
