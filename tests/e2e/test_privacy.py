"""GDPR over the gateway with every process running (the session platform of tests/e2e).

A person with data in every service (profile, a consultation, a roadmap, a completed course with
its certificate, statements, a paid subscription, membership of an organisation) exports it:
the zip holds auth's part, one JSON per service and the certificate PDF. Then they erase their
account: login and refresh fail at once; every service confirms; and no table of any service
database (every text, JSON and id column, every schema) names their e-mail, name or id except
the records docs/privacy.md says are kept. An organisation's owner erases a member's data there.
"""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from urllib.parse import urlparse

import psycopg2
import pytest

from bus.privacy import is_privacy_event
from careeros_services import registry, supervisor
from careeros_services.common import db as dbmod
from tests.e2e.test_completion_journey import catalog_answers, learn
from tests.e2e.test_walking_skeleton import PASSWORD, bearer, login, register, wait_for_profile
from tests.polling import eventually

pytestmark = pytest.mark.e2e
FREE_COURSE = "37686a11-0a54-5b13-88d7-c2ab72742a7b"  # Python Foundations (seeded, free)
SERVICES = list(registry.SERVICES)
# The records docs/privacy.md keeps: the request and its answers, naming the person's id only.
KEPT = {("auth", "privacy_requests")}


def _mentions(config: dict, needles: list[str]) -> list[tuple]:
    """(service, schema.table, column, needle) for every text-like column holding a needle."""
    found = []
    for service in SERVICES:
        conn = psycopg2.connect(**dbmod.connect_kwargs(config, service, admin=True))
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT table_schema, table_name, column_name FROM information_schema.columns"
                            " JOIN information_schema.tables USING (table_schema, table_name)"
                            " WHERE table_type = 'BASE TABLE'"
                            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                            " AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json',"
                            "                   'uuid', 'ARRAY')")
                for schema, table, column in cur.fetchall():
                    kept = "event_type" if table == "outbox" else "NULL"
                    for needle in needles:
                        cur.execute(f'SELECT {kept} FROM "{schema}"."{table}"'
                                    f' WHERE strpos(lower("{column}"::text), lower(%s)) > 0', (needle,))
                        for (event_type,) in cur.fetchall():
                            if event_type and is_privacy_event(event_type) or (service, table) in KEPT:
                                continue  # the requests and their answers name the person's id only
                            found.append((service, f"{schema}.{table}", column, needle))
        finally:
            conn.close()
    return sorted(set(found))


def _answered(call):
    """The answer, past 503s of a loaded machine (argon2 under a 3 s gRPC deadline)."""
    return eventually(call, lambda r: r.status_code != 503, timeout_s=30)


