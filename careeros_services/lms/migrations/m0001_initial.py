"""Catalog, working copy, revisions, enrolments, quiz attempts, progress, certificates, uploads.

Row-level security: every table is tenant-isolated. Catalog tables (courses, modules,
lessons, course_revisions) also let every tenant SELECT the platform tenant's rows (the
public catalog); writes stay limited to the caller's own tenant. Certificates are public
by design (verification by id without a token), so their SELECT policy is open; writes
are tenant-checked.
"""
from careeros_services.common.db import enable_tenant_isolation

PLATFORM = "00000000-0000-0000-0000-000000000000"


SCHEMA = """
        CREATE TABLE courses (
            id               uuid PRIMARY KEY,
            tenant_id        uuid NOT NULL,
            slug             text NOT NULL,
            title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
            summary          text NOT NULL DEFAULT '',
            level            text NOT NULL CHECK (level IN ('beginner', 'intermediate', 'advanced')),
            language         text NOT NULL DEFAULT 'en',
            estimated_hours  integer NOT NULL DEFAULT 0 CHECK (estimated_hours >= 0),
            tags             text[] NOT NULL DEFAULT '{}',
            track            text NOT NULL DEFAULT '',
            premium          boolean NOT NULL DEFAULT false,
            skills           jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(skills) = 'array'),
            skill_keys       text[] NOT NULL DEFAULT '{}',
            visibility       text NOT NULL CHECK (visibility IN ('public', 'tenant')),
            status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
            revision         integer NOT NULL DEFAULT 0,
            content_hash     text NOT NULL DEFAULT '',
            created_by       uuid,
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now(),
            search           tsvector GENERATED ALWAYS AS (lms_course_document(title, tags, track, summary)) STORED,
            UNIQUE (tenant_id, slug)
        );
        CREATE INDEX courses_search ON courses USING gin (search);
        CREATE INDEX courses_skill_keys ON courses USING gin (skill_keys);
        CREATE INDEX courses_title_trgm ON courses USING gin (title gin_trgm_ops);
        CREATE INDEX courses_listing ON courses (tenant_id, status, title, id);

        CREATE TABLE course_modules (
            id         uuid PRIMARY KEY,
            tenant_id  uuid NOT NULL,
            course_id  uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
            title      text NOT NULL,
            position   integer NOT NULL,
            removed    boolean NOT NULL DEFAULT false
        );
        CREATE INDEX course_modules_course ON course_modules (course_id, position);

        CREATE TABLE lessons (
            id                 uuid PRIMARY KEY,
            tenant_id          uuid NOT NULL,
            course_id          uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
            module_id          uuid NOT NULL REFERENCES course_modules (id) ON DELETE CASCADE,
            title              text NOT NULL,
            kind               text NOT NULL CHECK (kind IN ('article', 'video', 'file', 'quiz')),
            required           boolean NOT NULL DEFAULT true,
            position           integer NOT NULL,
            estimated_minutes  integer NOT NULL DEFAULT 10,
            body_md            text NOT NULL DEFAULT '',
            quiz               jsonb,
            asset              jsonb,
            removed            boolean NOT NULL DEFAULT false
        );
        CREATE INDEX lessons_module ON lessons (module_id, position);
        CREATE INDEX lessons_course ON lessons (course_id);

        CREATE TABLE course_revisions (
            tenant_id     uuid NOT NULL,
            course_id     uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
            revision      integer NOT NULL,
            snapshot      jsonb NOT NULL,
            published_at  timestamptz NOT NULL DEFAULT now(),
            published_by  uuid,
            PRIMARY KEY (course_id, revision)
        );

        CREATE TABLE enrollments (
            id                uuid PRIMARY KEY,
            tenant_id         uuid NOT NULL,
            user_id           uuid NOT NULL,
            course_id         uuid NOT NULL,
            course_tenant_id  uuid NOT NULL,
            premium           boolean NOT NULL,
            status            text NOT NULL CHECK (status IN ('active', 'cancelled')),
            enrolled_revision integer NOT NULL,
            created_at        timestamptz NOT NULL DEFAULT now(),
            cancelled_at      timestamptz
        );
        CREATE UNIQUE INDEX enrollments_one_active ON enrollments (tenant_id, user_id, course_id)
            WHERE status = 'active';
        CREATE INDEX enrollments_user ON enrollments (tenant_id, user_id, created_at);

        CREATE TABLE quiz_attempts (
            id             uuid PRIMARY KEY,
            tenant_id      uuid NOT NULL,
            user_id        uuid NOT NULL,
            course_id      uuid NOT NULL,
            lesson_id      uuid NOT NULL,
            attempt_no     integer NOT NULL,
            revision       integer NOT NULL,
            score_percent  integer NOT NULL CHECK (score_percent BETWEEN 0 AND 100),
            passed         boolean NOT NULL,
            answers        jsonb NOT NULL,
            created_at     timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, user_id, lesson_id, attempt_no)
        );

        CREATE TABLE learner_progress (
            tenant_id      uuid NOT NULL,
            user_id        uuid NOT NULL,
            course_id      uuid NOT NULL,
            percent        integer NOT NULL,
            required_done  boolean NOT NULL,
            updated_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, course_id)
        );

        CREATE TABLE learners (
            tenant_id     uuid NOT NULL,
            user_id       uuid NOT NULL,
            display_name  text NOT NULL DEFAULT '',
            PRIMARY KEY (tenant_id, user_id)
        );

        CREATE TABLE certificates (
            id            uuid PRIMARY KEY,
            tenant_id     uuid NOT NULL,
            user_id       uuid NOT NULL,
            course_id     uuid NOT NULL,
            course_title  text NOT NULL,
            learner_name  text NOT NULL DEFAULT '',
            revision      integer NOT NULL,
            issued_at     timestamptz NOT NULL,
            pdf_key       text NOT NULL,
            UNIQUE (tenant_id, user_id, course_id)
        );

        CREATE TABLE asset_uploads (
            upload_id   uuid NOT NULL,
            seq         integer NOT NULL,
            tenant_id   uuid NOT NULL,
            lesson_id   uuid NOT NULL,
            data        bytea NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (upload_id, seq)
        );
    """


def up(cur) -> None:
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # array_to_string is only STABLE; tags are plain text, so the wrapper is safely IMMUTABLE
    # (a generated column needs an immutable expression).
    cur.execute("""
        CREATE FUNCTION lms_course_document(title text, tags text[], track text, summary text)
        RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT setweight(to_tsvector('english'::regconfig, title), 'A')
                || setweight(to_tsvector('english'::regconfig, array_to_string(tags, ' ') || ' ' || track), 'B')
                || setweight(to_tsvector('english'::regconfig, summary), 'C')
        $$;
    """)
    cur.execute(SCHEMA)
    for table in ("courses", "course_modules", "lessons", "course_revisions", "enrollments", "quiz_attempts",
                  "learner_progress", "learners", "certificates", "asset_uploads"):
        enable_tenant_isolation(cur, table)
    for table in ("courses", "course_modules", "lessons", "course_revisions"):
        cur.execute(f"CREATE POLICY platform_catalog_read ON {table} FOR SELECT "
                    f"USING (tenant_id = '{PLATFORM}'::uuid)")
    cur.execute("CREATE POLICY public_verification ON certificates FOR SELECT USING (true)")
