"""Idempotent event handling for service layers, with no broker in sight.

A service layer marks methods with ``@handles(event_type)``; the bus calls
``service.handle_event(envelope)``, which runs the method inside one
transaction (tenant-scoped to the event) after claiming the event id in the
inbox. A redelivered event finds its claim and changes nothing; a handler that
raises rolls back the claim too, so a retry (or a DLQ replay) runs it again.

    class ProfileService(EventHandlingService):
        consumer_name = "profile"

        @handles("careeros.auth.user.registered.v1")
        def _on_user_registered(self, tx, envelope): ...
"""
from __future__ import annotations

from typing import Callable, ClassVar, Optional

from bus.store import ServiceStore
from careeros_services.common import correlation

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
        """Apply a validated event once. True: applied; False: a duplicate; None: not ours."""
        method_name = self.handler_table().get(envelope["type"])
        if method_name is None:
            return None
        with correlation.bound(envelope["correlation_id"]), \
                self.store.transaction(envelope["tenant_id"], causation_id=envelope["id"]) as tx:
            if not tx.claim(envelope["id"], envelope["type"], self.consumer_name):
                return False
            getattr(self, method_name)(tx, envelope)
        return True
