"""A service's unit of work: one database transaction, its events and its inbox.

Everything a service changes happens inside ``store.transaction(...)``:

    with store.transaction(tenant_id) as tx:
        repo.save(...)                                       # state change
        tx.publish(PROFILE_PROFILE_UPDATED_V1,              # event (bus.contracts), same commit
                   aggregate_id=profile_id, payload={...})

The transaction sets ``careeros.tenant_id`` for PostgreSQL's row-level
security, writes published events to the ``outbox`` table (the relay sends
them to Kafka after commit) and, for consumers, claims the event in the
``inbox`` table so a redelivered event changes nothing.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Optional, Sequence

import peewee

from bus import contracts, correlation, ids
from bus.database import Migration, discover, make_database

BUS_MIGRATIONS_PACKAGE = "bus.migrations"


class Transaction:
    """The open unit of work handed to service-layer code."""

    def __init__(self, store: "ServiceStore", tenant_id: Optional[str], causation_id: Optional[str]):
        self.store = store
        self.tenant_id = tenant_id
        self.causation_id = causation_id
        self.published: list[dict] = []

    @property
    def db(self) -> peewee.Database:
        return self.store.database

    def scope_to(self, tenant_id: Optional[str]) -> None:
        """Switch the row-level-security tenant for the rest of this transaction.

        For flows that learn the tenant midway (login finds the user first).
        """
        self.tenant_id = tenant_id
        if hasattr(self.db, "scope_next"):
            self.db.scope_next(tenant_id)  # sent with the next statement: no round trip of its own
        else:
            self.db.execute_sql("SELECT careeros_scope(%s)", (tenant_id or "",))

    def publish(self, event_type: str, *, aggregate_id: str, payload: dict,
                tenant_id: Optional[str] = None) -> dict:
        """Validate an event and add it to the outbox in this transaction."""
        return self.publish_many([(event_type, aggregate_id, payload)], tenant_id=tenant_id)[0]

    def publish_many(self, events: list[tuple[str, str, dict]], *, tenant_id: Optional[str] = None) -> list[dict]:
        """Validate ``(event_type, aggregate_id, payload)`` events and add them to the outbox
        with ONE insert (bulk writers, e.g. statement ingestion, publish an event per row)."""
        envelopes, rows = [], []
        for event_type, aggregate_id, payload in events:
            envelope, row = self._outbox_row(event_type, aggregate_id, payload, tenant_id)
            rows += row
            envelopes.append(envelope)
        if envelopes:
            self.db.execute_sql(
                "INSERT INTO outbox (event_id, event_type, topic, key, envelope, headers) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(envelopes)), rows)
        self.published.extend(envelopes)
        return envelopes

    def defer_publish_if(self, write_sql: str, write_params: Sequence, event_type: str, *,
                         aggregate_id: str, payload: dict, tenant_id: Optional[str] = None) -> dict:
        """Defer a write and an event published only if the write changed a row: ONE statement,
        sent with the transaction's next statement or its commit (see :meth:`defer`).

        ``write_sql`` is an INSERT/UPDATE/DELETE with ``RETURNING`` (positional ``%s``
        parameters): e.g. ``INSERT ... ON CONFLICT DO NOTHING RETURNING 1`` publishes only when
        the row is new. The event is validated and built as :meth:`publish` builds it; returns
        its envelope. Whether it was published is known only at commit, so it is not added to
        :attr:`published`. Its error, if any, fails the transaction.
        """
        envelope, row = self._outbox_row(event_type, aggregate_id, payload, tenant_id)
        self.defer(f"WITH written AS ({write_sql}) " + _OUTBOX_IF_WRITTEN, [*write_params, *row],
                   prepare=True)
        return envelope

    def _outbox_row(self, event_type: str, aggregate_id: str, payload: dict,
                    tenant_id: Optional[str]) -> tuple[dict, list]:
        """A validated envelope and its outbox row's values (event_id, event_type, topic, key,
        envelope, headers)."""
        envelope = {
            "id": str(ids.uuid4()),  # (not uuid.uuid4: see bus.ids)
            "type": event_type,
            "version": int(event_type.rsplit(".v", 1)[1]),
            "occurred_at": datetime.now(timezone.utc).isoformat(),
            "producer": self.store.service,
            "tenant_id": tenant_id if tenant_id is not None else self.tenant_id,
            "correlation_id": correlation.get() or correlation.new_id(),
            "causation_id": self.causation_id,
            "aggregate_type": event_type.split(".")[2],
            "aggregate_id": str(aggregate_id),
            "payload": payload,
        }
        contracts.validate(envelope)
        headers = {"correlation_id": envelope["correlation_id"], "event_type": event_type,
                   "event_id": envelope["id"], **_trace_headers()}
        topic = contracts.topic_for(event_type, self.store.topic_prefix)
        return envelope, [envelope["id"], event_type, topic, envelope["aggregate_id"], json.dumps(envelope),
                          json.dumps(headers)]

    def defer(self, sql: str, params=None, *, prepare: bool = False) -> None:
        """Run a write whose result nobody reads with the transaction's next statement or its
        commit (one round trip for a batch of events' rows); its error fails the transaction.
        ``prepare``: a statement run per event, prepared once per connection (see
        ``TenantScopedDatabase.defer``)."""
        if hasattr(self.db, "defer"):
            self.db.defer(sql, params, prepare=prepare)
        else:
            self.db.execute_sql(sql, params)

    def claim(self, event_id: str, event_type: str, consumer: str, *, tenant_id: Optional[str] = None) -> bool:
        """Record an event as processed by ``consumer``; False if it already was.

        Also scopes the rest of the transaction to ``tenant_id`` (the event's),
        in the same round trip.
        """
        self.tenant_id = tenant_id
        cursor = self.db.execute_sql(
            "SELECT careeros_scope(%s);"
            " INSERT INTO inbox (consumer, event_id, event_type) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING 1", (tenant_id or "", consumer, event_id, event_type))
        return cursor.fetchone() is not None

    def claim_many(self, events: list[tuple[str, str]], consumer: str) -> set[str]:
        """Record ``(event_id, event_type)`` events as processed by ``consumer`` in ONE statement;
        returns the ids claimed now, canonically spelled (the others were processed before). A consumer's batch
        claims up front, then scopes each event's handler with :meth:`scope_to`."""
        if not events:
            return set()
        cursor = self.db.execute_sql(
            "INSERT INTO inbox (consumer, event_id, event_type) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(events)) + " ON CONFLICT DO NOTHING RETURNING event_id::text",
            [value for event_id, event_type in events for value in (consumer, event_id, event_type)])
        return {row[0] for row in cursor.fetchall()}  # canonical spelling: str(uuid.UUID(event_id))

    def release(self, event_id: str, consumer: str) -> None:
        """Forget ``consumer``'s inbox claim of an event, so a DLQ replay of it is applied again.

        For consumers that finish an event's work after its transaction (notifications sends mail
        later) and dead-letter it themselves when that work finally fails.
        """
        self.db.execute_sql("DELETE FROM inbox WHERE consumer = %s AND event_id = %s", (consumer, event_id))


# The outbox row of defer_publish_if, after its ``WITH written AS (<write>)``: inserted only when
# the write returned a row (a data-modifying CTE runs once, whether or not it is read).
_OUTBOX_IF_WRITTEN = ("INSERT INTO outbox (event_id, event_type, topic, key, envelope, headers)"
                      " SELECT %s::uuid, %s, %s, %s, %s::jsonb, %s::jsonb WHERE EXISTS (SELECT FROM written)")


def _trace_headers() -> dict[str, str]:
    try:
        from bus.tracing import inject_headers
    except ImportError:  # tracing is optional plumbing
        return {}
    return inject_headers()


class ServiceStore:
    """A service's database with its outbox and inbox."""

    def __init__(self, service: str, database: peewee.Database, topic_prefix: str = "careeros"):
        self.service = service
        self.database = database
        self.topic_prefix = topic_prefix

    @classmethod
    def from_config(cls, config: dict, service: str) -> "ServiceStore":
        return cls(service, make_database(config, service), str(config["kafka"]["topic_prefix"]))

    @contextmanager
    def transaction(self, tenant_id: Optional[str] = None, *,
                    causation_id: Optional[str] = None) -> Iterator[Transaction]:
        """Open a transaction scoped to ``tenant_id`` (None: no tenant rows visible)."""
        opened = self.database.is_closed()
        if opened:
            self.database.connect()
        try:
            tx = Transaction(self, tenant_id, causation_id)
            if hasattr(self.database, "begin_scoped"):
                self.database.begin_scoped(tenant_id)  # BEGIN sets the tenant in the same round trip
                with self.database.atomic():
                    yield tx
            else:
                with self.database.atomic():
                    tx.scope_to(tenant_id)
                    yield tx
        finally:
            if opened:
                # Return the connection to the pool: workers are short-lived
                # greenlets or threads and would otherwise leak it.
                self.database.close()

    def remembered(self, name: str) -> Optional[str]:
        """A value the bus keeps about the broker in this database (``relay_state``), or None."""
        with self.transaction() as tx:
            row = tx.db.execute_sql("SELECT value FROM relay_state WHERE name = %s", (name,)).fetchone()
        return row[0] if row else None

    def remember(self, name: str, value: str) -> None:
        with self.transaction() as tx:
            tx.db.execute_sql("INSERT INTO relay_state (name, value) VALUES (%s, %s) ON CONFLICT (name)"
                              " DO UPDATE SET value = EXCLUDED.value, changed_at = now()", (name, value))

    def close(self) -> None:
        if hasattr(self.database, "close_all"):
            self.database.close_all()


def migrations(service_package: str) -> list[Migration]:
    """The bus's own migrations followed by the service's."""
    return (discover(BUS_MIGRATIONS_PACKAGE, prefix="bus_")
            + discover(f"{service_package}.migrations", prefix="svc_"))
