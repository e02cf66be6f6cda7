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
