"""Every service's typed settings (``careeros_services/<service>/settings.py``, the web client's
``web/settings.py``): they load from the shipped config.yaml, a bad value is refused naming its
key, and ``careeros run`` stops on one before starting any process."""
from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from careeros_services import registry
from careeros_services.ai_core.settings import OpenAISettings, RedactionSettings, Settings as AiCoreSettings
from careeros_services.auth.settings import PrivacySettings, Settings as AuthSettings
from careeros_services.billing.settings import Settings as BillingSettings
from careeros_services.common.config import ROOT, load_config
from careeros_services.lms.settings import Settings as LmsSettings
from careeros_services.notifications.settings import Settings as NotificationsSettings, SmtpSettings
from careeros_services.roadmap.settings import Settings as RoadmapSettings
from careeros_services.supervisor import check_settings
from web.settings import WebSettings

ALL_SERVICES = [spec.name for spec in registry.select("all")]


def test_every_service_reads_its_settings_from_the_shipped_config():
    config = load_config()
    check_settings(config, ALL_SERVICES)  # every section, as `careeros run` reads them
    auth = AuthSettings.from_config(config)
    assert (auth.access_ttl_s, auth.redis_prefix) == (config["auth"]["access_ttl_s"], config["auth"]["redis_prefix"])
    assert auth.seats_included and auth.password_resets_per_hour == AuthSettings.password_resets_per_hour
    assert PrivacySettings.from_config(config).export_ttl_s == config["privacy"]["export_ttl_s"]
    assert LmsSettings.from_config(config).max_upload_bytes == config["lms"]["max_upload_bytes"]
    assert NotificationsSettings.from_config(config).backoff_s == float(config["notifications"]["backoff_s"])
    smtp = SmtpSettings.from_config(config)
    assert (smtp.sender, smtp.starttls, smtp.mailbox_port) == (config["smtp"]["from"], False, 8025)
    assert RoadmapSettings.from_config(config).saga_lease_s == float(config["roadmap"]["saga_lease_s"])
    billing = BillingSettings.from_config(config)
    assert billing.dunning_retry_days == [1, 3, 5] and billing.failpoint_steps() == {}
    ai = AiCoreSettings.from_config(config)
    assert ai.max_cv_bytes == config["ai_core"]["max_cv_bytes"] and ai.prices == config["ai_core"]["prices"]
    assert OpenAISettings.from_section(ai.openai).timeout_s == 20.0
    assert RedactionSettings.from_section(ai.redaction).enabled is True
    assert WebSettings.from_section(config["web"]).session_ttl_s == config["web"]["session_ttl_s"]


def test_missing_sections_take_the_defaults_in_one_place():
    assert LmsSettings.from_config({}) == LmsSettings()
    assert RoadmapSettings.from_config({"roadmap": None}) == RoadmapSettings()
    assert BillingSettings(failpoints="charge, refund:crash").failpoint_steps() == {"charge": "fail", "refund": "crash"}
    assert WebSettings.from_section({"api_url": "http://x/api/v1", "api_timeout_s": ""}).api_timeout_s == 15.0


@pytest.mark.parametrize("path, value, message", [
    ("auth.access_ttl_s", "soon", "auth.access_ttl_s: expected a number, got 'soon'"),
    ("privacy.export_ttl_s", "a week", "privacy.export_ttl_s: expected a number"),
    ("lms.max_upload_bytes", 1.5, "lms.max_upload_bytes: expected a whole number"),
    ("notifications.batch_size", "many", "notifications.batch_size: expected a number"),
    ("smtp.port", "twenty-five", "smtp.port: expected a number"),
    ("smtp.starttls", "maybe", "smtp.starttls: expected true or false"),
    ("smtp.sink_http_port", "web", "smtp.sink_http_port: expected a port number"),
    ("roadmap.saga_lease_s", "a minute", "roadmap.saga_lease_s: expected a number"),
    ("billing.dunning_retry_days", "1,3,5", "billing.dunning_retry_days: expected a list"),
    ("ai_core.max_cv_bytes", "2MB", "ai_core.max_cv_bytes: expected a number"),
    ("ai_core.openai.timeout_s", "slow", "ai_core.openai.timeout_s: expected a number"),
    ("ai_core.redaction.emails", "sometimes", "ai_core.redaction.emails: expected true or false"),
    ("web.session_ttl_s", "a day", "web.session_ttl_s: expected a number"),
    ("gateway.jwks_cache_s", "soon", "gateway.jwks_cache_s: expected a number"),
])
def test_a_bad_value_in_any_section_is_refused_naming_its_key(path, value, message):
    config = copy.deepcopy(load_config())
    *parents, key = path.split(".")
    section = config
    for name in parents:
        section = section[name]
    section[key] = value
    with pytest.raises(ValueError) as error:
        check_settings(config, ALL_SERVICES)
    assert message in str(error.value)


def test_a_required_key_that_is_missing_is_named():
    config = copy.deepcopy(load_config())
    del config["notifications"]["signing_secret"]
    with pytest.raises(ValueError, match=r"notifications.signing_secret: missing"):
        check_settings(config, ALL_SERVICES)


def test_careeros_run_stops_on_a_bad_setting_before_starting_anything(tmp_path):
    config = copy.deepcopy(load_config())
    config["roadmap"]["saga_max_attempts"] = "three"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "careeros_services.cli", "--config", str(path), "run"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "careeros run: bad configuration: roadmap.saga_max_attempts: expected a number, got 'three'" in run.stderr
    assert "Traceback" not in run.stderr and "CareerOS is up" not in run.stdout
