"""A daily roll-up of statements per learner, kept next to the statements themselves.

Active-learner and time-spent figures read one row per learner and day instead
of every statement (Aspects does the same with materialised views). Filled by
the statement writer in the same transaction; back-filled here from existing rows.
"""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE activity_days (
            tenant_id     uuid NOT NULL,
            day           date NOT NULL,
            user_id       uuid NOT NULL,
            statements    integer NOT NULL CHECK (statements > 0),
            time_spent_s  bigint NOT NULL CHECK (time_spent_s >= 0),
            last_at       timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, day, user_id)
        );
        INSERT INTO activity_days (tenant_id, day, user_id, statements, time_spent_s, last_at)
        SELECT tenant_id, day, user_id, count(*), sum(duration_s), max(at)
          FROM statements GROUP BY tenant_id, day, user_id;
    """)
    enable_tenant_isolation(cur, "activity_days")
