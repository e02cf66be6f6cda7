"""Typed settings: defaults in one place, values converted, a bad key named at start-up."""
import copy

import pytest
import redis

from careeros_services.ai_core.limits import Limits
from careeros_services.common.config import load_config
from careeros_services.common.settings import GatewaySettings, SettingsError, gateway_settings, read
from gateway_flask.app import create_app


def test_the_shipped_config_reads_and_a_missing_key_takes_the_one_default():
    settings = gateway_settings(load_config())
    assert settings.jwks_cache_s == 300.0 and isinstance(settings.xapi_deadline_s, float)
    minimal = gateway_settings({"gateway": {"max_body_bytes": "2048", "idempotency_ttl_s": 60}})
    assert minimal.max_body_bytes == 2048  # "${ENV:default}" text becomes the field's type
    assert minimal.jwks_cache_s == GatewaySettings.jwks_cache_s and minimal.rate_limit == {}


@pytest.mark.parametrize("key, value, message", [
    ("jwks_cache_s", "soon", "gateway.jwks_cache_s: expected a number, got 'soon'"),
    ("max_body_bytes", 1.5, "gateway.max_body_bytes: expected a whole number"),
    ("rate_limit", "lots", "gateway.rate_limit: expected a mapping"),
    ("redis_prefix", {"a": 1}, "gateway.redis_prefix: expected text"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_its_key(key, value, message):
    config = {"gateway": {"max_body_bytes": 2048, "idempotency_ttl_s": 60, key: value}}
    with pytest.raises(SettingsError) as error:
        gateway_settings(config)
    assert message in str(error.value)


def test_a_required_key_that_is_missing_is_named():
    with pytest.raises(SettingsError, match=r"gateway\.idempotency_ttl_s: missing"):
        read(GatewaySettings, {"gateway": {"max_body_bytes": 1}}, "gateway")


def test_the_gateway_refuses_to_start_with_a_bad_setting():
    config = copy.deepcopy(load_config())
    config["gateway"]["jwks_cache_s"] = "five minutes"
    with pytest.raises(SettingsError, match="gateway.jwks_cache_s"):
        create_app(config, redis_client=redis.Redis.from_url(config["redis_url"]))


def test_ai_core_limits_read_their_settings_and_refuse_a_bad_one_by_name():
    config = copy.deepcopy(load_config())
    limits = Limits.from_config(config)
    assert limits.cache_ttl_s == int(config["ai_core"].get("cache_ttl_s", 86400))
    config["ai_core"]["cache_ttl_s"] = "a day"
    with pytest.raises(SettingsError, match="ai_core.cache_ttl_s: expected a number"):
        Limits.from_config(config)
