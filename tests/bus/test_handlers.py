"""Batch handling: one transaction, a savepoint per event, the inbox per consumer."""
import copy
import uuid

import pytest

from bus import contracts
from bus.handlers import check_tenant, handles
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


def _by_name(envelope: dict) -> str:
    return envelope["payload"]["name"]


class OrderedDemo(DemoService):
    lock_order = _by_name


def test_a_service_with_a_lock_order_applies_a_batch_in_it_and_answers_in_the_callers_order(fresh_store):
    """Batches that write shared rows take them in one global order (no deadlock between two
    partitions' batches); the consumer still reads each result in its message's place."""
    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = OrderedDemo(store)
    demo.failing_names = {"poison"}
    batch = envelopes(store, ["c", "a", "poison", "b"])
    results = demo.handle_events(batch)
    assert results[:2] == [True, True] and isinstance(results[2], RuntimeError) and results[3] is True
    ids = {e["id"]: e["payload"]["name"] for e in batch}
    assert [ids[row[0]] for row in demo.effects() if row[0] in ids] == ["a", "b", "c"]


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


def test_a_batch_claims_its_inbox_rows_in_one_statement_and_scopes_each_handler(fresh_store, monkeypatch):
    """Exactly once with fewer round trips: one INSERT claims the batch, each handler's first
    statement carries its event's tenant; a copy in the same batch and a redelivery change nothing."""
    from bus.handlers import handles

    class TenantRecording(DemoService):
        seen: list = []

        @handles(EVENT)
        def _record(self, tx, envelope: dict) -> None:
            self.seen.append(tx.db.execute_sql("SELECT current_setting('careeros.tenant_id')").fetchone()[0])
            super()._record(tx, envelope)

    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = TenantRecording(store)
    first, second = envelopes(store, ["x", "y"])
    assert demo.handle_events([first]) == [True]
    upper = copy.deepcopy(second)
    upper["id"] = second["id"].upper()  # the same event id, spelled otherwise
    statements = []
    real = store.database.execute_sql
    monkeypatch.setattr(store.database, "execute_sql",
                        lambda sql, params=None: statements.append(sql) or real(sql, params))
    assert demo.handle_events([first, second, second, upper]) == [False, True, False, False]
    assert sum("INSERT INTO inbox" in sql for sql in statements) == 1
    assert [row[0] for row in demo.effects()].count(second["id"]) == 1
    assert demo.seen == [first["tenant_id"], second["tenant_id"]]  # each handler ran under its tenant


def test_a_deferred_write_that_fails_rolls_back_its_event_alone(fresh_store):
    """A write-only handler's rows go with the batch's COMMIT; one that PostgreSQL refuses fails the
    batch, which re-runs event by event: the bad event is returned, the others applied once."""
    from bus.handlers import handles

    class BadRows(DemoService):
        @handles(EVENT)
        def _record(self, tx, envelope: dict) -> None:
            if envelope["payload"]["name"] == "bad-row":
                tx.defer("INSERT INTO effects (tenant_id, event_id, aggregate_id) VALUES (%s, %s, NULL)",
                         (envelope["tenant_id"], envelope["id"]))
                return
            super()._record(tx, envelope)

    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = BadRows(store)
    batch = envelopes(store, ["fine-1", "bad-row", "fine-2"])
    results = demo.handle_events(batch)
    assert len(results) == 3 and results[0] is True and results[2] is True and "null value" in str(results[1])
    applied = [row[0] for row in demo.effects()]
    assert applied.count(batch[0]["id"]) == 1 and applied.count(batch[2]["id"]) == 1
    assert batch[1]["id"] not in applied
    again = demo.handle_events(batch)  # its claim was rolled back too: it runs (and fails) again
    assert again[0] is False and again[2] is False and isinstance(again[1], Exception)


class Echoing(DemoService):
    """Records each event (``name`` "bad-row": a row PostgreSQL refuses) and, only when its row
    was written, publishes a ``tenant.created`` echo: ``tx.defer_publish_if``. ``skip`` names
    events whose write matches no row (so nothing is published for them)."""

    skip: set = set()

    @handles(EVENT)
    def _record(self, tx, envelope: dict) -> None:
        name = envelope["payload"]["name"]
        tx.defer_publish_if(
            "INSERT INTO effects (tenant_id, event_id, aggregate_id) SELECT %s, %s, %s WHERE %s RETURNING 1",
            [envelope["tenant_id"], envelope["id"], None if name == "bad-row" else envelope["aggregate_id"],
             name not in self.skip],
            EVENT, aggregate_id=f"echo-{envelope['id']}",
            payload=payload(envelope["tenant_id"], str(uuid.uuid4()), f"echo-{name}"))


def echoes(store: ServiceStore, batch: list[dict]) -> dict[str, dict]:
    """The echo envelopes in the outbox, by the id of the event that caused them."""
    with store.transaction() as tx:
        rows = tx.db.execute_sql("SELECT envelope FROM outbox WHERE key LIKE 'echo-%%'").fetchall()
    ids = {e["id"] for e in batch}
    return {row[0]["causation_id"]: row[0] for row in rows if row[0]["causation_id"] in ids}


def test_a_deferred_conditional_publish_follows_its_write(fresh_store, monkeypatch):
    """One statement per event, no round trip: the event is in the outbox exactly when the write
    returned a row, built like ``publish`` (valid, its cause, its tenant, its headers)."""
    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = Echoing(store)
    monkeypatch.setattr(Echoing, "skip", {"skipped"})
    batch = envelopes(store, ["written", "skipped"])
    runs = []
    real_run = demo._run_batch
    monkeypatch.setattr(demo, "_run_batch", lambda *a, savepoints: runs.append(savepoints) or real_run(
        *a, savepoints=savepoints))
    assert demo.handle_events(batch) == [True, True]
    assert runs == [False]  # the optimistic batch committed; no per-event re-run
    echoed = echoes(store, batch)
    assert set(echoed) == {batch[0]["id"]}
    echo = contracts.validate(echoed[batch[0]["id"]])
    assert echo["tenant_id"] == batch[0]["tenant_id"] and echo["payload"]["name"] == "echo-written"
    with store.transaction() as tx:
        headers = tx.db.execute_sql("SELECT headers FROM outbox WHERE event_id = %s",
                                    (echo["id"],)).fetchone()[0]
    assert headers["event_id"] == echo["id"] and headers["correlation_id"] == echo["correlation_id"]

    store.close()  # new pooled connections: the statement is prepared again on each
    again = envelopes(store, ["written-2"])
    assert demo.handle_events(again) == [True] and set(echoes(store, again)) == {again[0]["id"]}


def test_a_deferred_conditional_publish_that_fails_rolls_back_its_event_alone(fresh_store, monkeypatch):
    """PostgreSQL refuses one event's write at the batch's COMMIT: the batch re-runs event by
    event; the bad event is returned, its write and its event undone, the others applied once."""
    store = fresh_store("busdemo", package="tests.bus.demo")
    demo = Echoing(store)
    monkeypatch.setattr(Echoing, "skip", set())
    batch = envelopes(store, ["fine-a", "bad-row", "fine-b"])
    results = demo.handle_events(batch)
    assert results[0] is True and results[2] is True and "null value" in str(results[1])
    applied = [row[0] for row in demo.effects()]
    assert applied.count(batch[0]["id"]) == applied.count(batch[2]["id"]) == 1
    assert batch[1]["id"] not in applied
    assert set(echoes(store, batch)) == {batch[0]["id"], batch[2]["id"]}
