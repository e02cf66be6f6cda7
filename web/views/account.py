"""Sign up, log in, log out, accept an invite, switch organisation."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web import bff
from web.api import ApiError

bp = Blueprint("account", __name__)
INVITE_PROBLEMS = {
    "invite_revoked": "This invitation was withdrawn, or replaced by a newer link. Ask whoever invited you for a new one.",
    "invite_used": "This invitation has been used already. If it was you, log in.",
    "invite_expired": "This invitation has expired. Ask whoever invited you for a new link.",
}


def _safe_next(default: str) -> str:
    target = request.values.get("next", "")
    parsed = urlparse(target)
    if target.startswith("/") and not target.startswith("//") and not parsed.netloc and "\\" not in target:
        return target
    return default


def _form_failure(template: str, exc: ApiError, **context):
    """Show the API's problem at its fields (and summarised at the top), keeping what was typed."""
    if exc.status in (502, 503, 504, 429):
        message = "CareerOS is busy right now. What you typed is kept: please try again in a moment."
        return render_template(template, errors={}, message=message, form=request.form, **context), exc.status
    if exc.status >= 500:
        raise exc
    return render_template(template, errors=exc.field_errors(), message=str(exc) if not exc.errors else None,
                           form=request.form, **context), 422 if exc.status == 422 else exc.status


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if request.method == "GET":
        return render_template("account/signup.html", errors={}, form={})
    form = request.form
    body = {"email": form.get("email", "").strip(), "password": form.get("password", ""),
            "display_name": form.get("display_name", "").strip()}
    if form.get("kind") == "organisation":
        body["organization_name"] = form.get("organization_name", "").strip()
    try:
        bff.call("POST", "/auth/register", anonymous=True, json=body)
        pair = bff.call("POST", "/auth/login", anonymous=True,
                        json={"email": body["email"], "password": body["password"]})
    except ApiError as exc:
        return _form_failure("account/signup.html", exc)
    bff.start_session(pair)
    flash(f"Welcome to CareerOS, {body['display_name']}! Tell us about yourself to get a roadmap.", "success")
    return redirect(url_for("learn.profile"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("account/login.html", errors={}, form={}, next=_safe_next(""))
    try:
        pair = bff.call("POST", "/auth/login", anonymous=True, json={
            "email": request.form.get("email", "").strip(), "password": request.form.get("password", "")})
    except ApiError as exc:
        if exc.status == 401:
            exc.detail = "The email or password is not right."
        return _form_failure("account/login.html", exc, next=_safe_next(""))
    bff.start_session(pair)
    return redirect(_safe_next(url_for("learn.dashboard")))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by e-mail; the answer never says whether the address has an account."""
    if request.method == "GET":
        return render_template("account/forgot.html", errors={}, form={})
    try:
        bff.call("POST", "/auth/password/forgot", anonymous=True,
                 json={"email": request.form.get("email", "").strip()})
    except ApiError as exc:
        return _form_failure("account/forgot.html", exc)
    flash("If that address has an account, a link to choose a new password is on its way.", "info")
    return redirect(url_for("account.login"))


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_password():
    """The page the reset e-mail links to: choose a new password (every session then ends)."""
    token = request.values.get("token", "")
    if request.method == "GET":
        return render_template("account/reset.html", errors={}, form={}, token=token)
    try:
        bff.call("POST", "/auth/password/reset", anonymous=True,
                 json={"token": token, "password": request.form.get("password", "")})
    except ApiError as exc:
        return _form_failure("account/reset.html", exc, token=token)
    flash("Your password is changed and every session signed out. Log in with the new one.", "success")
    return redirect(url_for("account.login"))


@bp.post("/logout")
def logout():
    bff.end_session()
    flash("You have logged out.", "info")
    return redirect(url_for("public.home"))


@bp.route("/invites/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """The link in an invitation e-mail: choose a name and password (or confirm), then join."""
    if request.method == "GET":
        return render_template("account/invite.html", token=token, errors={}, form={})
    try:
        if bff.signed_in():  # an existing account joins with its own token (the invite's e-mail must match)
            joined = bff.call("POST", f"/orgs/invites/{token}/accept", json={})
        else:
            joined = bff.call("POST", f"/orgs/invites/{token}/accept", anonymous=True, json={
                "display_name": request.form.get("display_name", "").strip(),
                "password": request.form.get("password", "")})
    except ApiError as exc:
        if exc.code in INVITE_PROBLEMS:
            exc.detail = INVITE_PROBLEMS[exc.code]
        return _form_failure("account/invite.html", exc, token=token)
    bff.start_session(joined["tokens"])
    flash(f"You have joined {bff.me().get('tenant_name', 'the organisation')}.", "success")
    return redirect(url_for("learn.dashboard"))


@bp.route("/switch", methods=["GET", "POST"])
@bff.login_required
def switch():
    """Tenant switcher: a new token pair for another organisation the user belongs to."""
    if request.method == "POST":
        tenant_id = request.form.get("tenant_id", "")
        try:
            pair = bff.call("POST", "/auth/switch-tenant", json={"tenant_id": tenant_id})
        except ApiError as exc:
            if exc.status not in (403, 404, 422):
                raise
            flash(f"You cannot switch there: {exc}", "error")
            return redirect(url_for("account.switch"))
        bff.start_session(pair)
        flash(f"You are now working in {bff.me().get('tenant_name')}.", "success")
        return redirect(url_for("learn.dashboard"))
    return render_template("account/switch.html", tenants=_my_tenants())


def _my_tenants() -> list[dict]:
    """Every organisation (and the personal space) this user belongs to, personal first."""
    found = bff.call("GET", "/me/organizations")["organizations"]
    return sorted(found, key=lambda t: (t["kind"] != "personal", t["name"].casefold()))
