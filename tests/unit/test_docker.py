"""The image's documented commands are real entry points of this package
(there is no Docker engine here, so the Dockerfile is checked statically)."""
import importlib
import importlib.util
import re
from pathlib import Path

from careeros_services import cli, registry

ROOT = Path(__file__).resolve().parents[2]


def test_every_process_command_in_the_dockerfile_exists():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    subcommands = set(re.findall(r"(?<![=\w])careeros (\w+)", text))
    assert {"grpc", "relay", "setup"} <= subcommands
    for sub in subcommands:
        try:
            cli.main([sub, "--help"])
        except SystemExit as exit_:
            assert exit_.code == 0, f"careeros {sub} is not a subcommand"
    for module in re.findall(r"(gateway_flask\.\w+):app", text) + ["gateway_flask.gunicorn_conf"]:
        assert importlib.util.find_spec(module), module
    for name in registry.SERVICES:
        assert importlib.util.find_spec(registry.SERVICES[name].nameko_module.rsplit(".", 1)[0])
    assert "USER 10001" in text and "HEALTHCHECK" in text
