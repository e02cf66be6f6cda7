"""Per-lesson percent: how far into a lesson the learner is (cmi5 progress extension; 100 when done)."""


def up(cur) -> None:
    cur.execute("ALTER TABLE lesson_progress ADD COLUMN percent integer NOT NULL DEFAULT 0"
                " CHECK (percent BETWEEN 0 AND 100)")
