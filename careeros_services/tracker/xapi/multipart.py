"""``multipart/mixed`` statement bodies (attachments, signed statements) and responses.

A request's first part is the statement(s) as JSON; each further part is one attachment's
raw content with ``X-Experience-API-Hash`` (its SHA-2) and ``Content-Transfer-Encoding:
binary``. :func:`check_attachments` enforces xAPI's pairing rules and the signature rules
(a JWS whose payload is the statement it is attached to).
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

from careeros_services.tracker.xapi.statements import same_statement
from careeros_services.tracker.xapi.validate import fail

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_ALGS = ("RS256", "RS384", "RS512")


def boundary_of(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    if not match:
        fail("Content-Type", "must name the multipart boundary")
    return match.group(1)


def _headers(block: bytes) -> dict[str, str]:
    out = {}
    for line in block.decode("latin-1").split("\r\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            out[name.strip().lower()] = value.strip()
    return out


def parse(body: bytes, content_type: str) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """``(statements JSON, {sha2: (content type, content)})`` of a multipart/mixed body."""
    boundary = b"--" + boundary_of(content_type).encode()
    chunks = body.split(boundary)
    if len(chunks) < 3:
        fail("body", "is not a multipart/mixed body with this boundary")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            fail("body", "has a part without headers")
        parts.append((_headers(head), content[:-2] if content.endswith(b"\r\n") else content))
    first_headers, first = parts[0]
    if not first_headers.get("content-type", "").lower().startswith("application/json"):
        fail("body", "must begin with an application/json part holding the statements")
    try:
        statements = json.loads(first)
    except ValueError:
        fail("body", "first part is not valid JSON")
    files: dict[str, tuple[str, bytes]] = {}
    for headers, content in parts[1:]:
        digest = headers.get("x-experience-api-hash")
        if not digest:
            fail("X-Experience-API-Hash", "is required on every attachment part")
        encoding = headers.get("content-transfer-encoding")
        if encoding is None or encoding.lower() != "binary":
            fail("Content-Transfer-Encoding", "must be binary on every attachment part")
        files[digest] = (headers.get("content-type", "application/octet-stream"), content)
    return statements, files


def check_attachments(statements: list[dict], files: dict[str, tuple[str, bytes]]) -> dict[str, tuple[str, bytes]]:
    """Every attachment without ``fileUrl`` has its part; every part is referenced; signatures hold.

    Returns the parts to store, by SHA-2.
    """
    wanted: set[str] = set()
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.get("attachments", [])):
            sha2 = attachment["sha2"]
            if sha2 in files:
                wanted.add(sha2)
            elif "fileUrl" not in attachment:
                fail(f"[{i}].attachments[{j}]", "has neither a fileUrl nor a part with its content")
            if attachment["usageType"] == SIGNATURE:
                _check_signature(statement, attachment, files.get(sha2), f"[{i}].attachments[{j}]")
    extra = sorted(set(files) - wanted)
    if extra:
        fail("X-Experience-API-Hash", f"{extra[0]} matches no attachment of the statements")
    return {sha2: files[sha2] for sha2 in wanted}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_signature(statement: dict, attachment: dict, part: Any, where: str) -> None:
    if attachment["contentType"] != "application/octet-stream":
        fail(f"{where}.contentType", "of a signature must be application/octet-stream")
    if part is None:
        return
    try:
        header_text, payload_text, _signature = part[1].decode("ascii").strip().split(".")
        header, payload = json.loads(_b64(header_text)), json.loads(_b64(payload_text))
    except (ValueError, UnicodeDecodeError):
        fail(where, "is not a JWS in compact serialisation")
    if header.get("alg") not in SIGNATURE_ALGS:
        fail(where, "must be signed with RS256, RS384 or RS512")
    if not isinstance(payload, dict) or not _payload_matches(payload, statement):
        fail(where, "signs a statement other than the one it is attached to")


def _payload_matches(payload: dict, statement: dict) -> bool:
    try:
        unsigned = {k: v for k, v in statement.items() if k != "attachments"}
        signed = {k: v for k, v in payload.items() if k != "attachments"}
        if "id" in signed and "id" in unsigned and str(signed["id"]).lower() != str(unsigned["id"]).lower():
            return False
        return same_statement(signed, unsigned)
    except (KeyError, TypeError, AttributeError, ValueError):
        return False


def build(document: Any, attachments: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed response: the JSON ``document`` then each ``(sha2, content type, content)``."""
    boundary = uuid.uuid4().hex
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), json.dumps(document).encode()]
    for sha2, content_type, content in attachments:
        out.append(f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode())
        out.append(content)
    out.append(f"\r\n--{boundary}--".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"
