"""The weekly progress digest's read model, and the cross-tenant functions over isolated schemas too.

* ``weekly_activity``: one row per (tenant, user, ISO week, UTC), kept from events this service
  already consumes (tracker statements, LMS completions, roadmap milestones, tracker progress);
  never read from another service's database. ``digested_at`` is set once, by whichever worker
  claims the row first (an ``UPDATE ... WHERE digested_at IS NULL``): with the primary key that
  is what makes the digest at most once per person and week, however often the timer fires.
  The digest message itself is keyed by a UUIDv5 of (tenant, user, week) in ``messages.event_id``
  (unique), a second lock.
* ``notifications_due`` / ``_overview`` / ``_counts`` (m0001) only looked at ``public``: a tenant
  moved to its own schema (``careeros tenant isolate``) had its queued messages never sent. They
  now read ``public`` and every schema in ``tenant_placement`` (like auth's
  ``careeros_user_tenants``), and so does the digest scan ``notifications_digest_due``.
"""
from careeros_services.common.db import enable_tenant_isolation

# public first, then each tenant schema of this database (tenant_schemas.PLACEMENT_DDL)
_SCHEMAS = "(SELECT 'public'::text AS s UNION ALL SELECT schema_name FROM public.tenant_placement)"


SCHEMA = """
        CREATE TABLE weekly_activity (
            tenant_id            uuid NOT NULL,
            user_id              uuid NOT NULL,
            week_start           date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
            statements           integer NOT NULL DEFAULT 0 CHECK (statements >= 0),
            seconds_spent        bigint NOT NULL DEFAULT 0 CHECK (seconds_spent >= 0),
            lessons_completed    text[] NOT NULL DEFAULT '{}',   -- distinct lesson ids
            courses_completed    integer NOT NULL DEFAULT 0 CHECK (courses_completed >= 0),
            milestones           text[] NOT NULL DEFAULT '{}',   -- skill names
            active_days          smallint NOT NULL DEFAULT 0,    -- bit (ISO weekday - 1)
            next_course_id       text NOT NULL DEFAULT '',
            next_course_percent  integer NOT NULL DEFAULT 0,
            digested_at          timestamptz,
            updated_at           timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, week_start)
        );
        CREATE INDEX weekly_activity_undigested ON weekly_activity (week_start) WHERE digested_at IS NULL;
    """


SCHEMA_2 = f"""
        CREATE OR REPLACE FUNCTION notifications_due(at timestamptz, max_rows integer)
            RETURNS TABLE (tenant_id uuid, message_id uuid)
            LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
            BEGIN
                RETURN QUERY EXECUTE (
                    SELECT 'SELECT tenant_id, id FROM (' || string_agg(format(
                        'SELECT tenant_id, id, next_attempt_at, created_at FROM %I.messages'
                        ' WHERE state = ''queued'' AND next_attempt_at <= $1', s), ' UNION ALL ')
                        || ') m ORDER BY next_attempt_at, created_at LIMIT $2' FROM {_SCHEMAS} x)
                    USING at, max_rows;
            END $$;
        CREATE OR REPLACE FUNCTION notifications_overview(p_state text, max_rows integer)
            RETURNS TABLE (id uuid, event_id uuid, tenant_id uuid, kind text, state text, attempts integer,
                           last_error text, to_address text, subject text, created_at timestamptz,
                           sent_at timestamptz)
            LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
            BEGIN
                RETURN QUERY EXECUTE (
                    SELECT 'SELECT * FROM (' || string_agg(format(
                        'SELECT id, event_id, tenant_id, kind, state, attempts, last_error, to_address, subject,'
                        ' created_at, sent_at FROM %I.messages WHERE $1 = '''' OR state = $1', s), ' UNION ALL ')
                        || ') m ORDER BY created_at DESC LIMIT $2' FROM {_SCHEMAS} x)
                    USING p_state, max_rows;
            END $$;
        CREATE OR REPLACE FUNCTION notifications_counts()
            RETURNS TABLE (state text, n bigint)
            LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
            BEGIN
                RETURN QUERY EXECUTE (
                    SELECT 'SELECT state, count(*) FROM (' || string_agg(format(
                        'SELECT state FROM %I.messages', s), ' UNION ALL ') || ') m GROUP BY state'
                    FROM {_SCHEMAS} x);
            END $$;
        -- People with activity in the week whose digest nobody has claimed yet (ids only).
        CREATE FUNCTION notifications_digest_due(week date, max_rows integer)
            RETURNS TABLE (tenant_id uuid, user_id uuid)
            LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
            BEGIN
                RETURN QUERY EXECUTE (
                    SELECT 'SELECT tenant_id, user_id FROM (' || string_agg(format(
                        'SELECT tenant_id, user_id FROM %I.weekly_activity WHERE week_start = $1'
                        ' AND digested_at IS NULL AND (statements > 0 OR courses_completed > 0'
                        ' OR cardinality(milestones) > 0)', s), ' UNION ALL ') || ') w LIMIT $2'
                    FROM {_SCHEMAS} x)
                    USING week, max_rows;
            END $$;
        REVOKE ALL ON FUNCTION notifications_digest_due(date, integer) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION notifications_digest_due(date, integer) TO careeros_app;
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    cur.execute(SCHEMA_2)
    enable_tenant_isolation(cur, "weekly_activity")
