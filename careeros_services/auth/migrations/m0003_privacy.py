"""Privacy requests (export, erasure) and their saga state; what erasure needs across RLS.

* ``privacy_requests``: one row per request, global like ``users`` (the person may have no tenant
  left once erased). ``answers`` holds each service's answer ({service: {...}}); the row is the
  saga's persisted state, re-driven by the auth timer (``privacy_tick``).
* ``careeros_user_tenants(person)``: the tenants a person is a member of, across row-level
  security and tenants moved to their own schema (SECURITY DEFINER, like the one-owner check).
* ``audit_log`` stays append-only, except one kind of UPDATE: an erasure's redaction, allowed when
  the transaction set ``careeros.audit_redaction`` (DELETE and TRUNCATE are still refused).
"""


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE privacy_requests (
            id            uuid PRIMARY KEY,
            kind          text NOT NULL CHECK (kind IN ('export', 'erasure')),
            scope         text NOT NULL CHECK (scope IN ('account', 'organization')),
            user_id       uuid NOT NULL,
            requested_by  uuid NOT NULL,
            tenant_id     uuid NOT NULL,
            tenant_ids    uuid[] NOT NULL,
            personal_tenant_id uuid,   -- an account erasure: the personal tenant (deleted in auth by then)
            status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'expired')),
            answers       jsonb NOT NULL DEFAULT '{}'::jsonb,
            archive_key   text NOT NULL DEFAULT '',
            expires_at    timestamptz,
            attempts      integer NOT NULL DEFAULT 1,
            sent_at       timestamptz NOT NULL DEFAULT now(),
            created_at    timestamptz NOT NULL DEFAULT now(),
            completed_at  timestamptz
        );
        CREATE INDEX privacy_requests_user ON privacy_requests (user_id, created_at DESC);
        CREATE INDEX privacy_requests_pending ON privacy_requests (sent_at) WHERE status = 'pending';

        CREATE FUNCTION careeros_user_tenants(person uuid) RETURNS SETOF uuid
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE s text;
        BEGIN
            RETURN QUERY SELECT m.tenant_id FROM public.memberships m WHERE m.user_id = person;
            FOR s IN SELECT schema_name FROM public.tenant_placement LOOP
                RETURN QUERY EXECUTE format('SELECT tenant_id FROM %I.memberships WHERE user_id = $1', s)
                    USING person;
            END LOOP;
        END $$;

        CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND current_setting('careeros.audit_redaction', true) = 'on' THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
