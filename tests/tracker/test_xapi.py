"""The LRS's statement rules (careeros_services/tracker/xapi), without a server or database."""
from __future__ import annotations

import base64
import copy
import json
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from careeros_services.tracker.xapi import documents, multipart, query, validate
from careeros_services.tracker.xapi.statements import (agent_key, comparable, formatted, index, iso, parse_time,
                                                       prepare, same_statement)
from careeros_services.tracker.xapi.validate import XapiInvalid

VERB = {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}}
MBOX = {"objectType": "Agent", "mbox": "mailto:ada@example.com"}
ACTIVITY = {"objectType": "Activity", "id": "http://example.com/a",
            "definition": {"name": {"en-US": "A"}, "type": "http://adlnet.gov/expapi/activities/lesson"}}


def stmt(**extra) -> dict:
    return {"actor": MBOX, "verb": VERB, "object": ACTIVITY, **extra}


def refused(value: dict, version: str = "1.0") -> str:
    with pytest.raises(XapiInvalid) as caught:
        validate.statement(value, "", version)
    return next(iter(caught.value.fields))


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", [
    {"mbox": "mailto:a@b.c"},
    {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
    {"openid": "http://openid.example.org/12345"},
    {"account": {"homePage": "http://www.example.com", "name": "1625378"}},
    {"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]},
    {"objectType": "Group", "mbox": "mailto:team@b.c", "member": []},
])
def test_every_actor_identifier_is_accepted(actor):
    validate.statement(stmt(actor=actor))


@pytest.mark.parametrize("obj", [
    {"objectType": "StatementRef", "id": str(uuid.uuid4())},
    {"objectType": "Agent", "mbox": "mailto:x@y.z"},
    {"objectType": "SubStatement", "actor": MBOX, "verb": VERB, "object": ACTIVITY,
     "context": {"instructor": MBOX, "team": {"objectType": "Group", "member": [MBOX]}}},
])
def test_statement_refs_sub_statements_and_agents_are_objects(obj):
    validate.statement(stmt(object=obj))


