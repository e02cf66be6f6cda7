"""Sign up, log in, log out, accept an invite, switch organisation."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from web import bff
from web.api import ApiError

bp = Blueprint("account", __name__)


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
        joined = bff.call("POST", f"/orgs/invites/{token}/accept", anonymous=True, json={
            "display_name": request.form.get("display_name", "").strip(),
            "password": request.form.get("password", "")})
    except ApiError as exc:
        return _form_failure("account/invite.html", exc, token=token)
    session.clear()
    bff.start_session(joined["tokens"])
    flash(f"You have joined {bff.me().get('tenant_name', 'the organisation')}.", "success")
    return redirect(url_for("learn.dashboard"))


@bp.route("/switch", methods=["GET", "POST"])
@bff.login_required
def switch():
    """Tenant switcher: a new token pair for another organisation the user belongs to."""
    if request.method == "POST":
        pair = bff.call("POST", "/auth/switch-tenant", json={"tenant_id": request.form.get("tenant_id", "")})
        bff.start_session(pair)
        flash(f"You are now working in {bff.me().get('tenant_name')}.", "success")
        return redirect(url_for("learn.dashboard"))
    return render_template("account/switch.html", tenants=_my_tenants())


def _my_tenants() -> list[dict]:
    """The organisations to switch to: from the API's "my organisations" when it has one."""
    try:
        found = bff.call("GET", "/orgs/mine")
        return found.get("items", found) if isinstance(found, dict) else found
    except ApiError as exc:
        if exc.status in (404, 405):
            return []
        raise
