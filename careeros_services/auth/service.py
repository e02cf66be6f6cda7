"""The auth service layer: what the nameko and gRPC entrypoints both call.

Each operation is one unit of work; a registration's tenant, user,
membership and events commit together. Password hashing (argon2id, tens of
milliseconds of CPU) happens before the transaction opens, never inside it.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Optional

import redis

from bus.store import ServiceStore, Transaction
from careeros_services.auth import domain, persistence
from careeros_services.auth.persistence import AuthRepository
from careeros_services.common.errors import Conflict, NotFound, RateLimited, Unauthenticated

TENANT_CREATED = "careeros.auth.tenant.created.v1"
USER_REGISTERED = "careeros.auth.user.registered.v1"
REVOKED_JTI_PREFIX = "careeros:revoked:jti:"
IP_FAILURE_FACTOR = 4  # an address may fail for a few users (NAT) before it is throttled


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _invalid_credentials() -> Unauthenticated:
    # The same answer for an unknown email and a wrong password.
    return Unauthenticated("Email or password is wrong.", code="invalid_credentials")


def _invalid_refresh() -> Unauthenticated:
    return Unauthenticated("The refresh token is not valid.", code="invalid_refresh_token")


class AuthService:
    """Accounts, tenants, memberships and tokens."""

    def __init__(self, store: ServiceStore, settings: dict, redis_client: redis.Redis):
        self.store = store
        self.redis = redis_client
        self.issuer = str(settings["issuer"])
        self.audience = str(settings["audience"])
        self.access_ttl_s = int(settings["access_ttl_s"])
        self.refresh_ttl_s = int(settings["refresh_ttl_s"])
        self.max_failures = int(settings["login_max_failures"])
        self.failure_window_s = int(settings["login_window_s"])
        self.throttle_prefix = f"{settings.get('redis_prefix', 'careeros.auth.')}login-failures:"
        self._signing_key: Optional[domain.SigningKey] = None

    # -- accounts ----------------------------------------------------------------------------
    def register(self, email: str, password: str, display_name: str,
                 organization_name: Optional[str] = None) -> dict:
        """Create a user with a new tenant (an organisation when named, else personal) as its owner."""
        reg = domain.validate_registration(email, password, display_name, organization_name)
        password_hash = domain.hash_password(reg.password)
        user_id, tenant_id, now = str(uuid.uuid4()), str(uuid.uuid4()), _now()
        with self.store.transaction(tenant_id) as tx:
            repo = AuthRepository(tx.db)
            repo.add_tenant(tenant_id, reg.tenant_name, reg.tenant_kind, domain.DEFAULT_PLAN_TIER, now)
            if not repo.add_user(user_id, reg.email, password_hash, reg.display_name, tenant_id, now):
                raise Conflict("An account with this email exists.", code="email_taken",
                               fields={"email": ["is already registered"]})
            repo.add_membership(tenant_id, user_id, domain.OWNER, now)
            tx.publish(TENANT_CREATED, aggregate_id=tenant_id, payload={
                "tenant_id": tenant_id, "name": reg.tenant_name, "kind": reg.tenant_kind,
                "plan_tier": domain.DEFAULT_PLAN_TIER, "owner_user_id": user_id})
            tx.publish(USER_REGISTERED, aggregate_id=user_id, payload={
                "user_id": user_id, "tenant_id": tenant_id, "tenant_kind": reg.tenant_kind,
                "org_role": domain.OWNER, "plan_tier": domain.DEFAULT_PLAN_TIER,
                "display_name": reg.display_name, "registered_at": now.isoformat()})
        return {"user_id": user_id, "tenant_id": tenant_id}

    def login(self, email: str, password: str, client_ip: str = "") -> dict:
        """A token pair for the user's home tenant; repeated failures are throttled."""
        email = email.strip().lower() if isinstance(email, str) else ""
        keys = self._throttle_keys(email, client_ip)
        self._refuse_if_throttled(keys)
        with self.store.transaction() as tx:
            repo = AuthRepository(tx.db)
            user = repo.user_by_email(email)
            if user is None:
                domain.verify_dummy_password(password)  # same time as a real check
                ok = False
            else:
                ok = domain.verify_password(user.password_hash, password)
                if ok and domain.password_needs_rehash(user.password_hash):
                    repo.set_password_hash(str(user.id), domain.hash_password(password))
            if ok:
                tokens = self._issue(tx, str(user.id), str(user.home_tenant_id), family_id=None)
        if not ok:
            self._count_failure(keys)
            raise _invalid_credentials()
        self.redis.delete(keys[0])
        return tokens

    def refresh(self, refresh_token: str) -> dict:
        """Rotate a refresh token; presenting a used one revokes its whole family."""
        if not domain.plausible_refresh_token(refresh_token):
            raise _invalid_refresh()
        reused = False
        with self.store.transaction() as tx:
            repo = AuthRepository(tx.db)
            row = repo.refresh_token_for_update(domain.refresh_token_hash(refresh_token))
            now = _now()
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise _invalid_refresh()
            if row.used_at is not None:
                repo.revoke_family(row.family_id, now)  # committed: the thief's tokens die too
                reused = True
            else:
                repo.mark_used(row.id, now)
                tokens = self._issue(tx, str(row.user_id), str(row.tenant_id), family_id=str(row.family_id))
        if reused:
            raise Unauthenticated("This refresh token was already used; its session is revoked.",
                                  code="refresh_token_reused")
        return tokens

    def logout(self, jti: str, exp: int, refresh_token: Optional[str] = None) -> None:
        """Revoke an access token until it expires, and the refresh token's family."""
        ttl = int(exp) - int(time.time())
        if jti and ttl > 0:
            self.redis.set(REVOKED_JTI_PREFIX + jti, "1", ex=ttl)
        if refresh_token and domain.plausible_refresh_token(refresh_token):
            with self.store.transaction() as tx:
                repo = AuthRepository(tx.db)
                row = repo.refresh_token_for_update(domain.refresh_token_hash(refresh_token))
                if row is not None:
                    repo.revoke_family(row.family_id, _now())

    def jwks(self) -> dict:
        """The public keys that verify access tokens (RFC 7517)."""
        with self.store.transaction() as tx:
            self._key(tx)
            return domain.jwk_set(AuthRepository(tx.db).public_jwks())

    def get_me(self, user_id: str, tenant_id: str) -> dict:
        """The caller's user, tenant and membership."""
        with self.store.transaction(tenant_id) as tx:
            repo = AuthRepository(tx.db)
            user, tenant = repo.user(user_id), repo.tenant(tenant_id)
            membership = repo.membership(tenant_id, user_id)
            if user is None or tenant is None or membership is None:
                raise NotFound("No such user in this tenant.", code="user_not_found")
            return {"user_id": str(user.id), "email": user.email, "display_name": user.display_name,
                    "tenant_id": str(tenant.id), "tenant_name": tenant.name, "tenant_kind": tenant.kind,
                    "org_role": membership.org_role, "plan_tier": tenant.plan_tier,
                    "created_at": user.created_at.isoformat()}

    def find_user_by_email(self, email: str) -> dict:
        """Ops lookup (nameko shell): the user without secrets."""
        with self.store.transaction() as tx:
            user = AuthRepository(tx.db).user_by_email(str(email).strip().lower())
        if user is None:
            raise NotFound("No user with this email.", code="user_not_found")
        return {"id": str(user.id), "email": user.email, "display_name": user.display_name,
                "home_tenant_id": str(user.home_tenant_id), "created_at": user.created_at.isoformat()}

    # -- tokens --------------------------------------------------------------------------------
    def _issue(self, tx: Transaction, user_id: str, tenant_id: str, family_id: Optional[str]) -> dict:
        tx.scope_to(tenant_id)
        repo = AuthRepository(tx.db)
        membership, tenant = repo.membership(tenant_id, user_id), repo.tenant(tenant_id)
        if membership is None or tenant is None:
            raise _invalid_credentials()
        key = self._key(tx)
        claims = domain.access_claims(user_id=user_id, tenant_id=tenant_id, org_role=membership.org_role,
                                      plan_tier=tenant.plan_tier, issuer=self.issuer, audience=self.audience,
                                      ttl_s=self.access_ttl_s, now=int(time.time()))
        refresh_token, now = domain.new_refresh_token(), _now()
        repo.add_refresh_token(domain.refresh_token_hash(refresh_token), family_id or str(uuid.uuid4()),
                               user_id, tenant_id, now, now + timedelta(seconds=self.refresh_ttl_s))
        return {"access_token": domain.sign_access_token(claims, key.private_key(), key.kid),
                "refresh_token": refresh_token, "token_type": "Bearer", "expires_in": self.access_ttl_s}

    def _key(self, tx: Transaction) -> domain.SigningKey:
        """The active signing key, made on first use (one process makes it: advisory lock).

        Production supplies keys through a Secret-backed row; rotation = add a
        new key, and retire the old one once the access-token lifetime passed.
        """
        if self._signing_key is None:
            repo = AuthRepository(tx.db)
            key = repo.active_signing_key() or repo.active_signing_key(lock=True)
            if key is None:
                key = domain.generate_signing_key()
                repo.add_signing_key(key, _now())
            self._signing_key = key
        return self._signing_key

    # -- throttling ----------------------------------------------------------------------------
    def _throttle_keys(self, email: str, client_ip: str) -> tuple[str, str]:
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no email in Redis keys
        return f"{self.throttle_prefix}email:{digest}", f"{self.throttle_prefix}ip:{client_ip or '-'}"

    def _refuse_if_throttled(self, keys: tuple[str, str]) -> None:
        email_count, ip_count = self.redis.mget(keys)
        limits = (self.max_failures, self.max_failures * IP_FAILURE_FACTOR)
        for key, count, limit in zip(keys, (email_count, ip_count), limits):
            if count is not None and int(count) >= limit:
                retry_after = max(1, int(self.redis.ttl(key)))
                raise RateLimited("Too many failed logins; try again later.", code="login_throttled",
                                  retry_after=retry_after)

    def _count_failure(self, keys: tuple[str, str]) -> None:
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, self.failure_window_s, nx=True)
        pipe.execute()


def build(config: dict) -> AuthService:
    """The service layer wired to its database, outbox and Redis."""
    store = ServiceStore.from_config(config, "auth")
    persistence.bind(store.database)
    return AuthService(store, config["auth"], redis.Redis.from_url(config["redis_url"]))
