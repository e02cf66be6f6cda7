"""Fixed-window rate limits per client IP and per tenant, counted in Redis.

Each window is one Redis key (``<prefix>rl:<scope>:<id>:<window>``) bumped
with INCR and given a TTL in the same MULTI/EXEC, so every gateway worker
shares the counts and old windows expire on their own.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Callable, Optional

from flask import g, request

from careeros_services.common import plan_cache
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import RateLimited
from gateway_flask import read_cache, security
from gateway_flask.state import gateway_state

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RateLimiter:
    """Count hits per window and raise :class:`RateLimited` over the limit."""

    def __init__(self, redis_client: Any, prefix: str, *, per_ip_per_minute: Optional[int],
                 per_tenant_per_minute: Optional[int], window_s: int = 60, clock: Clock = system_clock):
        self._redis = redis_client
        # The window is the clock's minute, so a test moves the clock instead of sleeping; Redis
        # only expires old windows (on its own time), it never decides which window a hit is in.
        self.clock = clock
        self._prefix = prefix + "rl:"
        self.per_ip, self.per_tenant = per_ip_per_minute, per_tenant_per_minute
        self.window_s = window_s

    def hit(self, scope: str, ident: str, limit: Optional[int]) -> None:
        """Count one request for ``scope``/``ident``; raise 429 past ``limit`` (falsy = no limit)."""
        self.hit_many([(scope, ident, limit)])

    def hit_many(self, hits: list[tuple[str, str, Optional[int]]]) -> None:
        """Count one request in each ``(scope, ident, limit)``, in one Redis round trip."""
        self._hit(hits)

    def _hit(self, hits: list[tuple[str, str, Optional[int]]],
             reads: Optional[Callable[[Any], None]] = None) -> Optional[list]:
        """Count ``hits`` and run ``reads`` (more commands queued on the same pipeline) in one
        round trip; raise 429 past a limit; return the replies of ``reads``. None when Redis
        failed: the limits fail open (a Redis blip should not take the whole API down; the
        services still have their own limits: login attempts, quotas)."""
        hits = [h for h in hits if h[2]]
        if not hits and reads is None:
            return []
        now = self.clock().timestamp()
        window = int(now // self.window_s)
        try:
            pipe = self._redis.pipeline(transaction=False)
            self._count(pipe, hits, window)
            if reads is not None:
                reads(pipe)
            replies = pipe.execute()
        except Exception:
            log.warning("rate limiter unavailable; request let through", exc_info=True)
            return None
        self._judge(hits, replies[:2 * len(hits):2], window, now)
        return replies[2 * len(hits):]

    def _count(self, pipe: Any, hits: list[tuple[str, str, Optional[int]]], window: int) -> None:
        for scope, ident, _ in hits:
            key = f"{self._prefix}{scope}:{ident}:{window}"
            pipe.incr(key)
            pipe.expire(key, self.window_s + 1)  # +1: never expire before the window ends

    def _judge(self, hits: list[tuple[str, str, Optional[int]]], counts: list[int], window: int, now: float) -> None:
        for (scope, _, limit), count in zip(hits, counts):
            if count > limit:
                retry_after = max(1, math.ceil((window + 1) * self.window_s - now))
                raise RateLimited(f"Too many requests for this {scope}; retry after {retry_after} s.",
                                  retry_after=retry_after)

    def check_request(self) -> None:
        """Apply the per-IP limit and, if the caller has a valid token, the per-tenant limit.

        The same Redis round trip reads what finishing the caller's token check needs (its
        revocation keys), the tenant's current plan tier (``services.plan_tier``) and, for a
        cacheable GET, the cached answer (``read_cache``): one round trip a request. Should it fail, the limits fail open and the token check
        is left to ``optional_principal``, which fails closed.
        """
        if request.path in EXEMPT_PATHS:
            return
        signed = security.signed_request_claims()
        hits = [("ip", request.remote_addr or "-", self.per_ip)]
        if signed is None:
            self._hit(hits)
            return
        token, claims = signed

        cache = read_cache.lookup_for(claims)

        def reads(pipe: Any) -> None:
            pipe.mget(gateway_state().verifier.revocation_keys(claims))
            pipe.get(plan_cache.key(claims["tenant_id"]))
            if cache is not None:
                cache.queue(pipe)

        replies = self._hit(hits + [("tenant", claims["tenant_id"], self.per_tenant)], reads)
        if replies is not None and security.settle_revocation(token, claims, replies[0]) is not None:
            g.careeros_plan_tier = plan_cache.parse(replies[1]) or claims["plan_tier"]  # services.plan_tier
            if cache is not None:
                cache.settle(*replies[2:4])
