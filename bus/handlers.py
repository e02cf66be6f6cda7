"""Idempotent event handling for service layers, with no broker in sight.

A service layer marks methods with ``@handles(event_type)``; the bus calls
``service.handle_events(envelopes)`` (or ``handle_event`` for one), which runs
each method in a tenant-scoped savepoint of one transaction after claiming the
event id in the inbox. A redelivered event finds its claim and changes nothing; a handler that
raises rolls back the claim too, so a retry (or a DLQ replay) runs it again.

    class ProfileService(EventHandlingService):
        consumer_name = "profile"

        @handles(AUTH_USER_REGISTERED_V1)   # from bus.contracts: one constant per contract
        def _on_user_registered(self, tx, envelope): ...
"""
from __future__ import annotations

import uuid
from typing import Any, Callable, ClassVar, Optional, Union

from bus.store import ServiceStore, Transaction
from bus import correlation, tracing

HANDLES_ATTR = "__careeros_handles__"


def check_tenant(envelope: dict) -> None:
    """Refuse an event whose payload names another tenant than its envelope.

    The unit of work is scoped (RLS) by the envelope's tenant, so such a payload must never reach
    a handler, whatever the service: raising sends it to the DLQ after retries rather than filing
    it under the wrong tenant. The one check of this rule (analytics' fact writers rely on it).
    """
    if not _own_tenant(envelope):
        raise ValueError(f"{envelope['type']}: payload tenant differs from the envelope's")


def handles(*event_types: str) -> Callable:
    """Mark a service-layer method as the handler of these event types."""
    def mark(fn: Callable) -> Callable:
        setattr(fn, HANDLES_ATTR, event_types)
        return fn
    return mark


def by_learner(envelope: dict) -> tuple[str, str]:
    """A :attr:`EventHandlingService.lock_order` for handlers whose shared rows are a learner's."""
    return envelope.get("tenant_id") or "", str((envelope.get("payload") or {}).get("user_id") or "")


class EventHandlingService:
    """Mixin for service layers that consume events."""

    consumer_name: ClassVar[str]
    store: ServiceStore
    #: Sort key putting a batch's events in the order of the rows they lock; None keeps the
    #: partition's order. Partitions are handled concurrently, each batch in one transaction:
    #: when two batches (or a batch and a request) write the same rows, taking them in one global
    #: order makes them queue instead of deadlocking. The sort is stable, so events with equal
    #: keys (e.g. one learner's, with :func:`by_learner`) keep their order; set it only where
    #: handlers of events with different keys commute.
    lock_order: ClassVar[Optional[Callable[[dict], Any]]] = None

    @classmethod
    def handler_table(cls) -> dict[str, str]:
        table: dict[str, str] = {}
        for name in dir(cls):
            for event_type in getattr(getattr(cls, name, None), HANDLES_ATTR, ()):
                table[event_type] = name
        return table

    @classmethod
    def handled_event_types(cls) -> list[str]:
        return sorted(cls.handler_table())

    def handle_event(self, envelope: dict) -> Optional[bool]:
        """Apply a validated event once. True: applied; False: a duplicate; None: not ours.

        Raises what the handler raised (nothing of it is kept).
        """
        [result] = self.handle_events([envelope])
        if isinstance(result, Exception):
            raise result
        return result

    def handle_events(self, envelopes: list[dict],
                      headers: Optional[list[dict]] = None) -> list[Union[Optional[bool], Exception]]:
        """Apply a batch of events in one transaction; returns one result per event.

        One commit for the batch is what makes consumption fast. Optimistically
        the batch runs without savepoints (they cost two round trips an event);
        if a handler raises, the transaction is rolled back and the batch runs
        again with a savepoint per event, so the failing event's changes and
        inbox claim are undone alone and its exception is returned in its place
        for the caller to retry or dead-letter. ``headers`` (each event's Kafka
        headers) continue each event's trace. Events run in :attr:`lock_order`
        when the service sets one.
        """
        key = type(self).lock_order  # (from the class: a plain function, not a bound method)
        if key is None or len(envelopes) == 1:
            return self._run_ordered(envelopes, headers)
        order = sorted(range(len(envelopes)), key=lambda i: key(envelopes[i]))
        results = self._run_ordered([envelopes[i] for i in order], [headers[i] for i in order] if headers else None)
        in_place: list[Union[Optional[bool], Exception]] = [None] * len(envelopes)
        for position, index in enumerate(order):
            in_place[index] = results[position]  # results in the caller's order
        return in_place

    def _run_ordered(self, envelopes: list[dict],
                     headers: Optional[list[dict]]) -> list[Union[Optional[bool], Exception]]:
        try:
            return self._run_batch(envelopes, headers, savepoints=False)
        except Exception as exc:  # noqa: BLE001 - handed back, or isolated below
            if len(envelopes) == 1:
                return [exc]
        return self._run_batch(envelopes, headers, savepoints=True)

    def _run_batch(self, envelopes: list[dict], headers: Optional[list[dict]],
                   savepoints: bool) -> list[Union[Optional[bool], Exception]]:
        table = self.handler_table()
        results: list[Union[Optional[bool], Exception]] = []
        tracer = tracing.tracer("careeros.bus")
        with self.store.transaction() as tx:
            # Optimistic run: every event's inbox claim in ONE statement up front (a failure
            # anywhere rolls them all back and the batch re-runs below, claim by claim).
            claimed = None if savepoints else tx.claim_many(
                [(e["id"], e["type"]) for e in envelopes if e["type"] in table and _own_tenant(e)],
                self.consumer_name)
            for index, envelope in enumerate(envelopes):
                method_name = table.get(envelope["type"])
                if method_name is None:
                    results.append(None)
                    continue
                context = tracing.extract_context(headers[index]) if headers else None
                with correlation.bound(envelope["correlation_id"]), \
                        tracer.start_as_current_span(f"handle {envelope['type']}", context=context):
                    method = getattr(self, method_name)
                    if not savepoints:
                        results.append(self._apply(tx, envelope, method, claimed))
                        continue
                    try:
                        with tx.db.atomic():  # a savepoint inside the batch's transaction
                            outcome = self._apply(tx, envelope, method)
                    except Exception as exc:  # noqa: BLE001 - returned for retry/DLQ
                        outcome = exc  # (also a deferred write refused at the savepoint's release)
                    results.append(outcome)
        return results

    def _apply(self, tx: Transaction, envelope: dict, method: Callable, claimed: Optional[set] = None) -> bool:
        """Claim (unless ``claimed`` holds the batch's claims already) and apply one event."""
        check_tenant(envelope)
        tx.causation_id = envelope["id"]
        if claimed is None:
            if not tx.claim(envelope["id"], envelope["type"], self.consumer_name, tenant_id=envelope["tenant_id"]):
                return False
        elif str(uuid.UUID(envelope["id"])) in claimed:
            claimed.discard(str(uuid.UUID(envelope["id"])))  # a second copy in the same batch is a duplicate
            tx.scope_to(envelope["tenant_id"])  # sent with the handler's first statement
        else:
            return False
        method(tx, envelope)
        return True


def _own_tenant(envelope: dict) -> bool:
    """False when the payload names another tenant than the envelope (never handled)."""
    payload_tenant = envelope["payload"].get("tenant_id")
    return payload_tenant is None or payload_tenant == envelope["tenant_id"]
