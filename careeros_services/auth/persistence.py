"""auth's tables as Peewee models, and a repository with domain verbs.

Models are bound to :data:`database_proxy` (initialised by ``service.build``);
the repository runs every query on the unit of work's connection (``tx.db``),
so nothing escapes the transaction or its row-level-security tenant.
Membership queries also name their tenant explicitly.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import peewee
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from careeros_services.auth.domain import SigningKey

database_proxy = peewee.DatabaseProxy()


class _Model(peewee.Model):
    class Meta:
        database = database_proxy


class TenantRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    name = peewee.TextField()
    kind = peewee.TextField()
    plan_tier = peewee.TextField(default="free")
    created_at = DateTimeTZField()

    class Meta:
        table_name = "tenants"


class UserRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    email = peewee.TextField(unique=True)
    password_hash = peewee.TextField()
    display_name = peewee.TextField()
    home_tenant_id = peewee.UUIDField()
    created_at = DateTimeTZField()

    class Meta:
        table_name = "users"


class MembershipRecord(_Model):
    tenant_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
    org_role = peewee.TextField()
    created_at = DateTimeTZField()

    class Meta:
        table_name = "memberships"
        primary_key = peewee.CompositeKey("tenant_id", "user_id")


class RefreshTokenRecord(_Model):
    id = peewee.UUIDField(primary_key=True)
    token_hash = peewee.TextField(unique=True)
    family_id = peewee.UUIDField()
    user_id = peewee.UUIDField()
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


MODELS = (TenantRecord, UserRecord, MembershipRecord, RefreshTokenRecord, SigningKeyRecord)
SIGNING_KEY_LOCK = 727_101  # advisory lock: one process creates the first key


def bind(database: peewee.Database) -> None:
    database_proxy.initialize(database)


class AuthRepository:
    """auth's data within one unit of work (``AuthRepository(tx.db)``)."""

    def __init__(self, db: peewee.Database):
        self.db = db

    # tenants, users, memberships
    def add_tenant(self, tenant_id: str, name: str, kind: str, plan_tier: str, now: datetime) -> None:
        TenantRecord.insert(id=tenant_id, name=name, kind=kind, plan_tier=plan_tier,
                            created_at=now).execute(self.db)

    def add_user(self, user_id: str, email: str, password_hash: str, display_name: str,
                 home_tenant_id: str, now: datetime) -> bool:
        """False when the email is taken (nothing written)."""
        cursor = (UserRecord.insert(id=user_id, email=email, password_hash=password_hash,
                                    display_name=display_name, home_tenant_id=home_tenant_id, created_at=now)
                  .on_conflict_ignore().returning(UserRecord.id).execute(self.db))
        return len(list(cursor)) == 1

    def add_membership(self, tenant_id: str, user_id: str, org_role: str, now: datetime) -> None:
        MembershipRecord.insert(tenant_id=tenant_id, user_id=user_id, org_role=org_role,
                                created_at=now).execute(self.db)

    def user_by_email(self, email: str) -> Optional[UserRecord]:
        return UserRecord.select().where(UserRecord.email == email).first(self.db)

    def user(self, user_id: str) -> Optional[UserRecord]:
        return UserRecord.select().where(UserRecord.id == user_id).first(self.db)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        UserRecord.update(password_hash=password_hash).where(UserRecord.id == user_id).execute(self.db)

    def tenant(self, tenant_id: str) -> Optional[TenantRecord]:
        return TenantRecord.select().where(TenantRecord.id == tenant_id).first(self.db)

    def membership(self, tenant_id: str, user_id: str) -> Optional[MembershipRecord]:
        return (MembershipRecord.select()
                .where((MembershipRecord.tenant_id == tenant_id) & (MembershipRecord.user_id == user_id))
                .first(self.db))

    # refresh tokens
    def add_refresh_token(self, token_hash: str, family_id: str, user_id: str, tenant_id: str,
                          now: datetime, expires_at: datetime) -> None:
        RefreshTokenRecord.insert(id=uuid.uuid4(), token_hash=token_hash, family_id=family_id, user_id=user_id,
                                  tenant_id=tenant_id, issued_at=now, expires_at=expires_at).execute(self.db)

    def refresh_token_for_update(self, token_hash: str) -> Optional[RefreshTokenRecord]:
        """The token's row, locked until commit (two concurrent refreshes serialise)."""
        return (RefreshTokenRecord.select().where(RefreshTokenRecord.token_hash == token_hash)
                .for_update().first(self.db))

    def mark_used(self, token_id, now: datetime) -> None:
        RefreshTokenRecord.update(used_at=now).where(RefreshTokenRecord.id == token_id).execute(self.db)

    def revoke_family(self, family_id, now: datetime) -> int:
        return (RefreshTokenRecord.update(revoked_at=now)
                .where((RefreshTokenRecord.family_id == family_id) & RefreshTokenRecord.revoked_at.is_null())
                .execute(self.db))

    # signing keys
    def active_signing_key(self, lock: bool = False) -> Optional[SigningKey]:
        if lock:
            self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SIGNING_KEY_LOCK,))
        row = (SigningKeyRecord.select().where(SigningKeyRecord.retired_at.is_null())
               .order_by(SigningKeyRecord.created_at.desc()).first(self.db))
        return SigningKey(row.kid, row.private_pem, dict(row.public_jwk)) if row else None

    def add_signing_key(self, key: SigningKey, now: datetime) -> None:
        SigningKeyRecord.insert(kid=key.kid, private_pem=key.private_pem, public_jwk=key.public_jwk,
                                created_at=now).execute(self.db)

    def public_jwks(self) -> list[dict]:
        rows = SigningKeyRecord.select(SigningKeyRecord.public_jwk).where(SigningKeyRecord.retired_at.is_null())
        return [dict(row.public_jwk) for row in rows.execute(self.db)]
