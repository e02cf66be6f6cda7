"""Gateway benchmark: authenticated GET and PATCH /api/v1/profile and GET
/api/v1/lms/courses/{id} under concurrent load, beside a bare Flask endpoint
served the same way in the same run.

    .venv/bin/python bench/gateway_bench.py [seconds] [connections]

``BENCH_PROFILE=1`` (or ``raw``: collapsed stacks as text) also records a py-spy flame graph (CPU: samples of the thread holding the GIL) of the gateway workers and
the gRPC process during the authenticated GET (``var/flame-*.svg``; needs py-spy).

Starts its own platform (as `make run` does, on free ports and its own
databases, topics and vhost), loads it with wrk (Debian package `wrk`), and
prints requests/s and p50/p99 latency for each target plus the ratio to the
bare endpoint. Everything runs on this machine's 2 cores: wrk, gunicorn, the
gRPC process, PostgreSQL and Redis share them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from careeros_services.common import infra  # noqa: E402
from bench.support import own_platform  # noqa: E402

PATCH_LUA = """
wrk.method = "PATCH"
wrk.body = '{"headline": "Benchmarking the gateway"}'
wrk.headers["Content-Type"] = "application/json"
"""


def wrk(url: str, seconds: int, connections: int, headers: dict, script: str | None = None,
        processes: dict[str, list[int]] | None = None) -> dict:
    """wrk's figures, plus the CPU milliseconds per request each group of ``processes`` used
    (measured from /proc: unlike req/s it hardly depends on what else loads the machine)."""
    before = {name: cpu_seconds(pids) for name, pids in (processes or {}).items()}
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout

    def latency_ms(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    cpu = {name: 1000 * (cpu_seconds(pids) - before[name]) / max(1, requests_done)
           for name, pids in (processes or {}).items()}
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency_ms("50"), "p99": latency_ms("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0, "cpu": cpu}


# Issue 17: (route, baseline verb, req/s, share of the bare endpoint); p99 under 60 ms for all.
TARGETS = [("GET /api/v1/profile", "GET", 1300, 0.16), ("GET /api/v1/lms/courses/{id}", "GET", 1300, 0.16),
           ("PATCH /api/v1/profile", "PATCH", 800, 0.0)]
P99_TARGET_MS = 60


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time these processes have used so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids(config: dict) -> list[int]:
    """The PostgreSQL backends connected to this platform's databases (pooled, so they last)."""
    import psycopg2

    from careeros_services.common import db
    with psycopg2.connect(**db.connect_kwargs(config, None, admin=True)) as conn, conn.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname LIKE %s",
                    (config["postgres"]["database_prefix"] + "%",))
        return [row[0] for row in cur.fetchall()]


def wait_until_idle(pids: list[int], *, below_cores: float = 0.35, timeout_s: float = 90.0) -> float:
    """Wait until these processes use less than ``below_cores`` of a core over 2 s (a new platform
    seeds its catalog, indexes it and settles its consumer groups first); returns the last reading."""
    deadline = time.monotonic() + timeout_s
    while True:
        before = cpu_seconds(pids)
        time.sleep(2)
        used = (cpu_seconds(pids) - before) / 2
        if used < below_cores or time.monotonic() > deadline:
            return used


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *(d for c in children for d in process_tree(int(c)))]


