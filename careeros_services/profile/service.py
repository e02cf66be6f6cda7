"""The profile service layer: what the nameko and gRPC entrypoints both call.

Each operation is one unit of work (``self.unit_of_work(tenant_id)``): the
state change and the event it publishes commit together, or neither does.
Operations act on the caller's own profile only: they take the verified
caller's ``(tenant_id, user_id)`` and there is no parameter naming anyone else.
"""
from __future__ import annotations

from dataclasses import replace

from bus.handlers import EventHandlingService, handles
from bus.store import ServiceStore, Transaction
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import Conflict, NotFound
from careeros_services.common import read_cache
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork
from careeros_services.profile import domain, persistence
from careeros_services.profile.persistence import ProfileUnitOfWork
from bus.contracts import (  # event types, from contracts/events
    AUTH_USER_REGISTERED_V1 as USER_REGISTERED,
    PROFILE_PROFILE_CREATED_V1 as PROFILE_CREATED,
    PROFILE_PROFILE_UPDATED_V1 as PROFILE_UPDATED,
    ROADMAP_MILESTONE_ACHIEVED_V1 as MILESTONE_ACHIEVED,
    AI_CORE_CV_CONFIRMED_V1 as CV_CONFIRMED,
    PROFILE_PRIVACY_ERASURE_CONFIRMED_V1 as PROFILE_ERASED,
)

SERVICE = "profile"


class _LostRace(Exception):
    """Another writer changed the profile between our read and our write."""


def _not_found() -> NotFound:
    return NotFound("This learner has no profile (yet).", code="profile_not_found")


