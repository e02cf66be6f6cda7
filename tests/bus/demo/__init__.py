"""A minimal service used to test the bus: it publishes tenant-created events
and, as a consumer, records one effect row per event it applies."""
from __future__ import annotations

from bus.handlers import EventHandlingService, handles
from bus.store import ServiceStore

EVENT = "careeros.auth.tenant.created.v1"


def payload(tenant_id: str, owner: str, name: str = "demo") -> dict:
    return {"tenant_id": tenant_id, "name": name, "kind": "organization", "plan_tier": "free",
            "owner_user_id": owner}


class DemoService(EventHandlingService):
    consumer_name = "demo"

    def __init__(self, store: ServiceStore):
        self.store = store
        self.failing_names: set[str] = set()

    @handles(EVENT)
    def _record(self, tx, envelope: dict) -> None:
        if envelope["payload"]["name"] in self.failing_names:
            raise RuntimeError(f"demo handler refuses {envelope['payload']['name']}")
        # Deferred: sent with the next statement or the batch's COMMIT (a write-only handler).
        tx.defer("INSERT INTO effects (tenant_id, event_id, aggregate_id, occurred_at) VALUES (%s, %s, %s, %s)",
                 (envelope["tenant_id"], envelope["id"], envelope["aggregate_id"], envelope["occurred_at"]))

    def effects(self) -> list[tuple]:
        """(event_id, aggregate_id) rows across all tenants (admin view for the test)."""
        with self.store.transaction() as tx:
            return tx.db.execute_sql("SELECT event_id::text, aggregate_id FROM effects ORDER BY id").fetchall()
