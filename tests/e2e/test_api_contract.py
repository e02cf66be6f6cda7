"""The API does what its OpenAPI document says, and hostile input never costs another tenant anything.

Schemathesis (every check, every phase: examples, coverage, fuzzing, stateful) runs over the whole
document of the shared platform, once with a fresh owner's token and once without one, bounded to a few
examples per operation; any failure fails the test. ``schemathesis.toml`` beside this file lists the
few rules JSON Schema cannot state. Then the hardening regressions of issue 10 over real HTTP (gunicorn).
"""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "correct horse battery"
MAX_EXAMPLES = "3"  # per operation and phase: the whole document in about two minutes
# Our own client address (the platform trusts 127.0.0.1 as a proxy): the fuzzer's many failed
# logins are throttled for this address, never for the other tests' 127.0.0.1.
FUZZER_ADDRESS = "198.51.100.250"


def _post(api, path: str, body: dict):
    """POST as a well-behaved client: a 503 says when to retry (Argon2 on a busy machine may take a while)."""
    for _ in range(3):
        resp = api.post(path, json=body)
        if resp.status_code != 503:
            break
        time.sleep(float(resp.headers.get("Retry-After", "1")))
    assert resp.status_code < 300, resp.text
    return resp.json()


def _owner_token(api) -> str:
    email = f"st{uuid.uuid4().hex[:10]}@example.com"
    _post(api, "/auth/register", {"email": email, "password": PASSWORD, "display_name": "Fuzz",
                                  "organization_name": "Fuzz Org"})
    return _post(api, "/auth/login", {"email": email, "password": PASSWORD})["access_token"]


def _schemathesis(base_url: str, *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "run",
               f"{base_url}/openapi.json", "--max-examples", MAX_EXAMPLES, "--seed", "20261206",
               "--no-color", "-H", f"X-Forwarded-For: {FUZZER_ADDRESS}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def _public_paths(api) -> list[str]:
    spec = api.get("/openapi.json").json()
    return sorted(path for path, item in spec["paths"].items()
                  if any(isinstance(op, dict) and not op.get("security") for op in item.values()))


@pytest.mark.timeout(600)  # about two minutes alone; a loaded machine (parallel work trees) needs more
def test_schemathesis_finds_nothing_with_and_without_a_token(api, platform):
    token = _owner_token(api)
    runs = {
        # Logging out would revoke the token the rest of the run uses. Without a token, the public
        # operations; every other one is sent without its token by the first run's `ignored_auth` check.
        # Registration and login (an Argon2 hash each: 64 MiB, CPU-bound) run once, in the second run,
        # with one worker: hashing in parallel on two cores only measures how busy the machine is.
        "with a token": ("--workers", "2", "-H", f"Authorization: Bearer {token}",
                         *(arg for path in ("logout", "register", "login")
                           for arg in ("--exclude-path", f"/api/v1/auth/{path}"))),
        "without a token": ("--workers", "1",
                            *(arg for path in _public_paths(api) for arg in ("--include-path", path))),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(runs, pool.map(lambda args: _schemathesis(platform.base_url, *args), runs.values())))
    for name, result in results.items():
        report = result.stdout[-60000:] + result.stderr[-2000:]
        assert result.returncode == 0, f"schemathesis {name} failed:\n{report}"
        assert "❌" not in result.stdout and "Stateful" in result.stdout and " passed" in result.stdout, report


def test_nul_bytes_are_422_and_never_open_another_tenants_breaker(api):
    """Issue 10, item 5: a NUL in a catalogue filter was a database error, and five opened the breaker."""
    token = _owner_token(api)
    bearer = {"Authorization": f"Bearer {token}"}
    for field in ("q", "skill", "track", "language", "level") * 2:
        resp = api.get("/lms/courses", params={field: "a\x00b"}, headers=bearer)
        assert resp.status_code == 422 and resp.json()["errors"] == {field: ["must not contain control characters"]}
    cv = api.post("/ai/cv", data="Python\x00 developer".encode(), headers={**bearer, "Content-Type": "text/plain"})
    assert cv.status_code == 422 and "body" in cv.json()["errors"], cv.text
    other = {"Authorization": f"Bearer {_owner_token(api)}"}  # another tenant, right after
    assert api.get("/lms/courses", params={"q": "python"}, headers=other).status_code == 200


@pytest.mark.parametrize("path", ["/lms/files/x?expires=99999999999999999999&signature=" + "0" * 64,
                                  "/analytics/learners?offset=1000000000000000",
                                  "/orgs/current/audit-log?before_id=1e30"])
def test_integers_beyond_64_bits_are_4xx_not_500(api, path):
    token = _owner_token(api)
    resp = api.get(path, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422 and resp.headers["Content-Type"] == "application/problem+json", resp.text


@pytest.mark.parametrize("body", [b"[" * 3000, b'{"headline": "\\ud800"}'])
def test_deep_nesting_and_lone_surrogates_are_4xx_without_a_token_too(api, body):
    for headers in ({}, {"Authorization": f"Bearer {_owner_token(api)}"}):
        resp = api.patch("/profile", data=body, headers={**headers, "Content-Type": "application/json"})
        assert resp.status_code in (400, 401, 422) and resp.headers["Content-Type"] == "application/problem+json"


def test_an_over_long_url_is_a_problem_json_414_from_the_app_not_gunicorn(api):
    resp = api.get("/lms/courses?q=" + "a" * 10_000)
    assert resp.status_code == 414 and resp.json()["code"] == "uri_too_long"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_authenticated_answers_are_not_stored_by_caches(api):
    resp = api.get("/profile", headers={"Authorization": f"Bearer {_owner_token(api)}"})
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Content-Type-Options"] == "nosniff"
