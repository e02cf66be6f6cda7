"""Privacy requests, owned by auth: export (GDPR art. 15/20) and erasure (art. 17), as a saga.

auth owns the person, so it owns their requests. A request is one ``privacy_requests`` row (the
saga's persisted state) and one event, in one transaction:

* **export** — ``user.export_requested`` asks every other service (``participants()``) for its
  part; each writes it to the privacy bucket and answers ``<svc>.privacy.export_part_ready``
  (see ``bus/privacy.py``). The answer that completes the set assembles one zip (auth's part,
  one JSON per service, the certificate PDFs and CVs they copied), stores it, deletes the parts
  and publishes ``user.export_ready`` with a signed link (for the notifications service to send).
* **erasure** — auth erases its own rows at once (so the person cannot log in from that commit
  on and their sessions end), then ``user.erasure_requested`` makes every other service erase
  theirs; the request completes when every service confirmed.

``privacy_tick`` (the auth nameko timer) re-sends requests still waiting after
``privacy.resend_after_s`` (answers are idempotent: a part is rewritten, a deletion finds
nothing) and deletes archives past ``privacy.export_ttl_s``. Mixed into ``AuthService``.
"""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import datetime, timedelta
from typing import Optional

from bus import privacy
from bus.handlers import handles
from bus.store import ServiceStore, Transaction
from careeros_services import registry
from careeros_services.auth import domain
from careeros_services.auth.persistence import AuthUnitOfWork
from careeros_services.auth.settings import PrivacySettings
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, require_uuids
from careeros_services.common.storage import ObjectMissing, privacy_storage
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork

EXPORT, ERASURE = "export", "erasure"


def participants() -> list[str]:
    """Every service but auth answers each request (a new service joins by taking part)."""
    return [name for name in registry.SERVICES if name != "auth"]


def _answer_types() -> list[str]:
    return sorted(t for s in participants() for t in (privacy.erasure_confirmed_type(s), privacy.export_part_type(s)))


def _iso(moment: Optional[datetime]) -> str:
    return moment.isoformat() if moment else ""


