"""Tracker test fixtures: the gateway's token and Redis fixtures are reused, not copied."""
from tests.gateway.conftest import gw_config, jwks, make_token, redis_client, signing_key  # noqa: F401