def profile_during(platform, seconds: int) -> list[subprocess.Popen]:
    """py-spy recorders, one per gateway worker and one for the gRPC process, for ``seconds``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    (ROOT / "var").mkdir(exist_ok=True)
    pids = {"grpc": platform.children["grpc"].pid}
    workers = subprocess.run(["pgrep", "-P", str(platform.children["gateway"].pid)],
                             capture_output=True, text=True).stdout.split()
    pids |= {f"gateway-{i}": int(pid) for i, pid in enumerate(workers)}
    raw = os.environ.get("BENCH_PROFILE") == "raw"  # collapsed stacks (text) instead of an SVG
    return [subprocess.Popen([spy, "record", "--gil", "-p", str(pid), "-d", str(seconds), "-r", "100", "-o",
                              str(ROOT / "var" / f"flame-{name}.{'txt' if raw else 'svg'}")]
                             + (["--format", "raw"] if raw else []),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name, pid in pids.items()]


def main(seconds: int = 30, connections: int = 32) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    with own_platform("bench") as platform:
        gw = platform.config["gateway"]
        bare_port = infra.free_port()
        bare = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--worker-class", "gthread",
             "--workers", str(gw["workers"]), "--threads", str(gw["threads"]),
             "--bind", f"127.0.0.1:{bare_port}", "bench.bare_app:app"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            infra.wait_port(bare_port)
            results = measure(platform, bare, f"http://127.0.0.1:{bare_port}/bare", seconds, connections)
        finally:
            infra.stop_process(bare)
    print(f"gateway benchmark: wrk -t2 -c{connections} -d{seconds}s, gunicorn gthread "
          f"{gw['workers']}x{gw['threads']}, 2 cores shared by everything")
    report(results)


def signed_in_user_with_a_course(base: str) -> tuple[dict, str]:
    """A new user's bearer header, once their profile exists, and the URL of a course they made."""
    email = f"bench{uuid.uuid4().hex[:8]}@example.com"
    registered = requests.post(f"{base}/auth/register", json={"email": email, "password": "benchmark password",
                                                             "display_name": "Bench"}, timeout=10)
    assert registered.status_code == 201, registered.text
    token = requests.post(f"{base}/auth/login", json={"email": email, "password": "benchmark password"},
                          timeout=10).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 30
    while requests.get(f"{base}/profile", headers=auth, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "profile never appeared"
        time.sleep(0.2)
    course = requests.post(f"{base}/lms/courses", headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                           json={"title": "Benchmarking", "summary": "Reads under load.", "level": "beginner",
                                 "tags": ["bench"], "skills": [{"name": "Python", "level": 2}]}, timeout=10)
    assert course.status_code == 201, course.text
    course_url = f"{base}/lms/courses/{course.json()['id']}"
    assert requests.get(course_url, headers=auth, timeout=10).status_code == 200
    return auth, course_url


def measure(platform, bare: subprocess.Popen, bare_url: str, seconds: int, connections: int) -> dict:
    """wrk's figures for every target, once the new platform has settled."""
    base = f"http://{platform.config['gateway']['bind']}/api/v1"
    auth, course_url = signed_in_user_with_a_course(base)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(PATCH_LUA)
    stack = {"gateway": process_tree(platform.children["gateway"].pid),
             "grpc": [platform.children["grpc"].pid], "postgres": postgres_pids(platform.config)}
    bare_stack = {"gateway": process_tree(bare.pid)}
    everything = [pid for child in platform.children.values() for pid in process_tree(child.pid)]
    print(f"platform settled: {wait_until_idle(everything + stack['postgres']):.2f} cores in use before wrk")
    results = {"bare Flask GET (baseline)": wrk(bare_url, seconds, connections, {}, processes=bare_stack)}
    profiling = profile_during(platform, seconds) if os.environ.get("BENCH_PROFILE") else []
    results["GET /api/v1/profile"] = wrk(f"{base}/profile", seconds, connections, auth, processes=stack)
    for recorder in profiling:
        recorder.wait(timeout=seconds + 30)
    results |= {
        "GET /api/v1/lms/courses/{id}": wrk(course_url, seconds, connections, auth, processes=stack),
        "bare Flask PATCH (baseline)": wrk(bare_url, seconds, connections, {}, lua.name, processes=bare_stack),
        "PATCH /api/v1/profile": wrk(f"{base}/profile", seconds, connections, auth, lua.name, processes=stack),
    }
    os.unlink(lua.name)
    return results


def report(results: dict) -> None:
    """Every target's figures, then each issue-17 target's verdict."""
    print(f"{'target':32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}   CPU ms/request")
    for name, r in results.items():
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu"].items())
        print(f"{name:32} {r['rps']:9,.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:8}   {cpu}")
    for name, verb, rps_target, share_target in TARGETS:
        r, baseline = results[name], results[f"bare Flask {verb} (baseline)"]["rps"]
        share = r["rps"] / baseline
        verdict = ("met" if r["rps"] >= rps_target and share >= share_target and r["p99"] < P99_TARGET_MS
                   and not r["errors"] else "NOT met")
        print(f"{name}: {share:.1%} of the bare endpoint (target {share_target:.0%}), "
              f"{r['rps']:,.0f} req/s (target {rps_target:,}), p99 {r['p99']:.0f} ms "
              f"(target < {P99_TARGET_MS}) -> {verdict}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
