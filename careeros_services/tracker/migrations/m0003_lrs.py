"""The xAPI LRS: statements of any actor, their query columns, voiding; documents; attachments; keys.

* ``statements`` now holds statements of any Agent or Group (``user_id`` is set only
  when the actor is a CareerOS account: those move progress). Query columns: agent
  keys (actor/object), related agents and activities, registration, a StatementRef's
  target, ``voided``.
* ``lrs_documents`` (State, Activity Profile, Agent Profile), ``lrs_attachments``
  (content by SHA-2), ``lrs_credentials`` (HTTP Basic keys, secret hashed) are
  tenant-scoped with row-level security.
* ``lrs_key_tenants`` (key id -> tenant id, nothing else) is global on purpose: a
  Basic credential names no tenant, so the tenant is found from the key before the
  transaction is scoped to it (the same reason as ``activity_tenants``).
"""
from careeros_services.common.db import enable_tenant_isolation

PREFIX = "Agent|account|https://careeros.dev|"


def up(cur) -> None:
    cur.execute(f"""
        ALTER TABLE statements ALTER COLUMN user_id DROP NOT NULL;
        ALTER TABLE statements
            ADD COLUMN agents text[] NOT NULL DEFAULT '{{}}',
            ADD COLUMN related_agents text[] NOT NULL DEFAULT '{{}}',
            ADD COLUMN related_activities text[] NOT NULL DEFAULT '{{}}',
            ADD COLUMN registration uuid,
            ADD COLUMN ref_target uuid,
            ADD COLUMN voided boolean NOT NULL DEFAULT false;
        UPDATE statements SET agents = ARRAY['{PREFIX}' || user_id::text],
            related_agents = ARRAY['{PREFIX}' || user_id::text],
            related_activities = ARRAY(SELECT DISTINCT x FROM (SELECT activity_id AS x UNION ALL
                SELECT jsonb_array_elements_text(jsonb_path_query_array(body, '$.context.contextActivities.*[*].id'))
            ) ids),
            registration = (body #>> '{{context,registration}}')::uuid;
        CREATE INDEX statements_agents ON statements USING gin (agents);
        CREATE INDEX statements_related_agents ON statements USING gin (related_agents);
        CREATE INDEX statements_related_activities ON statements USING gin (related_activities);
        CREATE INDEX statements_verb ON statements (tenant_id, verb, seq);
        CREATE INDEX statements_activity ON statements (tenant_id, activity_id, seq);
        CREATE INDEX statements_registration ON statements (tenant_id, registration, seq) WHERE registration IS NOT NULL;
        CREATE INDEX statements_ref_target ON statements (tenant_id, ref_target) WHERE ref_target IS NOT NULL;

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
    """)
    for table in ("lrs_documents", "lrs_attachments", "lrs_credentials"):
        enable_tenant_isolation(cur, table)
