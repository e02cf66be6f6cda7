"""When a learner's role and a tenant's plan were set, so the latest event wins in any arrival order.

A learner's role comes from two topics (``auth.user`` and ``auth.membership``)
and a rebuild's replay may interleave with the live consumer, so events about
the same row can arrive in any order; each write now keeps the value of the
event that happened last (``occurred_at``).
"""


def up(cur) -> None:
    cur.execute("""
        ALTER TABLE learners ADD COLUMN role_at timestamptz;
        ALTER TABLE tenants ADD COLUMN plan_at timestamptz;
    """)
