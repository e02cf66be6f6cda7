"""The billing service under nameko: RPC for ``nameko shell``, the event consumer and the timer.

Entrypoints only; everything they do is in ``service.BillingService``.
Run with ``nameko run careeros_services.billing.entrypoints.nameko_service``.
"""
from nameko.rpc import rpc
from nameko.timer import Timer

from bus.nameko import ServiceApp, event_handler
from careeros_services.billing.service import BillingService, build
from careeros_services.common.errors import DomainError


class ConfigTimer(Timer):
    """A nameko timer whose interval comes from ``billing.tick_interval_s`` in the config."""

    def start(self) -> None:
        self.interval = float((self.container.config.get("billing") or {}).get("tick_interval_s") or self.interval)
        super().start()


class BillingRpc:
    name = "billing"
    app = ServiceApp(build)

    @rpc(expected_exceptions=DomainError)
    def get_subscription(self, tenant_id: str, user_id: str) -> dict:
        """The tenant's subscription and current entitlements."""
        return self.app.get_subscription(tenant_id, user_id)

    @rpc(expected_exceptions=DomainError)
    def list_invoices(self, tenant_id: str, user_id: str, org_role: str = "owner") -> list:
        """The tenant's invoices, newest first."""
        return self.app.list_invoices(tenant_id, user_id, org_role)

    @rpc
    def tick(self) -> dict:
        """Run the billing clock now (renewals, dunning, stuck sagas) — what the timer does."""
        return self.app.tick()

    @ConfigTimer.decorator(interval=30)
    def on_timer(self) -> None:
        """Renewals, dunning retries, trial ends and the saga recovery sweep."""
        self.app.tick()

    @event_handler(*BillingService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of events: the saga's own steps, auth's plan_changed, ai_core usage."""
        return self.app.handle_events(envelopes, headers)
