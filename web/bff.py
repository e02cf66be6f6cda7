"""The backend-for-frontend: the session's tokens, refreshed here, and API calls made with them."""
from __future__ import annotations

import functools
import time
import uuid
from typing import Any, Callable, Optional

from flask import current_app, g, redirect, request, session, url_for

from web.api import ApiClient, ApiError

REFRESH_MARGIN_S = 30  # refresh a little before expiry so a page's calls do not straddle it


class SessionExpired(Exception):
    """The refresh token no longer works: the user has to log in again."""


def client() -> ApiClient:
    return current_app.extensions["careeros_api"]


def _redis():
    return current_app.extensions["careeros_redis"]


def correlation_id() -> str:
    if "correlation_id" not in g:
        g.correlation_id = str(uuid.uuid4())
    return g.correlation_id


def _origin() -> dict:
    """Who and where this call is for: the request's correlation id and the browser's address."""
    return {"correlation_id": correlation_id(), "client_ip": request.remote_addr}


def signed_in() -> bool:
    return "tokens" in session


def me() -> dict:
    return session.get("me") or {}


def start_session(pair: dict) -> None:
    """After login/sign-up/invite acceptance/tenant switch: keep the pair, fetch who we are."""
    if "tokens" not in session:
        session.regenerate()  # a new id at login: no session fixation
    _keep(pair)
    session["me"] = call("GET", "/me")


def reload_me() -> None:
    """After a change to this user's plan or role: the next call gets a fresh token (with the new
    claims) and the page shows who they are now."""
    session["tokens"]["expires_at"] = 0
    session["me"] = call("GET", "/me")


def _keep(pair: dict) -> None:
    session["tokens"] = {"access": pair["access_token"], "refresh": pair["refresh_token"],
                         "expires_at": time.time() + int(pair.get("expires_in", 900))}


def end_session() -> None:
    """Log out: revoke the access token and the refresh family at the API, forget everything here."""
    tokens = session.get("tokens")
    if tokens:
        try:
            client().request("POST", "/auth/logout", token=tokens["access"],
                             json={"refresh_token": tokens["refresh"]}, **_origin())
        except ApiError:
            pass  # an expired access token: the refresh token is still dropped from this session
    session.clear()
    session.regenerate()  # the old id is deleted; whatever comes next gets a new one


def access_token() -> str:
    tokens = session.get("tokens")
    if not tokens:
        raise SessionExpired()
    if tokens["expires_at"] - REFRESH_MARGIN_S > time.time():
        return tokens["access"]
    return _refresh(tokens)


def _refresh(tokens: dict) -> str:
    """Rotate the refresh token once, even when several requests of this session need it at once
    (presenting a rotated refresh token twice would revoke the whole family)."""
    lock = _redis().lock(f"{current_app.config['WEB_REDIS_PREFIX']}refresh:{session.sid}", timeout=10,
                         blocking_timeout=10)
    with lock:
        fresh = current_app.session_interface.reload(session)
        if fresh and fresh.get("tokens", {}).get("refresh") != tokens["refresh"]:
            session["tokens"] = fresh["tokens"]  # another request of this session refreshed meanwhile
            return fresh["tokens"]["access"]
        try:
            pair = client().request("POST", "/auth/refresh", json={"refresh_token": tokens["refresh"]},
                                    **_origin())
        except ApiError as exc:
            if exc.status in (400, 401, 403, 422):
                session.clear()
                raise SessionExpired() from exc
            raise
        _keep(pair)
        current_app.session_interface.store_now(session)
        return session["tokens"]["access"]


def call(method: str, path: str, *, anonymous: bool = False, **kwargs: Any) -> Any:
    """One API call as the signed-in user (or anonymously); a 401 gets one refresh and one retry."""
    token: Optional[str] = None if anonymous else access_token()
    try:
        return client().request(method, path, token=token, **_origin(), **kwargs)
    except ApiError as exc:
        if exc.status != 401 or anonymous:
            raise
    session["tokens"]["expires_at"] = 0
    return client().request(method, path, token=access_token(), **_origin(), **kwargs)


def maybe_call(method: str, path: str, **kwargs: Any) -> Any:
    """As :func:`call` when signed in, else anonymously."""
    return call(method, path, anonymous=not signed_in(), **kwargs)


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signed_in():
            return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def role_required(*roles: str) -> Callable:
    """Only for these org roles (owner, admin, instructor, member); others get the 403 page."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if me().get("org_role") not in roles:
                from flask import abort
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def gather(*requests_: tuple) -> list:
    """Several GETs of one page at once (``("GET", path, {kwargs})`` each); an ApiError is returned
    in place of its result, for the page to decide. The page costs its slowest call, not their sum."""
    from concurrent.futures import ThreadPoolExecutor
    token, origin, api = access_token(), _origin(), client()

    def one(spec: tuple) -> Any:
        method, path, kwargs = (*spec, {})[:3]
        try:
            return api.request(method, path, token=token, **origin, **kwargs)
        except ApiError as exc:
            return exc
    with ThreadPoolExecutor(max_workers=min(len(requests_), 6)) as pool:
        return list(pool.map(one, requests_))


def ok(result: Any, default: Any = None, missing: tuple = (404,)) -> Any:
    """A gathered result, or ``default`` for the expected problems (``missing``); others are raised."""
    if isinstance(result, ApiError):
        if result.status in missing:
            return default
        raise result
    return result
