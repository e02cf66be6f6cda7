"""The profile service layer against a real, freshly migrated PostgreSQL database."""
from __future__ import annotations

import threading
import uuid

import pytest

from bus import contracts
from careeros_services.common.caller import Caller
from careeros_services.common.errors import Conflict, NotFound, ValidationFailed
from careeros_services.profile import persistence
from careeros_services.profile.service import PROFILE_CREATED, PROFILE_UPDATED, ProfileService
from tests.profile.support import outbox_rows, user_registered


@pytest.fixture(scope="module")
def store(fresh_store):
    return fresh_store("profile")


@pytest.fixture(scope="module")
def service(store) -> ProfileService:
    return ProfileService(store)


@pytest.fixture
def registered(service) -> dict:
    """A learner whose user.registered event has been handled."""
    envelope = user_registered()
    assert service.handle_event(envelope) is True
    return envelope["payload"]


def count_profiles(store, tenant_id) -> int:
    with store.transaction(tenant_id) as tx:
        return tx.db.execute_sql("SELECT count(*) FROM profiles").fetchone()[0]


# --- schema --------------------------------------------------------------------------------

def test_model_columns_exist_in_the_migrated_table(store):
    with store.transaction(None) as tx:
        cursor = tx.db.execute_sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'profiles'")
        table = dict(cursor.fetchall())
    model = {f.column_name: f for f in persistence.ProfileRecord._meta.sorted_fields}
    assert set(model) == set(table)
    assert table["skills"] == table["interests"] == "jsonb"
    assert table["user_id"] == table["tenant_id"] == "uuid"
    assert table["created_at"] == "timestamp with time zone"


def test_profiles_table_forces_row_level_security_on_a_role_that_cannot_bypass_it(store):
    with store.transaction(None) as tx:
        assert tx.db.execute_sql("SELECT relrowsecurity, relforcerowsecurity FROM pg_class"
                                 " WHERE relname = 'profiles'").fetchone() == (True, True)
        assert tx.db.execute_sql("SELECT rolbypassrls OR rolsuper FROM pg_roles"
                                 " WHERE rolname = current_user").fetchone() == (False,)


# --- user.registered -----------------------------------------------------------------------

def test_user_registered_creates_the_profile_and_publishes_profile_created(service, store):
    envelope = user_registered(display_name="  Grace Hopper ")
    tenant_id, user_id = envelope["tenant_id"], envelope["payload"]["user_id"]

    assert service.handle_event(envelope) is True

    profile = service.get_profile(Caller(tenant_id, user_id))
    assert profile["display_name"] == "Grace Hopper"
    assert profile["version"] == 1 and profile["skills"] == [] and profile["learning_pace"] == "steady"
    [created] = outbox_rows(store, PROFILE_CREATED, user_id)
    contracts.validate(created)
    assert created["payload"] == {"user_id": user_id, "tenant_id": tenant_id}
    assert created["tenant_id"] == tenant_id and created["producer"] == "profile"
    assert created["causation_id"] == envelope["id"]
    assert created["correlation_id"] == envelope["correlation_id"]


def test_redelivered_user_registered_changes_nothing(service, store):
    envelope = user_registered()
    tenant_id, user_id = envelope["tenant_id"], envelope["payload"]["user_id"]
    assert service.handle_event(envelope) is True

    assert service.handle_event(envelope) is False

    assert count_profiles(store, tenant_id) == 1
    assert len(outbox_rows(store, PROFILE_CREATED, user_id)) == 1


def test_a_second_registration_event_leaves_an_existing_profile_alone(service, store, registered):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    service.update_profile(Caller(tenant_id, user_id), {"headline": "Keep me"})
    other_event = user_registered(tenant_id, user_id, display_name="Someone Else")

    assert service.handle_event(other_event) is True  # a new event id: applied, but a no-op

    profile = service.get_profile(Caller(tenant_id, user_id))
    assert (profile["display_name"], profile["headline"]) == ("Ada Lovelace", "Keep me")
    assert profile["version"] == 2
    assert len(outbox_rows(store, PROFILE_CREATED, user_id)) == 1


def test_a_batch_of_registrations_creates_each_profile_under_its_tenant_in_one_transaction(
        service, store, registered, monkeypatch):
    """Two tenants, a profile that exists and a second event for a user of the same batch: each new
    profile is written under its own event's tenant (row-level security would refuse another) and
    only a new profile publishes, all in the optimistic batch (no per-event re-run)."""
    first, second = user_registered(), user_registered()
    again = user_registered(first["tenant_id"], first["payload"]["user_id"], display_name="Twice")
    existing = user_registered(registered["tenant_id"], registered["user_id"], display_name="Someone Else")
    runs = []
    real_run = service._run_batch
    monkeypatch.setattr(service, "_run_batch", lambda *a, savepoints: runs.append(savepoints) or real_run(
        *a, savepoints=savepoints))

    assert service.handle_events([first, existing, second, again]) == [True, True, True, True]

    assert runs == [False]
    for event in (first, second):
        tenant_id, user_id = event["tenant_id"], event["payload"]["user_id"]
        assert count_profiles(store, tenant_id) == 1
        assert service.get_profile(Caller(tenant_id, user_id))["display_name"] == "Ada Lovelace"
        [created] = outbox_rows(store, PROFILE_CREATED, user_id)
        assert created["tenant_id"] == tenant_id and created["causation_id"] == event["id"]
        assert created["payload"] == {"user_id": user_id, "tenant_id": tenant_id}
    assert len(outbox_rows(store, PROFILE_CREATED, registered["user_id"])) == 1  # from its own registration
    assert service.get_profile(Caller(registered["tenant_id"], registered["user_id"]))["display_name"] \
        == "Ada Lovelace"


