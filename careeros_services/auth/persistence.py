"""Tenants, users, memberships, refresh tokens and signing keys in PostgreSQL.

The models are bound to :data:`database_proxy`, initialised by the service
factory (``service.build``). :class:`AuthRepository` runs every query on the
database of the unit of work it is given (``tx.db``), so a query never escapes
the transaction and its row-level-security tenant. Queries on the
tenant-scoped ``memberships`` table always name their tenant as well: RLS is
the second lock, not the only one. Schema: ``migrations/m0001_initial.py``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.auth.domain import AccountToken, Invite, RefreshToken, SigningKey, Tenant, User
from careeros_services.auth.privacy_persistence import PrivacyRepository
from careeros_services.common.unit_of_work import UnitOfWork

database_proxy = peewee.DatabaseProxy()

EMAIL_UNIQUE_CONSTRAINT = "users_email_key"
SIGNING_KEY_LOCK = 727_101  # pg advisory lock id held while creating the first signing key


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class TenantRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    name = peewee.TextField()
    kind = peewee.TextField()
    plan_tier = peewee.TextField(default="free")
    created_at = DateTimeTZField()
    seats = peewee.IntegerField(default=0)
    plan_changed_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "tenants"


class UserRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    email = peewee.TextField(unique=True)
    password_hash = peewee.TextField()
    display_name = peewee.TextField()
    home_tenant_id = peewee.UUIDField(index=True)
    created_at = DateTimeTZField()
    email_verified_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "users"


class MembershipRecord(_Model):
    """Tenant-scoped (row-level security on ``tenant_id``)."""

    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField(index=True)
    org_role = peewee.TextField()
    created_at = DateTimeTZField()

    class Meta:
        table_name = "memberships"
        primary_key = peewee.CompositeKey("tenant_id", "user_id")


class RefreshTokenRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    token_hash = peewee.TextField(unique=True)
    family_id = peewee.UUIDField(index=True)
    user_id = peewee.UUIDField(index=True)
    tenant_id = peewee.UUIDField()
    issued_at = DateTimeTZField()
    expires_at = DateTimeTZField()
    used_at = DateTimeTZField(null=True)
    revoked_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "refresh_tokens"


class SigningKeyRecord(_Model):
    kid = peewee.TextField(primary_key=True)
    private_pem = peewee.TextField()
    public_jwk = BinaryJSONField()
    created_at = DateTimeTZField()
    retired_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "signing_keys"


class InviteRecord(_Model):
    """Tenant-scoped. Pending: not accepted, not revoked, not expired."""

    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    email = peewee.TextField()
    org_role = peewee.TextField()
    invited_by = peewee.UUIDField()
    created_at = DateTimeTZField()
    expires_at = DateTimeTZField()
    accepted_at = DateTimeTZField(null=True)
    accepted_by = peewee.UUIDField(null=True)
    revoked_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "invites"


class AssignmentRecord(_Model):
    """Tenant-scoped."""

    id = peewee.UUIDField(primary_key=True)
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    course_id = peewee.TextField(default="")
    target_role = peewee.TextField(default="")
    assigned_by = peewee.UUIDField()
    due_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "assignments"


class AuditRecord(_Model):
    """Tenant-scoped and append-only (triggers refuse UPDATE, DELETE and TRUNCATE)."""

    id = peewee.BigAutoField(primary_key=True)
    tenant_id = peewee.UUIDField()
    actor_user_id = peewee.UUIDField(null=True)
    action = peewee.TextField()
    target_type = peewee.TextField(default="")
    target_id = peewee.TextField(default="")
    details = BinaryJSONField(default=dict)
    client_ip = peewee.TextField(default="")
    source = peewee.TextField()
    event_id = peewee.UUIDField(null=True)
    occurred_at = DateTimeTZField()

    class Meta:
        table_name = "audit_log"


class AccountTokenRecord(_Model):
    """Global (users are): one row per e-mail verification or password reset token given out."""

    id = peewee.UUIDField(primary_key=True)
    user_id = peewee.UUIDField()
    purpose = peewee.TextField()
    created_at = DateTimeTZField()
    expires_at = DateTimeTZField()
    used_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "account_tokens"


MODELS = (TenantRecord, UserRecord, MembershipRecord, RefreshTokenRecord, SigningKeyRecord, InviteRecord,
          AssignmentRecord, AuditRecord, AccountTokenRecord)


def bind(database: peewee.Database) -> None:
    """Point the models at the service's database (called once by the factory)."""
    database_proxy.initialize(database)


