"""Server-side sessions in Redis: the browser holds only a random id in an HttpOnly cookie.

Tokens never reach the page (the backend-for-frontend pattern of the IETF's "OAuth 2.0 for
Browser-Based Applications"): the session keeps the access and refresh tokens here.
"""
from __future__ import annotations

import json
import secrets
from typing import Any, Optional

from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

COOKIE_NAME = "careeros_session"


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: Optional[dict] = None, sid: Optional[str] = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True
        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.modified = False
        self.stale_sid: Optional[str] = None

    def regenerate(self) -> None:
        """A new id for the same data (at login: no session fixation)."""
        self.stale_sid, self.sid = self.sid, None
        self.modified = True


class RedisSessionInterface(SessionInterface):
    def __init__(self, redis_client: Any, prefix: str, ttl_s: int) -> None:
        self.redis, self.prefix, self.ttl_s = redis_client, prefix + "session:", ttl_s

    def open_session(self, app, request) -> ServerSession:
        sid = request.cookies.get(COOKIE_NAME)
        if sid and len(sid) < 100:
            raw = self.redis.get(self.prefix + sid)
            if raw:
                return ServerSession(json.loads(raw), sid)
        return ServerSession()

    def save_session(self, app, session: ServerSession, response) -> None:
        secure = _request_is_secure()
        if session.stale_sid:
            self.redis.delete(self.prefix + session.stale_sid)
        if not session:
            if session.sid:
                self.redis.delete(self.prefix + session.sid)
                response.delete_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="Lax")
            return
        if not session.modified and session.sid:
            self.redis.expire(self.prefix + session.sid, self.ttl_s)  # sliding idle timeout
            return
        session.sid = session.sid or secrets.token_urlsafe(32)
        self.redis.set(self.prefix + session.sid, json.dumps(dict(session)), ex=self.ttl_s)
        response.set_cookie(COOKIE_NAME, session.sid, max_age=self.ttl_s, path="/", httponly=True,
                            samesite="Lax", secure=secure)
        response.vary.add("Cookie")

    def reload(self, session: ServerSession) -> Optional[dict]:
        """The stored copy of this session (another request may have changed it)."""
        raw = self.redis.get(self.prefix + session.sid) if session.sid else None
        return json.loads(raw) if raw else None

    def store_now(self, session: ServerSession) -> None:
        """Write the session before the response does (so a concurrent request sees new tokens)."""
        if session.sid:
            self.redis.set(self.prefix + session.sid, json.dumps(dict(session)), ex=self.ttl_s)


def _request_is_secure() -> bool:
    from flask import request
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "") == "https"

