"""The roadmap service under nameko: RPC for ``nameko shell`` and the event consumer.

Entrypoints only; everything they do is in ``service.RoadmapService``. This
process runs under eventlet, where grpcio must not be called: its event
handlers only *record* regeneration sagas, which the gRPC process runs.
Run with ``nameko run careeros_services.roadmap.entrypoints.nameko_service``.
"""
from nameko.rpc import rpc

from bus.nameko import ServiceApp, event_handler
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError
from careeros_services.roadmap.service import RoadmapService, build


class RoadmapRpc:
    name = "roadmap"
    app = ServiceApp(build, configure_nameko_process)  # no proposer: this process never calls ai_core

    @rpc(expected_exceptions=DomainError)
    def get_current_roadmap(self, tenant_id: str, user_id: str) -> dict:
        """The learner's roadmap at its active version, with progress."""
        return self.app.get_current_roadmap(Caller.of(tenant_id, user_id))

    @rpc(expected_exceptions=DomainError)
    def list_versions(self, tenant_id: str, user_id: str, roadmap_id: str) -> dict:
        """Every version of the learner's roadmap."""
        return self.app.list_versions(Caller.of(tenant_id, user_id), roadmap_id)

    @rpc(expected_exceptions=DomainError)
    def sagas(self, tenant_id: str, roadmap_id: str) -> list:
        """The regeneration sagas of a roadmap with their state and error (operators)."""
        return self.app.sagas(tenant_id, roadmap_id)

    @event_handler(*RoadmapService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of domain events (catalog, progress, profile changes)."""
        return self.app.handle_events(envelopes, headers)