@pytest.mark.parametrize("change, path", [
    ({"actor": {"mbox": "ada@example.com"}}, "actor.mbox"),
    ({"actor": {"mbox": "mailto:a@b.c", "openid": "http://x.y/z"}}, "actor"),
    ({"actor": {"objectType": "Group"}}, "actor.member"),
    ({"verb": {"id": "completed"}}, "verb.id"),
    ({"verb": {"id": VERB["id"], "display": {"not a tag!": "x"}}}, "verb.display.not a tag!"),
    ({"object": {"id": "http://example.com/a", "definition": {"interactionType": "essay"}}},
     "object.definition.interactionType"),
    ({"object": {"objectType": "SubStatement", "actor": MBOX, "verb": VERB,
                 "object": {"objectType": "SubStatement", "actor": MBOX, "verb": VERB, "object": ACTIVITY}}},
     "object.object.objectType"),
    ({"result": {"score": {"scaled": 1.5}}}, "result.score.scaled"),
    ({"result": {"duration": "PT"}}, "result.duration"),
    ({"context": {"registration": "nope"}}, "context.registration"),
    ({"timestamp": "2026-13-01T00:00:00Z"}, "timestamp"),
    ({"timestamp": "2026-01-01T00:00:00-00:00"}, "timestamp"),
    ({"id": "123"}, "id"),
    ({"version": "0.95"}, "version"),
    ({"extra": 1}, "extra"),
    ({"result": None}, "result"),
    ({"verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}}, "object"),
    ({"authority": {"objectType": "Group", "member": [MBOX]}}, "authority"),
])
def test_invalid_statements_are_refused_naming_the_field(change, path):
    assert refused(stmt(**change)) == path


def test_xapi_2_adds_context_agents_and_version_2():
    extra = {"context": {"contextAgents": [{"objectType": "contextAgent", "agent": MBOX,
                                            "relevantTypes": ["http://example.com/types/coach"]}]},
             "version": "2.0.0"}
    validate.statement(stmt(**extra), "", "2.0")
    assert refused(stmt(**extra), "1.0") == "context.contextAgents"


@given(st.text(alphabet="PTYMWDHS0123456789.", max_size=12))
def test_durations_the_validator_accepts_are_iso_8601(text):
    try:
        validate.result({"duration": text}, "result")
    except XapiInvalid:
        return
    assert text.startswith("P") and text not in ("P", "PT") and not text.endswith("T")


# --- filled in, indexed, compared -------------------------------------------------------------

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://careeros.dev/xapi/keys", "name": "lrs_x"}}
STORED = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


def test_the_lrs_fills_in_id_stored_timestamp_authority_and_version():
    sent = stmt(authority={"mbox": "mailto:forged@example.com"}, context={
        "contextActivities": {"parent": {"id": "http://example.com/course"}}})
    body = prepare(sent, stored=STORED, authority=AUTHORITY, version="1.0.3")
    assert uuid.UUID(body["id"]) and body["stored"] == body["timestamp"] == "2026-01-05T08:00:00.000Z"
    assert body["authority"] == AUTHORITY and body["version"] == "1.0.3"
    assert body["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/course"}]
    assert prepare(stmt(version="1.0.0"), stored=STORED, authority=AUTHORITY, version="2.0.0")["version"] == "1.0.0"


def test_index_knows_actor_object_and_every_related_agent_and_activity():
    team = {"objectType": "Group", "member": [{"mbox": "mailto:m@x.y"}]}
    body = prepare(stmt(object={"objectType": "SubStatement", "actor": {"mbox": "mailto:sub@x.y"}, "verb": VERB,
                                "object": {"id": "http://example.com/sub"},
                                "context": {"contextActivities": {"grouping": [{"id": "http://example.com/g"}]}}},
                        context={"instructor": {"mbox": "mailto:teacher@x.y"}, "team": team,
                                 "registration": "A0000000-0000-4000-8000-000000000000",
                                 "contextActivities": {"parent": [{"id": "http://example.com/p"}]}}),
                   stored=STORED, authority=AUTHORITY, version="1.0.3")
    idx = index(body)
    assert idx["agents"] == [agent_key(MBOX)]
    assert set(idx["related_agents"]) == {agent_key(MBOX), agent_key({"mbox": "mailto:sub@x.y"}),
                                          agent_key({"mbox": "mailto:teacher@x.y"}),
                                          agent_key({"mbox": "mailto:m@x.y"}),
                                          agent_key(AUTHORITY)}
    assert set(idx["related_activities"]) == {"http://example.com/sub", "http://example.com/g",
                                              "http://example.com/p"}
    assert idx["ref_target"] is None and idx["registration"] == "a0000000-0000-4000-8000-000000000000"


def test_agents_and_groups_with_one_identifier_are_different_identities():
    assert agent_key({"mbox": "mailto:a@b.c"}) != agent_key({"objectType": "Group", "mbox": "mailto:a@b.c"})
    assert agent_key({"objectType": "Group", "member": [MBOX]}) == ""


def _instant_texts(moment: datetime, offset_minutes: int) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    local = moment.astimezone(zone)
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return local.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + f"{sign}{hours:02d}{minutes:02d}"


statements = st.builds(
    lambda success, seconds, members, when, offset: stmt(
        actor={"objectType": "Group", "member": [{"mbox": f"mailto:m{i}@x.y", "name": f"M{i}"} for i in members]},
        result={"success": success, "duration": f"PT{seconds}.125S"},
        timestamp=iso(when)),
    st.booleans(), st.integers(0, 10_000), st.lists(st.integers(0, 50), min_size=1, max_size=6, unique=True),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)),
    st.integers(-14 * 60, 14 * 60))


