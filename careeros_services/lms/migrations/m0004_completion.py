"""Completion owned by the LMS, progress recorded on the learner's behalf, certificate issuers.

- ``enrollments.completed_at``: when the LMS judged the enrolment complete (published as
  ``careeros.lms.enrollment.completed.v1``; every other view follows that event).
- ``lesson_activity``: what the LMS recorded for a learner (opened, marked done, passed), one
  row per lesson and verb, so re-opening a lesson records nothing twice.
- ``organisations``: tenant names from ``auth.tenant.created``, for the certificate's issuer;
  ``certificates.issuer`` keeps the name printed, for public verification.
"""
from careeros_services.common.db import enable_tenant_isolation


def up(cur) -> None:
    cur.execute("""
        ALTER TABLE enrollments ADD COLUMN completed_at timestamptz;
        ALTER TABLE certificates ADD COLUMN issuer text NOT NULL DEFAULT '';

        CREATE TABLE lesson_activity (
            tenant_id     uuid NOT NULL,
            user_id       uuid NOT NULL,
            course_id     uuid NOT NULL,
            lesson_id     uuid NOT NULL,
            verb          text NOT NULL,
            statement_id  uuid NOT NULL,
            recorded_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, lesson_id, verb)
        );
        CREATE INDEX lesson_activity_course ON lesson_activity (tenant_id, user_id, course_id);

        CREATE TABLE organisations (
            tenant_id  uuid PRIMARY KEY,
            name       text NOT NULL,
            kind       text NOT NULL
        );
    """)
    for table in ("lesson_activity", "organisations"):
        enable_tenant_isolation(cur, table)
