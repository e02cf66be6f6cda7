"""ai_core tables, each isolated per tenant by row-level security.

consultations + consultation_messages   the learner's conversations (assistant answers as validated JSON)
learner_profiles                        read model of profile.created/updated (skills, target role, years)
courses                                 read model of lms course.published/archived
cv_uploads                              uploaded CVs (object key), proposed and confirmed skills
ai_usage                                tokens and cost of every provider call (micro-USD, integers)
"""
from careeros_services.common.db import enable_tenant_isolation


SCHEMA = """
        CREATE TABLE consultations (
            id           uuid PRIMARY KEY,
            tenant_id    uuid NOT NULL,
            user_id      uuid NOT NULL,
            topic        text NOT NULL CHECK (char_length(topic) <= 200),
            target_role  text NOT NULL DEFAULT '' CHECK (char_length(target_role) <= 120),
            created_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX consultations_owner ON consultations (tenant_id, user_id, created_at);

        CREATE TABLE consultation_messages (
            id                 uuid PRIMARY KEY,
            consultation_id    uuid NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
            tenant_id          uuid NOT NULL,
            seq                integer NOT NULL CHECK (seq >= 1),
            role               text NOT NULL CHECK (role IN ('user', 'assistant')),
            content            text NOT NULL,
            answer             jsonb CHECK ((role = 'assistant') = (answer IS NOT NULL)),
            provider           text NOT NULL DEFAULT '',
            model              text NOT NULL DEFAULT '',
            prompt_tokens      integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
            completion_tokens  integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
            cached             boolean NOT NULL DEFAULT false,
            created_at         timestamptz NOT NULL DEFAULT now(),
            UNIQUE (consultation_id, seq)
        );

        CREATE TABLE learner_profiles (
            user_id           uuid PRIMARY KEY,
            tenant_id         uuid NOT NULL,
            skills            jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(skills) = 'array'),
            target_role       text NOT NULL DEFAULT '',
            years_experience  integer NOT NULL DEFAULT 0,
            headline          text NOT NULL DEFAULT '',
            version           bigint NOT NULL DEFAULT 1,
            updated_at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX learner_profiles_tenant ON learner_profiles (tenant_id);

        CREATE TABLE courses (
            course_id   uuid PRIMARY KEY,
            tenant_id   uuid NOT NULL,
            visibility  text NOT NULL CHECK (visibility IN ('public', 'tenant')),
            slug        text NOT NULL,
            title       text NOT NULL,
            level       text NOT NULL DEFAULT '',
            track       text NOT NULL DEFAULT '',
            skills      jsonb NOT NULL DEFAULT '[]'::jsonb,
            revision    integer NOT NULL DEFAULT 1,
            archived    boolean NOT NULL DEFAULT false,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX courses_tenant ON courses (tenant_id) WHERE NOT archived;

        CREATE TABLE cv_uploads (
            id            uuid PRIMARY KEY,
            tenant_id     uuid NOT NULL,
            user_id       uuid NOT NULL,
            object_key    text NOT NULL,
            filename      text NOT NULL,
            content_type  text NOT NULL,
            size_bytes    integer NOT NULL,
            status        text NOT NULL CHECK (status IN ('proposed', 'confirmed')),
            proposed      jsonb NOT NULL DEFAULT '{}'::jsonb,
            confirmed     jsonb NOT NULL DEFAULT '[]'::jsonb,
            created_at    timestamptz NOT NULL DEFAULT now(),
            confirmed_at  timestamptz
        );
        CREATE INDEX cv_uploads_owner ON cv_uploads (tenant_id, user_id);

        CREATE TABLE ai_usage (
            id                 uuid PRIMARY KEY,
            tenant_id          uuid NOT NULL,
            user_id            uuid NOT NULL,
            provider           text NOT NULL,
            model              text NOT NULL,
            purpose            text NOT NULL CHECK (purpose IN ('consultation', 'roadmap', 'cv')),
            prompt_tokens      integer NOT NULL CHECK (prompt_tokens >= 0),
            completion_tokens  integer NOT NULL CHECK (completion_tokens >= 0),
            cost_micro_usd     bigint NOT NULL CHECK (cost_micro_usd >= 0),
            created_at         timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ai_usage_period ON ai_usage (tenant_id, created_at);
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in ("consultations", "consultation_messages", "learner_profiles", "courses", "cv_uploads", "ai_usage"):
        enable_tenant_isolation(cur, table)