class EmailTaken(Exception):
    """The unique email constraint refused a new user (a concurrent registration won)."""


def _user(row: UserRecord) -> User:
    return User(id=str(row.id), email=row.email, password_hash=row.password_hash,
                display_name=row.display_name, home_tenant_id=str(row.home_tenant_id),
                created_at=row.created_at, email_verified_at=row.email_verified_at)


def _tenant(row: TenantRecord) -> Tenant:
    return Tenant(id=str(row.id), name=row.name, kind=row.kind, plan_tier=row.plan_tier,
                  created_at=row.created_at, seats=row.seats)


def _refresh_token(row: RefreshTokenRecord) -> RefreshToken:
    return RefreshToken(id=str(row.id), family_id=str(row.family_id), user_id=str(row.user_id),
                        tenant_id=str(row.tenant_id), issued_at=row.issued_at, expires_at=row.expires_at,
                        used_at=row.used_at, revoked_at=row.revoked_at)


def _violated_constraint(exc: peewee.IntegrityError) -> Optional[str]:
    original = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__  # the psycopg2 error
    diag = getattr(original, "diag", None)
    return getattr(diag, "constraint_name", None)


class AuthRepository:
    """The auth tables of one unit of work (``uow.accounts``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    # --- tenants and users ---------------------------------------------------------------------

    def add_tenant(self, tenant: Tenant) -> None:
        TenantRecord.insert({TenantRecord.id: tenant.id, TenantRecord.name: tenant.name,
                             TenantRecord.kind: tenant.kind, TenantRecord.plan_tier: tenant.plan_tier,
                             TenantRecord.created_at: tenant.created_at}).execute(self.db)

    def tenant(self, tenant_id: str) -> Optional[Tenant]:
        row = TenantRecord.select().where(TenantRecord.id == tenant_id).first(self.db)
        return _tenant(row) if row is not None else None

    def add_user(self, user: User) -> None:
        """Insert a user; :class:`EmailTaken` when the email's unique constraint refuses it.

        The failed statement aborts the surrounding transaction: the caller
        must let it roll back.
        """
        try:
            UserRecord.insert({UserRecord.id: user.id, UserRecord.email: user.email,
                               UserRecord.password_hash: user.password_hash,
                               UserRecord.display_name: user.display_name,
                               UserRecord.home_tenant_id: user.home_tenant_id,
                               UserRecord.created_at: user.created_at,
                               UserRecord.email_verified_at: user.email_verified_at}).execute(self.db)
        except peewee.IntegrityError as exc:
            if _violated_constraint(exc) == EMAIL_UNIQUE_CONSTRAINT:
                raise EmailTaken(user.email) from None
            raise

    def user_by_email(self, email: str) -> Optional[User]:
        row = UserRecord.select().where(UserRecord.email == email).first(self.db)
        return _user(row) if row is not None else None

    def user_by_id(self, user_id: str) -> Optional[User]:
        row = UserRecord.select().where(UserRecord.id == user_id).first(self.db)
        return _user(row) if row is not None else None

    def set_home_tenant(self, user_id: str, tenant_id: str) -> None:
        UserRecord.update({UserRecord.home_tenant_id: tenant_id}).where(UserRecord.id == user_id).execute(self.db)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        (UserRecord.update({UserRecord.password_hash: password_hash})
         .where(UserRecord.id == user_id).execute(self.db))

    def set_email_verified(self, user_id: str, now: datetime) -> None:
        (UserRecord.update({UserRecord.email_verified_at: now})
         .where((UserRecord.id == user_id) & UserRecord.email_verified_at.is_null()).execute(self.db))

    def revoke_user_tokens(self, user_id: str, now: datetime) -> int:
        """Revoke every refresh token of the user, in every tenant; returns the count."""
        return (RefreshTokenRecord.update({RefreshTokenRecord.revoked_at: now})
                .where((RefreshTokenRecord.user_id == user_id) & RefreshTokenRecord.revoked_at.is_null())
                .execute(self.db))

    # --- account tokens (e-mail verification, password reset) ----------------------------------

    def add_account_token(self, token: AccountToken, now: datetime) -> None:
        """Record a new token, withdrawing the user's unused ones of the same purpose (the newest link wins)."""
        (AccountTokenRecord.update({AccountTokenRecord.used_at: now})
         .where((AccountTokenRecord.user_id == token.user_id) & (AccountTokenRecord.purpose == token.purpose)
                & AccountTokenRecord.used_at.is_null()).execute(self.db))
        AccountTokenRecord.insert({AccountTokenRecord.id: token.id, AccountTokenRecord.user_id: token.user_id,
                                   AccountTokenRecord.purpose: token.purpose, AccountTokenRecord.created_at: now,
                                   AccountTokenRecord.expires_at: token.expires_at}).execute(self.db)

    def account_token_for_update(self, token_id: str) -> Optional[AccountToken]:
        row = AccountTokenRecord.select().where(AccountTokenRecord.id == token_id).for_update().first(self.db)
        return (AccountToken(id=str(row.id), user_id=str(row.user_id), purpose=row.purpose,
                             expires_at=row.expires_at, used_at=row.used_at) if row is not None else None)

    def use_account_token(self, token_id: str, now: datetime) -> None:
        AccountTokenRecord.update({AccountTokenRecord.used_at: now}).where(
            AccountTokenRecord.id == token_id).execute(self.db)

    # --- memberships (tenant-scoped) -----------------------------------------------------------

    def add_membership(self, tenant_id: str, user_id: str, org_role: str, now: datetime) -> None:
        MembershipRecord.insert({MembershipRecord.tenant_id: tenant_id, MembershipRecord.user_id: user_id,
                                 MembershipRecord.org_role: org_role,
                                 MembershipRecord.created_at: now}).execute(self.db)

    def role_in(self, tenant_id: str, user_id: str) -> Optional[str]:
        """The user's role in the tenant, or None when not a member."""
        row = (MembershipRecord.select(MembershipRecord.org_role)
               .where((MembershipRecord.tenant_id == tenant_id) & (MembershipRecord.user_id == user_id))
               .first(self.db))
        return row.org_role if row is not None else None

    # --- refresh tokens ------------------------------------------------------------------------

    def add_refresh_token(self, token: RefreshToken, token_hash: str) -> None:
        RefreshTokenRecord.insert({
            RefreshTokenRecord.id: token.id, RefreshTokenRecord.token_hash: token_hash,
            RefreshTokenRecord.family_id: token.family_id, RefreshTokenRecord.user_id: token.user_id,
            RefreshTokenRecord.tenant_id: token.tenant_id, RefreshTokenRecord.issued_at: token.issued_at,
            RefreshTokenRecord.expires_at: token.expires_at}).execute(self.db)

    def refresh_token_for_update(self, token_hash: str) -> Optional[RefreshToken]:
        """The token with this hash, its row locked until the transaction ends (serialises rotation)."""
        row = (RefreshTokenRecord.select().where(RefreshTokenRecord.token_hash == token_hash)
               .for_update().first(self.db))
        return _refresh_token(row) if row is not None else None

    def mark_used(self, token_id: str, now: datetime) -> None:
        (RefreshTokenRecord.update({RefreshTokenRecord.used_at: now})
         .where(RefreshTokenRecord.id == token_id).execute(self.db))

    def revoke_family(self, family_id: str, now: datetime, user_id: Optional[str] = None) -> int:
        """Revoke every not-yet-revoked token of a family (of ``user_id``, when given); returns the count."""
        condition = (RefreshTokenRecord.family_id == family_id) & RefreshTokenRecord.revoked_at.is_null()
        if user_id is not None:
            condition &= RefreshTokenRecord.user_id == user_id
        return (RefreshTokenRecord.update({RefreshTokenRecord.revoked_at: now})
                .where(condition).execute(self.db))

    def refresh_token(self, token_hash: str) -> Optional[RefreshToken]:
        """The token with this hash (no lock), or None."""
        row = RefreshTokenRecord.select().where(RefreshTokenRecord.token_hash == token_hash).first(self.db)
        return _refresh_token(row) if row is not None else None

    # --- signing keys --------------------------------------------------------------------------

    def lock_signing_keys(self) -> None:
        """Serialise signing-key creation until the transaction ends (advisory lock)."""
        self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SIGNING_KEY_LOCK,))

    def active_signing_keys(self) -> list[SigningKey]:
        """Non-retired keys, newest first (the first one signs)."""
        rows = (SigningKeyRecord.select().where(SigningKeyRecord.retired_at.is_null())
                .order_by(SigningKeyRecord.created_at.desc(), SigningKeyRecord.kid).execute(self.db))
        return [SigningKey(kid=r.kid, private_pem=r.private_pem, public_jwk=dict(r.public_jwk)) for r in rows]

    def add_signing_key(self, key: SigningKey, now: datetime) -> None:
        SigningKeyRecord.insert({SigningKeyRecord.kid: key.kid, SigningKeyRecord.private_pem: key.private_pem,
                                 SigningKeyRecord.public_jwk: key.public_jwk,
                                 SigningKeyRecord.created_at: now}).execute(self.db)


