"""The layers depend one way: services → bus → (libraries); the gateway sees services only through contracts."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = ("auth", "profile", "lms", "tracker", "analytics", "ai_core", "roadmap", "billing",
                    "notifications")


def _imports(folder: str):
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path.relative_to(ROOT), node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield path.relative_to(ROOT), alias.name


def test_the_bus_imports_nothing_of_the_services():
    found = [f"{path}: {module}" for path, module in _imports("bus") if module.split(".")[0] == "careeros_services"]
    assert not found, "bus/ must not import careeros_services (inject what it needs):\n" + "\n".join(found)


def test_the_gateway_imports_no_services_code():
    """Limits and shapes it shares with a service live in contracts/, not in the service's modules."""
    found = [f"{path}: {module}" for path, module in _imports("gateway_flask")
             if module.startswith("careeros_services.") and module.split(".")[1] in SERVICE_PACKAGES]
    assert not found, "\n".join(found)
