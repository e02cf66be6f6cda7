"""The Kubernetes manifests in k8s/, rendered and checked offline (there is no cluster here).

- Each overlay renders with `kubectl kustomize`; every built-in object validates
  strictly (unknown fields fail) with kubernetes-validate against Kubernetes
  K8S_VERSION; the Strimzi objects validate against the trimmed, stricter CRD
  schemas in k8s/crds/ (which themselves validate as CustomResourceDefinitions).
- Every workload container has requests and limits, probes (gRPC for -grpc,
  HTTP for the gateway, an HTTP /metrics probe for nameko and relay), the
  security context, named ports and a writable /tmp; the check itself is tested
  on broken Deployments.
- Commands are real entry points; env names are ones config.yaml reads; secrets
  come only through secretKeyRef and no Secret is rendered.
- Every topic of bus.kafka.all_topics has a KafkaTopic; k8s/base/config.yaml is
  a faithful copy of config.yaml.
- prod: HPAs, PDBs and NetworkPolicies allow only the documented flows.
"""
from __future__ import annotations

import copy
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bus import kafka
from careeros_services import cli, registry
from careeros_services.common.config import load_config

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "prod")
K8S_VERSION = "1.32.0"
KUBECTL = shutil.which("kubectl")
CONFIG_ENV_NAMES = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):", (ROOT / "config.yaml").read_text()))
SECRET_ENV = {"CAREEROS_PG_APP_DSN", "CAREEROS_PG_ADMIN_DSN", "REDIS_URL", "AMQP_URI"}
SECRET_NAME = "careeros-secrets"
METRICS_PORTS = {"nameko": 9101, "grpc": 9102, "relay": 9103}
WORKLOAD_KINDS = ("Deployment", "Job")