def test_user_registered_whose_payload_names_another_tenant_is_refused(service, store):
    envelope = user_registered()
    tenant_id = envelope["tenant_id"]
    envelope["payload"]["tenant_id"] = other_tenant = str(uuid.uuid4())
    with pytest.raises(ValueError, match="tenant"):
        service.handle_event(envelope)
    assert count_profiles(store, tenant_id) == count_profiles(store, other_tenant) == 0
    # The inbox claim rolled back with it: the same event id, once mended, is applied.
    envelope["payload"]["tenant_id"] = tenant_id
    assert service.handle_event(envelope) is True


def test_events_of_other_types_are_not_ours(service):
    envelope = user_registered()
    envelope["type"] = "careeros.auth.tenant.created.v1"
    assert service.handle_event(envelope) is None


# --- get / update --------------------------------------------------------------------------

def test_missing_profile_is_not_found_with_a_stable_code(service):
    with pytest.raises(NotFound) as caught:
        service.get_profile(Caller(str(uuid.uuid4()), str(uuid.uuid4())))
    assert caught.value.code == "profile_not_found"
    with pytest.raises(NotFound):
        service.update_profile(Caller(str(uuid.uuid4()), str(uuid.uuid4())), {"headline": "x"})


def test_caller_ids_must_be_uuids(service):
    with pytest.raises(ValidationFailed) as caught:
        service.get_profile(Caller.of("not-a-tenant", ""))
    assert set(caught.value.fields) == {"tenant_id", "user_id"}


def test_update_bumps_the_version_and_publishes_profile_updated(service, store, registered):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    patch = {"headline": " Data engineer ", "skills": [{"name": "SQL", "level": 4}],
             "learning_pace": "steady"}

    result = service.update_profile(Caller(tenant_id, user_id), patch)

    assert result["version"] == 2 and result["headline"] == "Data engineer"
    assert result["updated_at"] > result["created_at"]
    assert service.get_profile(Caller(tenant_id, user_id)) == result
    [updated] = outbox_rows(store, PROFILE_UPDATED, user_id)
    contracts.validate(updated)
    assert updated["tenant_id"] == tenant_id and updated["aggregate_id"] == user_id
    assert updated["payload"] == {
        "user_id": user_id, "tenant_id": tenant_id, "version": 2,
        "changed_fields": ["headline", "skills"],  # learning_pace was already "steady"
        "changes": {"headline": "Data engineer",
                    "skills": [{"name": "SQL", "esco_uri": "http://data.europa.eu/esco/skill/9cf681c7-89ec-470c-b651-7fe03786f586", "level": 4}]},
    }

    again = service.update_profile(Caller(tenant_id, user_id), {"years_experience": 3})
    assert again["version"] == 3 and again["headline"] == "Data engineer"
    assert [e["payload"]["version"] for e in outbox_rows(store, PROFILE_UPDATED, user_id)] == [2, 3]


def test_no_op_update_writes_nothing(service, store, registered):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    before = service.get_profile(Caller(tenant_id, user_id))

    after = service.update_profile(Caller(tenant_id, user_id), {"headline": "", "learning_pace": "steady"})

    assert after == before and after["version"] == 1
    assert outbox_rows(store, PROFILE_UPDATED, user_id) == []


def test_invalid_update_writes_nothing(service, store, registered):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    with pytest.raises(ValidationFailed) as caught:
        service.update_profile(Caller(tenant_id, user_id), {"headline": "ok", "years_experience": 200})
    assert list(caught.value.fields) == ["years_experience"]
    assert service.get_profile(Caller(tenant_id, user_id))["version"] == 1
    assert outbox_rows(store, PROFILE_UPDATED, user_id) == []


def test_markup_and_sql_are_stored_and_returned_verbatim(service, registered):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    text = "<script>alert(1)</script>'; DROP TABLE profiles; --"
    service.update_profile(Caller(tenant_id, user_id), {"headline": text, "interests": ["' OR 1=1 --"]})
    profile = service.get_profile(Caller(tenant_id, user_id))
    assert profile["headline"] == text and profile["interests"] == ["' OR 1=1 --"]


# --- isolation -----------------------------------------------------------------------------

