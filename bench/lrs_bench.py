"""LRS benchmark: statements stored per second through /xapi beside today's ingestion route,
and the p99 of filtered GETs with many statements stored.

    .venv/bin/python bench/lrs_bench.py [seconds] [connections] [statements_loaded]

Starts its own platform (auth + tracker, as `make run` starts them, on free ports and
its own databases, topics and vhost), creates an organisation, an LRS key and a learner.

1. Ingestion, same run, same statements: batches of 50 Storyline-size statements
   (~1.4 KB each: an interaction definition with choices, score, duration, registration,
   grouping, an extension) through ``POST /xapi/statements`` (HTTP Basic LRS key)
   beside ``POST /api/v1/tracking/statements`` (the learner's bearer token). Every
   request carries fresh statement ids (wrk + Lua), so every statement is stored with
   its progress updates and events. The platform runs with /api/v1's body limit raised
   to 1 MiB for this run: with the shipped 64 KiB, today's route refuses such a batch (413).
2. Filtered GETs: ``statements_loaded`` statements (default 1,000,000) are bulk-loaded
   with one SQL ``INSERT .. SELECT generate_series`` into the tenant (1,000 agents, 20
   verbs, 2,000 activities, each with a parent), then wrk measures ``GET /xapi/statements``
   filtered by ``agent``, by ``verb`` + ``activity``, by ``activity`` with
   ``related_activities=true``, beside ``GET /xapi/about`` (no database: the baseline).
"""
from __future__ import annotations

import base64
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
import requests  # noqa: E402

from bench.gateway_bench import wrk  # noqa: E402
from bench.tracking_bench import LUA  # noqa: E402  (fresh statement ids per request)
from careeros_services import supervisor  # noqa: E402
from careeros_services.common import db as dbmod, infra  # noqa: E402

BATCH = 50
SERVICES = ["auth", "tracker"]
AGENTS, VERBS, ACTIVITIES = 1000, 20, 2000

