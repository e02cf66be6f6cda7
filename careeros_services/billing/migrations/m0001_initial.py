"""Billing tables, isolated per tenant by row-level security.

Invoices are immutable once issued: triggers refuse any change to an issued
invoice except its status (along the allowed edges) and paid/void timestamps,
and refuse adding, changing or removing lines of an invoice that is not a draft.

Two SECURITY DEFINER functions answer the only cross-tenant questions billing
has (which subscriptions/sagas are due for the timer; which tenant a provider
payment id belongs to, for webhooks). They return ids only; all reads and
writes of the rows themselves happen in that tenant's RLS-scoped transaction.
"""
from careeros_services.common.db import enable_tenant_isolation

TABLES = ("subscriptions", "invoices", "invoice_lines", "payments", "sagas", "entitlements", "usage_records",
          "webhook_events")


SCHEMA = """
        CREATE TABLE subscriptions (
            id                    uuid PRIMARY KEY,
            tenant_id             uuid NOT NULL,
            user_id               uuid NOT NULL,
            plan                  text NOT NULL CHECK (plan IN ('pro', 'team')),
            "interval"            text NOT NULL CHECK ("interval" IN ('month', 'year')),
            seats                 integer NOT NULL CHECK (seats BETWEEN 1 AND 100000),
            status                text NOT NULL
                                  CHECK (status IN ('incomplete', 'trialing', 'active', 'past_due', 'canceled')),
            currency              char(3) NOT NULL,
            payment_method        text NOT NULL,
            provider              text NOT NULL,
            current_period_start  timestamptz NOT NULL,
            current_period_end    timestamptz NOT NULL CHECK (current_period_end > current_period_start),
            anchor_day            integer NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
            trial_end             timestamptz,
            cancel_at_period_end  boolean NOT NULL DEFAULT false,
            canceled_at           timestamptz,
            credit_minor          bigint NOT NULL DEFAULT 0 CHECK (credit_minor >= 0),
            dunning_failures      integer NOT NULL DEFAULT 0,
            first_failed_at       timestamptz,
            next_retry_at         timestamptz,
            version               bigint NOT NULL DEFAULT 1,
            created_at            timestamptz NOT NULL DEFAULT now(),
            updated_at            timestamptz NOT NULL DEFAULT now()
        );
        -- At most one live subscription per tenant.
        CREATE UNIQUE INDEX subscriptions_one_live ON subscriptions (tenant_id) WHERE status <> 'canceled';
        CREATE INDEX subscriptions_due ON subscriptions (current_period_end) WHERE status <> 'canceled';

        CREATE TABLE invoices (
            id              uuid PRIMARY KEY,
            tenant_id       uuid NOT NULL,
            subscription_id uuid NOT NULL REFERENCES subscriptions (id),
            currency        char(3) NOT NULL,
            status          text NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible', 'refunded')),
            reason          text NOT NULL
                            CHECK (reason IN ('subscription_create', 'subscription_cycle', 'subscription_update')),
            target          jsonb NOT NULL DEFAULT '{}'::jsonb,   -- what paying it buys (plan, seats, credit)
            total_minor     bigint NOT NULL DEFAULT 0,
            period_start    timestamptz NOT NULL,
            period_end      timestamptz NOT NULL,
            issued_at       timestamptz,
            paid_at         timestamptz,
            closed_at       timestamptz,
            created_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX invoices_tenant ON invoices (tenant_id, created_at);

        CREATE TABLE invoice_lines (
            id            bigserial PRIMARY KEY,
            tenant_id     uuid NOT NULL,
            invoice_id    uuid NOT NULL REFERENCES invoices (id),
            position      integer NOT NULL,
            description   text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 300),
            amount_minor  bigint NOT NULL,
            kind          text NOT NULL CHECK (kind IN ('subscription', 'proration', 'usage', 'credit')),
            UNIQUE (invoice_id, position)
        );

        CREATE TABLE payments (
            id                   uuid PRIMARY KEY,
            tenant_id            uuid NOT NULL,
            invoice_id           uuid NOT NULL REFERENCES invoices (id),
            provider             text NOT NULL,
            provider_payment_id  text NOT NULL,
            idempotency_key      text NOT NULL UNIQUE,
            attempt              integer NOT NULL,
            amount_minor         bigint NOT NULL CHECK (amount_minor > 0),
            currency             char(3) NOT NULL,
            status               text NOT NULL CHECK (status IN ('succeeded', 'declined', 'retryable', 'refunded')),
            failure_code         text NOT NULL DEFAULT '',
            refund_id            text,
            created_at           timestamptz NOT NULL DEFAULT now(),
            updated_at           timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX payments_provider_id ON payments (provider, provider_payment_id);

        CREATE TABLE sagas (
            id               uuid PRIMARY KEY,
            tenant_id        uuid NOT NULL,
            subscription_id  uuid NOT NULL REFERENCES subscriptions (id),
            kind             text NOT NULL CHECK (kind IN ('activation', 'change')),
            trigger_key      text NOT NULL UNIQUE,   -- the payment (or trial) that started it: one saga each
            payment_id       uuid REFERENCES payments (id),
            step             text NOT NULL,
            status           text NOT NULL CHECK (status IN ('running', 'completed', 'compensating', 'compensated')),
            before           jsonb NOT NULL,         -- plan, seats, status before the saga (for compensation)
            target           jsonb NOT NULL,         -- plan, seats after it
            done             jsonb NOT NULL DEFAULT '[]'::jsonb,   -- completed steps, in order
            compensated      jsonb NOT NULL DEFAULT '[]'::jsonb,   -- compensations run, in order
            attempts         integer NOT NULL DEFAULT 0,
            step_deadline    timestamptz NOT NULL,
            error            text NOT NULL DEFAULT '',
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX sagas_open ON sagas (step_deadline) WHERE status IN ('running', 'compensating');

        CREATE TABLE entitlements (
            tenant_id        uuid PRIMARY KEY,
            subscription_id  uuid,
            plan             text NOT NULL CHECK (plan IN ('free', 'pro', 'team')),
            seats            integer NOT NULL,
            features         jsonb NOT NULL,
            saga_id          text NOT NULL DEFAULT '',
            confirmed_plan   text,     -- the plan_tier auth last confirmed (plan_changed)
            updated_at       timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE usage_records (
            usage_id     uuid PRIMARY KEY,
            tenant_id    uuid NOT NULL,
            user_id      uuid NOT NULL,
            tokens       bigint NOT NULL CHECK (tokens >= 0),
            recorded_at  timestamptz NOT NULL
        );
        CREATE INDEX usage_tenant_time ON usage_records (tenant_id, recorded_at);

        CREATE TABLE webhook_events (
            provider     text NOT NULL,
            event_id     text NOT NULL,
            tenant_id    uuid NOT NULL,
            type         text NOT NULL,
            received_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (provider, event_id)
        );

        CREATE FUNCTION billing_invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.status <> 'draft' THEN
                    RAISE EXCEPTION 'invoice % is issued and cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.status <> 'draft' AND (
                   NEW.id, NEW.tenant_id, NEW.subscription_id, NEW.currency, NEW.reason, NEW.target, NEW.total_minor,
                   NEW.period_start, NEW.period_end, NEW.issued_at, NEW.created_at)
                   IS DISTINCT FROM (
                   OLD.id, OLD.tenant_id, OLD.subscription_id, OLD.currency, OLD.reason, OLD.target, OLD.total_minor,
                   OLD.period_start, OLD.period_end, OLD.issued_at, OLD.created_at) THEN
                RAISE EXCEPTION 'invoice % is issued and immutable', OLD.id USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.status <> OLD.status AND NOT (
                   (OLD.status = 'draft' AND NEW.status IN ('open', 'void')) OR
                   (OLD.status = 'open' AND NEW.status IN ('paid', 'void', 'uncollectible')) OR
                   (OLD.status = 'uncollectible' AND NEW.status IN ('paid', 'void')) OR
                   (OLD.status = 'paid' AND NEW.status = 'refunded')) THEN
                RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.id, OLD.status, NEW.status
                    USING ERRCODE = 'check_violation';
            END IF;
            IF OLD.status = 'draft' AND NEW.status = 'open' THEN
                IF NEW.total_minor IS DISTINCT FROM
                       (SELECT coalesce(sum(amount_minor), 0) FROM invoice_lines WHERE invoice_id = NEW.id) THEN
                    RAISE EXCEPTION 'invoice % total does not equal its lines', NEW.id USING ERRCODE = 'check_violation';
                END IF;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
            FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

        CREATE FUNCTION billing_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            inv uuid;
        BEGIN
            IF TG_OP = 'DELETE' THEN inv := OLD.invoice_id; ELSE inv := NEW.invoice_id; END IF;
            IF (SELECT status FROM invoices WHERE id = inv) <> 'draft'
               OR (TG_OP = 'UPDATE' AND (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'draft') THEN
                RAISE EXCEPTION 'lines of issued invoice % are immutable', inv USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
            FOR EACH ROW EXECUTE FUNCTION billing_lines_immutable();

        -- Cross-tenant lookups for the timer and webhooks: ids only (SECURITY DEFINER bypasses RLS).
        CREATE FUNCTION billing_due_subscriptions(at timestamptz, max_rows integer)
            RETURNS TABLE (tenant_id uuid, subscription_id uuid)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT s.tenant_id, s.id FROM subscriptions s
             WHERE s.status <> 'canceled'
               AND (s.current_period_end <= at OR (s.next_retry_at IS NOT NULL AND s.next_retry_at <= at))
             ORDER BY s.current_period_end LIMIT max_rows $$;
        CREATE FUNCTION billing_stuck_sagas(at timestamptz, max_rows integer)
            RETURNS TABLE (tenant_id uuid, saga_id uuid)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT g.tenant_id, g.id FROM sagas g
             WHERE g.status IN ('running', 'compensating') AND g.step_deadline <= at
             ORDER BY g.step_deadline LIMIT max_rows $$;
        CREATE FUNCTION billing_payment_tenant(p_provider text, p_payment_id text)
            RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT tenant_id FROM payments WHERE provider = p_provider AND provider_payment_id = p_payment_id
             LIMIT 1 $$;
        REVOKE ALL ON FUNCTION billing_due_subscriptions(timestamptz, integer) FROM PUBLIC;
        REVOKE ALL ON FUNCTION billing_stuck_sagas(timestamptz, integer) FROM PUBLIC;
        REVOKE ALL ON FUNCTION billing_payment_tenant(text, text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION billing_due_subscriptions(timestamptz, integer) TO careeros_app;
        GRANT EXECUTE ON FUNCTION billing_stuck_sagas(timestamptz, integer) TO careeros_app;
        GRANT EXECUTE ON FUNCTION billing_payment_tenant(text, text) TO careeros_app;
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in TABLES:
        enable_tenant_isolation(cur, table)
