"""Is this a valid xAPI Statement, Agent, Group or Activity? (xAPI 1.0.3 and 2.0, Data chapter.)

Every check raises :class:`XapiInvalid` (400) naming the JSON path of the first problem, e.g.
``actor.mbox`` or, in a batch, ``[3].context.instructor``. ``version`` selects the rules
of xAPI 1.0.3 ("1.0") or 2.0 ("2.0"): 2.0 adds ``contextAgents``/``contextGroups`` and
``2.0.x`` statement versions.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from careeros_services.common.errors import DomainError
from careeros_services.tracker.xapi.statements import parse_time

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
LANG_RE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
MAILTO_RE = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
SHA2_RE = re.compile(r"^[0-9a-fA-F]{56,128}$")
TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$")
DURATION_RE = re.compile(
    r"^P(?:\d+(?:\.\d+)?W|(?=\d|T\d)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?)$")
VERSION_RE = {"1.0": re.compile(r"^1\.0(\.\d+)?$"), "2.0": re.compile(r"^(1\.0(\.\d+)?|2\.0(\.\d+)?)$")}
MEDIA_TYPE_RE = re.compile(r"^[\w.+\-]+/[\w.+\-]+(\s*;.*)?$")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
INTERACTION_TYPES = {"true-false": (), "choice": ("choices",), "fill-in": (), "long-fill-in": (),
                     "matching": ("source", "target"), "performance": ("steps",), "sequencing": ("choices",),
                     "likert": ("scale",), "numeric": (), "other": ()}
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")


class XapiInvalid(DomainError):
    """Malformed xAPI input: 400, ``fields`` names the path."""

    code, status, grpc_status, title = "xapi_invalid", 400, "INVALID_ARGUMENT", "Invalid xAPI request"


def fail(path: str, why: str) -> None:
    raise XapiInvalid(f"{path or 'statement'} {why}.", fields={path or "statement": [why]})


def _join(path: str, name: Any) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else str(name)


def _object(value: Any, path: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        fail(path, "must be a JSON object")
    extra = sorted(set(value) - allowed)
    if extra:
        fail(_join(path, extra[0]), "is not a property allowed here")
    for name in required:
        if name not in value:
            fail(_join(path, name), "is required")
    for name, item in value.items():
        if item is None:
            fail(_join(path, name), "must not be null")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        fail(path, "must be a string")
    return value


def _matches(value: Any, pattern: re.Pattern, path: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        fail(path, f"must be {what}")
    return value


def iri(value: Any, path: str) -> str:
    return _matches(value, IRI_RE, path, "an IRI")


def uuid(value: Any, path: str) -> str:
    return _matches(value, UUID_RE, path, "a UUID")


def timestamp(value: Any, path: str) -> str:
    text = _matches(value, TIMESTAMP_RE, path, "an ISO 8601 timestamp")
    if text.endswith("-00:00") or text.endswith("-0000") or text.endswith("-00"):
        fail(path, "must not use the unknown offset -00:00")
    try:  # the calendar too (2026-02-30 matches the pattern)
        parse_time(text)
    except ValueError:
        fail(path, "must be an ISO 8601 timestamp")
    return text


def language_map(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        fail(path, "must be a language map")
    for tag, text in value.items():
        if not LANG_RE.match(tag):
            fail(_join(path, tag), "is not an RFC 5646 language tag")
        _string(text, _join(path, tag))
    return value


def extensions(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        fail(path, "must be a JSON object")
    for key in value:
        iri(key, _join(path, key) + " (key)")
    return value  # values are free, null included


# --- actors ---------------------------------------------------------------------------------

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def _ifi(value: dict, path: str) -> int:
    found = [name for name in IFIS if name in value]
    if len(found) > 1:
        fail(path, "must have exactly one inverse functional identifier")
    if "mbox" in value:
        _matches(value["mbox"], MAILTO_RE, _join(path, "mbox"), "a mailto: IRI")
    if "mbox_sha1sum" in value:
        _matches(value["mbox_sha1sum"], SHA1_RE, _join(path, "mbox_sha1sum"), "a hex SHA-1")
    if "openid" in value:
        iri(value["openid"], _join(path, "openid"))
    if "account" in value:
        account = _object(value["account"], _join(path, "account"), {"homePage", "name"}, ("homePage", "name"))
        iri(account["homePage"], _join(path, "account.homePage"))
        _string(account["name"], _join(path, "account.name"))
    return len(found)


def agent(value: Any, path: str) -> dict:
    """An Agent: objectType (optional "Agent"), name, exactly one IFI."""
    value = _object(value, path, {"objectType", "name", *IFIS})
    if value.get("objectType", "Agent") != "Agent":
        fail(_join(path, "objectType"), 'must be "Agent"')
    if "name" in value:
        _string(value["name"], _join(path, "name"))
    if _ifi(value, path) != 1:
        fail(path, "must have exactly one inverse functional identifier")
    return value


def group(value: Any, path: str) -> dict:
    """A Group: objectType "Group", an IFI (identified) or members (anonymous), members are Agents."""
    value = _object(value, path, {"objectType", "name", "member", *IFIS}, ("objectType",))
    if value["objectType"] != "Group":
        fail(_join(path, "objectType"), 'must be "Group"')
    if "name" in value:
        _string(value["name"], _join(path, "name"))
    identified = _ifi(value, path)
    members = value.get("member")
    if members is not None:
        if not isinstance(members, list):
            fail(_join(path, "member"), "must be an array of Agents")
        for i, member in enumerate(members):
            agent(member, _join(_join(path, "member"), i))
    if not identified and not members:
        fail(_join(path, "member"), "is required for an anonymous Group")
    return value


def actor(value: Any, path: str) -> dict:
    if isinstance(value, dict) and value.get("objectType") == "Group":
        return group(value, path)
    return agent(value, path)


# --- activities -----------------------------------------------------------------------------

def _components(value: Any, path: str) -> None:
    if not isinstance(value, list):
        fail(path, "must be an array of interaction components")
    seen = set()
    for i, item in enumerate(value):
        where = _join(path, i)
        item = _object(item, where, {"id", "description"}, ("id",))
        _string(item["id"], _join(where, "id"))
        if item["id"] in seen:
            fail(_join(where, "id"), "must be unique within the list")
        seen.add(item["id"])
        if "description" in item:
            language_map(item["description"], _join(where, "description"))


def definition(value: Any, path: str) -> dict:
    allowed = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
               "correctResponsesPattern", *COMPONENT_LISTS}
    value = _object(value, path, allowed)
    for name in ("name", "description"):
        if name in value:
            language_map(value[name], _join(path, name))
    for name in ("type", "moreInfo"):
        if name in value:
            iri(value[name], _join(path, name))
    if "extensions" in value:
        extensions(value["extensions"], _join(path, "extensions"))
    kind = value.get("interactionType")
    if kind is not None and (not isinstance(kind, str) or kind not in INTERACTION_TYPES):
        fail(_join(path, "interactionType"), "must be an xAPI interaction type")
    if "correctResponsesPattern" in value:
        if kind is None:
            fail(_join(path, "correctResponsesPattern"), "needs an interactionType")
        pattern = value["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            fail(_join(path, "correctResponsesPattern"), "must be an array of strings")
    for name in COMPONENT_LISTS:
        if name in value:
            if name not in INTERACTION_TYPES.get(kind or "", ()):
                fail(_join(path, name), "is not allowed for this interactionType")
            _components(value[name], _join(path, name))
    return value


def activity(value: Any, path: str) -> dict:
    value = _object(value, path, {"objectType", "id", "definition"}, ("id",))
    if value.get("objectType", "Activity") != "Activity":
        fail(_join(path, "objectType"), 'must be "Activity"')
    iri(value["id"], _join(path, "id"))
    if "definition" in value:
        definition(value["definition"], _join(path, "definition"))
    return value


def statement_ref(value: Any, path: str) -> dict:
    value = _object(value, path, {"objectType", "id"}, ("objectType", "id"))
    uuid(value["id"], _join(path, "id"))
    return value


# --- statements -----------------------------------------------------------------------------

def _object_of(value: Any, path: str, version: str, *, nested: bool) -> dict:
    if not isinstance(value, dict):
        fail(path, "must be a JSON object")
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return activity(value, path)
    if kind == "Agent":
        return agent(value, path)
    if kind == "Group":
        return group(value, path)
    if kind == "StatementRef":
        return statement_ref(value, path)
    if kind == "SubStatement" and not nested:
        return sub_statement(value, path, version)
    fail(_join(path, "objectType"), "is not an allowed object type here")
    return value


def result(value: Any, path: str) -> dict:
    value = _object(value, path, {"score", "success", "completion", "response", "duration", "extensions"})
    if "score" in value:
        score = _object(value["score"], _join(path, "score"), {"scaled", "raw", "min", "max"})
        for name, item in score.items():
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                fail(_join(path, f"score.{name}"), "must be a number")
        if "scaled" in score and not -1 <= score["scaled"] <= 1:
            fail(_join(path, "score.scaled"), "must be between -1 and 1")
        low, high = score.get("min"), score.get("max")
        if low is not None and high is not None and low >= high:
            fail(_join(path, "score.max"), "must be greater than score.min")
        if "raw" in score and ((low is not None and score["raw"] < low) or (high is not None and score["raw"] > high)):
            fail(_join(path, "score.raw"), "must be between score.min and score.max")
    for name in ("success", "completion"):
        if name in value and not isinstance(value[name], bool):
            fail(_join(path, name), "must be true or false")
    if "response" in value:
        _string(value["response"], _join(path, "response"))
    if "duration" in value:
        _matches(value["duration"], DURATION_RE, _join(path, "duration"), "an ISO 8601 duration")
    if "extensions" in value:
        extensions(value["extensions"], _join(path, "extensions"))
    return value


def _activity_list(value: Any, path: str) -> None:
    for i, item in enumerate(value if isinstance(value, list) else [value]):
        activity(item, _join(path, i) if isinstance(value, list) else path)


def _typed_list(value: Any, path: str, kind: str, member: str, check: Callable) -> None:
    if not isinstance(value, list):
        fail(path, "must be an array")
    for i, item in enumerate(value):
        where = _join(path, i)
        item = _object(item, where, {"objectType", member, "relevantTypes"}, ("objectType", member))
        if item["objectType"] != kind:
            fail(_join(where, "objectType"), f'must be "{kind}"')
        check(item[member], _join(where, member))
        if "relevantTypes" in item:
            types = item["relevantTypes"]
            if not isinstance(types, list) or not types:
                fail(_join(where, "relevantTypes"), "must be a non-empty array of IRIs")
            for j, type_iri in enumerate(types):
                iri(type_iri, _join(_join(where, "relevantTypes"), j))


def context(value: Any, path: str, version: str, object_is_activity: bool) -> dict:
    allowed = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language",
               "statement", "extensions"}
    if version == "2.0":
        allowed |= {"contextAgents", "contextGroups"}
    value = _object(value, path, allowed)
    if "registration" in value:
        uuid(value["registration"], _join(path, "registration"))
    if "instructor" in value:
        actor(value["instructor"], _join(path, "instructor"))
    if "team" in value:
        group(value["team"], _join(path, "team"))
    if "contextActivities" in value:
        where = _join(path, "contextActivities")
        activities = _object(value["contextActivities"], where, {"parent", "grouping", "category", "other"})
        for name, item in activities.items():
            _activity_list(item, _join(where, name))
    for name in ("revision", "platform"):
        if name in value:
            _string(value[name], _join(path, name))
            if not object_is_activity:
                fail(_join(path, name), "is only allowed when the object is an Activity")
    if "language" in value:
        _matches(value["language"], LANG_RE, _join(path, "language"), "an RFC 5646 language tag")
    if "statement" in value:
        statement_ref(value["statement"], _join(path, "statement"))
        if value["statement"]["objectType"] != "StatementRef":
            fail(_join(path, "statement.objectType"), 'must be "StatementRef"')
    if "extensions" in value:
        extensions(value["extensions"], _join(path, "extensions"))
    if "contextAgents" in value:
        _typed_list(value["contextAgents"], _join(path, "contextAgents"), "contextAgent", "agent", agent)
    if "contextGroups" in value:
        _typed_list(value["contextGroups"], _join(path, "contextGroups"), "contextGroup", "group", group)
    return value


def attachments(value: Any, path: str) -> list:
    if not isinstance(value, list):
        fail(path, "must be an array")
    allowed = {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
    for i, item in enumerate(value):
        where = _join(path, i)
        item = _object(item, where, allowed, ("usageType", "display", "contentType", "length", "sha2"))
        iri(item["usageType"], _join(where, "usageType"))
        language_map(item["display"], _join(where, "display"))
        if "description" in item:
            language_map(item["description"], _join(where, "description"))
        _matches(item["contentType"], MEDIA_TYPE_RE, _join(where, "contentType"), "an Internet media type")
        if isinstance(item["length"], bool) or not isinstance(item["length"], int) or item["length"] < 0:
            fail(_join(where, "length"), "must be a non-negative integer")
        _matches(item["sha2"], SHA2_RE, _join(where, "sha2"), "a hex SHA-2 digest")
        if "fileUrl" in item:
            iri(item["fileUrl"], _join(where, "fileUrl"))
    return value


def _core(value: dict, path: str, version: str, *, nested: bool) -> None:
    actor(value["actor"], _join(path, "actor"))
    verb = _object(value["verb"], _join(path, "verb"), {"id", "display"}, ("id",))
    iri(verb["id"], _join(path, "verb.id"))
    if "display" in verb:
        language_map(verb["display"], _join(path, "verb.display"))
    obj = _object_of(value["object"], _join(path, "object"), version, nested=nested)
    if verb["id"] == VOIDED and obj.get("objectType") != "StatementRef":
        fail(_join(path, "object"), "of a voiding statement must be a StatementRef")
    if "result" in value:
        result(value["result"], _join(path, "result"))
    if "context" in value:
        context(value["context"], _join(path, "context"), version, obj.get("objectType", "Activity") == "Activity")
    if "timestamp" in value:
        timestamp(value["timestamp"], _join(path, "timestamp"))
    if "attachments" in value:
        attachments(value["attachments"], _join(path, "attachments"))


def sub_statement(value: Any, path: str, version: str) -> dict:
    allowed = {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
    value = _object(value, path, allowed, ("actor", "verb", "object"))
    _core(value, path, version, nested=True)
    return value


def storable(statements: list) -> None:
    """What JSON allows but a stored statement cannot hold: NaN/infinite numbers, NUL characters."""
    try:
        text = json.dumps(statements, allow_nan=False)
    except ValueError:
        fail("statement", "must not contain NaN or infinite numbers")
    if "\\u0000" in text:
        fail("statement", "must not contain NUL characters")


def statement(value: Any, path: str = "", version: str = "1.0") -> dict:
    """Validate one Statement as received (``version``: "1.0" or "2.0" rules)."""
    allowed = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version",
               "attachments", "objectType"}
    value = _object(value, path, allowed, ("actor", "verb", "object"))
    if "objectType" in value:
        fail(_join(path, "objectType"), "is not a property of a Statement")
    if "id" in value:
        uuid(value["id"], _join(path, "id"))
    _core(value, path, version, nested=False)
    if "stored" in value:
        timestamp(value["stored"], _join(path, "stored"))
    if "authority" in value:
        authority = actor(value["authority"], _join(path, "authority"))
        if authority.get("objectType") == "Group" and (len(authority.get("member", [])) != 2
                                                        or any(name in authority for name in IFIS)):
            fail(_join(path, "authority"), "as a Group must be an OAuth pair of two Agents")
    if "version" in value:
        _matches(value["version"], VERSION_RE[version], _join(path, "version"),
                 "1.0.x" if version == "1.0" else "1.0.x or 2.0.x")
    return value
