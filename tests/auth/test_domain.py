"""auth's pure rules: validation, hashing, tokens and keys (no database)."""
import time

import jwt
import pytest

from careeros_services.auth import domain
from careeros_services.common.errors import Unauthenticated, ValidationFailed


def test_a_registration_reports_every_bad_field_at_once():
    with pytest.raises(ValidationFailed) as caught:
        domain.validate_registration("not-an-email", "short", "", "x" * 201)
    assert set(caught.value.fields) == {"email", "password", "display_name", "organization_name"}


def test_a_good_registration_is_normalised():
    reg = domain.validate_registration("  Ada@Example.COM ", "correct horse battery", "  Ada  ")
    assert (reg.email, reg.display_name, reg.tenant_kind, reg.tenant_name) == \
        ("ada@example.com", "Ada", "personal", "Ada")
    org = domain.validate_registration("b@example.com", "correct horse battery", "B", "Acme")
    assert (org.tenant_kind, org.tenant_name) == ("organization", "Acme")


def test_passwords_are_argon2id_hashes_that_verify():
    hashed = domain.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert domain.verify_password(hashed, "correct horse battery")
    assert not domain.verify_password(hashed, "wrong horse battery")


def test_access_tokens_round_trip_with_the_public_jwk_and_nothing_else():
    key = domain.generate_signing_key()
    claims = domain.access_claims(user_id="u", tenant_id="t", org_role="owner", plan_tier="free",
                                  issuer="careeros", audience="api", ttl_s=60, now=int(time.time()))
    token = domain.sign_access_token(claims, key.private_key(), key.kid)
    jwks = domain.jwk_set([key.public_jwk])
    assert domain.verify_access_token(token, jwks, issuer="careeros", audience="api")["sub"] == "u"
    other = domain.jwk_set([domain.generate_signing_key().public_jwk])
    with pytest.raises(Unauthenticated):
        domain.verify_access_token(token, other, issuer="careeros", audience="api")
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        domain.verify_access_token(unsigned, jwks, issuer="careeros", audience="api")
    assert set(key.public_jwk) == {"kty", "n", "e", "kid", "alg", "use"} and "d" not in key.public_jwk


def test_refresh_tokens_are_stored_as_hashes():
    token = domain.new_refresh_token()
    assert len(token) >= 64 and domain.refresh_token_hash(token) != token
    assert domain.refresh_token_hash(token) == domain.refresh_token_hash(token)
    assert not domain.plausible_refresh_token("x" * 1000) and not domain.plausible_refresh_token(None)