def _download(api, url: str) -> zipfile.ZipFile:
    link = urlparse(url)
    response = api.get(link.path.split("/api/v1", 1)[1] + "?" + link.query)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def _a_person_everywhere(api) -> dict:
    """A person with rows in every service: their own space, plus membership of an organisation."""
    name = f"Erin Erasable {uuid.uuid4().hex[:8]}"
    person = register(api, display_name=name)
    tokens = login(api, person["email"])
    h = bearer(tokens["access_token"])
    wait_for_profile(api, tokens["access_token"])
    assert api.patch("/profile", json={"headline": "Privacy probe", "target_role": "Data Engineer",
                                       "skills": [{"name": "Python", "level": 2}]}, headers=h).status_code == 200
    consulted = api.post("/ai/consultations", json={"question": "How do I become a data engineer?"}, headers=h,
                         timeout=30)
    assert consulted.status_code == 201, consulted.text
    roadmap = api.post("/roadmaps", json={"target_role": "Data Engineer", "hours_per_week": 6}, headers=h)
    assert roadmap.status_code == 201, roadmap.text
    learn(api, h, FREE_COURSE, catalog_answers())
    eventually(lambda: api.get("/lms/enrollments", headers=h).json()["items"],
               lambda items: items and items[0]["certificate_id"], timeout_s=90.0)
    paid = api.post("/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                    headers={**h, "Idempotency-Key": uuid.uuid4().hex})
    assert paid.status_code == 201, paid.text
    owner = register(api, organization_name=f"Privacy Org {uuid.uuid4().hex[:6]}")
    owner_h = bearer(login(api, owner["email"])["access_token"])
    invite = api.post("/orgs/current/invites", json={"email": person["email"], "role": "member"}, headers=owner_h)
    assert invite.status_code == 201, invite.text
    joined = api.post(f"/orgs/invites/{invite.json()['token']}/accept", json={}, headers=h)
    assert joined.status_code in (200, 201), joined.text
    return {**person, "name": name, "tokens": tokens, "h": h, "owner": owner, "owner_h": owner_h,
            "org_id": joined.json()["tenant_id"]}


def test_export_then_erasure_across_every_service(api, platform_env):
    person = _a_person_everywhere(api)
    h = person["h"]

    asked = api.post("/me/exports", headers=h)
    assert asked.status_code == 202, asked.text
    assert api.post("/me/exports", headers=h).json()["request_id"] == asked.json()["request_id"]  # one at a time
    export = eventually(lambda: api.get(f"/me/exports/{asked.json()['request_id']}", headers=h).json(),
                        lambda e: e["status"] == "completed", timeout_s=90.0)
    assert export["download_url"] and not export["pending"]
    archive = _download(api, export["download_url"])
    names = set(archive.namelist())
    assert {"auth.json", "export.json", *(f"{s}.json" for s in SERVICES if s != "auth")} <= names, names
    assert any(n.startswith("lms/certificates/") and n.endswith(".pdf") for n in names), names
    assert archive.read(next(n for n in names if n.endswith(".pdf"))).startswith(b"%PDF")
    parts = {n: json.loads(archive.read(n)) for n in names if n.endswith(".json")}
    assert parts["auth.json"]["user"][0]["email"] == person["email"]
    assert "password_hash" not in parts["auth.json"]["user"][0]
    mine = {n: p["tenants"].get(person["tenant_id"], {}) for n, p in parts.items()
            if n not in ("auth.json", "export.json")}
    assert mine["profile.json"]["profiles"][0]["headline"] == "Privacy probe"
    assert mine["tracker.json"]["statements"] and mine["lms.json"]["certificates"]
    assert mine["ai_core.json"]["consultations"] and mine["roadmap.json"]["roadmaps"]
    assert mine["billing.json"]["subscriptions"] and mine["analytics.json"]["statements"]
    assert api.get(f"/me/exports/{asked.json()['request_id']}", headers=person["owner_h"]).status_code == 404

    config = supervisor.config_with(platform_env)
    needles = [person["email"], person["name"], person["user_id"]]
    assert {found[0] for found in _mentions(config, needles)} == set(SERVICES)  # the scan sees them all
    erased = api.post("/me/erasure", json={"confirm": True}, headers=h)
    assert erased.status_code == 202, erased.text
    assert _answered(lambda: api.post("/auth/login", json={"email": person["email"], "password": PASSWORD})
                     ).status_code == 401
    assert _answered(lambda: api.post("/auth/refresh", json={"refresh_token": person["tokens"]["refresh_token"]})
                     ).status_code == 401
    # Every session ends at once: the access token in hand is refused on its next request.
    assert _answered(lambda: api.get("/me", headers=h)).json()["code"] == "token_revoked"
    request_id = erased.json()["request_id"]
    status, answered = eventually(lambda: _request_row(config, request_id), lambda row: row[0] == "completed",
                                  timeout_s=90.0)
    assert set(answered) == set(SERVICES)  # auth and every other service confirmed

    assert _mentions(config, needles) == []
    assert _count(config, "tracker", "SELECT count(*) FROM statements WHERE user_id = %s", person["user_id"]) == 0
    # What is kept: the tenant's books (the invoice, its subscription no longer naming anyone)
    # and analytics' anonymous event log of the personal tenant.
    kept = _kept_records(config, person["tenant_id"])
    assert kept["invoices"] >= 1 and kept["anonymous_subscriptions"] >= 1 and kept["event_log"] > 0


def _request_row(config: dict, request_id: str) -> tuple:
    """(status, answers) of a privacy request, read from auth's database (the erased person has no
    session left to ask the API with)."""
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, "auth", admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT status, answers FROM privacy_requests WHERE id = %s", (request_id,))
            return cur.fetchone()
    finally:
        conn.close()


def _count(config: dict, service: str, query: str, *params) -> int:
    conn = psycopg2.connect(**dbmod.connect_kwargs(config, service, admin=True))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


def _kept_records(config: dict, tenant_id: str) -> dict:
    def count(service: str, query: str) -> int:
        return _count(config, service, query, tenant_id)
    return {"invoices": count("billing", "SELECT count(*) FROM invoices WHERE tenant_id = %s"),
            "anonymous_subscriptions": count("billing", "SELECT count(*) FROM subscriptions WHERE tenant_id = %s"
                                             " AND user_id = '00000000-0000-0000-0000-000000000000'"),
            "event_log": count("analytics", "SELECT count(*) FROM event_log WHERE tenant_id = %s")}


def test_an_owner_erases_a_members_data_in_the_organisation_only(api, platform_env):
    owner = register(api, organization_name=f"Erase Org {uuid.uuid4().hex[:6]}")
    owner_h = bearer(login(api, owner["email"])["access_token"])
    member = register(api)
    member_h = bearer(login(api, member["email"])["access_token"])
    invite = api.post("/orgs/current/invites", json={"email": member["email"], "role": "member"}, headers=owner_h)
    accepted = api.post(f"/orgs/invites/{invite.json()['token']}/accept", json={}, headers=member_h)
    in_org = bearer(accepted.json()["tokens"]["access_token"])
    assert api.post(f"/orgs/current/members/{owner['user_id']}/erasure", json={"confirm": True},
                    headers=owner_h).status_code == 422
    assert api.post(f"/orgs/current/members/{owner['user_id']}/erasure", json={"confirm": True},
                    headers=in_org).json()["code"] == "owner_only"
    assert api.post(f"/orgs/current/members/{member['user_id']}/erasure", json={"confirm": False},
                    headers=owner_h).status_code == 422
    assert api.post("/me/erasure", json={"confirm": True}, headers=owner_h).json()["code"] == "owner_must_transfer"
    erased = api.post(f"/orgs/current/members/{member['user_id']}/erasure", json={"confirm": True}, headers=owner_h)
    assert erased.status_code == 202 and erased.json()["scope"] == "organization", erased.text
    eventually(lambda: api.get(f"/me/erasure/{erased.json()['request_id']}", headers=owner_h).json(),
               lambda e: e["status"] == "completed", timeout_s=90.0)
    members = api.get("/orgs/current/members", headers=owner_h).json()["members"]
    assert member["user_id"] not in [m["user_id"] for m in members]
    assert _answered(lambda: api.post("/auth/login", json={"email": member["email"], "password": PASSWORD})
                     ).status_code == 200  # their account and own space stay
    assert api.get("/orgs/current", headers=in_org).status_code in (401, 403)  # no longer a member
    assert api.get("/profile", headers=member_h).status_code == 200
    config, org = supervisor.config_with(platform_env), owner["tenant_id"]
    in_analytics = _count(config, "analytics", "SELECT count(*) FROM learners WHERE tenant_id = %s AND user_id = %s",
                          org, member["user_id"])
    elsewhere = _count(config, "analytics", "SELECT count(*) FROM learners WHERE tenant_id <> %s AND user_id = %s",
                       org, member["user_id"])
    assert (in_analytics, elsewhere) == (0, 1)
