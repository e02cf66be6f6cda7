"""``GET /statements``: its parameters, validated, and the ``more`` token.

A single-statement request (``statementId`` or ``voidedStatementId``) allows only
``format`` and ``attachments`` beside it. Unknown parameters are a 400, as xAPI requires.
The ``more`` token carries the filters and the position after the last statement of the
page, so following it is stateless (and re-checked: a token is not a credential).
"""
from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Optional

from careeros_services.tracker.xapi import validate
from careeros_services.tracker.xapi.statements import agent_key, parse_time
from careeros_services.tracker.xapi.validate import XapiInvalid, fail

MAX_PAGE = 100
FORMATS = ("exact", "ids", "canonical")
SINGLE_PARAMS = {"statementId", "voidedStatementId"}
FILTER_PARAMS = {"agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
                 "until", "limit", "ascending"}
COMMON_PARAMS = {"format", "attachments"}
ALLOWED = SINGLE_PARAMS | FILTER_PARAMS | COMMON_PARAMS | {"more"}


@dataclass(frozen=True)
class StatementFilter:
    """What a filtered GET asks for (agent as its identity key)."""

    agent: str = ""
    verb: str = ""
    activity: str = ""
    registration: str = ""
    related_activities: bool = False
    related_agents: bool = False
    since: Optional[str] = None       # canonical ISO text (exclusive lower bound on stored)
    until: Optional[str] = None       # inclusive upper bound on stored
    limit: int = MAX_PAGE
    ascending: bool = False
    after_seq: Optional[int] = None   # the position of a ``more`` page

    def since_time(self) -> Optional[datetime]:
        return parse_time(self.since) if self.since else None

    def until_time(self) -> Optional[datetime]:
        return parse_time(self.until) if self.until else None


@dataclass(frozen=True)
class StatementRequest:
    statement_id: str = ""
    voided: bool = False
    filter: Optional[StatementFilter] = None
    format: str = "exact"
    attachments: bool = False


def _boolean(params: dict, name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        fail(name, "must be true or false")
    return value == "true"


def parse_agent_param(text: str, name: str = "agent") -> dict:
    """An ``agent`` query parameter: JSON of a valid Agent or identified Group."""
    try:
        value = json.loads(text)
    except ValueError:
        fail(name, "must be a JSON Agent")
    validate.actor(value, name)
    if not agent_key(value):
        fail(name, "must identify an Agent or Group")
    return value


def parse(params: dict[str, str]) -> StatementRequest:
    """Validate GET /statements parameters (400 ``xapi_invalid`` naming the parameter)."""
    unknown = sorted(set(params) - ALLOWED)
    if unknown:
        fail(unknown[0], "is not a parameter of this resource")
    fmt = params.get("format", "exact")
    if fmt not in FORMATS:
        fail("format", "must be ids, exact or canonical")
    attachments = _boolean(params, "attachments")
    if "more" in params:
        if len(set(params) - COMMON_PARAMS - {"more"}) > 0:
            fail("more", "cannot be combined with other filters")
        return StatementRequest(filter=decode_more(params["more"]), format=fmt, attachments=attachments)
    single = SINGLE_PARAMS & set(params)
    if single:
        if len(single) > 1 or set(params) - single - COMMON_PARAMS:
            fail(sorted(single)[0], "allows only format and attachments beside it")
        name = single.pop()
        validate.uuid(params[name], name)
        return StatementRequest(statement_id=params[name].lower(), voided=name == "voidedStatementId", format=fmt,
                                attachments=attachments)
    return StatementRequest(filter=_filter(params), format=fmt, attachments=attachments)


def _filter(params: dict[str, str]) -> StatementFilter:
    agent = agent_key(parse_agent_param(params["agent"])) if "agent" in params else ""
    for name in ("verb", "activity"):
        if name in params:
            validate.iri(params[name], name)
    if "registration" in params:
        validate.uuid(params["registration"], "registration")
    bounds = {}
    for name in ("since", "until"):
        if name in params:
            validate.timestamp(params[name], name)
            bounds[name] = params[name]
    limit = MAX_PAGE
    if "limit" in params:
        text = params["limit"]
        if not text.isdigit():
            fail("limit", "must be a non-negative integer")
        limit = min(int(text), MAX_PAGE) or MAX_PAGE  # 0: the server's maximum
    return StatementFilter(agent=agent, verb=params.get("verb", ""), activity=params.get("activity", ""),
                           registration=params.get("registration", "").lower(),
                           related_activities=_boolean(params, "related_activities"),
                           related_agents=_boolean(params, "related_agents"),
                           since=bounds.get("since"), until=bounds.get("until"), limit=limit,
                           ascending=_boolean(params, "ascending"))


def encode_more(flt: StatementFilter, last_seq: int) -> str:
    data = dict(asdict(flt), after_seq=last_seq)
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_more(token: str) -> StatementFilter:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        flt = StatementFilter(**data)
        int(flt.after_seq)
    except (ValueError, TypeError, KeyError):
        raise XapiInvalid("The more token is not one this LRS issued.", fields={"more": ["is malformed"]}) from None
    return flt
