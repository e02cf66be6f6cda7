"""A tenant's current plan tier as auth last applied it, shared with the gateway through Redis.

Auth writes it while applying billing's ``entitlement.changed``; the gateway reads
it on every authenticated request and passes it to services instead of the
access token's ``plan_tier`` claim, so a payment (or a lapse) takes effect on
the next request with the same token. The key lives as long as an access token
(``auth.access_ttl_s``): when it is missing (Redis flushed, never written) the
token's claim is used, which is never older than that either.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

log = logging.getLogger(__name__)

# Tenant ids are UUIDs, unique across platforms sharing one Redis, so no per-run prefix is needed
# (the same reasoning as auth's revoked-jti keys).
KEY_PREFIX = "careeros:tenant-plan:"


def key(tenant_id: str) -> str:
    return KEY_PREFIX + tenant_id


def remember(redis_client: Any, tenant_id: str, plan_tier: str, ttl_s: int) -> None:
    """Record ``plan_tier`` as the tenant's current tier for ``ttl_s`` seconds."""
    redis_client.set(key(tenant_id), plan_tier, ex=max(1, int(ttl_s)))


def current(redis_client: Any, tenant_id: str) -> Optional[str]:
    """The tenant's current tier, or None when unknown (then the token's claim applies)."""
    return parse(redis_client.get(key(tenant_id)))


def parse(value: Any) -> Optional[str]:
    """The tier in a value read from :func:`key` (None when missing)."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
