"""A person's data across services: export (GDPR art. 15/20) and erasure (art. 17), once for all.

auth owns the requests and their saga (``careeros_services/auth/privacy.py``); every other service
takes part through :class:`PersonalDataOwner`, a mixin for its service layer that handles auth's two
request events and answers each with an event of its own topic:

* ``careeros.auth.user.export_requested.v1`` -> the service writes its part (one JSON document:
  every row it holds about the person, per tenant) to the privacy bucket and answers
  ``careeros.<svc>.privacy.export_part_ready.v1`` with the object's key;
* ``careeros.auth.user.erasure_requested.v1`` -> the service deletes (or irreversibly anonymises)
  the person's rows in each named tenant, drops its already-sent outbox rows that name them, and
  answers ``careeros.<svc>.privacy.erasure_confirmed.v1``.

A service declares what it holds in its persistence module as :data:`PersonalRows`, a tuple of
``(table, condition)`` pairs (``%(user)s`` is the person's id, ``%(tenant)s`` the tenant in scope:
name it, row-level security is the second lock), children before parents; it may
override :meth:`PersonalDataOwner.erase_extra` / :meth:`PersonalDataOwner.export_extra` for what a
row list cannot say (objects in storage, anonymised invoices). Both answers are idempotent: a
re-sent request (auth's recovery sweep) rewrites the same object and deletes nothing twice.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar, Optional

from psycopg2 import sql

from bus.contracts import AUTH_USER_ERASURE_REQUESTED_V1 as ERASURE_REQUESTED
from bus.contracts import AUTH_USER_EXPORT_READY_V1 as EXPORT_READY
from bus.contracts import AUTH_USER_EXPORT_REQUESTED_V1 as EXPORT_REQUESTED
from bus.handlers import handles
from bus.store import Transaction

REQUEST_TYPES = (ERASURE_REQUESTED, EXPORT_REQUESTED)
SCOPE_ACCOUNT = "account"            # the whole account: every tenant, and the login
SCOPE_ORGANIZATION = "organization"  # one organisation's data about a member (its owner asks)

PersonalRows = tuple[tuple[str, str], ...]
ERASED_ID = "00000000-0000-0000-0000-000000000000"  # stands in for an erased person where a row stays


def is_personal_tenant(request: dict, tenant_id: str) -> bool:
    """The erased account's own personal tenant (its name is the person's)."""
    return request["scope"] == SCOPE_ACCOUNT and request.get("personal_tenant_id") == tenant_id


def execute(tx: Transaction, query: str, params: dict) -> int:
    """Run one statement on the unit of work; the number of rows it touched."""
    cursor = tx.db.cursor()
    cursor.execute(query, params)
    return cursor.rowcount


def erasure_confirmed_type(service: str) -> str:
    return f"careeros.{service}.privacy.erasure_confirmed.v1"


def export_part_type(service: str) -> str:
    return f"careeros.{service}.privacy.export_part_ready.v1"


def is_privacy_event(event_type: str) -> bool:
    """The request and answer events: they carry the person's id only, and are kept as proof."""
    return event_type in (*REQUEST_TYPES, EXPORT_READY) or ".privacy." in event_type


def export_prefix(request_id: str) -> str:
    return f"exports/{request_id}"


