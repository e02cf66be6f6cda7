"""HEALTHCHECK of the CareerOS image, for every process kind.

The image runs one process kind per container, chosen by the command (see the
header of docker/Dockerfile), so one HEALTHCHECK must fit them all. This
script finds the CareerOS process in the container (PID 1, since the entry
point execs it), works out its kind from its command line and probes it:

    gateway        GET /healthz on the port gunicorn binds
    grpc           grpc.health.v1 Check("") on the port it binds (SERVING)
    nameko, relay  GET /metrics on the kind's metrics port (config.yaml
                   observability.metrics_ports; 0 = disabled, then running is enough)
    setup, dlq...  one-shot commands: healthy while they run

Exit status 0 = healthy, 1 = unhealthy (what Docker expects). Kubernetes does
not use HEALTHCHECK; its probes call the same endpoints.
"""
from __future__ import annotations

import os
import sys
import urllib.request
from typing import Optional

TIMEOUT_S = 3.0
PROBED_KINDS = ("gateway", "grpc", "nameko", "relay")


def process_kind(argv: list[str]) -> Optional[str]:
    """The CareerOS process kind of a command line, or None if it is not one.

    ``gunicorn ...`` is the gateway, ``nameko run ...`` nameko, and
    ``careeros <sub>`` / ``python -m careeros_services.cli <sub>`` is ``<sub>``.
    Interpreter prefixes (``/opt/venv/bin/python /opt/venv/bin/careeros``) are skipped.
    """
    for i, arg in enumerate(argv[:3]):
        name = os.path.basename(arg)
        if name == "gunicorn":
            return "gateway"
        if name == "nameko":
            return "nameko" if argv[i + 1:i + 2] == ["run"] else None
        if name == "careeros" or arg == "careeros_services.cli":
            rest = argv[i + 1:]
            while rest:
                if rest[0] == "--config":
                    rest = rest[2:]
                elif rest[0].startswith("-"):
                    rest = rest[1:]
                else:
                    return rest[0]
            return None
    return None


def option(argv: list[str], *names: str) -> Optional[str]:
    """The value of ``--name value`` / ``--name=value`` (the last one wins, as in argparse)."""
    value = None
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                value = argv[i + 1]
            elif arg.startswith(name + "="):
                value = arg.split("=", 1)[1]
    return value


def local_port(bind: str) -> int:
    """``0.0.0.0:8000`` / ``[::]:50051`` / ``127.0.0.1:8000`` -> the port."""
    return int(str(bind).rsplit(":", 1)[1])


def _http_ok(port: int, path: str, timeout_s: float) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout_s) as response:
            return response.status == 200
    except OSError:
        return False


def _grpc_serving(port: int, timeout_s: float) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""),
                                                               timeout=timeout_s)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def probe(kind: str, argv: list[str], config: dict, timeout_s: float = TIMEOUT_S) -> bool:
    """Whether the process of ``kind`` started with ``argv`` answers its health probe."""
    if kind == "gateway":
        bind = option(argv, "--bind", "-b") or config["gateway"]["bind"]
        return _http_ok(local_port(bind), "/healthz", timeout_s)
    if kind == "grpc":
        bind = option(argv, "--bind") or config["grpc"]["bind"]
        return _grpc_serving(local_port(bind), timeout_s)
    if kind in ("nameko", "relay"):
        port = int(config.get("observability", {}).get("metrics_ports", {}).get(kind) or 0)
        return _http_ok(port, "/metrics", timeout_s) if port else True
    return True  # one-shot commands (setup, dlq, ...): running is healthy


def careeros_processes(proc: str = "/proc") -> list[tuple[int, list[str], str]]:
    """(pid, argv, kind) of the CareerOS processes, PID 1 first."""
    found = []
    pids = sorted(int(p) for p in os.listdir(proc) if p.isdigit())
    for pid in pids:
        try:
            with open(f"{proc}/{pid}/cmdline", "rb") as fh:
                argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
        except OSError:
            continue  # exited meanwhile, or not ours
        kind = process_kind(argv)
        if kind:
            found.append((pid, argv, kind))
    return found


def main() -> int:
    processes = careeros_processes()
    if not processes:
        print("unhealthy: no CareerOS process in this container", file=sys.stderr)
        return 1
    _pid, argv, kind = processes[0]
    config_path = option(argv, "--config") if kind != "gateway" else None
    if kind not in PROBED_KINDS:
        return 0
    from careeros_services.common.config import load_config

    # nameko/careeros take --config; otherwise $CAREEROS_CONFIG (set in the image).
    config = load_config(config_path)
    if probe(kind, argv, config):
        return 0
    print(f"unhealthy: {kind} does not answer its health probe", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
