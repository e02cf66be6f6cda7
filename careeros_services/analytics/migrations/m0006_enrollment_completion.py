"""Completion as the LMS decides it: ``enrollments.completed_at`` from ``lms.enrollment.completed``.

Until now an enrolment counted as completed when its learner held a certificate of the course;
the LMS now publishes the completion itself (and issues the certificate in the same
transaction), so the report reads the one definition. A rebuild refills the column.
"""


def up(cur) -> None:
    cur.execute("ALTER TABLE enrollments ADD COLUMN completed_at timestamptz")