@settings(max_examples=200, deadline=None)
@given(statements, st.integers(-14 * 60, 14 * 60), st.randoms())
def test_what_xapi_says_to_ignore_does_not_make_a_conflict(sent, offset, rnd):
    resent = copy.deepcopy(sent)
    resent["timestamp"] = _instant_texts(parse_time(sent["timestamp"]), offset)   # same instant, other form
    resent["verb"] = {"id": VERB["id"], "display": {"fr": "terminé"}}              # display is not meaning
    resent["object"] = {"id": ACTIVITY["id"]}                                         # nor the definition
    rnd.shuffle(resent["actor"]["member"])                                            # members are a set
    resent["result"]["duration"] = resent["result"]["duration"].replace(".125S", ".12999S")  # beyond 0.01 s
    resent["authority"], resent["stored"], resent["version"] = AUTHORITY, iso(STORED), "1.0.3"
    assert same_statement(sent, resent)


@settings(max_examples=100, deadline=None)
@given(statements)
def test_what_a_statement_means_does_make_a_conflict(sent):
    for change in (lambda s: s["result"].update(success=not s["result"]["success"]),
                   lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/failed"),
                   lambda s: s["actor"]["member"].append({"mbox": "mailto:extra@x.y"}),
                   lambda s: s.update(context={"registration": str(uuid.uuid4())})):
        other = copy.deepcopy(sent)
        change(other)
        assert not same_statement(sent, other)


def test_ids_format_keeps_only_identifiers():
    body = prepare(stmt(actor=dict(MBOX, name="Ada")), stored=STORED, authority=AUTHORITY, version="1.0.3")
    ids = formatted(body, "ids")
    assert ids["actor"] == {"objectType": "Agent", "mbox": MBOX["mbox"]}
    assert ids["object"] == {"id": ACTIVITY["id"]} and ids["verb"] == {"id": VERB["id"]}
    assert formatted(body, "exact") == body
    canonical = formatted(dict(body, verb={"id": VERB["id"], "display": {"en-US": "done", "fr": "fini"}}),
                          "canonical", ["fr"])
    assert canonical["verb"]["display"] == {"fr": "fini"}


def test_comparable_ignores_the_lrs_assigned_timestamp():
    body = prepare(stmt(), stored=STORED, authority=AUTHORITY, version="1.0.3")
    assert comparable(body) == comparable(stmt())


# --- queries ---------------------------------------------------------------------------------------

def test_query_parameters_are_checked():
    for params, name in (({"learner": "x"}, "learner"), ({"statementId": str(uuid.uuid4()), "verb": VERB["id"]},
                                                          "statementId"),
                         ({"agent": "{not json"}, "agent"), ({"agent": json.dumps({"name": "x"})}, "agent"),
                         ({"limit": "-1"}, "limit"), ({"format": "full"}, "format"),
                         ({"ascending": "yes"}, "ascending"),
                         ({"since": "yesterday"}, "since")):
        with pytest.raises(XapiInvalid) as caught:
            query.parse(params)
        assert name in caught.value.fields, params
    assert query.parse({"limit": "0"}).filter.limit == query.MAX_PAGE
    single = query.parse({"voidedStatementId": "AAAAAAAA-0000-4000-8000-000000000000", "format": "ids"})
    assert single.voided and single.statement_id == "aaaaaaaa-0000-4000-8000-000000000000"


def test_the_more_token_carries_the_filters_and_the_position():
    flt = query.parse({"agent": json.dumps(MBOX), "verb": VERB["id"], "ascending": "true", "limit": "5"}).filter
    again = query.parse({"more": query.encode_more(flt, 42)}).filter
    assert again.agent == flt.agent and again.verb == flt.verb and again.ascending and again.after_seq == 42
    with pytest.raises(XapiInvalid):
        query.parse({"more": "not-a-token"})


# --- documents --------------------------------------------------------------------------------------

