"""What an LRS does to a valid statement: fill in, index, compare, format. Pure functions.

* :func:`prepare` fills in what the LRS assigns (``id``, ``timestamp``, ``stored``,
  ``authority``, ``version``) and turns single context activities into arrays, as xAPI
  says statements are returned.
* :func:`index` derives the columns queries filter on: the actor/object agent keys
  (``agent=``), every related agent (``related_agents=true``), every related activity,
  the registration and a StatementRef target (voiding and "statements that reference").
* :func:`comparable` is the statement as xAPI compares it for conflicts: without what
  the LRS may assign or that is not part of the statement's meaning (``authority``,
  ``stored``, ``version``, the id's case, timestamp serialisation, verb ``display``,
  activity definitions, Group member order, duration beyond 0.01 s).
* :func:`formatted` answers ``format=ids|exact|canonical``.
"""
from __future__ import annotations

import json
import re
import uuid as uuidlib
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Optional

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
CONTEXT_LISTS = ("parent", "grouping", "category", "other")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date-time as an aware UTC datetime (no zone: UTC; beyond microseconds: truncated)."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second or '00'}").replace(microsecond=micro)
    offset = timedelta(0)
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        offset = -offset if zone[0] == "-" else offset
    return (moment - offset).replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds and ``Z`` (the LRS's own timestamps)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- agents ---------------------------------------------------------------------------------

def agent_key(value: dict) -> str:
    """The identity of an Agent or identified Group: its type and IFI ("" for an anonymous Group)."""
    kind = value.get("objectType") or "Agent"
    for name in IFIS:
        if name in value:
            ifi = value[name]
            if name == "account":
                ifi = f"{ifi.get('homePage')}|{ifi.get('name')}"
            return f"{kind}|{name}|{ifi}"
    return ""


def _actor_keys(value: Optional[dict]) -> list[str]:
    """Keys an Agent/Group stands for: its own and (Groups) its members'."""
    if not isinstance(value, dict) or value.get("objectType") not in (None, "Agent", "Group"):
        return []
    keys = [agent_key(value)] if agent_key(value) else []
    keys += [agent_key(m) for m in value.get("member", []) if agent_key(m)]
    return keys


def person(value: dict) -> dict:
    """``GET /agents``: the Person object of one Agent (each IFI and name as an array)."""
    out: dict[str, Any] = {"objectType": "Person"}
    for name in ("name", *IFIS):
        if name in value:
            out[name] = [value[name]]
    return out


# --- what the LRS fills in ------------------------------------------------------------------

def _activities_as_lists(context: dict) -> dict:
    lists = context.get("contextActivities")
    if not isinstance(lists, dict):
        return context
    return dict(context, contextActivities={k: v if isinstance(v, list) else [v] for k, v in lists.items()})


def prepare(raw: dict, *, stored: datetime, authority: dict, version: str) -> dict:
    """The statement as stored: id, timestamp, stored, authority and version filled in.

    ``authority`` always comes from the credential (xAPI: the LRS SHOULD overwrite it);
    a ``version`` the client sent is kept (returned as stored), else ``version``.
    """
    body = dict(raw)
    body["id"] = str(uuidlib.UUID(raw["id"])) if "id" in raw else str(uuidlib.uuid4())
    body["stored"] = iso(stored)
    body.setdefault("timestamp", body["stored"])
    body["authority"] = authority
    body.setdefault("version", version)
    for holder in (body, body.get("object") if isinstance(body.get("object"), dict) else None):
        if holder is not None and isinstance(holder.get("context"), dict):
            holder["context"] = _activities_as_lists(holder["context"])
    return body


def index(body: dict) -> dict:
    """Query columns of a stored statement (see the module docstring)."""
    obj, ctx = body["object"], body.get("context") or {}
    kind = obj.get("objectType", "Activity")
    agents = _actor_keys(body["actor"]) + (_actor_keys(obj) if kind in ("Agent", "Group") else [])
    related_agents = list(agents) + _actor_keys(body.get("authority"))
    related_activities: list[str] = []
    for part in (body, obj if kind == "SubStatement" else None):
        if part is None:
            continue
        part_obj, part_ctx = part["object"], part.get("context") or {}
        if part is obj:
            related_agents += _actor_keys(part["actor"]) + _actor_keys(part_obj)
        if part_obj.get("objectType", "Activity") == "Activity":
            related_activities.append(part_obj["id"])
        related_agents += _actor_keys(part_ctx.get("instructor")) + _actor_keys(part_ctx.get("team"))
        related_agents += [k for a in part_ctx.get("contextAgents", []) for k in _actor_keys(a.get("agent"))]
        related_agents += [k for g in part_ctx.get("contextGroups", []) for k in _actor_keys(g.get("group"))]
        for items in (part_ctx.get("contextActivities") or {}).values():
            related_activities += [a["id"] for a in (items if isinstance(items, list) else [items])]
    registration = ctx.get("registration")
    return {
        "agents": sorted(set(agents)),
        "related_agents": sorted(set(related_agents)),
        "related_activities": sorted(set(related_activities)),
        "registration": registration.lower() if registration else None,
        "ref_target": obj["id"].lower() if kind == "StatementRef" else None,
    }


# --- comparison -----------------------------------------------------------------------------

def _centiseconds(duration: str) -> str:
    return re.sub(r"(\d+)\.(\d+)S", lambda m: f"{m.group(1)}.{m.group(2)[:2].ljust(2, '0')}S", duration)


def _comparable_actor(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = dict(value)
    out.setdefault("objectType", "Agent")
    if "member" in out:
        out["member"] = sorted((_comparable_actor(m) for m in out["member"]), key=canonical_json)
    return out


def _comparable_core(part: dict) -> dict:
    out = dict(part)
    out["actor"] = _comparable_actor(part["actor"])
    out["verb"] = {"id": part["verb"]["id"]}
    obj = part["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = {"objectType": "Activity", "id": obj["id"]}
    elif kind == "StatementRef":
        out["object"] = {"objectType": "StatementRef", "id": obj["id"].lower()}
    elif kind == "SubStatement":
        out["object"] = _comparable_core(obj)
    else:
        out["object"] = _comparable_actor(obj)
    if "timestamp" in part:
        out["timestamp"] = iso(parse_time(part["timestamp"]))
    if isinstance(part.get("result"), dict) and "duration" in part["result"]:
        out["result"] = dict(part["result"], duration=_centiseconds(part["result"]["duration"]))
    ctx = part.get("context")
    if isinstance(ctx, dict):
        ctx = _activities_as_lists(ctx)
        if "contextActivities" in ctx:
            ctx["contextActivities"] = {k: [{"id": a["id"]} for a in v] for k, v in ctx["contextActivities"].items()}
        for name in ("instructor", "team"):
            if name in ctx:
                ctx[name] = _comparable_actor(ctx[name])
        if "registration" in ctx:
            ctx["registration"] = ctx["registration"].lower()
        out["context"] = ctx
    return out


def comparable(body: dict) -> str:
    """A canonical text that is equal for two statements xAPI considers the same."""
    core = _comparable_core({k: v for k, v in body.items() if k not in ("authority", "stored", "version", "id")})
    if "timestamp" in body and "stored" in body and body["timestamp"] == body["stored"]:
        core.pop("timestamp", None)  # filled in by the LRS, not sent by the client
    return canonical_json(core)


def same_statement(stored: dict, incoming: dict) -> bool:
    """xAPI's comparison: equal unless they differ in something that is part of the statement."""
    return comparable(stored) == comparable(incoming)


# --- formats --------------------------------------------------------------------------------

def _ids_actor(value: dict) -> dict:
    out = {"objectType": value.get("objectType", "Agent")}
    for name in IFIS:
        if name in value:
            out[name] = value[name]
    if "member" in value and not agent_key(value):
        out["member"] = [_ids_actor(m) for m in value["member"]]
    return out


def _ids_part(part: dict) -> dict:
    out = dict(part, actor=_ids_actor(part["actor"]), verb={"id": part["verb"]["id"]})
    obj = part["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = {"id": obj["id"]}
    elif kind in ("Agent", "Group"):
        out["object"] = _ids_actor(obj)
    elif kind == "SubStatement":
        out["object"] = _ids_part(obj)
    ctx = part.get("context")
    if isinstance(ctx, dict):
        ctx = dict(ctx)
        if "contextActivities" in ctx:
            ctx["contextActivities"] = {k: [{"id": a["id"]} for a in v]
                                        for k, v in ctx["contextActivities"].items()}
        for name in ("instructor", "team"):
            if name in ctx:
                ctx[name] = _ids_actor(ctx[name])
        out["context"] = ctx
    if "authority" in part:
        out["authority"] = _ids_actor(part["authority"])
    return out


def _canonical_maps(value: Any, languages: list[str], key: str = "") -> Any:
    if isinstance(value, dict):
        if key in ("display", "name", "description") and value and all(isinstance(v, str) for v in value.values()):
            pick = next((tag for want in languages for tag in value if tag.lower().startswith(want.lower())),
                        next(iter(value), None))
            return {pick: value[pick]} if pick is not None else value
        return {k: v if k == "extensions" else _canonical_maps(v, languages, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_maps(v, languages, key) for v in value]
    return value


def formatted(body: dict, fmt: str, languages: Iterable[str] = ()) -> dict:
    """A stored statement in ``format`` ``exact`` (as stored), ``ids`` or ``canonical``."""
    if fmt == "ids":
        return _ids_part(body)
    if fmt == "canonical":
        return _canonical_maps(body, list(languages))
    return body


def merged_definition(definitions: Iterable[dict]) -> dict:
    """All that statements said about an activity, oldest first: language maps merge, later values win."""
    out: dict[str, Any] = {}
    for definition in definitions:
        for name, value in definition.items():
            if isinstance(value, dict) and isinstance(out.get(name), dict):
                out[name] = {**out[name], **value}
            else:
                out[name] = value
    return out
