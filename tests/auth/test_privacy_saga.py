"""auth's privacy saga on the real PostgreSQL, Redis and local object storage: the answers drive it,
the timer re-sends what waits and deletes expired archives, signed links are checked, and an
account erasure takes effect in auth at once."""
import io
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest

from bus import contracts, privacy
from careeros_services.common.caller import Caller
from careeros_services.auth.privacy import participants
from careeros_services.auth.service import AuthService, build
from careeros_services.common.errors import Conflict, Forbidden, NotFound, Unauthenticated
from careeros_services.common.storage import privacy_storage

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def auth(config, fresh_store) -> AuthService:
    fresh_store("auth")
    service = build({**config, "auth": {**config["auth"], "redis_prefix": f"careeros.t{uuid.uuid4().hex[:8]}.auth."}})
    yield service
    service.store.close()


def _person(auth: AuthService) -> dict:
    email = f"p{uuid.uuid4().hex[:12]}@example.com"
    return {**auth.register(email, PASSWORD, "Pat Private"), "email": email}


def _answer(service: str, request: dict, tenant_id: str, **payload) -> dict:
    event_type = (privacy.export_part_type(service) if "object_key" in payload
                  else privacy.erasure_confirmed_type(service))
    return contracts.validate({
        "id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": service, "tenant_id": tenant_id,
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": "privacy",
        "aggregate_id": request["user_id"],
        "payload": {"request_id": request["request_id"], "user_id": request["user_id"], "service": service, **payload}})


def _sent(auth: AuthService, event_type: str, request_id: str) -> list[dict]:
    with auth.store.transaction() as tx:
        rows = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s"
                                 " AND envelope->'payload'->>'request_id' = %s ORDER BY id",
                                 (event_type, request_id)).fetchall()
    return [row[0] for row in rows]


def _export_parts(auth: AuthService, person: dict, request: dict) -> list[dict]:
    """Each participant's part in the bucket, as its handler writes it, and its answer."""
    storage, answers = privacy_storage(auth.privacy_config), []
    for service in participants():
        key = f"{privacy.export_prefix(request['request_id'])}/{service}.json"
        storage.put(key, f'{{"service": "{service}"}}'.encode())
        answers.append(_answer(service, {**request, "user_id": person["user_id"]}, person["tenant_id"],
                               object_key=key, files=[]))
    return answers


def test_the_last_answer_assembles_the_archive_behind_a_signed_link(auth):
    person = _person(auth)
    request = auth.request_export(Caller(person["tenant_id"], person["user_id"]))
    assert auth.request_export(Caller(person["tenant_id"], person["user_id"]))["request_id"] == request["request_id"]
    [asked] = _sent(auth, privacy.EXPORT_REQUESTED, request["request_id"])
    assert asked["payload"]["tenant_ids"] == [person["tenant_id"]] and asked["payload"]["user_id"] == person["user_id"]
    *first, last = _export_parts(auth, person, request)
    for envelope in first:
        assert auth.handle_event(envelope) is True
    waiting = auth.get_export(Caller(person["tenant_id"], person["user_id"]), request["request_id"])
    assert (waiting["status"], waiting["pending"], waiting["download_url"]) == (
        "pending", [last["payload"]["service"]], "")
    assert auth.handle_event(last) is True
    assert auth.handle_event(first[0]) is False  # a redelivered answer changes nothing

    done = auth.get_export(Caller(person["tenant_id"], person["user_id"]), request["request_id"])
    assert done["status"] == "completed" and done["download_url"]
    [ready] = _sent_ready(auth, request["request_id"])
    assert ready["payload"]["download_url"] and ready["payload"]["expires_at"]
    link = urlparse(done["download_url"])
    key, query = link.path.split("/privacy/files/", 1)[1], parse_qs(link.query)
    chunk = auth.read_export_file(key, int(query["expires"][0]), query["signature"][0])
    archive = zipfile.ZipFile(io.BytesIO(chunk["data"]))
    assert {"auth.json", "export.json", *(f"{s}.json" for s in participants())} == set(archive.namelist())
    assert person["email"] in archive.read("auth.json").decode()
    assert not privacy_storage(auth.privacy_config).exists(last["payload"]["object_key"])  # parts deleted
    with pytest.raises(Forbidden):
        auth.read_export_file(key, int(query["expires"][0]), "0" * 64)
    with pytest.raises(NotFound):
        auth.get_export(Caller(person["tenant_id"], str(uuid.uuid4())), request["request_id"])  # someone else's


