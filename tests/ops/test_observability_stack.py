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

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from careeros_services.common import infra
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"
PROM = OPS / "prometheus"
RULE_FILES = [PROM / "rules" / "careeros.rules.yml", PROM / "rules" / "careeros.alerts.yml"]
DASHBOARDS = sorted((OPS / "grafana" / "dashboards").glob("*.json"))
RUNBOOKS = ROOT / "docs" / "runbooks"
KINDS = ("gateway", "nameko", "grpc", "relay")
PASSWORD = "correct horse battery"

# Own databases, topics and vhost: beside tests/e2e's platform in the same session.
def register(api, email: str | None = None, **headers) -> dict:
    email = email or f"ops{uuid.uuid4().hex[:10]}@example.com"
    response = api.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Ops"},
                        headers=headers)
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email, "correlation_id": response.headers["X-Correlation-ID"]}


# --- Prometheus: static checks -------------------------------------------------------

def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    assert shutil.which("promtool"), "promtool missing: `make test` installs Debian's prometheus package"
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def alert_rules() -> list[dict]:
    groups = load_yaml(RULE_FILES[1])["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


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
        overlays = (ROOT / "k8s" / "overlays").glob("*/kustomization.yaml")
        namespaces = sorted(load_yaml(k)["namespace"] for k in overlays)
        assert sd == [{"role": "pod", "namespaces": {"names": namespaces}}], (job["job_name"], namespaces)
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


def code_metric_labels() -> set[str]:
    """Label names of every metric the code defines (the list after name and help)."""
    labels = set()
    for package in ("careeros_services", "bus", "gateway_flask"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(errors="replace")
            for match in METRIC_DEFINITION.finditer(text):
                names = re.search(r"\[([^\]]*)\]", text[match.end():match.end() + 600])
                if names:
                    labels.update(re.findall(r"[\"'](\w+)[\"']", names.group(1)))
    return labels


def test_target_labels_never_shadow_a_metric_label():
    """A target label named like a metric's own label renames the metric's to exported_<name>."""
    metric_labels = code_metric_labels()
    assert {"service", "kind", "tenant_id", "group"} <= metric_labels  # the scan sees the code's labels
    local = load_yaml(PROM / "prometheus.local.yml")
    added = {key for job in local["scrape_configs"] for static in job["static_configs"]
             for key in static["labels"]}
    for job in load_yaml(PROM / "prometheus.k8s.yml")["scrape_configs"]:
        added |= {rule["target_label"] for rule in job["relabel_configs"]
                  if rule.get("target_label") and not rule["target_label"].startswith("__")}
    assert added == {"process_kind", "careeros_service", "namespace", "pod"}
    assert not added & metric_labels, added & metric_labels


def test_promtool_unit_tests_pass_and_fire_every_alert():
    tests_file = PROM / "tests" / "careeros.alerts.test.yml"
    result = promtool("test", "rules", str(tests_file))
    assert result.returncode == 0, result.stdout + result.stderr
    fired = {case["alertname"] for test in load_yaml(tests_file)["tests"]
             for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert fired == {rule["alert"] for rule in alert_rules()}


def test_required_alerts_exist_with_severity_and_a_runbook_that_exists():
    alerts = {rule["alert"]: rule for rule in alert_rules()}
    for required in ("CareerOSGatewayHighErrorRate", "CareerOSServiceHighErrorRate",
                     "CareerOSGatewayHighLatencyP99", "CareerOSServiceHighLatencyP99",
                     "CareerOSConsumerLagHigh",
                     "CareerOSDeadLetterQueueNotEmpty", "CareerOSOutboxBacklogGrowing",
                     "CareerOSTenantAICostOverBudget"):
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
        index = (RUNBOOKS / "README.md").read_text()
        assert f"({name}.md)" in index, f"{name} missing from the runbook index"


# --- Grafana: static checks ----------------------------------------------------------

METRIC_DEFINITION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary)\(\s*[\"']([a-zA-Z_:][a-zA-Z0-9_:]*)[\"']")
SAMPLE_SUFFIXES = {"Counter": ("_total",), "Histogram": ("_bucket", "_count", "_sum"), "Gauge": ("",),
                   "Summary": ("_count", "_sum", "")}


def code_metric_names() -> set[str]:
    """Metric names the code defines (every prometheus_client constructor in the
    platform's packages), with the sample suffixes Prometheus stores, plus ``up``."""
    names = {"up"}
    for package in ("careeros_services", "bus", "gateway_flask"):
        for path in (ROOT / package).rglob("*.py"):
            for kind, name in METRIC_DEFINITION.findall(path.read_text(errors="replace")):
                base = name.removesuffix("_total") if kind == "Counter" else name
                names.update(base + suffix for suffix in SAMPLE_SUFFIXES[kind])
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
    assert {d.stem for d in DASHBOARDS} == {"careeros-overview", "careeros-red", "careeros-kafka",
                                            "careeros-ai-cost"}
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
    known = code_metric_names()
    assert {"careeros_http_requests_total", "careeros_rpc_latency_seconds_bucket", "careeros_consumer_lag",
            "careeros_tenant_cost_micros_total", "careeros_ai_tokens_total"} <= known
    assert "careeros_http_requests_total_total" not in known and "careeros_consumer_lag_bucket" not in known
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


# --- a real Prometheus against the running platform ----------------------------------

def k8s_pod_targets(ports: dict[str, int]) -> list[dict]:
    """The pods k8s/base's Deployments make, as kubernetes_sd would label them.

    Each pod's annotated metrics port is mapped to the local process of its kind
    (``ports``), so the relabelled address reaches the running platform.
    """
    def sanitize(name: str) -> str:
        return re.sub(r"[^a-zA-Z0-9_]", "_", name)

    targets = []
    for path in sorted((ROOT / "k8s" / "base").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "Deployment":
                continue
            template = doc["spec"]["template"]
            labels = template["metadata"].get("labels", {})
            annotations = template["metadata"].get("annotations", {})
            kind = labels.get("app.kubernetes.io/component")
            if kind not in ports or annotations.get("prometheus.io/scrape") != "true":
                continue
            annotations = {**annotations, "prometheus.io/port": str(ports[kind])}
            meta = {f"__meta_kubernetes_pod_label_{sanitize(k)}": v for k, v in labels.items()}
            meta.update({f"__meta_kubernetes_pod_annotation_{sanitize(k)}": v
                         for k, v in annotations.items()})
            meta.update({"__meta_kubernetes_namespace": "careeros",
                         "__meta_kubernetes_pod_name": f"{doc['metadata']['name']}-0"})
            for container in template["spec"]["containers"]:
                for port in container.get("ports", []):
                    targets.append({"targets": [f"127.0.0.1:{port['containerPort']}"], "labels": {
                        **meta, "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                        "__meta_kubernetes_pod_container_port_number": str(port["containerPort"])}})
    return targets


class Prometheus:
    def __init__(self, url: str, process: subprocess.Popen, workdir: Path):
        self.url, self.process, self.workdir = url, process, workdir

    def get(self, path: str, **params) -> dict:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (path, params, body)
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.get("query", query=expr)["result"]


@pytest.fixture(scope="module")
def prometheus(ops_platform, tmp_path_factory):
    """Prometheus 2.42 with ops/prometheus's local config (ports of this platform) and
    k8s config (pods from k8s/base), evaluating the rules every second."""
    work = tmp_path_factory.mktemp("prometheus")
    env, config = ops_platform.env, ops_platform.config
    ports = {"gateway": int(config["gateway"]["bind"].rsplit(":", 1)[1]),
             "nameko": int(env["CAREEROS_METRICS_NAMEKO"]), "grpc": int(env["CAREEROS_METRICS_GRPC"]),
             "relay": int(env["CAREEROS_METRICS_RELAY"])}
    local = load_yaml(PROM / "prometheus.local.yml")
    local["global"].update(scrape_interval="1s", evaluation_interval="1s")
    local["rule_files"] = [str(PROM / f) for f in local["rule_files"]]
    for job in local["scrape_configs"]:
        kind = job["job_name"].removeprefix("careeros-")
        [static] = job["static_configs"]
        assert static["targets"][0].startswith("127.0.0.1:")
        static["targets"] = [f"127.0.0.1:{ports[kind]}"]
    (work / "pods.json").write_text(json.dumps(k8s_pod_targets(ports)))
    for job in k8s_config_on_file_sd(work / "pods.json")["scrape_configs"]:
        local["scrape_configs"].append({**job, "job_name": "k8s-" + job["job_name"]})
    (work / "prometheus.yml").write_text(yaml.safe_dump(local))
    result = promtool("check", "config", str(work / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    port = infra.free_port()
    log = open(work / "prometheus.log", "wb")
    process = subprocess.Popen(["prometheus", f"--config.file={work / 'prometheus.yml'}",
                                f"--storage.tsdb.path={work / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Prometheus(f"http://127.0.0.1:{port}", process, work)
    try:
        def ready():
            assert process.poll() is None, (work / "prometheus.log").read_text()[-3000:]
            try:
                return requests.get(f"{server.url}/-/ready", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False
        eventually(ready, timeout_s=30, what="Prometheus to start")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_prometheus_reads_back_a_metric_from_every_process_kind(prometheus, ops_api):
    register(ops_api)  # traffic through the gateway, gRPC, the outbox, the relay and a consumer
    expected = {"gateway": 'careeros_http_requests_total{job="careeros-gateway",'
                           ' route="/api/v1/auth/register"}',
                "grpc": 'careeros_rpc_latency_seconds_count{job="careeros-grpc", service="auth"}',
                "nameko": 'careeros_events_consumed_total{job="careeros-nameko", outcome="processed"}',
                "relay": 'careeros_outbox_published_total{job="careeros-relay", service="auth"}'}
    for kind, expr in expected.items():
        result = eventually(lambda: prometheus.query(expr), timeout_s=40, what=f"{expr} in Prometheus")
        assert all(r["metric"]["process_kind"] == kind for r in result)
        assert sum(float(r["value"][1]) for r in result) >= 1, (kind, result)
    targets = prometheus.get("targets", state="active")["activeTargets"]
    local = {t["labels"]["job"]: t for t in targets if t["labels"]["job"].startswith("careeros-")}
    assert set(local) == {f"careeros-{k}" for k in KINDS}
    assert all(t["health"] == "up" for t in local.values()), [t["lastError"] for t in local.values()]


def listening_addresses(port: int) -> set[str]:
    """Local IPv4 addresses with a socket listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


def test_metrics_servers_bind_the_configured_host(ops_platform):
    for kind in ("nameko", "grpc", "relay"):
        port = int(ops_platform.env[f"CAREEROS_METRICS_{kind.upper()}"])
        assert listening_addresses(port) == {"0.0.0.0"}, kind  # CAREEROS_METRICS_HOST, as a container sets it
    observability = load_yaml(ROOT / "config.yaml")["observability"]
    assert observability["metrics_host"] == "${CAREEROS_METRICS_HOST:127.0.0.1}"


def test_the_kubernetes_relabelling_finds_one_target_per_pod_with_its_kind_and_service(prometheus):
    pods = k8s_pod_targets({k: 1 for k in KINDS})
    expected = {}  # pod name -> (kind, service)
    for pod in pods:
        meta = pod["labels"]
        expected[meta["__meta_kubernetes_pod_name"]] = (
            meta["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
            meta.get("__meta_kubernetes_pod_label_careeros_io_service"))
    assert {kind for kind, _ in expected.values()} == set(KINDS)

    def all_up():
        targets = [t for t in prometheus.get("targets", state="active")["activeTargets"]
                   if t["labels"]["job"].startswith("k8s-")]
        done = len(targets) == len(expected) and all(t["health"] == "up" for t in targets)
        return targets if done else None
    targets = eventually(all_up, timeout_s=30, what="every k8s pod target up")
    for target in targets:
        labels = target["labels"]
        kind, service = expected[labels["pod"]]
        assert labels["job"] == f"k8s-careeros-{kind}" and labels["process_kind"] == kind
        assert labels["namespace"] == "careeros"
        assert labels.get("careeros_service") == service
        assert target["scrapeUrl"].endswith("/metrics")


def test_rules_load_evaluate_and_record(prometheus, ops_api):
    groups = prometheus.get("rules")["groups"]
    loaded = {rule["name"] for group in groups for rule in group["rules"]}
    assert loaded == recorded_names() | {rule["alert"] for rule in alert_rules()}
    for _ in range(3):
        register(ops_api)
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] != "err", (rule["name"], rule.get("lastError"))
    for expr in ("careeros:http_requests:rate5m > 0",
                 'service:careeros_rpc_requests:rate5m{service="auth"} > 0',
                 'service:careeros_outbox_published:rate5m{service="auth"} > 0'):
        eventually(lambda: prometheus.query(expr), timeout_s=40, what=expr)
    # nothing is wrong with this platform: no alert fires (pending ones may not either)
    firing = [a for a in prometheus.get("alerts")["alerts"] if a["state"] == "firing"]
    assert not firing, firing


def test_ai_tokens_and_cost_per_tenant_reach_the_rules_and_the_dashboard(prometheus, ops_api):
    user = register(ops_api)
    login = ops_api.post("/auth/login", json={"email": user["email"], "password": PASSWORD}).json()
    bearer, tenant = {"Authorization": f"Bearer {login['access_token']}"}, user["tenant_id"]

    def consult(question: str) -> None:
        response = ops_api.post("/ai/consultations", headers=bearer,
                                json={"question": question, "target_role": "Data Engineer"})
        assert response.status_code == 201, response.text
    consult("How do I become a data engineer?")
    raw = f'careeros_ai_tokens_total{{job="careeros-grpc", tenant_id="{tenant}"}}'
    eventually(lambda: prometheus.query(raw), timeout_s=40, what="ai_core's token counter in Prometheus")
    # A counter's first sample carries no rate: a second (uncached) call makes one.
    consult("Which skills should I learn first for data engineering?")
    rate = f'tenant_id:careeros_ai_tokens:rate5m{{tenant_id="{tenant}"}} > 0'
    tokens = eventually(lambda: prometheus.query(rate), timeout_s=40, what="the tenant's AI token rate")
    # ai_core's own `kind` label survives the scrape and the rules aggregate by it
    assert {r["metric"]["kind"] for r in tokens} == {"prompt", "completion"}
    cost = f'tenant_id:careeros_ai_cost_micros:increase1d{{tenant_id="{tenant}"}}'
    [spent] = eventually(lambda: prometheus.query(cost), timeout_s=40, what="the tenant's AI cost")
    assert float(spent["value"][1]) > 0  # a model answered: its tokens are priced
    dashboard = json.loads((OPS / "grafana" / "dashboards" / "careeros-ai-cost.json").read_text())
    [top] = [expr for title, expr in dashboard_exprs(dashboard) if title.startswith("Tokens/s by tenant")]
    assert tenant in {r["metric"]["tenant_id"] for r in prometheus.query(top)}


def test_every_dashboard_query_is_accepted_by_prometheus(prometheus):
    checked = 0
    for path in DASHBOARDS:
        for title, expr in dashboard_exprs(json.loads(path.read_text())):
            prometheus.query(grafana_to_promql(expr))  # asserts status success
            checked += 1
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable["type"] == "query":  # label_values(metric, label) -> the series API
                metric, label = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)",
                                             variable["definition"]).groups()
                values = prometheus.get(f"label/{label}/values", **{"match[]": metric})
                assert "auth" in values, values
    assert checked >= 30
    up = eventually(lambda: prometheus.query('sum by (process_kind) (up{job=~"careeros-.*"})'), timeout_s=20,
                    what="up by process kind")
    assert {r["metric"]["process_kind"] for r in up} == set(KINDS)
    # a malformed expression is refused, so "accepted" above means something
    response = requests.get(f"{prometheus.url}/api/v1/query", params={"query": "sum by (le (rate(x[5m])"},
                            timeout=5)
    assert response.status_code == 400 and response.json()["errorType"] == "bad_data"


# --- one trace: gateway -> service -> Kafka -> consumer, over OTLP --------------------

def test_one_request_is_one_trace_from_the_gateway_through_kafka_to_the_consumer(ops_platform, ops_api):
    receiver = ops_platform.receiver
    user = register(ops_api)

    def gateway_span():
        with receiver.lock:
            return next((s for s in receiver.spans if s["service"] == "careeros-gateway"
                         and s["attributes"].get("careeros.correlation_id") == user["correlation_id"]), None)
    root = eventually(gateway_span, timeout_s=20, what="the gateway's span over OTLP")
    assert root["name"] == "POST /api/v1/auth/register" and root["parent_span_id"] == ""

    def whole_trace():
        spans = receiver.trace(root["trace_id"])
        handled = [s for s in spans if s["service"] == "careeros-nameko"
                   and s["name"] == "handle careeros.auth.user.registered.v1"]
        return spans if handled else None
    spans = eventually(whole_trace, timeout_s=30, what="the consumer's span in the same trace")
    by_id = {s["span_id"]: s for s in spans}
    services = {s["service"] for s in spans}
    assert {"careeros-gateway", "careeros-grpc", "careeros-nameko"} <= services, services
    # Every span hangs off the gateway's root: the chain is unbroken across processes.
    for span in spans:
        chain, current = [], span
        while current["parent_span_id"]:
            assert current["parent_span_id"] in by_id, f"{span['name']}: parent not exported in this trace"
            current = by_id[current["parent_span_id"]]
            chain.append(current["service"])
        assert current is root or span is root
    consumer = next(s for s in spans if s["name"] == "handle careeros.auth.user.registered.v1")
    # The consumer's parent is the span that wrote the event to the outbox: the gRPC
    # server's (the hop between them is the outbox row and Kafka's headers).
    producer = by_id[consumer["parent_span_id"]]
    assert producer["service"] == "careeros-grpc" and "Register" in producer["name"], producer
    assert by_id[producer["parent_span_id"]] is root


# --- logs: the documented field set, PII redacted at the source --------------------------

TEMPLATE = OPS / "opensearch" / "careeros-logs-template.json"
PYTHON_TYPES = {"keyword": str, "text": str, "date": str}


def documented_fields() -> dict[str, str]:
    """docs/logging.md's field table: name -> type."""
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \|", (ROOT / "docs" / "logging.md").read_text(), re.M)
    return dict(rows)


def test_the_index_template_and_the_documented_fields_agree():
    template = json.loads(TEMPLATE.read_text())
    mappings = template["template"]["mappings"]
    assert template["index_patterns"] == ["careeros-logs-*"] and mappings["dynamic"] is False
    properties = {name: spec["type"] for name, spec in mappings["properties"].items()}
    assert properties == documented_fields()
    assert set(template["_meta"]["required"]) <= set(properties)
    assert set(template["_meta"]["nullable"]) <= set(template["_meta"]["required"])
    assert set(properties.values()) <= set(PYTHON_TYPES)
    # every context field the code logs (extra={...}) is documented, also on paths no test runs
    for package in ("careeros_services", "bus", "gateway_flask"):
        for path in (ROOT / package).rglob("*.py"):
            for extra in re.findall(r"extra=\{([^}]*)\}", path.read_text(errors="replace")):
                for key in re.findall(r"[\"'](\w+)[\"']\s*:", extra):
                    where = path.relative_to(ROOT)
                    assert key in properties, f"{where} logs extra field {key!r}: document it"


def platform_log_lines(platform) -> dict[str, list[str]]:
    """Each process's complete lines (one still being written is left for later)."""
    lines = {}
    for log in sorted(platform.log_dir.glob("*.log")):
        text = log.read_text(errors="replace")
        lines[log.stem] = text[:text.rfind("\n") + 1].splitlines()
    return lines


def test_real_log_lines_carry_exactly_the_documented_fields_with_pii_redacted(
        ops_platform, ops_api, failing_profile_inserts):
    secret = failing_profile_inserts
    template = json.loads(TEMPLATE.read_text())
    properties = {name: spec["type"] for name, spec in template["template"]["mappings"]["properties"].items()}
    required, nullable = set(template["_meta"]["required"]), set(template["_meta"]["nullable"])

    # PII through every layer: the registering user's e-mail and password, their
    # tokens, and a failing event handler whose exception text holds PII.
    user = register(ops_api, email=secret["email"].replace("leak", "user"))
    tokens = ops_api.post("/auth/login", json={"email": user["email"], "password": PASSWORD}).json()
    ops_api.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    # a failed login
    ops_api.post("/auth/login", json={"email": user["email"], "password": secret["password"]})
    ops_api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    eventually(lambda: any("dead-lettering" in line
                           for line in platform_log_lines(ops_platform).get("nameko", [])),
               timeout_s=30, what="the failing handler's event to be dead-lettered")

    logs = platform_log_lines(ops_platform)
    assert {"gateway", "grpc", "nameko", "relay"} <= set(logs), set(logs)
    checked, fields_seen, bad = {}, set(), []
    for name, lines in logs.items():
        if name == "broker":
            continue  # the embedded Kafka broker (tansu, dev/CI only) is not a CareerOS process
        for number, line in enumerate(lines, 1):
            where = f"{name}.log:{number}: {line[:300]}"
            try:
                record = json.loads(line)
            except ValueError:
                bad.append(where)
                continue
            assert isinstance(record, dict), where
            assert required <= set(record), f"missing {required - set(record)}: {where}"
            assert set(record) <= set(properties), f"undocumented {set(record) - set(properties)}: {where}"
            for field, value in record.items():
                if value is None and field in nullable:
                    continue
                expected_type = PYTHON_TYPES[properties[field]]
                assert isinstance(value, expected_type), f"{field} is {type(value)}: {where}"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["ts"]), where
            assert record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), where
            if "trace_id" in record:
                assert re.fullmatch(r"[0-9a-f]{32}", record["trace_id"]), where
                assert re.fullmatch(r"[0-9a-f]{16}", record["span_id"]), where
            fields_seen |= set(record)
            checked[name] = checked.get(name, 0) + 1
    assert not bad, "not JSON lines:\n" + "\n".join(bad)
    assert set(checked) >= {"gateway", "grpc", "nameko", "relay"}, checked  # every kind wrote lines
    assert {"trace_id", "span_id"} <= fields_seen  # lines inside spans are there, so the check above ran

    everything = "\n".join("\n".join(lines) for lines in logs.values())
    for value in (secret["email"], user["email"], secret["password"], PASSWORD, secret["jwt"],
                  tokens["access_token"], tokens["refresh_token"]):
        assert value not in everything, f"{value[:20]}... reached the logs"
    dead_lettered = [json.loads(line) for line in logs["nameko"] if "dead-lettering" in line]
    assert dead_lettered and all("[REDACTED_EMAIL]" in r["message"] and "[REDACTED_JWT]" in r["message"]
                                 and "password=[REDACTED]" in r["message"] for r in dead_lettered), dead_lettered
    assert all(r["level"] == "ERROR" and r["logger"] == "bus.consumer" for r in dead_lettered)
    # The retry and dead-letter lines carry the failing event's correlation id (the user's request).
    retried = [json.loads(line) for line in logs["nameko"] if "retrying" in line or "dead-lettering" in line]
    assert retried and all(re.fullmatch(r"[0-9a-f-]{32,36}", r.get("correlation_id") or "") for r in retried), retried
