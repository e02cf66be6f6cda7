"""The tracker's xAPI LRS at /xapi on the running platform (the session's, started as `make run` does).

* ADL's LRS conformance suite (``lrs-conformance-test-suite``, copied out of the shared
  tools folder, ``npm install``-ed once into ``var/``) for xAPI 1.0.3 and 2.0: every test
  must pass; the failures are printed otherwise.
* Who sees what: LRS keys of two tenants, scopes, revocation, a learner's own token.
* Real content shapes: a batch of 50 Storyline-size statements (the /api/v1 body limit
  refuses it), CORS preflight, and statements through the LRS moving a learner's progress
  exactly as the statements API does.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.test_learning import _join
from tests.e2e.test_walking_skeleton import bearer, login, register

ROOT = Path(__file__).resolve().parents[2]
SUITE_NAME = "lrs-conformance-test-suite"
SUITE_CANDIDATES = [os.environ.get("CAREEROS_LRS_SUITE", ""), str(ROOT.parent / "shared" / "tools" / SUITE_NAME),
                    str(ROOT.parents[1] / "shared" / "tools" / SUITE_NAME)]
V = {"X-Experience-API-Version": "2.0.0"}
CAREEROS = "https://careeros.dev"


def _suite_source() -> Path:
    for candidate in SUITE_CANDIDATES:
        if candidate and (Path(candidate) / "bin" / "console_runner.js").is_file():
            return Path(candidate)
    raise AssertionError(f"ADL's LRS conformance suite not found in {SUITE_CANDIDATES} (set CAREEROS_LRS_SUITE)")


@pytest.fixture(scope="module")
def suite() -> Path:
    """A writable copy of the suite with its node modules (installed once, kept in var/)."""
    source = _suite_source()
    target = ROOT / "var" / SUITE_NAME
    stamp = hashlib.sha256((source / "package.json").read_bytes()).hexdigest()
    if not (target / ".installed").is_file() or (target / ".installed").read_text() != stamp:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules", "logs"))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=target, check=True, capture_output=True,
                       timeout=600)
        (target / ".installed").write_text(stamp)
    return target


def _lrs_base(platform) -> str:
    return platform.base_url.removesuffix("/api/v1") + "/xapi"


def _org_owner(api) -> dict:
    owner = register(api, organization_name=f"LRS org {uuid.uuid4().hex[:6]}")
    return {**owner, "token": login(api, owner["email"])["access_token"]}


def _key(api, owner: dict, scopes: list[str], version: str = "2.0.0") -> tuple[str, str]:
    made = api.post("/tracking/lrs-keys", json={"label": "tests", "scopes": scopes, "xapi_version": version},
                    headers=bearer(owner["token"]))
    assert made.status_code == 201, made.text
    return made.json()["key"], made.json()["secret"]


def _failures(node: dict, path: tuple = ()) -> list[str]:
    kids = node.get("tests") or []
    if not kids and node.get("status") == "failed":
        return [" > ".join((*path, node.get("title") or ""))]
    return [f for kid in kids for f in _failures(kid, (*path, node.get("name") or ""))]


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_adl_conformance_suite_passes_every_test(platform, api, suite, version):
    key, secret = _key(api, _org_owner(api), ["all"], version)
    run = subprocess.run(["node", "bin/console_runner.js", "-e", _lrs_base(platform), "-a", "-u", key, "-p", secret,
                          "-x", version, "-z"], cwd=suite, capture_output=True, text=True, timeout=900)
    log_line = next((line for line in run.stdout.splitlines() if "Full run log written to" in line), None)
    assert log_line, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(Path(log_line.split("written to", 1)[1].strip()).read_text())
    summary, failures = report["summary"], _failures(report.get("log") or {})
    print(f"xAPI {version}: {summary['passed']} of {summary['total']} passed")
    assert summary["total"] > 1000, summary  # the whole suite ran, not a grep of it
    assert summary["failed"] == 0 and summary["passed"] == summary["total"], "\n".join(failures)


# --- who sees what ----------------------------------------------------------------------------

def _statement(actor: dict, activity: str = "http://example.com/a", **extra) -> dict:
    return {"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": activity}, **extra}


def _mbox() -> dict:
    return {"mbox": f"mailto:{uuid.uuid4().hex[:10]}@example.com"}


def test_keys_see_only_their_tenant_and_their_scopes(platform, api):
    base = _lrs_base(platform)
    owner_a, owner_b = _org_owner(api), _org_owner(api)
    key_a, key_b = _key(api, owner_a, ["all"]), _key(api, owner_b, ["all"])
    writer_a, reader_a = _key(api, owner_a, ["statements/write"]), _key(api, owner_a, ["statements/read"])
    agent = _mbox()
    posted = requests.post(f"{base}/statements", json=_statement(agent), auth=writer_a, headers=V, timeout=10)
    assert posted.status_code == 200, posted.text
    [statement_id] = posted.json()
    stored = requests.get(f"{base}/statements", params={"statementId": statement_id}, auth=reader_a, headers=V,
                          timeout=10)
    assert stored.status_code == 200 and stored.json()["authority"]["account"]["name"] == writer_a[0]
    # Tenant B's key knows neither the statement nor the agent's statements.
    assert requests.get(f"{base}/statements", params={"statementId": statement_id}, auth=key_b, headers=V,
                        timeout=10).status_code == 404
    other = requests.get(f"{base}/statements", params={"agent": json.dumps(agent)}, auth=key_b, headers=V, timeout=10)
    assert other.status_code == 200 and other.json()["statements"] == []
    # Scopes: a write-only key cannot read, a read-only key cannot write.
    assert requests.get(f"{base}/statements", auth=writer_a, headers=V, timeout=10).status_code == 403
    assert requests.post(f"{base}/statements", json=_statement(agent), auth=reader_a, headers=V,
                         timeout=10).status_code == 403
    # Revoked: refused at once; other keys unaffected.
    assert api.delete(f"/tracking/lrs-keys/{writer_a[0]}", headers=bearer(owner_a["token"])).status_code == 204
    assert requests.post(f"{base}/statements", json=_statement(agent), auth=writer_a, headers=V,
                         timeout=10).status_code == 401
    listed = api.get("/tracking/lrs-keys", headers=bearer(owner_a["token"])).json()["keys"]
    assert {k["key"]: bool(k["revoked_at"]) for k in listed}[writer_a[0]] is True
    assert all("secret" not in k or not k["secret"] for k in listed)
    assert requests.get(f"{base}/statements", auth=key_a, headers=V, timeout=10).status_code == 200
    assert requests.get(f"{base}/statements", auth=(key_a[0], "wrong"), headers=V, timeout=10).status_code == 401


def test_members_cannot_manage_keys_and_see_only_their_own_statements(platform, api):
    base = _lrs_base(platform)
    owner = _org_owner(api)
    member = _join(api, owner["token"], "member", "Member")
    assert api.post("/tracking/lrs-keys", json={"label": "x"}, headers=bearer(member["token"])).status_code == 403
    key = _key(api, owner, ["all"])
    mine = _statement({"account": {"homePage": CAREEROS, "name": member["user_id"]}})
    theirs = _statement(_mbox())
    assert requests.post(f"{base}/statements", json=[mine, theirs], auth=key, headers=V, timeout=10).status_code == 200
    as_member = {**V, **bearer(member["token"])}
    seen = requests.get(f"{base}/statements", headers=as_member, timeout=10)
    assert seen.status_code == 200
    actors = [s["actor"] for s in seen.json()["statements"]]
    assert actors and all(a.get("account", {}).get("name") == member["user_id"] for a in actors)
    refused = requests.post(f"{base}/statements", json=theirs, headers=as_member, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "actor_not_caller"
    as_owner = requests.get(f"{base}/statements", headers={**V, **bearer(owner["token"])}, timeout=10)
    assert len(as_owner.json()["statements"]) >= 2


# --- real content ------------------------------------------------------------------------------

def _storyline(user_id: str, course_id: str, lesson_id: str, i: int) -> dict:
    """A statement shaped like Articulate Storyline's (long definitions, extensions), about 1.4 KB."""
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": "Ada Learner", "account": {"homePage": CAREEROS, "name": user_id}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {"objectType": "Activity", "id": f"https://careeros.dev/xapi/lessons/{lesson_id}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                                  "name": {"en-US": f"Question {i}: " + "which of these is a join? " * 4},
                                  "description": {"en-US": "Pick every answer that applies. " * 8},
                                  "interactionType": "choice", "correctResponsesPattern": ["choice_1[,]choice_3"],
                                  "choices": [{"id": f"choice_{c}", "description": {"en-US": f"Answer {c} " * 6}}
                                              for c in range(1, 5)]}},
        "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": True, "completion": True,
                   "response": "choice_1[,]choice_3", "duration": "PT1M30.25S"},
        "context": {"registration": str(uuid.uuid4()),
                    "contextActivities": {"parent": [{"id": f"https://careeros.dev/xapi/courses/{course_id}"}],
                                          "grouping": [{"id": "http://example.com/storyline/scene1"}]},
                    "extensions": {"http://id.tincanapi.com/extension/attempt-id": i}},
        "timestamp": "2026-01-05T10:00:00.000+0200",
    }


