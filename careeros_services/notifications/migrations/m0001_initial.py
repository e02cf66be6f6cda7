"""Messages (one per causing event, with their delivery state) and per-person preferences.

Both tables are tenant-scoped under row-level security. Two SECURITY DEFINER functions answer the
only cross-tenant questions: which messages are due (the delivery timer) and the operator's
overview (``careeros notifications list``); they return ids and summaries, never bodies.
"""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE messages (
            id               uuid PRIMARY KEY,
            event_id         uuid NOT NULL UNIQUE,
            tenant_id        uuid NOT NULL,
            kind             text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 60),
            user_id          uuid,
            recipient        jsonb NOT NULL CHECK (jsonb_typeof(recipient) = 'object'),
            event            jsonb NOT NULL,
            state            text NOT NULL DEFAULT 'queued'
                             CHECK (state IN ('queued', 'sent', 'failed', 'skipped')),
            attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            last_error       text NOT NULL DEFAULT '',
            to_address       text NOT NULL DEFAULT '',
            subject          text NOT NULL DEFAULT '',
            created_at       timestamptz NOT NULL DEFAULT now(),
            sent_at          timestamptz
        );
        CREATE INDEX messages_due ON messages (next_attempt_at) WHERE state = 'queued';
        CREATE INDEX messages_tenant_user ON messages (tenant_id, user_id, created_at);

        CREATE TABLE preferences (
            tenant_id   uuid NOT NULL,
            user_id     uuid NOT NULL,
            kind        text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 60),
            enabled     boolean NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, kind)
        );

        CREATE FUNCTION notifications_due(at timestamptz, max_rows integer)
            RETURNS TABLE (tenant_id uuid, message_id uuid)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT m.tenant_id, m.id FROM messages m
             WHERE m.state = 'queued' AND m.next_attempt_at <= at
             ORDER BY m.next_attempt_at, m.created_at LIMIT max_rows $$;
        CREATE FUNCTION notifications_overview(p_state text, max_rows integer)
            RETURNS TABLE (id uuid, event_id uuid, tenant_id uuid, kind text, state text, attempts integer,
                           last_error text, to_address text, subject text, created_at timestamptz,
                           sent_at timestamptz)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT m.id, m.event_id, m.tenant_id, m.kind, m.state, m.attempts, m.last_error, m.to_address,
                   m.subject, m.created_at, m.sent_at
              FROM messages m WHERE p_state = '' OR m.state = p_state
             ORDER BY m.created_at DESC LIMIT max_rows $$;
        CREATE FUNCTION notifications_counts()
            RETURNS TABLE (state text, n bigint)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT m.state, count(*) FROM messages m GROUP BY m.state $$;
        REVOKE ALL ON FUNCTION notifications_due(timestamptz, integer) FROM PUBLIC;
        REVOKE ALL ON FUNCTION notifications_overview(text, integer) FROM PUBLIC;
        REVOKE ALL ON FUNCTION notifications_counts() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION notifications_due(timestamptz, integer) TO careeros_app;
        GRANT EXECUTE ON FUNCTION notifications_overview(text, integer) TO careeros_app;
        GRANT EXECUTE ON FUNCTION notifications_counts() TO careeros_app;
    """)
    for table in ("messages", "preferences"):
        enable_tenant_isolation(cur, table)
