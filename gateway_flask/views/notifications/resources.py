"""/notifications: which optional e-mails you get, and the one-click unsubscribe of RFC 8058."""
from __future__ import annotations

from contracts.grpc import notifications_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.middleware import accepts
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, rpc_client, to_dict
from gateway_flask.views.notifications.schemas import (PreferencesIn, PreferencesOut, UnsubscribeOut,
                                                       UnsubscribeQuery)

blp = Blueprint("notifications", __name__, url_prefix="/notifications",
                description="E-mail preferences and unsubscribe")
notifications_rpc = rpc_client("notifications")


@blp.route("/preferences", methods=["GET"])
@auth_required
@blp.response(200, PreferencesOut)
@blp.doc(security=[{"bearerAuth": []}])
def get_preferences():
    """Which optional e-mails you get in this tenant (assignments, certificates)."""
    return to_dict(notifications_rpc.GetPreferences(notifications_pb2.GetPreferencesRequest(
        caller=caller(current_principal()))))


@blp.route("/preferences", methods=["PATCH"])
@auth_required
@blp.arguments(PreferencesIn)
@blp.response(200, PreferencesOut)
@blp.doc(security=[{"bearerAuth": []}])
def patch_preferences(body: dict):
    """Turn optional e-mails on or off; a required kind (account, billing) is a 422 naming it."""
    return to_dict(notifications_rpc.UpdatePreferences(notifications_pb2.UpdatePreferencesRequest(
        caller=caller(current_principal()), enabled=body["enabled"])))


@blp.route("/unsubscribe", methods=["POST"])
@accepts("application/x-www-form-urlencoded", "multipart/form-data", "application/json")  # RFC 8058 clients
@blp.arguments(UnsubscribeQuery, location="query")
@blp.response(200, UnsubscribeOut)
def unsubscribe(query: dict):
    """One-click unsubscribe (RFC 8058 `List-Unsubscribe-Post`): the signed link of an e-mail turns its kind off.
    Mail clients post `List-Unsubscribe=One-Click` as a form; the body is not needed. No login;
    404 `unsubscribe_token_invalid` for a link we did not sign."""
    return to_dict(notifications_rpc.Unsubscribe(notifications_pb2.UnsubscribeRequest(
        token=query["token"])))
