"""The unit of work's round trips to PostgreSQL (common.db.TenantScopedDatabase): a read is one
statement carrying its tenant; anything that writes or locks still shares one transaction with
the outbox, under the tenant's row-level security."""
from __future__ import annotations

import uuid

import pytest

from careeros_services.common.caller import Caller
from careeros_services.profile.service import PROFILE_UPDATED, ProfileService
from tests.profile.support import outbox_rows, user_registered


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("profile")


@pytest.fixture
def sent(store, monkeypatch) -> list[str]:
    """Every statement string sent to PostgreSQL from this thread, in order."""
    statements: list[str] = []
    database = store.database
    real_cursor = type(database).cursor

    class Recording:
        def __init__(self, cursor):
            self._cursor = cursor

        def execute(self, sql, params=None):
            statements.append(sql)
            return self._cursor.execute(sql, params)

        def __getattr__(self, name):
            return getattr(self._cursor, name)

    monkeypatch.setattr(database, "cursor", lambda named_cursor=None: Recording(real_cursor(database)))
    return statements


def profile_of(service: ProfileService) -> dict:
    envelope = user_registered()
    assert service.handle_event(envelope) is True
    return envelope["payload"]


def test_a_read_is_one_round_trip_scoped_to_its_tenant(store, sent):
    service = ProfileService(store)
    learner = profile_of(service)
    sent.clear()
    assert service.get_profile(Caller(learner["tenant_id"], learner["user_id"]))["user_id"] == learner["user_id"]
    assert len(sent) == 1 and "careeros_scope" in sent[0]
    assert "BEGIN" not in sent[0] and "COMMIT" not in sent  # nothing left open to commit


def test_row_level_security_applies_to_a_one_round_trip_read(store):
    service = ProfileService(store)
    mine, other = profile_of(service), profile_of(service)
    with store.transaction(mine["tenant_id"]) as tx:
        seen = tx.db.execute_sql("SELECT tenant_id::text FROM profiles").fetchall()
        setting = tx.db.execute_sql("SELECT current_setting('careeros.tenant_id', true)").fetchone()[0]
    assert seen == [(mine["tenant_id"],)] and other["tenant_id"] != mine["tenant_id"]
    assert setting == mine["tenant_id"]
    with store.transaction(None) as tx:  # no tenant: no tenant rows
        assert tx.db.execute_sql("SELECT count(*) FROM profiles").fetchone() == (0,)


def test_a_write_and_its_event_share_one_transaction(store, sent):
    service = ProfileService(store)
    learner = profile_of(service)
    sent.clear()
    service.update_profile(Caller(learner["tenant_id"], learner["user_id"]), {"headline": "Round trips"})
    begun = [i for i, sql in enumerate(sent) if sql.startswith("BEGIN")]
    assert len(begun) == 1 and sent[-1] == "COMMIT"
    assert any("INSERT INTO outbox" in sql for sql in sent[begun[0]:])
    assert len(outbox_rows(store, PROFILE_UPDATED, learner["user_id"])) == 1


def test_a_failed_unit_of_work_keeps_none_of_its_writes(store):
    service = ProfileService(store)
    learner = profile_of(service)
    with pytest.raises(RuntimeError):
        with store.transaction(learner["tenant_id"]) as tx:
            tx.db.execute_sql("SELECT count(*) FROM profiles")  # a read first: no transaction yet
            tx.db.execute_sql("UPDATE profiles SET headline = 'lost' WHERE user_id = %s", (learner["user_id"],))
            tx.publish(PROFILE_UPDATED, aggregate_id=learner["user_id"], payload={
                "user_id": learner["user_id"], "tenant_id": learner["tenant_id"], "version": 2,
                "changed_fields": ["headline"], "changes": {"headline": "lost"}})
            raise RuntimeError("after the writes")
    assert service.get_profile(Caller(learner["tenant_id"], learner["user_id"]))["headline"] == ""
    assert outbox_rows(store, PROFILE_UPDATED, learner["user_id"]) == []


def test_locking_reads_raw_cursors_and_rescoping_run_inside_the_transaction(store, sent):
    service = ProfileService(store)
    learner = profile_of(service)
    tenant = learner["tenant_id"]
    sent.clear()
    with store.transaction(tenant) as tx:
        tx.db.execute_sql("SELECT headline FROM profiles WHERE user_id = %s FOR UPDATE", (learner["user_id"],))
    assert sent[0].startswith("BEGIN; SELECT careeros_scope(") and sent[-1] == "COMMIT"

    with store.transaction(tenant) as tx:
        cursor = tx.db.cursor()  # service code with its own cursor gets the transaction and tenant
        cursor.execute("SELECT current_setting('careeros.tenant_id'), now() = statement_timestamp()")
        assert cursor.fetchone() == (tenant, False)  # inside a transaction block begun earlier

    elsewhere = str(uuid.uuid4())
    with store.transaction(tenant) as tx:
        tx.db.execute_sql("SELECT pg_advisory_xact_lock(1)")  # a lock: the transaction opens
        tx.scope_to(elsewhere)
        assert tx.db.execute_sql("SELECT current_setting('careeros.tenant_id')").fetchone() == (elsewhere,)
        assert tx.db.execute_sql("SELECT count(*) FROM profiles").fetchone() == (0,)


def test_a_connection_back_from_a_recent_unit_of_work_is_reused_without_a_ping(store, monkeypatch):
    from bus import database as dbmod
    pings = []
    adapter = store.database._adapter
    real = adapter.is_connection_closed
    monkeypatch.setattr(adapter, "is_connection_closed", lambda conn: pings.append(conn) or real(conn))
    service = ProfileService(store)
    learner = profile_of(service)
    for _ in range(3):
        service.get_profile(Caller(learner["tenant_id"], learner["user_id"]))
    assert pings == []
    monkeypatch.setattr(dbmod, "PING_IDLE_S", -1.0)  # idle "for a while": checked before reuse
    service.get_profile(Caller(learner["tenant_id"], learner["user_id"]))
    assert len(pings) == 1