def test_a_storyline_batch_of_fifty_moves_progress_like_the_statements_api(platform, api):
    base = _lrs_base(platform)
    owner = _org_owner(api)
    via_lrs, via_api = _join(api, owner["token"], "member", "Ada"), _join(api, owner["token"], "member", "Bob")
    course_id, lesson_id = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [_storyline(via_lrs["user_id"], course_id, lesson_id, i) for i in range(50)]
    size = len(json.dumps(batch))
    assert size > 65536  # bigger than /api/v1 takes
    posted = requests.post(f"{base}/statements", json=batch, auth=_key(api, owner, ["statements/write"]), headers=V,
                           timeout=30)
    assert posted.status_code == 200, posted.text[:500]
    assert posted.json() == [s["id"] for s in batch]
    twin = [dict(s, id=str(uuid.uuid4()), actor={"objectType": "Agent", "account": {
        "homePage": CAREEROS, "name": via_api["user_id"]}}) for s in batch]
    for s in twin:
        for name in ("timestamp",):
            s[name] = "2026-01-05T08:00:00Z"
        s["object"] = {"objectType": "Activity", "id": s["object"]["id"]}
    assert api.post("/tracking/statements", json=twin[:10], headers=bearer(via_api["token"])).status_code == 200
    assert api.post("/tracking/statements", json=twin[10:], headers=bearer(via_api["token"])).status_code == 200

    def progress(who: dict) -> dict:
        got = api.get("/tracking/progress", params={"course_id": course_id}, headers=bearer(who["token"]))
        assert got.status_code == 200, got.text
        return got.json()
    lrs_progress, api_progress = progress(via_lrs), progress(via_api)
    assert lrs_progress["courses"][0]["time_spent_s"] == 50 * 90 == api_progress["courses"][0]["time_spent_s"]
    assert lrs_progress["streak"] == api_progress["streak"]
    assert {k: v for k, v in lrs_progress["courses"][0].items() if k != "last_activity_at"} == \
        {k: v for k, v in api_progress["courses"][0].items() if k != "last_activity_at"}
    # A resend that differs only in what xAPI ignores (timestamp serialisation, display, definitions) is the same.
    resend = dict(batch[0], timestamp="2026-01-05T08:00:00Z", verb={"id": batch[0]["verb"]["id"]},
                  object={"id": batch[0]["object"]["id"]})
    again = requests.put(f"{base}/statements", params={"statementId": resend["id"]}, json=resend,
                         auth=_key(api, owner, ["statements/write"]), headers=V, timeout=10)
    assert again.status_code == 204, again.text
    changed = dict(resend, result={"success": False})
    clash = requests.put(f"{base}/statements", params={"statementId": resend["id"]}, json=changed,
                         auth=_key(api, owner, ["statements/write"]), headers=V, timeout=10)
    assert clash.status_code == 409


