"""The verified caller a service acts for, as the gateway passes it (``common_pb2.Caller``)."""
from __future__ import annotations

from dataclasses import dataclass

from careeros_services.common.errors import require_uuids


@dataclass(frozen=True)
class Caller:
    """Who is asking: the token's subject, tenant, org role and plan tier."""

    tenant_id: str
    user_id: str
    org_role: str = "member"
    plan_tier: str = "free"

    @classmethod
    def of(cls, tenant_id: str, user_id: str, org_role: str = "member", plan_tier: str = "free") -> "Caller":
        """A caller from untrusted strings (ids checked: a malformed one is a 4xx, not a 500)."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        return cls(tenant_id, user_id, org_role or "member", plan_tier or "free")

    @classmethod
    def from_message(cls, caller) -> "Caller":
        """From a request's ``careeros.common.v1.Caller`` (what the gateway's token said)."""
        return cls.of(caller.tenant_id, caller.user_id, caller.org_role, caller.plan_tier)
