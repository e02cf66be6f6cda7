"""Every registered service but auth takes part in export and erasure (a new service must too, or
auth's saga would wait for it forever), and its answers have contracts."""
import importlib
import inspect

import pytest

from bus import contracts, privacy
from bus.handlers import EventHandlingService
from careeros_services.auth.privacy import participants
from careeros_services.auth.service import AuthService


def _service_class(name: str) -> type:
    module = importlib.import_module(f"careeros_services.{name}.service")
    [found] = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, EventHandlingService) and c.__module__ == module.__name__]
    return found


@pytest.mark.parametrize("name", participants())
def test_the_service_answers_both_requests_with_contracted_events(name):
    service = _service_class(name)
    assert issubclass(service, privacy.PersonalDataOwner), f"{name} must mix in bus.privacy.PersonalDataOwner"
    table = service.handler_table()
    assert table[privacy.ERASURE_REQUESTED] == "_privacy_erasure_requested"
    assert table[privacy.EXPORT_REQUESTED] == "_privacy_export_requested"
    assert service.personal_rows, f"{name} declares no personal rows"
    known = set(contracts.known_types())
    assert {privacy.erasure_confirmed_type(name), privacy.export_part_type(name)} <= known


def test_auth_waits_for_every_participant_and_no_other():
    answers = {t for t in AuthService.handled_event_types() if ".privacy." in t}
    assert answers == {t for s in participants() for t in (privacy.erasure_confirmed_type(s),
                                                           privacy.export_part_type(s))}
