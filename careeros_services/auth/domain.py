"""The auth rules: input validation, password hashing, tokens and keys. Pure Python.

No database, Redis or framework here. Validation failures raise
:class:`ValidationFailed` with ``fields`` naming every bad field at once.

Input rules (kept simple on purpose):

* **email** — surrounding whitespace dropped, lower-cased, at most 254
  characters (local part at most 64), ASCII ``local@domain`` where the domain
  has at least two dot-separated labels of letters, digits and inner hyphens.
  Lower-casing the whole address means ``Ada@X.org`` and ``ada@x.org`` are one
  identity.
* **password** — 10 to 256 characters, not only whitespace. Nothing else
  (no character-class rules: length is what makes a password strong). The
  password is never stripped or otherwise changed.
* **display name** — stripped, 1 to 120 characters; **organisation name** —
  stripped, 1 to 200 characters. Neither may contain control characters
  (including newlines and tabs) or bidirectional-override marks.

Passwords are hashed with argon2id (argon2-cffi's :class:`PasswordHasher`,
RFC 9106 low-memory profile: 64 MiB, 3 passes, 4 lanes).

Access tokens are RS256 JWTs with the signing key's ``kid`` in the header;
refresh tokens are opaque random strings stored only as SHA-256 hashes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Optional

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from careeros_services.common.errors import Unauthenticated, ValidationFailed

# --- vocabulary --------------------------------------------------------------------------------

ROLES = ("owner", "admin", "instructor", "member")
PLAN_TIERS = ("free", "pro", "team")
TENANT_KINDS = ("personal", "organization")
OWNER = "owner"
DEFAULT_PLAN_TIER = "free"
PERSONAL, ORGANIZATION = TENANT_KINDS

MAX_EMAIL = 254
MAX_EMAIL_LOCAL = 64
MIN_PASSWORD, MAX_PASSWORD = 10, 256
MAX_DISPLAY_NAME = 120
MAX_ORGANIZATION_NAME = 200

ALGORITHM = "RS256"
ACCESS_TOKEN_TYPE = "access"
RSA_KEY_BITS = 2048
MAX_REFRESH_TOKEN = 512  # longer input is not one of ours; refuse before hashing

# --- records -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    kind: str
    plan_tier: str
    created_at: Optional[datetime] = None


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password_hash: str
    display_name: str
    home_tenant_id: str
    created_at: Optional[datetime] = None

    def public(self) -> dict:
        """The user without the password hash (JSON-ready)."""
        return {"id": self.id, "email": self.email, "display_name": self.display_name,
                "home_tenant_id": self.home_tenant_id,
                "created_at": self.created_at.isoformat() if self.created_at else None}


@dataclass(frozen=True)
class RefreshToken:
    """A stored refresh token (only its hash is stored; the record is identified by ``id``)."""

    id: str
    family_id: str
    user_id: str
    tenant_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None

    def state(self, now: datetime) -> str:
        """``"reused"`` (already exchanged: a replay), ``"revoked"``, ``"expired"`` or ``"active"``.

        Reuse is checked first: a used token that is presented again means it
        leaked, whatever else happened to its family since.
        """
        if self.used_at is not None:
            return "reused"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


# --- validation --------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS


def _email_problems(raw: Any) -> tuple[str, list[str]]:
    if not isinstance(raw, str):
        return "", ["must be a string"]
    email = raw.strip().lower()
    if not email:
        return email, ["must not be empty"]
    if len(email) > MAX_EMAIL:
        return email, [f"must be at most {MAX_EMAIL} characters"]
    local, _, _domain = email.rpartition("@")
    if not _EMAIL.match(email) or len(local) > MAX_EMAIL_LOCAL or ".." in email \
            or local.startswith(".") or local.endswith("."):
        return email, ["is not a valid email address"]
    return email, []


def normalize_email(raw: Any) -> str:
    """The canonical form of an email address (stripped, lower-case), or ValidationFailed."""
    email, problems = _email_problems(raw)
    if problems:
        raise ValidationFailed("The email address is not valid.", fields={"email": problems})
    return email


def _password_problems(raw: Any) -> list[str]:
    if not isinstance(raw, str):
        return ["must be a string"]
    if len(raw) < MIN_PASSWORD:
        return [f"must be at least {MIN_PASSWORD} characters"]
    if len(raw) > MAX_PASSWORD:
        return [f"must be at most {MAX_PASSWORD} characters"]
    if not raw.strip():
        return ["must not be only whitespace"]
    return []


def check_password_policy(raw: Any) -> str:
    """Return the password unchanged if it meets the policy, or raise ValidationFailed."""
    problems = _password_problems(raw)
    if problems:
        raise ValidationFailed("The password does not meet the policy.", fields={"password": problems})
    return raw


def _name_problems(raw: Any, max_len: int) -> tuple[str, list[str]]:
    if not isinstance(raw, str):
        return "", ["must be a string"]
    value = raw.strip()
    problems = []
    if not value:
        problems.append("must not be empty")
    if len(value) > max_len:
        problems.append(f"must be at most {max_len} characters")
    if any(_is_control(ch) for ch in value):
        problems.append("must not contain control characters")
    return value, problems


def clean_display_name(raw: Any) -> str:
    """The stripped display name (1–120 characters), or ValidationFailed."""
    value, problems = _name_problems(raw, MAX_DISPLAY_NAME)
    if problems:
        raise ValidationFailed("The display name is not valid.", fields={"display_name": problems})
    return value


def clean_organization_name(raw: Any) -> str:
    """The stripped organisation name (1–200 characters), or ValidationFailed."""
    value, problems = _name_problems(raw, MAX_ORGANIZATION_NAME)
    if problems:
        raise ValidationFailed("The organisation name is not valid.", fields={"organization_name": problems})
    return value


@dataclass(frozen=True)
class Registration:
    """A validated registration request."""

    email: str
    password: str
    display_name: str
    organization_name: Optional[str]  # None: a personal tenant

    @property
    def tenant_kind(self) -> str:
        return ORGANIZATION if self.organization_name is not None else PERSONAL

    @property
    def tenant_name(self) -> str:
        """The organisation's name, or the user's display name for a personal tenant."""
        return self.organization_name if self.organization_name is not None else self.display_name


def validate_registration(email: Any, password: Any, display_name: Any,
                          organization_name: Any = None) -> Registration:
    """Check every field of a registration and report all problems at once."""
    errors: dict[str, list[str]] = {}
    clean_email, problems = _email_problems(email)
    if problems:
        errors["email"] = problems
    problems = _password_problems(password)
    if problems:
        errors["password"] = problems
    name, problems = _name_problems(display_name, MAX_DISPLAY_NAME)
    if problems:
        errors["display_name"] = problems
    org = None
    if organization_name is not None:
        org, problems = _name_problems(organization_name, MAX_ORGANIZATION_NAME)
        if problems:
            errors["organization_name"] = problems
    if errors:
        raise ValidationFailed("The registration has invalid fields.", fields=errors)
    return Registration(clean_email, password, name, org)


# --- passwords ---------------------------------------------------------------------------------

PASSWORD_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters
_DUMMY_HASH: Optional[str] = None


def hash_password(password: str, hasher: PasswordHasher = PASSWORD_HASHER) -> str:
    """The argon2id hash (PHC string, salt and parameters included) of ``password``."""
    return hasher.hash(password)


def verify_password(password_hash: str, password: str, hasher: PasswordHasher = PASSWORD_HASHER) -> bool:
    """True when ``password`` matches ``password_hash``; False for a mismatch, a malformed hash or a non-string."""
    if not isinstance(password, str):
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str, hasher: PasswordHasher = PASSWORD_HASHER) -> bool:
    """True when the hash was made with other parameters than ``hasher``'s current ones."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def verify_dummy_password(password: str, hasher: PasswordHasher = PASSWORD_HASHER) -> bool:
    """Spend the time of a real verification (for unknown emails); always False."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
    verify_password(_DUMMY_HASH, password if isinstance(password, str) else "", hasher)
    return False


# --- refresh tokens ----------------------------------------------------------------------------

def new_refresh_token() -> str:
    """A fresh opaque refresh token (64 URL-safe characters, 384 random bits)."""
    return secrets.token_urlsafe(48)


def refresh_token_hash(token: str) -> str:
    """What is stored for a refresh token: its SHA-256, hex. The token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible_refresh_token(token: Any) -> bool:
    """False for input that cannot be one of our refresh tokens (not a string, empty, oversized)."""
    return isinstance(token, str) and 0 < len(token) <= MAX_REFRESH_TOKEN


