"""The outbox and inbox tables every service database carries."""


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE outbox (
            id          bigserial PRIMARY KEY,
            event_id    uuid NOT NULL UNIQUE,
            event_type  text NOT NULL,
            topic       text NOT NULL,
            key         text NOT NULL,
            envelope    jsonb NOT NULL,
            headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at  timestamptz NOT NULL DEFAULT now(),
            sent_at     timestamptz
        );
        -- The relay's query: unsent rows in id order.
        CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
        CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

        -- Wake the relay at commit time instead of making it poll.
        CREATE FUNCTION careeros_outbox_notify() RETURNS trigger AS $$
        BEGIN PERFORM pg_notify('careeros_outbox', ''); RETURN NULL; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
            FOR EACH STATEMENT EXECUTE FUNCTION careeros_outbox_notify();

        CREATE TABLE inbox (
            consumer      text NOT NULL,
            event_id      uuid NOT NULL,
            event_type    text NOT NULL,
            processed_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        );
    """)
