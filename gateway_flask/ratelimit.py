"""Fixed-window rate limits per client IP and per tenant, counted in Redis.

Each window is one Redis key (``<prefix>rl:<scope>:<id>:<window>``) bumped
with INCR and given a TTL on its first hit, in one script with the reads the request
needs, so every gateway worker shares the counts and old windows expire on their own.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Optional, Sequence

from flask import g, request

from careeros_services.common import plan_cache
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import RateLimited
from gateway_flask import read_cache, security
from gateway_flask.state import gateway_state

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# One command instead of a pipeline of INCR/EXPIRE pairs and GETs: packing and parsing eight
# commands was the largest share of the gateway's own CPU per request. KEYS: ARGV[1] window
# counters to bump (expiring ARGV[2] s after their first hit), then keys to read.
# (Redis Cluster would need these keys in one hash slot; the platform runs one Redis.)
COUNT_AND_READ = """
local counted = tonumber(ARGV[1])
local replies = {}
for i = 1, #KEYS do
  if i <= counted then
    replies[i] = redis.call('INCR', KEYS[i])
    if replies[i] == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2]) end
  else
    replies[i] = redis.call('GET', KEYS[i])
  end
end
return replies
"""


class RateLimiter:
    """Count hits per window and raise :class:`RateLimited` over the limit."""

    def __init__(self, redis_client: Any, prefix: str, *, per_ip_per_minute: Optional[int],
                 per_tenant_per_minute: Optional[int], window_s: int = 60, clock: Clock = system_clock):
        self._redis = redis_client
        self._count_and_read = redis_client.register_script(COUNT_AND_READ)
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

    def _hit(self, hits: list[tuple[str, str, Optional[int]]], reads: Sequence[str] = ()) -> Optional[list]:
        """Count ``hits`` and read the keys ``reads`` in one round trip (one script); raise 429
        past a limit; return the values of ``reads``. None when Redis failed: the limits fail
        open (a Redis blip should not take the whole API down; the services still have their
        own limits: login attempts, quotas)."""
        hits = [h for h in hits if h[2]]
        if not hits and not reads:
            return []
        now = self.clock().timestamp()
        window = int(now // self.window_s)
        counters = [f"{self._prefix}{scope}:{ident}:{window}" for scope, ident, _ in hits]
        try:
            replies = self._count_and_read(keys=[*counters, *reads], args=[len(counters), self.window_s + 1])
        except Exception:
            log.warning("rate limiter unavailable; request let through", exc_info=True)
            return None
        self._judge(hits, replies[:len(hits)], window, now)
        return replies[len(hits):]

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
        cacheable GET, the cached answer (``read_cache``): one round trip a request. Should it
        fail, the limits fail open and the token check is left to ``optional_principal``, which
        fails closed.
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
        revocation = gateway_state().verifier.revocation_keys(claims)
        reads = [*revocation, plan_cache.key(claims["tenant_id"]), *(cache.keys if cache is not None else ())]
        replies = self._hit(hits + [("tenant", claims["tenant_id"], self.per_tenant)], reads)
        if replies is None:
            return
        revoked, (plan, *cached) = replies[:len(revocation)], replies[len(revocation):]
        if security.settle_revocation(token, claims, revoked) is not None:
            g.careeros_plan_tier = plan_cache.parse(plan) or claims["plan_tier"]  # services.plan_tier
            if cache is not None:
                cache.settle(cached, g.careeros_plan_tier)
