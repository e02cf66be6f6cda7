"""Edge checks every request passes, whatever its route (called from :mod:`gateway_flask.middleware`).

* The client's address: ``X-Forwarded-For`` is believed only from proxies named in
  ``gateway.trusted_proxies`` (addresses or networks; none by default).
* An over-long URL is a 414 problem (gunicorn's own line limit is lifted for this).
* Query strings, path segments and JSON bodies: no control characters or lone surrogates
  (422 naming the field), no JSON nested deeper than ``MAX_JSON_DEPTH`` or with NaN/Infinity
  (400 ``malformed_json``): such input would otherwise fail deep in a service as a 5xx.
* Uploads: the bytes must be what the declared ``Content-Type`` says (magic numbers, via
  the ``filetype`` package; text types must be UTF-8 text).
* Response headers: ``X-Content-Type-Options: nosniff`` everywhere, ``Cache-Control: no-store``
  on every response to a request that carried credentials.
"""
from __future__ import annotations

import ipaddress
import json
from typing import Any, Iterable

import filetype
from flask import Response, request

from careeros_services.common import text
from careeros_services.common.errors import DomainError, ValidationFailed
from gateway_flask.problems import MalformedJson, UnsupportedMediaType

MAX_URL_BYTES = 8192
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UriTooLong(DomainError):
    code, status, title = "uri_too_long", 414, "URI too long"


class ContentMismatch(UnsupportedMediaType):
    code, title = "content_type_mismatch", "Content does not match its type"


def parse_networks(value: Any) -> tuple[Network, ...]:
    """``gateway.trusted_proxies``: a list or a comma-separated string of addresses/networks."""
    items = value.split(",") if isinstance(value, str) else (value or [])
    return tuple(ipaddress.ip_network(str(item).strip(), strict=False) for item in items if str(item).strip())


def _trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def resolve_client_address(proxies: tuple[Network, ...]) -> None:
    """Make ``request.remote_addr`` the client's: the right-most ``X-Forwarded-For`` hop that is
    not a trusted proxy, when the peer itself is one; otherwise the peer, header ignored."""
    peer = request.remote_addr or ""
    if not proxies or not _trusted(peer, proxies):
        return
    hops = [h.strip() for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        client = hop
        if not _trusted(hop, proxies):
            break
    try:
        client = str(ipaddress.ip_address(client))
    except ValueError:  # a garbage hop: keep the last proxy we trust
        return
    request.environ["careeros.peer_addr"] = peer
    request.environ["REMOTE_ADDR"] = request.remote_addr = client


def check_url_length() -> None:
    raw = request.environ.get("RAW_URI") or request.full_path
    if len(raw) > MAX_URL_BYTES:
        raise UriTooLong(f"The URL exceeds {MAX_URL_BYTES} bytes.")


def check_params() -> None:
    """422 naming each query or path parameter that holds control characters."""
    errors: dict[str, list[str]] = {}
    for key, value in request.args.items(multi=True):
        if text.has_unsafe_chars(key) or text.has_unsafe_chars(value):
            errors[key] = [text.CONTROL_MESSAGE]
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and text.has_unsafe_chars(value):
            errors[key] = [text.CONTROL_MESSAGE]
    if errors:
        raise ValidationFailed("The request has control characters in its parameters.", fields=errors)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def check_json(raw: bytes) -> None:
    """400 for malformed, too deeply nested or NaN-carrying JSON; 422 naming unsafe strings."""
    try:
        body = json.loads(raw, parse_constant=_no_constants)
        errors = text.unsafe_fields(body)
    except RecursionError:
        raise MalformedJson(f"The JSON is nested more than {text.MAX_JSON_DEPTH} levels deep.") from None
    except ValueError as exc:  # includes UnicodeDecodeError and walk_strings' depth limit
        detail = str(exc) if "nested" in str(exc) else "not valid JSON"
        raise MalformedJson(f"The request body is {detail}.") from None
    if errors:
        raise ValidationFailed("The request body has control characters.", fields=errors)


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def check_upload(mimetype: str, data: bytes) -> None:
    """The body must be of its declared type: magic numbers for binary types, UTF-8 text for text/*.

    Form and JSON bodies (e.g. RFC 8058's one-click unsubscribe post) are parsed, not sniffed."""
    if mimetype in FORM_TYPES:
        return
    if mimetype == "application/json":
        check_json(data)
        return
    if mimetype.startswith("text/"):
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ContentMismatch(f"The body is not UTF-8 text ({mimetype}).") from None
        if filetype.guess(data[:8192]) is not None:
            raise ContentMismatch(f"The body is not plain text ({mimetype}).")
        if text.has_unsafe_chars(body):
            raise ValidationFailed("The text has control characters.",
                                   fields={"body": [text.CONTROL_MESSAGE]})
        return
    found = filetype.guess(data[:8192])
    if found is None or found.mime != mimetype:
        raise ContentMismatch(f"The body is not {mimetype} "
                              f"(found {found.mime if found else 'unknown content'}).")


def secure_headers(response: Response, *, credentials: bool) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if credentials and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def credentials_sent() -> bool:
    return "Authorization" in request.headers or "Cookie" in request.headers

