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
import time
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

from careeros_services.common.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed

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
    seats: int = 0  # seat limit granted by billing (0: none granted, the default limit applies)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password_hash: str
    display_name: str
    home_tenant_id: str
    created_at: Optional[datetime] = None
    email_verified_at: Optional[datetime] = None

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
                  audience: str, ttl_s: int, now: float, jti: Optional[str] = None,
                  session_id: Optional[str] = None, email_verified: bool = False) -> dict:
    """The claims of an access token issued at ``now`` (unix seconds) for ``ttl_s`` seconds.

    ``iat`` keeps milliseconds (RFC 7519 allows a fractional NumericDate): a "not valid
    before" written when a user's rights change (:func:`not_before_value`) then tells tokens
    issued just before it from those issued just after. ``sid`` names the refresh family
    (the session), so revoking the family refuses its access tokens too. ``email_verified``
    says whether the address was confirmed (an unverified account may log in).
    """
    claims = {
        "sub": str(user_id),
        "tenant_id": str(tenant_id),
        "org_role": org_role,
        "plan_tier": plan_tier,
        "iss": issuer,
        "aud": audience,
        "iat": not_before_value(now),
        "exp": int(now) + int(ttl_s),
        "jti": jti or str(uuid.uuid4()),
        "typ": ACCESS_TOKEN_TYPE,
        "email_verified": bool(email_verified),
    }
    if session_id:
        claims["sid"] = str(session_id)
    return claims


def not_before_value(now: float) -> float:
    """Unix seconds rounded to the millisecond: one rounding for ``iat`` and "not valid before",
    so a token issued before a revocation always compares ``iat <= not_before``."""
    return round(now, 3)


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


# --- organisations: roles, seats, invites, assignments -----------------------------------------
#
# Role rules (WorkOS / Auth0 Organizations style, four fixed roles):
# * owner and admin manage the organisation (invite, change roles, remove, assign, read the audit log);
# * nobody changes or removes the owner directly: ownership moves only by a transfer, which the
#   owner alone makes (the old owner becomes an admin) — so there is always exactly one owner;
# * an admin does not touch another admin or promote to admin: only the owner manages admins;
# * any member but the owner may leave (remove themselves).

MANAGER_ROLES = ("owner", "admin")
INVITABLE_ROLES = ("admin", "instructor", "member")
REMOVED = "removed"
INVITE_TOKEN_TYPE = "invite"
INVITE_AUDIENCE = "careeros-invite"
MAX_ASSIGNMENT_FIELD = 200


def is_manager(org_role: Optional[str]) -> bool:
    return org_role in MANAGER_ROLES


def require_manager(org_role: Optional[str], action: str) -> None:
    """``Forbidden(code="org_role_forbidden")`` unless ``org_role`` is owner or admin."""
    if not is_manager(org_role):
        raise Forbidden(f"Only the organisation's owner or an admin may {action}.", code="org_role_forbidden",
                        fields={"org_role": [f"is {org_role or 'not a member'}; owner or admin required"]})


def _role_problems(raw: Any, allowed: tuple[str, ...]) -> tuple[str, list[str]]:
    if not isinstance(raw, str) or raw not in allowed:
        return "", [f"must be one of {', '.join(allowed)}"]
    return raw, []


def validate_invite(email: Any, org_role: Any) -> tuple[str, str]:
    """``(normalised email, role)`` of an invite, or ValidationFailed naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean_email, problems = _email_problems(email)
    if problems:
        errors["email"] = problems
    role, problems = _role_problems(org_role, INVITABLE_ROLES)
    if problems:
        errors["role"] = problems
    if errors:
        raise ValidationFailed("The invite has invalid fields.", fields=errors)
    return clean_email, role


def check_inviter(inviter_role: Optional[str], invited_role: str) -> None:
    """Managers invite; only the owner invites admins."""
    require_manager(inviter_role, "invite members")
    if invited_role == "admin" and inviter_role != OWNER:
        raise Forbidden("Only the owner may invite an admin.", code="org_role_forbidden",
                        fields={"role": ["admin invites need the owner"]})


def seat_limit(seats: int, included: int) -> int:
    """The tenant's seat limit: what billing granted (team plan), else what its plan includes."""
    return int(seats) if int(seats) > 0 else int(included)


def check_seats(limit: int, members: int, pending_invites: int) -> None:
    """Refuse one more seat when members + pending invites already fill the limit (``seat_limit_reached``)."""
    used = members + pending_invites
    if used + 1 > limit:
        raise Conflict(f"The seat limit is reached: limit {limit}, used {used} ({members} members, "
                       f"{pending_invites} pending invites). Raise the seats of the team plan or remove "
                       f"members or invites.", code="seat_limit_reached",
                       fields={"seats": [f"limit: {limit}", f"used: {used}"]})


