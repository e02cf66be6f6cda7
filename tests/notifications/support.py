"""Helpers of the notifications tests: people registered with the real auth service, the events
they cause, and the mail the sink kept."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

from bus import contracts
from careeros_services.notifications import sink

PASSWORD = "correct horse battery"


def outbox(store, event_type: str) -> list[dict]:
    with store.transaction(None) as tx:
        return [row[0] for row in tx.db.execute_sql(
            "SELECT envelope FROM outbox WHERE event_type = %s ORDER BY id", (event_type,)).fetchall()]


def mail_to(config: dict, address: str) -> list:
    return [m for _key, m in sink.messages(config) if address in (m["To"] or "")]


def register(auth, organization_name=None) -> tuple[str, dict]:
    email = f"n{uuid.uuid4().hex[:12]}@example.com"
    return email, auth.register(email, PASSWORD, "Ada Lovelace", organization_name)


def event_for(auth, event_type: str, user_or_invite_key: str, value: str) -> dict:
    [envelope] = [e for e in outbox(auth.store, event_type) if e["payload"][user_or_invite_key] == value]
    return contracts.validate(envelope)


def envelope(event_type: str, tenant_id: str, payload: dict, occurred_at: Optional[datetime] = None) -> dict:
    """A valid envelope of ``event_type`` as its producer would publish it."""
    return contracts.validate({
        "id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": (occurred_at or datetime.now(timezone.utc)).isoformat(), "producer": event_type.split(".")[1],
        "tenant_id": tenant_id, "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "aggregate_type": event_type.split(".")[2], "aggregate_id": str(uuid.uuid4()), "payload": payload})
