"""Catalog search benchmark: the lms service layer over 10,000 courses on real PostgreSQL.

    .venv/bin/python bench/catalog_bench.py [courses] [queries]

Builds its own database (prefix ``careeros_bench_lms_``: migrated, seeded, then filled with
generated courses — 90 % public platform catalog, 10 % spread over 50 tenants' private
courses), then times, sequentially and through the same ``store.transaction`` + RLS path
the gRPC server uses:

* baseline: a primary-key fetch of one course (``LmsRepository.course``);
* text search (full-text ``websearch_to_tsquery`` + title trigram similarity, ranked);
* skill filter (``skill_keys`` GIN, by ESCO URI), level + track filters, deep pages.

Prints p50/p99 per query kind and each p99 as a multiple of the baseline's p99. Also
EXPLAINs the text query to show which index it uses.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from psycopg2.extras import execute_values  # noqa: E402

from bus.store import ServiceStore, migrations  # noqa: E402
from careeros_services.common import db as dbmod, infra  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from careeros_services.common.storage import LocalStorage  # noqa: E402
from careeros_services.lms import domain, seeding  # noqa: E402
from careeros_services.lms.persistence import LmsRepository  # noqa: E402
from careeros_services.lms.service import Caller, LmsService  # noqa: E402

WORDS = ("python sql data analysis machine learning cloud kubernetes security network design ux research "
         "product roadmap agile scrum marketing seo content leadership hiring onboarding java typescript "
         "testing devops observability statistics visualisation excel pandas deep nlp risk gdpr").split()
LEVELS = domain.LEVELS


def fill(config: dict, n: int, tenants: list[str]) -> list[str]:
    catalog = seeding.load_catalog()["courses"]
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "lms", admin=True))
    rng = random.Random(7)
    ids, rows = [], []
    for i in range(n):
        base = catalog[i % len(catalog)]
        words = rng.sample(WORDS, 3)
        tenant = domain.PLATFORM_TENANT if rng.random() < 0.9 else rng.choice(tenants)
        cid = str(uuid.uuid4())
        ids.append(cid)
        title = f"{words[0].title()} {words[1]} for {base['track'].replace('-', ' ')} #{i}"
        rows.append((cid, tenant, f"bench-{i}", title, f"{base['summary']} Covers {' and '.join(words)}.",
                     rng.choice(LEVELS), "en", rng.randint(2, 40), words, base["track"], rng.random() < 0.3,
                     json.dumps(base["skills"]), domain.skill_keys(base["skills"]),
                     "public" if tenant == domain.PLATFORM_TENANT else "tenant", "published", 1))
    with conn, conn.cursor() as cur:
        execute_values(cur, "INSERT INTO courses (id, tenant_id, slug, title, summary, level, language,"
                            " estimated_hours, tags, track, premium, skills, skill_keys, visibility, status, revision)"
                            " VALUES %s", rows, page_size=1000)
    # Steady state as autovacuum leaves it: GIN pending lists merged, statistics fresh.
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE courses")
    conn.close()
    return ids


def timed(fn, runs: int) -> list[float]:
    fn()  # warm up (connection, plan cache)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    infra.ensure_servers()
    config = load_config()
    config["postgres"]["database_prefix"] = "careeros_bench_lms_"
    dbmod.drop_database(config, "lms")
    dbmod.migrate(config, "lms", migrations("careeros_services.lms"))
    tenants = [str(uuid.uuid4()) for _ in range(50)]
    t0 = time.perf_counter()
    ids = fill(config, n, tenants)
    print(f"filled {n} courses (+{len(seeding.load_catalog()['courses'])} seeded) in "
          f"{time.perf_counter() - t0:.1f} s")
    store = ServiceStore.from_config(config, "lms")
    import tempfile
    svc = LmsService(store, LocalStorage(tempfile.mkdtemp(), "bench", signing_secret="x"))
    caller = Caller.of(tenants[0], str(uuid.uuid4()))
    rng = random.Random(11)
    queries = [" ".join(rng.sample(WORDS, 2)) for _ in range(50)]
    esco = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"

    def pk():
        with store.transaction(caller.tenant_id) as tx:
            LmsRepository(tx.db).course(caller.tenant_id, rng.choice(ids))

    cases = {
        "baseline: primary-key fetch": pk,
        "text search (FTS + trigram), page 1": lambda: svc.search_courses(caller, text=rng.choice(queries)),
        "text search, one word": lambda: svc.search_courses(caller, text=rng.choice(WORDS)),
        "skill filter (ESCO URI)": lambda: svc.search_courses(caller, skill=esco),
        "level + track filter": lambda: svc.search_courses(caller, level=rng.choice(LEVELS), track="data-analysis"),
        "browse all, page 50 of 20": lambda: svc.search_courses(caller, page=50),
        "typo search ('pythn')": lambda: svc.search_courses(caller, text="pythn foundatons"),
    }
    results = {name: timed(fn, runs) for name, fn in cases.items()}
    base_p99 = pct(results["baseline: primary-key fetch"], 99)
    print(f"\n{'query':40s} {'p50 ms':>8s} {'p99 ms':>8s} {'p99 / baseline':>15s}")
    for name, values in results.items():
        print(f"{name:40s} {statistics.median(values):8.2f} {pct(values, 99):8.2f} {pct(values, 99) / base_p99:14.1f}x")
    hits = svc.search_courses(caller, text="python testing")
    print(f"\n'python testing': {hits['total']} matches; first: {hits['items'][0]['title']!r}")
    for label, cond in (("full-text", "search @@ websearch_to_tsquery('english', 'python testing')"),
                        ("trigram", "title %% 'pythn foundatons'")):
        with store.transaction(caller.tenant_id) as tx:
            plan = tx.db.execute_sql(
                "EXPLAIN ANALYZE SELECT count(*) FROM courses WHERE tenant_id IN (%s, %s)"
                f" AND status = 'published' AND {cond}", (caller.tenant_id, domain.PLATFORM_TENANT)).fetchall()
        print(f"plan ({label}):", " | ".join(r[0].strip() for r in plan[:8]))
    store.close()
    dbmod.drop_database(config, "lms")


if __name__ == "__main__":
    main()
