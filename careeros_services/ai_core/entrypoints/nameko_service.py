"""The ai_core service under nameko: RPC for ``nameko shell`` and the event consumer.

Entrypoints only; everything they do is in ``service.AiCoreService``. The
consumer keeps the read models (learner profiles from profile events, courses
from lms events). Run with ``nameko run careeros_services.ai_core.entrypoints.nameko_service``.
"""
from nameko.rpc import rpc

from bus.nameko import ServiceApp, event_handler
from careeros_services.ai_core.service import AiCoreService, Caller, build
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.errors import DomainError


class AiCoreRpc:
    name = "ai_core"
    app = ServiceApp(build, configure_nameko_process)

    @rpc(expected_exceptions=DomainError)  # the caller's mistake: logged as a warning
    def open_consultation(self, tenant_id: str, user_id: str, question: str, target_role: str = "",
                          plan_tier: str = "free") -> dict:
        """Open a consultation for a learner (engineers' shell; the API goes through gRPC)."""
        return self.app.open_consultation(Caller.of(tenant_id, user_id, "member", plan_tier), question, target_role)

    @rpc(expected_exceptions=DomainError)
    def get_consultation(self, tenant_id: str, user_id: str, consultation_id: str) -> dict:
        """A learner's consultation with every message."""
        return self.app.get_consultation(Caller.of(tenant_id, user_id), consultation_id)

    @rpc(expected_exceptions=DomainError)
    def propose_roadmap(self, tenant_id: str, user_id: str, target_role: str, known_skills: list) -> dict:
        """Milestones for a target role given ``[[name, level], ...]`` known skills."""
        return self.app.propose_roadmap(Caller.of(tenant_id, user_id), target_role,
                                        [(name, int(level)) for name, level in known_skills])

    @rpc
    def list_roles(self, track: str = "") -> list:
        """The knowledge base's roles."""
        return self.app.list_roles(track)

    @event_handler(*AiCoreService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of domain events (profile and lms read models)."""
        return self.app.handle_events(envelopes, headers)
