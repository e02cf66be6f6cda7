"""auth's pure rules: validation, hashing, tokens and keys (no database, no Redis)."""
import base64
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from argon2 import PasswordHasher

from careeros_services.auth import domain
from careeros_services.common.errors import Unauthenticated, ValidationFailed

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def key() -> domain.SigningKey:
    return domain.generate_signing_key()


def claims(**overrides) -> dict:
    values = dict(user_id="u-1", tenant_id="t-1", org_role="owner", plan_tier="free", issuer="careeros",
                  audience="api", ttl_s=60, now=int(time.time()))
    values.update(overrides)
    return domain.access_claims(**values)


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("  Ada@Example.COM ", "ada@example.com"),
    ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
])
def test_emails_are_stripped_and_lower_cased(raw, expected):
    assert domain.normalize_email(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "   ", "no-at-sign", "two@@example.com", "a@localhost", "a b@example.com", ".a@example.com",
    "a..b@example.com", "a@-example.com", "a@example..com", "x'; DROP TABLE users; --@example.com",
    "a@exa_mple.com", "ünï@example.com", "a\n@example.com", "a" * 65 + "@example.com",
    "a@" + "b" * 250 + ".com", None, 42,
])
def test_bad_emails_are_refused_with_the_field_named(raw):
    with pytest.raises(ValidationFailed) as caught:
        domain.normalize_email(raw)
    assert list(caught.value.fields) == ["email"]


def test_an_email_of_254_characters_passes_and_255_does_not():
    local = "a" * 64
    domain_part = ".".join(["b" * 63, "c" * 63, "d" * (254 - 64 - 1 - 63 - 63 - 2)])
    assert len(f"{local}@{domain_part}") == 254
    assert domain.normalize_email(f"{local}@{domain_part}")
    with pytest.raises(ValidationFailed):
        domain.normalize_email(f"{local}@{domain_part}x")


@pytest.mark.parametrize("password, ok", [
    ("x" * 9, False), ("x" * 10, True), ("x" * 256, True), ("x" * 257, False), (" " * 12, False),
    ("  padded password  ", True), (None, False),
])
def test_password_policy_is_length_only(password, ok):
    if ok:
        assert domain.check_password_policy(password) == password  # never stripped or changed
    else:
        with pytest.raises(ValidationFailed) as caught:
            domain.check_password_policy(password)
        assert list(caught.value.fields) == ["password"]


def test_names_are_stripped_bounded_and_free_of_control_characters():
    assert domain.clean_display_name("  Ada  ") == "Ada"
    assert domain.clean_display_name("x" * 120) == "x" * 120
    assert domain.clean_organization_name(" Acme ") == "Acme"
    assert domain.clean_organization_name("x" * 200) == "x" * 200
    for bad in ("", "   ", "x" * 121, "line\nbreak", "evil\u202eeman", None):
        with pytest.raises(ValidationFailed) as caught:
            domain.clean_display_name(bad)
        assert list(caught.value.fields) == ["display_name"]
    for bad in ("", "x" * 201, "tab\there"):
        with pytest.raises(ValidationFailed) as caught:
            domain.clean_organization_name(bad)
        assert list(caught.value.fields) == ["organization_name"]


def test_a_registration_reports_every_bad_field_at_once():
    with pytest.raises(ValidationFailed) as caught:
        domain.validate_registration("not-an-email", "short", "", "x" * 201)
    assert set(caught.value.fields) == {"email", "password", "display_name", "organization_name"}


def test_a_good_registration_is_normalised_and_picks_its_tenant():
    reg = domain.validate_registration("  Ada@Example.COM ", PASSWORD, "  Ada  ")
    assert (reg.email, reg.display_name, reg.tenant_kind, reg.tenant_name) == \
        ("ada@example.com", "Ada", "personal", "Ada")
    org = domain.validate_registration("b@example.com", PASSWORD, "B", "  Acme  ")
    assert (org.tenant_kind, org.tenant_name, org.password) == ("organization", "Acme", PASSWORD)


# --- passwords --------------------------------------------------------------------------------

def test_passwords_are_argon2id_hashes_that_verify():
    hashed = domain.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert hashed != domain.hash_password(PASSWORD)  # salted
    assert domain.verify_password(hashed, PASSWORD)
    assert not domain.verify_password(hashed, "wrong horse battery")
    assert not domain.verify_password("not a hash", PASSWORD)
    assert not domain.verify_password(hashed, None)
    assert not domain.verify_dummy_password(PASSWORD)