class PersonalDataRepository:
    """The declared personal rows of one service, on one unit of work's connection."""

    def __init__(self, db, rows: PersonalRows):
        self.db = db
        self.rows = rows

    def export(self, user_id: str, tenant_id: str) -> dict[str, list]:
        """Every declared table's rows about the person (as JSON objects), empty tables left out."""
        found: dict[str, list] = {}
        for table, condition in self.rows:
            query = sql.SQL("SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]'::jsonb) FROM {} t WHERE ").format(
                sql.Identifier(table)) + sql.SQL(condition)
            cursor = self.db.cursor()
            cursor.execute(query, {"user": user_id, "tenant": tenant_id})
            rows = cursor.fetchone()[0]
            if rows:
                found[table] = rows
        return found

    def erase(self, user_id: str, tenant_id: str) -> int:
        """Delete the person's rows from every declared table; the number deleted."""
        deleted = 0
        for table, condition in self.rows:
            query = sql.SQL("DELETE FROM {} t WHERE ").format(sql.Identifier(table)) + sql.SQL(condition)
            cursor = self.db.cursor()
            cursor.execute(query, {"user": user_id, "tenant": tenant_id})
            deleted += cursor.rowcount
        return deleted

    def purge_sent_outbox(self, user_id: str, tenant_id: Optional[str]) -> int:
        """Sent outbox rows naming the person (or, for an account, their personal tenant).

        They have left for Kafka already (the relay prunes them later anyway); the privacy events
        themselves stay as the record that the request was made and answered.
        """
        cursor = self.db.cursor()
        cursor.execute(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND NOT (event_type LIKE '%%.privacy.%%'"
            "   OR event_type = ANY(%(kept)s))"
            " AND (strpos(envelope::text, %(user)s) > 0 OR envelope->>'tenant_id' = %(tenant)s)",
            {"user": user_id, "tenant": tenant_id or "", "kept": list((*REQUEST_TYPES, EXPORT_READY))})
        return cursor.rowcount


class PersonalDataOwner:
    """Service-layer mixin: answer auth's export and erasure requests (see the module docstring).

    Set ``personal_rows`` on the class; ``store`` and ``consumer_name`` come from
    :class:`bus.handlers.EventHandlingService`.
    """

    personal_rows: ClassVar[PersonalRows] = ()
    exported_rows: ClassVar[Optional[PersonalRows]] = None  # None: the personal rows
    privacy_config: Optional[dict] = None  # None: the process's configuration

    def privacy_storage(self) -> Any:
        """The privacy bucket exports are written to (``put``, ``exists``, ``delete``).

        The platform's is ``careeros_services.common.privacy.PersonalDataOwner``'s: the bus
        knows no storage backend.
        """
        raise NotImplementedError(f"{type(self).__name__} names no privacy bucket")

    # Handler names sort after analytics' catch-all ``_on_event``, so these win the event type.
    @handles(EXPORT_REQUESTED)
    def _privacy_export_requested(self, tx: Transaction, envelope: dict) -> None:
        """Write this service's part of an export to the privacy bucket and answer with its key."""
        p = envelope["payload"]
        storage = self.privacy_storage()
        prefix = f"{export_prefix(p['request_id'])}/{self.store.service}"
        part: dict[str, Any] = {"service": self.store.service, "user_id": p["user_id"], "tenants": {}}
        rows = PersonalDataRepository(tx.db, self.exported_rows or self.personal_rows)
        files: list[str] = []
        for tenant_id in p["tenant_ids"]:
            tx.scope_to(tenant_id)
            held = rows.export(p["user_id"], tenant_id)
            files += self.export_extra(tx, p["user_id"], tenant_id, held, storage, prefix)
            if held:
                part["tenants"][tenant_id] = held
        tx.scope_to(envelope["tenant_id"])
        key = f"{prefix}.json"
        storage.put(key, json.dumps(part, indent=1, sort_keys=True, default=str).encode(), "application/json")
        tx.publish(export_part_type(self.store.service), aggregate_id=p["user_id"], payload={
            "request_id": p["request_id"], "user_id": p["user_id"], "service": self.store.service,
            "object_key": key, "files": files})

    @handles(ERASURE_REQUESTED)
    def _privacy_erasure_requested(self, tx: Transaction, envelope: dict) -> None:
        """Erase the person's rows in each named tenant, then confirm to auth's saga."""
        p = envelope["payload"]
        erased = 0
        for tenant_id in p["tenant_ids"]:
            tx.scope_to(tenant_id)
            erased += self.erase_extra(tx, p["user_id"], tenant_id, p)
            erased += PersonalDataRepository(tx.db, self.personal_rows).erase(p["user_id"], tenant_id)
        tx.scope_to(envelope["tenant_id"])
        personal = p.get("personal_tenant_id") if p["scope"] == SCOPE_ACCOUNT else None
        PersonalDataRepository(tx.db, ()).purge_sent_outbox(p["user_id"], personal)
        tx.publish(erasure_confirmed_type(self.store.service), aggregate_id=p["user_id"], payload={
            "request_id": p["request_id"], "user_id": p["user_id"], "service": self.store.service,
            "rows_erased": erased})

    def export_extra(self, tx: Transaction, user_id: str, tenant_id: str, held: dict,
                     storage, prefix: str) -> list[str]:
        """Add to ``held`` what the row list cannot say; returns keys of files copied under ``prefix``."""
        return []

    def erase_extra(self, tx: Transaction, user_id: str, tenant_id: str, request: dict) -> int:
        """Anonymise or delete what the row list cannot (runs before the declared deletes);
        ``request`` is the erasure event's payload (scope, personal tenant)."""
        return 0