def render(overlay: str) -> list[dict]:
    assert KUBECTL, "kubectl (with built-in kustomize) is required"
    out = subprocess.run([KUBECTL, "kustomize", str(K8S / "overlays" / overlay)],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


RENDERED = {name: render(name) for name in OVERLAYS}


def of_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def component(obj) -> str:
    return obj["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]


# --- schema validation ----------------------------------------------------------------------

def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema of the CRDs kept in k8s/crds/."""
    schemas = {}
    for path in sorted((K8S / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


CRD_SCHEMAS = crd_schemas()


def validate_object(obj: dict) -> None:
    key = (obj["apiVersion"], obj["kind"])
    if obj["apiVersion"].split("/")[0].endswith("strimzi.io"):
        assert key in CRD_SCHEMAS, f"no CRD schema in k8s/crds for {key}"
        jsonschema.Draft202012Validator(CRD_SCHEMAS[key]).validate(obj)
    else:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates(overlay):
    objs = RENDERED[overlay]
    assert objs
    for obj in objs:
        try:
            validate_object(obj)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            pytest.fail(f"{overlay}: {obj['kind']}/{obj['metadata']['name']}: {exc}")
    assert all(o["metadata"].get("namespace") for o in objs), "every object is namespaced by the overlay"


def test_crd_files_are_valid_crds():
    for path in (K8S / "crds").glob("*.yaml"):
        kubernetes_validate.validate(yaml.safe_load(path.read_text()), K8S_VERSION, strict=True)
    assert {k for _, k in CRD_SCHEMAS} == {"Kafka", "KafkaNodePool", "KafkaTopic"}


def test_validation_catches_typos():
    objs = RENDERED["prod"]
    topic = copy.deepcopy(of_kind(objs, "KafkaTopic")[0])
    topic["spec"]["partition"] = topic["spec"].pop("partitions")
    with pytest.raises(jsonschema.ValidationError):
        validate_object(topic)
    kafka_cr = copy.deepcopy(of_kind(objs, "Kafka")[0])
    kafka_cr["spec"]["kafka"]["listeners"][0]["type"] = "internl"
    with pytest.raises(jsonschema.ValidationError):
        validate_object(kafka_cr)
    deployment = copy.deepcopy(of_kind(objs, "Deployment")[0])
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_object(deployment)


# --- workload hygiene -----------------------------------------------------------------------

def workload_problems(obj: dict) -> list[str]:
    """What a Deployment or Job lacks: resources, probes (Deployments), security, ports, /tmp."""
    problems = []
    name = obj["metadata"]["name"]
    spec = pod_spec(obj)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        where = f"{name}/{c['name']}"
        resources = c.get("resources", {})
        for section in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in resources.get(section, {}):
                    problems.append(f"{where}: no {section}.{res}")
        if obj["kind"] == "Deployment":
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.get(probe):
                    problems.append(f"{where}: no {probe}")
                elif "exec" in c[probe] and c[probe]["exec"].get("command", [])[:1] in (["true"], ["/bin/true"]):
                    problems.append(f"{where}: {probe} always succeeds")
        sc = c.get("securityContext", {})
        expected = {"runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False}
        for key, value in expected.items():
            if sc.get(key) != value:
                problems.append(f"{where}: securityContext.{key} is not {value}")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            problems.append(f"{where}: capabilities not dropped")
        for port in c.get("ports", []):
            if not port.get("name"):
                problems.append(f"{where}: unnamed port {port.get('containerPort')}")
        tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
            problems.append(f"{where}: no emptyDir at /tmp")
    return problems


def workloads(objs):
    return [o for o in objs if o["kind"] in WORKLOAD_KINDS]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_hardened(overlay):
    objs = workloads(RENDERED[overlay])
    assert len(of_kind(objs, "Job")) == 1
    problems = [p for o in objs for p in workload_problems(o)]
    assert problems == []
    for obj in objs:
        security = pod_spec(obj)["securityContext"]
        assert security["runAsNonRoot"] and security["runAsUser"] == 10001
        assert pod_spec(obj)["automountServiceAccountToken"] is False


def test_workload_check_catches_broken_deployments():
    good = next(o for o in RENDERED["prod"] if o["kind"] == "Deployment")
    assert workload_problems(good) == []
    breakages = {
        "no readinessProbe": lambda c: c.pop("readinessProbe"),
        "no livenessProbe": lambda c: c.pop("livenessProbe"),
        "no limits.memory": lambda c: c["resources"]["limits"].pop("memory"),
        "no requests.cpu": lambda c: c["resources"]["requests"].pop("cpu"),
        "readOnlyRootFilesystem": lambda c: c["securityContext"].update(readOnlyRootFilesystem=False),
        "runAsNonRoot": lambda c: c["securityContext"].pop("runAsNonRoot"),
        "allowPrivilegeEscalation": lambda c: c["securityContext"].update(allowPrivilegeEscalation=True),
        "capabilities not dropped": lambda c: c["securityContext"].pop("capabilities"),
        "unnamed port": lambda c: c["ports"][0].pop("name"),
        "no emptyDir at /tmp": lambda c: c.update(volumeMounts=[]),
        "always succeeds": lambda c: c.update(livenessProbe={"exec": {"command": ["true"]}}),
    }
    for expected, breaking in breakages.items():
        broken = copy.deepcopy(good)
        breaking(pod_spec(broken)["containers"][0])
        problems = workload_problems(broken)
        assert any(expected in p for p in problems), (expected, problems)
    no_security = copy.deepcopy(good)
    pod_spec(no_security)["containers"][0].pop("securityContext")
    assert len(workload_problems(no_security)) >= 5


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_fit_the_process_kind(overlay):
    for dep in of_kind(RENDERED[overlay], "Deployment"):
        kind = component(dep)
        (c,) = pod_spec(dep)["containers"]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        for probe in (c["readinessProbe"], c["livenessProbe"]):
            if kind == "gateway":
                assert probe["httpGet"]["path"] in ("/healthz", "/readyz")
                assert ports[probe["httpGet"]["port"]] == 8000
            elif kind == "grpc":
                assert probe["grpc"]["port"] == 50051 == ports["grpc"]
            else:
                assert kind in ("nameko", "relay")
                assert probe["httpGet"]["path"] == "/metrics"
                assert ports[probe["httpGet"]["port"]] == METRICS_PORTS[kind]
        if kind in METRICS_PORTS:
            assert ports["metrics"] == METRICS_PORTS[kind]


# --- commands, configuration and secrets ----------------------------------------------------

def careeros_help_exits_zero(sub: str) -> bool:
    try:
        cli.main([sub, "--help"])
    except SystemExit as exc:
        return exc.code in (0, None)
    return False


def option(args, name):
    return args[args.index(name) + 1] if name in args else None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_commands_are_real_entry_points(overlay, capsys):
    seen = set()
    for obj in workloads(RENDERED[overlay]):
        (c,) = pod_spec(obj)["containers"]
        assert "command" not in c, "args only: the image's ENTRYPOINT must run"
        args = c["args"]
        kind = component(obj)
        if args[0] == "careeros":
            assert careeros_help_exits_zero(args[1]), args
            assert args[1] == kind
            services = option(args, "--services")
            if services:
                assert set(services.split(",")) <= set(registry.SERVICES)
                assert obj["metadata"]["name"] == f"{services.replace('_', '-')}-{kind}"
            if kind == "grpc":
                assert option(args, "--bind") == "0.0.0.0:50051"
        elif args[0] == "nameko":
            assert kind == "nameko" and args[1] == "run"
            assert option(args, "--config") == "/app/config.yaml"
            modules = args[4:]
            assert modules
            for module in modules:
                assert importlib.util.find_spec(module) is not None, module
            service = obj["metadata"]["name"].rsplit("-", 1)[0].replace("-", "_")
            assert modules == [registry.SERVICES[service].nameko_module]
        else:
            assert args[0] == "gunicorn" and kind == "gateway"
            assert option(args, "--bind") == "0.0.0.0:8000"
            conf = option(args, "--config")
            assert conf.startswith("python:") and importlib.util.find_spec(conf[len("python:"):])
            assert importlib.util.find_spec(args[-1].split(":")[0])
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        assert mounts["/app/config.yaml"]["subPath"] == "config.yaml"
        seen.add(obj["metadata"]["name"])
    capsys.readouterr()
    expected = {"gateway", "careeros-setup"} | {f"{s.replace('_', '-')}-{k}" for s in registry.SERVICES
                                                 for k in ("grpc", "nameko", "relay")}
    assert seen == expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_environment_and_secrets(overlay):
    objs = RENDERED[overlay]
    secrets = of_kind(objs, "Secret")
    assert not any(s.get("data") or s.get("stringData") for s in secrets)
    configmaps = {cm["metadata"]["name"]: cm for cm in of_kind(objs, "ConfigMap")}
    env_cm = next(cm for name, cm in configmaps.items() if name.startswith("careeros-env"))
    assert set(env_cm["data"]) <= CONFIG_ENV_NAMES
    assert not set(env_cm["data"]) & SECRET_ENV
    for value in env_cm["data"].values():
        assert "@" not in value and "password" not in value.lower()
    used_keys = set()
    for obj in workloads(objs):
        (c,) = pod_spec(obj)["containers"]
        for ref in c.get("envFrom", []):
            assert ref["configMapRef"]["name"] in configmaps
        for env in c.get("env", []):
            assert env["name"] in CONFIG_ENV_NAMES
            if env["name"] in SECRET_ENV:
                assert "value" not in env, env
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["name"] == SECRET_NAME
                used_keys.add(ref["key"])
        admin = any(e["name"] == "CAREEROS_PG_ADMIN_DSN" for e in c.get("env", []))
        assert admin == (component(obj) == "setup"), "only the setup Job holds the admin DSN"
        config_volume = next(v for v in pod_spec(obj)["volumes"] if v["name"] == "config")
        assert config_volume["configMap"]["name"].startswith("careeros-config")
    # The README tells how to create the Secret with every key the manifests use.
    readme = (K8S / "README.md").read_text()
    assert re.search(rf"kubectl (-n \S+ )?create secret generic {SECRET_NAME}", readme)
    for key in used_keys:
        assert f"--from-literal={key}=" in readme, key


def test_config_copy_is_identical():
    assert (K8S / "base" / "config.yaml").read_bytes() == (ROOT / "config.yaml").read_bytes(), \
        "run: cp config.yaml k8s/base/config.yaml"
    for overlay in OVERLAYS:
        cm = next(cm for cm in of_kind(RENDERED[overlay], "ConfigMap")
                  if cm["metadata"]["name"].startswith("careeros-config"))
        assert cm["data"]["config.yaml"] == (ROOT / "config.yaml").read_text()


# --- Kafka ------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_has_a_kafkatopic(overlay, monkeypatch):
    monkeypatch.delenv("KAFKA_TOPIC_PREFIX", raising=False)
    monkeypatch.delenv("KAFKA_PARTITIONS", raising=False)
    config = load_config(ROOT / "config.yaml")
    wanted = set(kafka.all_topics(config))
    assert any(t.endswith(".dlq") for t in wanted)
    objs = RENDERED[overlay]
    (cluster,) = of_kind(objs, "Kafka")
    topics = of_kind(objs, "KafkaTopic")
    names = [t["spec"].get("topicName", t["metadata"]["name"]) for t in topics]
    assert len(names) == len(set(names))
    assert set(names) == wanted
    for t in topics:
        assert t["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]
        assert t["spec"]["partitions"] == int(config["kafka"]["partitions"])
        assert int(t["spec"]["config"]["retention.ms"]) > 0
    for pool in of_kind(objs, "KafkaNodePool"):
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]
    # Clients reach the cluster through Strimzi's bootstrap Service on the plain listener.
    env_cm = next(cm for cm in of_kind(objs, "ConfigMap") if cm["metadata"]["name"].startswith("careeros-env"))
    port = next(listener["port"] for listener in cluster["spec"]["kafka"]["listeners"] if not listener["tls"])
    assert env_cm["data"]["KAFKA_BOOTSTRAP_SERVERS"] == f"{cluster['metadata']['name']}-kafka-bootstrap:{port}"
    replicas = sum(p["spec"]["replicas"] for p in of_kind(objs, "KafkaNodePool") if "broker" in p["spec"]["roles"])
    assert all(t["spec"]["replicas"] <= replicas for t in topics)
    assert int(env_cm["data"]["KAFKA_REPLICATION_FACTOR"]) <= replicas


def test_prod_kafka_is_replicated():
    objs = RENDERED["prod"]
    assert all(t["spec"]["replicas"] == 3 and t["spec"]["config"]["min.insync.replicas"] == 2
               for t in of_kind(objs, "KafkaTopic"))
    (cluster,) = of_kind(objs, "Kafka")
    assert cluster["spec"]["kafka"]["config"]["min.insync.replicas"] == 2


# --- prod extras --------------------------------------------------------------------------------

def selects(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and labels.get(expr["key"]) in expr["values"]:
            return False
        if expr["operator"] == "Exists" and not present:
            return False
        if expr["operator"] == "DoesNotExist" and present:
            return False
    return True


def test_dev_has_no_prod_extras():
    kinds = {o["kind"] for o in RENDERED["dev"]}
    assert not kinds & {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}


def test_prod_hpas_and_pdbs():
    objs = RENDERED["prod"]
    deployments = of_kind(objs, "Deployment")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objs, "HorizontalPodAutoscaler")}
    for dep in deployments:
        name, labels = dep["metadata"]["name"], dep["spec"]["template"]["metadata"]["labels"]
        assert dep["spec"]["replicas"] >= 2
        if component(dep) == "relay":
            assert name not in hpas, "one relay is active per database: do not autoscale"
        else:
            hpa = hpas[name]
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        pdbs = [p for p in of_kind(objs, "PodDisruptionBudget") if selects(p["spec"]["selector"], labels)]
        assert len(pdbs) == 1, name
    assert set(hpas) <= {d["metadata"]["name"] for d in deployments}


def allowed(policies, labels, direction) -> set[int]:
    """Ports a pod with these labels may use in one direction (union of the policies selecting it)."""
    ports = set()
    for policy in policies:
        if selects(policy["spec"]["podSelector"], labels) and direction in policy["spec"]["policyTypes"]:
            for rule in policy["spec"].get(direction.lower(), []):
                assert rule.get("ports") and (rule.get("from") or rule.get("to")), "no allow-all rules"
                ports |= {p["port"] for p in rule["ports"]}
    return ports


def test_prod_network_policies():
    objs = RENDERED["prod"]
    policies = of_kind(objs, "NetworkPolicy")
    deny = [p for p in policies if not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert any(p["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "careeros"}}
               and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} for p in deny)
    backends = {5432, 6379, 9092, 5672}
    expected = {
        "gateway": ({8000}, {50051, 6379, 53}),
        "grpc": ({50051, 9102, 9101, 9103, 8000}, backends | {53}),
        "nameko": ({9101, 9102, 9103, 8000}, backends | {53}),
        "relay": ({9101, 9102, 9103, 8000}, backends | {53}),
        "setup": ({9101, 9102, 9103, 8000}, {5432, 53}),
    }
    # The one east-west gRPC call the architecture draws: roadmap's saga runner -> ai_core.
    expected_egress = {"roadmap-grpc": expected["grpc"][1] | {50051},
                       # ... and notifications' delivery timer -> the SMTP relay (submission port).
                       "notifications-nameko": expected["nameko"][1] | {587}}
    for obj in workloads(objs):
        labels = obj["spec"]["template"]["metadata"]["labels"]
        ingress, egress = expected[component(obj)]
        assert allowed(policies, labels, "Ingress") <= ingress | {9101, 9102, 9103, 8000}
        assert allowed(policies, labels, "Egress") == expected_egress.get(obj["metadata"]["name"], egress), \
            obj["metadata"]["name"]
    # Who may connect: the gateway from the ingress controller only, gRPC from the gateway only
    # (and ai_core's from roadmap's gRPC process).
    roadmap_grpc_labels = next(d for d in of_kind(objs, "Deployment")
                               if d["metadata"]["name"] == "roadmap-grpc")["spec"]["template"]["metadata"]["labels"]
    gateway_labels = next(d for d in of_kind(objs, "Deployment")
                          if d["metadata"]["name"] == "gateway")["spec"]["template"]["metadata"]["labels"]
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            rule_ports = {p["port"] for p in rule["ports"]}
            if 50051 in rule_ports and policy["metadata"]["name"] == "ai-core-grpc-from-roadmap":
                assert all(selects(peer["podSelector"], roadmap_grpc_labels) for peer in rule["from"])
            elif 50051 in rule_ports:
                assert all(selects(peer["podSelector"], gateway_labels) for peer in rule["from"])
            if 8000 in rule_ports and rule_ports == {8000}:
                assert all("namespaceSelector" in peer for peer in rule["from"])
    assert allowed(policies, gateway_labels, "Ingress") == {8000, 9101, 9102, 9103}


def test_readme_documents_overlays():
    readme = (K8S / "README.md").read_text()
    for needle in ("kubectl kustomize k8s/overlays/dev", "kubectl apply -k k8s/overlays/prod",
                   "careeros-setup", "HorizontalPodAutoscaler", "NetworkPolicy", "k8s/crds"):
        assert needle in readme, needle


def test_generated_manifests_are_current():
    """scripts/gen-manifests.py owns the per-service files, topics, HPAs and PDBs: a new
    service or event type without a run of it fails here, naming the stale files."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-manifests.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