def test_document_preconditions():
    tag = documents.etag(b"{}")
    assert tag.startswith('"') and len(tag) == 42
    documents.precondition("PUT", tag, tag, "", require_header=True)
    documents.precondition("PUT", None, "", "*", require_header=True)
    with pytest.raises(documents.PreconditionFailed):
        documents.precondition("PUT", tag, '"other"', "", require_header=True)
    with pytest.raises(documents.PreconditionFailed):
        documents.precondition("POST", tag, "", "*", require_header=False)
    with pytest.raises(documents.DocumentConflict):
        documents.precondition("PUT", tag, "", "", require_header=True)
    with pytest.raises(XapiInvalid):
        documents.precondition("PUT", None, "", "", require_header=True)
    documents.precondition("PUT", tag, "", "", require_header=False, blind_overwrite_conflicts=False)


def test_post_merges_json_objects_only():
    merged, kind = documents.merge((b'{"a": 1, "b": 1}', "application/json"), b'{"b": 2}', "application/json")
    assert json.loads(merged) == {"a": 1, "b": 2} and kind == "application/json"
    with pytest.raises(XapiInvalid):
        documents.merge((b"plain", "text/plain"), b'{"b": 2}', "application/json")


def test_document_parameters():
    key = documents.parse_params("activities/state", {"activityId": "http://example.com/a",
                                                      "agent": json.dumps(MBOX), "stateId": "s"}, "PUT")
    assert key.kind == "state" and key.agent == agent_key(MBOX)
    with pytest.raises(XapiInvalid):
        documents.parse_params("activities/state", {"activityId": "http://example.com/a"}, "GET")
    with pytest.raises(XapiInvalid):
        documents.parse_params("agents/profile", {"agent": json.dumps(MBOX), "since": iso(STORED),
                                                  "profileId": "p"}, "GET")


# --- multipart ----------------------------------------------------------------------------------------

def _multipart(statement: dict, parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "xyz"
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(statement)}\r\n".encode()]
    for sha2, content in parts:
        out.append(f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode() + content + b"\r\n")
    out.append(f"--{boundary}--".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"


def _signature(payload: dict) -> bytes:
    encode = lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode().rstrip("=")  # noqa: E731
    return f"{encode({'alg': 'RS256'})}.{encode(payload)}.c2ln".encode()


def _signed(statement: dict, payload: dict) -> tuple[dict, bytes, str]:
    jws = _signature(payload)
    sha2 = "a" * 64
    return dict(statement, attachments=[{"usageType": multipart.SIGNATURE, "display": {"en-US": "signature"},
                                         "contentType": "application/octet-stream", "length": len(jws),
                                         "sha2": sha2}]), jws, sha2


def test_signed_statements_must_sign_themselves():
    good, jws, sha2 = _signed(stmt(id=str(uuid.uuid4())), {})
    good, jws, sha2 = _signed(good, {k: v for k, v in good.items() if k != "attachments"})
    statements_json, files = multipart.parse(*_multipart(good, [(sha2, jws)]))
    assert multipart.check_attachments([statements_json], files) == {sha2: ("application/octet-stream", jws)}
    forged, jws, sha2 = _signed(good, dict(good, verb={"id": "http://adlnet.gov/expapi/verbs/failed"}))
    statements_json, files = multipart.parse(*_multipart(forged, [(sha2, jws)]))
    with pytest.raises(XapiInvalid):
        multipart.check_attachments([statements_json], files)


def test_attachment_parts_and_statements_must_pair_up():
    statement, jws, sha2 = _signed(stmt(), stmt())
    statement["attachments"][0]["usageType"] = "http://example.com/usage/slides"
    with pytest.raises(XapiInvalid):
        multipart.check_attachments([statement], {})  # no part and no fileUrl
    with pytest.raises(XapiInvalid):
        multipart.check_attachments([stmt()], {sha2: ("text/plain", b"orphan")})
    body, content_type = multipart.build({"statements": []}, [(sha2, "text/plain", b"hello")])
    parsed, files = multipart.parse(body, content_type)
    assert parsed == {"statements": []} and files == {sha2: ("text/plain", b"hello")}


def test_random_bytes_are_never_a_500():
    rnd = random.Random(7)
    for _ in range(200):
        blob = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
        try:
            multipart.parse(b"--b\r\n" + blob + b"\r\n--b--", "multipart/mixed; boundary=b")
        except XapiInvalid:
            pass
