"""The LRS service layer (careeros_services/tracker/lrs.py) against a real, freshly migrated PostgreSQL."""
from __future__ import annotations

import json
import random
from urllib.parse import parse_qsl, urlparse

import pytest

from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError, Forbidden
from careeros_services.tracker.domain import HOME_PAGE, LESSON_IRI, COURSE_IRI
from careeros_services.tracker.lrs import LrsService
from careeros_services.tracker.service import PROGRESS_UPDATED, STATEMENT_RECORDED, TrackerService
from careeros_services.tracker.xapi.protocol import XapiError, XapiRequest
from tests.tracker.support import new_id, outbox

V = {"x-experience-api-version": "1.0.3", "content-type": "application/json"}
VERB = {"id": "http://adlnet.gov/expapi/verbs/completed"}


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("tracker")


@pytest.fixture(scope="module")
def lrs(store) -> LrsService:
    return LrsService(TrackerService(store))


@pytest.fixture
def org(lrs):
    """``(tenant_id, owner_id, credential with scope all)``."""
    tenant, owner = new_id(), new_id()
    key = lrs.create_key(Caller(tenant, owner, "owner"), "tests", ["all"])
    return tenant, owner, lrs.basic_credential(key["key"], key["secret"])


def call(lrs, credential, method: str, resource: str = "statements", body=None, **params):
    raw = json.dumps(body).encode() if body is not None else b""
    response = lrs.handle(XapiRequest(method, resource, {k: str(v) for k, v in params.items()}, dict(V), raw),
                          credential)
    text = response.body.decode() if response.body else ""
    return response.status, (json.loads(text) if text and response.headers.get("Content-Type", "").startswith(
        "application/json") else text), response.headers


def mbox() -> dict:
    return {"mbox": f"mailto:{new_id()[:8]}@example.com"}


def stmt(actor=None, activity="http://example.com/a", **extra) -> dict:
    return {"actor": actor or mbox(), "verb": VERB, "object": {"id": activity}, **extra}


def test_lrs_tables_force_row_level_security(store):
    with store.transaction(None) as tx:
        rows = dict(tx.db.execute_sql(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
            (["lrs_documents", "lrs_attachments", "lrs_credentials"],)).fetchall())
    assert rows == {"lrs_documents": True, "lrs_attachments": True, "lrs_credentials": True}


def test_keys_are_managed_by_owners_and_admins_and_kept_hashed(lrs, store):
    tenant, owner = new_id(), new_id()
    with pytest.raises(Forbidden):
        lrs.create_key(Caller(tenant, new_id(), "member"), "x", ["all"])
    with pytest.raises(DomainError):
        lrs.create_key(Caller(tenant, owner, "admin"), "x", ["everything"])
    key = lrs.create_key(Caller(tenant, owner, "admin"), "content", ["statements/write"])
    with store.transaction(tenant) as tx:
        kept = tx.db.execute_sql("SELECT secret_hash FROM lrs_credentials WHERE key_id = %s", (key["key"],)).fetchone()
    assert kept[0] != key["secret"] and key["secret"] not in kept[0]
    assert lrs.basic_credential(key["key"], key["secret"]).scopes == {"statements/write"}
    with pytest.raises(XapiError):
        lrs.basic_credential(key["key"], key["secret"] + "x")
    assert [k["key"] for k in lrs.list_keys(Caller(tenant, owner, "owner"))] == [key["key"]]
    assert "secret" not in lrs.list_keys(Caller(tenant, owner, "owner"))[0]
    lrs.revoke_key(Caller(tenant, owner, "owner"), key["key"])
    with pytest.raises(XapiError):
        lrs.basic_credential(key["key"], key["secret"])
    with pytest.raises(DomainError):
        lrs.revoke_key(Caller(new_id(), owner, "owner"), key["key"])  # another tenant has no such key


def test_a_tenant_never_sees_another_tenants_statements(lrs, org):
    _tenant, _owner, mine = org
    other = org_of(lrs)
    status, ids, _ = call(lrs, mine, "POST", body=[stmt(), stmt()])
    assert status == 200 and len(ids) == 2
    assert call(lrs, other, "GET", statementId=ids[0])[0] == 404
    assert call(lrs, other, "GET")[1]["statements"] == []
    assert len(call(lrs, mine, "GET")[1]["statements"]) == 2


def org_of(lrs):
    tenant, owner = new_id(), new_id()
    key = lrs.create_key(Caller(tenant, owner, "owner"), "tests", ["all"])
    return lrs.basic_credential(key["key"], key["secret"])


def void(agent: dict, target: str) -> dict:
    return {"actor": agent, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target}}


def test_voided_statements_leave_queries_but_stay_reachable(lrs, org):
    _t, _o, key = org
    agent = mbox()
    _, [target], _ = call(lrs, key, "POST", body=stmt(agent))
    _, [voiding], _ = call(lrs, key, "POST", body=void(agent, target))
    assert call(lrs, key, "GET", statementId=target)[0] == 404
    assert call(lrs, key, "GET", voidedStatementId=target)[1]["id"] == target
    listed = [s["id"] for s in call(lrs, key, "GET", agent=json.dumps(agent))[1]["statements"]]
    assert listed == [voiding]
    status, body, _ = call(lrs, key, "POST", body=void(agent, voiding))
    assert status == 400 and body["error"] == "xapi_invalid"


