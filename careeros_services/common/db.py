"""Each service's own PostgreSQL database: set-up and migrations (connections: ``bus/database.py``).

Layout: one database per service, named ``database_prefix + service``.
Migrations run as the admin role (they create tables, policies and grants);
services connect as ``careeros_app``, a role without BYPASSRLS, so the
row-level-security policies on tenant-scoped tables always apply to them.

Migrations are plain versioned modules (``<service>/migrations/m0001_*.py``
with ``up(cursor)``), recorded in ``schema_migrations``. The shared tables of
``bus/`` (outbox, inbox) come first, as versions ``bus_0001`` and on.
Written here rather than taken from peewee-migrate because row-level-security
policies and NOTIFY triggers are raw SQL anyway, and the runner is ~60 lines.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterable, Iterator

import peewee
import psycopg2
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from bus.database import (Migration, TenantScopedDatabase, connect_kwargs,  # noqa: F401 - re-exported
                          database_name, discover, make_database)
from careeros_services.common import tenant_schemas
from careeros_services.common.config import load_config

APP_ROLE = "careeros_app"
MIGRATION_LOCK_KEY = 727_001  # pg advisory lock id held while migrating


def app_role_password(config: dict) -> str:
    return parse_dsn(config["postgres"]["app_dsn"]).get("password", "")


# --- set-up --------------------------------------------------------------------------------

def ensure_database(config: dict, service: str) -> None:
    """Create the app role and the service's database when missing."""
    conn = psycopg2.connect(**connect_kwargs(config, None, admin=True))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
            if not cur.fetchone():
                try:
                    cur.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %s").format(
                        sql.Identifier(APP_ROLE)), (app_role_password(config),))
                except psycopg2.errors.DuplicateObject:
                    pass  # created concurrently by another set-up
            name = database_name(config, service)
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if not cur.fetchone():
                try:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass
    finally:
        conn.close()


_migration_config: contextvars.ContextVar[dict] = contextvars.ContextVar("careeros_migration_config")


def migration_config() -> dict:
    """The configuration of the migration run in progress (a data migration that writes events
    needs its topic prefix: the migrating process's config, not whatever this process loads).
    Outside a migration run: this process's configuration."""
    found = _migration_config.get(None)
    return found if found is not None else load_config()


def migrate(config: dict, service: str, migrations: Iterable[Migration]) -> list[str]:
    """Apply pending migrations in order; returns the versions applied now.

    Safe to run concurrently (an advisory lock serialises runners) and again
    (applied versions are skipped). Each migration commits on its own.
    """
    with migration_context(config):
        return _migrate(config, service, migrations)


@contextlib.contextmanager
def migration_context(config: dict) -> Iterator[None]:
    """Run migrations (here or per tenant schema) under ``config``: see :func:`migration_config`."""
    token = _migration_config.set(config)
    try:
        yield
    finally:
        _migration_config.reset(token)


def _migrate(config: dict, service: str, migrations: Iterable[Migration]) -> list[str]:
    ensure_database(config, service)
    conn = psycopg2.connect(**connect_kwargs(config, service, admin=True))
    applied_now: list[str] = []
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            cur.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in cur.fetchall()}
            tenant_schemas.ensure_placement(cur)
        for migration in migrations:
            if migration.version in done:
                continue
            with conn, conn.cursor() as cur:
                migration.up(cur)
                cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (migration.version,))
            applied_now.append(migration.version)
        with conn, conn.cursor() as cur:
            placed = tenant_schemas.placed_schemas(cur)
        for _tenant, schema in placed:  # tenants moved to their own schema get every new migration too
            tenant_schemas.migrate_schema(conn, schema, migrations, APP_ROLE)
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL(
                "GRANT USAGE ON SCHEMA public TO {r};"
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r};"
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r};"
            ).format(r=sql.Identifier(APP_ROLE)))
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    finally:
        conn.close()
    return applied_now


def enable_tenant_isolation(cur, table: str) -> None:
    """Row-level security on a tenant-scoped table (migration helper).

    Rows are visible and writable only when their ``tenant_id`` equals the
    transaction's ``careeros.tenant_id`` setting, so a query that forgot its
    tenant filter sees nothing rather than another tenant's rows. FORCE makes
    the policy apply to the table owner as well.
    """
    t = sql.Identifier(table)
    cur.execute(sql.SQL("ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; ALTER TABLE {t} FORCE ROW LEVEL SECURITY;"
                        "CREATE POLICY tenant_isolation ON {t} "
                        "USING (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid) "
                        "WITH CHECK (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid)"
                        ).format(t=t))


def drop_database(config: dict, service: str) -> None:
    """Drop a service's database (tests and `careeros db reset` only)."""
    conn = psycopg2.connect(**connect_kwargs(config, None, admin=True))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(config, service))))
    finally:
        conn.close()
