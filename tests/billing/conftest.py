"""Billing fixtures: a freshly migrated billing database and a service with a movable clock."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from careeros_services.billing import domain, persistence
from careeros_services.billing.payments import SandboxProvider
from careeros_services.billing.service import BillingService
from tests.billing.support import Bus

SANDBOX_SECRET = "whsec_test_sandbox"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(scope="session")
def billing_store(fresh_store):
    store = fresh_store("billing")
    persistence.bind(store.database)
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quiet_db(config, billing_store):
    """Retire earlier tests' live subscriptions and open sagas (the timer is global, tests are not)."""
    import psycopg2

    from careeros_services.common import db as dbmod
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "billing", admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE subscriptions SET status = 'canceled' WHERE status <> 'canceled';"
                        "UPDATE sagas SET status = 'compensated' WHERE status IN ('running', 'compensating')")
    finally:
        conn.close()


@pytest.fixture
def make_service(billing_store, clock, quiet_db):
    def make(**kwargs) -> BillingService:
        kwargs.setdefault("providers", {"sandbox": SandboxProvider(SANDBOX_SECRET)})
        return BillingService(billing_store, plans=domain.load_plans(), clock=clock, step_timeout_s=30, **kwargs)
    return make


@pytest.fixture
def service(make_service) -> BillingService:
    return make_service()


@pytest.fixture
def bus(service, billing_store) -> Bus:
    with billing_store.transaction(None) as tx:  # earlier tests' undelivered events are not ours
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    return Bus(service, billing_store)


@pytest.fixture
def tenant() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())
