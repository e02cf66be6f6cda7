"""/auth: register, login, refresh, logout, JWKS; /me: the caller."""
from __future__ import annotations

import json

from flask import request

from contracts.grpc import auth_pb2
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal
from gateway_flask.services import caller, password_deadline_s, rpc_client, to_dict
from gateway_flask.views.auth.schemas import (ChangePasswordIn, ForgotPasswordIn, LoginIn, LogoutIn, MeOut,
                                              RefreshIn, RegisterIn, RegisterOut, ResetPasswordIn, SwitchTenantIn,
                                              TokenIn, TokenPairOut, VerifyEmailOut)

blp = Blueprint("auth", __name__, url_prefix="", description="Accounts, tenants and tokens")
auth_rpc = rpc_client("auth")


def _token_pair(response) -> dict:
    data = to_dict(response)
    data["expires_in"] = int(data["expires_in"])
    return data


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterIn)
@blp.response(201, RegisterOut)
def register(body: dict):
    """Create an account: with `organization_name` an organisation tenant (you are its owner), else a personal one."""
    return to_dict(auth_rpc.Register(auth_pb2.RegisterRequest(**body), timeout=password_deadline_s()))


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokenPairOut)
def login(body: dict):
    """Exchange email and password for an access token (JWT) and a refresh token. Repeated failures are throttled (429)."""
    return _token_pair(auth_rpc.Login(auth_pb2.LoginRequest(
        client_ip=request.remote_addr or "", **body), timeout=password_deadline_s()))


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshIn)
@blp.response(200, TokenPairOut)
def refresh(body: dict):
    """Rotate a refresh token. Presenting one twice revokes its whole family."""
    return _token_pair(auth_rpc.Refresh(auth_pb2.RefreshRequest(**body)))


@blp.route("/auth/switch-tenant", methods=["POST"])
@auth_required
@blp.arguments(SwitchTenantIn)
@blp.response(200, TokenPairOut)
def switch_tenant(body: dict):
    """A token pair for another organisation you belong to (its role and plan in the claims); 403 `not_a_member`."""
    return _token_pair(auth_rpc.SwitchTenant(auth_pb2.SwitchTenantRequest(
        caller=caller(current_principal()), tenant_id=str(body["tenant_id"]))))


@blp.route("/auth/logout", methods=["POST"])
@auth_required
@blp.arguments(LogoutIn, required=False)
@blp.response(204)
@blp.doc(security=[{"bearerAuth": []}])
def logout(body: dict):
    """Revoke the access token (until it expires) and, if given, the refresh token's family."""
    principal = current_principal()
    auth_rpc.Logout(auth_pb2.LogoutRequest(
        jti=principal.jti, exp=int(principal.exp), caller=caller(principal), **body))
    return None


@blp.route("/auth/jwks", methods=["GET"])
@blp.response(200)
def jwks():
    """The public keys that verify access tokens (RFC 7517)."""
    return json.loads(auth_rpc.GetJwks(auth_pb2.GetJwksRequest()).json)


@blp.route("/me", methods=["GET"])
@auth_required
@blp.response(200, MeOut)
@blp.doc(security=[{"bearerAuth": []}])
def me():
    """The caller: user, tenant and the claims of the token; `email_verified` says whether the address was confirmed."""
    return to_dict(auth_rpc.GetMe(auth_pb2.GetMeRequest(caller=caller(current_principal()))))


# --- the account lifecycle: links travel by e-mail (notifications) ---------------------------------

@blp.route("/auth/verify-email", methods=["POST"])
@blp.arguments(TokenIn)
@blp.response(200, VerifyEmailOut)
def verify_email(body: dict):
    """Confirm your e-mail address with the token of the verification link (single use, expiring):
    404 `token_invalid`, 409 `token_used` / `token_expired`."""
    return to_dict(auth_rpc.VerifyEmail(auth_pb2.VerifyEmailRequest(token=body["token"])))


@blp.route("/auth/verify-email", methods=["GET"])
@blp.arguments(TokenIn, location="query")
@blp.response(200, VerifyEmailOut)
def verify_email_link(query: dict):
    """The same as the POST, as a link (the e-mail's link opens the web client's /verify-email page)."""
    return to_dict(auth_rpc.VerifyEmail(auth_pb2.VerifyEmailRequest(token=query["token"])))


@blp.route("/auth/verify-email/resend", methods=["POST"])
@auth_required
@blp.response(202)
@blp.doc(security=[{"bearerAuth": []}])
def resend_verification():
    """Mail a new verification link (the previous one stops working); 429 `resend_throttled` within a minute
    of the last one, 409 `email_already_verified`."""
    auth_rpc.ResendVerification(auth_pb2.ResendVerificationRequest(caller=caller(current_principal())))
    return None


@blp.route("/auth/password/forgot", methods=["POST"])
@blp.arguments(ForgotPasswordIn)
@blp.response(202)
def forgot_password(body: dict):
    """Mail a password reset link to this address if it has an account. The answer is 202 either way."""
    auth_rpc.RequestPasswordReset(auth_pb2.RequestPasswordResetRequest(
        email=body["email"], client_ip=request.remote_addr or ""))
    return None


@blp.route("/auth/password/reset", methods=["POST"])
@blp.arguments(ResetPasswordIn)
@blp.response(204)
def reset_password(body: dict):
    """Set a new password with the reset link's token (single use, expiring); every session of the account
    ends (its refresh tokens are refused from now on)."""
    auth_rpc.ResetPassword(auth_pb2.ResetPasswordRequest(token=body["token"], password=body["password"]),
                           timeout=password_deadline_s())
    return None


@blp.route("/auth/password/change", methods=["POST"])
@auth_required
@blp.arguments(ChangePasswordIn)
@blp.response(200, TokenPairOut)
@blp.doc(security=[{"bearerAuth": []}])
def change_password(body: dict):
    """Change your password (the current one is required: 403 `invalid_current_password`); every other
    session ends and this one continues with the token pair in the answer."""
    return _token_pair(auth_rpc.ChangePassword(auth_pb2.ChangePasswordRequest(
        caller=caller(current_principal()), **body), timeout=password_deadline_s()))
