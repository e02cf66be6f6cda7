"""The analytics read models: one fact table per kind of event, tenant-isolated by RLS.

Every table is keyed by ``(tenant_id, <event's own id>)`` so a fact stays
inside its tenant even if two tenants' producers reused an id, and every
writer is an upsert that does not depend on arrival order (a rebuild's
replay may interleave with the live consumer). Reports aggregate these rows
per period; nothing here is pre-aggregated, so a changed definition needs
only a code change (and no rebuild).
"""
from careeros_services.common.db import enable_tenant_isolation

TABLES = ("tenants", "learners", "statements", "enrollments", "certificates", "quiz_attempts",
          "assignments", "ai_usage", "invoices")


SCHEMA = """
        CREATE TABLE tenants (
            tenant_id   uuid PRIMARY KEY,
            name        text NOT NULL DEFAULT '',
            kind        text NOT NULL DEFAULT '',
            plan_tier   text NOT NULL DEFAULT ''
        );
        CREATE TABLE learners (
            tenant_id     uuid NOT NULL,
            user_id       uuid NOT NULL,
            display_name  text NOT NULL DEFAULT '',
            role          text NOT NULL DEFAULT '',
            PRIMARY KEY (tenant_id, user_id)
        );
        CREATE TABLE statements (
            tenant_id     uuid NOT NULL,
            statement_id  text NOT NULL,
            user_id       uuid NOT NULL,
            verb          text NOT NULL,
            course_id     text NOT NULL DEFAULT '',
            at            timestamptz NOT NULL,
            day           date NOT NULL,
            duration_s    integer NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
            PRIMARY KEY (tenant_id, statement_id)
        );
        CREATE INDEX statements_tenant_day ON statements (tenant_id, day, user_id);
        CREATE TABLE enrollments (
            tenant_id      uuid NOT NULL,
            enrollment_id  text NOT NULL,
            user_id        uuid NOT NULL,
            course_id      text NOT NULL,
            premium        boolean NOT NULL DEFAULT false,
            enrolled_at    timestamptz,
            cancelled_at   timestamptz,
            PRIMARY KEY (tenant_id, enrollment_id)
        );
        CREATE INDEX enrollments_tenant_enrolled ON enrollments (tenant_id, enrolled_at);
        CREATE TABLE certificates (
            tenant_id       uuid NOT NULL,
            certificate_id  text NOT NULL,
            user_id         uuid NOT NULL,
            course_id       text NOT NULL,
            course_title    text NOT NULL DEFAULT '',
            issued_at       timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, certificate_id)
        );
        CREATE INDEX certificates_tenant_user_course
            ON certificates (tenant_id, user_id, course_id, issued_at);
        CREATE TABLE quiz_attempts (
            tenant_id      uuid NOT NULL,
            attempt_id     text NOT NULL,
            user_id        uuid NOT NULL,
            course_id      text NOT NULL,
            lesson_id      text NOT NULL,
            score_percent  integer NOT NULL CHECK (score_percent BETWEEN 0 AND 100),
            passed         boolean NOT NULL,
            attempt_no     integer NOT NULL,
            attempted_at   timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, attempt_id)
        );
        CREATE INDEX quiz_attempts_tenant_at ON quiz_attempts (tenant_id, attempted_at);
        CREATE TABLE assignments (
            tenant_id      uuid NOT NULL,
            assignment_id  text NOT NULL,
            user_id        uuid NOT NULL,
            course_id      text NOT NULL DEFAULT '',
            target_role    text NOT NULL DEFAULT '',
            assigned_by    text NOT NULL DEFAULT '',
            due_at         timestamptz,
            assigned_at    timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, assignment_id)
        );
        CREATE INDEX assignments_tenant_at ON assignments (tenant_id, assigned_at);
        CREATE TABLE ai_usage (
            tenant_id          uuid NOT NULL,
            usage_id           text NOT NULL,
            user_id            uuid NOT NULL,
            provider           text NOT NULL,
            model              text NOT NULL,
            purpose            text NOT NULL,
            prompt_tokens      bigint NOT NULL CHECK (prompt_tokens >= 0),
            completion_tokens  bigint NOT NULL CHECK (completion_tokens >= 0),
            cost_micro_usd     bigint NOT NULL CHECK (cost_micro_usd >= 0),
            recorded_at        timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, usage_id)
        );
        CREATE INDEX ai_usage_tenant_at ON ai_usage (tenant_id, recorded_at);
        CREATE TABLE invoices (
            tenant_id        uuid NOT NULL,
            invoice_id       text NOT NULL,
            subscription_id  text NOT NULL,
            currency         char(3) NOT NULL,
            total_minor      bigint NOT NULL,
            issued_at        timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, invoice_id)
        );
        CREATE INDEX invoices_tenant_at ON invoices (tenant_id, issued_at);
    """


def up(cur) -> None:
    cur.execute(SCHEMA)
    for table in TABLES:
        enable_tenant_isolation(cur, table)
