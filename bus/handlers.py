"""Idempotent event handling for service layers, with no broker in sight.

A service layer marks methods with ``@handles(event_type)``; the bus calls
``service.handle_events(envelopes)`` (or ``handle_event`` for one), which runs
each method in a tenant-scoped savepoint of one transaction after claiming the
event id in the inbox. A redelivered event finds its claim and changes nothing; a handler that
raises rolls back the claim too, so a retry (or a DLQ replay) runs it again.

    class ProfileService(EventHandlingService):
        consumer_name = "profile"

        @handles("careeros.auth.user.registered.v1")
        def _on_user_registered(self, tx, envelope): ...
"""
from __future__ import annotations

from typing import Callable, ClassVar, Optional, Union

from bus.store import ServiceStore, Transaction
from careeros_services.common import correlation, tracing

HANDLES_ATTR = "__careeros_handles__"


def handles(*event_types: str) -> Callable:
    """Mark a service-layer method as the handler of these event types."""
    def mark(fn: Callable) -> Callable:
        setattr(fn, HANDLES_ATTR, event_types)
        return fn
    return mark


class EventHandlingService:
    """Mixin for service layers that consume events."""

    consumer_name: ClassVar[str]
    store: ServiceStore

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
        """Apply a batch of events in one transaction, each inside its own savepoint.

        One commit for the batch is what makes consumption fast; the savepoint
        keeps a failing event from taking the others with it: its changes and
        its inbox claim are rolled back and its exception is returned in its
        place, for the caller to retry or dead-letter. ``headers`` (the Kafka
        headers of each event) continue each event's trace.
        """
        table = self.handler_table()
        results: list[Union[Optional[bool], Exception]] = []
        tracer = tracing.tracer("careeros.bus")
        with self.store.transaction() as tx:
            for index, envelope in enumerate(envelopes):
                method_name = table.get(envelope["type"])
                if method_name is None:
                    results.append(None)
                    continue
                context = tracing.extract_context(headers[index]) if headers else None
                with correlation.bound(envelope["correlation_id"]), \
                        tracer.start_as_current_span(f"handle {envelope['type']}", context=context):
                    results.append(self._apply(tx, envelope, getattr(self, method_name)))
        return results

    def _apply(self, tx: Transaction, envelope: dict, method: Callable) -> Union[bool, Exception]:
        tx.scope_to(envelope["tenant_id"])
        tx.causation_id = envelope["id"]
        try:
            with tx.db.atomic():  # a savepoint inside the batch's transaction
                if not tx.claim(envelope["id"], envelope["type"], self.consumer_name):
                    return False
                method(tx, envelope)
            return True
        except Exception as exc:  # noqa: BLE001 - returned to the consumer for retry/DLQ
            return exc
