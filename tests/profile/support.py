"""Helpers shared by the profile tests."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from bus import contracts


def user_registered(tenant_id: str | None = None, user_id: str | None = None,
                    display_name: str = "Ada Lovelace") -> dict:
    """A valid ``careeros.auth.user.registered.v1`` envelope, as auth would publish it."""
    tenant_id = tenant_id or str(uuid.uuid4())
    user_id = user_id or str(uuid.uuid4())
    return contracts.validate({
        "id": str(uuid.uuid4()),
        "type": "careeros.auth.user.registered.v1",
        "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "producer": "auth",
        "tenant_id": tenant_id,
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "aggregate_type": "user",
        "aggregate_id": user_id,
        "payload": {
            "user_id": user_id, "tenant_id": tenant_id, "tenant_kind": "personal", "org_role": "owner",
            "plan_tier": "free", "display_name": display_name,
            "registered_at": datetime.now(timezone.utc).isoformat(),
        },
    })


def outbox_rows(store, event_type: str, aggregate_id: str) -> list[dict]:
    """The envelopes of outbox rows for one aggregate and event type (the outbox is not tenant-scoped)."""
    with store.transaction(None) as tx:
        cursor = tx.db.execute_sql(
            "SELECT envelope FROM outbox WHERE event_type = %s AND key = %s ORDER BY id",
            (event_type, aggregate_id))
        return [row[0] for row in cursor.fetchall()]


def cv_confirmed(learner: dict, skills: list[tuple[str, int]], cv_id: str | None = None) -> dict:
    """A valid ``careeros.ai_core.cv.confirmed.v1`` envelope for a registered learner, as ai_core publishes it."""
    cv_id = cv_id or str(uuid.uuid4())
    return contracts.validate({
        "id": str(uuid.uuid4()),
        "type": "careeros.ai_core.cv.confirmed.v1",
        "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "producer": "ai_core",
        "tenant_id": learner["tenant_id"],
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "aggregate_type": "cv",
        "aggregate_id": learner["user_id"],
        "payload": {
            "cv_id": cv_id, "tenant_id": learner["tenant_id"], "user_id": learner["user_id"],
            "skills": [{"name": name, "level": level,
                        "esco_uri": f"http://data.europa.eu/esco/skill/{name.lower()}"}
                       for name, level in skills],
        },
    })
