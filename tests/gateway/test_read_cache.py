"""The gateway's read cache (gateway_flask/read_cache.py) against real Redis: hits skip the
view, entries are per caller, a bumped generation (an event, a write) ends them at once, an
answer read before a change is never served after it, and a revoked token is never answered."""
from __future__ import annotations

import copy
import uuid

import jwt
import pytest

from careeros_services.common import read_cache as keys
from gateway_flask import read_cache
from gateway_flask.app import create_app
from gateway_flask.extensions.api import Blueprint
from gateway_flask.security import auth_required, current_principal

blp = Blueprint("cached", __name__, url_prefix="/cached")
KIND = "test-note"
NOTES: dict[str, dict] = {}  # "the service": user -> note
CALLS: list[str] = []
DURING_CALL: list = []  # callables run while "the service" is being asked (a concurrent change)


def _scope(claims: dict, args: dict) -> str:
    return f"{claims['tenant_id']}:{claims['sub']}"


@blp.route("/note", methods=["GET"])
@read_cache.cached(KIND, scope=_scope, owners=lambda claims, _: [(KIND, claims["sub"])])
@auth_required
def get_note():
    user = current_principal().user_id
    CALLS.append(user)
    note = dict(NOTES[user]) if user in NOTES else None
    for change in DURING_CALL:
        change()
    if note is None:
        return {"code": "note_not_found"}, 404
    return note


@blp.route("/note", methods=["PATCH"])
@auth_required
def patch_note():
    user = current_principal().user_id
    NOTES[user] = {"text": "changed", "version": NOTES[user]["version"] + 1}
    return NOTES[user]


read_cache.writers_read_their_writes(blp, KIND)  # the PATCH above ends its writer's entries


@pytest.fixture
def client(gw_config, jwks, redis_client):
    NOTES.clear(), CALLS.clear(), DURING_CALL.clear()
    config = copy.deepcopy(gw_config)
    config["gateway"]["read_cache_ttl_s"] = 60
    app = create_app(config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client, blueprints=[blp])
    return app.test_client()


@pytest.fixture
def person(make_token):
    user, tenant = str(uuid.uuid4()), str(uuid.uuid4())
    NOTES[user] = {"text": "first", "version": 1}
    return user, {"Authorization": f"Bearer {make_token(sub=user, tenant_id=tenant)}"}


def test_a_second_read_is_answered_from_the_cache_in_the_same_redis_round_trip(client, person, redis_client,
                                                                            monkeypatch):
    user, auth = person
    first = client.get("/api/v1/cached/note", headers=auth)
    assert first.status_code == 200 and CALLS == [user]
    trips = []
    pool = redis_client.connection_pool
    real = pool.get_connection
    monkeypatch.setattr(pool, "get_connection", lambda *a, **k: trips.append(1) or real(*a, **k))
    again = client.get("/api/v1/cached/note", headers=auth)
    assert again.status_code == 200 and again.json == first.json == {"text": "first", "version": 1}
    assert again.mimetype == "application/json" and again.headers["X-Correlation-ID"]
    assert CALLS == [user] and len(trips) == 1  # the view was not called; rate limits + token + entry: one trip


def test_entries_are_per_caller(client, person, make_token):
    user, auth = person
    client.get("/api/v1/cached/note", headers=auth)
    other = str(uuid.uuid4())
    NOTES[other] = {"text": "someone else's", "version": 7}
    other_auth = {"Authorization": f"Bearer {make_token(sub=other, tenant_id=str(uuid.uuid4()))}"}
    assert client.get("/api/v1/cached/note", headers=other_auth).json["text"] == "someone else's"
    # the same person in another tenant is another entry too
    elsewhere = {"Authorization": f"Bearer {make_token(sub=user, tenant_id=str(uuid.uuid4()))}"}
    client.get("/api/v1/cached/note", headers=elsewhere)
    assert CALLS == [user, other, user]


def test_a_bumped_generation_ends_the_entry_at_once(client, person, redis_client):
    """What the owning service's consumer does on its change events (common.read_cache.forget)."""
    user, auth = person
    client.get("/api/v1/cached/note", headers=auth)
    NOTES[user] = {"text": "changed by an event", "version": 2}
    assert client.get("/api/v1/cached/note", headers=auth).json["version"] == 1  # nothing said it changed
    keys.forget(redis_client, KIND, user)
    assert client.get("/api/v1/cached/note", headers=auth).json == {"text": "changed by an event", "version": 2}
    assert client.get("/api/v1/cached/note", headers=auth).json["version"] == 2 and len(CALLS) == 2


def test_a_writer_reads_its_own_write_through_the_same_gateway(client, person):
    user, auth = person
    assert client.get("/api/v1/cached/note", headers=auth).json["version"] == 1
    assert client.patch("/api/v1/cached/note", headers=auth).json["version"] == 2
    assert client.get("/api/v1/cached/note", headers=auth).json == {"text": "changed", "version": 2}


def test_an_answer_read_before_a_change_is_not_served_after_it(client, person, redis_client):
    """The race a plain delete-on-change loses: the view reads the old row, the change commits and
    bumps the generation, then the view's answer is stored. It is tagged with the old generation."""
    user, auth = person
    DURING_CALL.append(lambda: (NOTES.update({user: {"text": "newer", "version": 2}}),
                                keys.forget(redis_client, KIND, user)))
    assert client.get("/api/v1/cached/note", headers=auth).json["version"] == 1  # read before the change
    DURING_CALL.clear()
    assert client.get("/api/v1/cached/note", headers=auth).json == {"text": "newer", "version": 2}
    assert len(CALLS) == 2


def test_a_revoked_token_is_refused_even_with_a_cached_answer(client, person, gw_config, redis_client):
    user, auth = person
    client.get("/api/v1/cached/note", headers=auth)
    token = auth["Authorization"].split()[1]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    redis_client.set(gw_config["auth"]["revoked_jti_prefix"] + jti, "1", ex=60)
    refused = client.get("/api/v1/cached/note", headers=auth)
    assert refused.status_code == 401 and refused.json["code"] == "token_revoked"
    assert client.get("/api/v1/cached/note").status_code == 401  # and nobody is answered without a token


def test_only_ok_answers_are_kept_and_a_zero_ttl_turns_the_cache_off(gw_config, jwks, redis_client, person):
    user, auth = person
    NOTES.pop(user)
    config = copy.deepcopy(gw_config)
    config["gateway"]["read_cache_ttl_s"] = 60
    client = create_app(config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                        blueprints=[blp]).test_client()
    assert client.get("/api/v1/cached/note", headers=auth).status_code == 404
    NOTES[user] = {"text": "made", "version": 1}
    assert client.get("/api/v1/cached/note", headers=auth).status_code == 200  # the 404 was not kept
    config["gateway"]["read_cache_ttl_s"] = 0
    uncached = create_app(config, jwks_provider=lambda: copy.deepcopy(jwks), redis_client=redis_client,
                          blueprints=[blp]).test_client()
    CALLS.clear()
    uncached.get("/api/v1/cached/note", headers=auth), uncached.get("/api/v1/cached/note", headers=auth)
    assert CALLS == [user, user]