class ProfileService(ServiceWithUnitOfWork[ProfileUnitOfWork], PersonalDataOwner, EventHandlingService):
    """Learners' career profiles: created on registration, read and changed by their owner."""

    consumer_name = SERVICE
    unit_of_work_class = ProfileUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS

    def __init__(self, store: ServiceStore, clock: Clock = system_clock,
                 read_cache_keeper: read_cache.Keeper = read_cache.NO_CACHE):
        self.store = store
        self.clock = clock
        self.read_cache = read_cache_keeper  # the gateway's cached GET /profile answers

    @handles(USER_REGISTERED)
    def _on_user_registered(self, tx: Transaction, envelope: dict) -> None:
        """Create the new learner's empty profile and publish ``profile.created``.

        A profile that already exists is left alone (and nothing is published).
        """
        payload = envelope["payload"]
        profile = domain.new_profile(payload["user_id"], envelope["tenant_id"],
                                     payload["display_name"], self.clock())
        # One deferred statement, no round trip: the outbox row is added only if the row was new.
        insert, params = persistence.ProfileRepository.insert_if_absent(profile)
        tx.defer_publish_if(insert, params, PROFILE_CREATED, aggregate_id=profile.user_id,
                            payload={"user_id": profile.user_id, "tenant_id": profile.tenant_id})

    @handles(MILESTONE_ACHIEVED)
    def _on_milestone_achieved(self, tx: Transaction, envelope: dict) -> None:
        """Add or raise the skill a roadmap milestone proved, citing its evidence.

        Publishes ``profile.updated`` (skills) when the profile changed; a skill
        already held at that level or higher changes nothing. A lost race
        raises, and the bus retries the event.
        """
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        evidence = {"source": "roadmap", "roadmap_id": payload["roadmap_id"], "esco_uri": payload["esco_uri"],
                    "evidence": payload["evidence"], "at": envelope["occurred_at"]}
        self._raise_skills(uow, payload["tenant_id"], payload["user_id"],
                           [(payload["skill_name"], payload["level"], evidence)])

    @handles(CV_CONFIRMED)
    def _on_cv_confirmed(self, tx: Transaction, envelope: dict) -> None:
        """Add or raise each skill the learner confirmed from their CV, citing the CV.

        The same rules as a roadmap milestone (never lower a level); one
        ``profile.updated`` for the whole confirmation, none when nothing changed.
        """
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        cited = [{"kind": "cv", "id": payload["cv_id"]}]
        self._raise_skills(uow, payload["tenant_id"], payload["user_id"], [
            (skill["name"], skill["level"], {"source": "cv", "cv_id": payload["cv_id"],
                                             "esco_uri": skill["esco_uri"], "evidence": cited,
                                             "at": envelope["occurred_at"]})
            for skill in payload["skills"]])

    @handles(PROFILE_UPDATED, PROFILE_ERASED)
    def _forget_cached_reads(self, tx: Transaction, envelope: dict) -> None:
        """Our own events, after their commit: the gateway's cached ``GET /profile`` of this
        person is stale (``common.read_cache``). A change made anywhere (gRPC, ``nameko shell``,
        another event's handler) publishes ``profile.updated``, so it reaches the cache."""
        self.read_cache.forget(read_cache.PROFILE, envelope["payload"]["user_id"])

    def _raise_skills(self, uow: ProfileUnitOfWork, tenant_id: str, user_id: str,
                      proved: list[tuple[str, int, dict]]) -> None:
        """``domain.raise_skill`` per ``(name, level, evidence)``; saved and published once if changed."""
        repo = uow.profiles
        current = repo.get(tenant_id, user_id)
        if current is None:
            raise _not_found()  # the profile lags registration: the bus retries
        raised, changed = current, False
        for name, level, evidence in proved:
            raised, one_changed = domain.raise_skill(raised, name, level, evidence)
            changed = changed or one_changed
        if not changed:
            return
        updated = replace(raised, version=current.version + 1, updated_at=self.clock())
        if not repo.save(updated, expected_version=current.version):
            raise _LostRace()
        uow.publish(PROFILE_UPDATED, aggregate_id=user_id, payload={
            "user_id": user_id, "tenant_id": tenant_id, "version": updated.version,
            "changed_fields": ["skills"], "changes": {"skills": updated.skills}})

    def get_profile(self, caller: Caller) -> dict:
        """The caller's own profile.

        Raises ``NotFound(code="profile_not_found")`` when there is none: the
        profile is made from auth's ``user.registered`` event and may lag the
        registration by the event's trip.
        """
        with self.unit_of_work(caller.tenant_id) as uow:
            profile = uow.profiles.get(caller.tenant_id, caller.user_id)
        if profile is None:
            raise _not_found()
        return profile.to_dict()

    def update_profile(self, caller: Caller, patch: dict) -> dict:
        """Change fields of the caller's own profile; returns the profile after the change.

        ``patch`` names only the fields to change (see ``domain.apply_patch``
        for the rules). When something changed, the version goes up by one and
        ``profile.updated`` (changed fields and their new values) is published
        in the same transaction; a patch that changes nothing writes nothing.
        A concurrent change is retried once, then reported as ``Conflict``.
        """
        for _attempt in range(2):
            try:
                return self._update_once(caller.tenant_id, caller.user_id, patch)
            except _LostRace:
                continue
        raise Conflict("The profile was changed concurrently; try again.", code="profile_version_conflict")

    def _update_once(self, tenant_id: str, user_id: str, patch: dict) -> dict:
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.profiles
            current = repo.get(tenant_id, user_id)
            if current is None:
                raise _not_found()
            patched, changed = domain.apply_patch(current, patch)
            if not changed:
                return current.to_dict()
            updated = replace(patched, version=current.version + 1, updated_at=self.clock())
            if not repo.save(updated, expected_version=current.version):
                raise _LostRace()  # rolls this transaction back; nothing was written
            uow.publish(PROFILE_UPDATED, aggregate_id=user_id, payload={
                "user_id": user_id,
                "tenant_id": tenant_id,
                "version": updated.version,
                "changed_fields": changed,
                "changes": {name: getattr(updated, name) for name in changed},
            })
        return updated.to_dict()


def build(config: dict, clock: Clock = system_clock) -> ProfileService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    return ProfileService(store, clock, read_cache.Keeper.from_config(config))
