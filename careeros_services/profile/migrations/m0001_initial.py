"""The profiles table, one row per learner, isolated per tenant by row-level security.

``current_role`` is a reserved word in PostgreSQL (an unquoted ``current_role``
is the session's role name), so the column is always written quoted.
"""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE profiles (
            user_id           uuid PRIMARY KEY,
            tenant_id         uuid NOT NULL,
            display_name      text NOT NULL DEFAULT '' CHECK (char_length(display_name) <= 120),
            headline          text NOT NULL DEFAULT '' CHECK (char_length(headline) <= 200),
            "current_role"    text NOT NULL DEFAULT '' CHECK (char_length("current_role") <= 120),
            target_role       text NOT NULL DEFAULT '' CHECK (char_length(target_role) <= 120),
            years_experience  integer NOT NULL DEFAULT 0 CHECK (years_experience BETWEEN 0 AND 70),
            skills            jsonb NOT NULL DEFAULT '[]'::jsonb
                              CHECK (jsonb_typeof(skills) = 'array'
                                     AND jsonb_array_length(skills) <= 100),
            interests         jsonb NOT NULL DEFAULT '[]'::jsonb
                              CHECK (jsonb_typeof(interests) = 'array'
                                     AND jsonb_array_length(interests) <= 50),
            learning_pace     text NOT NULL DEFAULT 'steady'
                              CHECK (learning_pace IN ('relaxed', 'steady', 'intensive')),
            version           bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX profiles_tenant ON profiles (tenant_id);
    """)
    enable_tenant_isolation(cur, "profiles")
