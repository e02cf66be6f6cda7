"""Fixtures for gateway tests: an RSA signing key, a token factory, per-test config and Redis."""
from __future__ import annotations

import copy
import time
import uuid
from typing import Any, Callable

import jwt
import pytest
import redis
from cryptography.hazmat.primitives.asymmetric import rsa

from careeros_services.common.config import load_config

RUN_ID = uuid.uuid4().hex[:10]


def _new_key() -> tuple[Any, dict]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, alg="RS256", use="sig")
    return private, jwk


@pytest.fixture(scope="session")
def signing_key() -> tuple[Any, dict]:
    return _new_key()


@pytest.fixture
def jwks(signing_key) -> dict:
    """The JWKS the app sees; tests may append keys (rotation) before the refetch."""
    return {"keys": [signing_key[1]]}


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(load_config()["redis_url"])  # the Redis the services use (REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def gw_config(redis_client) -> dict:
    """config.yaml with generous limits and Redis key prefixes unique to this test."""
    config = copy.deepcopy(load_config())
    prefix = f"test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    config["gateway"].update(
        max_body_bytes=2048, idempotency_ttl_s=120, redis_prefix=prefix + "gw:", jwks_min_refresh_s=0,
        rate_limit={"per_ip_per_minute": 100_000, "per_tenant_per_minute": 100_000})
    config["auth"]["revoked_jti_prefix"] = prefix + "revoked:"
    config["auth"]["not_before_prefix"] = prefix + "not-before:"
    yield config
    for key in redis_client.scan_iter(match=prefix + "*"):
        redis_client.delete(key)


@pytest.fixture
def make_token(gw_config, signing_key) -> Callable[..., str]:
    """Sign an access token; keyword args override or (with None) drop claims."""

    def make(*, key=None, kid=None, algorithm="RS256", **overrides) -> str:
        now = int(time.time())
        claims = {"sub": "user-1", "tenant_id": "tenant-1", "org_role": "member", "plan_tier": "free",
                  "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex,
                  "iss": gw_config["auth"]["issuer"], "aud": gw_config["auth"]["audience"]}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        private, jwk = signing_key
        return jwt.encode(claims, key or private, algorithm=algorithm, headers={"kid": kid or jwk["kid"]})

    return make
