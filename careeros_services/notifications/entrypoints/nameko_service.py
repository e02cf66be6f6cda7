"""The notifications service under nameko: the event consumer, the delivery timer and RPC for
``nameko shell``.

Entrypoints only; everything they do is in ``service.NotificationsService``. The delivery timer
asks auth for each recipient's address over nameko RPC (events carry no contact data).
Run with ``nameko run careeros_services.notifications.entrypoints.nameko_service``.
"""
from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from bus.nameko import ServiceApp, event_handler
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError, NotFound
from careeros_services.notifications.service import NotificationsService, build

DELIVERY_INTERVAL_S = 0.5  # how long a queued message may wait for the timer when nothing else runs


class NotificationsRpc:
    name = "notifications"
    app = ServiceApp(build)
    auth = RpcProxy("auth")

    @event_handler(*NotificationsService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Queue the messages a batch of events causes (the bus calls this)."""
        return self.app.handle_events(envelopes, headers)

    @timer(interval=DELIVERY_INTERVAL_S)
    def deliver(self) -> dict:
        """Send what is due (one worker per container at a time; containers share via SKIP LOCKED)."""
        return self.app.deliver_due(self._contact)

    def _contact(self, tenant_id: str, user_id: str = "", invite_id: str = "") -> dict:
        try:
            return self.auth.contact(tenant_id, user_id, invite_id)
        except RemoteError as exc:
            if exc.exc_type == "NotFound":
                raise NotFound(str(exc.value), code="recipient_not_found") from None
            raise

    @rpc(expected_exceptions=DomainError)
    def list_messages(self, state: str = "", limit: int = 50) -> list:
        """Newest messages of every tenant (summaries), optionally of one state."""
        return self.app.list_messages(state, limit)

    @rpc
    def counts(self) -> dict:
        """Messages per state."""
        return self.app.counts()

    @rpc(expected_exceptions=DomainError)
    def get_preferences(self, tenant_id: str, user_id: str) -> dict:
        """Which optional messages the person gets."""
        return self.app.get_preferences(Caller.of(tenant_id, user_id))
