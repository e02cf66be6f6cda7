"""The auth service layer: what the nameko and gRPC entrypoints both call.

Each operation is one unit of work (``self.unit_of_work(...)``); a
registration's tenant, user, membership and both events commit together.
Password hashing and verification (argon2id: tens of milliseconds of CPU and
64 MiB) happen outside transactions, so no pooled connection waits on them.

Redis holds two kinds of keys:

* ``careeros:revoked:jti:<jti>`` — a revoked access token, until it expires.
* ``careeros:revoked:user:<user id>`` and ``careeros:revoked:session:<family id>`` —
  "not valid before" (unix seconds): access tokens of that user or refresh family issued
  no later than it are refused. Written when a member is removed or changes role, when
  a refresh family is revoked, and by :meth:`AuthService.revoke_user_access`; kept for
  ``access_ttl_s`` (every older token has expired by then). These prefixes are fixed:
  the gateway's verifier reads exactly these keys, all in one MGET per request.
* ``<redis_prefix>login-failures:pair:<sha256 of email and address>``,
  ``…:email:<sha256 of the email>`` and ``…:ip:<address>`` — failed-login counters,
  each living for ``login_window_s`` from its first failure (no email in key names).

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
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Optional

import redis

from bus.handlers import EventHandlingService
from bus.store import ServiceStore
from careeros_services.auth import domain, persistence
from careeros_services.auth.events import (  # noqa: F401 - the event types, for callers and tests
    BILLING_AUDITED, ENTITLEMENT_CHANGED, INVITE_CREATED, MEMBERSHIP_CHANGED, PASSWORD_RESET_REQUESTED, PLAN_CHANGED,
    TENANT_CREATED, USER_REGISTERED, VERIFICATION_REQUESTED)
from careeros_services.auth.organizations import Organizations, _member_id
from careeros_services.auth.persistence import AuthRepository, AuthUnitOfWork, EmailTaken
from careeros_services.auth.privacy import PrivacySaga
from careeros_services.auth.settings import Settings
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import (Conflict, DomainError, Forbidden, NotFound, RateLimited,
                                             Unauthenticated, Unavailable, ValidationFailed, require_uuids)

log = logging.getLogger(__name__)

SERVICE = "auth"
ACCOUNT_TOKEN_EVENTS = {domain.EMAIL_VERIFICATION: VERIFICATION_REQUESTED, domain.PASSWORD_RESET: PASSWORD_RESET_REQUESTED}
REVOKED_JTI_PREFIX = "careeros:revoked:jti:"
NOT_BEFORE_PREFIX = "careeros:revoked:"
# ``login_max_failures`` counts per (email, address) pair: one attacker cannot lock the
# victim out from elsewhere. Looser ceilings stop a spread-out guess at one account and
# one address trying many accounts, without one office behind NAT locking everyone out;
# ``login_max_failures_per_account`` and ``login_max_failures_per_ip`` override them.
ACCOUNT_FAILURE_FACTOR = 10
IP_FAILURE_FACTOR = 20
KEY_CACHE_S = 60.0
MAX_JTI = 128


def _invalid_refresh() -> Unauthenticated:
    return Unauthenticated("The refresh token is not valid.", code="invalid_refresh_token")


class AuthService(Organizations, PrivacySaga, EventHandlingService):
    """Accounts, tenants, memberships and tokens; organisations (invites, seats, assignments, audit log)
    come from the :class:`Organizations` mixin (organizations.py).

    ``settings`` is the ``auth`` section of the configuration (settings.py, read by ``build()``).
    """

    consumer_name = SERVICE
    unit_of_work_class = AuthUnitOfWork

    def __init__(self, store: ServiceStore, settings: Settings, redis_client: redis.Redis, clock: Clock = system_clock):
        self.store = store
        self.clock = clock
        self.redis = redis_client
        self.issuer, self.audience = settings.issuer, settings.audience
        self.access_ttl_s, self.refresh_ttl_s = settings.access_ttl_s, settings.refresh_ttl_s
        self.max_failures = settings.login_max_failures
        self.max_failures_per_ip = settings.login_max_failures_per_ip or self.max_failures * IP_FAILURE_FACTOR
        self.max_failures_per_account = (settings.login_max_failures_per_account
                                         or self.max_failures * ACCOUNT_FAILURE_FACTOR)
        self.failure_window_s = settings.login_window_s
        self.invite_ttl_s = settings.invite_ttl_s
        self.seats_included = dict(settings.seats_included)
        self.throttle_prefix = f"{settings.redis_prefix}login-failures:"
        self.account_prefix = f"{settings.redis_prefix}account:"
        self.token_ttl_s = {domain.EMAIL_VERIFICATION: settings.email_verification_ttl_s,
                            domain.PASSWORD_RESET: settings.password_reset_ttl_s}
        self.resend_interval_s = settings.verification_resend_interval_s
        self.resets_per_hour = settings.password_resets_per_hour
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
        key = self._signing_key()
        user_id, tenant_id, now = str(uuid.uuid4()), str(uuid.uuid4()), self.clock()
        tenant = domain.Tenant(tenant_id, reg.tenant_name, reg.tenant_kind, domain.DEFAULT_PLAN_TIER, now)
        user = domain.User(user_id, reg.email, password_hash, reg.display_name, tenant_id, now)
        try:
            with self.unit_of_work(tenant_id) as uow:
                repo = uow.accounts
                repo.add_tenant(tenant)
                repo.add_user(user)
                repo.add_membership(tenant_id, user_id, domain.OWNER, now)
                uow.publish(TENANT_CREATED, aggregate_id=tenant_id, payload={
                    "tenant_id": tenant_id, "name": tenant.name, "kind": tenant.kind,
                    "plan_tier": tenant.plan_tier, "owner_user_id": user_id})
                uow.publish(USER_REGISTERED, aggregate_id=user_id, payload={
                    "user_id": user_id, "tenant_id": tenant_id, "tenant_kind": tenant.kind,
                    "org_role": domain.OWNER, "plan_tier": tenant.plan_tier,
                    "display_name": user.display_name, "registered_at": now.isoformat()})
                self._account_token(uow, key, user_id, tenant_id, domain.EMAIL_VERIFICATION, now)
        except EmailTaken:  # the transaction has rolled back: no tenant, no events
            raise Conflict("An account with this email exists.", code="email_taken",
                           fields={"email": ["is already registered"]}) from None
        log.info("account registered; e-mail verification requested", extra={"user_id": user_id,
                                                                            "tenant_id": tenant_id})
        return {"user_id": user_id, "tenant_id": tenant_id}

    def login(self, email: str, password: str, client_ip: str = "") -> dict:
        """A token pair for the user's home tenant.

        ``Unauthenticated(code="invalid_credentials")`` for an unknown email
        or a wrong password alike (an unknown email costs a dummy hash check,
        so timing does not tell them apart). After ``login_max_failures``
        failures for an email from one client address within ``login_window_s``
        (or ten times that for the email from anywhere, twenty times that from
        one address for any email), ``RateLimited(code="login_throttled")`` until
        the window ends, even with the right password; a success clears the
        pair's counter. A hash made with older parameters is replaced.
        """
        email = email.strip().lower() if isinstance(email, str) else ""
        counters = self._failure_counters(email, client_ip)
        self._refuse_if_throttled(counters)
        user = None
        if 0 < len(email) <= domain.MAX_EMAIL:
            with self.unit_of_work() as uow:
                user = uow.accounts.user_by_email(email)
        if user is None:
            domain.verify_dummy_password(password)
        if user is None or not domain.verify_password(user.password_hash, password):
            self._count_failure(counters)
            raise domain.invalid_credentials()
        new_hash = (domain.hash_password(password) if domain.password_needs_rehash(user.password_hash)
                    else None)
        key = self._signing_key()
        with self.unit_of_work(user.home_tenant_id) as uow:
            repo = uow.accounts
            if new_hash is not None:
                repo.set_password_hash(user.id, new_hash)
            tokens = self._issue(repo, key, user.id, user.home_tenant_id, None, domain.invalid_credentials)
        with self._redis_guard("login throttling"):
            self.redis.delete(counters[0][0])  # the pair's; the looser ceilings keep counting
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
        with self.unit_of_work() as uow:
            repo = uow.accounts
            token = repo.refresh_token_for_update(domain.refresh_token_hash(refresh_token))
            now = self.clock()
            state = token.state(now) if token is not None else "unknown"
            if state == "reused":
                repo.revoke_family(token.family_id, now)  # commits: the thief's tokens die too
                reused = token
            elif state != "active":
                raise _invalid_refresh()
            else:
                repo.mark_used(token.id, now)
                uow.scope_to(token.tenant_id)
                tokens = self._issue(repo, key, token.user_id, token.tenant_id, token.family_id,
                                     _invalid_refresh)
        if reused is not None:
            self._refuse_older_tokens(sessions=[reused.family_id])
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
            with self.unit_of_work() as uow:
                repo = uow.accounts
                token = repo.refresh_token(domain.refresh_token_hash(refresh_token))
                if token is not None and (user_id is None or token.user_id == str(user_id)):
                    repo.revoke_family(token.family_id, self.clock())
                    self._refuse_older_tokens(sessions=[token.family_id])

    def jwks(self) -> dict:
        """The RFC 7517 key set of every non-retired signing key (one is made on first use).

        Read from the table each time (not the signing cache), so a key another
        process just added is published at once; verifiers cache the set.
        """
        self._signing_key()
        with self.unit_of_work() as uow:
            keys = uow.accounts.active_signing_keys()
        return domain.jwk_set(k.public_jwk for k in keys)

    def get_me(self, caller: Caller) -> dict:
        """The caller as a member of their tenant: ``NotFound(code="user_not_found")`` when not a member."""
        user_id, tenant_id = caller.user_id, caller.tenant_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.accounts
            role = repo.role_in(tenant_id, user_id)
            user = repo.user_by_id(user_id) if role is not None else None
            tenant = repo.tenant(tenant_id) if user is not None else None
        if tenant is None:
            raise NotFound("No such user in this tenant.", code="user_not_found")
        return {"user_id": user.id, "email": user.email, "display_name": user.display_name,
                "tenant_id": tenant.id, "tenant_name": tenant.name, "tenant_kind": tenant.kind,
                "org_role": role, "plan_tier": tenant.plan_tier, "created_at": user.created_at.isoformat(),
                "email_verified": user.email_verified_at is not None}

    def find_user_by_email(self, email: str) -> dict:
        """Ops lookup (``nameko shell``): id, email, display name, home tenant, created at — no hash."""
        email = email.strip().lower() if isinstance(email, str) else ""
        with self.unit_of_work() as uow:
            user = uow.accounts.user_by_email(email) if email else None
        if user is None:
            raise NotFound("No user with this email.", code="user_not_found")
        return user.public()

    # --- the account lifecycle: e-mail verification and passwords -------------------------------

    def contact(self, tenant_id: str, user_id: str = "", invite_id: str = "") -> dict:
        """Whom notifications writes to (nameko RPC only; events carry no contact data): a user's or an
        invite's address, with the tenant's name and kind (and the inviter's name for an invite)."""
        [tenant_id] = require_uuids(tenant_id=tenant_id)
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            tenant = repo.tenant(tenant_id)
            if invite_id:
                invite = repo.invite(tenant_id, _member_id(invite_id))
                inviter = repo.user_by_id(invite.invited_by) if invite is not None else None
                found = invite is not None and {"email": invite.email, "display_name": "",
                                                "inviter_name": inviter.display_name if inviter else ""}
            else:
                user = repo.user_by_id(_member_id(user_id))
                found = user is not None and {"email": user.email, "display_name": user.display_name,
                                              "inviter_name": ""}
        if not found or tenant is None:
            raise NotFound("Nobody to write to.", code="recipient_not_found")
        return {**found, "tenant_name": tenant.name, "tenant_kind": tenant.kind}

    def _account_token(self, uow: AuthUnitOfWork, key: tuple[str, Any], user_id: str,
                       tenant_id: str, purpose: str, now: datetime) -> None:
        """Record a new single-use token (withdrawing older unused ones) and publish the event that
        makes notifications mail its link."""
        repo = uow.accounts
        ttl_s = self.token_ttl_s[purpose]
        token = domain.AccountToken(str(uuid.uuid4()), user_id, purpose, now + timedelta(seconds=ttl_s))
        repo.add_account_token(token, now)
        claims = domain.account_token_claims(token_id=token.id, user_id=user_id, purpose=purpose,
                                             issuer=self.issuer, ttl_s=ttl_s, now=int(now.timestamp()))
        uow.publish(ACCOUNT_TOKEN_EVENTS[purpose], aggregate_id=user_id, tenant_id=tenant_id, payload={
            "user_id": user_id, "tenant_id": tenant_id, "token": domain.sign_access_token(claims, key[1], key[0]),
            "expires_at": token.expires_at.isoformat()})

    def _account_claims(self, token: str, purpose: str) -> dict:
        """The claims of a valid account token for ``purpose`` (checked before any transaction)."""
        return domain.verify_account_token(token, self.jwks(), issuer=self.issuer, purpose=purpose,
                                           now=self.clock().timestamp())

    def _redeem(self, repo: AuthRepository, claims: dict, purpose: str) -> str:
        """Use up an account token (inside the caller's transaction); returns its user id."""
        [token_id] = require_uuids(token_id=claims["jti"])
        stored = repo.account_token_for_update(token_id)
        if stored is None or stored.purpose != purpose:
            raise NotFound("This link is not valid.", code="token_invalid")
        stored.redeemable(self.clock())
        repo.use_account_token(token_id, self.clock())
        return stored.user_id

    def verify_email(self, token: str) -> dict:
        """Confirm the address an e-mail verification link was sent to: signed, expiring, single use
        (``token_invalid`` 404, ``token_expired``/``token_used`` 409)."""
        claims = self._account_claims(token, domain.EMAIL_VERIFICATION)
        with self.unit_of_work() as uow:
            repo = uow.accounts
            user_id = self._redeem(repo, claims, domain.EMAIL_VERIFICATION)
            repo.set_email_verified(user_id, self.clock())
        return {"user_id": user_id, "email_verified": True}

    def resend_verification(self, caller: Caller) -> None:
        """Send a new verification link (the older one stops working); at most one per
        ``verification_resend_interval_s`` (``RateLimited(code="resend_throttled")``)."""
        user_id, tenant_id = caller.user_id, caller.tenant_id
        key = self._signing_key()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.accounts
            user = repo.user_by_id(user_id)
            if user is None or repo.role_in(tenant_id, user_id) is None:
                raise NotFound("No such user in this tenant.", code="user_not_found")
            if user.email_verified_at is not None:
                raise Conflict("Your e-mail address is verified already.", code="email_already_verified")
            throttle = f"{self.account_prefix}verification-resend:{user_id}"
            with self._redis_guard("verification resend limits"):
                if not self.redis.set(throttle, "1", nx=True, ex=self.resend_interval_s):
                    raise RateLimited("A verification e-mail was sent a moment ago; try again later.",
                                      code="resend_throttled", retry_after=max(1, int(self.redis.ttl(throttle))))
            self._account_token(uow, key, user_id, tenant_id, domain.EMAIL_VERIFICATION, self.clock())

    def request_password_reset(self, email: str, client_ip: str = "") -> None:
        """Mail a reset link if the address has an account. The answer is the same either way (no
        error, no timing worth measuring: the token is signed for unknown addresses too), and more
        than ``password_resets_per_hour`` requests for an address are dropped silently."""
        email = email.strip().lower() if isinstance(email, str) else ""
        key = self._signing_key()
        domain.sign_access_token({"typ": "dummy"}, key[1], key[0])  # unknown addresses cost the same
        if not 0 < len(email) <= domain.MAX_EMAIL:
            return
        counter = f"{self.account_prefix}reset:{hashlib.sha256(email.encode()).hexdigest()[:32]}"
        with self._redis_guard("password reset limits"):
            pipe = self.redis.pipeline()
            pipe.incr(counter)
            pipe.expire(counter, 3600, nx=True)
            if pipe.execute()[0] > self.resets_per_hour:
                log.warning("password reset requests over the limit for an address; not sent")
                return
        with self.unit_of_work() as uow:
            repo = uow.accounts
            user = repo.user_by_email(email)
            if user is not None:
                uow.scope_to(user.home_tenant_id)
                self._account_token(uow, key, user.id, user.home_tenant_id, domain.PASSWORD_RESET, self.clock())

    def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a reset link's token (signed, expiring, single use); every session
        of the user ends (all refresh tokens revoked). Following the link also proves the address."""
        claims = self._account_claims(token, domain.PASSWORD_RESET)
        password_hash = domain.hash_password(domain.check_password_policy(new_password))
        with self.unit_of_work() as uow:
            repo = uow.accounts
            user_id = self._redeem(repo, claims, domain.PASSWORD_RESET)
            self._set_password(repo, user_id, password_hash)
            repo.set_email_verified(user_id, self.clock())

    def change_password(self, caller: Caller, current_password: str, new_password: str) -> dict:
        """Change the password of a logged-in user, who must give the current one
        (``Forbidden(code="invalid_current_password")``, throttled like logins). Every other session
        ends; the answer is a fresh token pair for this one."""
        user_id, tenant_id = caller.user_id, caller.tenant_id
        password = domain.check_password_policy(new_password)
        with self.unit_of_work() as uow:
            user = uow.accounts.user_by_id(user_id)
        if user is None:
            raise NotFound("No such user.", code="user_not_found")
        counters = self._failure_counters(user.email, "")
        self._refuse_if_throttled(counters)
        if not domain.verify_password(user.password_hash, current_password if isinstance(current_password, str)
                                      else ""):
            self._count_failure(counters)
            raise Forbidden("The current password is wrong.", code="invalid_current_password",
                            fields={"current_password": ["is wrong"]})
        password_hash, key = domain.hash_password(password), self._signing_key()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.accounts
            self._set_password(repo, user_id, password_hash)
            return self._issue(repo, key, user_id, tenant_id, None, lambda: Forbidden(
                "You are not a member of this organisation.", code="not_a_member"))

    def _set_password(self, repo: AuthRepository, user_id: str, password_hash: str) -> None:
        """The single place a password is changed (reset or change): the hash, then every session ends."""
        repo.set_password_hash(user_id, password_hash)
        self._revoke_user_sessions(repo, user_id)

    def _revoke_user_sessions(self, repo: AuthRepository, user_id: str) -> None:
        """End every session of the user: all refresh tokens revoked, and every access token issued
        so far refused by the gateway ("not valid before"; a Redis failure rolls the change back)."""
        self._refuse_older_tokens(users=[user_id])
        revoked = repo.revoke_user_tokens(user_id, self.clock())
        log.info("password changed: %d refresh token(s) revoked", revoked, extra={"user_id": user_id})

    # --- tokens --------------------------------------------------------------------------------

    def _issue(self, repo: AuthRepository, key: tuple[str, Any], user_id: str, tenant_id: str,
               family_id: Optional[str], refuse: Callable[[], DomainError]) -> dict:
        """A new token pair (inside a transaction scoped to ``tenant_id``); ``refuse()`` when not a member."""
        role, tenant, user = repo.role_in(tenant_id, user_id), repo.tenant(tenant_id), repo.user_by_id(user_id)
        if role is None or tenant is None or user is None:
            raise refuse()
        now = self.clock()
        family_id = family_id or str(uuid.uuid4())
        claims = domain.access_claims(user_id=user_id, tenant_id=tenant_id, org_role=role,
                                      plan_tier=tenant.plan_tier, issuer=self.issuer, audience=self.audience,
                                      ttl_s=self.access_ttl_s, now=now.timestamp(), session_id=family_id,
                                      email_verified=user.email_verified_at is not None)
        refresh_token = domain.new_refresh_token()
        repo.add_refresh_token(domain.RefreshToken(
            id=str(uuid.uuid4()), family_id=family_id, user_id=user_id,
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
            with self.unit_of_work() as uow:
                repo = uow.accounts
                keys = repo.active_signing_keys()
                if not keys:
                    repo.lock_signing_keys()  # held until commit: one first key for everyone
                    keys = repo.active_signing_keys()
                    if not keys:
                        keys = [domain.generate_signing_key()]
                        repo.add_signing_key(keys[0], self.clock())
                        log.info("created signing key", extra={"kid": keys[0].kid})
            newest = keys[0]
            if self._key is None or self._key[0] != newest.kid:
                self._key = (newest.kid, newest.private_key())  # parse the PEM once per key
            self._key_loaded_at = time.monotonic()
            return self._key

    # --- revocation ----------------------------------------------------------------------------

    def revoke_user_access(self, user_id: str, reason: str) -> int:
        """End every session of a user at once (password changed or reset, account compromised):
        all their refresh tokens, in every tenant, are revoked and every access token issued so
        far is refused by the gateway from now on. Returns how many refresh tokens were revoked.

        ``reason`` (e.g. ``"password_changed"``) goes to the log only.
        """
        [user_id] = require_uuids(user_id=user_id)
        self._refuse_older_tokens(users=[user_id])  # fail closed: nothing revoked while Redis is away
        with self.unit_of_work() as uow:
            revoked = uow.orgs.revoke_user_tokens(user_id, self.clock())
        self._refuse_older_tokens(users=[user_id])
        log.info("user access revoked (%s); %d refresh tokens revoked", reason, revoked, extra={"user_id": user_id})
        return revoked

    def _refuse_older_tokens(self, users: Iterable[str] = (), sessions: Iterable[str] = ()) -> None:
        """Set "not valid before = now" for these users and refresh families (see the module doc)."""
        value = str(domain.not_before_value(time.time()))
        keys = ([f"{NOT_BEFORE_PREFIX}user:{u}" for u in users]
                + [f"{NOT_BEFORE_PREFIX}session:{s}" for s in sessions])
        with self._redis_guard("token revocation"):
            pipe = self.redis.pipeline(transaction=False)
            for key in keys:
                pipe.set(key, value, ex=self.access_ttl_s + 60)  # + clock skew: outlive every older token
            pipe.execute()

    # --- login throttling ----------------------------------------------------------------------

    def _failure_counters(self, email: str, client_ip: str) -> list[tuple[str, int]]:
        """``(redis key, limit)`` per counter: the (email, address) pair's first (a success clears
        it), then the email's looser ceiling, then the address's if known."""
        digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]
        pair = hashlib.sha256(f"{email}\n{client_ip[:64]}".encode("utf-8")).hexdigest()[:32]
        counters = [(f"{self.throttle_prefix}pair:{pair}", self.max_failures),
                    (f"{self.throttle_prefix}email:{digest}", self.max_failures_per_account)]
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


def build(config: dict, clock: Clock = system_clock) -> AuthService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    client = redis.Redis.from_url(config["redis_url"], socket_connect_timeout=2, socket_timeout=2)
    service = AuthService(store, Settings.from_config(config), client, clock)
    service.configure_privacy(config)
    return service
