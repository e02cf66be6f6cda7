"""Organisations in the auth service: invites, seats, members and roles, assignments, the audit log,
and the plan billing grants a tenant.

Every operation re-reads the caller's role from ``memberships`` in the caller's
tenant (the token's ``org_role`` may be up to ``access_ttl_s`` stale), runs in
one transaction scoped to that tenant, and writes its audit entry and its
events in that same transaction. Writes that count seats lock the tenant row.

A mixin of :class:`~careeros_services.auth.service.AuthService`: it uses the
service's store, Redis, clock, signing key and token issuing (``_issue``,
``_refuse_older_tokens``).
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Optional

import redis

from bus.handlers import handles
from bus.store import ServiceStore, Transaction
from careeros_services.auth import domain
from careeros_services.auth.events import (ASSIGNMENT_CREATED, BILLING_AUDITED, ENTITLEMENT_CHANGED, INVITE_CREATED,
                                           MEMBERSHIP_CHANGED, PLAN_CHANGED, TENANT_CREATED, USER_REGISTERED)
from careeros_services.auth.persistence import AuthUnitOfWork, EmailTaken, OrgRepository
from careeros_services.common import plan_cache
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock
from careeros_services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, require_uuids
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork

log = logging.getLogger(__name__)

MAX_NAMES = 500  # ids per ResolveNames call (a page of a report)
MAX_AUDIT_PAGE = 200


def _member_id(raw: object) -> str:
    """A member's user id from a path or body (ValidationFailed naming ``user_id`` when not a UUID)."""
    try:
        return str(uuid.UUID(str(raw)))
    except ValueError:
        raise ValidationFailed("The member's user id is not valid.",
                               fields={"user_id": ["must be a UUID"]}) from None


