"""Soak: a realistic mix of learner, instructor and admin journeys at 60 % of measured capacity.

    .venv/bin/python bench/soak.py [minutes=10] [load_share=0.6] [organisations=6]     (make soak)

Starts its own platform (as `make run` does, on free ports, its own databases, topics and vhost,
with the rate limits raised as bench/gateway_bench.py does), builds an organisation with an
instructor's published course (article + quiz) and enrolled learners (a few such organisations:
the free plan has three seats), then:

1. capacity: 16 closed-loop clients run the mix for 30 s; what they complete per second is the
   capacity of this machine right now (every process shares its 2 cores);
2. soak: an open-loop generator sends the same mix at ``load_share`` of that rate for ``minutes``.
   Latency is measured from each request's scheduled time, so a stall shows up (no coordinated
   omission).

Prints, per minute and per route: requests, p50/p99 ms, 5xx/transport errors and 4xx (which are
intended here: e.g. the AI quota of a free plan); then the resident memory (RSS) of every
platform process at the end of minute 1 and at the end, with its growth. Exit status 1 when a
5xx/transport error happened, p99 drifted (last minute's p99 over 2x the first's) or a process grew
by 10 % or more.
"""
from __future__ import annotations

import collections
import queue
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import own_platform  # noqa: E402

PASSWORD = "soak test password"
CAPACITY_S, CAPACITY_CLIENTS, SOAK_CLIENTS = 30, 16, 48


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0.0


class Org:
    """One organisation: owner (admin), instructor, a member (the plan's 3 seats), a published
    course (article + quiz) in which the owner and the member are enrolled as learners."""

    def __init__(self, api: str):
        self.api = api
        owner = self._register(organization_name=f"Soak {uuid.uuid4().hex[:6]}")
        self.owner, owner_id = self._login(owner["email"]), owner["user_id"]
        self.instructor = self._join("instructor")[0]
        self.learners = [(self.owner, owner_id), self._join("member")]  # (headers, user id)
        t = self.instructor
        course = self._ok(requests.post(f"{api}/lms/courses", headers=t, timeout=30, json={
            "title": "Soak testing basics", "summary": "Load, watch, learn.", "level": "beginner",
            "skills": [{"name": "Python", "level": 2}]}), 201).json()
        self.course_id = course["id"]
        module = self._ok(requests.post(f"{api}/lms/courses/{self.course_id}/modules", headers=t,
                                        json={"title": "Basics"}, timeout=30), 201).json()["module_id"]
        self.article = self._ok(requests.post(f"{api}/lms/modules/{module}/lessons", headers=t, timeout=30, json={
            "title": "Reading", "kind": "article", "body_md": "# Soak\n\n" + "Steady load. " * 200}), 201).json()
        self.quiz = self._ok(requests.post(f"{api}/lms/modules/{module}/lessons", headers=t, timeout=30, json={
            "title": "Check", "kind": "quiz", "quiz": {"pass_percent": 100, "max_attempts": 100, "questions": [
                {"prompt": "Steady?", "choices": [{"text": "Yes", "correct": True}, {"text": "No"}]}]}}), 201).json()
        self._ok(requests.post(f"{api}/lms/courses/{self.course_id}/publish", headers=t, timeout=30), 200)
        for learner, _ in self.learners:
            self._ok(requests.post(f"{api}/lms/courses/{self.course_id}/enrollments", headers=learner, timeout=30),
                     201)
            self._ok(requests.post(f"{api}/roadmaps", headers=learner, timeout=60,
                                   json={"target_role": "Data Engineer", "hours_per_week": 6}), 201)
        seen = self._ok(requests.get(f"{api}/lms/lessons/{self.quiz['lesson_id']}", headers=self.learners[0][0],
                                     timeout=30), 200).json()
        question = seen["quiz"]["questions"][0]
        self.answer = [{"question_id": question["id"], "choice_ids": [question["choices"][0]["id"]]}]

    def _ok(self, response: requests.Response, status: int) -> requests.Response:
        assert response.status_code == status, (response.status_code, response.url, response.text[:300])
        return response

    def _register(self, **extra) -> dict:
        email = f"soak{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": PASSWORD, "display_name": "Soak Owner", **extra}
        return {**self._ok(requests.post(f"{self.api}/auth/register", json=body, timeout=30), 201).json(),
                "email": email}

    def _login(self, email: str) -> dict:
        pair = self._ok(requests.post(f"{self.api}/auth/login", json={"email": email, "password": PASSWORD},
                                      timeout=30), 200).json()
        return {"Authorization": f"Bearer {pair['access_token']}"}

    def _join(self, role: str) -> tuple[dict, str]:
        email = f"{role}{uuid.uuid4().hex[:8]}@example.com"
        invite = self._ok(requests.post(f"{self.api}/orgs/current/invites", json={"email": email, "role": role},
                                        headers=self.owner, timeout=30), 201).json()
        accepted = requests.post(f"{self.api}/orgs/invites/{invite['token']}/accept",
                                 json={"password": PASSWORD, "display_name": f"Soak {role}"}, timeout=30)
        assert accepted.status_code in (200, 201), accepted.text
        body = accepted.json()
        return {"Authorization": f"Bearer {body['tokens']['access_token']}"}, body["user_id"]


