"""The xAPI request envelope: resources, methods, the version header, scopes, responses.

A request reaches the tracker as :class:`XapiRequest` (method, resource below the LRS
base, query parameters, the headers xAPI gives meaning to, the raw body) and leaves
as :class:`XapiResponse`. Nothing here touches HTTP servers or the database.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from careeros_services.common.errors import DomainError

SUPPORTED_VERSIONS = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"]
_VERSION = re.compile(r"^(1\.0(\.[0-3])?|2\.0(\.0)?)$")
METHODS = {
    "statements": {"GET", "PUT", "POST"},
    "activities/state": {"GET", "PUT", "POST", "DELETE"},
    "activities/profile": {"GET", "PUT", "POST", "DELETE"},
    "agents/profile": {"GET", "PUT", "POST", "DELETE"},
    "activities": {"GET"},
    "agents": {"GET"},
    "about": {"GET"},
}
# Credential scopes (as ADL's LRS and Learning Locker name them) and what each allows.
SCOPES = ("all", "all/read", "statements/write", "statements/read", "state", "profile")
_NEEDS = {
    ("statements", False): {"all", "all/read", "statements/read"},
    ("statements", True): {"all", "statements/write"},
    ("activities/state", False): {"all", "all/read", "state"},
    ("activities/state", True): {"all", "state"},
    ("activities/profile", False): {"all", "all/read", "profile"},
    ("activities/profile", True): {"all", "profile"},
    ("agents/profile", False): {"all", "all/read", "profile"},
    ("agents/profile", True): {"all", "profile"},
    ("activities", False): set(SCOPES),
    ("agents", False): set(SCOPES),
}
MINE = "mine"  # a learner's own bearer token: their own statements and documents only


class XapiError(DomainError):
    """An xAPI error with its own status (400, 401, 403, 404, 405, 409, 412, 413)."""

    code, status, grpc_status, title = "xapi_error", 400, "INVALID_ARGUMENT", "xAPI request refused"

    def __init__(self, status: int, code: str, detail: str, fields: Optional[dict] = None):
        super().__init__(detail, code=code, fields=fields)
        self.status = status


@dataclass
class XapiRequest:
    method: str
    resource: str
    params: dict[str, str]
    headers: dict[str, str]          # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type")


@dataclass
class XapiResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> "XapiResponse":
        return cls(status, json.dumps(value, ensure_ascii=False).encode(),
                   {"Content-Type": "application/json", **headers})


@dataclass(frozen=True)
class Credential:
    """Who is calling the LRS: tenant, scopes, the authority their statements get."""

    tenant_id: str
    scopes: frozenset[str]
    authority: dict
    user_id: str = ""                # set for bearer tokens (MINE: only this learner)
    key_id: str = ""
    default_family: str = "2.0"      # the version named in answers to requests that name none

    @property
    def mine_only(self) -> bool:
        """Writes only as (and about) the learner: a learner's or instructor's own token."""
        return MINE in self.scopes and "all" not in self.scopes

    @property
    def reads_mine_only(self) -> bool:
        """Reads only the learner's own statements and documents (not an instructor's token)."""
        return self.mine_only and "all/read" not in self.scopes


KEY_VERSIONS = ("1.0.3", "2.0.0")


def check_version(request: XapiRequest, default_family: str = "2.0") -> str:
    """The request's xAPI version family ("1.0" or "2.0"); 400 when missing (except /about) or unsupported.

    A refused request is answered in ``default_family`` (the key's version; xAPI 2.0 otherwise).
    """
    given = request.header("x-experience-api-version").strip()
    if not given:
        if request.resource == "about":
            return default_family
        raise XapiError(400, "version_required", "The X-Experience-API-Version header is required.",
                        {"X-Experience-API-Version": ["is required"]})
    if not _VERSION.match(given):
        raise XapiError(400, "version_unsupported", f"xAPI version {given} is not supported.",
                        {"X-Experience-API-Version": [f"must be one of {', '.join(SUPPORTED_VERSIONS)}"]})
    return given[:3]


def check_params(request: XapiRequest) -> None:
    """400 for a NUL character in a parameter (PostgreSQL text cannot hold one)."""
    for name, value in request.params.items():
        if "\x00" in name or "\x00" in value:
            raise XapiError(400, "xapi_invalid", "A parameter holds a NUL character.",
                            {name.replace("\x00", ""): ["must not contain NUL characters"]})


def response_version(family: str) -> str:
    return "2.0.0" if family == "2.0" else "1.0.3"


def check_method(request: XapiRequest) -> None:
    allowed = METHODS.get(request.resource)
    if allowed is None:
        raise XapiError(404, "not_found", f"/{request.resource} is not an xAPI resource.")
    if request.method not in allowed:
        raise XapiError(405, "method_not_allowed", f"{request.method} is not allowed on /{request.resource}.")


def check_scope(credential: Credential, request: XapiRequest) -> None:
    if request.resource == "about":
        return
    if credential.mine_only:
        return  # narrowed per resource by the service (own statements, own agent)
    writing = request.method in ("PUT", "POST", "DELETE")
    if not credential.scopes & _NEEDS.get((request.resource, writing), set()):
        raise XapiError(403, "scope_denied", f"This credential may not {request.method} /{request.resource}.")


def about() -> dict:
    return {"version": SUPPORTED_VERSIONS, "extensions": {}}
