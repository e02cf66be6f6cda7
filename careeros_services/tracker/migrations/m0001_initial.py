"""Statements (the LRS), progress read models, the course-structure read model, goals.

Every learner table is tenant-scoped with row-level security. Two exceptions,
both on purpose:

* ``course_structures`` is readable by every tenant when it belongs to the
  platform tenant (public catalog courses are published once, by the platform,
  and learners of all tenants take them); writes stay tenant-checked.
* ``activity_tenants`` is a global index "which tenants have activity on this
  course/lesson", holding ids only (no learner, no content). A newly published
  structure must recompute the progress of learners in every such tenant, and
  RLS would hide them from the handler's tenant-scoped transaction.
"""
from careeros_services.common.db import enable_tenant_isolation

PLATFORM_TENANT = "00000000-0000-0000-0000-000000000000"


SCHEMA = """
        CREATE TABLE statements (
            tenant_id     uuid NOT NULL,
            statement_id  uuid NOT NULL,
            seq           bigserial NOT NULL,
            user_id       uuid NOT NULL,
            verb          text NOT NULL,
            activity_id   text NOT NULL,
            parent_id     text NOT NULL DEFAULT '',
            course_id     text NOT NULL DEFAULT '',
            lesson_id     text NOT NULL DEFAULT '',
            duration_s    integer NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
            ts            timestamptz NOT NULL,
            stored        timestamptz NOT NULL DEFAULT now(),
            body_hash     text NOT NULL,
            body          jsonb NOT NULL,
            PRIMARY KEY (tenant_id, statement_id)
        );
        -- newest first, per learner and per tenant (stable order: seq)
        CREATE UNIQUE INDEX statements_user_seq ON statements (tenant_id, user_id, seq DESC);
        CREATE UNIQUE INDEX statements_tenant_seq ON statements (tenant_id, seq DESC);

        CREATE TABLE lesson_progress (
            tenant_id         uuid NOT NULL,
            user_id           uuid NOT NULL,
            lesson_id         text NOT NULL,
            course_id         text NOT NULL DEFAULT '',
            done              boolean NOT NULL DEFAULT false,
            done_at           timestamptz,
            time_spent_s      bigint NOT NULL DEFAULT 0,
            last_activity_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, user_id, lesson_id)
        );
        CREATE INDEX lesson_progress_lesson ON lesson_progress (tenant_id, lesson_id);

        CREATE TABLE course_progress (
            tenant_id         uuid NOT NULL,
            user_id           uuid NOT NULL,
            course_id         text NOT NULL,
            percent           integer NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
            lessons_done      integer NOT NULL DEFAULT 0,
            lessons_total     integer NOT NULL DEFAULT 0,
            required_done     boolean NOT NULL DEFAULT false,
            completed         boolean NOT NULL DEFAULT false,
            time_spent_s      bigint NOT NULL DEFAULT 0,
            last_activity_at  timestamptz NOT NULL,
            revision          integer NOT NULL DEFAULT 0,
            updated_at        timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, course_id)
        );
        CREATE INDEX course_progress_course ON course_progress (tenant_id, course_id);

        CREATE TABLE learner_days (
            tenant_id   uuid NOT NULL,
            user_id     uuid NOT NULL,
            day         date NOT NULL,
            seconds     bigint NOT NULL DEFAULT 0,
            statements  integer NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, user_id, day)
        );

        CREATE TABLE learner_goals (
            tenant_id         uuid NOT NULL,
            user_id           uuid NOT NULL,
            minutes_per_week  integer NOT NULL CHECK (minutes_per_week BETWEEN 0 AND 10080),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id)
        );

        CREATE TABLE course_structures (
            course_id   text PRIMARY KEY,
            tenant_id   uuid NOT NULL,
            revision    integer NOT NULL,
            lessons     jsonb NOT NULL,            -- [{"lesson_id", "required", "title"}] in course order
            lesson_ids  text[] NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX course_structures_lessons ON course_structures USING gin (lesson_ids);

        CREATE TABLE activity_tenants (
            activity_key  text NOT NULL,           -- "course:<id>" or "lesson:<id>"
            tenant_id     uuid NOT NULL,
            PRIMARY KEY (activity_key, tenant_id)
        );
    """


SCHEMA_2 = f"""
        ALTER TABLE course_structures ENABLE ROW LEVEL SECURITY;
        ALTER TABLE course_structures FORCE ROW LEVEL SECURITY;
        CREATE POLICY read_own_or_platform ON course_structures FOR SELECT
            USING (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid
                   OR tenant_id = '{PLATFORM_TENANT}'::uuid);
        CREATE POLICY write_own_insert ON course_structures FOR INSERT
            WITH CHECK (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid);
        CREATE POLICY write_own_update ON course_structures FOR UPDATE
            USING (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid);
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in ("statements", "lesson_progress", "course_progress", "learner_days", "learner_goals"):
        enable_tenant_isolation(cur, table)
    cur.execute(SCHEMA_2)
