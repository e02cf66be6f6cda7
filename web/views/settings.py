"""Account settings (e-mail and verification, password, e-mail preferences, organisations, privacy)
and the pages the links in e-mails open (verify the address, unsubscribe). Everything goes through
the API (/auth, /me, /notifications, /orgs, /me/exports, /me/erasure)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from web import bff
from web.api import ApiError

bp = Blueprint("settings", __name__)

# What each optional kind of e-mail is, in words (a kind the API adds later shows its own name).
PREFERENCE_LABELS = {
    "assignment": "A course or a target role is assigned to me",
    "certificate_issued": "A certificate is issued to me",
    "weekly_digest": "My weekly progress digest",
}
EXPORT_KEPT_S = 30 * 86400  # how long this client remembers the last export asked for (the API has no list)


def _refresh_me() -> dict:
    """``/me`` again: the address may have been verified meanwhile (in another tab, by the e-mail's link)."""
    session["me"] = bff.call("GET", "/me")
    return session["me"]


def _readable(exc: ApiError) -> str:
    """A problem as a sentence; "try again in N seconds" when the API said when."""
    if exc.status == 429 and exc.retry_after:
        return f"{exc} (You can try again in {exc.retry_after} seconds.)"
    return str(exc)


def _refuse(exc: ApiError, *, allowed: tuple = (403, 404, 409, 422, 429)) -> None:
    """Expected refusals become a flash message on the page; anything else goes to the error page."""
    if exc.status not in allowed:
        raise exc
    flash(_readable(exc), "error")


# --- account: e-mail, verification, password --------------------------------------------------------

@bp.get("/settings")
@bff.login_required
def account():
    """Your e-mail address (verified or not) and a form to change the password."""
    return render_template("settings/account.html", person=_refresh_me(), errors={}, message=None)


@bp.post("/settings/verification")
@bff.login_required
def resend_verification():
    try:
        bff.call("POST", "/auth/verify-email/resend")
    except ApiError as exc:
        _refuse(exc)
    else:
        flash(f"A new verification link is on its way to {bff.me().get('email', 'your address')}.", "success")
    return redirect(url_for("settings.account"))


@bp.post("/settings/password")
@bff.login_required
def change_password():
    """Current + new password; the API ends every other session and gives this one a fresh pair."""
    try:
        pair = bff.call("POST", "/auth/password/change", json={
            "current_password": request.form.get("current_password", ""),
            "new_password": request.form.get("new_password", "")})
    except ApiError as exc:
        if exc.status not in (403, 422, 429):
            raise
        return render_template("settings/account.html", person=bff.me(), errors=exc.field_errors(),
                               message=_readable(exc) if not exc.errors else None), exc.status
    bff.start_session(pair)
    flash("Your password is changed. Every other session (other browsers and devices) is signed out.", "success")
    return redirect(url_for("settings.account"))


# --- e-mail preferences ---------------------------------------------------------------------------------

@bp.route("/settings/notifications", methods=["GET", "POST"])
@bff.login_required
def notifications():
    """Which optional e-mails you get (in this organisation); account and billing e-mails always come."""
    if request.method == "POST":
        kinds = request.form.getlist("kind")
        on = set(request.form.getlist("enabled"))
        try:
            bff.call("PATCH", "/notifications/preferences", json={"enabled": {k: k in on for k in kinds}})
        except ApiError as exc:
            _refuse(exc, allowed=(422,))
        else:
            flash("Your e-mail preferences are saved.", "success")
        return redirect(url_for("settings.notifications"))
    enabled = bff.call("GET", "/notifications/preferences")["enabled"]
    rows = [(kind, PREFERENCE_LABELS.get(kind, kind.replace("_", " ").capitalize()), on)
            for kind, on in sorted(enabled.items())]
    return render_template("settings/notifications.html", rows=rows)


# --- organisations ---------------------------------------------------------------------------------------

def _organisations() -> list[dict]:
    return bff.call("GET", "/me/organizations")["organizations"]


@bp.get("/settings/organisations")
@bff.login_required
def organisations():
    return render_template("settings/organisations.html", organisations=_organisations())


@bp.route("/settings/organisations/<uuid:tenant_id>/leave", methods=["GET", "POST"])
@bff.login_required
def leave(tenant_id):
    """GET asks "are you sure?"; POST leaves. The API leaves the organisation of a token, so this
    takes a token for that organisation first (and, when it is the current one, a token for another
    one to continue with: leaving ends the sessions in the one left)."""
    tenant_id, mine = str(tenant_id), _organisations()
    chosen = next((o for o in mine if o["tenant_id"] == tenant_id), None)
    if chosen is None:
        flash("You are not a member of that organisation (any more).", "error")
        return redirect(url_for("settings.organisations"))
    if request.method == "GET":
        return render_template("settings/leave.html", organisation=chosen)
    current = bff.me().get("tenant_id")
    stay_in = None if tenant_id != current else next(
        (o for o in sorted(mine, key=lambda o: not o.get("home")) if o["tenant_id"] != tenant_id), None)
    try:
        there = (bff.access_token() if tenant_id == current else
                 bff.call("POST", "/auth/switch-tenant", json={"tenant_id": tenant_id})["access_token"])
        continue_with = (bff.call("POST", "/auth/switch-tenant", json={"tenant_id": stay_in["tenant_id"]})
                         if stay_in else None)
        bff.client().request("POST", "/orgs/current/leave", token=there, correlation_id=bff.correlation_id(),
                             client_ip=request.remote_addr)
    except ApiError as exc:
        _refuse(exc)
        return redirect(url_for("settings.organisations"))
    if tenant_id == current and continue_with is None:  # it was your only one: a personal space is your home now
        bff.end_session()
        flash(f"You have left {chosen['name']}. Log in again to continue in your personal space.", "info")
        return redirect(url_for("account.login"))
    if continue_with is not None:
        bff.start_session(continue_with)  # its access token predates the leave: the first call refreshes it
    flash(f"You have left {chosen['name']}.", "success")
    return redirect(url_for("settings.organisations"))


# --- privacy: export and erasure -----------------------------------------------------------------------

def _export_key() -> str:
    return f"{current_app.config['WEB_REDIS_PREFIX']}export:{bff.me()['user_id']}"


def _last_export() -> dict | None:
    request_id = current_app.extensions["careeros_redis"].get(_export_key())
    if not request_id:
        return None
    try:
        return bff.call("GET", f"/me/exports/{request_id.decode()}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        return None


@bp.get("/settings/privacy")
@bff.login_required
def privacy():
    return render_template("settings/privacy.html", export=_last_export(), errors={})


@bp.get("/settings/privacy/export")
@bff.login_required
def export_status():
    """The export's status alone (htmx polls it while the services answer)."""
    return render_template("settings/_export.html", export=_last_export())


@bp.post("/settings/privacy/export")
@bff.login_required
def request_export():
    try:
        started = bff.call("POST", "/me/exports")
    except ApiError as exc:
        _refuse(exc)
        return redirect(url_for("settings.privacy"))
    current_app.extensions["careeros_redis"].set(_export_key(), started["request_id"], ex=EXPORT_KEPT_S)
    flash("Your export has started. Its download link appears here when it is ready (and comes by e-mail).",
          "success")
    return redirect(url_for("settings.privacy"))


@bp.post("/settings/privacy/erase")
@bff.login_required
def request_erasure():
    """Erase the account: only with the address typed as confirmation. The session ends with it."""
    typed = request.form.get("confirm_email", "").strip().casefold()
    if not typed or typed != str(bff.me().get("email", "")).casefold():
        errors = {"confirm_email": "Type your e-mail address exactly to confirm the erasure."}
        return render_template("settings/privacy.html", export=_last_export(), errors=errors), 422
    try:
        bff.call("POST", "/me/erasure", json={"confirm": True})
    except ApiError as exc:
        _refuse(exc, allowed=(403, 409, 422))
        return redirect(url_for("settings.privacy"))
    current_app.extensions["careeros_redis"].delete(_export_key())
    bff.end_session()
    flash("Your account is being erased. You have been signed out and cannot log in again.", "info")
    return redirect(url_for("public.home"))


# --- the pages e-mail links open -----------------------------------------------------------------------

@bp.get("/verify-email")
def verify_email():
    """The verification e-mail's link: verifies through the API and says what happened."""
    token = request.args.get("token", "")
    try:
        answer = bff.call("POST", "/auth/verify-email", anonymous=True, json={"token": token})
    except ApiError as exc:
        if exc.status >= 500:
            raise
        expired = exc.code == "token_expired"
        return render_template("settings/verified.html", verified=False, expired=expired, message=str(exc)), (
            exc.status if exc.status in (404, 409, 422) else 400)
    if bff.signed_in() and bff.me().get("user_id") == answer.get("user_id"):
        _refresh_me()
    return render_template("settings/verified.html", verified=True, expired=False, message=None)


@bp.route("/unsubscribe", methods=["GET", "POST"])
def unsubscribe():
    """The unsubscribe link in an optional e-mail. A GET only asks (mail scanners open links); the
    button posts, which turns that kind of e-mail off through the API's one-click endpoint."""
    token = request.values.get("token", "")
    if request.method == "GET":
        return render_template("settings/unsubscribe.html", token=token, done=None)
    try:
        done = bff.call("POST", "/notifications/unsubscribe", anonymous=True, params={"token": token}, json={})
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return render_template("settings/unsubscribe.html", token=token, done=None,
                               message="This unsubscribe link is not valid. Copy the whole link from the e-mail, "
                                       "or change your e-mail preferences in your settings."), 404
    label = PREFERENCE_LABELS.get(done["kind"], done["kind"].replace("_", " "))
    return render_template("settings/unsubscribe.html", token=token, done=label)
