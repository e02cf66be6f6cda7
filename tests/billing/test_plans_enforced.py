"""Plans are the one source of limits: what billing advertises is what ai_core and auth enforce.

Both with the shipped catalogue (contracts/plans.yaml) and with a config override, which must move
the advertised and the enforced figure together. Enforcement is exercised, not just read: ai_core's
quota is used up on real Redis, auth's seat limit is read from a real organisation in PostgreSQL.
"""
from __future__ import annotations

import uuid

import pytest

from careeros_services.common.caller import Caller
from careeros_services.ai_core.limits import Limits
from careeros_services.auth.service import build as build_auth
from careeros_services.billing.service import build as build_billing
from careeros_services.common.errors import RateLimited

OVERRIDE = {"free": {"ai_quota": 2, "seats_included": 4}, "pro": {"ai_quota": 3}}


@pytest.fixture(scope="module")
def auth_store_ready(fresh_store):
    fresh_store("auth")


@pytest.mark.parametrize("overrides", [{}, OVERRIDE], ids=["catalogue", "config-override"])
def test_advertised_limits_equal_enforced_ones(config, billing_store, auth_store_ready, overrides):
    config = {**config, "billing": {**config["billing"], "plans": overrides},
              "ai_core": {**config["ai_core"], "redis_prefix": f"test.plans.{uuid.uuid4().hex[:8]}."}}
    advertised = {plan["code"]: plan for plan in build_billing(config).list_plans()}
    assert {code: plan["ai_quota"] for code, plan in advertised.items()} == {
        "free": 20, "pro": 300, "team": 500, **{code: v["ai_quota"] for code, v in overrides.items()}}
    assert f"ai_quota:{advertised['pro']['ai_quota']}" in advertised["pro"]["entitlements"]

    limits = Limits.from_config(config)
    for tier in ("free", "pro"):
        tenant_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
        for _ in range(advertised[tier]["ai_quota"]):
            limits.take_quota(tenant_id, user_id, tier)
        with pytest.raises(RateLimited):
            limits.take_quota(tenant_id, user_id, tier)
    assert limits.quota_for("team") == advertised["team"]["ai_quota"]

    auth = build_auth({**config, "auth": {**config["auth"], "redis_prefix": f"test.plans.{uuid.uuid4().hex[:8]}."}})
    try:
        owner = auth.register(f"owner-{uuid.uuid4().hex[:8]}@example.com", "a long passphrase 1", "Owner",
                              organization_name="Plans Ltd")
        org = auth.get_org(Caller(owner["tenant_id"], owner["user_id"]))
        assert (org["plan_tier"], org["seat_limit"]) == ("free", advertised["free"]["seats_included"])
    finally:
        auth.store.close()
