"""A service's connection to its own PostgreSQL database, and where its migrations are.

The bus's unit of work (:mod:`bus.store`) and relay (:mod:`bus.relay`) open these; the set-up
around them (creating databases, running migrations, row-level security) is in
``careeros_services/common/db.py``.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable

import peewee
import psycopg2
from psycopg2.extensions import parse_dsn
from playhouse.pool import PooledPostgresqlDatabase


def database_name(config: dict, service: str) -> str:
    return f"{config['postgres']['database_prefix']}{service}"


def connect_kwargs(config: dict, service: str | None, *, admin: bool = False) -> dict:
    """psycopg2 connection keywords for a service's database (or the server's)."""
    kwargs = parse_dsn(config["postgres"]["admin_dsn" if admin else "app_dsn"])
    kwargs["dbname"] = database_name(config, service) if service else kwargs.get("dbname", "postgres")
    return kwargs


# A statement that may run outside an explicit transaction block with the same effect as inside
# one at READ COMMITTED (each statement takes its own snapshot there anyway): a plain SELECT that
# takes no lock, sets nothing and writes nothing through a function.
_PLAIN_READ = re.compile(r"\s*SELECT\b", re.I)
_NOT_PLAIN = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY|SHARE|KEY\s+SHARE)\b|advisory|set_config|careeros_scope"
                        r"|nextval|setval|\bINTO\b|\bLOCK\b", re.I)


@functools.lru_cache(maxsize=2048)  # statements repeat by shape; the regexes were 3 % of a read's CPU
def is_plain_read(sql_text: str) -> bool:
    return bool(_PLAIN_READ.match(sql_text)) and not _NOT_PLAIN.search(sql_text)


PING_IDLE_S = 5.0  # a pooled connection idle longer is checked with a round trip before reuse


class TenantScopedDatabase(PooledPostgresqlDatabase):
    """A pooled database whose transactions carry their row-level-security tenant in the
    statements themselves, so a read is ONE round trip to PostgreSQL.

    ``begin_scoped(tenant_id)`` makes the next BEGIN lazy: nothing is sent until the first
    statement. A plain read (:func:`is_plain_read`) then goes as
    ``SELECT careeros_scope(t); <query>``: outside a transaction block, PostgreSQL runs the
    statements of one query string as one implicit transaction, so the tenant applies to that
    query alone and nothing is left to commit. The first other statement (a write, a lock, a
    savepoint) goes as ``BEGIN; SELECT careeros_scope(t); <statement>`` and the transaction
    commits or rolls back as usual. At READ COMMITTED a plain SELECT sees the same rows either
    way; everything that writes or locks still shares one transaction. ``scope_next(tenant)``
    re-scopes an open transaction by prefixing the tenant to its next statement (consumers
    switch tenant per event). A raw ``cursor()`` taken by service code opens the transaction
    first, the old way.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Statements deferred with ``prepare``: their names, and which connection prepared which.
        self._prepared_lock = threading.Lock()
        self._statement_names: dict[str, str] = {}
        self._prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _close(self, conn, close_conn=False):
        self._checked_in_at()[id(conn)] = time.monotonic()
        return super()._close(conn, close_conn)

    def _is_closed(self, conn) -> bool:
        # Peewee pings every pooled connection on check-out (SELECT 1, under the pool's lock):
        # a round trip per unit of work that also serialises the threads. Only a connection idle
        # for a while is pinged; a fresher one broken meanwhile fails its first statement and
        # psycopg2 marks it closed, so the pool drops it.
        idle_s = time.monotonic() - self._checked_in_at().get(id(conn), float("-inf"))
        if idle_s > PING_IDLE_S or conn.closed:
            return super()._is_closed(conn)
        return conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE \
            and super()._is_closed(conn)

    def _checked_in_at(self) -> dict:
        """When each pooled connection (by id) was last returned to the pool."""
        if not hasattr(self, "_checkin_times"):
            self._checkin_times: dict[int, float] = {}
        return self._checkin_times

    def begin_scoped(self, tenant_id: str | None) -> None:
        """Make the next BEGIN on this thread's connection scope to ``tenant_id``."""
        self._state.pending_tenant = tenant_id or ""

    def scope_next(self, tenant_id: str | None) -> None:
        """Scope the rest of the open transaction to ``tenant_id``, sent with its next statement."""
        self._state.scope = tenant_id or ""
        if not getattr(self._state, "lazy_begin", None):  # (a lazy BEGIN sends the scope anyway)
            self._state.rescope = True

    def begin(self, *args, **kwargs) -> None:
        tenant = getattr(self._state, "pending_tenant", None)
        if tenant is None:
            return super().begin(*args, **kwargs)
        self._state.pending_tenant = None
        self._state.scope, self._state.lazy_begin, self._state.rescope = tenant, True, False

    def execute_sql(self, sql_text, params=None):
        state = self._state
        head = self._take_head(sql_text)
        if not head:
            return super().execute_sql(sql_text, params)
        if params:
            head = head.replace("%", "%%")  # the statement's own parameters follow
        state.in_execute = True
        try:
            return super().execute_sql(head + sql_text, params)
        finally:
            state.in_execute = False

    def defer(self, sql_text: str, params=None, *, prepare: bool = False) -> None:
        """Queue a write whose result nobody reads: it is sent with the transaction's next
        statement or with its COMMIT (a consumer's handlers write a row per event: one round
        trip for the batch). Its error, if any, surfaces there and fails the transaction.

        ``prepare`` (positional ``%s`` parameters whose types PostgreSQL can infer): the
        statement is PREPAREd once per connection and queued as ``EXECUTE``, so PostgreSQL
        skips parsing and planning it per event (about half its cost for a profile's insert).
        """
        state = self._state
        cursor = super().cursor()
        if prepare:
            sql_text = self._prepared(sql_text, len(params))
        statement = cursor.mogrify(sql_text, params).decode()
        if not hasattr(state, "deferred"):
            state.deferred = []
        # A list joined once when sent: appending to one string copied the batch's SQL per event.
        state.deferred.append(self._take_prefix(None) + statement + "; ")

    def _prepared(self, sql_text: str, arity: int) -> str:
        """``EXECUTE <name>(%s, ...)`` of ``sql_text``, PREPAREd on this connection first if needed
        (its own round trip, once per connection; a prepared statement outlives a rollback).
        PostgreSQL parses it again when ``search_path`` differs (a tenant in its own schema)."""
        conn = self._state.conn
        name, prepared = self._statement_names.get(sql_text), self._prepared_on.get(conn)
        if name is None or prepared is None:
            # The lock only to add: taken per event, the partition threads queued on it (py-spy).
            with self._prepared_lock:
                name = self._statement_names.setdefault(sql_text, f"careeros_d{len(self._statement_names)}")
                prepared = self._prepared_on.setdefault(conn, set())
        if name not in prepared:
            numbers = iter(range(1, arity + 1))
            body = re.sub(r"%[%s]", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql_text)
            with peewee.__exception_wrapper__:
                conn.cursor().execute(f"PREPARE {name} AS {body}")
            prepared.add(name)
        return f"EXECUTE {name}(" + ", ".join(["%s"] * arity) + ")"

    def _take_head(self, sql_text: str | None) -> str:
        """What must precede the next statement (``sql_text``; None: a write): the deferred
        writes, the lazy BEGIN, the tenant scope. Taking it marks them sent."""
        state = self._state
        deferred = getattr(state, "deferred", None)
        if deferred:
            state.deferred = []
            return "".join(deferred) + self._take_prefix(sql_text)
        return self._take_prefix(sql_text)

    def _take_prefix(self, sql_text: str | None) -> str:
        """The lazy BEGIN and the tenant scope due before ``sql_text`` (None: a write), marked sent."""
        state = self._state
        if getattr(state, "lazy_begin", None):
            if sql_text is not None and is_plain_read(sql_text):
                prefix = "SELECT careeros_scope(%s); "
            else:
                prefix, state.lazy_begin = "BEGIN; SELECT careeros_scope(%s); ", False
        elif getattr(state, "rescope", False):
            prefix, state.rescope = "SELECT careeros_scope(%s); ", False
        else:
            return ""
        return super().cursor().mogrify(prefix, (state.scope,)).decode()

    def cursor(self, named_cursor=None):
        state = self._state
        if not getattr(state, "in_execute", False):
            # Code running its own cursor: open the transaction (or re-scope it, send what was
            # deferred) now, the old way.
            head = self._take_head(None)
            if head:
                super().cursor().execute(head)
        return super().cursor()

    def commit(self) -> None:
        deferred = "".join(getattr(self._state, "deferred", None) or ())
        if self._end_lazy():
            if deferred:
                with peewee.__exception_wrapper__:
                    super().cursor().execute(deferred + "COMMIT")
            else:
                super().commit()

    def rollback(self) -> None:
        if self._end_lazy():
            super().rollback()

    def _end_lazy(self) -> bool:
        """Forget the transaction's lazy state and deferred writes; True when a BEGIN was sent
        (something to end)."""
        state = self._state
        begun = getattr(state, "lazy_begin", None) is not True
        state.lazy_begin, state.rescope, state.deferred = None, False, []
        return begun


def make_database(config: dict, service: str) -> PooledPostgresqlDatabase:
    """The Peewee database a service process uses (pooled, as careeros_app)."""
    kwargs = connect_kwargs(config, service)
    dbname = kwargs.pop("dbname")
    return TenantScopedDatabase(
        dbname,
        max_connections=int(config["postgres"]["pool_size"]),
        stale_timeout=300,
        timeout=10,  # wait for a free pooled connection rather than fail at once
        **kwargs,
    )


@dataclass(frozen=True)
class Migration:
    version: str
    up: Callable  # up(cursor)


def discover(package: str, prefix: str = "") -> list[Migration]:
    """The ``m<NNNN>_*.py`` modules of a migrations package, in order."""
    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("m"))
    return [Migration(prefix + name[1:], importlib.import_module(f"{package}.{name}").up) for name in names]
