"""The activation saga survives SIGKILL of the billing nameko process and of the outbox relay at
every step: real processes (``nameko run``, ``careeros relay``), real Kafka-compatible broker,
RabbitMQ and PostgreSQL.

For each step, billing runs with a failpoint that SIGKILLs its own nameko process in the middle of
that step's transaction; the relay is SIGKILLed at the same moment. Both restart without the
failpoint. A checker then looks at the final state: nobody paid without access, nobody has access
without paying, and auth's view (the tenant's plan_tier) agrees.

auth is the real one (its own nameko process, never killed here): it consumes entitlement.changed,
sets the tenant's plan_tier and answers tenant.plan_changed with the saga_id.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bus import kafka
from careeros_services import supervisor
from careeros_services.billing import service as billing
from careeros_services.billing.service import build
from careeros_services.common.caller import Caller
from careeros_services.common.config import ROOT
from careeros_services.common.infra import free_port
from tests.polling import eventually

VHOST = os.environ.get("CAREEROS_E2E_VHOST", "careeros_test") + "_billing"


class Processes:
    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, **extra_env: str) -> subprocess.Popen:
        commands = {
            "nameko": [str(Path(sys.executable).parent / "nameko"), "run", "--config", str(ROOT / "config.yaml"),
                       "careeros_services.billing.entrypoints.nameko_service"],
            "auth": [str(Path(sys.executable).parent / "nameko"), "run", "--config", str(ROOT / "config.yaml"),
                     "careeros_services.auth.entrypoints.nameko_service"],
            "relay": [sys.executable, "-m", "careeros_services.cli", "relay", "--services", "auth,billing"],
        }
        log = open(self.log_dir / f"{name}.log", "ab")
        env = {**os.environ, **self.env, "CAREEROS_METRICS_NAMEKO": str(free_port()), **extra_env,
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.children[name] = subprocess.Popen(commands[name], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                               env=env, start_new_session=True)
        return self.children[name]

    def kill(self, name: str) -> None:
        process = self.children.pop(name, None)
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)  # by its id: only what this test started
            process.wait(10)

    def stop_all(self) -> None:
        for name in list(self.children):
            self.kill(name)


def wait_for(predicate, timeout_s: float, what: str, processes: Processes | None = None):
    eventually(predicate, what=what, timeout_s=timeout_s, log_dir=processes.log_dir if processes else None)


def saga_state(store, tenant_id: str):
    with store.transaction(tenant_id) as tx:
        found = tx.db.execute_sql("SELECT status, step FROM sagas").fetchall()
    return found[0] if found else (None, None)


def check(store, plan_tier, tenants: list[str]) -> list[str]:
    """Every customer either paid and has access (billing and auth agree), or was refunded and has none."""
    problems = []
    for tenant_id in tenants:
        with store.transaction(tenant_id) as tx:
            paid = tx.db.execute_sql("SELECT count(*) FROM payments WHERE status = 'succeeded'").fetchone()[0]
            refunded = tx.db.execute_sql("SELECT count(*) FROM payments WHERE status = 'refunded'").fetchone()[0]
            status = tx.db.execute_sql("SELECT status FROM subscriptions").fetchone()[0]
            ent = tx.db.execute_sql("SELECT plan FROM entitlements").fetchone()
            saga = tx.db.execute_sql("SELECT status FROM sagas").fetchone()[0]
        billing_access = bool(ent) and ent[0] != "free"
        auth_access = plan_tier(tenant_id) != "free"
        if paid and not (billing_access and auth_access and status == "active"):
            problems.append(f"{tenant_id}: paid but access billing={billing_access} auth={auth_access} {status}")
        if (billing_access or auth_access or status == "active") and not paid:
            problems.append(f"{tenant_id}: access without paying (refunded={refunded}, {status})")
        if saga not in ("completed", "compensated"):
            problems.append(f"{tenant_id}: saga left {saga}")
    return problems


@pytest.fixture
def rig(config, kafka_broker, billing_store, fresh_store, quiet_db, tmp_path):
    supervisor.ensure_vhost(VHOST)
    kafka.ensure_topics(config, kafka.all_topics(config))
    env = {"AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{VHOST}", "CAREEROS_METRICS_RELAY": str(free_port()),
           "CAREEROS_BILLING_TICK_S": "1",
           # A killed consumer's partitions move on sooner (the restarted one waits for that).
           "KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500", "CAREEROS_BILLING_SAGA_STEP_TIMEOUT_S": "20"}
    fresh_store("auth")
    processes = Processes(env, tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()


def test_sigkill_of_nameko_and_relay_at_every_step_leaves_nobody_paid_without_access(config, billing_store, rig):
    from careeros_services.auth.service import build as build_auth
    processes = rig
    service, auth = build(config), build_auth(config)
    users: dict[str, str] = {}

    def plan_tier(tenant_id: str) -> str:
        return auth.get_me(Caller(tenant_id, users[tenant_id]))["plan_tier"]

    processes.start("auth")
    processes.start("relay")
    for step in billing.STEPS:
        registered = auth.register(f"fault-{uuid.uuid4().hex[:10]}@example.com", "correct horse battery", "Fault")
        tenant_id, user_id = registered["tenant_id"], registered["user_id"]
        users[tenant_id] = user_id
        nameko = processes.start("nameko", CAREEROS_BILLING_FAILPOINTS=f"{step}:crash")
        service.start_subscription(Caller(tenant_id, user_id, "owner"), "pro", "month", 1, "pm_card_visa")
        wait_for(lambda: nameko.poll() is not None, 90, f"the failpoint crash at {step}", processes)
        assert nameko.returncode == -signal.SIGKILL
        processes.kill("relay")                      # the relay dies at the same step
        processes.children.pop("nameko", None)
        # Killed inside that step's transaction: nothing of it committed, the saga is still at it.
        assert saga_state(billing_store, tenant_id) == ("running", step)
        processes.start("relay")
        processes.start("nameko")                    # restarted without the failpoint
        wait_for(lambda: saga_state(billing_store, tenant_id)[0] == "completed", 90,
                 f"the saga to resume after the crash at {step}", processes)
        processes.kill("nameko")
    assert all(plan_tier(t) == "pro" for t in users)
    assert check(billing_store, plan_tier, list(users)) == []
    for tenant_id in users:                         # each step ran once: one grant, one activation
        with billing_store.transaction(None) as tx:
            types = [r[0] for r in tx.db.execute_sql(
                "SELECT event_type FROM outbox WHERE envelope->>'tenant_id' = %s", (tenant_id,)).fetchall()]
        assert types.count(billing.ENTITLEMENT_CHANGED) == 1
        assert types.count(billing.SUBSCRIPTION_ACTIVATED) == 1
