"""The lms service under nameko: RPC for ``nameko shell`` and the event consumer.

Entrypoints only; everything they do is in ``service.LmsService``.
"""
from nameko.rpc import rpc

from bus.nameko import ServiceApp, event_handler
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.errors import DomainError
from careeros_services.lms.service import Caller, LmsService, build


class LmsRpc:
    name = "lms"
    app = ServiceApp(build, configure_nameko_process)

    @rpc(expected_exceptions=DomainError)
    def search_courses(self, caller: dict, **query) -> dict:
        """Catalog search (see ``LmsService.search_courses``)."""
        return self.app.search_courses(Caller.of(**caller), **query)

    @rpc(expected_exceptions=DomainError)
    def get_course(self, caller: dict, course_id: str) -> dict:
        """One course with its structure."""
        return self.app.get_course(Caller.of(**caller), course_id)

    @rpc(expected_exceptions=DomainError)
    def list_enrollments(self, caller: dict) -> list:
        """The caller's enrolments with their current access."""
        return self.app.list_enrollments(Caller.of(**caller))

    @rpc(expected_exceptions=DomainError)
    def get_certificate(self, certificate_id: str) -> dict:
        """Public certificate facts."""
        return self.app.get_certificate(certificate_id)

    @event_handler(*LmsService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of domain events (tracker progress, user registrations)."""
        return self.app.handle_events(envelopes, headers)
