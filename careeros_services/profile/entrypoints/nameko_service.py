"""The profile service under nameko: RPC for ``nameko shell`` and the event consumer.

Entrypoints only; everything they do is in ``service.ProfileService``.
Run with ``nameko run careeros_services.profile.entrypoints.nameko_service``.
"""
from nameko.rpc import rpc

from bus.nameko import ServiceApp, event_handler
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError
from careeros_services.profile.service import ProfileService, build


class ProfileRpc:
    name = "profile"
    app = ServiceApp(build, configure_nameko_process)

    @rpc(expected_exceptions=DomainError)  # the caller's mistake: logged as a warning
    def get_profile(self, tenant_id: str, user_id: str) -> dict:
        """The caller's own profile (NotFound ``profile_not_found`` until it exists)."""
        return self.app.get_profile(Caller.of(tenant_id, user_id))

    @rpc(expected_exceptions=DomainError)  # the caller's mistake: logged as a warning
    def update_profile(self, tenant_id: str, user_id: str, patch: dict) -> dict:
        """Change the named fields of the caller's own profile; returns the new profile."""
        return self.app.update_profile(Caller.of(tenant_id, user_id), patch)

    @event_handler(*ProfileService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of domain events (the bus calls this for the events this service consumes)."""
        return self.app.handle_events(envelopes, headers)
