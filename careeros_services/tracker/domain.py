"""Learning activity and progress: xAPI statements, lesson/course progress, streaks, goals. Pure Python.

No database, broker or framework here. The tracker is a small Learning Record
Store (shaped like the xAPI statements resource of Learning Locker, ADL's LRS
or Yet Analytics' SQL LRS) plus the read models the platform needs on top:

* :func:`parse_statements` validates a POSTed body (one statement or a list)
  against ``contracts/xapi/statement.v1.json`` and the rules a schema cannot
  say (timestamps, durations, the actor is the caller) and returns
  :class:`Statement` values. The first bad field is named in a 400 problem,
  e.g. ``verb.id`` or, in a batch, ``[3].verb.id``.
* :func:`compute_progress` turns a course structure (from the LMS's
  ``course.published`` event) and the set of done lessons into a percentage.
* :func:`streaks` and :func:`weekly_goal_progress` work on active days.

Conventions (shared with the LMS): the actor is
``{"account": {"homePage": "https://careeros.dev", "name": "<user_id>"}}``;
activities are ``https://careeros.dev/xapi/courses/<id>`` and
``.../lessons/<id>``; a lesson statement names its course in
``context.contextActivities.parent``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Optional

import fastjsonschema

from careeros_services.common.errors import DomainError, Forbidden, ValidationFailed
from careeros_services.tracker.xapi.statements import comparable, parse_time

HOME_PAGE = "https://careeros.dev"
COURSE_IRI = f"{HOME_PAGE}/xapi/courses/"
LESSON_IRI = f"{HOME_PAGE}/xapi/lessons/"
ADL = "http://adlnet.gov/expapi/verbs/"
VERB_COMPLETED, VERB_PASSED = ADL + "completed", ADL + "passed"
DONE_VERBS = frozenset({VERB_COMPLETED, VERB_PASSED})  # a lesson is done on either
# cmi5's result extension for "how far into the activity" (0..100), sent with verb progressed.
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"
XAPI_VERSION = "1.0.3"
PLATFORM_TENANT = "00000000-0000-0000-0000-000000000000"  # owner of public catalog courses

MAX_BATCH = 100                      # statements per POST (LRSs cap batches too)
MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_DURATION_S = 366 * 86400         # one statement reports at most a year of activity
MAX_GOAL_MINUTES = 7 * 24 * 60       # a week has no more minutes than this
MAX_PAGE = 200
DEFAULT_PAGE = 50

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "contracts" / "xapi" / "statement.v1.json"
# Compiled once: validation is on the ingestion hot path (fastjsonschema ~25x jsonschema).
_SCHEMA = json.loads(SCHEMA_FILE.read_text())
_validate = fastjsonschema.compile(_SCHEMA)


class InvalidStatement(DomainError):
    """A statement (or the body carrying it) is malformed: 400, naming the field."""

    code, status, grpc_status, title = "invalid_statement", 400, "INVALID_ARGUMENT", "Invalid xAPI statement"


class BatchTooLarge(DomainError):
    """More statements in one request than :data:`MAX_BATCH`: 413."""

    code, status, grpc_status, title = "batch_too_large", 413, "INVALID_ARGUMENT", "Too many statements"


class StatementConflict(DomainError):
    """The statement id is already stored with a different body: 409 (as in xAPI)."""

    code, status, grpc_status, title = "statement_conflict", 409, "ALREADY_EXISTS", "Statement id conflict"


# Codes the gateway maps back to their own HTTP status (gRPC carries only the code).
HTTP_STATUS_BY_CODE = {InvalidStatement.code: 400, BatchTooLarge.code: 413, "invalid_cursor": 400,
                       "invalid_query": 400}


@dataclass(frozen=True)
class Statement:
    """One validated statement, with the fields the tracker indexes."""

    id: str
    user_id: str
    verb: str
    activity_id: str
    course_id: str          # "" when the statement names no careeros course
    lesson_id: str          # "" when the object is not a careeros lesson
    parent_id: str          # first contextActivities.parent id ("" if none)
    duration_s: int
    timestamp: datetime
    body: dict              # the statement as stored (id, timestamp, version filled in)
    body_hash: str          # of what the client sent: the idempotency fingerprint
    progress: int = 0       # 0..100 from the cmi5 progress extension (100 when the statement completes)
    stored: Optional[datetime] = None  # set by the LRS route (the database's now() otherwise)

    @property
    def day(self) -> date:
        return self.timestamp.astimezone(timezone.utc).date()

    @property
    def is_done(self) -> bool:
        return bool(self.lesson_id) and self.verb in DONE_VERBS


# --- statement validation -------------------------------------------------------------------

def _where(path: Iterable[Any], prefix: str) -> str:
    out = prefix
    for part in list(path)[1:]:  # path[0] is fastjsonschema's "data"
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _schema_error(error: fastjsonschema.JsonSchemaValueException, prefix: str) -> InvalidStatement:
    where = _where(error.path or ["data"], prefix)
    rule, value = error.rule, error.value
    sep = "." if where else ""
    if rule == "required" and isinstance(value, dict):
        missing = [name for name in error.rule_definition if name not in value]
        fields = {f"{where}{sep}{name}": ["is required"] for name in missing}
    elif rule == "additionalProperties" and isinstance(value, dict):
        known = set(_properties_at(error.path or []))
        extra = sorted(set(value) - known, key=str)
        fields = {f"{where}{sep}{name}": ["is not a property of an xAPI statement here"] for name in extra}
    elif rule == "pattern":
        fields = {where or "statement": [_PATTERN_HINTS.get(where.rsplit(".", 1)[-1], "is not in the expected format")]}
    elif rule == "const":
        fields = {where or "statement": [f"must be {json.dumps(error.rule_definition)}"]}
    else:
        fields = {where or "statement": [error.message.replace(error.name, "value", 1)]}
    first = next(iter(fields))
    return InvalidStatement(f"The statement is invalid at {first}.", fields=fields)


_PATTERN_HINTS = {
    "id": "must be an IRI (e.g. http://adlnet.gov/expapi/verbs/completed) or a UUID",
    "duration": "must be an ISO 8601 duration such as PT1H30M or PT45.5S",
    "timestamp": "must be an RFC 3339 timestamp with a time zone",
    "name": "must be the learner's user id (a UUID)",
    "registration": "must be a UUID",
    "type": "must be an IRI",
    "moreInfo": "must be an IRI",
    "version": "must be 1.0.x",
}


def _properties_at(path: list) -> dict:
    """The ``properties`` the schema allows at a fastjsonschema error path."""
    node: dict = _SCHEMA
    for part in list(path)[1:]:
        node = _resolve(node)
        if isinstance(part, str) and part.isdigit() or isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return _resolve(node).get("properties", {})


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = _SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


_DURATION = re.compile(
    r"^P(?:(?P<Y>\d+(?:\.\d+)?)Y)?(?:(?P<Mo>\d+(?:\.\d+)?)M)?(?:(?P<W>\d+(?:\.\d+)?)W)?(?:(?P<D>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<H>\d+(?:\.\d+)?)H)?(?:(?P<Mi>\d+(?:\.\d+)?)M)?(?:(?P<S>\d+(?:\.\d+)?)S)?)?$")
# Calendar units have no fixed length; xAPI allows them, so they count as 365 and 30 days.
_UNIT_SECONDS = {"Y": 365 * 86400, "Mo": 30 * 86400, "W": 7 * 86400, "D": 86400, "H": 3600, "Mi": 60, "S": 1}


def parse_duration(text: str) -> int:
    """Whole seconds of an ISO 8601 duration (``PT1H30M`` -> 5400); fractions are rounded down.

    Raises ValueError for anything that is not a duration (``P``, ``PT``, ``1H``).
    """
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    total = Decimal(0)
    for unit, value in match.groupdict().items():
        if value is not None:
            total += Decimal(value) * _UNIT_SECONDS[unit]
    return int(total)


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp with a zone, as an aware UTC datetime (ValueError otherwise)."""
    moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return moment.astimezone(timezone.utc)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _id_after(iri: str, prefix: str) -> str:
    """The course/lesson id in a CareerOS activity IRI; "" when it is not one (LMS ids are UUIDs,
    so ``.../courses/intro`` is some other activity, not a course to report progress on)."""
    if not iri.startswith(prefix):
        return ""
    try:
        return str(uuid.UUID(iri[len(prefix):]))
    except ValueError:
        return ""


