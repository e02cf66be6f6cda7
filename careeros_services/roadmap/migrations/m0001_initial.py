"""Roadmaps, their versions, the saga log and the read models the roadmap service keeps.

Tenant-scoped tables are isolated by row-level security. Two tables hold ids
only and are not under RLS, like the outbox: ``saga_queue`` (the work list the
saga runner sweeps across tenants) and ``roadmap_directory`` (which roadmap of
which tenant links which courses, so an archived public course reaches every
tenant's roadmaps). The catalog read model lets a tenant see its own courses
and the platform's public ones.
"""
from careeros_services.common.db import enable_tenant_isolation


SCHEMA = """
        CREATE TABLE roadmaps (
            roadmap_id      uuid PRIMARY KEY,
            tenant_id       uuid NOT NULL,
            user_id         uuid NOT NULL,
            active_version  integer NOT NULL DEFAULT 0 CHECK (active_version >= 0),
            org_role        text NOT NULL DEFAULT 'member',
            plan_tier       text NOT NULL DEFAULT 'free',
            last_regeneration jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT roadmaps_one_per_learner UNIQUE (tenant_id, user_id)
        );

        CREATE TABLE roadmap_versions (
            roadmap_id      uuid NOT NULL,
            version         integer NOT NULL CHECK (version >= 1),
            tenant_id       uuid NOT NULL,
            target_role     text NOT NULL CHECK (char_length(target_role) BETWEEN 1 AND 120),
            hours_per_week  integer NOT NULL CHECK (hours_per_week BETWEEN 1 AND 80),
            deadline        date,
            reason          text NOT NULL,
            saga_id         uuid NOT NULL,
            plan            jsonb NOT NULL,
            created_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (roadmap_id, version)
        );

        CREATE TABLE milestone_marks (
            roadmap_id  uuid NOT NULL,
            skill_id    text NOT NULL,
            tenant_id   uuid NOT NULL,
            status      text NOT NULL CHECK (status IN ('pending', 'learning', 'done', 'skipped')),
            updated_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (roadmap_id, skill_id)
        );

        CREATE TABLE achievements (
            roadmap_id  uuid NOT NULL,
            skill_key   text NOT NULL,
            level       integer NOT NULL CHECK (level BETWEEN 1 AND 5),
            tenant_id   uuid NOT NULL,
            user_id     uuid NOT NULL,
            skill_name  text NOT NULL,
            evidence    jsonb NOT NULL,
            achieved_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (roadmap_id, skill_key, level)
        );

        CREATE TABLE regen_sagas (
            saga_id       uuid PRIMARY KEY,
            tenant_id     uuid NOT NULL,
            roadmap_id    uuid NOT NULL,
            user_id       uuid NOT NULL,
            trigger_key   text NOT NULL,
            reason        text NOT NULL CHECK (reason IN ('requested', 'target_role_changed',
                                                          'behind_schedule', 'course_archived')),
            state         text NOT NULL CHECK (state IN ('started', 'proposed', 'planned',
                                                         'committed', 'compensated')),
            params        jsonb NOT NULL,
            proposal      jsonb,
            plan          jsonb,
            base_version  integer NOT NULL,
            new_version   integer,
            attempts      integer NOT NULL DEFAULT 0,
            error         text NOT NULL DEFAULT '',
            log           jsonb NOT NULL DEFAULT '[]'::jsonb,
            created_at    timestamptz NOT NULL DEFAULT now(),
            updated_at    timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT regen_sagas_one_per_trigger UNIQUE (roadmap_id, trigger_key)
        );

        CREATE TABLE saga_queue (
            saga_id      uuid PRIMARY KEY,
            tenant_id    uuid NOT NULL,
            due_at       timestamptz NOT NULL DEFAULT now(),
            lease_until  timestamptz
        );
        CREATE INDEX saga_queue_due ON saga_queue (due_at);

        CREATE TABLE roadmap_directory (
            roadmap_id  uuid PRIMARY KEY,
            tenant_id   uuid NOT NULL,
            course_ids  text[] NOT NULL DEFAULT '{}'
        );
        CREATE INDEX roadmap_directory_courses ON roadmap_directory USING gin (course_ids);

        CREATE TABLE catalog_courses (
            course_id        uuid PRIMARY KEY,
            tenant_id        uuid NOT NULL,
            visibility       text NOT NULL CHECK (visibility IN ('public', 'tenant')),
            slug             text NOT NULL,
            title            text NOT NULL,
            estimated_hours  integer NOT NULL DEFAULT 0,
            skills           jsonb NOT NULL DEFAULT '[]'::jsonb,
            lessons          jsonb NOT NULL DEFAULT '[]'::jsonb,
            revision         integer NOT NULL DEFAULT 0,
            archived         boolean NOT NULL DEFAULT false,
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX catalog_courses_tenant ON catalog_courses (tenant_id);

        CREATE TABLE course_progress (
            tenant_id         uuid NOT NULL,
            user_id           uuid NOT NULL,
            course_id         text NOT NULL,
            percent           integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
            completed         boolean NOT NULL,
            lessons_done      integer NOT NULL DEFAULT 0,
            lessons_total     integer NOT NULL DEFAULT 0,
            last_activity_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, user_id, course_id)
        );

        CREATE TABLE learner_profiles (
            tenant_id        uuid NOT NULL,
            user_id          uuid NOT NULL,
            target_role      text NOT NULL DEFAULT '',
            skills           jsonb NOT NULL DEFAULT '[]'::jsonb,
            profile_version  bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, user_id)
        );
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in ("roadmaps", "roadmap_versions", "milestone_marks", "achievements", "regen_sagas",
                  "course_progress", "learner_profiles"):
        enable_tenant_isolation(cur, table)
    # Public platform courses are readable from every tenant; writes stay with the owner.
    cur.execute("""
        ALTER TABLE catalog_courses ENABLE ROW LEVEL SECURITY;
        ALTER TABLE catalog_courses FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_or_public ON catalog_courses
            USING (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid
                   OR visibility = 'public')
            WITH CHECK (tenant_id = NULLIF(current_setting('careeros.tenant_id', true), '')::uuid);
    """)
