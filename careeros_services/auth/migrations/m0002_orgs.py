"""Organisations: seats, invites, assignments, an append-only audit log, exactly one owner.

* ``tenants.seats`` / ``tenants.plan_changed_at``: the seat limit billing
  granted (0 = none granted: the configured default applies) and the time of
  the entitlement event that set the plan (older events are not applied over
  newer ones).
* **Exactly one owner per tenant**, in the database: a partial unique index
  allows at most one ``owner`` row per tenant; a deferred constraint trigger
  refuses, at commit, a transaction that leaves an existing tenant without one
  (so a transfer may demote first and promote second).
* ``invites``, ``assignments``, ``audit_log``: tenant-scoped (row-level security).
* ``audit_log`` is append-only: BEFORE UPDATE/DELETE/TRUNCATE triggers raise.
  A trigger rather than ``REVOKE``: the migration runner re-grants
  UPDATE/DELETE on every table after each run, and a trigger binds the table
  owner as well.
"""
from careeros_services.common.db import enable_tenant_isolation


SCHEMA = """
        ALTER TABLE tenants
            ADD COLUMN seats integer NOT NULL DEFAULT 0 CHECK (seats >= 0),
            ADD COLUMN plan_changed_at timestamptz;

        CREATE UNIQUE INDEX memberships_one_owner ON memberships (tenant_id) WHERE org_role = 'owner';

        -- SECURITY DEFINER (owned by the migrating admin role): counts across RLS. The table is
        -- named by the trigger's own schema, so a tenant moved to its own schema is checked there.
        CREATE FUNCTION memberships_require_owner() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            t uuid;
            owners bigint;
        BEGIN
            IF TG_OP = 'DELETE' THEN t := OLD.tenant_id; ELSE t := NEW.tenant_id; END IF;
            IF TG_OP = 'UPDATE' AND OLD.tenant_id <> NEW.tenant_id THEN
                RAISE EXCEPTION 'a membership does not move between tenants'
                    USING ERRCODE = 'check_violation';
            END IF;
            EXECUTE format('SELECT count(*) FROM %I.%I WHERE tenant_id = $1 AND org_role = $2',
                           TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO owners USING t, 'owner';
            IF owners <> 1 AND EXISTS (SELECT 1 FROM public.tenants WHERE id = t) THEN
                RAISE EXCEPTION 'tenant % must have exactly one owner', t
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'memberships_exactly_one_owner';
            END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER memberships_exactly_one_owner
            AFTER INSERT OR UPDATE OR DELETE ON memberships
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION memberships_require_owner();

        CREATE TABLE invites (
            id           uuid PRIMARY KEY,
            tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
            email        text NOT NULL CHECK (email = lower(email) AND char_length(email) <= 254),
            org_role     text NOT NULL CHECK (org_role IN ('admin', 'instructor', 'member')),
            invited_by   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL,
            accepted_at  timestamptz,
            accepted_by  uuid REFERENCES users (id) ON DELETE SET NULL,
            revoked_at   timestamptz,
            CHECK (accepted_at IS NULL OR revoked_at IS NULL)
        );
        CREATE INDEX invites_pending ON invites (tenant_id, email)
            WHERE accepted_at IS NULL AND revoked_at IS NULL;

        CREATE TABLE assignments (
            id           uuid PRIMARY KEY,
            tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
            user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            course_id    text NOT NULL DEFAULT '' CHECK (char_length(course_id) <= 200),
            target_role  text NOT NULL DEFAULT '' CHECK (char_length(target_role) <= 200),
            assigned_by  uuid NOT NULL,
            due_at       timestamptz,
            created_at   timestamptz NOT NULL DEFAULT now(),
            CHECK (course_id <> '' OR target_role <> '')
        );
        CREATE INDEX assignments_user ON assignments (tenant_id, user_id, created_at);

        CREATE TABLE audit_log (
            id             bigserial PRIMARY KEY,
            tenant_id      uuid NOT NULL,
            actor_user_id  uuid,
            action         text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
            target_type    text NOT NULL DEFAULT '',
            target_id      text NOT NULL DEFAULT '',
            details        jsonb NOT NULL DEFAULT '{}'::jsonb,
            client_ip      text NOT NULL DEFAULT '' CHECK (char_length(client_ip) <= 64),
            source         text NOT NULL CHECK (source IN ('api', 'event')),
            event_id       uuid,
            occurred_at    timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);

        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in ("invites", "assignments", "audit_log"):
        enable_tenant_isolation(cur, table)