def parse_statement(raw: Any, *, caller_user_id: str, now: datetime, where: str = "") -> Statement:
    """Validate one statement and derive its indexed fields.

    The actor must be the caller (403 ``actor_not_caller`` otherwise). A
    missing ``id`` gets a fresh UUID, a missing ``timestamp`` the time of
    storage. ``body_hash`` fingerprints the statement as sent (with its id),
    so replaying it is recognised and an id reused for other content is not.
    """
    if not isinstance(raw, dict):
        raise InvalidStatement("A statement must be a JSON object.", fields={where or "statement": ["must be an object"]})
    try:
        _validate(raw)
    except fastjsonschema.JsonSchemaValueException as error:
        raise _schema_error(error, where) from None
    sep = "." if where else ""
    actor = raw["actor"]["account"]["name"].lower()
    if actor != caller_user_id:
        raise Forbidden("A learner may only record their own statements.", code="actor_not_caller",
                        fields={f"{where}{sep}actor.account.name": ["must be your own user id"]})
    duration_s = _duration_s(raw, f"{where}{sep}")
    timestamp = _timestamp(raw, now, f"{where}{sep}")
    statement_id = str(uuid.UUID(raw["id"])) if "id" in raw else str(uuid.uuid4())
    body_hash = _fingerprint(dict(raw, id=statement_id), where)

    activity_id = raw["object"]["id"]
    parents = raw.get("context", {}).get("contextActivities", {}).get("parent", [])
    parent_id = parents[0]["id"] if parents else ""
    lesson_id = _id_after(activity_id, LESSON_IRI)
    course_id = _id_after(activity_id, COURSE_IRI)
    if not course_id:
        course_id = next((cid for p in parents if (cid := _id_after(p["id"], COURSE_IRI))), "")
    body = dict(raw, id=statement_id, timestamp=_iso(timestamp) if "timestamp" not in raw else raw["timestamp"],
                version=XAPI_VERSION)
    body["actor"] = dict(raw["actor"], account=dict(raw["actor"]["account"], name=actor))
    return Statement(id=statement_id, user_id=actor, verb=raw["verb"]["id"], activity_id=activity_id,
                     course_id=course_id, lesson_id=lesson_id, parent_id=parent_id, duration_s=duration_s,
                     timestamp=timestamp, body=body, body_hash=body_hash, progress=_progress(raw, f"{where}{sep}"))


