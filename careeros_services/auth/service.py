"""The auth service layer: what the nameko and gRPC entrypoints both call.

Each operation is one unit of work (``store.transaction(...)``); a
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
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Optional

import redis

from bus.handlers import EventHandlingService, handles
from bus.store import ServiceStore, Transaction
from careeros_services.auth import domain, persistence
from careeros_services.auth.persistence import AuthRepository, EmailTaken, OrgRepository
from careeros_services.auth.privacy import PrivacySaga
from careeros_services.common import plan_cache, plans
from careeros_services.common.errors import (Conflict, DomainError, Forbidden, NotFound, RateLimited,
                                             Unauthenticated, Unavailable, ValidationFailed, require_uuids)
from bus.contracts import (  # event types, from contracts/events
    AUTH_TENANT_CREATED_V1 as TENANT_CREATED,
    AUTH_USER_REGISTERED_V1 as USER_REGISTERED,
    AUTH_TENANT_PLAN_CHANGED_V1 as PLAN_CHANGED,
    AUTH_MEMBERSHIP_CHANGED_V1 as MEMBERSHIP_CHANGED,
    AUTH_ASSIGNMENT_CREATED_V1 as ASSIGNMENT_CREATED,
    BILLING_ENTITLEMENT_CHANGED_V1 as ENTITLEMENT_CHANGED,
    AUTH_USER_VERIFICATION_REQUESTED_V1 as VERIFICATION_REQUESTED,
    AUTH_USER_PASSWORD_RESET_REQUESTED_V1 as PASSWORD_RESET_REQUESTED,
    AUTH_INVITE_CREATED_V1 as INVITE_CREATED,
    BILLING_INVOICE_ISSUED_V1, BILLING_SUBSCRIPTION_ACTIVATED_V1, BILLING_SUBSCRIPTION_CANCELED_V1,
    BILLING_SUBSCRIPTION_PAST_DUE_V1,
)

log = logging.getLogger(__name__)

SERVICE = "auth"
MAX_NAMES = 500  # ids per ResolveNames call (a page of a report)
ACCOUNT_TOKEN_EVENTS = {domain.EMAIL_VERIFICATION: VERIFICATION_REQUESTED, domain.PASSWORD_RESET: PASSWORD_RESET_REQUESTED}
DEFAULT_VERIFICATION_TTL_S = 48 * 3600
DEFAULT_RESET_TTL_S = 3600
DEFAULT_RESEND_INTERVAL_S = 60      # one verification e-mail a minute per user
DEFAULT_RESETS_PER_HOUR = 5         # reset e-mails per address an hour; more are dropped silently
BILLING_AUDITED = {  # billing events recorded in the tenant's audit log, and the action they become
    BILLING_SUBSCRIPTION_ACTIVATED_V1: "billing.subscription_activated",
    BILLING_SUBSCRIPTION_CANCELED_V1: "billing.subscription_canceled",
    BILLING_SUBSCRIPTION_PAST_DUE_V1: "billing.subscription_past_due",
    BILLING_INVOICE_ISSUED_V1: "billing.invoice_issued",
}
DEFAULT_INVITE_TTL_S = 7 * 24 * 3600
MAX_AUDIT_PAGE = 200
REVOKED_JTI_PREFIX = "careeros:revoked:jti:"
NOT_BEFORE_PREFIX = "careeros:revoked:"
DEFAULT_REDIS_PREFIX = "careeros.auth."
# ``login_max_failures`` counts per (email, address) pair: one attacker cannot lock the
# victim out from elsewhere. Looser ceilings stop a spread-out guess at one account and
# one address trying many accounts, without one office behind NAT locking everyone out;
# ``login_max_failures_per_account`` and ``login_max_failures_per_ip`` override them.
ACCOUNT_FAILURE_FACTOR = 10
IP_FAILURE_FACTOR = 20
KEY_CACHE_S = 60.0
MAX_JTI = 128


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _invalid_credentials() -> Unauthenticated:
    # One answer for an unknown email and a wrong password.
    return Unauthenticated("Email or password is wrong.", code="invalid_credentials")


def _member_id(raw: object) -> str:
    """A member's user id from a path or body (ValidationFailed naming ``user_id`` when not a UUID)."""
    try:
        return str(uuid.UUID(str(raw)))
    except ValueError:
        raise ValidationFailed("The member's user id is not valid.",
                               fields={"user_id": ["must be a UUID"]}) from None


def _invalid_refresh() -> Unauthenticated:
    return Unauthenticated("The refresh token is not valid.", code="invalid_refresh_token")


