"""The notifications service under nameko: the event consumer, the delivery and digest timers and RPC for
``nameko shell``.

Entrypoints only; everything they do is in ``service.NotificationsService``. The delivery timer
asks auth for each recipient's address over nameko RPC (events carry no contact data).
Run with ``nameko run careeros_services.notifications.entrypoints.nameko_service``.
"""
from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from bus.nameko import ServiceApp, event_handler
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError, NotFound
from careeros_services.notifications.service import NotificationsService, build

DELIVERY_INTERVAL_S = 0.5  # how long a queued message may wait for the timer when nothing else runs
DIGEST_INTERVAL_S = 900  # a week's digests are queued within 15 minutes of Monday 00:00 UTC


class NotificationsRpc:
    name = "notifications"
    app = ServiceApp(build, configure_nameko_process)
    auth = RpcProxy("auth")

    @event_handler(*NotificationsService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Queue the messages a batch of events causes (the bus calls this)."""
        return self.app.handle_events(envelopes, headers)

    @timer(interval=DELIVERY_INTERVAL_S)
    def deliver(self) -> dict:
        """Send what is due (one worker per container at a time; containers share via SKIP LOCKED)."""
        return self.app.deliver_due(self._contact)

    @timer(interval=DIGEST_INTERVAL_S, eager=True)
    def queue_weekly_digests(self) -> int:
        """Queue last week's progress digests (once per person and week, whatever fires this)."""
        return self.app.queue_weekly_digests()

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
