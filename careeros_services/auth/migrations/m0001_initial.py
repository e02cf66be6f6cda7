"""Tenants, users, memberships, refresh tokens and signing keys.

Identity is global: ``users`` and ``tenants`` have no row-level security
because login finds the user before any tenant is known. ``memberships`` is
tenant-scoped and isolated per tenant by row-level security. ``refresh_tokens``
is looked up by token hash before its tenant is known, so it is not under RLS
either (its rows hold only hashes). Constraint names are explicit where code
refers to them (``users_email_key``).
"""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE tenants (
            id          uuid PRIMARY KEY,
            name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
            kind        text NOT NULL CHECK (kind IN ('personal', 'organization')),
            plan_tier   text NOT NULL DEFAULT 'free' CHECK (plan_tier IN ('free', 'pro', 'team')),
            created_at  timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE users (
            id              uuid PRIMARY KEY,
            email           text NOT NULL,
            password_hash   text NOT NULL,
            display_name    text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 120),
            home_tenant_id  uuid NOT NULL REFERENCES tenants (id),
            created_at      timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT users_email_key UNIQUE (email),
            CONSTRAINT users_email_normalised CHECK (email = lower(email) AND char_length(email) <= 254)
        );
        CREATE INDEX users_home_tenant ON users (home_tenant_id);

        CREATE TABLE memberships (
            tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
            user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            org_role    text NOT NULL CHECK (org_role IN ('owner', 'admin', 'instructor', 'member')),
            created_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id)
        );
        CREATE INDEX memberships_user ON memberships (user_id);

        CREATE TABLE refresh_tokens (
            id          uuid PRIMARY KEY,
            token_hash  text NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
            family_id   uuid NOT NULL,
            user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
            issued_at   timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz NOT NULL,
            used_at     timestamptz,
            revoked_at  timestamptz
        );
        CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
        CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

        CREATE TABLE signing_keys (
            kid          text PRIMARY KEY,
            private_pem  text NOT NULL,
            public_jwk   jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            retired_at   timestamptz
        );
        CREATE INDEX signing_keys_active ON signing_keys (created_at) WHERE retired_at IS NULL;
    """)
    enable_tenant_isolation(cur, "memberships")
