"""HTTP views. One package per resource::

    views/<resource>/schemas.py     marshmallow schemas (subclass extensions.Schema)
    views/<resource>/resources.py   blp = Blueprint("<resource>", __name__, url_prefix="/<resource>")

and add ``<resource>.resources.blp`` to :data:`SERVICE_BLUEPRINTS` (or pass it to
``create_app(blueprints=...)``); it is then served under ``/api/v1/<resource>``
and documented in the OpenAPI spec.
"""
from __future__ import annotations

from gateway_flask.extensions.api import Blueprint

SERVICE_BLUEPRINTS: list[Blueprint] = []
