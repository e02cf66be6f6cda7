"""The CareerOS REST API as this web client sees it: HTTP to /api/v1, problem+json turned into ApiError."""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import requests

log = logging.getLogger("careeros.web")

@dataclass
class ApiError(Exception):
    """A problem+json answer (or a transport failure, status 503)."""
    status: int
    code: str = ""
    title: str = ""
    detail: str = ""
    errors: dict = field(default_factory=dict)
    retry_after: Optional[str] = None

    def __str__(self) -> str:
        return self.detail or self.title or f"HTTP {self.status}"

    def field_errors(self) -> dict[str, str]:
        """``{"email": "Not a valid email address."}``: nested errors flattened to their top field."""
        return {name: _first_message(value) for name, value in (self.errors or {}).items()}


def _first_message(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _first_message(value[0])
    if isinstance(value, dict) and value:
        return _first_message(next(iter(value.values())))
    return "is not valid"


class ApiClient:
    """Thread-safe: one requests.Session (a connection pool) per thread."""

    def __init__(self, base_url: str, timeout_s: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def request(self, method: str, path: str, *, token: Optional[str] = None, json: Any = None,
                params: Optional[dict] = None, data: Any = None, headers: Optional[dict] = None,
                idempotency_key: Optional[str] = None, correlation_id: Optional[str] = None,
                client_ip: Optional[str] = None, raw: bool = False, stream: bool = False) -> Any:
        """Call ``/api/v1{path}``; JSON body back (None for 204), or the Response with ``raw``
        (``stream``: its body read as it is sent on, e.g. a video)."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if method in ("POST", "PUT", "PATCH"):
            sent["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        if correlation_id:
            sent["X-Correlation-ID"] = correlation_id
        if client_ip:  # the browser's address, for the API's per-address limits once it trusts this hop
            sent["X-Forwarded-For"] = client_ip
        try:
            response = self._session().request(method, self.base_url + path, json=json, params=params, data=data,
                                               headers=sent, timeout=self.timeout_s, stream=stream)
        except requests.RequestException as exc:
            log.warning("API call failed: %s %s: %s", method, path, exc)
            raise ApiError(503, "upstream_unavailable", "CareerOS is not reachable right now.") from exc
        if response.status_code >= 400:
            raise _problem(response)
        if raw:
            return response
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _problem(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiError(status=response.status_code, code=str(body.get("code", "")), title=str(body.get("title", "")),
                    detail=str(body.get("detail", "")), errors=body.get("errors") or {},
                    retry_after=response.headers.get("Retry-After"))