GET_LUA = """
local paths = %(paths)s
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def storyline_template(user_id: str, course_id: str, lesson_id: str) -> str:
    """A Storyline-shaped statement (~1.4 KB) as a Lua format string (``%s`` = the statement id)."""
    body = {
        "id": "__ID__",
        "actor": {"objectType": "Agent", "name": "Bench Learner",
                  "account": {"homePage": "https://careeros.dev", "name": user_id}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {"objectType": "Activity", "id": f"https://careeros.dev/xapi/lessons/{lesson_id}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                                  "name": {"en-US": "Question 3: which of these statements is a join?"},
                                  "description": {"en-US": "Pick every answer that applies to the query. " * 3},
                                  "interactionType": "choice", "correctResponsesPattern": ["choice_1[,]choice_3"],
                                  "choices": [{"id": f"choice_{c}", "description": {"en-US": f"Answer {c} " * 5}}
                                              for c in range(1, 5)]}},
        "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": True, "completion": True,
                   "response": "choice_1[,]choice_3", "duration": "PT1M30.25S"},
        "context": {"registration": str(uuid.uuid4()),
                    "contextActivities": {"parent": [{"id": f"https://careeros.dev/xapi/courses/{course_id}"}],
                                          "grouping": [{"id": "http://example.com/storyline/scene1"}]},
                    "extensions": {"http://id.tincanapi.com/extension/attempt-id": 1}},
    }
    text = json.dumps(body, separators=(",", ":")).replace("%", "%%").replace('"__ID__"', '"%s"')
    return json.dumps(text)


def bulk_load(config: dict, tenant_id: str, count: int) -> float:
    """Insert ``count`` statements of the tenant in one statement (admin connection); returns seconds."""
    started = time.perf_counter()
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "tracker", admin=True))
    with conn, conn.cursor() as cur:
        cur.execute("""
            INSERT INTO statements (tenant_id, statement_id, user_id, verb, activity_id, parent_id, course_id,
                lesson_id, duration_s, ts, stored, body_hash, body)
            SELECT %(tenant)s::uuid, gen_random_uuid(), NULL, v, a, p, '', '', 0, t, t, md5(i::text),
                   jsonb_build_object('id', gen_random_uuid(), 'actor', jsonb_build_object('mbox', m),
                       'verb', jsonb_build_object('id', v), 'object', jsonb_build_object('id', a),
                       'context', jsonb_build_object('contextActivities', jsonb_build_object(
                           'parent', jsonb_build_array(jsonb_build_object('id', p)))),
                       'timestamp', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'stored', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'version', '1.0.3')
            FROM (SELECT i, 'mailto:learner' || (i %% %(agents)s) || '@example.com' AS m,
                         'http://example.com/verbs/v' || (i %% %(verbs)s) AS v,
                         'http://example.com/activities/a' || (i %% %(activities)s) AS a,
                         'http://example.com/courses/c' || (i %% 50) AS p,
                         now() - make_interval(secs => %(count)s - i) AS t
                  FROM generate_series(1, %(count)s) AS i) g
        """, {"tenant": tenant_id, "count": count, "agents": AGENTS, "verbs": VERBS, "activities": ACTIVITIES})
        # The query index the LRS writes with every statement (who and what it is about).
        cur.execute("INSERT INTO statement_agents (tenant_id, agent, seq, direct) SELECT tenant_id,"
                    " 'Agent|mbox|' || (body #>> '{actor,mbox}'), seq, true FROM statements WHERE user_id IS NULL"
                    " AND tenant_id = %s", (tenant_id,))
        cur.execute("INSERT INTO statement_activities (tenant_id, activity, seq) SELECT tenant_id, x, seq"
                    " FROM statements, LATERAL unnest(ARRAY[activity_id, parent_id]) x WHERE user_id IS NULL"
                    " AND tenant_id = %s", (tenant_id,))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE statements, statement_agents, statement_activities")
    conn.close()
    return time.perf_counter() - started


def filtered_queries() -> dict[str, list[str]]:
    """Request paths per kind of query, over many agents/activities so no one page is cached."""
    def path(**params: str) -> str:
        return "/xapi/statements?" + urlencode(params)
    return {
        "GET /xapi/about (baseline, no database)": ["/xapi/about"],
        "GET ?agent=": [path(agent=json.dumps({"mbox": f"mailto:learner{i}@example.com"}))
                        for i in range(0, AGENTS, 7)],
        "GET ?verb=&activity=": [path(verb=f"http://example.com/verbs/v{i % VERBS}",
                                      activity=f"http://example.com/activities/a{i}")
                                 for i in range(0, ACTIVITIES, 13)],
        "GET ?activity=&related_activities=true": [
            path(activity=f"http://example.com/courses/c{i}", related_activities="true") for i in range(50)],
    }


def _owner(base: str) -> tuple[str, str, dict]:
    email = f"lrsb{uuid.uuid4().hex[:8]}@example.com"
    made = requests.post(f"{base}/auth/register", json={"email": email, "password": "benchmark password",
                                                        "display_name": "Bench", "organization_name": "Bench org"},
                         timeout=10)
    assert made.status_code == 201, made.text
    token = requests.post(f"{base}/auth/login", json={"email": email, "password": "benchmark password"},
                          timeout=10).json()["access_token"]
    return made.json()["user_id"], made.json()["tenant_id"], {"Authorization": f"Bearer {token}"}


def main(seconds: int = 20, connections: int = 8, loaded: int = 1_000_000) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    infra.ensure_servers()
    port = infra.free_port()
    broker = infra.start_embedded_broker(port)
    env = supervisor.isolated_env(f"127.0.0.1:{port}", "careeros_lrsbench_", "careeros_lrsbench",
                                  CAREEROS_RATE_LIMIT_IP="100000000", CAREEROS_RATE_LIMIT_TENANT="100000000",
                                  CAREEROS_MAX_BODY_BYTES="1048576")
    supervisor.ensure_vhost("careeros_lrsbench")
    config = supervisor.config_with(env)
    for service in SERVICES:
        dbmod.drop_database(config, service)
    platform = supervisor.Platform(config, services=SERVICES,
                                   log_dir=Path(tempfile.mkdtemp(prefix="careeros-lrsbench-")), env=env)
    gw = config["gateway"]
    scripts: list[str] = []
    try:
        platform.start()
        base = f"http://{gw['bind']}/api/v1"
        xapi = f"http://{gw['bind']}/xapi"
        user_id, tenant_id, bearer = _owner(base)
        key = requests.post(f"{base}/tracking/lrs-keys", json={"label": "bench", "scopes": ["all"]}, headers=bearer,
                            timeout=10).json()
        basic = {"Authorization": "Basic " + base64.b64encode(f"{key['key']}:{key['secret']}".encode()).decode(),
                 "X-Experience-API-Version": "1.0.3"}
        template = storyline_template(user_id, str(uuid.uuid4()), str(uuid.uuid4()))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA % {"n": BATCH, "template": template})
        scripts.append(lua.name)
        sample = [json.loads(json.loads(template) % str(uuid.uuid4())) for _ in range(BATCH)]
        batch_kb = len(json.dumps(sample)) / 1024
        probe = requests.post(f"{xapi}/statements", headers=basic, json=sample, timeout=30)
        assert probe.status_code == 200 and len(probe.json()) == BATCH, probe.text[:300]
        probe = requests.post(f"{base}/tracking/statements", headers=bearer, timeout=30, json=[
            json.loads(json.loads(template) % str(uuid.uuid4())) for _ in range(BATCH)])
        assert probe.status_code == 200 and probe.json()["stored"] == BATCH, probe.text[:300]
        wrk(f"{xapi}/statements", 3, connections, basic, scripts[0])

        print(f"LRS benchmark: wrk -t2 -c{connections} -d{seconds}s, gunicorn gthread {gw['workers']}x"
              f"{gw['threads']}, services {','.join(SERVICES)}, 2 cores shared by everything")
        print(f"ingestion: batches of {BATCH} Storyline-size statements ({batch_kb:.0f} KB a batch), "
              f"two alternating rounds")
        print(f"{'route':44} {'req/s':>8} {'stmts/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        totals = {"api": 0.0, "lrs": 0.0}
        for round_no in (1, 2):
            for name, url, headers, kind in (
                    ("POST /api/v1/tracking/statements (baseline)", f"{base}/tracking/statements", bearer, "api"),
                    ("POST /xapi/statements", f"{xapi}/statements", basic, "lrs")):
                r = wrk(url, seconds, connections, headers, scripts[0])
                totals[kind] += r["rps"]
                print(f"{name + f' #{round_no}':44} {r['rps']:8,.1f} {r['rps'] * BATCH:9,.0f} {r['p50']:8.1f} "
                      f"{r['p99']:8.1f} {r['errors']:8}")
        print(f"ratio: the LRS stores {totals['lrs'] / totals['api']:.2f}x the statements/s of today's route")

        took = bulk_load(config, tenant_id, loaded)
        print(f"\nfiltered GETs: {loaded:,} statements bulk-loaded into the tenant in {took:.0f} s (SQL), "
              f"{AGENTS:,} agents, {VERBS} verbs, {ACTIVITIES:,} activities; pages of 100 (xAPI's default here)")
        queries = filtered_queries()
        print(f"{'query':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, paths in queries.items():
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
                lua.write(GET_LUA % {"paths": "{" + ",".join(json.dumps(p) for p in paths) + "}"})
            scripts.append(lua.name)
            check = requests.get(f"http://{gw['bind']}{paths[0]}", headers=basic, timeout=30)
            assert check.status_code == 200, check.text[:300]
            r = wrk(f"http://{gw['bind']}/xapi/about", seconds, connections, basic, lua.name)
            print(f"{name:40} {r['rps']:8,.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:8}")
    finally:
        platform.stop()
        infra.stop_process(broker)
        for script in scripts:
            Path(script).unlink(missing_ok=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
