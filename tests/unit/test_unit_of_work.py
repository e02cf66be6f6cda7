"""The shared unit of work and clock (careeros_services.common): no database needed to check the plumbing."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from careeros_services.common.clock import MovedClock, system_clock
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork, UnitOfWork


class FakeTransaction:
    def __init__(self, tenant_id):
        self.tenant_id, self.db, self.published, self.causation_id = tenant_id, object(), [], None

    def publish(self, event_type, **kwargs):
        self.published.append((event_type, kwargs))


class FakeStore:
    def __init__(self):
        self.opened = []

    @contextmanager
    def transaction(self, tenant_id=None, *, causation_id=None):
        tx = FakeTransaction(tenant_id)
        self.opened.append((tenant_id, causation_id))
        yield tx


class NotesRepository:
    def __init__(self, db):
        self.db = db


class NotesUnitOfWork(UnitOfWork):
    repositories = {"notes": NotesRepository}
    notes: NotesRepository


class NotesService(ServiceWithUnitOfWork[NotesUnitOfWork]):
    unit_of_work_class = NotesUnitOfWork

    def __init__(self, store):
        self.store = store


def test_a_unit_of_work_owns_its_repositories_on_the_transactions_connection():
    store = FakeStore()
    with NotesService(store).unit_of_work("t1", causation_id="c1") as uow:
        assert isinstance(uow, NotesUnitOfWork)
        assert uow.notes.db is uow.tx.db is uow.db
        assert uow.tenant_id == "t1"
        uow.publish("careeros.notes.note.added.v1", aggregate_id="n1", payload={})
        assert uow.tx.published == [("careeros.notes.note.added.v1", {"aggregate_id": "n1", "payload": {}})]
    assert store.opened == [("t1", "c1")]


def test_a_handlers_transaction_is_wrapped_once():
    service, tx = NotesService(FakeStore()), FakeTransaction("t2")
    uow = service.unit_of_work_in(tx)
    assert uow.tx is tx and service.unit_of_work_in(uow) is uow
    uow.causation_id = "event-1"  # set on the transaction the outbox reads it from
    assert tx.causation_id == "event-1"


def test_a_moved_clock_stands_still_until_moved():
    start = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    clock = MovedClock(start)
    assert clock() == clock() == start
    assert clock.advance(seconds=2.5) == start + timedelta(seconds=2.5) == clock()
    assert clock.timestamp() == (start + timedelta(seconds=2.5)).timestamp()
    assert system_clock().tzinfo is timezone.utc
