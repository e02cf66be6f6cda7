"""Application factory of the web client."""
from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any, Optional

import redis
from flask import Flask, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from web import bff, render
from web.api import ApiClient, ApiError
from web.session import RedisSessionInterface
from web.settings import WebSettings

log = logging.getLogger("careeros.web")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def create_app(section: dict, *, redis_url: str = "redis://127.0.0.1:6379/0",
               redis_client: Optional[Any] = None) -> Flask:
    """Build the web client. ``section``: the ``web`` settings (web/settings.py; ``api_url``, the
    API's /api/v1, is required); a bad one fails here, naming its key."""
    settings = WebSettings.from_section(section, need_api=True)
    app = Flask("web", static_url_path="/static")
    prefix = settings.redis_prefix
    redis_client = redis_client or redis.Redis.from_url(redis_url)
    app.config.update(WEB_REDIS_PREFIX=prefix, MAX_CONTENT_LENGTH=25 * 1024 * 1024,
                      TEMPLATES_AUTO_RELOAD=False, PROPAGATE_EXCEPTIONS=False)
    app.session_interface = RedisSessionInterface(redis_client, prefix, settings.session_ttl_s)
    app.extensions["careeros_redis"] = redis_client
    app.extensions["careeros_api"] = ApiClient(settings.api_url, settings.api_timeout_s)
    render.install(app)
    _install_headers(app)
    _install_csrf(app)
    _install_errors(app)
    from web.views import account, learn, org, public, teach
    for module in (public, account, learn, teach, org):
        app.register_blueprint(module.bp)
    from web.views.settings import bp as settings_pages
    app.register_blueprint(settings_pages)
    return app


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _install_csrf(app: Flask) -> None:
    """Synchroniser token on every state-changing request (form field or htmx header)."""
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def check_csrf():
        if request.method not in UNSAFE_METHODS:
            return None
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return render_template("error.html", status=400, title="This form has expired",
                                   message="Please go back, reload the page and try again."), 400
        return None


# Only this origin's files run: no inline script anywhere (charts get their data as JSON). Inline
# style stays allowed: htmx applies some while it swaps, and style cannot run code.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _install_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if "tokens" in session:  # a signed-in page is nobody else's: not kept by caches or the back button
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def _install_errors(app: Flask) -> None:
    """Pages of their own for 403, 404 and 5xx; an API problem becomes a readable message."""
    pages = {403: ("You cannot open this page", "Your account does not have access to it."),
             404: ("Page not found", "Check the address, or start again from the home page."),
             405: ("Not allowed", "This page cannot be used that way.")}

    @app.errorhandler(bff.SessionExpired)
    def session_expired(_exc):
        session.clear()
        flash("Your session has ended. Please log in again.", "info")
        if request.headers.get("HX-Request"):
            return "", 200, {"HX-Redirect": url_for("account.login")}
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        if exc.status == 401:
            return session_expired(exc)
        status = exc.status if exc.status in (403, 404, 409, 422, 429) else (503 if exc.status >= 500 else 400)
        title = {403: "You cannot do this", 404: "Not found", 429: "Too many requests"}.get(
            status, "Something went wrong" if status >= 500 else "That did not work")
        message = str(exc) if status < 500 else "CareerOS could not finish this just now. Please try again in a moment."
        return render_template("error.html", status=status, title=title, message=message,
                               reference=bff.correlation_id() if status >= 500 else None), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        title, message = pages.get(exc.code or 500, (exc.name, exc.description or ""))
        return render_template("error.html", status=exc.code, title=title, message=message), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        reference = bff.correlation_id()
        log.exception("web page failed", extra={"path": request.path, "correlation_id": reference})
        return render_template("error.html", status=500, title="Something went wrong on our side",
                               message="The error has been logged. Please try again in a moment.",
                               reference=reference), 500
