"""HTTP views. One package per resource::

    views/<resource>/schemas.py     marshmallow schemas (subclass extensions.Schema)
    views/<resource>/resources.py   blp = Blueprint("<resource>", __name__, url_prefix="/<resource>")

and add ``<resource>.resources.blp`` to :data:`SERVICE_BLUEPRINTS` (or pass it to
``create_app(blueprints=...)``); it is then served under ``/api/v1/<resource>``
and documented in the OpenAPI spec.
"""
from __future__ import annotations

from gateway_flask.extensions.api import Blueprint
from gateway_flask.views.ai.resources import blp as ai_blp
from gateway_flask.views.analytics.resources import blp as analytics_blp
from gateway_flask.views.auth.resources import blp as auth_blp
from gateway_flask.views.billing.resources import blp as billing_blp
from gateway_flask.views.lms.resources import blp as lms_blp
from gateway_flask.views.notifications.resources import blp as notifications_blp
from gateway_flask.views.orgs.resources import blp as orgs_blp
from gateway_flask.views.orgs.resources import memberships_blp
from gateway_flask.views.privacy.resources import blp as privacy_blp
from gateway_flask.views.profile.resources import blp as profile_blp
from gateway_flask.views.roadmaps.resources import blp as roadmaps_blp
from gateway_flask.views.tracking.resources import blp as tracking_blp

SERVICE_BLUEPRINTS: list[Blueprint] = [auth_blp, profile_blp, analytics_blp, roadmaps_blp, billing_blp, tracking_blp,
                                       ai_blp, orgs_blp, lms_blp, memberships_blp, notifications_blp]
SERVICE_BLUEPRINTS.append(privacy_blp)  # /me/exports, /me/erasure: auth's privacy requests
