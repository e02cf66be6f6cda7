"""The gateway calls services through typed clients made from the protos, so a misspelt RPC fails here."""
import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import gateway_flask
from gateway_flask import services
from gateway_flask.services import RpcClient


def _gateway_modules():
    for info in pkgutil.walk_packages(gateway_flask.__path__, "gateway_flask."):
        # wsgi builds the app from config.yaml when imported; gunicorn_conf points this process's
        # Prometheus at a multi-process directory (and empties it), which later tests would inherit.
        if info.name not in ("gateway_flask.wsgi", "gateway_flask.gunicorn_conf"):
            yield importlib.import_module(info.name)


def test_every_rpc_the_gateway_names_exists_on_its_service():
    checked = 0
    for module in _gateway_modules():
        clients = {name for name, value in vars(module).items() if isinstance(value, RpcClient)}
        tree = ast.parse(Path(module.__file__).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in clients:
                typed = getattr(module, node.value.id)
                assert node.attr in typed.methods, (
                    f"{module.__name__}: {typed.service} has no RPC {node.attr!r} (it has {', '.join(typed.methods)})")
                checked += 1
    assert checked >= 90


def test_no_rpc_is_called_by_a_method_name_string():
    for module in _gateway_modules():
        tree = ast.parse(Path(module.__file__).read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "call" and node.args
                    and isinstance(node.args[0], ast.Constant) and str(node.args[0].value)[:1].isupper()):
                raise AssertionError(f"{module.__name__} line {node.lineno}: call a typed client's method instead")


def test_a_typed_client_has_exactly_its_protos_rpcs():
    lms = services.rpc_client("lms")
    assert "SearchCourses" in lms.methods and callable(lms.SearchCourses)
    with pytest.raises(AttributeError):
        lms.SearchCoures  # noqa: B018 - the typo is the point
