"""Domain errors with a stable machine-readable ``code``.

One table for the whole platform: each error knows its HTTP status (used by
the gateway's problem+json bodies) and its gRPC status name (used by the gRPC
servers; kept as a name so domain code does not import grpc). The gRPC edge
sends ``code``, ``detail`` and ``fields`` in trailing metadata and the gateway
rebuilds the same error from them.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence


class DomainError(Exception):
    code = "bad_request"
    status = 400
    grpc_status = "INVALID_ARGUMENT"
    title = "Bad request"

    def __init__(self, detail: str = "", *, fields: Optional[Mapping[str, Sequence[str]]] = None,
                 retry_after: Optional[int] = None, code: Optional[str] = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.fields = {k: list(v) for k, v in (fields or {}).items()}
        self.retry_after = retry_after
        if code:
            self.code = code


class ValidationFailed(DomainError):
    code, status, grpc_status, title = "validation_failed", 422, "INVALID_ARGUMENT", "Validation failed"


class Unauthenticated(DomainError):
    code, status, grpc_status, title = "unauthenticated", 401, "UNAUTHENTICATED", "Authentication required"


class Forbidden(DomainError):
    code, status, grpc_status, title = "forbidden", 403, "PERMISSION_DENIED", "Forbidden"


class NotFound(DomainError):
    code, status, grpc_status, title = "not_found", 404, "NOT_FOUND", "Not found"


class Conflict(DomainError):
    code, status, grpc_status, title = "conflict", 409, "ALREADY_EXISTS", "Conflict"


class RateLimited(DomainError):
    code, status, grpc_status, title = "rate_limited", 429, "RESOURCE_EXHAUSTED", "Too many requests"


class Unavailable(DomainError):
    code, status, grpc_status, title = "unavailable", 503, "UNAVAILABLE", "Service unavailable"


ALL_ERRORS = (ValidationFailed, Unauthenticated, Forbidden, NotFound, Conflict, RateLimited,
              Unavailable, DomainError)

BY_GRPC_STATUS = {cls.grpc_status: cls for cls in reversed(ALL_ERRORS)}


def require_uuids(**values: object) -> list[str]:
    """The values as canonical UUID strings, in order; ValidationFailed names those that are not.

    Services call it on the caller's ids before they reach SQL.
    """
    import uuid

    errors, ids = {}, []
    for name, value in values.items():
        try:
            ids.append(str(uuid.UUID(str(value))))
        except ValueError:
            errors[name] = ["must be a UUID"]
    if errors:
        raise ValidationFailed("The caller is not identified.", fields=errors, code="invalid_caller")
    return ids