class AuthService(PrivacySaga, EventHandlingService):
    """Accounts, tenants, memberships, tokens and organisations (invites, seats, assignments, audit log).

    ``settings`` is the ``auth`` section of the configuration: ``issuer``,
    ``audience``, ``access_ttl_s``, ``refresh_ttl_s``, ``login_max_failures``,
    ``login_window_s`` and optionally ``redis_prefix``,
    ``login_max_failures_per_account``, ``login_max_failures_per_ip``, ``invite_ttl_s`` and
    ``seats_included`` (by plan tier).
    """

    consumer_name = SERVICE

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
        self.max_failures_per_account = int(settings.get("login_max_failures_per_account")
                                            or self.max_failures * ACCOUNT_FAILURE_FACTOR)
        self.failure_window_s = int(settings["login_window_s"])
        self.invite_ttl_s = int(settings.get("invite_ttl_s") or DEFAULT_INVITE_TTL_S)
        # Seats by plan tier, from the plan catalogue (common.plans; build() passes it in).
        self.seats_included = dict(settings.get("seats_included") or plans.seats_included(plans.load()))
        self.throttle_prefix = f"{settings.get('redis_prefix') or DEFAULT_REDIS_PREFIX}login-failures:"
        self.account_prefix = f"{settings.get('redis_prefix') or DEFAULT_REDIS_PREFIX}account:"
        self.token_ttl_s = {
            domain.EMAIL_VERIFICATION: int(settings.get("email_verification_ttl_s") or DEFAULT_VERIFICATION_TTL_S),
            domain.PASSWORD_RESET: int(settings.get("password_reset_ttl_s") or DEFAULT_RESET_TTL_S)}
        self.resend_interval_s = int(settings.get("verification_resend_interval_s") or DEFAULT_RESEND_INTERVAL_S)
        self.resets_per_hour = int(settings.get("password_resets_per_hour") or DEFAULT_RESETS_PER_HOUR)
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
                self._account_token(tx, repo, key, user_id, tenant_id, domain.EMAIL_VERIFICATION, now)
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
            with self.store.transaction() as tx:
                repo = AuthRepository(tx.db)
                token = repo.refresh_token(domain.refresh_token_hash(refresh_token))
                if token is not None and (user_id is None or token.user_id == str(user_id)):
                    repo.revoke_family(token.family_id, _now())
                    self._refuse_older_tokens(sessions=[token.family_id])

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
                "org_role": role, "plan_tier": tenant.plan_tier, "created_at": user.created_at.isoformat(),
                "email_verified": user.email_verified_at is not None}

    def find_user_by_email(self, email: str) -> dict:
        """Ops lookup (``nameko shell``): id, email, display name, home tenant, created at — no hash."""
        email = email.strip().lower() if isinstance(email, str) else ""
        with self.store.transaction() as tx:
            user = AuthRepository(tx.db).user_by_email(email) if email else None
        if user is None:
            raise NotFound("No user with this email.", code="user_not_found")
        return user.public()

    # --- the account lifecycle: e-mail verification and passwords -------------------------------

    def contact(self, tenant_id: str, user_id: str = "", invite_id: str = "") -> dict:
        """Whom notifications writes to (nameko RPC only; events carry no contact data): a user's or an
        invite's address, with the tenant's name and kind (and the inviter's name for an invite)."""
        [tenant_id] = require_uuids(tenant_id=tenant_id)
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
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

    def _account_token(self, tx: Transaction, repo: AuthRepository, key: tuple[str, Any], user_id: str,
                       tenant_id: str, purpose: str, now: datetime) -> None:
        """Record a new single-use token (withdrawing older unused ones) and publish the event that
        makes notifications mail its link."""
        ttl_s = self.token_ttl_s[purpose]
        token = domain.AccountToken(str(uuid.uuid4()), user_id, purpose, now + timedelta(seconds=ttl_s))
        repo.add_account_token(token, now)
        claims = domain.account_token_claims(token_id=token.id, user_id=user_id, purpose=purpose,
                                             issuer=self.issuer, ttl_s=ttl_s, now=int(now.timestamp()))
        tx.publish(ACCOUNT_TOKEN_EVENTS[purpose], aggregate_id=user_id, tenant_id=tenant_id, payload={
            "user_id": user_id, "tenant_id": tenant_id, "token": domain.sign_access_token(claims, key[1], key[0]),
            "expires_at": token.expires_at.isoformat()})

    def _account_claims(self, token: str, purpose: str) -> dict:
        """The claims of a valid account token for ``purpose`` (checked before any transaction)."""
        return domain.verify_account_token(token, self.jwks(), issuer=self.issuer, purpose=purpose)

    @staticmethod
    def _redeem(repo: AuthRepository, claims: dict, purpose: str) -> str:
        """Use up an account token (inside the caller's transaction); returns its user id."""
        [token_id] = require_uuids(token_id=claims["jti"])
        stored = repo.account_token_for_update(token_id)
        if stored is None or stored.purpose != purpose:
            raise NotFound("This link is not valid.", code="token_invalid")
        stored.redeemable(_now())
        repo.use_account_token(token_id, _now())
        return stored.user_id

    def verify_email(self, token: str) -> dict:
        """Confirm the address an e-mail verification link was sent to: signed, expiring, single use
        (``token_invalid`` 404, ``token_expired``/``token_used`` 409)."""
        claims = self._account_claims(token, domain.EMAIL_VERIFICATION)
        with self.store.transaction() as tx:
            repo = AuthRepository(tx.db)
            user_id = self._redeem(repo, claims, domain.EMAIL_VERIFICATION)
            repo.set_email_verified(user_id, _now())
        return {"user_id": user_id, "email_verified": True}

    def resend_verification(self, user_id: str, tenant_id: str) -> None:
        """Send a new verification link (the older one stops working); at most one per
        ``verification_resend_interval_s`` (``RateLimited(code="resend_throttled")``)."""
        user_id, tenant_id = require_uuids(user_id=user_id, tenant_id=tenant_id)
        key = self._signing_key()
        with self.store.transaction(tenant_id) as tx:
            repo = AuthRepository(tx.db)
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
            self._account_token(tx, repo, key, user_id, tenant_id, domain.EMAIL_VERIFICATION, _now())

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
        with self.store.transaction() as tx:
            repo = AuthRepository(tx.db)
            user = repo.user_by_email(email)
            if user is not None:
                tx.scope_to(user.home_tenant_id)
                self._account_token(tx, repo, key, user.id, user.home_tenant_id, domain.PASSWORD_RESET, _now())

    def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a reset link's token (signed, expiring, single use); every session
        of the user ends (all refresh tokens revoked). Following the link also proves the address."""
        claims = self._account_claims(token, domain.PASSWORD_RESET)
        password_hash = domain.hash_password(domain.check_password_policy(new_password))
        with self.store.transaction() as tx:
            repo = AuthRepository(tx.db)
            user_id = self._redeem(repo, claims, domain.PASSWORD_RESET)
            self._set_password(repo, user_id, password_hash)
            repo.set_email_verified(user_id, _now())

    def change_password(self, user_id: str, tenant_id: str, current_password: str, new_password: str) -> dict:
        """Change the password of a logged-in user, who must give the current one
        (``Forbidden(code="invalid_current_password")``, throttled like logins). Every other session
        ends; the answer is a fresh token pair for this one."""
        user_id, tenant_id = require_uuids(user_id=user_id, tenant_id=tenant_id)
        password = domain.check_password_policy(new_password)
        with self.store.transaction() as tx:
            user = AuthRepository(tx.db).user_by_id(user_id)
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
        with self.store.transaction(tenant_id) as tx:
            repo = AuthRepository(tx.db)
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
        revoked = repo.revoke_user_tokens(user_id, _now())
        log.info("password changed: %d refresh token(s) revoked", revoked, extra={"user_id": user_id})

    # --- organisations -------------------------------------------------------------------------
    #
    # Every operation below re-reads the caller's role from ``memberships`` in the
    # caller's tenant (the token's ``org_role`` may be up to ``access_ttl_s`` stale),
    # runs in one transaction scoped to that tenant, and writes its audit entry and
    # its events in that same transaction. Writes that count seats lock the tenant row.

    def _caller_role(self, repo: OrgRepository, tenant_id: str, user_id: str) -> str:
        role = repo.role_in(tenant_id, user_id)
        if role is None:
            raise Forbidden("You are not a member of this organisation.", code="not_a_member")
        return role

    def _seat_usage(self, repo: OrgRepository, tenant: domain.Tenant, now: datetime,
                    except_invite: Optional[str] = None) -> tuple[int, int, int]:
        """``(limit, members, pending invites)`` of the tenant."""
        return (domain.seat_limit(tenant.seats, self.seats_included.get(tenant.plan_tier, 0)),
                repo.count_members(tenant.id),
                repo.count_pending_invites(tenant.id, now, except_invite))

    def _membership_changed(self, tx: Transaction, tenant_id: str, user_id: str, role: str,
                            actor: str) -> None:
        tx.publish(MEMBERSHIP_CHANGED, aggregate_id=f"{tenant_id}:{user_id}", payload={
            "tenant_id": tenant_id, "user_id": user_id, "role": role, "actor_user_id": actor})

    def get_org(self, tenant_id: str, user_id: str) -> dict:
        """The caller's current tenant: name, kind, plan, seat limit and usage, the caller's role."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        now = _now()
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            role = self._caller_role(repo, tenant_id, user_id)
            tenant = repo.tenant(tenant_id)
            limit, members, pending = self._seat_usage(repo, tenant, now)
        return {"tenant_id": tenant.id, "name": tenant.name, "kind": tenant.kind,
                "plan_tier": tenant.plan_tier, "seat_limit": limit, "seats_used": members + pending,
                "members": members, "pending_invites": pending, "org_role": role}

    def create_invite(self, tenant_id: str, user_id: str, email: str, role: str, client_ip: str = "") -> dict:
        """Invite ``email`` with ``role`` (owner/admin only); returns the invite and its token.

        The token is a signed (RS256, the access-token key), expiring
        (``invite_ttl_s``), single-use invite, mailed by notifications from
        ``invite.created`` (and answered to the inviter). A new invite for the
        same email withdraws the pending one. Refused with
        ``Conflict(code="seat_limit_reached")`` (``fields.seats`` names the
        limit) when members + pending invites fill the tenant's seats;
        ``Conflict(code="already_member")`` when the email is a member.
        """
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        email, role = domain.validate_invite(email, role)
        key = self._signing_key()
        now = _now()
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            tenant = repo.lock_tenant(tenant_id)
            actor_role = self._caller_role(repo, tenant_id, user_id)
            domain.check_inviter(actor_role, role)
            if tenant.kind != domain.ORGANIZATION:
                raise Conflict("A personal space has no members; create an organisation to invite people.",
                               code="not_an_organization")
            existing = repo.user_by_email(email)
            if existing is not None and repo.role_in(tenant_id, existing.id) is not None:
                raise Conflict("This person is already a member.", code="already_member",
                               fields={"email": ["is already a member"]})
            repo.revoke_pending_invites(tenant_id, email, now)
            domain.check_seats(*self._seat_usage(repo, tenant, now))
            invite = domain.Invite(id=str(uuid.uuid4()), tenant_id=tenant_id, email=email, org_role=role,
                                   invited_by=user_id, created_at=now,
                                   expires_at=now + timedelta(seconds=self.invite_ttl_s))
            repo.add_invite(invite)
            repo.audit(tenant_id, "org.invite_created", actor_user_id=user_id, target_type="invite",
                       target_id=invite.id, details={"email": email, "role": role,
                                                     "expires_at": invite.expires_at.isoformat()},
                       client_ip=client_ip)
            return self._invite_answer(tx, invite, key, now)

    def _invite_answer(self, tx: Transaction, invite: domain.Invite, key: tuple[str, Any], now: datetime) -> dict:
        """Sign the invite's token and publish ``invite.created`` with it (notifications mails the link;
        the invitee's address stays in auth: notifications asks for it by invite id, ``contact()``)."""
        claims = domain.invite_claims(invite_id=invite.id, tenant_id=invite.tenant_id, issuer=self.issuer,
                                      ttl_s=self.invite_ttl_s, now=int(now.timestamp()))
        kid, private_key = key
        token = domain.sign_access_token(claims, private_key, kid)
        tx.publish(INVITE_CREATED, aggregate_id=invite.id, payload={
            "invite_id": invite.id, "tenant_id": invite.tenant_id, "org_role": invite.org_role,
            "invited_by": invite.invited_by, "token": token, "expires_at": invite.expires_at.isoformat()})
        return {"invite_id": invite.id, "email": invite.email, "role": invite.org_role,
                "expires_at": invite.expires_at.isoformat(), "token": token}

    def list_invites(self, tenant_id: str, user_id: str) -> dict:
        """Pending invites of the tenant (owner/admin), newest first, with the seats they hold."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        now = _now()
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            domain.require_manager(self._caller_role(repo, tenant_id, user_id), "list invites")
            limit, members, pending = self._seat_usage(repo, repo.tenant(tenant_id), now)
            return {"invites": repo.pending_invites(tenant_id, now), "seat_limit": limit,
                    "seats_used": members + pending}

    def revoke_invite(self, tenant_id: str, user_id: str, invite_id: str, client_ip: str = "") -> dict:
        """Withdraw a pending invite (owner/admin; an admin invite: the owner): its token stops working
        (``invite_revoked``) and its seat is free at once."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        invite_id = _invite_id(invite_id)
        now = _now()
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            invite = self._pending_invite_for(repo, tenant_id, user_id, invite_id, now)
            repo.revoke_invite(tenant_id, invite_id, now)
            repo.audit(tenant_id, "org.invite_revoked", actor_user_id=user_id, target_type="invite",
                       target_id=invite_id, details={"email": invite.email, "role": invite.org_role},
                       client_ip=client_ip)
        return {"invite_id": invite.id, "email": invite.email, "role": invite.org_role,
                "invited_by": invite.invited_by, "invited_by_name": "", "created_at": invite.created_at.isoformat(),
                "expires_at": invite.expires_at.isoformat(), "status": "revoked"}

    def resend_invite(self, tenant_id: str, user_id: str, invite_id: str, client_ip: str = "") -> dict:
        """Replace a pending invite with a new one (same email and role, a fresh expiry and token);
        the old token answers ``invite_revoked``. The seat stays taken, once."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        invite_id = _invite_id(invite_id)
        key = self._signing_key()
        now = _now()
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            repo.lock_tenant(tenant_id)
            old = self._pending_invite_for(repo, tenant_id, user_id, invite_id, now)
            repo.revoke_invite(tenant_id, invite_id, now)
            invite = domain.Invite(id=str(uuid.uuid4()), tenant_id=tenant_id, email=old.email, org_role=old.org_role,
                                   invited_by=user_id, created_at=now,
                                   expires_at=now + timedelta(seconds=self.invite_ttl_s))
            repo.add_invite(invite)
            repo.audit(tenant_id, "org.invite_resent", actor_user_id=user_id, target_type="invite",
                       target_id=invite.id, details={"email": invite.email, "role": invite.org_role,
                                                     "replaces": invite_id}, client_ip=client_ip)
            return self._invite_answer(tx, invite, key, now)

    def _pending_invite_for(self, repo: OrgRepository, tenant_id: str, user_id: str, invite_id: str,
                            now: datetime) -> domain.Invite:
        """The pending invite ``invite_id``, locked, after checking the caller may manage it."""
        role = self._caller_role(repo, tenant_id, user_id)
        domain.require_manager(role, "manage invites")
        invite = repo.invite_for_update(tenant_id, invite_id)
        if invite is None:
            raise NotFound("No such invite in this organisation.", code="invite_not_found")
        domain.check_inviter(role, invite.org_role)
        state = invite.state(now)
        if state != "pending":
            raise Conflict(f"This invite is {state}; only a pending invite can be changed.",
                           code=f"invite_{'used' if state == 'accepted' else state}")
        return invite

    def my_organizations(self, user_id: str, current_tenant_id: str) -> list[dict]:
        """Every tenant the user belongs to, with the user's role in each; the token's tenant is ``current``."""
        user_id, current_tenant_id = require_uuids(user_id=user_id, tenant_id=current_tenant_id)
        with self.store.transaction() as tx:
            repo = OrgRepository(tx.db)
            user = repo.user_by_id(user_id)
            found = []
            for tenant_id, role, joined in repo.user_memberships(user_id):
                tenant = repo.tenant(tenant_id)
                found.append({"tenant_id": tenant_id, "name": tenant.name, "kind": tenant.kind, "org_role": role,
                              "plan_tier": tenant.plan_tier, "joined_at": joined.isoformat(),
                              "current": tenant_id == current_tenant_id,
                              "home": user is not None and tenant_id == user.home_tenant_id})
        return found

    def resolve_names(self, tenant_id: str, user_id: str, user_ids: list[str]) -> dict[str, str]:
        """Display names of the given users that are members of the caller's tenant (the caller must be one).

        For pages that show people (analytics reports): events and read models keep ids only and the
        names are looked up when read, in one batch.
        """
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        wanted = sorted({u for u in user_ids if isinstance(u, str)})
        if len(wanted) > MAX_NAMES:
            raise ValidationFailed(f"At most {MAX_NAMES} ids at once.", fields={"user_ids": [f"at most {MAX_NAMES}"]})
        valid = []
        for candidate in wanted:
            try:
                valid.append(str(uuid.UUID(candidate)))
            except ValueError:
                continue  # not an id we could know: no name
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            self._caller_role(repo, tenant_id, user_id)
            return repo.member_names(tenant_id, valid)

    def accept_invite(self, token: str, *, user_id: Optional[str] = None, password: Optional[str] = None,
                      display_name: Optional[str] = None, client_ip: str = "") -> dict:
        """Redeem an invite: join its tenant with its role; returns ``tenant_id``, ``user_id``, ``org_role``
        and a token pair for that tenant.

        With ``user_id`` (a logged-in caller) the user's email must be the
        invite's (``Forbidden(code="invite_email_mismatch")``); without it a new
        account is registered with the invite's email, ``password`` and
        ``display_name``, its home tenant being the organisation. Single use
        (``Conflict(code="invite_used")``), expiring (``invite_expired``); the
        seat limit is checked again.
        """
        claims = domain.verify_invite_token(token, self.jwks(), issuer=self.issuer)
        tenant_id, invite_id = require_uuids(tenant_id=claims["tenant_id"], invite_id=claims["jti"])
        new_user: Optional[domain.User] = None
        if user_id is None:
            with self.store.transaction(tenant_id) as tx:
                invite = OrgRepository(tx.db).invite_for_update(tenant_id, invite_id)
            if invite is None:
                raise NotFound("No such invite.", code="invite_not_found")
            invite.redeemable(_now())  # fail before the expensive hash
            reg = domain.validate_registration(invite.email, password, display_name)
            now = _now()
            # The invite reached this address by e-mail: following its link proves the address.
            new_user = domain.User(str(uuid.uuid4()), reg.email, domain.hash_password(reg.password),
                                   reg.display_name, tenant_id, now, email_verified_at=now)
            user_id = new_user.id
        else:
            [user_id] = require_uuids(user_id=user_id)
        key = self._signing_key()
        try:
            with self.store.transaction(tenant_id) as tx:
                repo = OrgRepository(tx.db)
                tenant = repo.lock_tenant(tenant_id)
                invite = repo.invite_for_update(tenant_id, invite_id)
                now = _now()
                if invite is None or tenant is None:
                    raise NotFound("No such invite.", code="invite_not_found")
                invite.redeemable(now)
                if new_user is not None:
                    repo.add_user(new_user)
                else:
                    user = repo.user_by_id(user_id)
                    if user is None or user.email != invite.email:
                        raise Forbidden("This invite was sent to another email address.",
                                        code="invite_email_mismatch")
                    if repo.role_in(tenant_id, user_id) is not None:
                        raise Conflict("You are already a member of this organisation.",
                                       code="already_member")
                limit, members, pending = self._seat_usage(repo, tenant, now, except_invite=invite_id)
                domain.check_seats(limit, members, pending)
                repo.add_membership(tenant_id, user_id, invite.org_role, now)
                repo.mark_invite_accepted(tenant_id, invite_id, user_id, now)
                if new_user is not None:
                    tx.publish(USER_REGISTERED, aggregate_id=user_id, payload={
                        "user_id": user_id, "tenant_id": tenant_id, "tenant_kind": tenant.kind,
                        "org_role": invite.org_role, "plan_tier": tenant.plan_tier,
                        "display_name": new_user.display_name, "registered_at": now.isoformat()})
                self._membership_changed(tx, tenant_id, user_id, invite.org_role, invite.invited_by)
                repo.audit(tenant_id, "org.invite_accepted", actor_user_id=user_id, target_type="invite",
                           target_id=invite_id,
                           details={"role": invite.org_role, "invited_by": invite.invited_by,
                                    "new_account": new_user is not None},
                           client_ip=client_ip)
                tokens = self._issue(repo, key, user_id, tenant_id, None, _invalid_credentials)
        except EmailTaken:
            raise Conflict("An account with this email exists: log in, then accept the invite.",
                           code="email_taken", fields={"email": ["is already registered"]}) from None
        return {"tenant_id": tenant_id, "user_id": user_id, "org_role": invite.org_role, "tokens": tokens}

    def list_members(self, tenant_id: str, user_id: str) -> list[dict]:
        """The tenant's members with email, name, role and join time (owner, admin or instructor)."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            role = self._caller_role(repo, tenant_id, user_id)
            if role not in ("owner", "admin", "instructor"):
                raise Forbidden("Members do not see the member list.", code="org_role_forbidden",
                                fields={"org_role": [f"is {role}; owner, admin or instructor required"]})
            return repo.members(tenant_id)

    def change_member_role(self, tenant_id: str, user_id: str, member_id: str, role: str,
                           client_ip: str = "") -> dict:
        """Change a member's role; ``role="owner"`` transfers ownership (owner only; the old owner
        becomes an admin). Returns the member as it is now. See ``domain.plan_role_change`` for who may."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        member_id = _member_id(member_id)
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            repo.lock_tenant(tenant_id)  # serialises transfers: the one-owner index would refuse the loser
            actor_role = self._caller_role(repo, tenant_id, user_id)
            before = repo.role_in(tenant_id, member_id)
            plan = domain.plan_role_change(user_id, actor_role, member_id, before, role)
            changed = {"transfer": [user_id, member_id], "change": [member_id]}.get(plan, [])
            self._refuse_older_tokens(users=changed)  # fail closed: no change while Redis is away
            if plan == "transfer":
                repo.set_role(tenant_id, user_id, "admin")  # demote first: at most one owner at any time
                repo.set_role(tenant_id, member_id, domain.OWNER)
                self._membership_changed(tx, tenant_id, user_id, "admin", user_id)
                self._membership_changed(tx, tenant_id, member_id, domain.OWNER, user_id)
                repo.audit(tenant_id, "org.ownership_transferred", actor_user_id=user_id,
                           target_type="member", target_id=member_id,
                           details={"from": user_id, "to": member_id, "previous_role": before},
                           client_ip=client_ip)
            elif plan == "change":
                repo.set_role(tenant_id, member_id, role)
                self._membership_changed(tx, tenant_id, member_id, role, user_id)
                repo.audit(tenant_id, "org.role_changed", actor_user_id=user_id, target_type="member",
                           target_id=member_id, details={"from": before, "to": role}, client_ip=client_ip)
            member = next(m for m in repo.members(tenant_id) if m["user_id"] == member_id)
        self._refuse_older_tokens(users=changed)  # again after commit: no token has the old role now
        return member

    def remove_member(self, tenant_id: str, user_id: str, member_id: str, client_ip: str = "") -> None:
        """Remove a member (owner/admin), or leave (a member removing themselves); never the owner.

        The member's refresh tokens for this tenant are revoked in the same
        transaction, and their access tokens are refused from now on (a "not
        valid before" for the user, so tokens for other tenants need a refresh too).
        A member whose account was made by accepting this tenant's invite (their
        home tenant) gets a personal tenant of their own as the new home, so
        they can still log in (``tenant.created`` is published for it).
        """
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        member_id = _member_id(member_id)
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            repo.lock_tenant(tenant_id)
            actor_role = self._caller_role(repo, tenant_id, user_id)
            before = repo.role_in(tenant_id, member_id)
            domain.check_removal(user_id, actor_role, member_id, before)
            self._refuse_older_tokens(users=[member_id])
            repo.remove_membership(tenant_id, member_id)
            repo.revoke_user_tokens_in(tenant_id, member_id, _now())
            self._membership_changed(tx, tenant_id, member_id, domain.REMOVED, user_id)
            repo.audit(tenant_id, "org.member_left" if member_id == user_id else "org.member_removed",
                       actor_user_id=user_id, target_type="member", target_id=member_id,
                       details={"role": before}, client_ip=client_ip)
            member = repo.user_by_id(member_id)
            if member is not None and member.home_tenant_id == tenant_id:
                self._rehome(tx, repo, member)
        self._refuse_older_tokens(users=[member_id])

    def _rehome(self, tx: Transaction, repo: OrgRepository, user: domain.User) -> None:
        """Give a user who lost their home tenant a personal one (owner, free plan) as the new home."""
        now, home_id = _now(), str(uuid.uuid4())
        tenant = domain.Tenant(home_id, user.display_name, domain.PERSONAL, domain.DEFAULT_PLAN_TIER, now)
        left = tx.tenant_id
        repo.add_tenant(tenant)
        repo.set_home_tenant(user.id, home_id)
        tx.scope_to(home_id)  # the membership row is under row-level security
        repo.add_membership(home_id, user.id, domain.OWNER, now)
        tx.publish(TENANT_CREATED, aggregate_id=home_id, payload={
            "tenant_id": home_id, "name": tenant.name, "kind": tenant.kind, "plan_tier": tenant.plan_tier,
            "owner_user_id": user.id})
        tx.scope_to(left)

    def create_assignment(self, tenant_id: str, user_id: str, member_id: str, course_id: str = "",
                          target_role: str = "", due_at: str = "", client_ip: str = "") -> dict:
        """Assign a course and/or a target role to a member (owner/admin); publishes
        ``assignment.created``."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        member_id = _member_id(member_id)
        now = _now()
        data = domain.validate_assignment(course_id, target_role, due_at, now)
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            domain.require_manager(self._caller_role(repo, tenant_id, user_id), "assign learning")
            if repo.role_in(tenant_id, member_id) is None:
                raise NotFound("No such member in this organisation.", code="member_not_found",
                               fields={"user_id": ["is not a member"]})
            row = {"assignment_id": str(uuid.uuid4()), "tenant_id": tenant_id, "user_id": member_id,
                   "course_id": data.course_id, "target_role": data.target_role, "assigned_by": user_id,
                   "due_at": data.due_at.isoformat() if data.due_at else "", "created_at": now.isoformat()}
            repo.add_assignment({**row, "due_at": data.due_at, "created_at": now})
            tx.publish(ASSIGNMENT_CREATED, aggregate_id=row["assignment_id"],
                       payload={k: row[k] for k in ("assignment_id", "tenant_id", "user_id", "course_id",
                                                    "target_role", "assigned_by", "due_at")})
            repo.audit(tenant_id, "org.assignment_created", actor_user_id=user_id, target_type="assignment",
                       target_id=row["assignment_id"],
                       details={"user_id": member_id, "course_id": data.course_id,
                                "target_role": data.target_role, "due_at": row["due_at"]},
                       client_ip=client_ip)
        return row

    def list_assignments(self, tenant_id: str, user_id: str, member_id: Optional[str] = None) -> list[dict]:
        """The caller's own assignments, newest first; owners/admins may name another member."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        member_id = _member_id(member_id) if member_id else user_id
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            role = self._caller_role(repo, tenant_id, user_id)
            if member_id != user_id:
                domain.require_manager(role, "see other members' assignments")
            return repo.assignments(tenant_id, member_id)

    def audit_log(self, tenant_id: str, user_id: str, limit: int = 50, before_id: int = 0) -> list[dict]:
        """The tenant's audit log, newest first (owner/admin of that tenant only); page with ``before_id``."""
        tenant_id, user_id = require_uuids(tenant_id=tenant_id, user_id=user_id)
        limit = max(1, min(int(limit or 50), MAX_AUDIT_PAGE))
        with self.store.transaction(tenant_id) as tx:
            repo = OrgRepository(tx.db)
            domain.require_manager(self._caller_role(repo, tenant_id, user_id), "read the audit log")
            return repo.audit_entries(tenant_id, limit, int(before_id or 0) or None)

    def switch_tenant(self, user_id: str, tenant_id: str) -> dict:
        """A token pair for another tenant the user belongs to (``Forbidden(not_a_member)`` otherwise)."""
        user_id, tenant_id = require_uuids(user_id=user_id, tenant_id=tenant_id)
        key = self._signing_key()
        with self.store.transaction(tenant_id) as tx:
            return self._issue(AuthRepository(tx.db), key, user_id, tenant_id, None, lambda: Forbidden(
                "You are not a member of this organisation.", code="not_a_member"))

    # --- consumed events -----------------------------------------------------------------------

    @handles(ENTITLEMENT_CHANGED)
    def _on_entitlement_changed(self, tx: Transaction, envelope: dict) -> None:
        """Set the tenant's plan tier and seats and answer ``tenant.plan_changed`` (same saga_id).

        Idempotent twice over: the inbox drops a redelivered event, and an
        entitlement older than the one applied last changes nothing (the
        answer then states the current plan). The answer is always published,
        so billing's saga advances.
        """
        payload = envelope["payload"]
        tenant_id = payload["tenant_id"]
        repo = OrgRepository(tx.db)
        if repo.lock_tenant(tenant_id) is None:
            raise NotFound(f"unknown tenant {tenant_id}", code="tenant_not_found")
        applied = repo.set_plan(tenant_id, payload["plan"], int(payload["seats"]),
                                datetime.fromisoformat(envelope["occurred_at"]))
        tenant = repo.tenant(tenant_id)
        # Written before the commit: a rollback redelivers the event, which writes it again.
        with self._redis_guard("the plan cache"):
            plan_cache.remember(self.redis, tenant_id, tenant.plan_tier, self.access_ttl_s)
        repo.audit(tenant_id, "billing.entitlement_changed", actor_user_id=None, target_type="subscription",
                   target_id=payload["subscription_id"], source="event", event_id=envelope["id"],
                   details={"plan": payload["plan"], "seats": payload["seats"], "reason": payload["reason"],
                            "entitlements": payload["entitlements"], "saga_id": payload["saga_id"],
                            "applied": applied})
        tx.publish(PLAN_CHANGED, aggregate_id=tenant_id, payload={
            "tenant_id": tenant_id, "plan_tier": tenant.plan_tier, "seats": tenant.seats,
            "saga_id": payload["saga_id"]})

    @handles(*BILLING_AUDITED)
    def _on_billing_event(self, tx: Transaction, envelope: dict) -> None:
        """Record a billing event (subscription lifecycle, invoice) in the tenant's audit log."""
        payload = envelope["payload"]
        is_invoice = "invoice_id" in payload
        details = ({k: payload[k] for k in ("subscription_id", "currency", "total_minor", "issued_at")}
                   if is_invoice else {k: payload[k] for k in ("plan", "seats", "status", "period_end")})
        OrgRepository(tx.db).audit(
            payload["tenant_id"], BILLING_AUDITED[envelope["type"]], actor_user_id=payload.get("user_id"),
            target_type="invoice" if is_invoice else "subscription",
            target_id=payload["invoice_id"] if is_invoice else payload["subscription_id"],
            details=details, source="event", event_id=envelope["id"])

    # --- tokens --------------------------------------------------------------------------------

    def _issue(self, repo: AuthRepository, key: tuple[str, Any], user_id: str, tenant_id: str,
               family_id: Optional[str], refuse: Callable[[], DomainError]) -> dict:
        """A new token pair (inside a transaction scoped to ``tenant_id``); ``refuse()`` when not a member."""
        role, tenant, user = repo.role_in(tenant_id, user_id), repo.tenant(tenant_id), repo.user_by_id(user_id)
        if role is None or tenant is None or user is None:
            raise refuse()
        now = _now()
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

    # --- revocation ----------------------------------------------------------------------------

    def revoke_user_access(self, user_id: str, reason: str) -> int:
        """End every session of a user at once (password changed or reset, account compromised):
        all their refresh tokens, in every tenant, are revoked and every access token issued so
        far is refused by the gateway from now on. Returns how many refresh tokens were revoked.

        ``reason`` (e.g. ``"password_changed"``) goes to the log only.
        """
        [user_id] = require_uuids(user_id=user_id)
        self._refuse_older_tokens(users=[user_id])  # fail closed: nothing revoked while Redis is away
        with self.store.transaction() as tx:
            revoked = OrgRepository(tx.db).revoke_user_tokens(user_id, _now())
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


def _invite_id(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed("Not an invite id.", fields={"invite_id": ["must be a UUID"]}) from None


def build(config: dict) -> AuthService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    client = redis.Redis.from_url(config["redis_url"], socket_connect_timeout=2, socket_timeout=2)
    settings = {**config["auth"], "seats_included": plans.seats_included(plans.from_config(config))}
    service = AuthService(store, settings, client)
    service.configure_privacy(config)
    return service