class PrivacySaga(ServiceWithUnitOfWork[AuthUnitOfWork]):
    """The privacy requests of ``AuthService`` (which provides ``store``)."""

    store: ServiceStore
    clock: Clock
    privacy_config: Optional[dict] = None
    export_ttl_s = PrivacySettings.export_ttl_s
    link_ttl_s = PrivacySettings.link_ttl_s
    resend_after_s = PrivacySettings.resend_after_s

    def configure_privacy(self, config: dict) -> None:
        """Read the ``privacy`` section (archive lifetime, link lifetime, re-send delay)."""
        settings = PrivacySettings.from_config(config)
        self.privacy_config = config
        self.export_ttl_s, self.link_ttl_s = settings.export_ttl_s, settings.link_ttl_s
        self.resend_after_s = settings.resend_after_s

    def _storage(self):
        return privacy_storage(self.privacy_config)

    # --- export ---------------------------------------------------------------------------------

    def request_export(self, caller: Caller) -> dict:
        """Start an export of everything CareerOS holds about the caller; a pending one is returned
        instead of starting a second."""
        user_id, tenant_id = caller.user_id, caller.tenant_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.privacy
            found = repo.pending_export_of(user_id)
            if found is None:
                tenants = repo.user_tenants(user_id)
                if tenant_id not in tenants:
                    raise Forbidden("You are not a member of this tenant.", code="not_a_member")
                found = self._start(uow, EXPORT, privacy.SCOPE_ACCOUNT, user_id, user_id, tenant_id, tenants)
        return self._view(found)

    def get_export(self, caller: Caller, request_id: str) -> dict:
        """The caller's export: its status and, once assembled, a fresh time-limited download link."""
        return self._view(self._own_request(caller, request_id, EXPORT))

    def read_export_file(self, key: str, expires: int, signature: str, offset: int = 0,
                         length: int = 1024 * 1024) -> dict:
        """A chunk of an archive behind a signed link (the link is the credential)."""
        storage = self._storage()
        try:
            valid = storage.verify(key, int(expires), signature)
        except ValueError:
            valid = False
        if not valid:
            raise Forbidden("This download link is invalid or has expired.", code="link_invalid")
        try:
            size = storage.size(key)
            data = storage.get(key, max(0, int(offset)), max(1, min(int(length), 2 * 1024 * 1024)))
        except ObjectMissing:
            raise NotFound("This export is no longer kept.", code="export_gone") from None
        return {"data": data, "size": size, "content_type": "application/zip", "offset": int(offset)}

    # --- erasure --------------------------------------------------------------------------------

    def request_erasure(self, caller: Caller, member_user_id: Optional[str] = None) -> dict:
        """Erase the caller's account (no ``member_user_id``), or, for the owner of the caller's
        tenant, one member's data in it. auth's own part is done in this transaction."""
        user_id, tenant_id = caller.user_id, caller.tenant_id
        with self.unit_of_work(tenant_id) as uow:
            if member_user_id:
                member = require_uuids(member_user_id=member_user_id)[0]
                found = self._erase_member(uow, user_id, tenant_id, member)
            else:
                found = self._erase_account(uow, user_id, tenant_id)
        return self._view(found)

    def get_erasure(self, caller: Caller, request_id: str) -> dict:
        """An erasure the caller asked for (or that erased them): which services confirmed."""
        return self._view(self._own_request(caller, request_id, ERASURE))

    def _erase_account(self, uow: AuthUnitOfWork, user_id: str, tenant_id: str) -> dict:
        repo = uow.privacy
        user = repo.export_identity(user_id, [])["user"]
        if not user:
            raise NotFound("No such account.", code="user_not_found")
        email, name = user[0]["email"], user[0]["display_name"]
        tenants = repo.user_tenants(user_id)
        kinds = repo.tenant_kinds(tenants)
        personal = [t for t in tenants if kinds.get(t) == domain.PERSONAL]
        for tenant in tenants:
            uow.scope_to(tenant)
            if kinds.get(tenant) != domain.PERSONAL and repo.role_in(user_id) == domain.OWNER:
                raise Conflict("You own an organisation: transfer its ownership first.",
                               code="owner_must_transfer", fields={"tenant_id": [tenant]})
            repo.redact_audit(user_id, [email, name, user_id], privacy.ERASED_ID)
            repo.delete_in_tenant(user_id, email, privacy.ERASED_ID)
        uow.scope_to(tenant_id)
        self.revoke_all_sessions(uow, user_id)
        for key in repo.delete_exports_of(user_id):
            self._storage().delete(key)
        repo.delete_account(user_id, personal)
        privacy.PersonalDataRepository(uow.db, ()).purge_sent_outbox(user_id, personal[0] if personal else None)
        return self._start(uow, ERASURE, privacy.SCOPE_ACCOUNT, user_id, user_id, tenant_id,
                           tenants or [tenant_id], personal_tenant=personal[0] if personal else None)

    def _erase_member(self, uow: AuthUnitOfWork, owner_id: str, tenant_id: str,
                      member_id: str) -> dict:
        repo = uow.privacy
        if repo.role_in(owner_id) != domain.OWNER:
            raise Forbidden("Only the organisation's owner can erase a member's data.", code="owner_only")
        if member_id == owner_id:
            raise ValidationFailed("Use /me/erasure to erase your own account.",
                                   fields={"member_user_id": ["is the owner"]})
        if repo.tenant_kinds([tenant_id]).get(tenant_id) == domain.PERSONAL:
            raise Conflict("A personal space has no members.", code="not_an_organization")
        was_member = repo.role_in(member_id) is not None
        account = repo.export_identity(member_id, [])["user"]
        email, name = (account[0]["email"], account[0]["display_name"]) if account else ("", "")
        repo.redact_audit(member_id, [member_id, email, name], privacy.ERASED_ID)
        repo.delete_in_tenant(member_id, email, privacy.ERASED_ID)
        if was_member:
            self._member_left(uow, tenant_id, member_id, owner_id)
        return self._start(uow, ERASURE, privacy.SCOPE_ORGANIZATION, member_id, owner_id, tenant_id,
                           [tenant_id])

    def revoke_all_sessions(self, tx: Transaction, user_id: str) -> None:
        """End every session of an erased person: refresh tokens now (their rows are deleted with
        the account); access tokens already issued stop at the per-user not-valid-before mark."""
        uow = self.unit_of_work_in(tx)
        uow.db.execute_sql("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = %s"
                           " AND revoked_at IS NULL", (user_id,))
        self._refuse_older_tokens(users=[user_id])  # AuthService's per-user not-valid-before mark

    def _member_left(self, uow: AuthUnitOfWork, tenant_id: str, member_id: str, owner_id: str) -> None:
        """As when an owner removes a member (tokens for the tenant revoked, a new personal home for
        a member whose home this was), but without ``membership.changed``: the erasure event tells
        every service, and a later "removed" row in analytics would bring the member back."""
        org = uow.orgs
        org.revoke_user_tokens_in(tenant_id, member_id, self.clock())
        member = org.user_by_id(member_id)
        if member is not None and member.home_tenant_id == tenant_id:
            self._rehome(uow, member)

    # --- the saga -------------------------------------------------------------------------------

    def _start(self, uow: AuthUnitOfWork, kind: str, scope: str, user_id: str,
               requested_by: str, tenant_id: str, tenants: list[str],
               personal_tenant: Optional[str] = None) -> dict:
        repo = uow.privacy
        request_id = str(uuid.uuid4())
        answers = {"auth": {"at": _iso(self.clock())}} if kind == ERASURE else {}
        repo.add_request({"id": request_id, "kind": kind, "scope": scope, "user_id": user_id,
                          "requested_by": requested_by, "tenant_id": tenant_id, "tenant_ids": tenants,
                          "personal_tenant_id": personal_tenant, "answers": answers})
        found = repo.request(request_id)
        self._send(uow, found)
        return found

    def _send(self, uow: AuthUnitOfWork, request: dict) -> None:
        payload = {"request_id": request["id"], "user_id": request["user_id"],
                   "tenant_ids": request["tenant_ids"], "requested_at": _iso(request["created_at"])}
        if request["kind"] == ERASURE:
            payload.update(scope=request["scope"], personal_tenant_id=request["personal_tenant_id"])
        event = privacy.ERASURE_REQUESTED if request["kind"] == ERASURE else privacy.EXPORT_REQUESTED
        uow.publish(event, aggregate_id=request["user_id"], payload=payload, tenant_id=request["tenant_id"])

    @handles(*_answer_types())
    def _privacy_answered(self, tx: Transaction, envelope: dict) -> None:
        """Record a service's answer; the last one completes the request (and assembles an export)."""
        uow = self.unit_of_work_in(tx)
        p = envelope["payload"]
        repo = uow.privacy
        request = repo.request(p["request_id"], for_update=True)
        if request is None or request["status"] != "pending":
            return  # a late duplicate of a finished (or erased) request
        answer = {"at": envelope["occurred_at"], **{k: p[k] for k in ("object_key", "files", "rows_erased") if k in p}}
        repo.record_answer(request["id"], p["service"], answer)
        answers = {**request["answers"], p["service"]: answer}
        if any(service not in answers for service in participants()):
            return
        if request["kind"] == ERASURE:
            repo.complete(request["id"], self.clock())
        else:
            self._assemble(uow, request, answers)

    def _assemble(self, uow: AuthUnitOfWork, request: dict, answers: dict) -> None:
        repo = uow.privacy
        storage, prefix = self._storage(), privacy.export_prefix(request["id"])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("auth.json", json.dumps(self._auth_part(uow, request), indent=1, default=str))
            for service in participants():
                keys = [answers[service]["object_key"], *answers[service].get("files", [])]
                for key in keys:
                    archive.writestr(key[len(prefix) + 1:], storage.get(key))
            archive.writestr("export.json", json.dumps({
                "export_id": request["id"], "user_id": request["user_id"], "created_at": _iso(self.clock()),
                "services": ["auth", *participants()]}, indent=1))
        archive_key = f"{prefix}/careeros-export-{request['id']}.zip"
        storage.put(archive_key, buffer.getvalue(), "application/zip")
        for service in participants():
            for key in [answers[service]["object_key"], *answers[service].get("files", [])]:
                storage.delete(key)
        expires_at = self.clock() + timedelta(seconds=self.export_ttl_s)
        repo.complete(request["id"], self.clock(), archive_key, expires_at)
        uow.publish(privacy.EXPORT_READY, aggregate_id=request["user_id"], tenant_id=request["tenant_id"], payload={
            "export_id": request["id"], "user_id": request["user_id"],
            "download_url": storage.presigned_url(archive_key, self.export_ttl_s), "expires_at": _iso(expires_at)})

    def _auth_part(self, uow: AuthUnitOfWork, request: dict) -> dict:
        repo = uow.privacy
        identity = repo.export_identity(request["user_id"], request["tenant_ids"])
        email = identity["user"][0]["email"] if identity["user"] else ""
        per_tenant, scope = {}, uow.tenant_id
        for tenant in request["tenant_ids"]:
            uow.scope_to(tenant)
            per_tenant[tenant] = repo.export_in_tenant(request["user_id"], email)
        uow.scope_to(scope)
        return {"service": "auth", "user_id": request["user_id"], **identity, "tenants_data": per_tenant}

    def privacy_tick(self, now: Optional[datetime] = None) -> dict:
        """Re-send requests still waiting for answers; delete archives past their lifetime."""
        now = now or self.clock()
        with self.unit_of_work() as uow:
            repo = uow.privacy
            stale = repo.stale_pending(now - timedelta(seconds=self.resend_after_s))
            for request in stale:
                repo.mark_sent(request["id"], now)
                self._send(uow, request)
            expired = repo.expired_exports(now)
            for request in expired:
                self._storage().delete(request["archive_key"])
                repo.mark_expired(request["id"])
        return {"resent": len(stale), "expired": len(expired)}

    # --- reading requests -----------------------------------------------------------------------

    def _own_request(self, caller: Caller, request_id: str, kind: str) -> dict:
        user_id = caller.user_id
        [request_id] = require_uuids(request_id=request_id)
        with self.unit_of_work() as uow:
            found = uow.privacy.request(request_id)
        if found is None or found["kind"] != kind or user_id not in (found["user_id"], found["requested_by"]):
            raise NotFound(f"No such {kind} request.", code=f"{kind}_not_found")
        return found

    def _view(self, request: dict) -> dict:
        answered = sorted(request["answers"])
        expected = (["auth"] if request["kind"] == ERASURE else []) + participants()
        view = {"request_id": request["id"], "kind": request["kind"], "scope": request["scope"],
                "status": request["status"], "answered": answered,
                "pending": [s for s in expected if s not in answered] if request["status"] == "pending" else [],
                "requested_at": _iso(request["created_at"]), "completed_at": _iso(request["completed_at"]),
                "download_url": "", "download_expires_at": "", "archive_expires_at": _iso(request["expires_at"])}
        if request["status"] == "pending":
            return view
        if request["archive_key"] and request["expires_at"] and request["expires_at"] > self.clock():
            ttl = min(self.link_ttl_s, int((request["expires_at"] - self.clock()).total_seconds()))
            view["download_url"] = self._storage().presigned_url(request["archive_key"], ttl)
            view["download_expires_at"] = _iso(self.clock() + timedelta(seconds=ttl))
        return view