def test_hashes_with_weaker_parameters_need_a_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert domain.verify_password(weak, PASSWORD)
    assert domain.password_needs_rehash(weak)
    assert not domain.password_needs_rehash(domain.hash_password(PASSWORD))


# --- refresh tokens ---------------------------------------------------------------------------

def test_refresh_tokens_are_random_and_stored_as_sha256_hashes():
    token = domain.new_refresh_token()
    assert len(token) == 64 and token != domain.new_refresh_token()
    digest = domain.refresh_token_hash(token)
    assert len(digest) == 64 and digest != token and digest == domain.refresh_token_hash(token)
    assert not domain.plausible_refresh_token("x" * 1000)
    assert not domain.plausible_refresh_token(None) and not domain.plausible_refresh_token("")


def test_a_refresh_token_state_puts_reuse_before_anything_else():
    now = datetime.now(timezone.utc)
    token = domain.RefreshToken("id", "fam", "u", "t", issued_at=now, expires_at=now + timedelta(days=1))
    assert token.state(now) == "active"
    assert domain.RefreshToken(**{**token.__dict__, "expires_at": now}).state(now) == "expired"
    assert domain.RefreshToken(**{**token.__dict__, "revoked_at": now}).state(now) == "revoked"
    assert domain.RefreshToken(**{**token.__dict__, "used_at": now, "revoked_at": now}).state(now) == "reused"


# --- access tokens and keys -------------------------------------------------------------------

def test_access_claims_carry_exactly_the_specified_fields():
    made = claims(now=1_700_000_000, ttl_s=900)
    assert set(made) == {"sub", "tenant_id", "org_role", "plan_tier", "iss", "aud", "iat", "exp", "jti", "typ",
                         "email_verified"}
    assert (made["iat"], made["exp"], made["typ"]) == (1_700_000_000, 1_700_000_900, "access")
    assert made["jti"] != claims()["jti"]


def test_access_tokens_round_trip_with_the_public_jwk_and_nothing_else(key):
    made = claims()
    token = domain.sign_access_token(made, key.private_key(), key.kid)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    jwks = domain.jwk_set([key.public_jwk])
    assert domain.verify_access_token(token, jwks, issuer="careeros", audience="api") == made
    other = domain.jwk_set([domain.generate_signing_key().public_jwk])
    bad = {
        "unknown kid": (token, other, "api"),
        "foreign key, same kid": (jwt.encode(made, domain.generate_signing_key().private_key(),
                                             algorithm="RS256", headers={"kid": key.kid}), jwks, "api"),
        "alg none": (jwt.encode(made, None, algorithm="none"), jwks, "api"),
        "HS256 with the public key as secret": (
            jwt.encode(made, key.public_jwk["n"], algorithm="HS256", headers={"kid": key.kid}), jwks, "api"),
        "wrong audience": (token, jwks, "another-api"),
        "not an access token": (domain.sign_access_token({**made, "typ": "refresh"}, key.private_key(),
                                                         key.kid), jwks, "api"),
        "garbage": ("not.a.jwt", jwks, "api"),
    }
    for name, (candidate, keys, audience) in bad.items():
        with pytest.raises(Unauthenticated) as caught:
            domain.verify_access_token(candidate, keys, issuer="careeros", audience=audience)
        assert caught.value.code == "invalid_token", name
    expired = domain.sign_access_token(claims(now=int(time.time()) - 120, ttl_s=60), key.private_key(), key.kid)
    with pytest.raises(Unauthenticated) as caught:
        domain.verify_access_token(expired, jwks, issuer="careeros", audience="api")
    assert caught.value.code == "token_expired"


def _b64_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def test_the_public_jwk_is_the_key_s_public_half_with_a_thumbprint_kid(key):
    jwk = key.public_jwk
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}  # no d, p, q: nothing private
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    numbers = key.private_key().public_key().public_numbers()
    assert (_b64_int(jwk["n"]), _b64_int(jwk["e"])) == (numbers.n, numbers.e)
    assert numbers.n.bit_length() == 2048 and "=" not in jwk["n"]
    assert jwk["kid"] == key.kid == domain.jwk_thumbprint(jwk["n"], jwk["e"])
    assert jwt.PyJWK(jwk).key.public_numbers() == numbers  # what the gateway does with it
    assert key.private_pem.startswith("-----BEGIN PRIVATE KEY-----")
