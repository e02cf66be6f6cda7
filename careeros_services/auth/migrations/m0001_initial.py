"""Tenants, users, memberships, refresh tokens and signing keys.

Identity is global (you log in before a tenant is known), so ``tenants``,
``users``, ``refresh_tokens`` and ``signing_keys`` carry no row-level policy;
``memberships`` (who belongs to which tenant, with which role) is
tenant-scoped and isolated by row-level security.
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
            email           text NOT NULL UNIQUE CHECK (email = lower(email)),
            password_hash   text NOT NULL,
            display_name    text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 120),
            home_tenant_id  uuid NOT NULL REFERENCES tenants (id),
            created_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE memberships (
            tenant_id   uuid NOT NULL REFERENCES tenants (id),
            user_id     uuid NOT NULL REFERENCES users (id),
            org_role    text NOT NULL CHECK (org_role IN ('owner', 'admin', 'instructor', 'member')),
            created_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id)
        );
        CREATE TABLE refresh_tokens (
            id          uuid PRIMARY KEY,
            token_hash  text NOT NULL UNIQUE,
            family_id   uuid NOT NULL,
            user_id     uuid NOT NULL REFERENCES users (id),
            tenant_id   uuid NOT NULL REFERENCES tenants (id),
            issued_at   timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz NOT NULL,
            used_at     timestamptz,
            revoked_at  timestamptz
        );
        CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
        CREATE TABLE signing_keys (
            kid          text PRIMARY KEY,
            private_pem  text NOT NULL,
            public_jwk   jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            retired_at   timestamptz
        );
    """)
    enable_tenant_isolation(cur, "memberships")