def _duration_s(raw: dict, at: str) -> int:
    """``result.duration`` in seconds (0 without one); ``at`` prefixes the field names of errors."""
    if "duration" not in raw.get("result", {}):
        return 0
    try:
        duration_s = parse_duration(raw["result"]["duration"])
    except ValueError:
        raise InvalidStatement("The statement is invalid at result.duration.", fields={
            f"{at}result.duration": [_PATTERN_HINTS["duration"]]}) from None
    if duration_s > MAX_DURATION_S:
        raise InvalidStatement("The statement is invalid at result.duration.", fields={
            f"{at}result.duration": ["must be at most 366 days"]})
    return duration_s


def _timestamp(raw: dict, now: datetime, at: str) -> datetime:
    """The statement's ``timestamp`` (the time of storage without one), never in the future."""
    if "timestamp" not in raw:
        return now
    try:
        timestamp = parse_timestamp(raw["timestamp"])
    except ValueError:
        raise InvalidStatement("The statement is invalid at timestamp.", fields={
            f"{at}timestamp": [_PATTERN_HINTS["timestamp"]]}) from None
    if timestamp > now + MAX_FUTURE_SKEW:
        raise InvalidStatement("The statement is invalid at timestamp.", fields={
            f"{at}timestamp": ["must not be in the future"]})
    return timestamp


