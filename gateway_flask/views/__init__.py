"""HTTP views. One package per resource::

    views/<resource>/schemas.py     marshmallow schemas (subclass extensions.Schema)
    views/<resource>/resources.py   blp = Blueprint("<resource>", __name__, url_prefix="/<resource>")

and name ``<resource>`` in the ``views`` of the service it calls (careeros_services/registry.py):
its blueprints are then served under ``/api/v1/<resource>`` and documented in the OpenAPI spec.
Plain Flask blueprints (the xAPI LRS at ``/xapi``) are served as they are, undocumented.
"""
from __future__ import annotations

import importlib

import flask

from careeros_services import registry


def _blueprints(view: str) -> list[flask.Blueprint]:
    """Every blueprint a view package's ``resources`` module (or a view module) defines, in order."""
    module = importlib.import_module(f"{__name__}.{view}")
    if hasattr(module, "__path__"):
        module = importlib.import_module(f"{__name__}.{view}.resources")
    return [value for value in vars(module).values() if isinstance(value, flask.Blueprint)]


# view → the service its routes call, from the registry
VIEW_SERVICE: dict[str, str] = {view: spec.name for spec in registry.SERVICES.values() for view in spec.views}
_ALL = [blp for view in VIEW_SERVICE for blp in _blueprints(view)]
SERVICE_BLUEPRINTS: list[flask.Blueprint] = [blp for blp in _ALL if hasattr(blp, "register_views_in_doc")]
PLAIN_BLUEPRINTS: list[flask.Blueprint] = [blp for blp in _ALL if not hasattr(blp, "register_views_in_doc")]
