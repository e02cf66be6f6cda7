"""The analytics migrations on a scratch database: m0003 back-fills the daily roll-up."""
from __future__ import annotations

import psycopg2

from bus.store import migrations
from careeros_services.common import db as dbmod
from tests.analytics import support as ev

SCRATCH = "analytics_migration_check"


def test_activity_days_is_back_filled_from_existing_statements(config):
    steps = migrations("careeros_services.analytics")
    before_rollup = [m for m in steps if not m.version.startswith("svc_") or m.version < "svc_0003"]
    assert [m.version for m in steps if m not in before_rollup][0] == "svc_0003_activity_days"
    dbmod.drop_database(config, SCRATCH)
    try:
        dbmod.migrate(config, SCRATCH, before_rollup)
        tenant, ann, bob = ev.new_id(), ev.new_id(), ev.new_id()
        rows = [(ann, "2026-03-02T09:00+00", 60), (ann, "2026-03-02T17:00+00", 30),
                (ann, "2026-03-03T09:00+00", 5), (bob, "2026-03-02T10:00+00", 0)]
        conn = psycopg2.connect(**dbmod.connect_kwargs(config, SCRATCH, admin=True))
        with conn, conn.cursor() as cur:
            for user, at, duration in rows:
                cur.execute("INSERT INTO statements"
                            " (tenant_id, statement_id, user_id, verb, at, day, duration_s)"
                            " VALUES (%s, %s, %s, 'v', %s, %s::timestamptz::date, %s)",
                            (tenant, ev.new_id(), user, at, at, duration))
        conn.close()

        assert dbmod.migrate(config, SCRATCH, steps)[0] == "svc_0003_activity_days"

        conn = psycopg2.connect(**dbmod.connect_kwargs(config, SCRATCH, admin=True))
        with conn, conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SELECT user_id::text, day::text, statements, time_spent_s, last_at::text"
                        " FROM activity_days ORDER BY user_id = %s DESC, day", (ann,))
            found = cur.fetchall()
            cur.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'activity_days'")
            forced = cur.fetchone()[0]
        conn.close()
        assert forced is True
        assert found == [(ann, "2026-03-02", 2, 90, "2026-03-02 17:00:00+00"),
                         (ann, "2026-03-03", 1, 5, "2026-03-03 09:00:00+00"),
                         (bob, "2026-03-02", 1, 0, "2026-03-02 10:00:00+00")]
    finally:
        dbmod.drop_database(config, SCRATCH)