def _sent_ready(auth: AuthService, request_id: str) -> list[dict]:
    with auth.store.transaction() as tx:
        rows = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s"
                                 " AND envelope->'payload'->>'export_id' = %s", (privacy.EXPORT_READY, request_id))
        return [row[0] for row in rows.fetchall()]


def test_the_timer_resends_what_waits_and_deletes_expired_archives(auth):
    person = _person(auth)
    request = auth.request_export(Caller(person["tenant_id"], person["user_id"]))
    now = datetime.now(timezone.utc)
    later = now + timedelta(seconds=auth.resend_after_s + 1)
    assert auth.privacy_tick(later)["resent"] >= 1
    assert len(_sent(auth, privacy.EXPORT_REQUESTED, request["request_id"])) == 2
    assert auth.privacy_tick(later)["resent"] == 0  # sent again just now: not yet due
    for envelope in _export_parts(auth, person, request):
        auth.handle_event(envelope)
    assert auth.get_export(Caller(person["tenant_id"], person["user_id"]), request["request_id"])["status"] == "completed"
    assert auth.privacy_tick(now + timedelta(seconds=auth.export_ttl_s + 60))["expired"] >= 1
    gone = auth.get_export(Caller(person["tenant_id"], person["user_id"]), request["request_id"])
    assert (gone["status"], gone["download_url"]) == ("expired", "")


def test_an_account_erasure_takes_effect_in_auth_at_once_and_completes_with_every_answer(auth):
    person = _person(auth)
    tokens = auth.login(person["email"], PASSWORD)
    with auth.store.transaction() as tx:  # the relay sent the registration's events
        tx.db.execute_sql("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    request = auth.request_erasure(Caller(person["tenant_id"], person["user_id"]))
    assert request["answered"] == ["auth"] and set(request["pending"]) == set(participants())
    with pytest.raises(Unauthenticated):
        auth.login(person["email"], PASSWORD)
    with pytest.raises(Unauthenticated):
        auth.refresh(tokens["refresh_token"])
    auth.privacy_tick(datetime.now(timezone.utc) + timedelta(seconds=auth.resend_after_s + 1))
    asked, again = _sent(auth, privacy.ERASURE_REQUESTED, request["request_id"])  # first, and re-sent
    assert asked["payload"]["personal_tenant_id"] == again["payload"]["personal_tenant_id"] == person["tenant_id"]
    assert asked["id"] != again["id"] and again["payload"]["tenant_ids"] == [person["tenant_id"]]
    with auth.store.transaction() as tx:
        left = tx.db.execute_sql("SELECT count(*) FROM outbox WHERE strpos(envelope::text, %s) > 0"
                                 " AND event_type <> %s", (person["user_id"], privacy.ERASURE_REQUESTED)).fetchone()[0]
    assert left == 0  # user.registered, tenant.created: sent, so purged; the request itself stays
    for service in participants():
        auth.handle_event(_answer(service, {**request, "user_id": person["user_id"]}, person["tenant_id"],
                                  rows_erased=1))
    done = auth.get_erasure(Caller(person["tenant_id"], person["user_id"]), request["request_id"])
    assert done["status"] == "completed" and done["completed_at"]


def test_an_organisation_owner_must_hand_over_before_erasing_their_account(auth):
    owner = _person(auth)
    org = auth.register(f"o{uuid.uuid4().hex[:12]}@example.com", PASSWORD, "Olive Owner", "Olive Org")
    with pytest.raises(Conflict):
        auth.request_erasure(Caller(org["tenant_id"], org["user_id"]))
    assert auth.request_erasure(Caller(owner["tenant_id"], owner["user_id"]))["status"] == "pending"