def plan_role_change(actor_id: str, actor_role: Optional[str], target_id: str, target_role: Optional[str],
                     new_role: Any) -> str:
    """What a role change means: ``"transfer"`` (of ownership), ``"change"`` or ``"noop"``; or why not.

    ``NotFound(member_not_found)`` when the target is not a member,
    ``ValidationFailed`` for an unknown role, ``Forbidden(org_role_forbidden)``
    for a change the actor may not make.
    """
    role, problems = _role_problems(new_role, ROLES)
    if problems:
        raise ValidationFailed("The role is not valid.", fields={"role": problems})
    require_manager(actor_role, "change roles")
    if target_role is None:
        raise NotFound("No such member in this organisation.", code="member_not_found")
    if role == OWNER:
        if actor_role != OWNER:
            raise Forbidden("Only the owner may transfer ownership.", code="org_role_forbidden",
                            fields={"role": ["owner: only the current owner transfers ownership"]})
        return "noop" if target_id == actor_id else "transfer"
    if target_role == OWNER:
        raise Conflict("The owner's role changes only by transferring ownership to another member.",
                       code="owner_required",
                       fields={"role": ["the organisation must keep exactly one owner"]})
    if actor_role != OWNER and (target_role == "admin" or role == "admin"):
        raise Forbidden("Only the owner manages admins.", code="org_role_forbidden",
                        fields={"role": ["admin changes need the owner"]})
    return "noop" if role == target_role else "change"


def check_removal(actor_id: str, actor_role: Optional[str], target_id: str,
                  target_role: Optional[str]) -> None:
    """May ``actor`` remove ``target`` (or leave, when they are the same)? Raises why not."""
    if target_role is None:
        raise NotFound("No such member in this organisation.", code="member_not_found")
    if target_role == OWNER:
        raise Conflict("The owner cannot be removed; transfer ownership first.", code="owner_required",
                       fields={"user_id": ["is the owner"]})
    if actor_id == target_id:
        return  # leaving
    require_manager(actor_role, "remove members")
    if actor_role != OWNER and target_role == "admin":
        raise Forbidden("Only the owner removes admins.", code="org_role_forbidden",
                        fields={"user_id": ["is an admin"]})


@dataclass(frozen=True)
class AssignmentInput:
    course_id: str
    target_role: str
    due_at: Optional[datetime]


def validate_assignment(course_id: Any, target_role: Any, due_at: Any, now: datetime) -> AssignmentInput:
    """A course and/or a target role (at least one), optionally due at a future RFC 3339 time."""
    errors: dict[str, list[str]] = {}
    values = {}
    for name, raw in (("course_id", course_id), ("target_role", target_role)):
        value = raw.strip() if isinstance(raw, str) else raw
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = ["must be a string"]
        elif len(value) > MAX_ASSIGNMENT_FIELD:
            errors[name] = [f"must be at most {MAX_ASSIGNMENT_FIELD} characters"]
        elif any(_is_control(ch) for ch in value):
            errors[name] = ["must not contain control characters"]
        values[name] = value if isinstance(value, str) else ""
    if not errors and not values["course_id"] and not values["target_role"]:
        errors["course_id"] = ["course_id or target_role is required"]
    due = None
    if due_at not in (None, ""):
        try:
            due = datetime.fromisoformat(str(due_at).replace("Z", "+00:00"))
            if due.tzinfo is None:
                raise ValueError
            if due <= now:
                errors["due_at"] = ["must be in the future"]
        except ValueError:
            errors["due_at"] = ["must be an RFC 3339 date-time with offset"]
    if errors:
        raise ValidationFailed("The assignment has invalid fields.", fields=errors)
    return AssignmentInput(values["course_id"], values["target_role"], due)


def invite_claims(*, invite_id: str, tenant_id: str, issuer: str, ttl_s: int, now: int) -> dict:
    """Claims of an invite token: who may redeem is checked against the stored invite, not the token."""
    return {"jti": str(invite_id), "tenant_id": str(tenant_id), "iss": issuer, "aud": INVITE_AUDIENCE,
            "iat": int(now), "exp": int(now) + int(ttl_s), "typ": INVITE_TOKEN_TYPE}


def invalid_credentials() -> Unauthenticated:
    """One answer for an unknown email and a wrong password (and a token for a tenant one left)."""
    return Unauthenticated("Email or password is wrong.", code="invalid_credentials")