# --- access tokens -----------------------------------------------------------------------------

def access_claims(*, user_id: str, tenant_id: str, org_role: str, plan_tier: str, issuer: str,
                  audience: str, ttl_s: int, now: int, jti: Optional[str] = None) -> dict:
    """The claims of an access token issued at ``now`` (unix seconds) for ``ttl_s`` seconds."""
    return {
        "sub": str(user_id),
        "tenant_id": str(tenant_id),
        "org_role": org_role,
        "plan_tier": plan_tier,
        "iss": issuer,
        "aud": audience,
        "iat": int(now),
        "exp": int(now) + int(ttl_s),
        "jti": jti or str(uuid.uuid4()),
        "typ": ACCESS_TOKEN_TYPE,
    }


def sign_access_token(claims: dict, private_key: Any, kid: str) -> str:
    """The RS256 JWT of ``claims`` (``private_key``: a key object or PEM), ``kid`` in the header."""
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


def verify_access_token(token: str, jwks: dict, *, issuer: str, audience: str, leeway_s: float = 0) -> dict:
    """The claims of a valid access token signed by a key of ``jwks``, or ``Unauthenticated``.

    Only RS256 is accepted (the header's ``alg`` is checked before any key is
    looked up), the ``kid`` must name a key of the set, and issuer, audience,
    expiry and ``typ == "access"`` are checked.
    """
    invalid = Unauthenticated("Invalid access token.", code="invalid_token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid from None
    if header.get("alg") != ALGORITHM:
        raise invalid
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if jwk is None:
        raise invalid
    try:
        key = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=issuer, audience=audience,
                            leeway=leeway_s,
                            options={"require": ["sub", "tenant_id", "org_role", "plan_tier", "iss",
                                                 "aud", "iat", "exp", "jti", "typ"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Access token expired.", code="token_expired") from None
    except jwt.PyJWTError:
        raise invalid from None
    if claims.get("typ") != ACCESS_TOKEN_TYPE:
        raise invalid
    return claims


# --- signing keys ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SigningKey:
    """An RSA signing key: private PEM (PKCS#8) and its public JWK; ``kid`` is the JWK thumbprint."""

    kid: str
    private_pem: str
    public_jwk: dict

    def private_key(self) -> rsa.RSAPrivateKey:
        return serialization.load_pem_private_key(self.private_pem.encode("ascii"), password=None)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk_thumbprint(n: str, e: str) -> str:
    """RFC 7638 SHA-256 thumbprint of an RSA public key (base64url), used as its ``kid``."""
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(public_key: rsa.RSAPublicKey, kid: Optional[str] = None) -> dict:
    """The public JWK (RFC 7517/7518) of an RSA key: kty, n, e, kid, alg RS256, use sig."""
    numbers = public_key.public_numbers()
    n, e = _b64url_uint(numbers.n), _b64url_uint(numbers.e)
    return {"kty": "RSA", "n": n, "e": e, "kid": kid or jwk_thumbprint(n, e), "alg": ALGORITHM, "use": "sig"}


def generate_signing_key(bits: int = RSA_KEY_BITS) -> SigningKey:
    """A new RSA key pair for RS256 (2048-bit by default)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode("ascii")
    jwk = public_jwk(private_key.public_key())
    return SigningKey(kid=jwk["kid"], private_pem=pem, public_jwk=jwk)


def jwk_set(public_jwks: Iterable[dict]) -> dict:
    """An RFC 7517 JWK Set of public keys."""
    return {"keys": [dict(k) for k in public_jwks]}