def _invite_id(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed("Not an invite id.", fields={"invite_id": ["must be a UUID"]}) from None


class Organizations(ServiceWithUnitOfWork[AuthUnitOfWork]):
    """Invites, seats, members and roles, assignments, the audit log; the plan billing grants."""

    store: ServiceStore
    redis: redis.Redis
    clock: Clock
    issuer: str
    access_ttl_s: int
    invite_ttl_s: int
    seats_included: dict[str, int]

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

    def _membership_changed(self, uow: AuthUnitOfWork, tenant_id: str, user_id: str, role: str,
                            actor: str) -> None:
        uow.publish(MEMBERSHIP_CHANGED, aggregate_id=f"{tenant_id}:{user_id}", payload={
            "tenant_id": tenant_id, "user_id": user_id, "role": role, "actor_user_id": actor})

    def get_org(self, caller: Caller) -> dict:
        """The caller's current tenant: name, kind, plan, seat limit and usage, the caller's role."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            role = self._caller_role(repo, tenant_id, user_id)
            tenant = repo.tenant(tenant_id)
            limit, members, pending = self._seat_usage(repo, tenant, now)
        return {"tenant_id": tenant.id, "name": tenant.name, "kind": tenant.kind,
                "plan_tier": tenant.plan_tier, "seat_limit": limit, "seats_used": members + pending,
                "members": members, "pending_invites": pending, "org_role": role}

    def create_invite(self, caller: Caller, email: str, role: str, client_ip: str = "") -> dict:
        """Invite ``email`` with ``role`` (owner/admin only); returns the invite and its token.

        The token is a signed (RS256, the access-token key), expiring
        (``invite_ttl_s``), single-use invite, mailed by notifications from
        ``invite.created`` (and answered to the inviter). A new invite for the
        same email withdraws the pending one. Refused with
        ``Conflict(code="seat_limit_reached")`` (``fields.seats`` names the
        limit) when members + pending invites fill the tenant's seats;
        ``Conflict(code="already_member")`` when the email is a member.
        """
        tenant_id, user_id = caller.tenant_id, caller.user_id
        email, role = domain.validate_invite(email, role)
        key = self._signing_key()
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
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
            return self._invite_answer(uow, invite, key, now)

    def _invite_answer(self, uow: AuthUnitOfWork, invite: domain.Invite, key: tuple[str, Any], now: datetime) -> dict:
        """Sign the invite's token and publish ``invite.created`` with it (notifications mails the link;
        the invitee's address stays in auth: notifications asks for it by invite id, ``contact()``)."""
        claims = domain.invite_claims(invite_id=invite.id, tenant_id=invite.tenant_id, issuer=self.issuer,
                                      ttl_s=self.invite_ttl_s, now=int(now.timestamp()))
        kid, private_key = key
        token = domain.sign_access_token(claims, private_key, kid)
        uow.publish(INVITE_CREATED, aggregate_id=invite.id, payload={
            "invite_id": invite.id, "tenant_id": invite.tenant_id, "org_role": invite.org_role,
            "invited_by": invite.invited_by, "token": token, "expires_at": invite.expires_at.isoformat()})
        return {"invite_id": invite.id, "email": invite.email, "role": invite.org_role,
                "expires_at": invite.expires_at.isoformat(), "token": token}

    def list_invites(self, caller: Caller) -> dict:
        """Pending invites of the tenant (owner/admin), newest first, with the seats they hold."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            domain.require_manager(self._caller_role(repo, tenant_id, user_id), "list invites")
            limit, members, pending = self._seat_usage(repo, repo.tenant(tenant_id), now)
            return {"invites": repo.pending_invites(tenant_id, now), "seat_limit": limit,
                    "seats_used": members + pending}

    def revoke_invite(self, caller: Caller, invite_id: str, client_ip: str = "") -> dict:
        """Withdraw a pending invite (owner/admin; an admin invite: the owner): its token stops working
        (``invite_revoked``) and its seat is free at once."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        invite_id = _invite_id(invite_id)
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            invite = self._pending_invite_for(repo, tenant_id, user_id, invite_id, now)
            repo.revoke_invite(tenant_id, invite_id, now)
            repo.audit(tenant_id, "org.invite_revoked", actor_user_id=user_id, target_type="invite",
                       target_id=invite_id, details={"email": invite.email, "role": invite.org_role},
                       client_ip=client_ip)
        return {"invite_id": invite.id, "email": invite.email, "role": invite.org_role,
                "invited_by": invite.invited_by, "invited_by_name": "", "created_at": invite.created_at.isoformat(),
                "expires_at": invite.expires_at.isoformat(), "status": "revoked"}

    def resend_invite(self, caller: Caller, invite_id: str, client_ip: str = "") -> dict:
        """Replace a pending invite with a new one (same email and role, a fresh expiry and token);
        the old token answers ``invite_revoked``. The seat stays taken, once."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        invite_id = _invite_id(invite_id)
        key = self._signing_key()
        now = self.clock()
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
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
            return self._invite_answer(uow, invite, key, now)

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

    def my_organizations(self, caller: Caller) -> list[dict]:
        """Every tenant the caller belongs to, with their role in each; the token's tenant is ``current``."""
        user_id, current_tenant_id = caller.user_id, caller.tenant_id
        with self.unit_of_work() as uow:
            repo = uow.orgs
            user = repo.user_by_id(user_id)
            found = []
            for tenant_id, role, joined in repo.user_memberships(user_id):
                tenant = repo.tenant(tenant_id)
                found.append({"tenant_id": tenant_id, "name": tenant.name, "kind": tenant.kind, "org_role": role,
                              "plan_tier": tenant.plan_tier, "joined_at": joined.isoformat(),
                              "current": tenant_id == current_tenant_id,
                              "home": user is not None and tenant_id == user.home_tenant_id})
        return found

    def resolve_names(self, caller: Caller, user_ids: list[str]) -> dict[str, str]:
        """Display names of the given users that are members of the caller's tenant (the caller must be one).

        For pages that show people (analytics reports): events and read models keep ids only and the
        names are looked up when read, in one batch.
        """
        tenant_id, user_id = caller.tenant_id, caller.user_id
        wanted = sorted({u for u in user_ids if isinstance(u, str)})
        if len(wanted) > MAX_NAMES:
            raise ValidationFailed(f"At most {MAX_NAMES} ids at once.", fields={"user_ids": [f"at most {MAX_NAMES}"]})
        valid = []
        for candidate in wanted:
            try:
                valid.append(str(uuid.UUID(candidate)))
            except ValueError:
                continue  # not an id we could know: no name
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
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
        claims = domain.verify_invite_token(token, self.jwks(), issuer=self.issuer, now=self.clock().timestamp())
        tenant_id, invite_id = require_uuids(tenant_id=claims["tenant_id"], invite_id=claims["jti"])
        new_user: Optional[domain.User] = None
        if user_id is None:
            new_user = self._invited_account(tenant_id, invite_id, password, display_name)
            user_id = new_user.id
        else:
            [user_id] = require_uuids(user_id=user_id)
        key = self._signing_key()
        try:
            with self.unit_of_work(tenant_id) as uow:
                invite, tokens = self._join(uow, key, invite_id, user_id, new_user, client_ip)
        except EmailTaken:
            raise Conflict("An account with this email exists: log in, then accept the invite.",
                           code="email_taken", fields={"email": ["is already registered"]}) from None
        return {"tenant_id": tenant_id, "user_id": user_id, "org_role": invite.org_role, "tokens": tokens}

    def _invited_account(self, tenant_id: str, invite_id: str, password: Optional[str],
                         display_name: Optional[str]) -> domain.User:
        """The new account an invite registers (its address proven by the invite's e-mail). Hashed
        outside any transaction, after checking the invite can still be redeemed."""
        with self.unit_of_work(tenant_id) as uow:
            invite = uow.orgs.invite_for_update(tenant_id, invite_id)
        if invite is None:
            raise NotFound("No such invite.", code="invite_not_found")
        invite.redeemable(self.clock())  # fail before the expensive hash
        reg = domain.validate_registration(invite.email, password, display_name)
        now = self.clock()
        return domain.User(str(uuid.uuid4()), reg.email, domain.hash_password(reg.password),
                           reg.display_name, tenant_id, now, email_verified_at=now)

    def _join(self, uow: AuthUnitOfWork, key: tuple[str, Any], invite_id: str, user_id: str,
              new_user: Optional[domain.User], client_ip: str) -> tuple[domain.Invite, dict]:
        """Redeem the invite inside the tenant's transaction: seats checked again, membership, events, audit,
        and the new token pair."""
        repo = uow.orgs
        tenant_id = uow.tenant_id
        tenant = repo.lock_tenant(tenant_id)
        invite = repo.invite_for_update(tenant_id, invite_id)
        now = self.clock()
        if invite is None or tenant is None:
            raise NotFound("No such invite.", code="invite_not_found")
        invite.redeemable(now)
        if new_user is not None:
            repo.add_user(new_user)
        else:
            user = repo.user_by_id(user_id)
            if user is None or user.email != invite.email:
                raise Forbidden("This invite was sent to another email address.", code="invite_email_mismatch")
            if repo.role_in(tenant_id, user_id) is not None:
                raise Conflict("You are already a member of this organisation.", code="already_member")
        limit, members, pending = self._seat_usage(repo, tenant, now, except_invite=invite_id)
        domain.check_seats(limit, members, pending)
        repo.add_membership(tenant_id, user_id, invite.org_role, now)
        repo.mark_invite_accepted(tenant_id, invite_id, user_id, now)
        if new_user is not None:
            uow.publish(USER_REGISTERED, aggregate_id=user_id, payload={
                "user_id": user_id, "tenant_id": tenant_id, "tenant_kind": tenant.kind,
                "org_role": invite.org_role, "plan_tier": tenant.plan_tier,
                "display_name": new_user.display_name, "registered_at": now.isoformat()})
        self._membership_changed(uow, tenant_id, user_id, invite.org_role, invite.invited_by)
        repo.audit(tenant_id, "org.invite_accepted", actor_user_id=user_id, target_type="invite",
                   target_id=invite_id, details={"role": invite.org_role, "invited_by": invite.invited_by,
                                                 "new_account": new_user is not None}, client_ip=client_ip)
        return invite, self._issue(repo, key, user_id, tenant_id, None, domain.invalid_credentials)

    def list_members(self, caller: Caller) -> list[dict]:
        """The tenant's members with email, name, role and join time (owner, admin or instructor)."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            role = self._caller_role(repo, tenant_id, user_id)
            if role not in ("owner", "admin", "instructor"):
                raise Forbidden("Members do not see the member list.", code="org_role_forbidden",
                                fields={"org_role": [f"is {role}; owner, admin or instructor required"]})
            return repo.members(tenant_id)

    def change_member_role(self, caller: Caller, member_id: str, role: str,
                           client_ip: str = "") -> dict:
        """Change a member's role; ``role="owner"`` transfers ownership (owner only; the old owner
        becomes an admin). Returns the member as it is now. See ``domain.plan_role_change`` for who may."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        member_id = _member_id(member_id)
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            repo.lock_tenant(tenant_id)  # serialises transfers: the one-owner index would refuse the loser
            actor_role = self._caller_role(repo, tenant_id, user_id)
            before = repo.role_in(tenant_id, member_id)
            plan = domain.plan_role_change(user_id, actor_role, member_id, before, role)
            changed = {"transfer": [user_id, member_id], "change": [member_id]}.get(plan, [])
            self._refuse_older_tokens(users=changed)  # fail closed: no change while Redis is away
            if plan == "transfer":
                repo.set_role(tenant_id, user_id, "admin")  # demote first: at most one owner at any time
                repo.set_role(tenant_id, member_id, domain.OWNER)
                self._membership_changed(uow, tenant_id, user_id, "admin", user_id)
                self._membership_changed(uow, tenant_id, member_id, domain.OWNER, user_id)
                repo.audit(tenant_id, "org.ownership_transferred", actor_user_id=user_id,
                           target_type="member", target_id=member_id,
                           details={"from": user_id, "to": member_id, "previous_role": before},
                           client_ip=client_ip)
            elif plan == "change":
                repo.set_role(tenant_id, member_id, role)
                self._membership_changed(uow, tenant_id, member_id, role, user_id)
                repo.audit(tenant_id, "org.role_changed", actor_user_id=user_id, target_type="member",
                           target_id=member_id, details={"from": before, "to": role}, client_ip=client_ip)
            member = next(m for m in repo.members(tenant_id) if m["user_id"] == member_id)
        self._refuse_older_tokens(users=changed)  # again after commit: no token has the old role now
        return member

    def remove_member(self, caller: Caller, member_id: str, client_ip: str = "") -> None:
        """Remove a member (owner/admin), or leave (a member removing themselves); never the owner.

        The member's refresh tokens for this tenant are revoked in the same
        transaction, and their access tokens are refused from now on (a "not
        valid before" for the user, so tokens for other tenants need a refresh too).
        A member whose account was made by accepting this tenant's invite (their
        home tenant) gets a personal tenant of their own as the new home, so
        they can still log in (``tenant.created`` is published for it).
        """
        tenant_id, user_id = caller.tenant_id, caller.user_id
        member_id = _member_id(member_id)
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            repo.lock_tenant(tenant_id)
            actor_role = self._caller_role(repo, tenant_id, user_id)
            before = repo.role_in(tenant_id, member_id)
            domain.check_removal(user_id, actor_role, member_id, before)
            self._refuse_older_tokens(users=[member_id])
            repo.remove_membership(tenant_id, member_id)
            repo.revoke_user_tokens_in(tenant_id, member_id, self.clock())
            self._membership_changed(uow, tenant_id, member_id, domain.REMOVED, user_id)
            repo.audit(tenant_id, "org.member_left" if member_id == user_id else "org.member_removed",
                       actor_user_id=user_id, target_type="member", target_id=member_id,
                       details={"role": before}, client_ip=client_ip)
            member = repo.user_by_id(member_id)
            if member is not None and member.home_tenant_id == tenant_id:
                self._rehome(uow, member)
        self._refuse_older_tokens(users=[member_id])

    def _rehome(self, uow: AuthUnitOfWork, user: domain.User) -> None:
        """Give a user who lost their home tenant a personal one (owner, free plan) as the new home."""
        repo = uow.orgs
        now, home_id = self.clock(), str(uuid.uuid4())
        tenant = domain.Tenant(home_id, user.display_name, domain.PERSONAL, domain.DEFAULT_PLAN_TIER, now)
        left = uow.tenant_id
        repo.add_tenant(tenant)
        repo.set_home_tenant(user.id, home_id)
        uow.scope_to(home_id)  # the membership row is under row-level security
        repo.add_membership(home_id, user.id, domain.OWNER, now)
        uow.publish(TENANT_CREATED, aggregate_id=home_id, payload={
            "tenant_id": home_id, "name": tenant.name, "kind": tenant.kind, "plan_tier": tenant.plan_tier,
            "owner_user_id": user.id})
        uow.scope_to(left)

    def create_assignment(self, caller: Caller, member_id: str, course_id: str = "",
                          target_role: str = "", due_at: str = "", client_ip: str = "") -> dict:
        """Assign a course and/or a target role to a member (owner/admin); publishes
        ``assignment.created``."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        member_id = _member_id(member_id)
        now = self.clock()
        data = domain.validate_assignment(course_id, target_role, due_at, now)
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            domain.require_manager(self._caller_role(repo, tenant_id, user_id), "assign learning")
            if repo.role_in(tenant_id, member_id) is None:
                raise NotFound("No such member in this organisation.", code="member_not_found",
                               fields={"user_id": ["is not a member"]})
            row = {"assignment_id": str(uuid.uuid4()), "tenant_id": tenant_id, "user_id": member_id,
                   "course_id": data.course_id, "target_role": data.target_role, "assigned_by": user_id,
                   "due_at": data.due_at.isoformat() if data.due_at else "", "created_at": now.isoformat()}
            repo.add_assignment({**row, "due_at": data.due_at, "created_at": now})
            uow.publish(ASSIGNMENT_CREATED, aggregate_id=row["assignment_id"],
                       payload={k: row[k] for k in ("assignment_id", "tenant_id", "user_id", "course_id",
                                                    "target_role", "assigned_by", "due_at")})
            repo.audit(tenant_id, "org.assignment_created", actor_user_id=user_id, target_type="assignment",
                       target_id=row["assignment_id"],
                       details={"user_id": member_id, "course_id": data.course_id,
                                "target_role": data.target_role, "due_at": row["due_at"]},
                       client_ip=client_ip)
        return row

    def list_assignments(self, caller: Caller, member_id: Optional[str] = None) -> list[dict]:
        """The caller's own assignments, newest first; owners/admins may name another member."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        member_id = _member_id(member_id) if member_id else user_id
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            role = self._caller_role(repo, tenant_id, user_id)
            if member_id != user_id:
                domain.require_manager(role, "see other members' assignments")
            return repo.assignments(tenant_id, member_id)

    def audit_log(self, caller: Caller, limit: int = 50, before_id: int = 0) -> list[dict]:
        """The tenant's audit log, newest first (owner/admin of that tenant only); page with ``before_id``."""
        tenant_id, user_id = caller.tenant_id, caller.user_id
        limit = max(1, min(int(limit or 50), MAX_AUDIT_PAGE))
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.orgs
            domain.require_manager(self._caller_role(repo, tenant_id, user_id), "read the audit log")
            return repo.audit_entries(tenant_id, limit, int(before_id or 0) or None)

    def switch_tenant(self, caller: Caller, tenant_id: str) -> dict:
        """A token pair for another tenant the caller belongs to (``Forbidden(not_a_member)`` otherwise)."""
        user_id = caller.user_id
        [tenant_id] = require_uuids(tenant_id=tenant_id)  # the tenant asked for, not the token's
        key = self._signing_key()
        with self.unit_of_work(tenant_id) as uow:
            return self._issue(uow.accounts, key, user_id, tenant_id, None, lambda: Forbidden(
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
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        tenant_id = payload["tenant_id"]
        repo = uow.orgs
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
        uow.publish(PLAN_CHANGED, aggregate_id=tenant_id, payload={
            "tenant_id": tenant_id, "plan_tier": tenant.plan_tier, "seats": tenant.seats,
            "saga_id": payload["saga_id"]})

    @handles(*BILLING_AUDITED)
    def _on_billing_event(self, tx: Transaction, envelope: dict) -> None:
        """Record a billing event (subscription lifecycle, invoice) in the tenant's audit log."""
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        is_invoice = "invoice_id" in payload
        details = ({k: payload[k] for k in ("subscription_id", "currency", "total_minor", "issued_at")}
                   if is_invoice else {k: payload[k] for k in ("plan", "seats", "status", "period_end")})
        uow.orgs.audit(
            payload["tenant_id"], BILLING_AUDITED[envelope["type"]], actor_user_id=payload.get("user_id"),
            target_type="invoice" if is_invoice else "subscription",
            target_id=payload["invoice_id"] if is_invoice else payload["subscription_id"],
            details=details, source="event", event_id=envelope["id"])

