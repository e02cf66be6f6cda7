"""Batch handling: one transaction, a savepoint per event, the inbox per consumer."""
import copy
import uuid

import pytest

from bus.handlers import check_tenant
from bus.store import ServiceStore
from tests.bus.demo import EVENT, DemoService, payload


def envelopes(store: ServiceStore, names: list[str]) -> list[dict]:
    result = []
    for name in names:
        tenant = str(uuid.uuid4())
        with store.transaction(tenant) as tx:
            result.append(tx.publish(EVENT, aggregate_id=name, payload=payload(tenant, str(uuid.uuid4()), name)))
    return result


def test_a_failing_event_in_a_batch_rolls_back_alone_and_is_returned(fresh_store):
    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = DemoService(store)
    demo.failing_names = {"poison"}
    batch = envelopes(store, ["a", "poison", "b"])
    results = demo.handle_events(batch)
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], RuntimeError)
    applied = {row[0] for row in demo.effects()}
    assert batch[0]["id"] in applied and batch[2]["id"] in applied and batch[1]["id"] not in applied

    # The failed event's inbox claim was rolled back with it: once fixed, it applies.
    demo.failing_names.clear()
    assert demo.handle_events(batch) == [False, True, False]
    assert [row[0] for row in demo.effects()].count(batch[1]["id"]) == 1


def test_unknown_types_are_ignored_and_events_publish_with_their_cause(fresh_store):
    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = DemoService(store)
    [event] = envelopes(store, ["c"])
    other = copy.deepcopy(event)
    other["type"] = "careeros.profile.profile.created.v1"
    assert demo.handle_events([other]) == [None]
    assert demo.handle_event(event) is True
    assert demo.handle_event(event) is False


def test_a_payload_naming_another_tenant_than_its_envelope_never_reaches_a_handler(fresh_store):
    """Every service's unit of work is scoped by the envelope's tenant: the bus refuses the event
    (to retry and then the DLQ), the handler never runs, and its inbox claim stays free."""
    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = DemoService(store)
    [event] = envelopes(store, ["mismatch"])
    forged = copy.deepcopy(event)
    forged["payload"]["tenant_id"] = str(uuid.uuid4())
    [result] = demo.handle_events([forged])
    assert isinstance(result, ValueError) and "tenant" in str(result)
    assert event["id"] not in {row[0] for row in demo.effects()}
    assert demo.handle_event(event) is True  # the genuine event, same id, is applied


def test_the_tenant_rule_refuses_only_a_payload_naming_another_tenant():
    """The one check of the rule (analytics' fact writers rely on it too)."""
    def event(envelope_tenant, payload):
        return {"type": "t", "tenant_id": envelope_tenant, "payload": payload}
    check_tenant(event("a", {"tenant_id": "a"}))
    check_tenant(event("a", {"user_id": "u"}))  # a payload that names no tenant
    with pytest.raises(ValueError, match="tenant"):
        check_tenant(event("a", {"tenant_id": "b"}))
    with pytest.raises(ValueError, match="tenant"):
        check_tenant(event(None, {"tenant_id": "b"}))
