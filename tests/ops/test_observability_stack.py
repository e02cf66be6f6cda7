"""The observability stack, checked by the tools that will run it.

- ops/prometheus: `promtool check config|rules`, `promtool test rules`, then a real
  Prometheus (Debian's 2.42) scraping a running platform with the repository's
  scrape configurations (the Kubernetes one fed the pods of k8s/base through file_sd,
  since Debian builds Prometheus without kubernetes_sd) and evaluating the rules.
- ops/grafana: every dashboard parses, names only metrics that exist, and every
  panel's expression is accepted by that Prometheus' query API.
- ops/otel: the collector configuration is wired; one request's spans reach an
  OTLP/HTTP receiver run here as one trace: gateway -> gRPC service -> Kafka -> consumer.
- docs/logging.md + ops/opensearch: real log lines carry exactly the documented
  fields and types, with PII redacted at the source.
- docs/runbooks: every alert's runbook_url is a page that exists.

The platform is started like tests/e2e's, with its own databases and vhost
(``<e2e prefix>ops_``), and shared with tests/ops/test_ops_scripts.py.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2
import pytest
import requests
import yaml

from careeros_services import registry, supervisor
from careeros_services.common import db as dbmod
from careeros_services.common import infra

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"
PROM = OPS / "prometheus"
RULE_FILES = [PROM / "rules" / "careeros.rules.yml", PROM / "rules" / "careeros.alerts.yml"]
DASHBOARDS = sorted((OPS / "grafana" / "dashboards").glob("*.json"))
RUNBOOKS = ROOT / "docs" / "runbooks"
KINDS = ("gateway", "nameko", "grpc", "relay")
PASSWORD = "correct horse battery"

# Own databases, topics and vhost: beside tests/e2e's platform in the same session.
DB_PREFIX = os.environ.get("CAREEROS_E2E_PREFIX", "careeros_e2e_") + "ops_"
VHOST = os.environ.get("CAREEROS_E2E_VHOST", "careeros_test") + "_ops"


# --- an OTLP/HTTP trace receiver (what the collector's otlp receiver does) -------

class OtlpReceiver:
    """Accepts ``POST /v1/traces`` (protobuf ExportTraceServiceRequest) and keeps the spans."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        self.spans: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(404)
                    self.end_headers()
                    return
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.add(request)
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, request) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append({
                        "service": resource.get("service.name"), "name": span.name,
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(), "kind": span.kind,
                        "attributes": {a.key: a.value.string_value for a in span.attributes}})
        with self.lock:
            self.requests += 1
            self.spans.extend(spans)

    def trace(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the platform, shared by this module and test_ops_scripts.py -------------------

_SHARED = "_careeros_ops_platform"


@pytest.fixture(scope="session")
def ops_platform(request, kafka_broker, tmp_path_factory):
    """Every process kind of every registered service, exporting spans to an OTLP receiver.

    Started once per session even when both ops modules use it (state kept on the
    pytest config); stopped when the last user finishes.
    """
    shared = getattr(request.config, _SHARED, None)
    if shared is None:
        receiver = OtlpReceiver()
        env = supervisor.isolated_env(
            kafka_broker, DB_PREFIX, VHOST,
            CAREEROS_TRACING="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf", OTEL_BSP_SCHEDULE_DELAY="200",
            CAREEROS_LOG_LEVEL="INFO")
        supervisor.ensure_vhost(VHOST)
        config = supervisor.config_with(env)
        for service in registry.SERVICES:
            dbmod.drop_database(config, service)
        running = supervisor.Platform(config, log_dir=Path(tmp_path_factory.mktemp("ops-platform-logs")), env=env)
        try:
            running.start()
        except Exception:
            for log in sorted(running.log_dir.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()[-4000:]}")
            running.stop()
            receiver.close()
            raise
        running.env = env
        running.receiver = receiver
        running.base_url = f"http://{config['gateway']['bind']}/api/v1"
        shared = {"platform": running, "users": 0}
        setattr(request.config, _SHARED, shared)
    shared["users"] += 1
    yield shared["platform"]
    shared["users"] -= 1
    if shared["users"] == 0:
        shared["platform"].stop()
        shared["platform"].receiver.close()
        delattr(request.config, _SHARED)


@pytest.fixture
def ops_api(ops_platform):
    """A requests session bound to the ops platform's /api/v1."""
    class Api(requests.Session):
        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", 10)
            return super().request(method, ops_platform.base_url + url, *args, **kwargs)
    with Api() as session:
        yield session


def register(api, email: str | None = None, **headers) -> dict:
    email = email or f"ops{uuid.uuid4().hex[:10]}@example.com"
    response = api.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Ops"},
                        headers=headers)
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email, "correlation_id": response.headers["X-Correlation-ID"]}


