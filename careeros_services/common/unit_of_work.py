"""Units of work: one transaction of a service and the repositories it owns.

Cosmicpython's ``unit_of_work.py`` is the model. A service declares its
repositories once, on a subclass, and its service layer never builds one::

    class BillingUnitOfWork(UnitOfWork):
        repositories = {"billing": BillingRepository}
        billing: BillingRepository

    with self.unit_of_work(tenant_id) as uow:      # a ServiceWithUnitOfWork method
        sub = uow.billing.subscription(tenant_id, sub_id)
        uow.publish(SUBSCRIPTION_CANCELED, ...)     # the outbox, in the same transaction

A unit of work commits when its block ends and rolls back on an exception
(``ServiceStore.transaction`` does that); everything else a transaction does
(``publish``, ``scope_to``, ``db``, ``tenant_id``...) is reached through it.
An event handler is given the bus's transaction and wraps it with
:meth:`ServiceWithUnitOfWork.unit_of_work_in`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, ClassVar, Generic, Iterator, Mapping, Optional, TypeVar

from bus.store import ServiceStore, Transaction


class UnitOfWork:
    """A transaction with the service's repositories as attributes (built once per unit of work)."""

    repositories: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    def __init__(self, tx: Transaction):
        self.tx = tx
        for name, repository in self.repositories.items():
            setattr(self, name, repository(tx.db))

    @classmethod
    def of(cls, tx: Any) -> "UnitOfWork":
        """``tx`` as this unit of work (the same object when it is one already)."""
        return tx if isinstance(tx, cls) else cls(tx)

    def __getattr__(self, name: str) -> Any:
        # Only reached for what the unit of work does not define: the transaction's own API.
        if name == "tx":
            raise AttributeError(name)
        return getattr(self.tx, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "causation_id":  # the bus sets it on the transaction; so may a handler
            setattr(self.tx, name, value)
        else:
            super().__setattr__(name, value)


U = TypeVar("U", bound=UnitOfWork)


class ServiceWithUnitOfWork(Generic[U]):
    """A service layer that opens units of work of ``unit_of_work_class`` on its ``store``."""

    unit_of_work_class: ClassVar[type] = UnitOfWork
    store: ServiceStore

    @contextmanager
    def unit_of_work(self, tenant_id: Optional[str] = None, *,
                     causation_id: Optional[str] = None) -> Iterator[U]:
        """A new transaction scoped to ``tenant_id`` (None: no tenant rows visible), as a unit of work."""
        with self.store.transaction(tenant_id, causation_id=causation_id) as tx:
            yield self.unit_of_work_class(tx)

    def unit_of_work_in(self, tx: Transaction) -> U:
        """The unit of work of a transaction opened elsewhere (an event handler's, the bus's)."""
        return self.unit_of_work_class.of(tx)
