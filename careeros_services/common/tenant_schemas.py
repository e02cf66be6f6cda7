"""Schema per tenant: move one (enterprise) tenant's rows out of the shared tables into its own schema.

Layout in a service's database after ``isolate(config, service, tenant_id)``:

* ``public`` keeps every shared table and every other tenant's rows.
* ``t_<tenant hex>`` holds the service's **tenant-scoped** tables (those under row-level
  security with only the standard ``tenant_isolation`` policy) with that tenant's rows,
  built by the service's own migrations; foreign keys to shared tables point at ``public``.
* ``t_<tenant hex>_g`` holds empty shadows of the shared tables: later migrations that alter a
  shared table (``ALTER TABLE tenants …``) run unchanged against the shadow while the real
  change happens once in ``public``.
* ``public.tenant_placement`` records where a tenant lives; ``careeros_scope(tenant)`` (called by
  every unit of work when it sets its tenant) sets ``careeros.tenant_id`` and, for a placed
  tenant, ``search_path = t_<hex>, public`` — so service code, which names tables unqualified,
  reads and writes the tenant's schema without knowing it. Row-level security stays on there
  as the second lock. ``outbox``/``inbox`` are shared tables: the relay and the inbox are
  unchanged.

``migrate`` (``common.db``) applies new service migrations to every placed schema after
``public``. Moving is one transaction (the tenant's rows are copied, then deleted from
``public``, under an EXCLUSIVE lock on the shared tables, with user triggers such as the audit
log's append-only guard suspended for the move only), followed by a sweep for rows that a
unit of work begun before the placement committed wrote to ``public`` afterwards.
"""
from __future__ import annotations

import uuid
from typing import Iterable

import psycopg2
from psycopg2 import sql

PLACEMENT_DDL = """
    CREATE TABLE IF NOT EXISTS public.tenant_placement (
        tenant_id    text PRIMARY KEY,
        schema_name  text NOT NULL UNIQUE,
        moved_at     timestamptz NOT NULL DEFAULT now()
    );
    CREATE OR REPLACE FUNCTION public.careeros_scope(tenant text) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        placed text;
    BEGIN
        PERFORM set_config('careeros.tenant_id', coalesce(tenant, ''), true);
        IF coalesce(tenant, '') <> '' THEN
            SELECT schema_name INTO placed FROM public.tenant_placement WHERE tenant_id = tenant;
        END IF;
        PERFORM set_config('search_path', CASE WHEN placed IS NULL THEN 'public'
                                               ELSE quote_ident(placed) || ', public' END, true);
    END $$;
"""


def schema_for(tenant_id: str) -> str:
    return "t_" + uuid.UUID(str(tenant_id)).hex


def ensure_placement(cur) -> None:
    """Create the placement table and ``careeros_scope`` (idempotent; run by every ``migrate``)."""
    cur.execute(PLACEMENT_DDL)


def placed_schemas(cur) -> list[tuple[str, str]]:
    cur.execute("SELECT tenant_id, schema_name FROM public.tenant_placement ORDER BY moved_at")
    return [(r[0], r[1]) for r in cur.fetchall()]


def _tables(cur, schema: str, rls: bool | None = None) -> list[str]:
    """Tables of ``schema``; ``rls=True``: only the movable ones, ``False``: only the others.

    Movable = under row-level security with nothing but the standard ``tenant_isolation``
    policy. A table with other policies (e.g. a catalogue whose platform rows every tenant
    reads) stays shared: the tenant's schema could not show it the other rows.
    """
    cur.execute("SELECT c.relname, c.relrowsecurity AND NOT EXISTS (SELECT 1 FROM pg_policy p"
                " WHERE p.polrelid = c.oid AND p.polname <> 'tenant_isolation')"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.oid", (schema,))
    return [name for name, movable in cur.fetchall() if rls is None or movable == rls]


def migrate_schema(conn, schema: str, migrations: Iterable, app_role: str) -> list[str]:
    """Apply the pending service migrations (``svc_*``) to a tenant schema; returns the versions applied.

    Migrations run unchanged with ``search_path = <schema>, <schema>_g, public``; afterwards tables that
    are not tenant-scoped move to the shadow schema and foreign keys to them are re-pointed at
    ``public``.
    """
    shadow = schema + "_g"
    ident, shadow_ident = sql.Identifier(schema), sql.Identifier(shadow)
    with conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}; CREATE SCHEMA IF NOT EXISTS {};"
                            "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version text PRIMARY KEY,"
                            " applied_at timestamptz NOT NULL DEFAULT now())").format(
            ident, shadow_ident, shadow_ident))
        cur.execute(sql.SQL("SELECT version FROM {}.schema_migrations").format(shadow_ident))
        done = {r[0] for r in cur.fetchall()}
    applied = []
    for migration in migrations:
        if migration.version in done or not migration.version.startswith("svc_"):
            continue  # the bus's tables (outbox, inbox) stay shared
        with conn, conn.cursor() as cur:
            # public last: extensions, operator classes and the bus's tables live there
            cur.execute(sql.SQL("SET LOCAL search_path = {}, {}, public").format(ident, shadow_ident))
            migration.up(cur)
            cur.execute(sql.SQL("INSERT INTO {}.schema_migrations (version) VALUES (%s)")
                        .format(shadow_ident), (migration.version,))
        applied.append(migration.version)
    with conn, conn.cursor() as cur:
        for table in _tables(cur, schema, rls=False):  # shared tables: to the shadow schema
            cur.execute(sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                ident, sql.Identifier(table), shadow_ident))
        cur.execute("SET LOCAL search_path = pg_catalog")  # constraint definitions fully qualified
        cur.execute("SELECT con.conname, rel.relname, pg_get_constraintdef(con.oid) FROM pg_constraint con"
                    " JOIN pg_class rel ON rel.oid = con.conrelid"
                    " JOIN pg_namespace n ON n.oid = rel.relnamespace"
                    " JOIN pg_class ref ON ref.oid = con.confrelid"
                    " JOIN pg_namespace rn ON rn.oid = ref.relnamespace"
                    " WHERE con.contype = 'f' AND n.nspname = %s AND rn.nspname = %s", (schema, shadow))
        for name, table, definition in cur.fetchall():
            cur.execute(sql.SQL("ALTER TABLE {s}.{t} DROP CONSTRAINT {c};"
                                " ALTER TABLE {s}.{t} ADD CONSTRAINT {c} ")
                        .format(s=ident, t=sql.Identifier(table), c=sql.Identifier(name))
                        + sql.SQL(definition.replace(f"{shadow}.", "public.")))
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {s} TO {r};"
                            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r};"
                            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {r};").format(
            s=ident, r=sql.Identifier(app_role)))
    return applied


