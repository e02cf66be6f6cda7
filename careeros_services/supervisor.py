"""``careeros run``: start the whole platform on this machine and stop it cleanly.

Starts (or finds) PostgreSQL, Redis and RabbitMQ; starts the embedded
Kafka-compatible broker unless an external bootstrap server is configured;
runs migrations and creates topics; then runs one process of each kind for
all services: nameko (RPC + event handlers), gRPC, the outbox relay and the
gateway. Ctrl-C / SIGTERM stops every child (each in its own process group),
so running it again right after works.

A child that exits is started again after a backoff that doubles with each
crash in ``crash_window_s`` (as systemd's ``Restart=on-failure`` or Kubernetes
would); only a crash loop (more than ``max_crashes`` in the window) stops the
platform. Restarts are logged and counted (``careeros_process_restarts_total``).
"""
from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

from careeros_services import registry
from careeros_services.common import infra
from careeros_services.common.config import DEFAULT_CONFIG_PATH, ROOT
from careeros_services.notifications.settings import SmtpSettings

VAR = ROOT / "var"
log = logging.getLogger(__name__)


def _python_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def process_commands(config: dict, services: list[str]) -> dict[str, list[str]]:
    """The command line of each process kind (Kubernetes runs the same ones)."""
    names = ",".join(services)
    config_path = os.environ.get("CAREEROS_CONFIG", str(DEFAULT_CONFIG_PATH))
    gateway = config["gateway"]
    sink = ({"smtp-sink": [sys.executable, "-m", "careeros_services.cli", "smtp-sink"]}
            if "notifications" in services and SmtpSettings.from_config(config).embedded_sink else {})
    return {
        **sink,  # before the services, so the first mail finds it
        "nameko": [_python_bin("nameko"), "run", "--config", config_path,
                   *[registry.SERVICES[s].nameko_module for s in services]],
        "grpc": [sys.executable, "-m", "careeros_services.cli", "grpc", "--services", names],
        "relay": [sys.executable, "-m", "careeros_services.cli", "relay", "--services", names],
        "gateway": [_python_bin("gunicorn"), "--config", "python:gateway_flask.gunicorn_conf",
                    "--bind", str(gateway["bind"]), "--workers", str(gateway["workers"]),
                    "--threads", str(gateway["threads"]), "gateway_flask.wsgi:app"],
    }


class Platform:
    """The running child processes."""

    def __init__(self, config: dict, services: Optional[list[str]] = None, log_dir: Path = VAR / "log",
                 env: Optional[dict] = None, *, max_crashes: int = 5, crash_window_s: float = 60.0,
                 backoff_s: float = 0.5, max_backoff_s: float = 30.0):
        self.config = config
        self.services = services or list(registry.SERVICES)
        self.log_dir = log_dir
        self.env = env or {}  # extra environment for the children (tests point them elsewhere)
        self.children: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        self.max_crashes, self.crash_window_s = max_crashes, crash_window_s
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.crashes: dict[str, list[float]] = {}     # monotonic times of recent crashes, per child
        self.restart_due: dict[str, float] = {}       # child -> when to start it again
        self.restarts: dict[str, int] = {}

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        env = {**os.environ, **self.env,
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               # nameko's CLI warns on import, before JSON logging exists: keep logs JSON-only
               "PYTHONWARNINGS": "ignore::UserWarning:nameko.cli.main,ignore::Warning:nameko.cli.commands"}
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
        self.children[name] = process
        return process

    def start(self) -> None:
        from bus import kafka
        from bus.store import migrations
        from careeros_services.common import db

        infra.ensure_servers()
        kafka_conf = self.config["kafka"]
        if str(kafka_conf["bootstrap_servers"]) == "embedded":
            port = int(kafka_conf["embedded_port"])
            if not infra.port_open(port):
                self.log_dir.mkdir(parents=True, exist_ok=True)
                self.children["broker"] = infra.start_embedded_broker(port, str(self.log_dir / "broker.log"))
        for name in self.services:
            db.migrate(self.config, name, migrations(registry.SERVICES[name].package))
        kafka.ensure_topics(self.config, kafka.all_topics(self.config))
        self.launch(process_commands(self.config, self.services))
        self.wait_ready()

    def launch(self, commands: dict[str, list[str]]) -> None:
        """Start these children; they are restarted by :meth:`check_alive` when they exit."""
        for name, command in commands.items():
            self.commands[name] = command
            self._spawn(name, command)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        from careeros_services.common.grpc_support import wait_for_server

        wait_for_server(str(self.config["grpc"]["bind"]), timeout_s)
        url = f"http://{self.config['gateway']['bind']}/healthz"
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway not healthy at {url}")
            time.sleep(0.2)

    def check_alive(self) -> None:
        """Restart children that exited (with backoff); RuntimeError on a crash loop."""
        now = time.monotonic()
        for name, process in list(self.children.items()):
            if name in self.restart_due:
                if now >= self.restart_due[name]:
                    del self.restart_due[name]
                    self._restart(name)
                continue
            if process.poll() is None:
                continue
            recent = [t for t in self.crashes.get(name, []) if now - t < self.crash_window_s] + [now]
            self.crashes[name] = recent
            where = f"see {self.log_dir}/{name}.log"
            if len(recent) > self.max_crashes:
                raise RuntimeError(f"{name} exited {len(recent)} times within {self.crash_window_s:.0f} s"
                                   f" (last with {process.returncode}); giving up, {where}")
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (len(recent) - 1))
            log.warning("%s exited with %s; restarting it in %.1f s (%s)", name, process.returncode, delay, where)
            self.restart_due[name] = now + delay

    def _restart(self, name: str) -> None:
        from careeros_services.common import metrics

        if name == "broker":  # memory-only: relays and consumers notice its new cluster id
            port = int(self.config["kafka"]["embedded_port"])
            self.children[name] = infra.start_embedded_broker(port, str(self.log_dir / "broker.log"))
        else:
            self._spawn(name, self.commands[name])
        self.restarts[name] = self.restarts.get(name, 0) + 1
        metrics.PROCESS_RESTARTS.labels(name).inc()
        log.warning("%s restarted (pid %d)", name, self.children[name].pid)

    def stop(self) -> None:
        self.restart_due.clear()
        for name in reversed(list(self.children)):  # gateway first, broker last
            infra.stop_process(self.children[name])
        self.children.clear()


