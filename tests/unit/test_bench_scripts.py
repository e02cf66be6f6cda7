"""The bench/ scripts run outside `make test` (minutes each), so a refactor can break them unseen
(the soak once called a function moved out of bus.kafka). Cheap guard: every bench script imports,
and every attribute it reads from a project module it imported exists."""
from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("bus", "careeros_services", "gateway_flask", "contracts", "web")
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if p.name != "__init__.py")


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Local name -> project module, for ``import a.b as x`` and ``from a import b`` (b a module)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PROJECT):
                    names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PROJECT):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if _is_module(candidate):
                    names[alias.asname or alias.name] = candidate
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package: a name inside it
        return False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_bench_script_reads_only_what_exists(script: Path):
    tree = ast.parse(script.read_text())
    modules = {name: importlib.import_module(module) for name, module in _imported_modules(tree).items()}
    missing = [f"{node.value.id}.{node.attr} (line {node.lineno})" for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and node.value.id in modules and not hasattr(modules[node.value.id], node.attr)]
    assert not missing, f"{script.name} reads what its modules no longer have: {missing}"
