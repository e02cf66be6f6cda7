"""Web client benchmark: a page's server time beside the time of the API calls behind it, same run.

    .venv/bin/python bench/web_bench.py [rounds]

Starts a whole platform on free ports (as `make run` does: the gateway process serves the web
client at / and the API at /api/v1), signs a learner up through the pages, enrols them in two
courses, then, one request at a time and interleaved round by round, times:

* the dashboard page ``GET /app`` and the three API calls it makes (enrolments, progress,
  current roadmap), both as the page makes them (at once, on threads) and one after another;
* the catalog page ``GET /courses?q=python`` and its one API call (``GET /api/v1/lms/courses``).

The difference is what the web client adds: session lookup in Redis, CSRF token, template rendering
and its own HTTP hop to the API. Prints p50/p90 in milliseconds.
"""
from __future__ import annotations

import re
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import own_platform  # noqa: E402

PASSWORD = "benchmark password"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def ok(response: requests.Response) -> requests.Response:
    assert response.status_code == 200, (response.status_code, response.url, response.text[:300])
    return response


def sign_up(site: str, api: str) -> tuple[requests.Session, dict]:
    browser = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', ok(browser.get(f"{site}/signup")).text).group(1)
    email = f"bench{uuid.uuid4().hex[:8]}@example.com"
    ok(browser.post(f"{site}/signup", data={"csrf_token": token, "display_name": "Bench Learner", "email": email,
                                             "password": PASSWORD, "kind": "personal"}))
    pair = requests.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=20).json()
    return browser, {"Authorization": f"Bearer {pair['access_token']}"}


def main(rounds: int = 40) -> None:
    with own_platform("benchweb") as platform:
        config = platform.config
        site = f"http://{config['gateway']['bind']}"
        api = f"{site}/api/v1"
        browser, auth = sign_up(site, api)
        for course in ok(requests.get(f"{api}/lms/courses", params={"q": "python"}, headers=auth, timeout=20)
                         ).json()["items"][:2]:
            requests.post(f"{api}/lms/courses/{course['id']}/enrollments", headers=auth, timeout=20)
        calls = ("/lms/enrollments", "/tracking/progress", "/roadmaps/current")
        pool = ThreadPoolExecutor(max_workers=3)
        api_session = requests.Session()

        def dashboard_api_at_once():
            list(pool.map(lambda path: requests.get(api + path, headers=auth, timeout=20), calls))

        def dashboard_api_in_turn():
            for path in calls:
                api_session.get(api + path, headers=auth, timeout=20)

        figures: dict[str, list[float]] = {k: [] for k in (
            "dashboard page GET /app", "  its 3 API calls, at once", "  its 3 API calls, in turn",
            "catalog page GET /courses?q=python", "  its API call GET /lms/courses")}
        for _ in range(3):  # warm connections and caches
            ok(browser.get(f"{site}/app")), ok(browser.get(f"{site}/courses", params={"q": "python"}))
        for _ in range(rounds):
            figures["dashboard page GET /app"].append(timed(lambda: ok(browser.get(f"{site}/app"))))
            figures["  its 3 API calls, at once"].append(timed(dashboard_api_at_once))
            figures["  its 3 API calls, in turn"].append(timed(dashboard_api_in_turn))
            figures["catalog page GET /courses?q=python"].append(
                timed(lambda: ok(browser.get(f"{site}/courses", params={"q": "python"}))))
            figures["  its API call GET /lms/courses"].append(timed(lambda: ok(api_session.get(
                f"{api}/lms/courses", params={"q": "python", "page": 1, "page_size": 12}, headers=auth, timeout=20))))
        print(f"web client benchmark: {rounds} rounds, one request at a time, interleaved; "
              f"gunicorn {config['gateway']['workers']}x{config['gateway']['threads']} serves both; 2 shared cores")
        print(f"{'what':40} {'p50 ms':>8} {'p90 ms':>8}")
        for name, values in figures.items():
            p90 = statistics.quantiles(values, n=10)[-1]
            print(f"{name:40} {statistics.median(values):8.1f} {p90:8.1f}")
        for page, behind in (("dashboard page GET /app", "  its 3 API calls, at once"),
                             ("catalog page GET /courses?q=python", "  its API call GET /lms/courses")):
            extra = statistics.median(figures[page]) - statistics.median(figures[behind])
            print(f"{page.split(' GET')[0]}: the page adds {extra:.1f} ms (p50) to the API time behind it")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