def journeys(api: str, orgs: list[Org]) -> list[tuple[float, str, callable]]:
    """(weight, route label, request(session)) — a learner-heavy mix, as a platform sees it."""
    from careeros_services.lms import domain

    def learner() -> tuple[Org, dict, str]:
        org = random.choice(orgs)
        return (org, *random.choice(org.learners))

    def statement(s: requests.Session) -> requests.Response:
        org, headers, user_id = learner()
        return s.post(f"{api}/tracking/statements", headers=headers, json=[domain.statement(
            user_id, "experienced", course_id=org.course_id, lesson_id=org.article["lesson_id"],
            title="Reading", statement_id=str(uuid.uuid4()))])

    def as_learner(make):
        def request(s: requests.Session) -> requests.Response:
            org, headers, _ = learner()
            return make(s, org, headers)
        return request

    def as_staff(who, make):
        def request(s: requests.Session) -> requests.Response:
            org = random.choice(orgs)
            return make(s, org, getattr(org, who))
        return request

    lms = f"{api}/lms"
    return [
        (18, "GET /lms/courses?q=", as_learner(lambda s, o, h: s.get(f"{lms}/courses", params={"q": "soak"},
                                                                      headers=h))),
        (14, "GET /lms/courses/{id}", as_learner(lambda s, o, h: s.get(f"{lms}/courses/{o.course_id}", headers=h))),
        (18, "GET /lms/lessons/{id}", as_learner(lambda s, o, h: s.get(f"{lms}/lessons/{o.article['lesson_id']}",
                                                                       headers=h))),
        (10, "POST /tracking/statements", statement),
        (3, "POST /lms/lessons/{id}/quiz-attempts", as_learner(lambda s, o, h: s.post(
            f"{lms}/lessons/{o.quiz['lesson_id']}/quiz-attempts", headers=h, json={"answers": o.answer}))),
        (12, "GET /profile", as_learner(lambda s, o, h: s.get(f"{api}/profile", headers=h))),
        (3, "PATCH /profile", as_learner(lambda s, o, h: s.patch(f"{api}/profile", headers=h, json={
            "headline": f"Soaking {random.randint(1, 9999)}"}))),
        (6, "GET /tracking/progress", as_learner(lambda s, o, h: s.get(f"{api}/tracking/progress", headers=h))),
        (5, "GET /roadmaps/current", as_learner(lambda s, o, h: s.get(f"{api}/roadmaps/current", headers=h))),
        (1.5, "POST /ai/consultations", as_learner(lambda s, o, h: s.post(
            f"{api}/ai/consultations", headers=h, json={"question": "What should I learn next?"}))),
        (4, "GET /lms/enrollments", as_learner(lambda s, o, h: s.get(f"{lms}/enrollments", headers=h))),
        (3, "GET /lms/courses?status=draft (instructor)", as_staff("instructor", lambda s, o, h: s.get(
            f"{lms}/courses", params={"status": "draft"}, headers=h))),
        (2, "GET /analytics/overview (admin)", as_staff("owner", lambda s, o, h: s.get(
            f"{api}/analytics/overview", headers=h))),
        (1, "GET /orgs/current/members (admin)", as_staff("owner", lambda s, o, h: s.get(
            f"{api}/orgs/current/members", headers=h))),
        (0.5, "POST /auth/register", lambda s: s.post(f"{api}/auth/register", json={
            "email": f"soak{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD,
            "display_name": "Soak Newcomer"})),
    ]


