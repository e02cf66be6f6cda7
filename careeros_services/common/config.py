"""Load ``config.yaml`` with ``${ENV:default}`` substitution.

The syntax and semantics match ``nameko run --config`` (nameko 2.14.1), so the
nameko process and the plain processes (gRPC, relay, gateway) read the same
file the same way. Kept here rather than imported from nameko because the
gRPC and gateway processes must not import nameko (and with it eventlet).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = ROOT / "config.yaml"

_ENV_VAR = re.compile(r"\$\{([^}:\s]+):?([^}]+)?\}")
_HAS_ENV_VAR = re.compile(r".*\$\{.*\}.*")


class _Loader(yaml.SafeLoader):
    """A SafeLoader that resolves ``${ENV:default}`` scalars."""


def _replace(match: re.Match) -> str:
    name, default = match.groups()
    value = os.environ.get(name)
    return value if value is not None else (default or "")


def _env_var_constructor(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raw = loader.construct_scalar(node)
    value = _ENV_VAR.sub(_replace, raw)
    if value == raw:
        return value
    # Like nameko: the substituted text is parsed again, so "5" becomes 5.
    return yaml.safe_load(value) if value != "" else ""


_Loader.add_constructor("!env_var", _env_var_constructor)
_Loader.add_implicit_resolver("!env_var", _HAS_ENV_VAR, None)


def load_config(path: str | os.PathLike | None = None) -> dict:
    """Read the configuration file (``CAREEROS_CONFIG`` or ``config.yaml``)."""
    path = Path(path or os.environ.get("CAREEROS_CONFIG") or DEFAULT_CONFIG_PATH)
    with open(path) as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
