"""Helpers for the billing tests: an in-process bus over billing's outbox and a simulated auth.

``Bus.run()`` delivers billing's unsent outbox rows the way the relay and the
consumer would (billing's own saga events back to billing; entitlement.changed
to a stand-in for auth, which answers ``tenant.plan_changed`` with the saga id,
exactly as the orgs helper's auth handler is specified to in notes/events.md).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bus import contracts
from careeros_services.billing import service as billing

PLAN_CHANGED_SCHEMA = Path(contracts.CONTRACTS_DIR) / f"{billing.PLAN_CHANGED}.json"


def envelope(event_type: str, tenant_id: str, aggregate_id: str, payload: dict, producer: str) -> dict:
    env = {"id": str(uuid.uuid4()), "type": event_type, "version": 1,
           "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": producer, "tenant_id": tenant_id,
           "correlation_id": str(uuid.uuid4()), "causation_id": None,
           "aggregate_type": event_type.split(".")[2], "aggregate_id": aggregate_id, "payload": payload}
    if (Path(contracts.CONTRACTS_DIR) / f"{event_type}.json").exists():
        contracts.validate(env)  # the producer's contract, when its schema file is in the tree
    return env


def plan_changed(tenant_id: str, plan_tier: str, seats: int, saga_id: str) -> dict:
    return envelope(billing.PLAN_CHANGED, tenant_id, tenant_id,
                    {"tenant_id": tenant_id, "plan_tier": plan_tier, "seats": seats, "saga_id": saga_id}, "auth")


def outbox(store, event_type: str, tenant_id: str | None = None) -> list[dict]:
    with store.transaction(None) as tx:
        rows = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s ORDER BY id",
                                 (event_type,)).fetchall()
    envs = [r[0] if isinstance(r[0], dict) else json.loads(r[0]) for r in rows]
    return [e for e in envs if tenant_id is None or e["tenant_id"] == tenant_id]


class Bus:
    """Delivers billing's outbox in order; ``auth`` answers entitlement.changed unless told not to."""

    def __init__(self, service, store, auth_answers: bool = True):
        self.service, self.store = service, store
        self.auth_answers = auth_answers
        self.auth_plan: dict[str, str] = {}   # tenant -> plan_tier as the simulated auth holds it
        self.held: list[dict] = []            # entitlement.changed not answered yet

    def run(self, max_rounds: int = 50) -> int:
        delivered = 0
        for _ in range(max_rounds):
            with self.store.transaction(None) as tx:
                rows = tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL"
                                         " RETURNING id, envelope").fetchall()
            if not rows:
                return delivered
            for _, env in sorted(rows):
                env = env if isinstance(env, dict) else json.loads(env)
                contracts.validate(env)
                delivered += 1
                if env["type"] == billing.ENTITLEMENT_CHANGED:
                    if self.auth_answers:
                        self.answer(env)
                    else:
                        self.held.append(env)
                elif env["type"] in self.service.handler_table():
                    self.service.handle_event(env)
        raise AssertionError("the bus did not settle")

    def answer(self, env: dict, plan_tier: str | None = None) -> None:
        p = env["payload"]
        self.auth_plan[p["tenant_id"]] = plan_tier or p["plan"]
        self.service.handle_event(plan_changed(p["tenant_id"], plan_tier or p["plan"], p["seats"], p["saga_id"]))
