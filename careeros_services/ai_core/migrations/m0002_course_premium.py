"""The course read model keeps whether a course is premium and its hours.

The consultant says whether the learner's plan includes a course it recommends,
and leaves premium ones out when the learner asked for free courses only. Rows
consumed before this migration read as free until their next published revision.
"""


def up(cur) -> None:
    cur.execute("""
        ALTER TABLE courses ADD COLUMN premium boolean NOT NULL DEFAULT false;
        ALTER TABLE courses ADD COLUMN estimated_hours integer NOT NULL DEFAULT 0 CHECK (estimated_hours >= 0);
    """)
