"""/auth: register, login, refresh, logout, JWKS; /me: the caller."""
from __future__ import annotations

import json

from flask import request

from contracts.grpc import auth_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, client, to_dict
from gateway_flask.views.auth.schemas import (LoginIn, LogoutIn, MeOut, RefreshIn, RegisterIn, RegisterOut,
                                              SwitchTenantIn, TokenPairOut)

blp = Blueprint("auth", __name__, url_prefix="", description="Accounts, tenants and tokens")


def _token_pair(response) -> dict:
    data = to_dict(response)
    data["expires_in"] = int(data["expires_in"])
    return data


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterIn)
@blp.response(201, RegisterOut)
def register(body: dict):
    """Create an account: with `organization_name` an organisation tenant (you are its owner), else a personal one."""
    return to_dict(client("auth").call("Register", auth_pb2.RegisterRequest(**body)))


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokenPairOut)
def login(body: dict):
    """Exchange email and password for an access token (JWT) and a refresh token. Repeated failures are throttled (429)."""
    return _token_pair(client("auth").call("Login", auth_pb2.LoginRequest(
        client_ip=request.remote_addr or "", **body)))


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshIn)
@blp.response(200, TokenPairOut)
def refresh(body: dict):
    """Rotate a refresh token. Presenting one twice revokes its whole family."""
    return _token_pair(client("auth").call("Refresh", auth_pb2.RefreshRequest(**body)))


@blp.route("/auth/switch-tenant", methods=["POST"])
@auth_required
@blp.arguments(SwitchTenantIn)
@blp.response(200, TokenPairOut)
def switch_tenant(body: dict):
    """A token pair for another organisation you belong to (its role and plan in the claims); 403 `not_a_member`."""
    return _token_pair(client("auth").call("SwitchTenant", auth_pb2.SwitchTenantRequest(
        caller=caller(current_principal()), tenant_id=str(body["tenant_id"]))))


@blp.route("/auth/logout", methods=["POST"])
@auth_required
@blp.arguments(LogoutIn, required=False)
@blp.response(204)
@blp.doc(security=[{"bearerAuth": []}])
def logout(body: dict):
    """Revoke the access token (until it expires) and, if given, the refresh token's family."""
    principal = current_principal()
    client("auth").call("Logout", auth_pb2.LogoutRequest(
        jti=principal.jti, exp=int(principal.exp), caller=caller(principal), **body))
    return None


@blp.route("/auth/jwks", methods=["GET"])
@blp.response(200)
def jwks():
    """The public keys that verify access tokens (RFC 7517)."""
    return json.loads(client("auth").call("GetJwks", auth_pb2.GetJwksRequest()).json)


@blp.route("/me", methods=["GET"])
@auth_required
@blp.response(200, MeOut)
@blp.doc(security=[{"bearerAuth": []}])
def me():
    """The caller: user, tenant and the claims of the token."""
    return to_dict(client("auth").call("GetMe", auth_pb2.GetMeRequest(caller=caller(current_principal()))))
