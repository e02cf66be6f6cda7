"""The xAPI LRS: statements of any actor, their query columns, voiding; documents; attachments; keys.

* ``statements`` now holds statements of any Agent or Group (``user_id`` is set only
  when the actor is a CareerOS account: those move progress). Query columns:
  registration, a StatementRef's target, ``voided``; ``statement_agents`` and
  ``statement_activities`` index who and what each statement is about.
* ``lrs_documents`` (State, Activity Profile, Agent Profile), ``lrs_attachments``
  (content by SHA-2), ``lrs_credentials`` (HTTP Basic keys, secret hashed) are
  tenant-scoped with row-level security.
* ``lrs_key_tenants`` (key id -> tenant id, nothing else) is global on purpose: a
  Basic credential names no tenant, so the tenant is found from the key before the
  transaction is scoped to it (the same reason as ``activity_tenants``).
"""
from careeros_services.common.db import enable_tenant_isolation

PREFIX = "Agent|account|https://careeros.dev|"


SCHEMA = f"""
        ALTER TABLE statements ALTER COLUMN user_id DROP NOT NULL;
        ALTER TABLE statements
            ADD COLUMN registration uuid,
            ADD COLUMN ref_target uuid,
            ADD COLUMN voided boolean NOT NULL DEFAULT false;
        UPDATE statements SET registration = (body #>> '{{context,registration}}')::uuid;
        CREATE INDEX statements_verb ON statements (tenant_id, verb, seq);
        CREATE INDEX statements_activity ON statements (tenant_id, activity_id, seq);
        CREATE INDEX statements_registration ON statements (tenant_id, registration, seq) WHERE registration IS NOT NULL;
        CREATE INDEX statements_ref_target ON statements (tenant_id, ref_target) WHERE ref_target IS NOT NULL;

        -- Who and what a statement is about, one row per (agent|activity, statement), walked in
        -- storage order by a btree: array containment (GIN) cannot be used under row-level security
        -- (its operator is not leakproof), so a sparse agent would scan the tenant's whole history.
        CREATE TABLE statement_agents (
            tenant_id  uuid NOT NULL,
            agent      text NOT NULL,            -- "Agent|mbox|mailto:..." (type, IFI kind, IFI)
            seq        bigint NOT NULL,
            direct     boolean NOT NULL,         -- actor or object (agent=); else only related_agents=true
            PRIMARY KEY (tenant_id, agent, seq)
        );
        CREATE TABLE statement_activities (
            tenant_id  uuid NOT NULL,
            activity   text NOT NULL,            -- the object's or any context activity's id (related_activities=true)
            seq        bigint NOT NULL,
            PRIMARY KEY (tenant_id, activity, seq)
        );
        INSERT INTO statement_agents (tenant_id, agent, seq, direct)
            SELECT tenant_id, '{PREFIX}' || user_id::text, seq, true FROM statements;
        INSERT INTO statement_activities (tenant_id, activity, seq)
            SELECT DISTINCT tenant_id, x, seq FROM statements, LATERAL (SELECT activity_id AS x UNION ALL
                SELECT jsonb_array_elements_text(jsonb_path_query_array(body, '$.context.contextActivities.*[*].id'))
            ) ids;

        CREATE TABLE lrs_documents (
            tenant_id     uuid NOT NULL,
            kind          text NOT NULL CHECK (kind IN ('state', 'activity_profile', 'agent_profile')),
            activity_id   text NOT NULL DEFAULT '',
            agent         text NOT NULL DEFAULT '',
            registration  text NOT NULL DEFAULT '',
            doc_id        text NOT NULL,
            content       bytea NOT NULL,
            content_type  text NOT NULL,
            etag          text NOT NULL,
            updated       timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, kind, activity_id, agent, registration, doc_id)
        );

        CREATE TABLE lrs_attachments (
            tenant_id     uuid NOT NULL,
            sha2          text NOT NULL,
            content_type  text NOT NULL,
            content       bytea NOT NULL,
            PRIMARY KEY (tenant_id, sha2)
        );

        CREATE TABLE lrs_credentials (
            tenant_id     uuid NOT NULL,
            key_id        text NOT NULL,
            secret_hash   text NOT NULL,
            label         text NOT NULL,
            scopes        text[] NOT NULL,
            xapi_version  text NOT NULL DEFAULT '2.0.0',   -- named in answers to requests that name none
            created_by    uuid NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            revoked_at    timestamptz,
            PRIMARY KEY (tenant_id, key_id)
        );

        CREATE TABLE lrs_key_tenants (
            key_id     text PRIMARY KEY,
            tenant_id  uuid NOT NULL
        );
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in ("statement_agents", "statement_activities", "lrs_documents", "lrs_attachments", "lrs_credentials"):
        enable_tenant_isolation(cur, table)
