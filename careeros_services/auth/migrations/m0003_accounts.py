"""The account lifecycle: when an e-mail address was verified, and single-use account tokens
(e-mail verification, password reset). The tokens themselves are signed JWTs given out by e-mail;
a row records each one so it can be used once and withdrawn when a newer one is sent."""


def up(cur) -> None:
    cur.execute("""
        ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

        CREATE TABLE account_tokens (
            id          uuid PRIMARY KEY,
            user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            purpose     text NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
            created_at  timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz NOT NULL,
            used_at     timestamptz
        );
        CREATE INDEX account_tokens_open ON account_tokens (user_id, purpose) WHERE used_at IS NULL;
    """)
