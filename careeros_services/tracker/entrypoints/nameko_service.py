"""The tracker service under nameko: RPC for ``nameko shell`` and the event consumer.

Entrypoints only; everything they do is in ``service.TrackerService``.
Run with ``nameko run careeros_services.tracker.entrypoints.nameko_service``.
"""
from nameko.rpc import rpc

from bus.nameko import ServiceApp, event_handler
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError
from careeros_services.tracker.service import TrackerService, build


class TrackerRpc:
    name = "tracker"
    app = ServiceApp(build, configure_nameko_process)

    @rpc(expected_exceptions=DomainError)  # the caller's mistake: logged as a warning
    def record_statements(self, tenant_id: str, user_id: str, body) -> dict:
        """Store a learner's statements (one object or a list), as POST /tracking/statements does."""
        return self.app.record_statements(Caller.of(tenant_id, user_id), body)

    @rpc(expected_exceptions=DomainError)
    def get_progress(self, tenant_id: str, user_id: str, org_role: str = "member", learner: str = "",
                     course_id: str = "") -> dict:
        """A learner's progress per course and lesson, streaks and weekly goal."""
        return self.app.get_progress(Caller.of(tenant_id, user_id, org_role), learner=learner,
                                     course_id=course_id)

    @rpc(expected_exceptions=DomainError)
    def list_statements(self, tenant_id: str, user_id: str, org_role: str = "member", **filters) -> dict:
        """Statements newest first (filters: learner, verb, activity, since, until, limit, cursor)."""
        return self.app.list_statements(Caller.of(tenant_id, user_id, org_role), **filters)

    @event_handler(*TrackerService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of domain events (lms activity and course structures)."""
        return self.app.handle_events(envelopes, headers)
