"""Domain events per tenant, UTC day and type: the volume of every topic the service reads."""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE event_counts (
            tenant_id   uuid NOT NULL,
            day         date NOT NULL,
            event_type  text NOT NULL,
            events      bigint NOT NULL CHECK (events >= 0),
            PRIMARY KEY (tenant_id, day, event_type)
        );
    """)
    enable_tenant_isolation(cur, "event_counts")