def test_another_tenants_caller_cannot_read_or_write_the_profile(service, store, registered):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    other_tenant = str(uuid.uuid4())

    with pytest.raises(NotFound):
        service.get_profile(Caller(other_tenant, user_id))
    with pytest.raises(NotFound):
        service.update_profile(Caller(other_tenant, user_id), {"headline": "hijacked"})

    assert service.get_profile(Caller(tenant_id, user_id))["headline"] == ""


def test_row_level_security_hides_profiles_from_other_tenants_and_from_no_tenant(store, registered):
    assert count_profiles(store, registered["tenant_id"]) == 1
    assert count_profiles(store, str(uuid.uuid4())) == 0
    assert count_profiles(store, None) == 0


def test_row_level_security_refuses_writing_into_another_tenant(store, registered):
    with pytest.raises(Exception, match="row-level security"):
        with store.transaction(str(uuid.uuid4())) as tx:
            tx.db.execute_sql("INSERT INTO profiles (user_id, tenant_id) VALUES (%s, %s)",
                              (str(uuid.uuid4()), registered["tenant_id"]))


# --- optimistic concurrency -----------------------------------------------------------------

class _RacingRepository(persistence.ProfileRepository):
    """Lets another writer bump the profile right after the service read it, ``races`` times."""

    races = 0

    def get(self, tenant_id, user_id):
        profile = super().get(tenant_id, user_id)
        if type(self).races > 0:
            type(self).races -= 1
            # A concurrent writer on its own connection commits while we hold nothing.
            thread = threading.Thread(target=_concurrent_write, args=(self.db, tenant_id, user_id))
            thread.start()
            thread.join()
        return profile


def _concurrent_write(db, tenant_id, user_id):
    # A thread gets its own pooled connection from the same peewee database.
    with db.connection_context(), db.atomic():
        db.execute_sql("SELECT set_config('careeros.tenant_id', %s, true)", (tenant_id,))
        db.execute_sql("UPDATE profiles SET target_role = target_role || 'x', version = version + 1"
                       " WHERE user_id = %s", (user_id,))


@pytest.fixture
def racing(monkeypatch):
    from careeros_services.profile.persistence import ProfileUnitOfWork
    monkeypatch.setattr(ProfileUnitOfWork, "repositories", {"profiles": _RacingRepository})
    yield _RacingRepository
    _RacingRepository.races = 0


def test_a_concurrent_update_is_retried_once(service, store, registered, racing):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    racing.races = 1

    result = service.update_profile(Caller(tenant_id, user_id), {"headline": "after the race"})

    assert (result["headline"], result["target_role"], result["version"]) == ("after the race", "x", 3)
    assert [e["payload"]["version"] for e in outbox_rows(store, PROFILE_UPDATED, user_id)] == [3]


def test_losing_the_race_twice_is_a_conflict_and_writes_nothing(service, store, registered, racing):
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    racing.races = 2

    with pytest.raises(Conflict) as caught:
        service.update_profile(Caller(tenant_id, user_id), {"headline": "never"})

    assert caught.value.code == "profile_version_conflict"
    profile = service.get_profile(Caller(tenant_id, user_id))
    assert (profile["headline"], profile["target_role"], profile["version"]) == ("", "xx", 3)
    assert outbox_rows(store, PROFILE_UPDATED, user_id) == []


# --- the gateway's read cache ----------------------------------------------------------------

def test_its_own_change_events_make_the_gateways_cached_profile_stale(store, registered):
    """profile.updated (and the erasure's confirmation), handled by the profile service's own
    consumer once committed, bump the person's generation (common.read_cache)."""
    import redis

    from careeros_services.common import read_cache
    from careeros_services.common.config import load_config

    cache = redis.Redis.from_url(load_config()["redis_url"])
    service = ProfileService(store, read_cache_keeper=read_cache.Keeper(cache))
    tenant_id, user_id = registered["tenant_id"], registered["user_id"]
    generation = read_cache.generation_key(read_cache.PROFILE, user_id)
    cache.set(read_cache.entry_key(read_cache.PROFILE, f"{tenant_id}:{user_id}"),
              read_cache.tagged(read_cache.current_tag([None], "free"), b"{}"), ex=60)
    service.update_profile(Caller(tenant_id, user_id), {"headline": "Cached no more"})
    assert cache.get(generation) is None  # the commit alone says nothing: the event does
    [updated] = outbox_rows(store, PROFILE_UPDATED, user_id)
    assert service.handle_event(updated) is True
    assert cache.get(generation) == b"1" and 0 < cache.ttl(generation) <= read_cache.GENERATION_TTL_S
    entry = cache.get(read_cache.entry_key(read_cache.PROFILE, f"{tenant_id}:{user_id}"))
    assert read_cache.fresh_body(entry, read_cache.current_tag([None], "free")) == b"{}"  # as it was
    assert read_cache.fresh_body(entry, read_cache.current_tag([cache.get(generation)], "free")) is None
    cache.delete(generation)
