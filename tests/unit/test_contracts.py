"""The committed gRPC stubs match the .proto files, and every event contract is a valid schema."""
import filecmp
import json
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

from bus import contracts

ROOT = Path(__file__).resolve().parents[2]


def test_generated_grpc_stubs_have_not_drifted_from_the_protos(tmp_path):
    subprocess.run(["bash", str(ROOT / "scripts" / "gen-protos.sh"), str(tmp_path)], check=True,
                   cwd=ROOT, env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"})
    generated = sorted(p.name for p in (tmp_path / "contracts" / "grpc").iterdir())
    assert generated, "protoc generated nothing"
    for name in generated:
        assert filecmp.cmp(tmp_path / "contracts" / "grpc" / name, ROOT / "contracts" / "grpc" / name,
                           shallow=False), f"{name} is stale: run `make protos`"


def test_every_event_contract_is_a_valid_2020_12_schema_named_after_its_type():
    types = contracts.known_types()
    assert "careeros.auth.user.registered.v1" in types
    for event_type in types:
        schema = json.loads((contracts.CONTRACTS_DIR / f"{event_type}.json").read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["title"] == event_type


def test_topics_follow_service_and_aggregate_and_dlqs_follow_topics():
    assert contracts.topic_for("careeros.auth.user.registered.v1", "p") == "p.auth.user"
    assert contracts.dlq_topic("p.auth.user") == "p.auth.user.dlq"


def test_an_envelope_whose_version_disagrees_with_its_type_is_invalid():
    envelope = {"id": "6f1c1a52-2f43-4c4e-9d7e-0b7f4f9d2a10", "type": "careeros.auth.tenant.created.v1",
                "version": 2, "occurred_at": "2026-01-01T00:00:00+00:00", "producer": "auth",
                "tenant_id": None, "correlation_id": "corr-12345", "causation_id": None,
                "aggregate_type": "tenant", "aggregate_id": "x", "payload": {}}
    try:
        contracts.validate(envelope)
    except contracts.InvalidEvent as exc:
        assert "version" in str(exc)
    else:
        raise AssertionError("accepted an envelope whose version disagrees with its type")


# --- every event type the code names has a contract ------------------------------------------

import ast  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

import careeros_services  # noqa: E402
from bus.handlers import EventHandlingService  # noqa: E402

EVENT_TYPE = re.compile(r"^careeros\.[a-z_]+\.[a-z_]+\.[a-z_]+\.v\d+$")
# Publish sites whose type is a parameter or a local chosen between contracted constants
# (function, argument name); tx.publish validates those against the contract when it runs.
COMPUTED_PUBLISH_SITES = {("publish_subscription", "event_type"), ("_send", "event")}  # billing.events, auth.privacy


def _production_modules():
    """Every module of bus and the services but migrations and the nameko/gRPC entrypoints."""
    names = ["bus.contracts", "bus.handlers", "bus.privacy", "bus.store"]
    for info in pkgutil.walk_packages(careeros_services.__path__, "careeros_services."):
        if ".migrations" not in info.name and ".entrypoints" not in info.name:
            names.append(info.name)
    return [importlib.import_module(name) for name in names]


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_handled_event_type_has_a_contract():
    _production_modules()
    known = set(contracts.known_types())
    handlers = [c for c in _all_subclasses(EventHandlingService) if c.__module__.startswith("careeros_services.")]
    assert len(handlers) >= 9
    for service in handlers:
        missing = set(service.handled_event_types()) - known
        assert not missing, f"{service.__qualname__} handles {sorted(missing)}, which have no contract"


def _publish_calls(tree):
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "publish" and node.args:
                    yield fn.name, node.args[0]


def _resolve(module, expr):
    """The event types an expression names, or None when it is computed where it runs."""
    if isinstance(expr, ast.Constant):
        return [expr.value]
    if isinstance(expr, ast.Name) and hasattr(module, expr.id):
        return [getattr(module, expr.id)]
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and hasattr(module, expr.value.id):
        return [getattr(getattr(module, expr.value.id), expr.attr)]
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name) and hasattr(module, expr.value.id):
        return list(getattr(module, expr.value.id).values())
    return None


def test_every_published_event_type_has_a_contract():
    known = set(contracts.known_types())
    checked = 0
    for module in _production_modules():
        tree = ast.parse(Path(module.__file__).read_text())
        for function, arg in _publish_calls(tree):
            types = _resolve(module, arg)
            if types is None:
                if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") in (
                        "erasure_confirmed_type", "export_part_type"):
                    continue  # tests/unit/test_privacy_participants.py checks every participant's answers
                assert (function, getattr(arg, "id", None)) in COMPUTED_PUBLISH_SITES, (
                    f"{module.__name__}.{function} publishes {ast.unparse(arg)}: name a bus.contracts constant")
                continue
            for event_type in types:
                checked += 1
                assert event_type in known, f"{module.__name__}.{function} publishes {event_type!r}: no contract"
    assert checked >= 30


def test_production_code_names_event_types_through_the_contract_constants():
    """A type spelled as a string literal would escape the import-time check."""
    for module in _production_modules():
        tree = ast.parse(Path(module.__file__).read_text())
        literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    and EVENT_TYPE.match(n.value)]
        assert not literals, f"{module.__name__} spells {literals}: import them from bus.contracts"


def test_an_unknown_event_type_fails_at_import():
    assert contracts.AUTH_USER_REGISTERED_V1 == "careeros.auth.user.registered.v1"
    assert contracts.constant_name("careeros.lms.course.published.v1") == "LMS_COURSE_PUBLISHED_V1"
    with pytest.raises(ImportError):
        from bus.contracts import AUTH_USER_REGISTERD_V1  # noqa: F401
