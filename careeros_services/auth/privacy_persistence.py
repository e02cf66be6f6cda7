"""Privacy requests (export, erasure) and auth's own part of them, in SQL on a unit of work.

Schema: ``migrations/m0003_privacy.py``. Every method runs on the connection of the transaction
it is given (``uow.privacy``); auth's identity tables are global, its org tables are
tenant-scoped, so per-tenant methods expect the transaction scoped to that tenant.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Optional

import peewee

_REQUEST_COLUMNS = ("id", "kind", "scope", "user_id", "requested_by", "tenant_id", "tenant_ids", "personal_tenant_id",
                    "status", "answers", "archive_key", "expires_at", "attempts", "sent_at", "created_at",
                    "completed_at")


def _request(row: Optional[tuple]) -> Optional[dict]:
    if row is None:
        return None
    found = dict(zip(_REQUEST_COLUMNS, row))
    for key in ("id", "user_id", "requested_by", "tenant_id"):
        found[key] = str(found[key])
    found["tenant_ids"] = [str(t) for t in found["tenant_ids"]]
    found["personal_tenant_id"] = str(found["personal_tenant_id"]) if found["personal_tenant_id"] else None
    return found


class PrivacyRepository:
    """Requests and the person's rows in auth (``uow.privacy``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    def _rows(self, query: str, params: Any = ()) -> list[tuple]:
        return self.db.execute_sql(query, params).fetchall()

    def _count(self, query: str, params: Any = ()) -> int:
        return self.db.execute_sql(query, params).rowcount

    # --- requests (the saga's state) ------------------------------------------------------------

    def add_request(self, request: dict) -> None:
        self.db.execute_sql(
            "INSERT INTO privacy_requests (id, kind, scope, user_id, requested_by, tenant_id, tenant_ids,"
            " personal_tenant_id, answers) VALUES (%s, %s, %s, %s, %s, %s, %s::uuid[], %s, %s)",
            (request["id"], request["kind"], request["scope"], request["user_id"], request["requested_by"],
             request["tenant_id"], request["tenant_ids"], request.get("personal_tenant_id"),
             json.dumps(request.get("answers") or {})))

    def request(self, request_id: str, *, for_update: bool = False) -> Optional[dict]:
        lock = " FOR UPDATE" if for_update else ""
        rows = self._rows(f"SELECT {', '.join(_REQUEST_COLUMNS)} FROM privacy_requests WHERE id = %s{lock}",
                          (request_id,))
        return _request(rows[0] if rows else None)

    def pending_export_of(self, user_id: str) -> Optional[dict]:
        rows = self._rows(f"SELECT {', '.join(_REQUEST_COLUMNS)} FROM privacy_requests WHERE user_id = %s"
                          " AND kind = 'export' AND status = 'pending' ORDER BY created_at DESC LIMIT 1", (user_id,))
        return _request(rows[0] if rows else None)

    def record_answer(self, request_id: str, service: str, answer: dict) -> None:
        self.db.execute_sql("UPDATE privacy_requests SET answers = answers || %s WHERE id = %s",
                            (json.dumps({service: answer}), request_id))

    def complete(self, request_id: str, now: datetime, archive_key: str = "",
                 expires_at: Optional[datetime] = None) -> None:
        self.db.execute_sql("UPDATE privacy_requests SET status = 'completed', completed_at = %s,"
                            " archive_key = %s, expires_at = %s WHERE id = %s",
                            (now, archive_key, expires_at, request_id))

    def stale_pending(self, sent_before: datetime, limit: int = 50) -> list[dict]:
        """Pending requests last sent before the moment, locked for re-sending (others skip them)."""
        rows = self._rows(f"SELECT {', '.join(_REQUEST_COLUMNS)} FROM privacy_requests WHERE status = 'pending'"
                          " AND sent_at < %s ORDER BY sent_at LIMIT %s FOR UPDATE SKIP LOCKED", (sent_before, limit))
        return [_request(r) for r in rows]

    def mark_sent(self, request_id: str, now: datetime) -> None:
        self.db.execute_sql("UPDATE privacy_requests SET sent_at = %s, attempts = attempts + 1 WHERE id = %s",
                            (now, request_id))

    def expired_exports(self, now: datetime, limit: int = 50) -> list[dict]:
        rows = self._rows(f"SELECT {', '.join(_REQUEST_COLUMNS)} FROM privacy_requests WHERE kind = 'export'"
                          " AND status = 'completed' AND expires_at < %s LIMIT %s FOR UPDATE SKIP LOCKED",
                          (now, limit))
        return [_request(r) for r in rows]

    def mark_expired(self, request_id: str) -> None:
        self.db.execute_sql("UPDATE privacy_requests SET status = 'expired', archive_key = '' WHERE id = %s",
                            (request_id,))

    def delete_exports_of(self, user_id: str) -> list[str]:
        """Drop the person's export requests; the archive keys to delete with them."""
        rows = self._rows("DELETE FROM privacy_requests WHERE user_id = %s AND kind = 'export'"
                          " RETURNING archive_key", (user_id,))
        return [key for (key,) in rows if key]

    # --- the person in auth ---------------------------------------------------------------------

    def user_tenants(self, user_id: str) -> list[str]:
        """Tenants the person is a member of, across row-level security (``careeros_user_tenants``)."""
        return [str(t) for (t,) in self._rows("SELECT careeros_user_tenants(%s)", (user_id,))]

    def tenant_kinds(self, tenant_ids: list[str]) -> dict[str, str]:
        return {str(t): kind for t, kind in self._rows("SELECT id, kind FROM tenants WHERE id = ANY(%s::uuid[])",
                                                        (tenant_ids,))}

    def role_in(self, user_id: str) -> Optional[str]:
        """The person's role in the transaction's tenant (memberships are row-level secured)."""
        rows = self._rows("SELECT org_role FROM memberships WHERE user_id = %s", (user_id,))
        return rows[0][0] if rows else None

    def export_identity(self, user_id: str, tenant_ids: list[str]) -> dict:
        """The account and its tenants (global tables): never the password hash."""
        def objects(query: str, params: Any) -> list:
            return [row[0] for row in self._rows(query, params)]
        return {
            "user": objects("SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE id = %s", (user_id,)),
            "tenants": objects("SELECT to_jsonb(t) FROM tenants t WHERE id = ANY(%s::uuid[])", (tenant_ids,)),
            "sessions": objects("SELECT to_jsonb(r) - 'token_hash' FROM refresh_tokens r WHERE user_id = %s",
                                (user_id,)),
            "privacy_requests": objects("SELECT to_jsonb(p) - 'answers' FROM privacy_requests p"
                                        " WHERE user_id = %s", (user_id,)),
        }

    def export_in_tenant(self, user_id: str, email: str) -> dict:
        """The person's rows in the transaction's tenant (memberships, assignments, invites, audit)."""
        def objects(query: str, params: Any) -> list:
            return [row[0] for row in self._rows(query, params)]
        found = {
            "memberships": objects("SELECT to_jsonb(m) FROM memberships m WHERE user_id = %s", (user_id,)),
            "assignments": objects("SELECT to_jsonb(a) FROM assignments a WHERE user_id = %s", (user_id,)),
            "invites": objects("SELECT to_jsonb(i) - 'token_hash' FROM invites i WHERE email = %s"
                               " OR invited_by = %s", (email, user_id)),
            "audit_log": objects("SELECT to_jsonb(a) FROM audit_log a WHERE actor_user_id = %s OR target_id = %s",
                                 (user_id, user_id)),
        }
        return {table: rows for table, rows in found.items() if rows}

    def redact_audit(self, user_id: str, mentions: list[str], erased_id: str) -> int:
        """Audit entries of the transaction's tenant stop naming the person (the log stays append-only
        for everything else: the trigger allows this UPDATE only under ``careeros.audit_redaction``)."""
        self.db.execute_sql("SELECT set_config('careeros.audit_redaction', 'on', true)")
        patterns = [m for m in mentions if len(m) >= 3]  # a one-letter name would redact everything
        mentioned = ("EXISTS (SELECT 1 FROM unnest(%(mentions)s::text[]) m"
                     " WHERE strpos(lower(details::text), lower(m)) > 0)")
        touched = self._count(
            "UPDATE audit_log SET actor_user_id = CASE WHEN actor_user_id = %(user)s THEN NULL"
            "   ELSE actor_user_id END,"
            " target_id = CASE WHEN target_id = ANY(%(mentions)s) THEN %(erased)s ELSE target_id END,"
            f" details = CASE WHEN {mentioned} THEN '{{\"redacted\": true}}'::jsonb ELSE details END"
            f" WHERE actor_user_id = %(user)s OR target_id = ANY(%(mentions)s) OR {mentioned}",
            {"user": user_id, "mentions": patterns, "erased": erased_id})
        self.db.execute_sql("SELECT set_config('careeros.audit_redaction', 'off', true)")
        return touched

    def delete_in_tenant(self, user_id: str, email: str, erased_id: str) -> int:
        """The person's membership, assignments and invites in the transaction's tenant."""
        return (self._count("DELETE FROM invites WHERE email = %s OR invited_by = %s", (email, user_id))
                + self._count("UPDATE invites SET accepted_by = NULL WHERE accepted_by = %s", (user_id,))
                + self._count("DELETE FROM assignments WHERE user_id = %s", (user_id,))
                + self._count("UPDATE assignments SET assigned_by = %s WHERE assigned_by = %s", (erased_id, user_id))
                + self._count("DELETE FROM memberships WHERE user_id = %s", (user_id,)))

    def delete_account(self, user_id: str, personal_tenants: list[str]) -> int:
        """The user row (its sessions go with it) and the tenants that were theirs alone."""
        deleted = self._count("DELETE FROM users WHERE id = %s", (user_id,))
        return deleted + self._count("DELETE FROM tenants WHERE id = ANY(%s::uuid[])", (personal_tenants,))