def _parents_first(cur, schema: str, tables: list[str]) -> list[str]:
    """``tables`` ordered so that a table comes after those its foreign keys reference (within ``schema``)."""
    cur.execute("SELECT rel.relname, ref.relname FROM pg_constraint con"
                " JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_class ref ON ref.oid = con.confrelid"
                " JOIN pg_namespace n ON n.oid = rel.relnamespace"
                " JOIN pg_namespace rn ON rn.oid = ref.relnamespace"
                " WHERE con.contype = 'f' AND n.nspname = %s AND rn.nspname = %s", (schema, schema))
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in cur.fetchall():
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, ps in parents.items() if not ps - set(ordered))
        if not ready:
            raise RuntimeError(f"foreign-key cycle among {sorted(parents)}")
        ordered.extend(ready)
        for t in ready:
            del parents[t]
    return ordered


def _move_rows(cur, schema: str, tenant_id: str) -> dict[str, int]:
    """Copy the tenant's rows of every tenant-scoped table into ``schema`` and delete them from public."""
    moved = {}
    tables = _parents_first(cur, schema, _tables(cur, schema, rls=True))
    for table in tables:
        cur.execute(sql.SQL("LOCK TABLE public.{} IN EXCLUSIVE MODE").format(sql.Identifier(table)))
    for table in tables:  # copy parents before children (foreign keys inside the schema hold)
        cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                    " AND NOT attisdropped ORDER BY attnum", (f"{schema}.{table}",))
        columns = sql.SQL(", ").join(sql.Identifier(r[0]) for r in cur.fetchall())
        cur.execute(sql.SQL("INSERT INTO {s}.{t} ({c}) SELECT {c} FROM public.{t} WHERE tenant_id = %s")
                    .format(s=sql.Identifier(schema), t=sql.Identifier(table), c=columns), (tenant_id,))
    for table in reversed(tables):  # delete children before parents; user triggers (append-only
        t = sql.Identifier(table)    # audit, one-owner check) are suspended for the move only
        cur.execute(sql.SQL("ALTER TABLE public.{t} DISABLE TRIGGER USER;"
                            "DELETE FROM public.{t} WHERE tenant_id = %s;"
                            "ALTER TABLE public.{t} ENABLE TRIGGER USER").format(t=t), (tenant_id,))
        cur.execute(sql.SQL("SELECT count(*) FROM {}.{} WHERE tenant_id = %s")
                    .format(sql.Identifier(schema), t), (tenant_id,))
        moved[table] = cur.fetchone()[0]
    # Serial ids (e.g. the audit log's) keep rising in the tenant's schema.
    cur.execute("SELECT s.relname, d.refobjid::regclass::text, a.attname FROM pg_class s"
                " JOIN pg_namespace n ON n.oid = s.relnamespace JOIN pg_depend d ON d.objid = s.oid"
                " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
                " WHERE s.relkind = 'S' AND n.nspname = %s", (schema,))
    for seq, owner, column in cur.fetchall():
        cur.execute(sql.SQL("SELECT setval({q}, greatest((SELECT last_value FROM public.{s}),"
                            " (SELECT coalesce(max({c}), 1) FROM {o})))").format(
            q=sql.Literal(f"{schema}.{seq}"), s=sql.Identifier(seq), c=sql.Identifier(column),
            o=sql.SQL(owner)))
    return moved


def isolate(config: dict, service: str, tenant_id: str, migrations: list) -> dict:
    """Move ``tenant_id``'s rows of ``service`` into schema ``t_<hex>``; returns the schema and row counts.

    Idempotent: a tenant already placed is only swept again. Runs as the admin role.
    """
    from careeros_services.common import db as dbmod

    tenant_id = str(uuid.UUID(str(tenant_id)))
    schema = schema_for(tenant_id)
    dbmod.migrate(config, service, migrations)  # public current, placement table present
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, service, admin=True))
    try:
        with dbmod.migration_context(config):  # a data migration publishes under this config's topics
            migrate_schema(conn, schema, migrations, dbmod.APP_ROLE)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (dbmod.MIGRATION_LOCK_KEY,))
            moved = _move_rows(cur, schema, tenant_id)
            cur.execute("INSERT INTO public.tenant_placement (tenant_id, schema_name) VALUES (%s, %s)"
                        " ON CONFLICT (tenant_id) DO NOTHING", (tenant_id, schema))
        with conn, conn.cursor() as cur:  # sweep: writes of units of work that began before the placement
            swept = _move_rows(cur, schema, tenant_id)
    finally:
        conn.close()
    return {"service": service, "tenant_id": tenant_id, "schema": schema, "rows": swept or moved}
