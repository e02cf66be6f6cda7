"""Every service in careeros_services/registry.py is wired everywhere it must be, and nothing else is."""
import importlib
import os
from pathlib import Path

import pytest

from careeros_services import registry
from careeros_services.common.config import load_config
from gateway_flask import services as gateway_services
from gateway_flask import views

ROOT = Path(__file__).resolve().parents[2]
SPECS = list(registry.SERVICES.values())


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_service_folder_has_the_common_shape(spec):
    folder = ROOT / "careeros_services" / spec.name
    for part in ("domain.py", "persistence.py", "service.py", "migrations/__init__.py",
                 "entrypoints/nameko_service.py", "entrypoints/grpc_server.py"):
        assert (folder / part).is_file(), f"{spec.name} has no {part}"
    assert callable(importlib.import_module(f"{spec.package}.service").build)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_gateway_has_a_client_and_an_address_for_each_of_its_apis(spec):
    addresses = load_config()["grpc"]["addresses"]
    assert spec.address_setting == f"grpc.addresses.{spec.name}" and spec.name in addresses
    with open(ROOT / "config.yaml") as raw:
        assert f"{spec.name}: ${{{spec.address_env}:" in raw.read(), "run scripts/gen-manifests.py"
    for client, stub in spec.stubs.items():
        assert gateway_services.STUBS[client].__name__ == stub.rsplit(".", 1)[1]
        assert gateway_services.HOSTED_BY.get(client, client) == spec.name
    assert set(gateway_services.rpc_client(spec.name).methods), f"{spec.stub} has no RPCs"


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_services_routes_are_served(spec):
    served = {id(b) for b in views.SERVICE_BLUEPRINTS + views.PLAIN_BLUEPRINTS}
    assert spec.views, f"{spec.name} has no routes"
    for view in spec.views:
        blueprints = views._blueprints(view)
        assert blueprints, f"gateway_flask/views/{view} defines no blueprint"
        assert all(id(b) in served for b in blueprints)


def test_every_gateway_view_belongs_to_exactly_one_service():
    folder = ROOT / "gateway_flask" / "views"
    found = {p.name for p in folder.iterdir() if (p / "resources.py").is_file()}
    found |= {p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "health")}
    claimed = [view for spec in SPECS for view in spec.views]
    assert sorted(claimed) == sorted(set(claimed)), "a view is claimed by two services"
    assert set(claimed) == found
    assert len(views.SERVICE_BLUEPRINTS) == len({b.name for b in views.SERVICE_BLUEPRINTS})


def test_the_generated_manifests_and_config_follow_the_registry():
    import subprocess
    import sys
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-manifests.py"), "--check"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout + result.stderr
