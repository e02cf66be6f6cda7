"""Find or start the local servers: PostgreSQL, Redis, RabbitMQ (used by `careeros run` and the tests)."""
from __future__ import annotations

import socket
import subprocess
import time

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


def ensure_servers() -> None:
    """Start PostgreSQL, Redis and RabbitMQ when they are not listening."""
    for port, command in START_COMMANDS.items():
        if not port_open(port):
            subprocess.run(command, shell=True, check=False)
    for port in START_COMMANDS:
        wait_port(port, timeout_s=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
