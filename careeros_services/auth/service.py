"""The auth service layer: what the nameko and gRPC entrypoints both call.

Each operation is one unit of work (``store.transaction(...)``); a
registration's tenant, user, membership and both events commit together.
Password hashing and verification (argon2id: tens of milliseconds of CPU and
64 MiB) happen outside transactions, so no pooled connection waits on them.

Redis holds two kinds of keys:

* ``careeros:revoked:jti:<jti>`` — a revoked access token, until it expires.
  The prefix is fixed: the gateway's verifier checks exactly these keys.
* ``<redis_prefix>login-failures:email:<sha256 of the email>`` and
  ``…:ip:<address>`` — failed-login counters, each living for
  ``login_window_s`` from its first failure (no email in key names).

Signing keys live in the ``signing_keys`` table; the first use creates one
(an advisory lock makes concurrent first uses agree on a single key). In
production the key is supplied from a Kubernetes Secret and inserted into
that table by the deployment instead; rotation = insert a new key (it signs
from then on, and both are published in the JWKS), then set ``retired_at`` on
the old one once ``access_ttl_s + KEY_CACHE_S`` has passed (each process
re-reads its signing key every ``KEY_CACHE_S`` seconds), so every token the
old key signed has expired before it leaves the key set.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Optional

import redis

from bus.store import ServiceStore
from careeros_services.auth import domain, persistence
from careeros_services.auth.persistence import AuthRepository, EmailTaken
from careeros_services.common.errors import (Conflict, DomainError, NotFound, RateLimited, Unauthenticated,
                                             Unavailable, ValidationFailed, require_uuids)

log = logging.getLogger(__name__)

SERVICE = "auth"
TENANT_CREATED = "careeros.auth.tenant.created.v1"
USER_REGISTERED = "careeros.auth.user.registered.v1"
REVOKED_JTI_PREFIX = "careeros:revoked:jti:"
DEFAULT_REDIS_PREFIX = "careeros.auth."
# An address may fail for several users (an office behind NAT, the gateway in
# tests) before it is throttled; ``login_max_failures_per_ip`` overrides.
IP_FAILURE_FACTOR = 4
KEY_CACHE_S = 60.0
MAX_JTI = 128


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _invalid_credentials() -> Unauthenticated:
    # One answer for an unknown email and a wrong password.
    return Unauthenticated("Email or password is wrong.", code="invalid_credentials")


def _invalid_refresh() -> Unauthenticated:
    return Unauthenticated("The refresh token is not valid.", code="invalid_refresh_token")


class AuthService:
    """Accounts, tenants, memberships and tokens.

    ``settings`` is the ``auth`` section of the configuration: ``issuer``,
    ``audience``, ``access_ttl_s``, ``refresh_ttl_s``, ``login_max_failures``,
    ``login_window_s`` and optionally ``redis_prefix`` and
    ``login_max_failures_per_ip``.
    """

    def __init__(self, store: ServiceStore, settings: dict, redis_client: redis.Redis):
        self.store = store
        self.redis = redis_client
        self.issuer = str(settings["issuer"])
        self.audience = str(settings["audience"])
        self.access_ttl_s = int(settings["access_ttl_s"])
        self.refresh_ttl_s = int(settings["refresh_ttl_s"])
        self.max_failures = int(settings["login_max_failures"])
        self.max_failures_per_ip = int(settings.get("login_max_failures_per_ip")
                                       or self.max_failures * IP_FAILURE_FACTOR)
        self.failure_window_s = int(settings["login_window_s"])
        self.throttle_prefix = f"{settings.get('redis_prefix') or DEFAULT_REDIS_PREFIX}login-failures:"
        self._key: Optional[tuple[str, Any]] = None  # (kid, private key object) that signs now
        self._key_loaded_at = float("-inf")
        self._keys_lock = threading.Lock()

    # --- accounts ------------------------------------------------------------------------------

    def register(self, email: str, password: str, display_name: str,
                 organization_name: Optional[str] = None) -> dict:
        """Create a user, a tenant it owns and the owner membership; returns ``user_id`` and ``tenant_id``.

        With ``organization_name`` the tenant is an organisation of that name,
        otherwise a personal tenant named after the user; either starts on the
        ``free`` plan. Publishes ``tenant.created`` and ``user.registered`` in
        the same commit. ``Conflict(code="email_taken")`` when the email is
        registered already (also when a concurrent registration wins the race);
        ``ValidationFailed`` naming every bad field.
        """
        reg = domain.validate_registration(email, password, display_name, organization_name)
        password_hash = domain.hash_password(reg.password)
        user_id, tenant_id, now = str(uuid.uuid4()), str(uuid.uuid4()), _now()
        tenant = domain.Tenant(tenant_id, reg.tenant_name, reg.tenant_kind, domain.DEFAULT_PLAN_TIER, now)
        user = domain.User(user_id, reg.email, password_hash, reg.display_name, tenant_id, now)
        try:
            with self.store.transaction(tenant_id) as tx:
                repo = AuthRepository(tx.db)
                repo.add_tenant(tenant)
                repo.add_user(user)
                repo.add_membership(tenant_id, user_id, domain.OWNER, now)
                tx.publish(TENANT_CREATED, aggregate_id=tenant_id, payload={
                    "tenant_id": tenant_id, "name": tenant.name, "kind": tenant.kind,
                    "plan_tier": tenant.plan_tier, "owner_user_id": user_id})
                tx.publish(USER_REGISTERED, aggregate_id=user_id, payload={
                    "user_id": user_id, "tenant_id": tenant_id, "tenant_kind": tenant.kind,
                    "org_role": domain.OWNER, "plan_tier": tenant.plan_tier,
                    "display_name": user.display_name, "registered_at": now.isoformat()})
        except EmailTaken:  # the transaction has rolled back: no tenant, no events
            raise Conflict("An account with this email exists.", code="email_taken",
                           fields={"email": ["is already registered"]}) from None
        return {"user_id": user_id, "tenant_id": tenant_id}

    def login(self, email: str, password: str, client_ip: str = "") -> dict:
        """A token pair for the user's home tenant.

        ``Unauthenticated(code="invalid_credentials")`` for an unknown email
        or a wrong password alike (an unknown email costs a dummy hash check,
        so timing does not tell them apart). After ``login_max_failures``
        failures for an email (or more for one client address) within
        ``login_window_s``, ``RateLimited(code="login_throttled")`` until the
        window ends, even with the right password; a success clears the
        email's counter. A hash made with older parameters is replaced.
        """
        email = email.strip().lower() if isinstance(email, str) else ""
        counters = self._failure_counters(email, client_ip)
        self._refuse_if_throttled(counters)
        user = None
        if 0 < len(email) <= domain.MAX_EMAIL:
            with self.store.transaction() as tx:
                user = AuthRepository(tx.db).user_by_email(email)
        if user is None:
            domain.verify_dummy_password(password)
        if user is None or not domain.verify_password(user.password_hash, password):
            self._count_failure(counters)
            raise _invalid_credentials()
        new_hash = (domain.hash_password(password) if domain.password_needs_rehash(user.password_hash)
                    else None)
        key = self._signing_key()
        with self.store.transaction(user.home_tenant_id) as tx:
            repo = AuthRepository(tx.db)
            if new_hash is not None:
                repo.set_password_hash(user.id, new_hash)
            tokens = self._issue(repo, key, user.id, user.home_tenant_id, None, _invalid_credentials)
        with self._redis_guard("login throttling"):
            self.redis.delete(counters[0][0])
        return tokens

    def refresh(self, refresh_token: str) -> dict:
        """Exchange a refresh token for a new pair (rotation within the token's family).

        The presented token is marked used; the new access token carries the
        tenant's current plan tier and the user's current role. Presenting a
        used token again revokes every token of its family (committed) and
        raises ``Unauthenticated(code="refresh_token_reused")``; an unknown,
        expired or revoked token raises ``code="invalid_refresh_token"``.
        """
        if not domain.plausible_refresh_token(refresh_token):
            raise _invalid_refresh()
        key = self._signing_key()
        reused: Optional[domain.RefreshToken] = None
        with self.store.transaction() as tx:
            repo = AuthRepository(tx.db)
            token = repo.refresh_token_for_update(domain.refresh_token_hash(refresh_token))
            now = _now()
            state = token.state(now) if token is not None else "unknown"
            if state == "reused":
                repo.revoke_family(token.family_id, now)  # commits: the thief's tokens die too
                reused = token
            elif state != "active":
                raise _invalid_refresh()
            else:
                repo.mark_used(token.id, now)
                tx.scope_to(token.tenant_id)
                tokens = self._issue(repo, key, token.user_id, token.tenant_id, token.family_id,
                                     _invalid_refresh)
        if reused is not None:
            log.warning("refresh token reused; family revoked",
                        extra={"user_id": reused.user_id, "family_id": reused.family_id})
            raise Unauthenticated("This refresh token was already used; its session is revoked.",
                                  code="refresh_token_reused")
        return tokens

    def logout(self, jti: str, exp: int, refresh_token: Optional[str] = None,
               user_id: Optional[str] = None) -> None:
        """Revoke an access token until its expiry and, when given, the refresh token's whole family.

        The access token is revoked by ``SET careeros:revoked:jti:<jti> 1 EX
        <seconds until exp>`` (nothing to do once it has expired). With
        ``user_id`` (the verified caller) only that user's refresh token is
        revoked; an unknown token is ignored, so logging out twice is fine.
        """
        if jti:
            if not isinstance(jti, str) or len(jti) > MAX_JTI:
                raise ValidationFailed("The token id is not valid.", fields={"jti": ["is not a token id"]})
            try:
                ttl = int(exp) - int(time.time())
            except (TypeError, ValueError):
                raise ValidationFailed("The expiry is not valid.",
                                       fields={"exp": ["must be unix seconds"]}) from None
            if ttl > 0:
                with self._redis_guard("token revocation"):
                    self.redis.set(REVOKED_JTI_PREFIX + jti, "1", ex=ttl)
        if refresh_token and domain.plausible_refresh_token(refresh_token):
            with self.store.transaction() as tx:
                repo = AuthRepository(tx.db)
                token = repo.refresh_token(domain.refresh_token_hash(refresh_token))
                if token is not None and (user_id is None or token.user_id == str(user_id)):
                    repo.revoke_family(token.family_id, _now())

    def jwks(self) -> dict:
        """The RFC 7517 key set of every non-retired signing key (one is made on first use).

        Read from the table each time (not the signing cache), so a key another
        process just added is published at once; verifiers cache the set.
        """
        self._signing_key()
        with self.store.transaction() as tx:
            keys = AuthRepository(tx.db).active_signing_keys()
        return domain.jwk_set(k.public_jwk for k in keys)

    def get_me(self, user_id: str, tenant_id: str) -> dict:
        """The user as a member of the tenant: ``NotFound(code="user_not_found")`` when not a member."""
        user_id, tenant_id = require_uuids(user_id=user_id, tenant_id=tenant_id)
        with self.store.transaction(tenant_id) as tx:
            repo = AuthRepository(tx.db)
            role = repo.role_in(tenant_id, user_id)
            user = repo.user_by_id(user_id) if role is not None else None
            tenant = repo.tenant(tenant_id) if user is not None else None
        if tenant is None:
            raise NotFound("No such user in this tenant.", code="user_not_found")
        return {"user_id": user.id, "email": user.email, "display_name": user.display_name,
                "tenant_id": tenant.id, "tenant_name": tenant.name, "tenant_kind": tenant.kind,
                "org_role": role, "plan_tier": tenant.plan_tier, "created_at": user.created_at.isoformat()}

    def find_user_by_email(self, email: str) -> dict:
        """Ops lookup (``nameko shell``): id, email, display name, home tenant, created at — no hash."""
        email = email.strip().lower() if isinstance(email, str) else ""
        with self.store.transaction() as tx:
            user = AuthRepository(tx.db).user_by_email(email) if email else None
        if user is None:
            raise NotFound("No user with this email.", code="user_not_found")
        return user.public()

    # --- tokens --------------------------------------------------------------------------------

    def _issue(self, repo: AuthRepository, key: tuple[str, Any], user_id: str, tenant_id: str,
               family_id: Optional[str], refuse: Callable[[], DomainError]) -> dict:
        """A new token pair (inside a transaction scoped to ``tenant_id``); ``refuse()`` when not a member."""
        role, tenant = repo.role_in(tenant_id, user_id), repo.tenant(tenant_id)
        if role is None or tenant is None:
            raise refuse()
        now = _now()
        claims = domain.access_claims(user_id=user_id, tenant_id=tenant_id, org_role=role,
                                      plan_tier=tenant.plan_tier, issuer=self.issuer, audience=self.audience,
                                      ttl_s=self.access_ttl_s, now=int(now.timestamp()))
        refresh_token = domain.new_refresh_token()
        repo.add_refresh_token(domain.RefreshToken(
            id=str(uuid.uuid4()), family_id=family_id or str(uuid.uuid4()), user_id=user_id,
            tenant_id=tenant_id, issued_at=now, expires_at=now + timedelta(seconds=self.refresh_ttl_s)),
            domain.refresh_token_hash(refresh_token))
        kid, private_key = key
        return {"access_token": domain.sign_access_token(claims, private_key, kid),
                "refresh_token": refresh_token, "token_type": "Bearer", "expires_in": self.access_ttl_s}

    def _signing_key(self) -> tuple[str, Any]:
        """``(kid, private key)`` of the key that signs now (the newest non-retired), cached ``KEY_CACHE_S``.

        Runs in its own transaction, never inside an operation's: a key made
        here is committed before any token it signs leaves the service.
        """
        with self._keys_lock:
            if self._key is not None and time.monotonic() - self._key_loaded_at < KEY_CACHE_S:
                return self._key
            with self.store.transaction() as tx:
                repo = AuthRepository(tx.db)
                keys = repo.active_signing_keys()
                if not keys:
                    repo.lock_signing_keys()  # held until commit: one first key for everyone
                    keys = repo.active_signing_keys()
                    if not keys:
                        keys = [domain.generate_signing_key()]
                        repo.add_signing_key(keys[0], _now())
                        log.info("created signing key", extra={"kid": keys[0].kid})
            newest = keys[0]
            if self._key is None or self._key[0] != newest.kid:
                self._key = (newest.kid, newest.private_key())  # parse the PEM once per key
            self._key_loaded_at = time.monotonic()
            return self._key

    # --- login throttling ----------------------------------------------------------------------

    def _failure_counters(self, email: str, client_ip: str) -> list[tuple[str, int]]:
        """``(redis key, limit)`` per counter: the email's first, then the client address's if known."""
        digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]
        counters = [(f"{self.throttle_prefix}email:{digest}", self.max_failures)]
        if client_ip:
            counters.append((f"{self.throttle_prefix}ip:{client_ip[:64]}", self.max_failures_per_ip))
        return counters

    def _refuse_if_throttled(self, counters: list[tuple[str, int]]) -> None:
        with self._redis_guard("login throttling"):
            values = self.redis.mget([key for key, _ in counters])
            for (key, limit), value in zip(counters, values):
                if value is not None and int(value) >= limit:
                    retry_after = max(1, int(self.redis.ttl(key)))
                    raise RateLimited("Too many failed logins; try again later.", code="login_throttled",
                                      retry_after=retry_after)

    def _count_failure(self, counters: list[tuple[str, int]]) -> None:
        with self._redis_guard("login throttling"):
            pipe = self.redis.pipeline()  # MULTI/EXEC: count and window start together
            for key, _ in counters:
                pipe.incr(key)
                pipe.expire(key, self.failure_window_s, nx=True)
            pipe.execute()

    @contextmanager
    def _redis_guard(self, what: str) -> Iterator[None]:
        """Redis trouble becomes ``Unavailable`` (fail closed) instead of an unexplained error."""
        try:
            yield
        except redis.RedisError as exc:
            log.error("redis unavailable for %s: %s", what, exc)
            raise Unavailable(f"{what.capitalize()} is unavailable.", code="redis_unavailable",
                              retry_after=1) from None


def build(config: dict) -> AuthService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    client = redis.Redis.from_url(config["redis_url"], socket_connect_timeout=2, socket_timeout=2)
    return AuthService(store, config["auth"], client)
