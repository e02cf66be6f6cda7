"""/xapi: the tracker's xAPI Learning Record Store (xAPI 1.0.3 and 2.0), beside /api/v1.

A plain Flask blueprint, not flask-smorest: xAPI's bodies are not all JSON (documents
of any type, multipart/mixed), its errors and headers are its own, and its clients
(the ADL conformance suite, TinCanJS, Storyline/H5P content) expect exactly them.
The gateway only authenticates (HTTP Basic LRS keys are checked by the tracker;
a CareerOS bearer token is verified here), unwraps 1.0.3's alternate request syntax,
adds CORS for browser content and forwards the request whole to the tracker's ``Xapi``
RPC, whose answer (status, headers, body) it returns. Its body limit is its own
(``gateway.xapi_max_body_bytes``): a batch of 50 Storyline statements is ~70 KB.
"""
from __future__ import annotations

import base64
import binascii
from typing import Optional
from urllib.parse import parse_qsl

import flask
from flask import Response, request

from contracts.grpc import common_pb2, tracker_pb2
from gateway_flask.middleware import any_body, max_body
from gateway_flask.security import InvalidToken
from gateway_flask.services import rpc_client
from gateway_flask.state import gateway_state

BASE = "/xapi"
blp = flask.Blueprint("xapi", __name__, url_prefix=BASE)
tracker_rpc = rpc_client("tracker")

FORWARDED_HEADERS = ("content-type", "x-experience-api-version", "if-match", "if-none-match", "accept-language")
# Alternate request syntax (1.0.3): these form fields are headers, "content" is the body, the rest are parameters.
FORM_HEADERS = {"authorization", "x-experience-api-version", "content-type", "content-length", "if-match",
                "if-none-match"}
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Experience-API-Version, If-Match, "
                                    "If-None-Match, Accept-Language, X-Requested-With",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Content-Type, X-Experience-API-Version, "
                                     "X-Experience-API-Consistent-Through",
    "Access-Control-Max-Age": "600",
}


def _limit() -> int:
    return gateway_state().settings.xapi_max_body_bytes


def _refused(status: int, message: str, version: str = "1.0.3") -> Response:
    body = flask.json.dumps({"error": "unauthenticated" if status == 401 else "bad_request", "message": message})
    response = Response(body, status=status, mimetype="application/json")
    response.headers["X-Experience-API-Version"] = version
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="xAPI"'
    return response


def _effective() -> tuple[str, dict[str, str], dict[str, str], bytes]:
    """Method, parameters, headers (lower-case) and body, with 1.0.3's alternate syntax unwrapped."""
    params = request.args.to_dict()
    headers = {name.lower(): value for name, value in request.headers.items()}
    body = request.get_data(cache=True)
    if "method" not in params:
        return request.method, params, headers, body
    if request.method != "POST" or set(params) != {"method"} or \
            not request.mimetype.startswith("application/x-www-form-urlencoded"):
        raise ValueError("Alternate request syntax is a form-encoded POST with only ?method=.")
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if form.get("X-Experience-API-Version", headers.get("x-experience-api-version", "")).startswith("2."):
        raise ValueError("xAPI 2.0 has no alternate request syntax.")
    content = form.pop("content", "").encode()
    for name in list(form):
        if name.lower() in FORM_HEADERS:
            headers[name.lower()] = form.pop(name)
    headers.pop("content-length", None)
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):  # the form's own
        headers["content-type"] = "application/json" if content else ""
    return params["method"].upper(), form, headers, content


def _credentials(message: tracker_pb2.XapiRequest, authorization: str) -> Optional[Response]:
    """Fill the message's credential from the Authorization header; a 401 response if it is unusable."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            key, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return _refused(401, "Malformed Basic credentials.")
        if not sep or not key:
            return _refused(401, "Malformed Basic credentials.")
        message.basic_key, message.basic_secret = key, secret
    elif scheme.lower() == "bearer" and value.strip():
        try:
            principal = gateway_state().verifier.verify(value.strip())
        except InvalidToken as exc:
            return _refused(401, str(exc))
        message.caller.CopyFrom(common_pb2.Caller(user_id=principal.user_id, tenant_id=principal.tenant_id,
                                                  org_role=principal.org_role, plan_tier=principal.plan_tier))
    elif authorization:
        return _refused(401, "Authorization must be Basic (an LRS key) or Bearer (a CareerOS token).")
    return None


@blp.route("/", defaults={"resource": ""}, methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
@blp.route("/<path:resource>", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
@any_body
@max_body(_limit)
def xapi(resource: str) -> Response:
    """Any xAPI resource: /statements, /activities[/state|/profile], /agents[/profile], /about."""
    if request.method == "OPTIONS":
        return Response(status=204)
    try:
        method, params, headers, body = _effective()
    except ValueError as exc:
        return _refused(400, str(exc), "2.0.0" if "2.0" in str(exc) else "1.0.3")
    message = tracker_pb2.XapiRequest(
        method="GET" if method == "HEAD" else method, resource=resource.strip("/"), params=params, body=body,
        headers={**{k: v for k, v in headers.items() if k in FORWARDED_HEADERS}, "x-careeros-lrs-base": BASE})
    refused = _credentials(message, headers.get("authorization", ""))
    if refused is not None:
        return refused
    # A batch may take longer than the default deadline on a busy machine; a client that retries after
    # a timeout resends the same ids, which the LRS recognises, so nothing is stored twice or lost.
    answer = tracker_rpc.Xapi(message, timeout=gateway_state().settings.xapi_deadline_s)
    response = Response(b"" if method == "HEAD" else answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response.headers[name] = value
    return response


@blp.after_request
def _cors(response: Response) -> Response:
    """Browser content (Storyline, H5P, cmi5 players) calls the LRS from other origins."""
    origin = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers.add("Vary", "Origin")
    for name, value in CORS_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("X-Experience-API-Version", "1.0.3")
    return response