def test_following_more_pages_through_every_statement_in_order(lrs, org):
    _t, _o, key = org
    agent = mbox()
    ids = [call(lrs, key, "POST", body=stmt(agent))[1][0] for _ in range(7)]
    for ascending, expected in (("false", ids[::-1]), ("true", ids)):
        seen, params = [], {"agent": json.dumps(agent), "limit": 3, "ascending": ascending}
        while True:
            status, page, headers = call(lrs, key, "GET", **params)
            assert status == 200 and "X-Experience-API-Consistent-Through" in headers
            seen += [s["id"] for s in page["statements"]]
            if not page["more"]:
                break
            url = urlparse(page["more"])
            assert url.path == "/statements"  # below the base the gateway passed ("" here)
            params = dict(parse_qsl(url.query))
        assert seen == expected


def test_statements_of_careeros_learners_move_progress_and_others_only_get_stored(lrs, org, store):
    tenant, _o, key = org
    learner, course, lesson = new_id(), new_id(), new_id()
    ours = stmt({"objectType": "Agent", "account": {"homePage": HOME_PAGE, "name": learner}}, LESSON_IRI + lesson,
                result={"duration": "PT2M"}, context={"contextActivities": {"parent": {"id": COURSE_IRI + course}}})
    before = len(outbox(store, STATEMENT_RECORDED))
    status, [statement_id, _], _ = call(lrs, key, "POST", body=[ours, stmt()])
    assert status == 200
    recorded = outbox(store, STATEMENT_RECORDED)[before:]
    assert [(e["payload"]["statement_id"], e["payload"]["user_id"], e["payload"]["course_id"]) for e in recorded] \
        == [(statement_id, learner, course)]
    progress = [e["payload"] for e in outbox(store, PROGRESS_UPDATED) if e["payload"]["user_id"] == learner]
    assert progress and progress[-1]["time_spent_s"] == 120
    view = lrs.tracker.get_progress(Caller(tenant, learner, "member"))
    assert view["courses"][0]["course_id"] == course and view["streak"]["current_days"] >= 0


def test_a_learners_token_reads_and_writes_only_their_own(lrs, org):
    tenant, _o, key = org
    learner = new_id()
    own = {"objectType": "Agent", "account": {"homePage": HOME_PAGE, "name": learner}}
    call(lrs, key, "POST", body=[stmt(own), stmt()])
    token = lrs.bearer_credential(Caller(tenant, learner, "member"))
    listed = call(lrs, token, "GET")[1]["statements"]
    assert listed and all(s["actor"]["account"]["name"] == learner for s in listed)
    assert call(lrs, token, "POST", body=stmt())[0] == 403
    assert call(lrs, token, "POST", body=stmt(own))[0] == 200
    instructor = lrs.bearer_credential(Caller(tenant, new_id(), "instructor"))
    assert len(call(lrs, instructor, "GET")[1]["statements"]) == 3  # reads the tenant, writes as themselves
    assert call(lrs, instructor, "POST", body=stmt(own))[0] == 403


def test_documents_follow_etags_and_merge(lrs, org):
    _t, _o, key = org
    params = {"activityId": "http://example.com/a", "agent": json.dumps(mbox()), "stateId": "bookmark"}

    def put(method, body, **headers):
        request = XapiRequest(method, "activities/state", params, {**V, **headers}, json.dumps(body).encode())
        return lrs.handle(request, key)
    assert put("POST", {"page": 1}).status == 204
    assert put("POST", {"chapter": 2}).status == 204
    got = lrs.handle(XapiRequest("GET", "activities/state", params, dict(V)), key)
    assert json.loads(got.body) == {"page": 1, "chapter": 2}
    assert put("PUT", {"page": 3}, **{"if-match": '"stale"'}).status == 412
    assert put("PUT", {"page": 3}, **{"if-match": got.headers["ETag"]}).status == 204
    ids = lrs.handle(XapiRequest("GET", "activities/state", {k: v for k, v in params.items() if k != "stateId"},
                                 dict(V)), key)
    assert json.loads(ids.body) == ["bookmark"]


def test_junk_is_a_4xx_never_a_500(lrs, org):
    _t, _o, key = org
    rnd = random.Random(15)
    shapes = [None, 1, "x", [], [None], {"actor": None}, {"actor": {"mbox": 5}, "verb": [], "object": {}},
              {"actor": {"objectType": "Group", "member": "x"}, "verb": VERB, "object": {"id": 3}},
              {"actor": mbox(), "verb": VERB, "object": {"objectType": "SubStatement"}},
              {"actor": mbox(), "verb": VERB, "object": {"id": "http://x.y"}, "context": {"contextActivities": []}},
              {"actor": mbox(), "verb": VERB, "object": {"id": "http://x.y", "definition": {"interactionType": {}}}}]
    for shape in shapes:
        assert 400 <= call(lrs, key, "POST", body=shape)[0] < 500, shape
    for _ in range(50):
        blob = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
        response = lrs.handle(XapiRequest("POST", "statements", {}, dict(V), blob), key)
        assert 400 <= response.status < 500
    for raw in (b'{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://x.y"}, "object": {"id": "http://x.y"},'
                b' "result": {"score": {"raw": 1e400}}}',
                b'{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://x.y", "display": {"en": "\\u0000"}},'
                b' "object": {"id": "http://x.y"}}'):
        assert lrs.handle(XapiRequest("POST", "statements", {}, dict(V), raw), key).status == 400
    for resource, params in (("statements", {"since": "x"}), ("statements", {"verb": "http://x.y/\x00"}),
                             ("activities/state", {"activityId": "http://x.y", "stateId": "\x00",
                                                   "agent": json.dumps({"account": {"homePage": "http://x.y",
                                                                                    "name": "a\x00"}})}), ("agents", {"agent": "[]"}),
                             ("activities", {"activityId": "?"}), ("activities/state", {}), ("nothing", {})):
        assert 400 <= lrs.handle(XapiRequest("GET", resource, params, dict(V)), key).status < 500