def _fingerprint(sent: dict, where: str) -> str:
    """SHA-256 of the statement as sent (with its id, without ``version``, which the LRS sets: a
    replay with or without it is the same statement)."""
    sent = dict(sent)
    sent.pop("version", None)
    try:
        canonical = _canonical(sent)
    except ValueError:  # NaN or an overflowing number: not JSON, and PostgreSQL's jsonb refuses it
        raise InvalidStatement("The statement holds a number that is not finite.",
                               fields={where or "statement": ["must not contain NaN or infinite numbers"]}) from None
    if "\\u0000" in canonical:  # jsonb cannot store NUL characters
        raise InvalidStatement("The statement holds a NUL character.",
                               fields={where or "statement": ["must not contain NUL characters"]})
    return hashlib.sha256(canonical.encode()).hexdigest()


def _progress(raw: dict, at: str) -> int:
    """The CareerOS progress extension (0-100); 100 for a completed or passed verb."""
    progress = raw.get("result", {}).get("extensions", {}).get(PROGRESS_EXTENSION, 0)
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise InvalidStatement("The statement is invalid at result.extensions.", fields={
            f"{at}result.extensions.{PROGRESS_EXTENSION}": ["must be an integer between 0 and 100"]})
    return 100 if raw["verb"]["id"] in DONE_VERBS else progress


def careeros_learner(actor: dict) -> str:
    """The CareerOS user id of an Agent identified by a CareerOS account ("" for anyone else)."""
    account = actor.get("account") if actor.get("objectType", "Agent") == "Agent" else None
    if not isinstance(account, dict) or account.get("homePage") != HOME_PAGE:
        return ""
    try:
        return str(uuid.UUID(str(account.get("name"))))
    except ValueError:
        return ""


def lrs_statement(body: dict, stored: datetime) -> Statement:
    """A statement the LRS validated and filled in (``body`` as stored), with the fields progress uses.

    Statements of CareerOS learners about an Activity move progress like the
    statements API's; anyone else's (mbox actors, groups, StatementRefs) are only stored.
    Progress counts a timestamp in the future as the time of storage; a duration
    beyond a year as a year; a malformed cmi5 progress value as none.
    """
    obj = body["object"]
    is_activity = obj.get("objectType", "Activity") == "Activity"
    user_id = careeros_learner(body["actor"]) if is_activity else ""
    activity_id = obj["id"] if is_activity else ""
    parents = (body.get("context") or {}).get("contextActivities", {}).get("parent", [])
    lesson_id, course_id = _id_after(activity_id, LESSON_IRI), _id_after(activity_id, COURSE_IRI)
    if not course_id:
        course_id = next((cid for p in parents if (cid := _id_after(p["id"], COURSE_IRI))), "")
    result = body.get("result") or {}
    try:
        duration_s = min(parse_duration(result["duration"]), MAX_DURATION_S) if "duration" in result else 0
    except ValueError:
        duration_s = 0
    progress = (result.get("extensions") or {}).get(PROGRESS_EXTENSION, 0)
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        progress = 0
    if body["verb"]["id"] in DONE_VERBS:
        progress = 100
    return Statement(id=body["id"], user_id=user_id, verb=body["verb"]["id"], activity_id=activity_id,
                     course_id=course_id, lesson_id=lesson_id, parent_id=parents[0]["id"] if parents else "",
                     duration_s=duration_s, timestamp=min(parse_time(body["timestamp"]), stored), body=body,
                     body_hash=hashlib.sha256(comparable(body).encode()).hexdigest(), progress=progress,
                     stored=stored)