def test_browser_content_gets_cors_and_bad_input_is_a_named_400(platform, api):
    base = _lrs_base(platform)
    preflight = requests.options(f"{base}/statements", headers={
        "Origin": "https://content.example.com", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,x-experience-api-version"}, timeout=10)
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://content.example.com"
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert "x-experience-api-version" in preflight.headers["Access-Control-Allow-Headers"].lower()
    anonymous = requests.get(f"{base}/statements", headers=V, timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["X-Experience-API-Version"] == "2.0.0"
    token = base64.b64encode(b"nobody:nothing").decode()
    bad = requests.post(f"{base}/statements", data=b"{not json", timeout=10,
                        headers={**V, "Authorization": f"Basic {token}", "Content-Type": "application/json"})
    assert bad.status_code == 401  # credentials first: nothing about the body leaks to strangers
    key = _key(api, _org_owner(api), ["all"])
    malformed = requests.post(f"{base}/statements", data=b"{not json", auth=key, timeout=10,
                              headers={**V, "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"] == "malformed_json"
    wrong = requests.post(f"{base}/statements", json=[_statement(_mbox()), _statement(_mbox(), activity="not an iri")],
                          auth=key, headers=V, timeout=10)
    assert wrong.status_code == 400 and list(wrong.json()["errors"]) == ["[1].object.id"]
    unknown = requests.get(f"{base}/statements", params={"learner": "x"}, auth=key, headers=V, timeout=10)
    assert unknown.status_code == 400 and list(unknown.json()["errors"]) == ["learner"]
