"""Per-tenant rate limits, monthly consultation quotas and the answer cache, in Redis.

* Rate limit: a fixed one-minute window per tenant (``INCR`` + ``EXPIRE`` in
  one round trip); over the limit -> RateLimited with Retry-After = seconds
  left in the window.
* Quota: consultation answers per user per calendar month (UTC), by the
  tenant's plan tier (``-1`` = unlimited). Taken before the provider call,
  given back when no answer is stored (provider failure, invalid output).
* Cache: identical requests (same tenant, provider, model, purpose and the
  same rendered facts + data + message) are answered from Redis.
"""
from __future__ import annotations

import calendar
import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Optional

import redis

from careeros_services.ai_core.settings import Settings
from careeros_services.common import plans
from careeros_services.common.errors import RateLimited

_INCR_WITH_TTL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
return {n, ttl}
"""


def month(now: Optional[datetime] = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m")


def seconds_to_month_end(now: Optional[datetime] = None) -> int:
    now = now or datetime.now(timezone.utc)
    days = calendar.monthrange(now.year, now.month)[1]
    end = now.replace(day=days, hour=23, minute=59, second=59, microsecond=0)
    return max(1, int((end - now).total_seconds()) + 1)


class Limits:
    """Rate limits, quotas and cache of one ai_core process."""

    def __init__(self, client: redis.Redis, prefix: str, *, tenant_per_minute: int,
                 quotas: dict, cache_ttl_s: int):
        self.redis = client
        self.prefix = prefix
        self.tenant_per_minute = int(tenant_per_minute)
        self.quotas = {str(k): int(v) for k, v in (quotas or {}).items()}
        self.cache_ttl_s = int(cache_ttl_s)
        self._incr = client.register_script(_INCR_WITH_TTL)

    @classmethod
    def from_config(cls, config: dict) -> "Limits":
        conf = Settings.from_config(config)
        return cls(redis.Redis.from_url(conf.redis_url or config["redis_url"]), conf.redis_prefix,
                   tenant_per_minute=conf.rate_limit_per_tenant_per_minute,
                   quotas=plans.ai_quotas(plans.from_config(config)), cache_ttl_s=conf.cache_ttl_s)

    # --- rate limit -----------------------------------------------------------------------------

    def check_rate(self, tenant_id: str) -> None:
        """Count one AI request for the tenant; RateLimited (Retry-After) past the per-minute limit."""
        if self.tenant_per_minute <= 0:
            return
        window = int(time.time() // 60)
        count, ttl = self._incr(keys=[f"{self.prefix}rate:{tenant_id}:{window}"], args=[61])
        if int(count) > self.tenant_per_minute:
            raise RateLimited("Too many AI requests for this organisation; slow down.",
                              code="ai_rate_limited", retry_after=max(1, int(ttl)))

    # --- monthly quota --------------------------------------------------------------------------

    def quota_for(self, plan_tier: str) -> int:
        return self.quotas.get(plan_tier or "free", self.quotas.get("free", 0))

    def _quota_key(self, tenant_id: str, user_id: str, period: str) -> str:
        return f"{self.prefix}quota:{tenant_id}:{user_id}:{period}"

    def take_quota(self, tenant_id: str, user_id: str, plan_tier: str) -> None:
        """Use one consultation answer of this month; RateLimited ``ai_quota_exceeded`` when none is left."""
        limit = self.quota_for(plan_tier)
        if limit < 0:
            return
        ttl = seconds_to_month_end() + 86400
        used, _ttl = self._incr(keys=[self._quota_key(tenant_id, user_id, month())], args=[ttl])
        if int(used) > limit:
            self.give_back_quota(tenant_id, user_id, plan_tier)
            raise RateLimited(f"The monthly AI consultation quota of the {plan_tier or 'free'} plan ({limit}) is used up.",
                              code="ai_quota_exceeded", retry_after=seconds_to_month_end())

    def give_back_quota(self, tenant_id: str, user_id: str, plan_tier: str) -> None:
        if self.quota_for(plan_tier) >= 0:
            self.redis.decr(self._quota_key(tenant_id, user_id, month()))

    def quota_used(self, tenant_id: str, user_id: str) -> int:
        return int(self.redis.get(self._quota_key(tenant_id, user_id, month())) or 0)

    # --- cache ----------------------------------------------------------------------------------

    def cache_key(self, tenant_id: str, *parts: object) -> str:
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
        return f"{self.prefix}cache:{tenant_id}:{digest}"

    def cached(self, key: str) -> Optional[dict]:
        raw = self.redis.get(key)
        return json.loads(raw) if raw else None

    def remember(self, key: str, value: dict) -> None:
        if self.cache_ttl_s > 0:
            self.redis.set(key, json.dumps(value), ex=self.cache_ttl_s)
