"""Catalog search that uses its indexes under row-level security (bench/catalog_bench.py).

Under RLS PostgreSQL evaluates the policy before any user condition whose function is not
LEAKPROOF, so ``search @@ query``, ``title % text`` and ``skill_keys @> keys`` could not use
their GIN indexes: every search was a sequential scan (~30 ms full-text, ~130 ms trigram at
10k courses). These operators' functions cannot reveal anything about the rows they reject
(they raise no data-dependent errors), so they are marked LEAKPROOF in this database only.
That needs a superuser; without one the migration keeps the slower plans and says so.

Browsing in title order walks a partial index instead of sorting every published course.
"""
import logging

log = logging.getLogger(__name__)

LEAKPROOF = ("pg_catalog.ts_match_vq(tsvector, tsquery)", "similarity_op(text, text)",
             "pg_catalog.arraycontains(anyarray, anyarray)")


def up(cur) -> None:
    cur.execute("CREATE INDEX courses_published_title ON courses (title, id) WHERE status = 'published'")
    cur.execute("SAVEPOINT leakproof")
    try:
        for fn in LEAKPROOF:
            cur.execute(f"ALTER FUNCTION {fn} LEAKPROOF")
    except Exception as exc:  # noqa: BLE001 - insufficient privilege: correct, only slower
        cur.execute("ROLLBACK TO SAVEPOINT leakproof")
        log.warning("lms: search operators not marked LEAKPROOF (%s); catalog search will scan", exc)
    cur.execute("RELEASE SAVEPOINT leakproof")