def _invite(row: InviteRecord) -> Invite:
    return Invite(id=str(row.id), tenant_id=str(row.tenant_id), email=row.email, org_role=row.org_role,
                  invited_by=str(row.invited_by), created_at=row.created_at, expires_at=row.expires_at,
                  accepted_at=row.accepted_at, revoked_at=row.revoked_at)


def _assignment(row: AssignmentRecord) -> dict:
    return {"assignment_id": str(row.id), "tenant_id": str(row.tenant_id), "user_id": str(row.user_id),
            "course_id": row.course_id, "target_role": row.target_role, "assigned_by": str(row.assigned_by),
            "due_at": row.due_at.isoformat() if row.due_at else "", "created_at": row.created_at.isoformat()}


def _audit(row: AuditRecord) -> dict:
    return {"id": row.id, "tenant_id": str(row.tenant_id),
            "actor_user_id": str(row.actor_user_id) if row.actor_user_id else "", "action": row.action,
            "target_type": row.target_type, "target_id": row.target_id, "details": dict(row.details or {}),
            "client_ip": row.client_ip, "source": row.source,
            "event_id": str(row.event_id) if row.event_id else "", "occurred_at": row.occurred_at.isoformat()}


class OrgRepository(AuthRepository):
    """Organisation tables of one unit of work; every query names its tenant (RLS is the second lock)."""

    # --- tenant plan and seats -----------------------------------------------------------------

    def lock_tenant(self, tenant_id: str) -> Optional[Tenant]:
        """The tenant, its row locked until commit: serialises seat-counting writes of one tenant."""
        row = TenantRecord.select().where(TenantRecord.id == tenant_id).for_update().first(self.db)
        return _tenant(row) if row is not None else None

    def set_plan(self, tenant_id: str, plan_tier: str, seats: int, at: datetime) -> bool:
        """Set plan and seats unless a newer entitlement was applied already; True when applied."""
        return bool(TenantRecord.update({TenantRecord.plan_tier: plan_tier, TenantRecord.seats: seats,
                                         TenantRecord.plan_changed_at: at})
                    .where((TenantRecord.id == tenant_id)
                           & (TenantRecord.plan_changed_at.is_null() | (TenantRecord.plan_changed_at <= at)))
                    .execute(self.db))

    # --- members -------------------------------------------------------------------------------

    def count_members(self, tenant_id: str) -> int:
        return MembershipRecord.select().where(MembershipRecord.tenant_id == tenant_id).count(self.db)

    def members(self, tenant_id: str) -> list[dict]:
        rows = (MembershipRecord.select(MembershipRecord.user_id, MembershipRecord.org_role,
                                        MembershipRecord.created_at, UserRecord.email,
                                        UserRecord.display_name)
                .join(UserRecord, on=(UserRecord.id == MembershipRecord.user_id))
                .where(MembershipRecord.tenant_id == tenant_id)
                .order_by(MembershipRecord.created_at, MembershipRecord.user_id).dicts().execute(self.db))
        return [{"user_id": str(r["user_id"]), "email": r["email"], "display_name": r["display_name"],
                 "org_role": r["org_role"], "joined_at": r["created_at"].isoformat()} for r in rows]

    def set_role(self, tenant_id: str, user_id: str, org_role: str) -> None:
        (MembershipRecord.update({MembershipRecord.org_role: org_role})
         .where((MembershipRecord.tenant_id == tenant_id) & (MembershipRecord.user_id == user_id))
         .execute(self.db))

    def remove_membership(self, tenant_id: str, user_id: str) -> int:
        return (MembershipRecord.delete()
                .where((MembershipRecord.tenant_id == tenant_id) & (MembershipRecord.user_id == user_id))
                .execute(self.db))

    def revoke_user_tokens(self, user_id: str, now: datetime) -> int:
        """Revoke every refresh token of the user, in every tenant (refresh tokens are not under RLS)."""
        return (RefreshTokenRecord.update({RefreshTokenRecord.revoked_at: now})
                .where((RefreshTokenRecord.user_id == user_id) & RefreshTokenRecord.revoked_at.is_null())
                .execute(self.db))

    def revoke_user_tokens_in(self, tenant_id: str, user_id: str, now: datetime) -> int:
        """Revoke the user's refresh tokens for this tenant (a removed member cannot refresh into it)."""
        return (RefreshTokenRecord.update({RefreshTokenRecord.revoked_at: now})
                .where((RefreshTokenRecord.tenant_id == tenant_id) & (RefreshTokenRecord.user_id == user_id)
                       & RefreshTokenRecord.revoked_at.is_null())
                .execute(self.db))

    # --- invites -------------------------------------------------------------------------------

    def _pending(self, tenant_id: str, now: datetime):
        return ((InviteRecord.tenant_id == tenant_id) & InviteRecord.accepted_at.is_null()
                & InviteRecord.revoked_at.is_null() & (InviteRecord.expires_at > now))

    def count_pending_invites(self, tenant_id: str, now: datetime, except_id: Optional[str] = None) -> int:
        condition = self._pending(tenant_id, now)
        if except_id is not None:
            condition &= InviteRecord.id != except_id
        return InviteRecord.select().where(condition).count(self.db)

    def revoke_pending_invites(self, tenant_id: str, email: str, now: datetime) -> int:
        """Withdraw the email's pending invites (a new invite replaces them)."""
        return (InviteRecord.update({InviteRecord.revoked_at: now})
                .where(self._pending(tenant_id, now) & (InviteRecord.email == email)).execute(self.db))

    def add_invite(self, invite: Invite) -> None:
        InviteRecord.insert({
            InviteRecord.id: invite.id, InviteRecord.tenant_id: invite.tenant_id,
            InviteRecord.email: invite.email, InviteRecord.org_role: invite.org_role,
            InviteRecord.invited_by: invite.invited_by, InviteRecord.created_at: invite.created_at,
            InviteRecord.expires_at: invite.expires_at}).execute(self.db)

    def invite(self, tenant_id: str, invite_id: str) -> Optional[Invite]:
        row = (InviteRecord.select()
               .where((InviteRecord.tenant_id == tenant_id) & (InviteRecord.id == invite_id)).first(self.db))
        return _invite(row) if row is not None else None

    def invite_for_update(self, tenant_id: str, invite_id: str) -> Optional[Invite]:
        row = (InviteRecord.select()
               .where((InviteRecord.tenant_id == tenant_id) & (InviteRecord.id == invite_id))
               .for_update().first(self.db))
        return _invite(row) if row is not None else None

    def pending_invites(self, tenant_id: str, now: datetime) -> list[dict]:
        """Pending invites, newest first, with the inviter's current display name."""
        rows = (InviteRecord.select(InviteRecord, UserRecord.display_name.alias("inviter_name"))
                .join(UserRecord, peewee.JOIN.LEFT_OUTER, on=(UserRecord.id == InviteRecord.invited_by))
                .where(self._pending(tenant_id, now))
                .order_by(InviteRecord.created_at.desc(), InviteRecord.id).dicts().execute(self.db))
        return [{"invite_id": str(r["id"]), "email": r["email"], "role": r["org_role"],
                 "invited_by": str(r["invited_by"]), "invited_by_name": r["inviter_name"] or "",
                 "created_at": r["created_at"].isoformat(), "expires_at": r["expires_at"].isoformat(),
                 "status": "pending"} for r in rows]

    def revoke_invite(self, tenant_id: str, invite_id: str, now: datetime) -> None:
        (InviteRecord.update({InviteRecord.revoked_at: now})
         .where((InviteRecord.tenant_id == tenant_id) & (InviteRecord.id == invite_id)).execute(self.db))

    def user_memberships(self, user_id: str) -> list[tuple[str, str, datetime]]:
        """``(tenant_id, role, joined_at)`` of every tenant the user belongs to (a SECURITY DEFINER lookup)."""
        cursor = self.db.execute_sql("SELECT tenant_id, org_role, joined_at FROM auth_user_memberships(%s)",
                                     (user_id,))
        return [(str(t), role, joined) for t, role, joined in cursor.fetchall()]

    def member_names(self, tenant_id: str, user_ids: list[str]) -> dict[str, str]:
        """Display names of those ``user_ids`` that are members of the tenant."""
        if not user_ids:
            return {}
        rows = (UserRecord.select(UserRecord.id, UserRecord.display_name)
                .join(MembershipRecord, on=(MembershipRecord.user_id == UserRecord.id))
                .where((MembershipRecord.tenant_id == tenant_id) & (UserRecord.id.in_(user_ids)))
                .tuples().execute(self.db))
        return {str(uid): name for uid, name in rows}

    def mark_invite_accepted(self, tenant_id: str, invite_id: str, user_id: str, now: datetime) -> None:
        (InviteRecord.update({InviteRecord.accepted_at: now, InviteRecord.accepted_by: user_id})
         .where((InviteRecord.tenant_id == tenant_id) & (InviteRecord.id == invite_id)).execute(self.db))

    # --- assignments ---------------------------------------------------------------------------

    def add_assignment(self, row: dict) -> None:
        AssignmentRecord.insert({
            AssignmentRecord.id: row["assignment_id"], AssignmentRecord.tenant_id: row["tenant_id"],
            AssignmentRecord.user_id: row["user_id"], AssignmentRecord.course_id: row["course_id"],
            AssignmentRecord.target_role: row["target_role"],
            AssignmentRecord.assigned_by: row["assigned_by"],
            AssignmentRecord.due_at: row["due_at"] or None,
            AssignmentRecord.created_at: row["created_at"]}).execute(self.db)

    def assignments(self, tenant_id: str, user_id: str) -> list[dict]:
        rows = (AssignmentRecord.select()
                .where((AssignmentRecord.tenant_id == tenant_id) & (AssignmentRecord.user_id == user_id))
                .order_by(AssignmentRecord.created_at.desc(), AssignmentRecord.id).execute(self.db))
        return [_assignment(r) for r in rows]

    # --- audit log (append-only) ---------------------------------------------------------------

    def audit(self, tenant_id: str, action: str, *, actor_user_id: Optional[str], target_type: str = "",
              target_id: str = "", details: Optional[dict] = None, client_ip: str = "", source: str = "api",
              event_id: Optional[str] = None, at: Optional[datetime] = None) -> None:
        row = {AuditRecord.tenant_id: tenant_id, AuditRecord.actor_user_id: actor_user_id or None,
               AuditRecord.action: action, AuditRecord.target_type: target_type,
               AuditRecord.target_id: str(target_id or ""), AuditRecord.details: details or {},
               AuditRecord.client_ip: (client_ip or "")[:64], AuditRecord.source: source,
               AuditRecord.event_id: event_id}
        if at is not None:
            row[AuditRecord.occurred_at] = at  # else the database's now()
        AuditRecord.insert(row).execute(self.db)

    def audit_entries(self, tenant_id: str, limit: int, before_id: Optional[int] = None) -> list[dict]:
        condition = AuditRecord.tenant_id == tenant_id
        if before_id:
            condition &= AuditRecord.id < before_id
        rows = list(AuditRecord.select().where(condition).order_by(AuditRecord.id.desc()).limit(limit)
                    .execute(self.db))
        # Names are resolved now, from users (audit rows keep ids only): a renamed person shows the new name.
        actors = {str(r.actor_user_id) for r in rows if r.actor_user_id}
        names = {str(uid): name for uid, name in UserRecord.select(UserRecord.id, UserRecord.display_name)
                 .where(UserRecord.id.in_(list(actors))).tuples().execute(self.db)} if actors else {}
        return [{**_audit(r), "actor_name": names.get(str(r.actor_user_id or ""), "")} for r in rows]


class AuthUnitOfWork(UnitOfWork):
    """One auth transaction and its repositories: accounts (identity, tokens), organisations, privacy."""

    repositories = {"accounts": AuthRepository, "orgs": OrgRepository, "privacy": PrivacyRepository}
    accounts: AuthRepository
    orgs: OrgRepository
    privacy: PrivacyRepository
