"""The tracker's xAPI Learning Record Store (xAPI 1.0.3 and 2.0): the service layer of ``/xapi``.

:meth:`LrsService.handle` takes one :class:`~.xapi.protocol.XapiRequest` (what the gateway
received below ``/xapi/``) with the caller's credential and answers an
:class:`~.xapi.protocol.XapiResponse`. The rules are in :mod:`.xapi` (pure); this layer
authenticates HTTP Basic keys, runs each request in one tenant-scoped transaction and
stores statements through :meth:`TrackerService.ingest_lrs`, the same ingestion path as
``POST /api/v1/tracking/statements`` (progress, streaks, events).

LRS keys (HTTP Basic key/secret) are created and revoked by an organisation's owner
or admin; the secret is 256 random bits, shown once and kept as its SHA-256 (a slow
password hash adds nothing to a secret of that entropy and would cost every request).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Optional

from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError, Forbidden, NotFound
from careeros_services.tracker import domain
from careeros_services.tracker.service import TrackerService
from careeros_services.tracker.xapi import documents, multipart, protocol, query, validate
from careeros_services.tracker.xapi.protocol import Credential, XapiError, XapiRequest, XapiResponse
from careeros_services.tracker.xapi.statements import (agent_key, formatted, iso, merged_definition, parse_time,
                                                      person, prepare)

KEY_ADMIN_ROLES = frozenset({"owner", "admin"})
STATEMENT_READERS = frozenset({"owner", "admin", "instructor"})
MAX_BATCH = 500
KEY_HOME_PAGE = "https://careeros.dev/xapi/keys"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def _learner_agent(user_id: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": domain.HOME_PAGE, "name": user_id}}


class LrsService:
    """xAPI resources over the tracker's store, for every tenant."""

    def __init__(self, tracker: TrackerService):
        self.tracker = tracker
        self.store = tracker.store

    # --- credentials -------------------------------------------------------------------------

    def bearer_credential(self, caller: Caller) -> Credential:
        """A CareerOS access token: owners and admins act for the tenant, anyone else for themselves."""
        tenant_id, user_id, org_role = caller.tenant_id, caller.user_id, caller.org_role
        scopes = {"all"} if org_role in KEY_ADMIN_ROLES else {protocol.MINE}
        if org_role in STATEMENT_READERS - KEY_ADMIN_ROLES:
            scopes |= {"all/read"}
        return Credential(tenant_id=tenant_id, scopes=frozenset(scopes), authority=_learner_agent(user_id),
                          user_id=user_id)

    def basic_credential(self, key_id: str, secret: str) -> Credential:
        """An LRS key; 401 when unknown, revoked or the secret is wrong."""
        refused = XapiError(401, "unauthenticated", "Unknown or revoked LRS key, or wrong secret.")
        with self.tracker.unit_of_work(None) as uow:
            repo = uow.lrs
            tenant_id = repo.tenant_of_key(key_id)
            if tenant_id is None:
                raise refused
            uow.scope_to(tenant_id)
            row = repo.credential(tenant_id, key_id)
        if row is None or row[3] or not hmac.compare_digest(row[0], _hash(secret)):
            raise refused
        _secret_hash, label, scopes, _revoked, version = row
        authority = {"objectType": "Agent", "name": label, "account": {"homePage": KEY_HOME_PAGE, "name": key_id}}
        return Credential(tenant_id=tenant_id, scopes=frozenset(scopes), authority=authority, key_id=key_id,
                          default_family=version[:3])

    def create_key(self, caller: Caller, label: str, scopes: list[str], xapi_version: str = "") -> dict:
        """A new LRS key of the tenant (owner/admin): the secret is in this answer only.

        ``xapi_version`` (1.0.3 or 2.0.0, default 2.0.0) is the version the LRS names when
        it refuses a request of this key that names none (content written for 1.0.3
        reads the answer in its own version).
        """
        tenant_id, user_id = self._key_admin(caller)
        label = (label or "").strip()
        errors = {}
        if not 1 <= len(label) <= 100:
            errors["label"] = ["must be 1 to 100 characters"]
        scopes = sorted(set(scopes or ["statements/write"]))
        if not set(scopes) <= set(protocol.SCOPES):
            errors["scopes"] = [f"must be among {', '.join(protocol.SCOPES)}"]
        xapi_version = xapi_version or "2.0.0"
        if xapi_version not in protocol.KEY_VERSIONS:
            errors["xapi_version"] = [f"must be one of {', '.join(protocol.KEY_VERSIONS)}"]
        if errors:
            raise DomainError("The LRS key is invalid.", code="validation_failed", fields=errors)
        key_id, secret = "lrs_" + secrets.token_hex(12), secrets.token_hex(32)  # hex: no leading "-" for CLIs
        with self.tracker.unit_of_work(tenant_id) as uow:
            created = uow.lrs.add_credential(tenant_id, key_id, _hash(secret), label, scopes, user_id,
                                             xapi_version)
        return {"key": key_id, "secret": secret, "label": label, "scopes": scopes, "xapi_version": xapi_version,
                "created_by": user_id, "created_at": iso(created), "revoked_at": ""}

    def list_keys(self, caller: Caller) -> list[dict]:
        """The tenant's LRS keys (never their secrets)."""
        tenant_id, _ = self._key_admin(caller)
        with self.tracker.unit_of_work(tenant_id) as uow:
            rows = uow.lrs.credentials(tenant_id)
        return [{"key": k, "label": label, "scopes": list(scopes), "xapi_version": version, "created_by": str(by),
                 "created_at": iso(at), "revoked_at": iso(revoked) if revoked else ""}
                for k, label, scopes, version, by, at, revoked in rows]

    def revoke_key(self, caller: Caller, key_id: str) -> None:
        """Revoke a key of the tenant (404 if it has none of that id); revoking twice is fine."""
        tenant_id, _ = self._key_admin(caller)
        with self.tracker.unit_of_work(tenant_id) as uow:
            if not uow.lrs.revoke_credential(tenant_id, key_id):
                raise NotFound("No LRS key of this organisation has that id.", code="lrs_key_not_found")

    @staticmethod
    def _key_admin(caller: Caller) -> tuple[str, str]:
        if caller.org_role not in KEY_ADMIN_ROLES:
            raise Forbidden("Only organisation owners and admins manage LRS keys.", code="not_allowed")
        return caller.tenant_id, caller.user_id

    # --- requests ------------------------------------------------------------------------------

    def serve(self, request: XapiRequest, *, basic: Optional[tuple[str, str]] = None,
              caller: Optional[tuple[str, str, str]] = None) -> XapiResponse:
        """Authenticate (an LRS key's ``(key, secret)`` or a verified ``(tenant, user, role)``), then
        :meth:`handle`. The caller's ids are checked here, not by the servicer: a malformed one gets
        an xAPI error answer, as any other refused credential.
        """
        try:
            if basic is not None:
                credential: Optional[Credential] = self.basic_credential(*basic)
            else:
                credential = self.bearer_credential(Caller.of(*caller)) if caller is not None else None
        except DomainError as exc:
            if request.resource == "about":
                return self.handle(request, None)
            return self._answer(request, XapiResponse.json(
                getattr(exc, "status", 401), {"error": exc.code, "message": exc.detail, "errors": exc.fields}), "")
        return self.handle(request, credential)

    def handle(self, request: XapiRequest, credential: Optional[Credential]) -> XapiResponse:
        """Answer one xAPI request (errors too: a 4xx with a JSON body naming the problem)."""
        family = credential.default_family if credential else "2.0"
        try:
            protocol.check_method(request)
            family = protocol.check_version(request, family)
            protocol.check_params(request)
            if request.resource == "about":
                response = XapiResponse.json(200, protocol.about())
            else:
                if credential is None:
                    raise XapiError(401, "unauthenticated", "Authentication required.")
                protocol.check_scope(credential, request)
                response = self._dispatch(request, credential, family)
        except DomainError as exc:
            response = XapiResponse.json(getattr(exc, "status", 400), {
                "error": exc.code, "message": exc.detail, "errors": exc.fields})
        return self._answer(request, response, family)

    def _answer(self, request: XapiRequest, response: XapiResponse, family: str) -> XapiResponse:
        """The headers every answer carries (the request's version; statements GETs: consistency)."""
        if not family:
            try:
                family = protocol.check_version(request)
            except XapiError:
                family = "2.0"
        response.headers["X-Experience-API-Version"] = protocol.response_version(family)
        if request.resource == "statements" and request.method == "GET":  # xAPI: whatever the status
            response.headers.setdefault("X-Experience-API-Consistent-Through", iso(self.tracker.clock()))
        return response

    def _dispatch(self, request: XapiRequest, credential: Credential, family: str) -> XapiResponse:
        resource, method = request.resource, request.method
        if resource == "statements":
            if method == "GET":
                return self._get_statements(request, credential)
            return self._store_statements(request, credential, family)
        if resource == "activities":
            return self._activity(request, credential)
        if resource == "agents":
            return self._agent(request)
        return self._document(request, credential, family)

    # --- statements ----------------------------------------------------------------------------

    def _statement_body(self, request: XapiRequest) -> tuple[Any, dict]:
        mimetype = request.content_type.split(";")[0].strip().lower()
        if mimetype == "multipart/mixed":
            return multipart.parse(request.body, request.content_type)
        if mimetype != "application/json":
            raise XapiError(400, "unsupported_content_type",
                            "Statements are sent as application/json or multipart/mixed.")
        try:
            return json.loads(request.body), {}
        except ValueError:
            raise XapiError(400, "malformed_json", "The body is not valid JSON.") from None

    def _store_statements(self, request: XapiRequest, credential: Credential, family: str) -> XapiResponse:
        body, files = self._statement_body(request)
        if request.method == "PUT":
            if set(request.params) != {"statementId"}:
                validate.fail("statementId", "is the one parameter of PUT /statements")
            validate.uuid(request.params["statementId"], "statementId")
            if not isinstance(body, dict):
                validate.fail("statement", "must be one statement object")
            given = request.params["statementId"].lower()
            if "id" in body and str(body["id"]).lower() != given:
                validate.fail("id", "must equal the statementId parameter")
            body = dict(body, id=given)
        elif request.params:
            validate.fail(sorted(request.params)[0], "is not a parameter of POST /statements")
        raws = body if isinstance(body, list) else [body]
        if not raws:
            validate.fail("statements", "must not be empty")
        if len(raws) > MAX_BATCH:
            raise XapiError(413, "batch_too_large", f"At most {MAX_BATCH} statements per request.")
        for i, raw in enumerate(raws):
            validate.statement(raw, f"[{i}]" if isinstance(body, list) else "", family)
        validate.storable(raws)
        parts = multipart.check_attachments(raws, files)
        ids = self._store(raws, credential, family, parts)
        if request.method == "PUT":
            return XapiResponse(204)
        return XapiResponse.json(200, ids)

    def _store(self, raws: list[dict], credential: Credential, family: str,
               parts: dict[str, tuple[str, bytes]]) -> list[str]:
        seen: set[str] = set()
        for i, raw in enumerate(raws):
            if "id" in raw:
                if raw["id"].lower() in seen:
                    validate.fail(f"[{i}].id", "is used twice in this batch")
                seen.add(raw["id"].lower())
            if credential.mine_only and domain.careeros_learner(raw["actor"]) != credential.user_id:
                raise XapiError(403, "actor_not_caller", "With a learner's token the actor must be that learner.",
                                {f"[{i}].actor": ["must be your own CareerOS account"]})
        stored = self.tracker.clock()
        version = protocol.response_version(family)
        bodies = [prepare(raw, stored=stored, authority=credential.authority, version=version) for raw in raws]
        statements = [domain.lrs_statement(b, stored) for b in bodies]
        targets = {b["object"]["id"].lower(): i for i, b in enumerate(bodies)
                   if b["verb"]["id"] == validate.VOIDED}
        with self.tracker.unit_of_work(credential.tenant_id) as uow:
            repo = uow.lrs
            known = repo.bodies(credential.tenant_id, sorted(targets)) if targets else {}
            for target, i in targets.items():
                voided_target = known.get(target) or next((b for b in bodies if b["id"] == target), None)
                if voided_target is not None and voided_target["verb"]["id"] == validate.VOIDED:
                    validate.fail(f"[{i}].object", "is a voiding statement, which cannot be voided")
            new_ids = self.tracker.ingest_lrs(uow, credential.tenant_id, statements)
            repo.void(credential.tenant_id, [t for t, i in targets.items() if bodies[i]["id"] in new_ids])
            repo.void(credential.tenant_id, repo.voided_by_earlier(credential.tenant_id, sorted(new_ids)))
            repo.save_attachments(credential.tenant_id, parts)
        return [b["id"] for b in bodies]

    def _get_statements(self, request: XapiRequest, credential: Credential) -> XapiResponse:
        wanted = query.parse(request.params)
        only = credential.user_id if credential.reads_mine_only else None
        now = self.tracker.clock()
        headers = {"X-Experience-API-Consistent-Through": iso(now)}
        languages = [t.split(";")[0].strip() for t in request.header("accept-language").split(",") if t.strip()]
        with self.tracker.unit_of_work(credential.tenant_id) as uow:
            repo = uow.lrs
            if wanted.statement_id:
                body = repo.one(credential.tenant_id, wanted.statement_id, wanted.voided, only)
                if body is None:
                    raise XapiError(404, "statement_not_found", "No such statement.")
                document: Any = formatted(body, wanted.format, languages)
                found = [body]
                headers["Last-Modified"] = _http_date(parse_time(body["stored"]))
            else:
                flt = wanted.filter
                rows = repo.query(credential.tenant_id, flt, only)
                page = rows[:flt.limit]
                more = ""
                if len(rows) > flt.limit:
                    more = f"{request.header('x-careeros-lrs-base')}/statements?more=" + \
                           query.encode_more(flt, page[-1][0])
                found = [body for _seq, body, _stored in page]
                document = {"statements": [formatted(b, wanted.format, languages) for b in found], "more": more}
                newest = max((stored for _s, _b, stored in page), default=now)
                headers["Last-Modified"] = _http_date(newest)
            files = []
            if wanted.attachments:
                shas = sorted({a["sha2"] for b in found for a in b.get("attachments", [])})
                files = repo.attachments(credential.tenant_id, shas) if shas else []
        if wanted.attachments:
            content, content_type = multipart.build(document, files)
            return XapiResponse(200, content, {"Content-Type": content_type, **headers})
        return XapiResponse.json(200, document, **headers)

    # --- activities, agents, documents ------------------------------------------------------------

    def _activity(self, request: XapiRequest, credential: Credential) -> XapiResponse:
        if set(request.params) != {"activityId"}:
            validate.fail("activityId", "is the one parameter of GET /activities")
        activity_id = validate.iri(request.params["activityId"], "activityId")
        with self.tracker.unit_of_work(credential.tenant_id) as uow:
            found = uow.lrs.activity_definitions(credential.tenant_id, activity_id)
        activity = {"objectType": "Activity", "id": activity_id}
        if found:
            activity["definition"] = merged_definition(found)
        return XapiResponse.json(200, activity)

    @staticmethod
    def _agent(request: XapiRequest) -> XapiResponse:
        if set(request.params) != {"agent"}:
            validate.fail("agent", "is the one parameter of GET /agents")
        return XapiResponse.json(200, person(query.parse_agent_param(request.params["agent"])))

    def _document(self, request: XapiRequest, credential: Credential, family: str) -> XapiResponse:
        key = documents.parse_params(request.resource, request.params, request.method)
        reading = request.method == "GET"
        if credential.reads_mine_only or (credential.mine_only and not reading):
            own = agent_key(_learner_agent(credential.user_id))
            if (key.agent and key.agent != own) or (key.kind == "activity_profile" and request.method != "GET"):
                raise XapiError(403, "not_your_document", "With a learner's token only their own documents.")
        tenant_id = credential.tenant_id
        with self.tracker.unit_of_work(tenant_id) as uow:
            repo = uow.lrs
            if request.method == "GET" and not key.doc_id:
                since = parse_time(key.since) if key.since else None
                rows = repo.document_ids(tenant_id, key, since)
                latest = max((updated for _d, updated in rows), default=None)
                headers = {"Last-Modified": _http_date(latest)} if latest else {}
                return XapiResponse.json(200, [doc_id for doc_id, _u in rows], **headers)
            if request.method == "DELETE" and not key.doc_id:
                repo.delete_documents(tenant_id, key)
                return XapiResponse(204)
            current = repo.document(tenant_id, key)
            if request.method == "GET":
                if current is None:
                    raise XapiError(404, "document_not_found", "No such document.")
                content, content_type, tag, updated = current
                return XapiResponse(200, content, {"Content-Type": content_type, "ETag": tag,
                                                   "Last-Modified": _http_date(updated)})
            documents.precondition(request.method, current[2] if current else None, request.header("if-match"),
                                   request.header("if-none-match"),
                                   require_header=key.kind != "state",
                                   blind_overwrite_conflicts=key.kind != "state" or family == "2.0")
            if request.method == "DELETE":
                repo.delete_documents(tenant_id, key)
                return XapiResponse(204)
            content_type = request.content_type or "application/octet-stream"
            content = request.body
            if request.method == "POST":
                content, content_type = documents.merge(current[:2] if current else None, content, content_type)
            elif documents.is_json(content_type):
                try:
                    json.loads(content)
                except ValueError:
                    validate.fail("document", "is not valid JSON although sent as application/json")
            tag = documents.etag(content)
            repo.put_document(tenant_id, key, content, content_type, tag)
        return XapiResponse(204, b"", {"ETag": tag})
