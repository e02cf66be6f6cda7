"""The ops scripts in scripts/ops/ are real `nameko shell` sessions: each is piped
into ``nameko shell --config config.yaml`` against a running platform (the one
tests/ops/test_observability_stack.py starts) and its JSON output is checked.
docs/ops.md shows the same commands."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2

from careeros_services.common import db as dbmod
from tests.ops.test_observability_stack import PASSWORD, register
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "ops"
NAMEKO = str(Path(sys.executable).parent / "nameko")


def run_shell(platform, script: str, timeout_s: float = 90, **env: str) -> subprocess.CompletedProcess:
    """``nameko shell --config config.yaml < scripts/ops/<script>`` against ``platform``."""
    with open(SCRIPTS / script) as stdin:
        return subprocess.run([NAMEKO, "shell", "--config", "config.yaml"], stdin=stdin, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, **platform.env, "PYTHONPATH": str(ROOT), **env})


def nameko_shell(platform, script: str, **env: str) -> list[dict]:
    """Run a session that must succeed; its JSON output lines.

    The console echoes its prompts (">>> ", "... ") on stdout before each result.
    """
    result = run_shell(platform, script, **env)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    lines = []
    for line in result.stdout.splitlines():
        while line.startswith((">>> ", "... ")):
            line = line[4:]
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def login(api, email: str) -> dict:
    """Bearer headers for a registered user."""
    response = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_ops_doc_shows_every_script_the_way_the_tests_run_it():
    text = (ROOT / "docs" / "ops.md").read_text()
    scripts = sorted(p.name for p in SCRIPTS.glob("*.py"))
    assert scripts, "no scripts"
    for name in scripts:
        command = f"nameko shell --config config.yaml < scripts/ops/{name}"
        assert command in text, f"docs/ops.md lacks {name}"
        assert (SCRIPTS / name).read_text().startswith("# nameko shell session:"), name


def test_look_up_a_user(ops_platform, ops_api):
    user = register(ops_api)
    bearer = login(ops_api, user["email"])
    eventually(lambda: ops_api.get("/profile", headers=bearer).status_code == 200, timeout_s=30, what="the profile")
    # e-mails are case-blind
    [found] = nameko_shell(ops_platform, "lookup_user.py", EMAIL=user["email"].upper())
    assert found["user"]["id"] == user["user_id"] and found["user"]["home_tenant_id"] == user["tenant_id"]
    assert found["profile"]["user_id"] == user["user_id"] and found["profile_error"] is None
    assert "password" not in json.dumps(found["user"])

    # an unknown e-mail stops the session with nameko's RemoteError
    result = run_shell(ops_platform, "lookup_user.py", EMAIL="nobody-here@example.com")
    assert result.returncode != 0 and "RemoteError: NotFound No user with this email" in result.stderr


def test_replay_a_dead_lettered_event_after_the_outage_is_fixed(ops_platform, ops_api,
                                                                 failing_profile_inserts):
    # An outage of profile's table: the registration event fails every retry and is dead-lettered.
    user = register(ops_api)
    dlq_topic = f"{ops_platform.env['KAFKA_TOPIC_PREFIX']}.auth.user.dlq"

    def listed():
        [out] = nameko_shell(ops_platform, "replay_dlq.py", DRY_RUN="1", TOPIC=dlq_topic)
        refs = _refs_of_user(ops_platform, dlq_topic, user["user_id"])
        return next((e for e in out["pending"] if e["ref"] in refs), None)
    entry = eventually(listed, timeout_s=60, what="the event in the DLQ", every_s=1)
    assert entry["event_type"] == "careeros.auth.user.registered.v1"
    assert entry["consumer_group"].endswith(".profile")
    assert entry["original_topic"] == dlq_topic.removesuffix(".dlq")
    assert "outage while saving" in entry["exception"]
    [looked_up] = nameko_shell(ops_platform, "lookup_user.py", EMAIL=user["email"])
    assert looked_up["profile"] is None and looked_up["profile_error"].startswith("NotFound: ")

    # Fix the outage, replay from the shell: the profile appears, the DLQ is drained.
    _end_outage(ops_platform)
    lines = nameko_shell(ops_platform, "replay_dlq.py", TOPIC=dlq_topic)
    assert entry["ref"] in [e["ref"] for e in lines[0]["pending"]] and lines[-1]["replayed"] >= 1
    eventually(lambda: nameko_shell(ops_platform, "lookup_user.py", EMAIL=user["email"])[0]["profile"], timeout_s=30,
               what="the profile made by the replayed event")
    [after] = nameko_shell(ops_platform, "replay_dlq.py", DRY_RUN="1", TOPIC=dlq_topic)
    assert after["pending"] == []
    # Replaying again sends nothing.
    assert nameko_shell(ops_platform, "replay_dlq.py", TOPIC=dlq_topic)[-1]["replayed"] == 0


def _end_outage(platform) -> None:
    with psycopg2.connect(**dbmod.connect_kwargs(platform.config, "profile", admin=True)) as conn, \
            conn.cursor() as cur:
        cur.execute("DROP TRIGGER IF EXISTS ops_test_outage ON profiles")


def _refs_of_user(platform, dlq_topic: str, user_id: str) -> set[str]:
    """DLQ refs whose event is this user's registration (read with the bus's own reader)."""
    from bus.dlq import DeadLetters
    from careeros_services import supervisor

    dead = DeadLetters(supervisor.config_with(platform.env))
    return {e.ref for e in dead.read(dlq_topic) if json.loads(e.value)["payload"].get("user_id") == user_id}


def test_rebuild_analytics_from_kafka(ops_platform, ops_api):
    from careeros_services.analytics.persistence import TABLES

    owner = register(ops_api, organization_name="Ops Rebuild Org")
    bearer = login(ops_api, owner["email"])
    as_owner = {"TENANT_ID": owner["tenant_id"], "USER_ID": owner["user_id"]}

    def overview():
        response = ops_api.get("/analytics/overview", headers=bearer)
        assert response.status_code == 200, response.text
        return response.json()
    expected = {"careeros.auth.tenant.created.v1", "careeros.auth.user.registered.v1",
                "careeros.profile.profile.created.v1"}  # the org, its owner, the owner's profile
    eventually(lambda: {e["event_type"] for e in overview()["events"]} >= expected, timeout_s=30,
               what="the live read model")
    live = overview()
    # The read models are lost (a bad migration, a restored-from-nothing database).
    with psycopg2.connect(**dbmod.connect_kwargs(ops_platform.config, "analytics", admin=True)) as conn, \
            conn.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(TABLES)}")
    assert overview()["events"] == []

    [out] = nameko_shell(ops_platform, "rebuild_analytics.py", **as_owner)
    assert out["overview_before"]["events"] == []
    assert out["rebuild"]["events"] >= 2 and out["rebuild"]["topics"] >= 1
    assert out["overview_after"]["events"] == live["events"]
    assert overview() == live  # the gateway reads the rebuilt model: as it was


def test_rerun_a_stuck_billing_saga(ops_platform, ops_api):
    """auth fails to apply a new plan (an outage of its audit log): billing's activation saga
    waits for auth's answer past its step deadline; after the fix, the shell session re-drives it."""
    owner = register(ops_api, organization_name="Ops Saga Org")
    bearer = login(ops_api, owner["email"])
    as_owner = {"TENANT_ID": owner["tenant_id"], "USER_ID": owner["user_id"]}
    assert ops_api.get("/me", headers=bearer).json()["plan_tier"] == "free"
    auth_db = dbmod.connect_kwargs(ops_platform.config, "auth", admin=True)
    with psycopg2.connect(**auth_db) as conn, conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION ops_test_auth_outage() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN RAISE EXCEPTION 'audit log unavailable'; END$$;"
                    "CREATE TRIGGER ops_test_auth_outage BEFORE INSERT ON audit_log FOR EACH ROW "
                    "WHEN (NEW.action = 'billing.entitlement_changed') "
                    "EXECUTE FUNCTION ops_test_auth_outage();")
    try:
        trial = {"plan": "team", "seats": 3, "payment_method": "pm_card_visa", "trial_days": 14}
        response = ops_api.post("/billing/subscriptions", headers=bearer, json=trial)
        assert response.status_code == 201, response.text
        entitlement_topic = f"{ops_platform.env['KAFKA_TOPIC_PREFIX']}.billing.entitlement.dlq"
        eventually(lambda: _dead_letters_of_tenant(ops_platform, entitlement_topic, owner["tenant_id"]), timeout_s=60,
                   what="auth to dead-letter the entitlement", every_s=1)
    finally:
        with psycopg2.connect(**auth_db) as conn, conn.cursor() as cur:
            cur.execute("DROP TRIGGER IF EXISTS ops_test_auth_outage ON audit_log")
    assert ops_api.get("/me", headers=bearer).json()["plan_tier"] == "free"  # stuck: auth never applied it

    def redriven():
        [out] = nameko_shell(ops_platform, "rerun_sagas.py", **as_owner)
        return out if out["billing"]["sagas_redriven"] else None
    out = eventually(redriven, timeout_s=30, what="the saga to be past its step deadline", every_s=1)
    assert out["billing"]["sagas_compensated"] == 0
    assert out["subscription"]["plan"] == "team"  # billing granted it before waiting for auth
    # The re-sent entitlement reaches auth, which answers; the saga completes.
    eventually(lambda: ops_api.get("/me", headers=bearer).json()["plan_tier"] == "team", timeout_s=30,
               what="auth's plan tier")
    [after] = nameko_shell(ops_platform, "rerun_sagas.py", **as_owner)
    assert after["auth_plan_tier"] == "team" and after["subscription"]["seats"] == 3
    assert after["billing"]["sagas_redriven"] == 0  # nothing is stuck any more


def _dead_letters_of_tenant(platform, dlq_topic: str, tenant_id: str) -> list:
    from bus.dlq import DeadLetters
    from careeros_services import supervisor

    dead = DeadLetters(supervisor.config_with(platform.env))
    return [e for e in dead.read(dlq_topic) if json.loads(e.value)["tenant_id"] == tenant_id]
