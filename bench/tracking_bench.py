"""Tracking benchmark: xAPI statement ingestion through the gateway, batches of 50
beside single-statement POSTs, in the same run.

    .venv/bin/python bench/tracking_bench.py [seconds] [connections]

Starts its own platform (auth + tracker, as `make run` starts them, on free
ports and its own databases, topics and vhost), registers a learner, then
loads POST /api/v1/tracking/statements with wrk (Debian package `wrk`): a Lua
script makes every request carry fresh statement ids (so every statement is
really stored, with its events, not recognised as a replay). Prints requests/s,
statements/s and p50/p99 per request for each mode, and the ratio of batched to
single-statement ingestion. Everything shares this machine's 2 cores: wrk,
gunicorn, the gRPC process, the outbox relay, PostgreSQL and Redis.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.gateway_bench import wrk  # noqa: E402  (same wrk runner and output parsing)
from careeros_services import supervisor  # noqa: E402
from careeros_services.common import infra  # noqa: E402

BATCH = 50
SERVICES = ["auth", "tracker"]

LUA = """
local n = %(n)d
local template = %(template)s
local counter = 0
local seed = tonumber(tostring({}):sub(8), 16) or 0
math.randomseed(os.time() + seed)
local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%%x", v)
  end))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local parts = {}
  for i = 1, n do parts[i] = string.format(template, uuid()) end
  local body = parts[1]
  if n > 1 then body = "[" .. table.concat(parts, ",") .. "]" end
  return wrk.format(nil, nil, nil, body)
end
"""


def statement_template(user_id: str, course_id: str, lesson_id: str) -> str:
    """A conventional lesson statement as a Lua format string (``%s`` = the statement id)."""
    body = {
        "id": "__ID__",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://careeros.dev", "name": user_id}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
        "object": {"objectType": "Activity", "id": f"https://careeros.dev/xapi/lessons/{lesson_id}"},
        "result": {"duration": "PT30S"},
        "context": {"contextActivities": {"parent": [{"id": f"https://careeros.dev/xapi/courses/{course_id}"}]}},
    }
    text = json.dumps(body, separators=(",", ":")).replace("%", "%%").replace('"__ID__"', '"%s"')
    return json.dumps(text)  # a Lua string literal is close enough to a JSON one for this text


def main(seconds: int = 20, connections: int = 8) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    infra.ensure_servers()
    port = infra.free_port()
    broker = infra.start_embedded_broker(port)
    env = supervisor.isolated_env(f"127.0.0.1:{port}", "careeros_trkbench_", "careeros_trkbench",
                                  CAREEROS_RATE_LIMIT_IP="100000000", CAREEROS_RATE_LIMIT_TENANT="100000000")
    env["CAREEROS_GRPC_TRACKER"] = env["CAREEROS_GRPC_BIND"]  # whether or not the registry lists tracker yet
    supervisor.ensure_vhost("careeros_trkbench")
    config = supervisor.config_with(env)
    platform = supervisor.Platform(config, services=SERVICES,
                                   log_dir=Path(tempfile.mkdtemp(prefix="careeros-trkbench-")), env=env)
    gw = config["gateway"]
    scripts: list[str] = []
    try:
        platform.start()
        base = f"http://{gw['bind']}/api/v1"
        email = f"trk{uuid.uuid4().hex[:8]}@example.com"
        registered = requests.post(f"{base}/auth/register", json={
            "email": email, "password": "benchmark password", "display_name": "Bench"}, timeout=10)
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["user_id"]
        token = requests.post(f"{base}/auth/login", json={"email": email, "password": "benchmark password"},
                              timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        template = statement_template(user_id, str(uuid.uuid4()), str(uuid.uuid4()))
        for n in (1, BATCH):
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
                lua.write(LUA % {"n": n, "template": template})
            scripts.append(lua.name)
        # Warm up (connections, pools, JIT-less but cache-warm paths), then check one response.
        probe = requests.post(f"{base}/tracking/statements", headers=auth, timeout=10, json=[
            json.loads(json.loads(template) % str(uuid.uuid4())) for _ in range(BATCH)])
        assert probe.status_code == 200 and probe.json()["stored"] == BATCH, probe.text
        wrk(f"{base}/tracking/statements", 3, connections, auth, scripts[1])

        url = f"{base}/tracking/statements"
        single = wrk(url, seconds, connections, auth, scripts[0])
        batched = wrk(url, seconds, connections, auth, scripts[1])
        progress = requests.get(f"{base}/tracking/progress", headers=auth, timeout=30).json()
        print(f"tracking benchmark: wrk -t2 -c{connections} -d{seconds}s, gunicorn gthread "
              f"{gw['workers']}x{gw['threads']}, services {','.join(SERVICES)}, 2 cores shared by everything")
        print(f"{'mode':34} {'req/s':>8} {'stmts/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, r, n in (("POST one statement (baseline)", single, 1), (f"POST batch of {BATCH}", batched, BATCH)):
            print(f"{name:34} {r['rps']:8,.0f} {r['rps'] * n:9,.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:8}")
        print(f"ratio: batches of {BATCH} ingest {batched['rps'] * BATCH / single['rps']:.1f}x the statements/s "
              f"of single-statement POSTs")
        stored_s = progress["total_time_spent_s"]
        print(f"check: {stored_s // 30:,} statements stored for the learner (30 s each), "
              f"time in course {progress['courses'][0]['time_spent_s']:,} s")
    finally:
        platform.stop()
        infra.stop_process(broker)
        for script in scripts:
            Path(script).unlink(missing_ok=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
