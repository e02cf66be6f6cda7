"""Billing benchmark: subscription activations end to end, saga included, beside a one-hop baseline.

    .venv/bin/python bench/billing_bench.py [N] [CONCURRENCY]

Starts its own platform (as `make run` does: every registered service, on free
ports, its own databases, topics and vhost). Then, with CONCURRENCY clients:

* baseline — N single event hops through the same pipeline the saga uses: a
  ``saga.advanced`` event (for a saga that does not exist, so the handler only
  claims it) committed to billing's outbox, until billing's consumer has
  recorded it in its inbox (outbox -> relay -> Kafka -> nameko consumer);
* activation — for each of those users ``POST /billing/subscriptions`` (pro,
  sandbox card) until its 201, which the gateway gives once auth has applied the
  plan (so the next request is served as pro; a refresh then confirms the
  token's ``plan_tier``, untimed). In between runs the
  whole saga: activate_subscription -> grant_entitlements (entitlement.changed
  to auth) -> auth sets the tier and answers plan_changed -> billing advances ->
  notify; five event hops through the outbox, relay, Kafka and the consumers.

Prints activations/s (N / wall time from the first POST to the last plan_tier
seen), p50/p99 of POST -> 201 (plan in force), the same for the one-hop baseline
(both polled every 20 ms), and the ratios. Users are registered beforehand
(not timed). Everything shares this machine's 2 cores.
"""
from __future__ import annotations

import base64
import json
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bus.store import ServiceStore  # noqa: E402
from careeros_services.billing.service import SAGA_ADVANCED  # noqa: E402
from careeros_services import registry, supervisor  # noqa: E402
from careeros_services.common import db as dbmod, infra  # noqa: E402

POLL_S = 0.02
PASSWORD = "benchmark password"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def claims(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def wait_until(check, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(POLL_S)


def register(base: str) -> dict:
    """Register and log in (not timed)."""
    session = requests.Session()
    email = f"bill{uuid.uuid4().hex[:12]}@example.com"
    created = session.post(f"{base}/auth/register", json={"email": email, "password": PASSWORD,
                                                          "display_name": "Bench"}, timeout=30)
    assert created.status_code == 201, created.text
    pair = session.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30).json()
    return {"session": session, "pair": pair}


def one_hop(store) -> float:
    """Commit one event to billing's outbox; seconds until billing's consumer has claimed it."""
    tenant_id, saga_id = str(uuid.uuid4()), str(uuid.uuid4())
    with store.transaction(tenant_id) as tx:
        envelope = tx.publish(SAGA_ADVANCED, aggregate_id=saga_id, tenant_id=tenant_id, payload={
            "saga_id": saga_id, "tenant_id": tenant_id, "subscription_id": str(uuid.uuid4()),
            "step": "activate_subscription", "attempt": 0})
    started = time.perf_counter()

    def claimed():
        with store.transaction(None) as tx:
            return tx.db.execute_sql("SELECT 1 FROM inbox WHERE event_id = %s", (envelope["id"],)).fetchone()
    wait_until(claimed)
    return time.perf_counter() - started


def activate(base: str, user: dict) -> tuple[float, float]:
    """Subscribe: the gateway answers 201 once the plan is in force (auth applied it; the next request is
    served as pro). Timed from the POST to that answer; then a refresh confirms the token's tier (untimed)."""
    session, pair = user["session"], user["pair"]
    headers = {"Authorization": f"Bearer {pair['access_token']}", "Idempotency-Key": uuid.uuid4().hex}
    posted_at = time.perf_counter()
    created = session.post(f"{base}/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                           headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["latest_invoice"]["status"] == "paid"
    in_force_at = time.perf_counter()
    state = {"refresh": pair["refresh_token"]}

    def tier_is_pro():
        fresh = session.post(f"{base}/auth/refresh", json={"refresh_token": state["refresh"]}, timeout=30)
        assert fresh.status_code == 200, fresh.text
        state["refresh"] = fresh.json()["refresh_token"]
        return claims(fresh.json()["access_token"]).get("plan_tier") == "pro"

    wait_until(tier_is_pro)
    return in_force_at - posted_at, in_force_at


def main(n: int = 60, concurrency: int = 8) -> None:
    infra.ensure_servers()
    port = infra.free_port()
    broker = infra.start_embedded_broker(port)
    env = supervisor.isolated_env(f"127.0.0.1:{port}", "careeros_bench_bil_", "careeros_bench_bil",
                                  CAREEROS_RATE_LIMIT_IP="100000000", CAREEROS_RATE_LIMIT_TENANT="100000000",
                                  CAREEROS_GRPC_DEADLINE_S="30")  # password hashing under load
    supervisor.ensure_vhost("careeros_bench_bil")
    config = supervisor.config_with(env)
    for service in registry.SERVICES:
        dbmod.drop_database(config, service)
    platform = supervisor.Platform(config, log_dir=Path(tempfile.mkdtemp(prefix="careeros-bench-bil-")), env=env)
    try:
        platform.start()
        base = f"http://{config['gateway']['bind']}/api/v1"
        store = ServiceStore.from_config(config, "billing")
        one_hop(store)  # warm up: consumer groups joined, connections open
        with ThreadPoolExecutor(concurrency) as pool:
            users = list(pool.map(lambda _: register(base), range(n)))
            started = time.perf_counter()
            hop = list(pool.map(lambda _: one_hop(store), range(n)))
            baseline_wall = time.perf_counter() - started
        with ThreadPoolExecutor(concurrency) as pool:
            started = time.perf_counter()
            results = list(pool.map(lambda u: activate(base, u), users))
        latencies = [latency for latency, _ in results]
        wall = max(end for _, end in results) - started
        print(f"billing benchmark: N={n}, {concurrency} concurrent clients, all services on 2 shared cores")
        print(f"{'':44} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        print(f"{'baseline: one event hop (outbox -> inbox)':44} {n / baseline_wall:8.1f} "
              f"{statistics.median(hop) * 1000:8.0f} {pct(hop, 0.99) * 1000:8.0f}")
        print(f"{'activation: POST -> 201, plan in force':44} {n / wall:8.1f} "
              f"{statistics.median(latencies) * 1000:8.0f} {pct(latencies, 0.99) * 1000:8.0f}")
        print(f"ratio: p99 activation / p99 one hop = {pct(latencies, 0.99) / pct(hop, 0.99):.1f}x; "
              f"activations/s / single hops/s = {(n / wall) / (n / baseline_wall):.2f}")
    finally:
        if 'store' in locals():
            store.close()
        platform.stop()
        infra.stop_process(broker)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
