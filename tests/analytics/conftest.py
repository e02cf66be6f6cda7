"""The gateway test fixtures (signing key, tokens, per-test config and Redis), shared rather than copied."""
from tests.gateway.conftest import gw_config, jwks, make_token, redis_client, signing_key  # noqa: F401