def parse_statements(body: Any, *, caller_user_id: str, now: datetime) -> tuple[list[Statement], bool]:
    """Validate a POSTed body: one statement object or a list of them.

    Returns ``(statements, was_list)``. A list is capped at :data:`MAX_BATCH`
    (413 ``batch_too_large``) and may not be empty. The same id twice in one
    batch is fine with the same content (kept once) and a 409 otherwise.
    """
    if isinstance(body, dict):
        return [parse_statement(body, caller_user_id=caller_user_id, now=now)], False
    if not isinstance(body, list):
        raise InvalidStatement("The body must be a statement object or an array of them.",
                               fields={"statement": ["must be an object or an array"]})
    if not body:
        raise InvalidStatement("The batch is empty.", fields={"statements": ["must not be empty"]})
    if len(body) > MAX_BATCH:
        raise BatchTooLarge(f"At most {MAX_BATCH} statements per request; this one has {len(body)}.",
                            fields={"statements": [f"must have at most {MAX_BATCH} items"]})
    seen: dict[str, Statement] = {}
    out: list[Statement] = []
    for index, raw in enumerate(body):
        statement = parse_statement(raw, caller_user_id=caller_user_id, now=now, where=f"[{index}]")
        twin = seen.get(statement.id)
        if twin is not None:
            if twin.body_hash != statement.body_hash:
                raise StatementConflict("The batch holds two different statements with the same id.",
                                        fields={f"[{index}].id": ["is used by another statement of the batch"]})
            continue
        seen[statement.id] = statement
        out.append(statement)
    return out, True


def _iso(moment: Optional[datetime]) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else ""


# --- course structure and progress ----------------------------------------------------------

@dataclass(frozen=True)
class CourseStructure:
    """What 100% means for a course: its lessons in the latest published revision."""

    course_id: str
    tenant_id: str
    revision: int
    lessons: dict[str, bool]                       # lesson_id -> required
    titles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_published(cls, payload: dict) -> "CourseStructure":
        """From a ``careeros.lms.course.published.v1`` payload (modules and lessons in order)."""
        lessons: dict[str, bool] = {}
        titles: dict[str, str] = {}
        for module in sorted(payload["modules"], key=lambda m: m["position"]):
            for lesson in sorted(module["lessons"], key=lambda l: l["position"]):
                lesson_id = str(uuid.UUID(lesson["lesson_id"]))  # canonical, as in statements
                lessons[lesson_id] = bool(lesson["required"])
                titles[lesson_id] = lesson["title"]
        return cls(course_id=str(uuid.UUID(payload["course_id"])), tenant_id=str(payload["tenant_id"]),
                   revision=int(payload["revision"]), lessons=lessons, titles=titles)


@dataclass(frozen=True)
class Progress:
    percent: int
    lessons_done: int
    lessons_total: int
    required_done: bool


def compute_progress(structure: Optional[CourseStructure], done_lessons: Iterable[str],
                     completed: bool = False) -> Progress:
    """Progress in a course from its latest structure and the lessons the learner finished.

    ``percent`` counts the lessons completion depends on (the required ones, or every lesson
    when none is required), rounded down, so 100 means exactly ``required_done``; optional
    lessons count in ``lessons_done``. Whether the course is *complete* is the LMS's call
    (``lms.enrollment.completed``): once it is, ``completed`` makes the percent 100 whatever
    statements arrive later or late. Done lessons no longer in the structure do not count.
    Until the structure is known nothing can be a percentage of it: 0 of 0.
    """
    if structure is None or not structure.lessons:
        return Progress(100 if completed else 0, 0, 0, completed)
    done = set(done_lessons) & set(structure.lessons)
    counted = {lid for lid, req in structure.lessons.items() if req} or set(structure.lessons)
    percent = 100 if completed else len(done & counted) * 100 // len(counted)
    return Progress(percent=percent, lessons_done=len(done), lessons_total=len(structure.lessons),
                    required_done=completed or counted <= done)


def streaks(active_days: Iterable[date], today: date) -> tuple[int, int]:
    """``(current, longest)`` runs of consecutive active days.

    The current streak is still alive when the last active day is today or
    yesterday (today is not over yet); otherwise it is 0.
    """
    days = sorted(set(active_days))
    longest = run = 0
    previous: Optional[date] = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = run if previous is not None and today - previous <= timedelta(days=1) else 0
    return current, longest


def week_start(today: date) -> date:
    """Monday of the ISO week holding ``today``."""
    return today - timedelta(days=today.weekday())


