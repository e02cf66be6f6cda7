"""Domain events per tenant as one row each instead of a counter per (tenant, day, type).

The counter rows of m0002 were shared by every event of a type and day, so
partitions handled concurrently queued on them and, taking them in different
orders, deadlocked. An append-only row per event shares nothing; the overview
counts them per type. The old tallies cannot be split back into events: run
``careeros analytics rebuild`` to fill the log from the topics.
"""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE event_log (
            tenant_id   uuid NOT NULL,
            event_id    uuid NOT NULL,
            event_type  text NOT NULL,
            day         date NOT NULL,
            PRIMARY KEY (tenant_id, event_id)
        );
        CREATE INDEX event_log_tenant_day_type ON event_log (tenant_id, day, event_type);
        DROP TABLE event_counts;
    """)
    enable_tenant_isolation(cur, "event_log")
