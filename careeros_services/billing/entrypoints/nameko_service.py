"""The billing service under nameko: RPC for ``nameko shell``, the event consumer and the timer.

Entrypoints only; everything they do is in ``service.BillingService``.
Run with ``nameko run careeros_services.billing.entrypoints.nameko_service``.
"""
import copy
from datetime import datetime
from typing import Optional

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import Timer

from bus.nameko import ServiceApp, event_handler
from careeros_services.billing.service import BillingService, build
from careeros_services.billing.settings import Settings
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError, Forbidden, ValidationFailed


def moved_clock(config: dict, now_iso: str) -> Optional[datetime]:
    """The moment a ``tick(now_iso)`` call asks for, or None (the real clock) when it asks for none.

    Moving billing's clock is for tests and drills only: refused unless
    ``billing.allow_clock_override`` is on (off by default).
    """
    if not now_iso:
        return None
    if (config.get("billing") or {}).get("allow_clock_override") is not True:
        raise Forbidden("Moving the billing clock is disabled (billing.allow_clock_override).",
                        code="clock_override_disabled", fields={"now_iso": ["clock override is disabled"]})
    try:
        moment = datetime.fromisoformat(now_iso)
    except (TypeError, ValueError):
        raise ValidationFailed("Bad moment.", fields={"now_iso": ["must be an ISO 8601 date-time"]}) from None
    if moment.tzinfo is None:
        raise ValidationFailed("Bad moment.", fields={"now_iso": ["must carry a UTC offset"]})
    return moment


class ConfigTimer(Timer):
    """A nameko timer whose interval comes from ``billing.tick_interval_s`` in the config."""

    def start(self) -> None:
        self.interval = Settings.from_config(self.container.config).tick_interval_s or self.interval
        super().start()


class BillingRpc:
    name = "billing"
    app = ServiceApp(build, configure_nameko_process)
    config = Config()

    @rpc(expected_exceptions=DomainError)
    def get_subscription(self, tenant_id: str, user_id: str) -> dict:
        """The tenant's subscription and current entitlements."""
        return self.app.get_subscription(Caller.of(tenant_id, user_id))

    @rpc(expected_exceptions=DomainError)
    def list_invoices(self, tenant_id: str, user_id: str, org_role: str = "owner") -> list:
        """The tenant's invoices, newest first."""
        return self.app.list_invoices(Caller.of(tenant_id, user_id, org_role))

    @rpc(expected_exceptions=DomainError)
    def tick(self, now_iso: str = "") -> dict:
        """Run the billing clock now (renewals, dunning, stuck sagas) — what the timer does.

        ``now_iso`` runs it as if it were that moment (tests, drills; needs ``billing.allow_clock_override``).
        """
        moment = moved_clock(self.config, now_iso)
        if moment is None:
            return self.app.tick()
        # tick(now) alone would stamp charges and dunning with the real clock: run it on a copy of
        # the service with its clock pinned to the moment (the shared instance keeps the real one).
        pinned = copy.copy(self.app)
        pinned.clock = lambda: moment
        return pinned.tick(moment)

    @ConfigTimer.decorator(interval=30)
    def on_timer(self) -> None:
        """Renewals, dunning retries, trial ends and the saga recovery sweep."""
        self.app.tick()

    @event_handler(*BillingService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of events: the saga's own steps, auth's plan_changed, ai_core usage."""
        return self.app.handle_events(envelopes, headers)
