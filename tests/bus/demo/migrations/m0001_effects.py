def up(cur) -> None:
    # No unique constraint on purpose: a duplicate application would show.
    cur.execute("CREATE TABLE effects (id bigserial PRIMARY KEY, tenant_id uuid NOT NULL,"
                " event_id uuid NOT NULL, aggregate_id text NOT NULL,"
                " occurred_at timestamptz, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