def wait_until(predicate, timeout_s: float = 30, what: str = "condition", every_s: float = 0.3):
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every_s)


# --- Prometheus: static checks -------------------------------------------------------

def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    assert shutil.which("promtool"), "promtool missing: `make test` installs Debian's prometheus package"
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def alert_rules() -> list[dict]:
    return [rule for group in load_yaml(RULE_FILES[1])["groups"] for rule in group["rules"] if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for path in RULE_FILES for group in load_yaml(path)["groups"]
            for rule in group["rules"] if "record" in rule}


def k8s_config_on_file_sd(targets_file: Path) -> dict:
    """prometheus.k8s.yml with kubernetes_sd replaced by file_sd (same relabelling).

    Debian's prometheus is built without the Kubernetes service discovery, so the
    pods come from a file carrying the same ``__meta_kubernetes_*`` labels.
    """
    config = load_yaml(PROM / "prometheus.k8s.yml")
    for job in config["scrape_configs"]:
        sd = job.pop("kubernetes_sd_configs")
        assert sd == [{"role": "pod", "namespaces": {"names": ["careeros", "careeros-dev"]}}], job["job_name"]
        job["file_sd_configs"] = [{"files": [str(targets_file)], "refresh_interval": "1s"}]
    return config


def test_promtool_accepts_both_scrape_configs_and_the_rules(tmp_path):
    for name in ("prometheus.local.yml",):
        result = promtool("check", "config", str(PROM / name))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout
    # The k8s variant, checked with the relabelling it ships (see k8s_config_on_file_sd).
    (tmp_path / "rules").symlink_to(PROM / "rules")
    (tmp_path / "pods.json").write_text("[]")
    (tmp_path / "k8s.yml").write_text(yaml.safe_dump(k8s_config_on_file_sd(tmp_path / "pods.json")))
    result = promtool("check", "config", str(tmp_path / "k8s.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 2


def test_every_process_kind_has_a_scrape_job_locally_and_on_kubernetes():
    for name in ("prometheus.local.yml", "prometheus.k8s.yml"):
        config = load_yaml(PROM / name)
        assert {job["job_name"] for job in config["scrape_configs"]} == {f"careeros-{k}" for k in KINDS}, name
        assert config["rule_files"] == ["rules/careeros.rules.yml", "rules/careeros.alerts.yml"]
    local = {job["job_name"]: job for job in load_yaml(PROM / "prometheus.local.yml")["scrape_configs"]}
    obs = load_yaml(ROOT / "config.yaml")["observability"]["metrics_ports"]
    for kind in ("nameko", "grpc", "relay"):  # the ports config.yaml gives each kind by default
        default_port = re.search(r":(\d+)}$", str(obs[kind])).group(1)
        assert local[f"careeros-{kind}"]["static_configs"][0]["targets"] == [f"127.0.0.1:{default_port}"]


def test_promtool_unit_tests_pass_and_fire_every_alert():
    tests_file = PROM / "tests" / "careeros.alerts.test.yml"
    result = promtool("test", "rules", str(tests_file))
    assert result.returncode == 0, result.stdout + result.stderr
    fired = {case["alertname"] for test in load_yaml(tests_file)["tests"]
             for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert fired == {rule["alert"] for rule in alert_rules()}


def test_required_alerts_exist_with_severity_and_a_runbook_that_exists():
    alerts = {rule["alert"]: rule for rule in alert_rules()}
    for required in ("CareerOSGatewayHighErrorRate", "CareerOSServiceHighErrorRate", "CareerOSGatewayHighLatencyP99",
                     "CareerOSServiceHighLatencyP99", "CareerOSConsumerLagHigh", "CareerOSDeadLetterQueueNotEmpty",
                     "CareerOSOutboxBacklogGrowing", "CareerOSTenantAICostOverBudget"):
        assert required in alerts
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("page", "warn"), name
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("docs/runbooks/"), url
        page = ROOT / url
        assert page.is_file(), f"{name}: runbook {url} does not exist"
        text = page.read_text()
        assert text.startswith(f"# {name}\n"), f"{url} is not {name}'s page"
        for section in ("**Means:**", "## Confirm", "## Fix"):
            assert section in text, f"{url} lacks {section}"
        assert f"({name}.md)" in (RUNBOOKS / "README.md").read_text(), f"{name} missing from the runbook index"


# --- Grafana: static checks ----------------------------------------------------------

def code_metric_names() -> set[str]:
    """Metric families the code defines, with the sample suffixes Prometheus stores."""
    from prometheus_client import REGISTRY

    from careeros_services.common import metrics  # noqa: F401 - registers the families

    names = {"up"}
    for collector in list(REGISTRY._collector_to_names):  # every family, also ones other modules add
        for family in collector.describe() if hasattr(collector, "describe") else collector.collect():
            if not family.name.startswith("careeros_"):
                continue
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
                        "gauge": ("",), "summary": ("_count", "_sum", "")}.get(family.type, ("",))
            names.update(family.name + s for s in suffixes)
    return names


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                "offset", "bool", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (label matchers, grouping and strings removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word, rest = match.group(0), text[match.end():].lstrip()
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue  # a function or a keyword
        if re.fullmatch(r"\d.*", word):
            continue
        names.add(word)
    return names


def dashboard_exprs(dashboard: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


def grafana_to_promql(expr: str) -> str:
    """Grafana's template variables as a query would see them with "All" selected."""
    return expr.replace("$__rate_interval", "5m").replace("$service", ".+")


def test_dashboards_parse_and_name_only_existing_metrics():
    assert {d.stem for d in DASHBOARDS} == {"careeros-overview", "careeros-red", "careeros-kafka", "careeros-ai-cost"}
    known = code_metric_names() | recorded_names()
    # the rules themselves read only metrics the code defines
    for path in RULE_FILES:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                unknown = promql_metric_names(rule["expr"]) - known
                assert not unknown, f"{rule.get('record') or rule.get('alert')}: unknown metrics {unknown}"
    uids = set()
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] not in uids and dashboard["title"].startswith("CareerOS")
        uids.add(dashboard["uid"])
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)) >= 4, path.name
        for title, expr in dashboard_exprs(dashboard):
            names = promql_metric_names(expr)
            assert names, f"{path.name} / {title}: selects no metric"
            assert not names - known, f"{path.name} / {title}: unknown metrics {names - known}"
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == "${datasource}", f"{path.name} / {panel['title']}"
    provisioning = load_yaml(OPS / "grafana" / "provisioning" / "dashboards" / "careeros.yaml")
    folder = Path(provisioning["providers"][0]["options"]["path"])
    assert folder.name == "dashboards"
    datasources = load_yaml(OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")
    assert datasources["datasources"][0]["type"] == "prometheus"


def test_the_metric_name_parser_finds_what_it_should():
    assert promql_metric_names('sum by (route) (rate(careeros_http_requests_total{status=~"5.."}[5m]))') == \
        {"careeros_http_requests_total"}
    assert promql_metric_names("a:b:c > 0.05 and on (service) x_total > 1") == {"a:b:c", "x_total"}
    assert promql_metric_names("count(foo > 10000000) or vector(0)") == {"foo"}


# --- OpenTelemetry collector: static check ---------------------------------------------

def test_collector_config_is_one_file_and_every_pipeline_is_wired():
    docker_copy = ROOT / "docker" / "otel-collector.yaml"
    assert docker_copy.resolve() == (OPS / "otel" / "collector.yaml").resolve(), "two collector configs"
    config = load_yaml(OPS / "otel" / "collector.yaml")
    pipelines = config["service"]["pipelines"]
    assert {"traces", "metrics", "logs"} <= set(pipelines)
    for name, pipeline in pipelines.items():
        for section in ("receivers", "processors", "exporters"):
            assert pipeline[section], f"{name}: no {section}"
            for component in pipeline[section]:
                assert component in config[section], f"{name}: {component} is not defined in {section}"
        if "memory_limiter" in pipeline["processors"]:  # must come first to protect the rest
            assert pipeline["processors"][0] == "memory_limiter"
        assert pipeline["processors"][-1] == "batch"
    for extension in config["service"].get("extensions", []):
        assert extension in config["extensions"]
    http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert http.endswith(":4318")  # the OTLP/HTTP port docker/compose.yaml points the processes at