def isolated_env(kafka_bootstrap: str, db_prefix: str, amqp_vhost: str, **extra: str) -> dict[str, str]:
    """Environment for a second platform beside a running one (tests, benchmarks):
    its own databases, topics, RabbitMQ vhost and free ports."""
    import tempfile
    import uuid

    from careeros_services.common.infra import free_port

    grpc_bind, gateway_bind = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    run_id = uuid.uuid4().hex[:6]
    return {
        "CAREEROS_AUTH_REDIS_PREFIX": f"careeros.{run_id}.auth.",
        "CAREEROS_GATEWAY_REDIS_PREFIX": f"careeros.{run_id}.gw.",
        "CAREEROS_WEB_REDIS_PREFIX": f"careeros.{run_id}.web.",
        "CAREEROS_DB_PREFIX": db_prefix,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": f"{db_prefix.strip('_')}{run_id}",
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}",
        "CAREEROS_GRPC_BIND": grpc_bind,
        **{f"CAREEROS_GRPC_{name.upper()}": grpc_bind for name in registry.SERVICES},
        "CAREEROS_GATEWAY_BIND": gateway_bind,
        "CAREEROS_WEB_BASE_URL": f"http://{gateway_bind}",  # the links in its e-mails lead to its gateway
        # and so do the signed download links it hands out (an export's zip, a course file, a certificate)
        "CAREEROS_PRIVACY_FILES_URL": f"http://{gateway_bind}/api/v1/privacy/files",
        "CAREEROS_LMS_FILES_URL": f"http://{gateway_bind}/api/v1/lms/files",
        "CAREEROS_LMS_VERIFY_URL": f"http://{gateway_bind}/certificates",  # the web's verification page
        "CAREEROS_METRICS_NAMEKO": str(free_port()),
        "CAREEROS_METRICS_GRPC": str(free_port()),
        "CAREEROS_METRICS_RELAY": str(free_port()),
        "CAREEROS_METRICS_SUPERVISOR": str(free_port()),
        "CAREEROS_SMTP_PORT": str(free_port()),  # its own SMTP sink, keeping mail in its own Maildir
        "CAREEROS_SMTP_SINK_HTTP_PORT": str(free_port()),  # and its mailbox page
        "CAREEROS_SMTP_SINK_DIR": tempfile.mkdtemp(prefix="careeros-mail-"),
        **extra,
    }


def ensure_vhost(vhost: str) -> None:
    """Create a RabbitMQ vhost for guest (idempotent)."""
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)


def config_with(env: dict[str, str]) -> dict:
    """load_config() as a process started with ``env`` would see it."""
    from careeros_services.common.config import load_config

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_config()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value


def _serve_metrics(config: dict) -> None:
    """The supervisor's own /metrics (process restarts), if a port is configured."""
    from careeros_services.common import metrics

    observability = config.get("observability", {})
    try:
        metrics.start_metrics_server(int(observability.get("metrics_ports", {}).get("supervisor") or 0),
                                     str(observability.get("metrics_host", "127.0.0.1")))
    except OSError as exc:  # a busy port must not stop the platform
        log.warning("supervisor metrics not served: %s", exc)


def check_settings(config: dict, services: list[str]) -> None:
    """Read every settings section the platform's processes will read (the gateway's, the web
    client's, each service's ``settings.check``), so a bad value stops ``careeros run`` before any
    process starts, with an error naming its key, instead of a child crash-looping."""
    from careeros_services.common.settings import gateway_settings
    from web.settings import WebSettings

    gateway_settings(config)
    WebSettings.from_section(config.get("web") or {})
    for name in services:
        module = f"careeros_services.{name}.settings"
        try:
            settings = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue  # a service that reads no settings of its own (profile, analytics, tracker)
        settings.check(config)


def run_platform(config: dict, services: Optional[str] = None) -> int:
    """Run the platform (``careeros run``) until a signal; a bad setting raises before anything starts."""
    names = [s.name for s in registry.select(services)]
    check_settings(config, names)
    platform = Platform(config, names)
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        platform.start()
        _serve_metrics(config)
        smtp = SmtpSettings.from_config(config)
        mail = (f", mail: http://{smtp.sink_bind or SmtpSettings.sink_bind}:{smtp.mailbox_port}/"
                if "smtp-sink" in platform.children and smtp.mailbox_port else "")
        print(f"CareerOS is up: http://{config['gateway']['bind']}/ (web), /api/v1/docs (API){mail}  "
              f"(logs: {platform.log_dir})", flush=True)
        while not stopping:
            platform.check_alive()
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"careeros run: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping CareerOS...", flush=True)
        platform.stop()
