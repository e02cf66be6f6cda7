"""The analytics service under nameko: the event consumer and RPC for ``nameko shell``.

Entrypoints only; everything they do is in ``service.AnalyticsService``.
Run with ``nameko run careeros_services.analytics.entrypoints.nameko_service``.
"""
from nameko.rpc import rpc

from bus.nameko import ServiceApp, event_handler
from careeros_services.analytics.service import AnalyticsService, build
from careeros_services.common.caller import Caller
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.errors import DomainError


class AnalyticsRpc:
    name = "analytics"
    app = ServiceApp(build, configure_nameko_process)

    @rpc(expected_exceptions=DomainError)  # the caller's mistake: logged as a warning
    def overview(self, tenant_id: str, user_id: str, org_role: str, date_from: str = "",
                 date_to: str = "") -> dict:
        """The tenant's overview for the period (owners and admins only)."""
        return self.app.overview(Caller.of(tenant_id, user_id, org_role), date_from, date_to)

    @rpc(expected_exceptions=DomainError)
    def learner_report(self, tenant_id: str, user_id: str, org_role: str, date_from: str = "",
                       date_to: str = "", limit: int = 0, offset: int = 0) -> dict:
        """Per-learner rows (every learner for owners and admins, else the caller's own), paged."""
        return self.app.learner_report(Caller.of(tenant_id, user_id, org_role), date_from, date_to,
                                       limit, offset)

    # Only types whose contract exists: see AnalyticsService.subscribed_event_types.
    @event_handler(*AnalyticsService.subscribed_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of domain events to the read models."""
        return self.app.handle_events(envelopes, headers)
