"""The document resources: State, Activity Profile, Agent Profile (and /activities, /agents).

:func:`parse_params` validates a request's parameters into a :class:`DocumentKey` (400
naming the parameter); :func:`precondition` applies ``If-Match`` / ``If-None-Match``
(412) and xAPI's "PUT without either header on an existing document" rule (409);
:func:`merge` is POST's JSON merge (both documents JSON objects, else 400).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Optional

from careeros_services.common.errors import DomainError
from careeros_services.tracker.xapi import validate
from careeros_services.tracker.xapi.query import parse_agent_param
from careeros_services.tracker.xapi.statements import agent_key
from careeros_services.tracker.xapi.validate import fail

# resource -> (kind, required parameters, optional parameters, id parameter)
RESOURCES = {
    "activities/state": ("state", ("activityId", "agent"), ("registration", "stateId", "since"), "stateId"),
    "activities/profile": ("activity_profile", ("activityId",), ("profileId", "since"), "profileId"),
    "agents/profile": ("agent_profile", ("agent",), ("profileId", "since"), "profileId"),
}


class PreconditionFailed(DomainError):
    code, status, grpc_status, title = "precondition_failed", 412, "FAILED_PRECONDITION", "Precondition failed"


class DocumentConflict(DomainError):
    code, status, grpc_status, title = "document_conflict", 409, "ALREADY_EXISTS", "Document exists"


@dataclass(frozen=True)
class DocumentKey:
    kind: str
    activity_id: str = ""
    agent: str = ""            # the agent's identity key
    agent_json: Optional[dict] = None
    registration: str = ""
    doc_id: str = ""           # "" = the list of ids (GET) / every state (DELETE)
    since: str = ""


def parse_params(resource: str, params: dict[str, str], method: str) -> DocumentKey:
    """Validate the parameters of a document request."""
    kind, required, optional, id_name = RESOURCES[resource]
    unknown = sorted(set(params) - set(required) - set(optional))
    if unknown:
        fail(unknown[0], "is not a parameter of this resource")
    for name in required:
        if name not in params:
            fail(name, "is required")
    if method in ("PUT", "POST") and id_name not in params:
        fail(id_name, "is required")
    if method == "DELETE" and kind != "state" and id_name not in params:
        fail(id_name, "is required")
    if "since" in params and (method != "GET" or id_name in params):
        fail("since", "is only allowed when listing documents")
    if "activityId" in params:
        validate.iri(params["activityId"], "activityId")
    agent_json = parse_agent_param(params["agent"]) if "agent" in params else None
    if "registration" in params:
        validate.uuid(params["registration"], "registration")
    if "since" in params:
        validate.timestamp(params["since"], "since")
    return DocumentKey(kind=kind, activity_id=params.get("activityId", ""),
                       agent=agent_key(agent_json) if agent_json else "", agent_json=agent_json,
                       registration=params.get("registration", "").lower(), doc_id=params.get(id_name, ""),
                       since=params.get("since", ""))


def etag(content: bytes) -> str:
    """The quoted SHA-1 of a document (xAPI: ETags are SHA-1 hex values)."""
    return '"' + hashlib.sha1(content).hexdigest() + '"'


def _tags(header: str) -> set[str]:
    return {t.strip().strip('"').removeprefix("W/").strip('"') for t in header.split(",") if t.strip()}


def precondition(method: str, current_etag: Optional[str], if_match: str, if_none_match: str,
                 *, require_header: bool, blind_overwrite_conflicts: bool = True) -> None:
    """412 when ``If-Match``/``If-None-Match`` fail; 409 for a PUT that overwrites blindly.

    ``require_header``: a PUT needs one of the headers (profiles: 400 without, 409 if the
    document exists); ``blind_overwrite_conflicts`` alone: only the 409 (State in xAPI 2.0).
    """
    current = current_etag.strip('"') if current_etag else None
    if if_match:
        tags = _tags(if_match)
        if current is None or ("*" not in tags and current not in tags):
            raise PreconditionFailed("If-Match does not match the document's current ETag.")
    if if_none_match:
        tags = _tags(if_none_match)
        if current is not None and ("*" in tags or current in tags):
            raise PreconditionFailed("If-None-Match: the document already exists.")
    if method == "PUT" and (require_header or blind_overwrite_conflicts) and not if_match and not if_none_match:
        if current is not None:
            raise DocumentConflict("The document exists: send If-Match (its ETag) to overwrite it.")
        if require_header:
            fail("If-None-Match", "or If-Match is required to PUT this document")


def is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def merge(old: Optional[tuple[bytes, str]], new: bytes, new_type: str) -> tuple[bytes, str]:
    """POST's merge: top-level properties of ``new`` overwrite ``old``'s; both must be JSON objects."""
    try:
        incoming = json.loads(new) if is_json(new_type) else None
    except ValueError:
        incoming = None
    if old is None:
        if is_json(new_type) and not isinstance(incoming, dict):
            fail("document", "must be a JSON object to be posted as JSON")
        return new, new_type
    old_content, old_type = old
    try:
        existing = json.loads(old_content) if is_json(old_type) else None
    except ValueError:
        existing = None
    if not isinstance(existing, dict) or not isinstance(incoming, dict):
        fail("document", "can be merged only when both documents are JSON objects")
    merged = dict(existing, **incoming)
    return json.dumps(merged, separators=(",", ":")).encode(), "application/json"
