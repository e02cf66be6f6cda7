"""Access-token verification: RS256 JWTs signed by the auth service.

Views opt in with :func:`auth_required` and read :func:`current_principal`.
The token is verified at most once per request (the rate limiter asks first,
to find the tenant) and the result is cached in ``flask.g``.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
import time
from copy import deepcopy
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable, Optional, TypeVar

import jwt
from flask import current_app, g, request
from flask_smorest.utils import deepupdate

from careeros_services.common.errors import Unauthenticated, Unavailable
from gateway_flask.extensions.api import BEARER_SCHEME
from gateway_flask.state import gateway_state

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("sub", "tenant_id", "org_role", "plan_tier", "exp", "iat", "jti", "iss", "aud")
_STRING_CLAIMS = ("sub", "tenant_id", "org_role", "plan_tier", "jti")
_UNSET = object()

F = TypeVar("F", bound=Callable[..., Any])


VERIFIED_CACHE_SIZE = 10_000  # tokens whose signature was checked, kept until they expire


@dataclass(frozen=True)
class Principal:
    """Who is calling: the verified claims of the access token."""

    user_id: str
    tenant_id: str
    org_role: str
    plan_tier: str
    jti: str
    exp: int
    token: str = field(repr=False)  # forwarded to services; kept out of logs and reprs


class InvalidToken(Exception):
    """The token cannot be trusted; the message is safe to show the client."""

    def __init__(self, message: str, code: str = "unauthenticated"):
        super().__init__(message)
        self.code = code


class TokenVerifier:
    """Verify RS256 access tokens against the auth service's JWKS.

    Keys are cached by ``kid`` for ``cache_s``; a token with an unknown kid
    triggers one JWKS refetch (key rotation), at most every ``min_refresh_s``
    so junk kids cannot turn every request into a JWKS fetch.
    """

    def __init__(self, jwks_provider: Callable[[], dict], issuer: str, audience: str, redis_client: Any,
                 revoked_prefix: str = "careeros:revoked:jti:", *, cache_s: float = 300.0,
                 min_refresh_s: float = 1.0, leeway_s: float = 0.0,
                 not_before_prefix: str = "careeros:revoked:"):
        self._provider = jwks_provider
        self.issuer, self.audience = issuer, audience
        self._redis = redis_client
        self.revoked_prefix = revoked_prefix
        self.not_before_prefix = not_before_prefix
        self._cache_s, self._min_refresh_s, self._leeway_s = cache_s, min_refresh_s, leeway_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self._verified: "OrderedDict[str, dict]" = OrderedDict()

    def verify(self, token: str) -> Principal:
        """Return the :class:`Principal` of ``token`` or raise :class:`InvalidToken`.

        A token verified before is taken from a small in-process cache until it
        expires (parsing and RSA-verifying it again costs ~0.4 ms a request);
        revocation is still checked in Redis on every request, in one round trip:
        the token itself (logout), and a "not valid before" of its user (removed,
        demoted, password changed) and of its session (a refresh family revoked).
        """
        claims = self.signed_claims(token)
        try:
            values = self._redis.mget(self.revocation_keys(claims))
        except Exception as exc:  # fail closed: an unchecked token must not pass
            raise Unavailable("Token revocation check unavailable.", retry_after=1) from exc
        return self.unrevoked(token, claims, values)

    def signed_claims(self, token: str) -> dict:
        """The claims of a token with a valid signature, issuer, audience and expiry (revocation
        not checked yet: :meth:`revocation_keys`, :meth:`unrevoked`); raises :class:`InvalidToken`."""
        claims = self._cached_claims(token)
        if claims is None:
            claims = self._verify_signature(token)
            self._remember(token, claims)
        return claims

    def _cached_claims(self, token: str) -> Optional[dict]:
        with self._lock:
            claims = self._verified.get(token)
        if claims is not None and claims["exp"] > time.time() + self._leeway_s:
            return claims
        return None

    def _remember(self, token: str, claims: dict) -> None:
        with self._lock:
            self._verified[token] = claims
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)

    def _verify_signature(self, token: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("Malformed access token.") from None
        # Checked before any key lookup: rejects "none" and HS256-with-the-public-key.
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise InvalidToken("Invalid access token.")
        key = self._key(header["kid"])
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=self.issuer,
                                audience=self.audience, leeway=self._leeway_s,
                                options={"require": list(REQUIRED_CLAIMS)})
        except jwt.ExpiredSignatureError:
            raise InvalidToken("Access token expired.") from None
        except jwt.PyJWTError:
            raise InvalidToken("Invalid access token.") from None
        if not all(isinstance(claims[c], str) and claims[c] for c in _STRING_CLAIMS):
            raise InvalidToken("Invalid access token.")
        return claims

    def revocation_keys(self, claims: dict) -> list[str]:
        """The Redis keys whose values say whether these claims were revoked (read with one MGET)."""
        keys = [self.revoked_prefix + claims["jti"], f"{self.not_before_prefix}user:{claims['sub']}"]
        if isinstance(claims.get("sid"), str):
            keys.append(f"{self.not_before_prefix}session:{claims['sid']}")
        return keys

    def unrevoked(self, token: str, claims: dict, values: list) -> Principal:
        """The principal of signed ``claims`` given the values of their :meth:`revocation_keys`;
        raises :class:`InvalidToken` when revoked."""
        revoked, *not_before = values
        if revoked is not None:
            raise InvalidToken("Access token revoked.", code="token_revoked")
        # Issued no later than a revocation of its user or session: refused (auth writes both
        # times with the same millisecond rounding, so "<=" never lets an older token through).
        if any(value is not None and float(claims["iat"]) <= float(value) for value in not_before):
            raise InvalidToken("Access token revoked; refresh or log in again.", code="token_revoked")
        return Principal(user_id=claims["sub"], tenant_id=claims["tenant_id"], org_role=claims["org_role"],
                         plan_tier=claims["plan_tier"], jti=claims["jti"], exp=int(claims["exp"]), token=token)

    def _key(self, kid: str) -> Any:
        # The lock is held only for a dict lookup, except during the rare
        # fetch, when other threads should wait for its result anyway.
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age >= self._cache_s or (kid not in self._keys and age >= self._min_refresh_s):
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("Invalid access token.")
        return key

    def _refresh(self) -> None:
        try:
            jwks = self._provider()
        except Exception as exc:
            raise Unavailable("Signing keys unavailable.", retry_after=1) from exc
        keys = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or "kid" not in jwk:
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
            except jwt.PyJWTError:
                log.warning("ignoring unusable JWKS key %s", jwk["kid"])
        self._keys, self._fetched_at = keys, time.monotonic()


def _bearer_token() -> Optional[str]:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'.")
    return token.strip()


def optional_principal() -> Optional[Principal]:
    """The caller's principal, or None if anonymous or the token is invalid.

    Verifies once per request; the failure reason is kept for :func:`auth_required`.
    """
    cached = g.get("_careeros_principal", _UNSET)
    if cached is not _UNSET:
        return cached
    principal, error, code = None, None, "unauthenticated"
    try:
        token = _bearer_token()
        if token is not None:
            principal = gateway_state().verifier.verify(token)
        else:
            error = "Missing bearer token."
    except InvalidToken as exc:
        error, code = str(exc), exc.code
    _settle(principal, error, code)
    return principal


def _settle(principal: Optional[Principal], error: Optional[str] = None, code: str = "unauthenticated") -> None:
    g._careeros_principal, g._careeros_auth_error, g._careeros_auth_code = principal, error, code


def signed_request_claims() -> Optional[tuple[str, dict]]:
    """``(token, claims)`` of this request's bearer token when its signature is valid and the
    revocation check is still to do (see :func:`settle_revocation`); None otherwise, with the
    outcome settled for :func:`optional_principal` (anonymous, invalid token, already verified).

    Lets the gateway read the revocation keys in the same Redis round trip as the rate limits.
    """
    if g.get("_careeros_principal", _UNSET) is not _UNSET:
        return None
    try:
        token = _bearer_token()
        if token is None:
            _settle(None, "Missing bearer token.")
            return None
        return token, gateway_state().verifier.signed_claims(token)
    except InvalidToken as exc:
        _settle(None, str(exc), exc.code)
        return None
    except Unavailable:
        return None  # signing keys unreachable: optional_principal answers 503 where a token matters


def settle_revocation(token: str, claims: dict, values: list) -> Optional[Principal]:
    """Finish verifying :func:`signed_request_claims` with the values of their revocation keys."""
    try:
        principal = gateway_state().verifier.unrevoked(token, claims, values)
    except InvalidToken as exc:
        _settle(None, str(exc), exc.code)
        return None
    _settle(principal)
    return principal


def current_principal() -> Principal:
    """The verified principal of this request; raises 401 ``unauthenticated`` if none."""
    principal = optional_principal()
    if principal is None:
        exc = Unauthenticated(g.get("_careeros_auth_error") or "Authentication required.",
                              code=g.get("_careeros_auth_code"))
        # RFC 6750: tell a client that sent a token why it was refused.
        exc.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'
                       if "Authorization" in request.headers else "Bearer"}
        raise exc
    return principal


def auth_required(func: F) -> F:
    """View decorator: 401 problem unless the request has a valid bearer token.

    Put it right under ``@blp.route`` so a 401 comes before body validation.
    Also documents the bearer security requirement and the 401 response in
    the OpenAPI spec.
    """
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_principal()
        return current_app.ensure_sync(func)(*args, **kwargs)

    # Same mechanism as flask-smorest's Blueprint.doc().
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    wrapper._apidoc["manual_doc"] = deepupdate(
        deepcopy(wrapper._apidoc.get("manual_doc", {})),
        {"security": [{BEARER_SCHEME: []}], "responses": {"401": "UNAUTHORIZED"}})
    return wrapper  # type: ignore[return-value]