class Recorder:
    """(minute, route) -> latencies and outcome counts."""

    def __init__(self, started: float):
        self.started = started
        self.lock = threading.Lock()
        self.latencies: dict = collections.defaultdict(list)
        self.counts: dict = collections.defaultdict(collections.Counter)
        self.statuses: collections.Counter = collections.Counter()  # (route, status or error) of non-2xx/3xx

    def record(self, route: str, scheduled: float, outcome: str, status: str = "") -> None:
        now = time.monotonic()
        minute = int((scheduled - self.started) // 60) + 1  # by when it was due
        with self.lock:
            self.latencies[(minute, route)].append((now - scheduled) * 1000)
            self.counts[(minute, route)][outcome] += 1
            if outcome != "ok":
                self.statuses[(route, status)] += 1


def call(session: requests.Session, route: str, request, scheduled: float, recorder: Recorder) -> None:
    try:
        response = request(session)
        status = response.status_code
        outcome = "ok" if status < 400 else "4xx" if status < 500 else "5xx"
        detail = f"{status} {response.json().get('code', '')}" if status >= 400 else ""
    except requests.RequestException as exc:
        outcome, detail = "5xx", type(exc).__name__
    except ValueError:
        detail = str(status)
    recorder.record(route, scheduled, outcome, detail)


def capacity(mix, seconds: float) -> float:
    """Requests per second the mix completes with CAPACITY_CLIENTS closed-loop clients."""
    weights, stop, done = [m[0] for m in mix], time.monotonic() + seconds, [0]
    recorder = Recorder(time.monotonic())

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            _, route, request = random.choices(mix, weights)[0]
            call(session, route, request, time.monotonic(), recorder)
            done[0] += 1

    threads = [threading.Thread(target=client) for _ in range(CAPACITY_CLIENTS)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return done[0] / seconds


def soak(mix, rate: float, minutes: float, on_minute) -> Recorder:
    """Send the mix at ``rate`` requests/s (Poisson arrivals) for ``minutes``."""
    weights, tickets = [m[0] for m in mix], queue.Queue()
    recorder = Recorder(time.monotonic())
    end = recorder.started + minutes * 60

    def worker() -> None:
        session = requests.Session()
        while (ticket := tickets.get()) is not None:
            call(session, *ticket, recorder)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(SOAK_CLIENTS)]
    [t.start() for t in threads]
    due, next_minute = recorder.started, recorder.started + 60
    while due < end:
        due += random.expovariate(rate)
        while (now := time.monotonic()) < due:
            time.sleep(min(due - now, 0.05))
        if now >= next_minute:
            on_minute(int((next_minute - recorder.started) // 60))
            next_minute += 60
        _, route, request = random.choices(mix, weights)[0]
        tickets.put((route, request, due))
    for _ in threads:
        tickets.put(None)
    [t.join(30) for t in threads]
    on_minute(int(minutes))
    return recorder


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def platform_processes(platform) -> dict[str, int]:
    """name -> pid of every platform process (gunicorn master and workers included)."""
    import subprocess

    found = {}
    for name, child in platform.children.items():
        found[name] = child.pid
        workers = subprocess.run(["pgrep", "-P", str(child.pid)], capture_output=True, text=True).stdout.split()
        for i, pid in enumerate(workers):
            found[f"{name}/{i}"] = int(pid)
    return found


def main(minutes: float = 10, load_share: float = 0.6, organisations: int = 6) -> int:
    with own_platform("soak") as platform:
        config = platform.config
        api = f"http://{config['gateway']['bind']}/api/v1"
        mix = journeys(api, [Org(api) for _ in range(organisations)])
        measured = capacity(mix, CAPACITY_S)
        rate = measured * load_share
        print(f"capacity of the mix: {measured:,.0f} req/s ({CAPACITY_CLIENTS} closed-loop clients, "
              f"{CAPACITY_S} s); soaking at {load_share:.0%} = {rate:,.0f} req/s for {minutes:g} min", flush=True)
        processes = platform_processes(platform)
        rss: dict[int, dict[str, int]] = {}

        def on_minute(minute: int) -> None:
            rss[minute] = {name: rss_kib(pid) for name, pid in processes.items()}
            platform.check_alive()
            print(f"  minute {minute} done", flush=True)

        recorder = soak(mix, rate, minutes, on_minute)
    return report(recorder, rss, [m[1] for m in mix])


def report(recorder: Recorder, rss: dict, routes: list[str]) -> int:
    minutes = sorted({m for m, _ in recorder.latencies})
    print(f"\n{'minute':>6} {'route':44} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'5xx/err':>7} {'4xx':>5}")
    failures, p99_by_minute = 0, {}
    for minute in minutes:
        everything = []
        for route in routes:
            lat, counts = recorder.latencies.get((minute, route), []), recorder.counts.get((minute, route), {})
            if not lat:
                continue
            everything += lat
            failures += counts.get("5xx", 0)
            print(f"{minute:>6} {route:44} {len(lat):8} {percentile(lat, 50):8.1f} {percentile(lat, 99):8.1f} "
                  f"{counts.get('5xx', 0):7} {counts.get('4xx', 0):5}")
        p99_by_minute[minute] = percentile(everything, 99)
        print(f"{minute:>6} {'ALL':44} {len(everything):8} {percentile(everything, 50):8.1f} "
              f"{p99_by_minute[minute]:8.1f}")
    full = [m for m in minutes if m <= max(rss, default=0)]  # the last, partial minute aside
    first, last = (p99_by_minute[full[0]], p99_by_minute[full[-1]]) if full else (0.0, 0.0)
    for (route, status), count in sorted(recorder.statuses.items()):
        print(f"  not 2xx: {route}: {status} x{count}")
    print(f"\np99 first minute {first:.1f} ms, last minute {last:.1f} ms; 5xx/transport errors: {failures}")
    start, end = rss.get(1, {}), rss.get(max(rss, default=1), {})
    worst = 0.0
    print(f"\n{'process':24} {'RSS after minute 1':>19} {'RSS at the end':>15} {'growth':>8}")
    for name in sorted(start):
        if start[name] and end.get(name):
            growth = end[name] / start[name] - 1
            worst = max(worst, growth)
            print(f"{name:24} {start[name] / 1024:15.1f} MiB {end[name] / 1024:11.1f} MiB {growth:8.1%}")
    steady = not full or last <= 2 * max(first, 1.0)
    verdict = failures == 0 and steady and worst < 0.10
    print(f"\nsoak: errors {failures} (target 0), p99 steady {steady}, largest RSS growth {worst:.1%} "
          f"(target < 10%) -> {'met' if verdict else 'NOT met'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(float(args[0]) if args else 10, float(args[1]) if len(args) > 1 else 0.6,
                  int(args[2]) if len(args) > 2 else 6))
