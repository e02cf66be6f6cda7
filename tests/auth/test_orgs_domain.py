"""Organisation rules in auth's domain: roles, one owner, seats, invites and their tokens, assignments."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from careeros_services.auth import domain
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed

OWNER, ADMIN, ADMIN2, MEMBER = "o", "a", "a2", "m"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("actor,actor_role,target,target_role,new_role,expected", [
    (OWNER, "owner", ADMIN, "admin", "owner", "transfer"),
    (OWNER, "owner", OWNER, "owner", "owner", "noop"),
    (OWNER, "owner", MEMBER, "member", "admin", "change"),
    (OWNER, "owner", ADMIN, "admin", "member", "change"),
    (ADMIN, "admin", MEMBER, "member", "instructor", "change"),
    (ADMIN, "admin", MEMBER, "member", "member", "noop"),
])
def test_allowed_role_changes(actor, actor_role, target, target_role, new_role, expected):
    assert domain.plan_role_change(actor, actor_role, target, target_role, new_role) == expected


@pytest.mark.parametrize("actor,actor_role,target,target_role,new_role,error,code", [
    (ADMIN, "admin", ADMIN, "admin", "owner", Forbidden, "org_role_forbidden"),        # only the owner transfers
    (ADMIN, "admin", OWNER, "owner", "member", Conflict, "owner_required"),            # nobody demotes the owner
    (OWNER, "owner", OWNER, "owner", "admin", Conflict, "owner_required"),             # not even the owner
    (ADMIN, "admin", ADMIN2, "admin", "member", Forbidden, "org_role_forbidden"),      # admins are the owner's
    (ADMIN, "admin", MEMBER, "member", "admin", Forbidden, "org_role_forbidden"),
    (MEMBER, "member", ADMIN, "admin", "member", Forbidden, "org_role_forbidden"),
    ("x", "instructor", MEMBER, "member", "member", Forbidden, "org_role_forbidden"),
    (OWNER, "owner", "ghost", None, "member", NotFound, "member_not_found"),
    (OWNER, "owner", MEMBER, "member", "root", ValidationFailed, "validation_failed"),
])
def test_refused_role_changes(actor, actor_role, target, target_role, new_role, error, code):
    with pytest.raises(error) as caught:
        domain.plan_role_change(actor, actor_role, target, target_role, new_role)
    assert caught.value.code == code


def test_removal_rules():
    domain.check_removal(OWNER, "owner", ADMIN, "admin")
    domain.check_removal(ADMIN, "admin", MEMBER, "member")
    domain.check_removal(MEMBER, "member", MEMBER, "member")  # leaving
    for args, error in (((OWNER, "owner", OWNER, "owner"), Conflict), ((ADMIN, "admin", OWNER, "owner"), Conflict),
                        ((ADMIN, "admin", ADMIN2, "admin"), Forbidden), ((MEMBER, "member", ADMIN, "admin"), Forbidden),
                        ((OWNER, "owner", "ghost", None), NotFound)):
        with pytest.raises(error):
            domain.check_removal(*args)


def test_inviting_needs_a_manager_and_admin_invites_need_the_owner():
    domain.check_inviter("owner", "admin")
    domain.check_inviter("admin", "member")
    for inviter, role in (("admin", "admin"), ("member", "member"), ("instructor", "member"), (None, "member")):
        with pytest.raises(Forbidden):
            domain.check_inviter(inviter, role)


def test_seats():
    assert domain.seat_limit(0, 3) == 3 and domain.seat_limit(12, 3) == 12
    domain.check_seats(3, 1, 1)  # a third seat is free
    with pytest.raises(Conflict) as caught:
        domain.check_seats(3, 2, 1)
    assert caught.value.code == "seat_limit_reached" and caught.value.fields == {"seats": ["limit: 3", "used: 3"]}
    assert "limit 3" in caught.value.detail and "2 members, 1 pending" in caught.value.detail


def test_invite_validation_names_every_bad_field():
    assert domain.validate_invite(" Ada@Example.ORG ", "instructor") == ("ada@example.org", "instructor")
    with pytest.raises(ValidationFailed) as caught:
        domain.validate_invite("not-an-email", "owner")  # owner is never invited: it is transferred
    assert set(caught.value.fields) == {"email", "role"}


def test_assignment_validation():
    later = (NOW + timedelta(days=3)).isoformat()
    got = domain.validate_assignment(" sql-101 ", None, later, NOW)
    assert (got.course_id, got.target_role, got.due_at) == ("sql-101", "", NOW + timedelta(days=3))
    assert domain.validate_assignment("", "Data Analyst", "", NOW).due_at is None
    for course, role, due, fields in (("", "", None, {"course_id"}), ("c", "", "2020-01-01T00:00:00Z", {"due_at"}),
                                      ("c", "", "2030-01-01T00:00:00", {"due_at"}),  # no offset
                                      ("x" * 201, "r\x07ole", None, {"course_id", "target_role"}), (5, "", None, {"course_id"})):
        with pytest.raises(ValidationFailed) as caught:
            domain.validate_assignment(course, role, due, NOW)
        assert set(caught.value.fields) == fields


def test_invite_state_single_use_and_expiry():
    invite = domain.Invite("i", "t", "a@b.co", "member", "o", NOW, NOW + timedelta(days=7))
    assert invite.state(NOW) == "pending"
    invite.redeemable(NOW)
    for changed, code in ((domain.Invite(**{**invite.__dict__, "accepted_at": NOW}), "invite_used"),
                          (domain.Invite(**{**invite.__dict__, "revoked_at": NOW}), "invite_revoked"),
                          (invite, "invite_expired")):
        with pytest.raises(Conflict) as caught:
            changed.redeemable(NOW + timedelta(days=8) if changed is invite else NOW)
        assert caught.value.code == code


@pytest.fixture(scope="module")
def key():
    return domain.generate_signing_key()


def test_invite_tokens_verify_only_when_ours_unexpired_and_of_the_invite_type(key):
    jwks = domain.jwk_set([key.public_jwk])
    invite_id, tenant_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = int(time.time())
    token = domain.sign_access_token(domain.invite_claims(invite_id=invite_id, tenant_id=tenant_id, issuer="careeros",
                                                          ttl_s=60, now=now), key.private_key(), key.kid)
    claims = domain.verify_invite_token(token, jwks, issuer="careeros")
    assert (claims["jti"], claims["tenant_id"], claims["typ"]) == (invite_id, tenant_id, "invite")

    expired = domain.sign_access_token(domain.invite_claims(invite_id=invite_id, tenant_id=tenant_id,
                                                            issuer="careeros", ttl_s=60, now=now - 120),
                                       key.private_key(), key.kid)
    with pytest.raises(Conflict) as caught:
        domain.verify_invite_token(expired, jwks, issuer="careeros")
    assert caught.value.code == "invite_expired"

    access = domain.sign_access_token(domain.access_claims(
        user_id="u", tenant_id=tenant_id, org_role="owner", plan_tier="free", issuer="careeros",
        audience="careeros-api", ttl_s=60, now=now), key.private_key(), key.kid)
    other_key = domain.generate_signing_key()
    foreign = domain.sign_access_token(domain.invite_claims(invite_id=invite_id, tenant_id=tenant_id,
                                                            issuer="careeros", ttl_s=60, now=now),
                                       other_key.private_key(), key.kid)  # claims our kid, signed by another key
    for bad in (access, foreign, token[:-3] + "abc", "", None, "x" * 5000,
                domain.verify_invite_token.__name__):
        with pytest.raises(NotFound):
            domain.verify_invite_token(bad, jwks, issuer="careeros")
    with pytest.raises(NotFound):
        domain.verify_invite_token(token, jwks, issuer="someone-else")
    # An invite is never an access token either.
    from careeros_services.common.errors import Unauthenticated
    with pytest.raises(Unauthenticated):
        domain.verify_access_token(token, jwks, issuer="careeros", audience="careeros-api")