def verify_invite_token(token: Any, jwks: dict, *, issuer: str, now: Optional[float] = None) -> dict:
    """The claims of an invite token signed by a key of ``jwks``.

    ``NotFound(code="invite_not_found")`` for anything not signed by us (so a
    guessed token looks like a missing one), ``Conflict(code="invite_expired")``
    once it has expired. An access token is never an invite (``typ``/``aud``).
    """
    return _verify_signed(
        token, jwks, issuer=issuer, audience=INVITE_AUDIENCE, typ=INVITE_TOKEN_TYPE,
        required=["jti", "tenant_id", "iss", "aud", "iat", "exp", "typ"],
        invalid=NotFound("No such invite.", code="invite_not_found"),
        expired=Conflict("This invite has expired; ask for a new one.", code="invite_expired"), now=now)


def _verify_signed(token: Any, jwks: dict, *, issuer: str, audience: str, typ: str, required: list[str],
                   invalid: Exception, expired: Exception, now: Optional[float] = None) -> dict:
    """The claims of a JWT of type ``typ`` for ``audience`` signed by a key of ``jwks``; else ``invalid``
    (or ``expired``). ``exp`` and ``iat`` are checked against ``now`` (the service's clock, POSIX
    seconds; default the wall clock), not by PyJWT, which only knows the wall clock."""
    if not isinstance(token, str) or not 0 < len(token) <= 4096:
        raise invalid
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid from None
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if header.get("alg") != ALGORITHM or jwk is None:
        raise invalid
    try:
        claims = jwt.decode(token, jwt.PyJWK(jwk, algorithm=ALGORITHM).key, algorithms=[ALGORITHM],
                            issuer=issuer, audience=audience,
                            options={"require": required, "verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise invalid from None
    _check_lifetime(claims, time.time() if now is None else now, invalid, expired)
    if claims.get("typ") != typ:
        raise invalid
    return claims


def _check_lifetime(claims: dict, now: float, invalid: Exception, expired: Exception) -> None:
    """What PyJWT checks of ``exp`` and ``iat`` (whole seconds; expired at ``exp``), at ``now``."""
    try:
        exp = int(claims["exp"])
        iat = int(claims["iat"]) if "iat" in claims else None
    except (TypeError, ValueError):
        raise invalid from None
    if iat is not None and iat > now:
        raise invalid
    if exp <= now:
        raise expired


# --- account tokens: e-mail verification and password reset ------------------------------------

ACCOUNT_AUDIENCE = "careeros-account"
EMAIL_VERIFICATION = "email_verification"
PASSWORD_RESET = "password_reset"
ACCOUNT_PURPOSES = (EMAIL_VERIFICATION, PASSWORD_RESET)


def account_token_claims(*, token_id: str, user_id: str, purpose: str, issuer: str, ttl_s: int, now: int) -> dict:
    """Claims of a signed, expiring account token; single use is checked against its stored row."""
    return {"jti": str(token_id), "sub": str(user_id), "iss": issuer, "aud": ACCOUNT_AUDIENCE,
            "iat": int(now), "exp": int(now) + int(ttl_s), "typ": purpose}


def verify_account_token(token: Any, jwks: dict, *, issuer: str, purpose: str, now: Optional[float] = None) -> dict:
    """The claims of an account token for ``purpose``: ``NotFound(code="token_invalid")`` for anything
    else (a reset token never verifies an e-mail), ``Conflict(code="token_expired")`` once expired."""
    return _verify_signed(
        token, jwks, issuer=issuer, audience=ACCOUNT_AUDIENCE, typ=purpose,
        required=["jti", "sub", "iss", "aud", "iat", "exp", "typ"],
        invalid=NotFound("This link is not valid.", code="token_invalid"),
        expired=Conflict("This link has expired; ask for a new one.", code="token_expired"), now=now)


@dataclass(frozen=True)
class AccountToken:
    id: str
    user_id: str
    purpose: str
    expires_at: datetime
    used_at: Optional[datetime] = None

    def redeemable(self, now: datetime) -> None:
        """Raise why this token cannot be used now (single use, expiry)."""
        if self.used_at is not None:
            raise Conflict("This link was already used (or a newer one was sent).", code="token_used")
        if self.expires_at <= now:
            raise Conflict("This link has expired; ask for a new one.", code="token_expired")


@dataclass(frozen=True)
class Invite:
    id: str
    tenant_id: str
    email: str
    org_role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None

    def state(self, now: datetime) -> str:
        """``"accepted"``, ``"revoked"``, ``"expired"`` or ``"pending"``."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"

    def redeemable(self, now: datetime) -> None:
        """Raise why this invite cannot be accepted now (single use, expiry, revocation)."""
        state = self.state(now)
        if state == "accepted":
            raise Conflict("This invite was already used.", code="invite_used")
        if state == "revoked":
            raise Conflict("This invite was withdrawn.", code="invite_revoked")
        if state == "expired":
            raise Conflict("This invite has expired; ask for a new one.", code="invite_expired")