def weekly_goal_progress(minutes_per_week: int, seconds_this_week: int) -> dict:
    """Progress toward a weekly goal: minutes so far, percent (capped at 100), met."""
    minutes = seconds_this_week // 60
    if minutes_per_week <= 0:
        return {"minutes_this_week": minutes, "percent": 0, "met": False}
    percent = min(100, seconds_this_week * 100 // (minutes_per_week * 60))
    return {"minutes_this_week": minutes, "percent": percent, "met": percent >= 100}


def validate_goal(minutes_per_week: Any) -> int:
    """A weekly goal in minutes: an integer 0 (no goal) .. 10080."""
    if isinstance(minutes_per_week, bool) or not isinstance(minutes_per_week, int) \
            or not 0 <= minutes_per_week <= MAX_GOAL_MINUTES:
        raise ValidationFailed("The weekly goal is invalid.", fields={
            "minutes_per_week": [f"must be an integer between 0 and {MAX_GOAL_MINUTES}"]})
    return minutes_per_week


# --- statement queries ----------------------------------------------------------------------

@dataclass(frozen=True)
class StatementQuery:
    """Filters of GET /tracking/statements (xAPI names), validated."""

    learner: str = ""
    verb: str = ""
    activity: str = ""
    related_activities: bool = False
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    limit: int = DEFAULT_PAGE

    def fingerprint(self) -> str:
        """Binds a cursor to the filters it was issued for."""
        key = _canonical([self.learner, self.verb, self.activity, self.related_activities,
                          _iso(self.since), _iso(self.until)])
        return hashlib.sha256(key.encode()).hexdigest()[:16]


def statement_query(*, learner: str = "", verb: str = "", activity: str = "", related_activities: bool = False,
                    since: str = "", until: str = "", limit: int = 0) -> StatementQuery:
    """Validate the filters (400 ``invalid_query`` naming the parameter)."""
    errors: dict[str, list[str]] = {}
    if learner:
        try:
            learner = str(uuid.UUID(learner))
        except ValueError:
            errors["learner"] = ["must be a user id (UUID)"]
    bounds: dict[str, Optional[datetime]] = {"since": None, "until": None}
    for name, text in (("since", since), ("until", until)):
        if text:
            try:
                bounds[name] = parse_timestamp(text)
            except ValueError:
                errors[name] = ["must be an RFC 3339 timestamp with a time zone"]
    iri = re.compile(_SCHEMA["$defs"]["iri"]["pattern"])
    for name, value in (("verb", verb), ("activity", activity)):
        if value and not iri.match(value):
            errors[name] = ["must be an IRI"]
    if limit and not 1 <= limit <= MAX_PAGE:
        errors["limit"] = [f"must be between 1 and {MAX_PAGE}"]
    if errors:
        raise DomainError("The statement query is invalid.", fields=errors, code="invalid_query")
    return StatementQuery(learner=learner, verb=verb, activity=activity, related_activities=related_activities,
                          since=bounds["since"], until=bounds["until"], limit=limit or DEFAULT_PAGE)


def encode_cursor(query: StatementQuery, last_seq: int) -> str:
    """An opaque cursor: the position after the last statement returned, bound to the filters."""
    raw = json.dumps({"s": last_seq, "f": query.fingerprint()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: StatementQuery, cursor: str) -> Optional[int]:
    """The position a cursor stands for; 400 ``invalid_cursor`` if forged or from other filters."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        seq, fingerprint = int(data["s"]), str(data["f"])
    except (ValueError, KeyError, TypeError):
        raise DomainError("The cursor is not one this API issued.", code="invalid_cursor",
                          fields={"cursor": ["is malformed"]}) from None
    if fingerprint != query.fingerprint():
        raise DomainError("The cursor belongs to a query with other filters.", code="invalid_cursor",
                          fields={"cursor": ["was issued for other filters"]})
    return seq


def iso(moment: Optional[datetime]) -> str:
    """RFC 3339 in UTC with a ``Z`` ("" for None)."""
    return _iso(moment)
