"""Issue 11's journeys across services, through the gateway of the shared platform (tests/e2e/conftest.py).

Pay for pro and enter a premium course on the very next request, with the same token; a declined card
is a 402 naming the reason and leaves no subscription; the plans' advertised limits are the enforced
ones; an admin revokes an invite and the seat is free again, and a person in two organisations lists
both with their role; names show where people read; "Excel" at level 3 shortens the Spreadsheets
milestone and every skill shown carries its ESCO URI.
"""
from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_walking_skeleton import PASSWORD, bearer, login, register, wait_for_profile
from tests.polling import eventually

pytestmark = pytest.mark.e2e

SPREADSHEETS_URI = "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


def premium_course(api, token: str) -> dict:
    page = api.get("/lms/courses", params={"page_size": 100}, headers=bearer(token))
    assert page.status_code == 200, page.text
    return next(c for c in page.json()["items"] if c["premium"] is True)


def test_paying_for_pro_opens_a_premium_course_on_the_very_next_request_with_the_same_token(api):
    user = register(api)
    token = login(api, user["email"])["access_token"]
    course = premium_course(api, token)
    page_url = f"/lms/courses/{course['id']}"
    assert api.get(page_url, headers=bearer(token)).json()["access"] == "read_only"  # (now a cached page)
    problem(api.post(f"/lms/courses/{course['id']}/enrollments", headers=bearer(token)), 403, "entitlement_required")

    paid = api.post("/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                    headers=bearer(token), timeout=30)
    assert paid.status_code == 201, paid.text
    assert paid.json()["subscription"]["status"] == "active" and paid.json()["payment"]["status"] == "succeeded"
    assert api.get(page_url, headers=bearer(token)).json()["access"] == "full"  # the plan is in the cache's tag
    enrolled = api.post(f"/lms/courses/{course['id']}/enrollments", headers=bearer(token))   # the same token
    assert enrolled.status_code == 201, enrolled.text

    # The saga's last steps (auth's answer, notify) may still run: 409 change_in_progress says retry.
    canceled = eventually(lambda: api.post("/billing/subscription/cancel", json={"at_period_end": False},
                                           headers=bearer(token), timeout=30),
                          lambda r: r.status_code != 409, what="the activation saga to finish", timeout_s=60.0)
    assert canceled.status_code == 200, canceled.text
    page = api.get(f"/lms/courses/{course['id']}", headers=bearer(token))                    # access ends at once
    assert page.json()["access"] == "read_only" and page.json()["enrolled"] is True
    lesson = next(le for module in page.json()["modules"] for le in module["lessons"] if le["kind"] == "article")
    problem(api.get(f"/lms/lessons/{lesson['lesson_id']}", headers=bearer(token)), 403, "entitlement_required")


def test_a_declined_card_is_a_402_naming_the_reason_and_no_subscription_is_left(api):
    user = register(api)
    token = login(api, user["email"])["access_token"]
    body = problem(api.post("/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_chargeDeclined"},
                            headers=bearer(token)), 402, "payment_declined")
    assert body["errors"] == {"payment_method": ["card_declined"]} and "card_declined" in body["detail"]
    view = api.get("/billing/subscription", headers=bearer(token)).json()
    assert view["plan"] == "free" and view["subscription"]["status"] == "canceled"
    pending = api.post("/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_authenticationRequired"},
                       headers=bearer(token))
    assert pending.status_code == 202, pending.text
    assert pending.json()["next"] == {"poll": "/api/v1/billing/subscription", "status": "requires_action"}


def test_the_advertised_limits_are_the_enforced_ones(api):
    plans = {p["code"]: p for p in api.get("/billing/plans").json()["plans"]}
    owner = register(api, organization_name=f"Limits {uuid.uuid4().hex[:6]}")
    token = login(api, owner["email"])["access_token"]
    usage = api.get("/ai/usage", headers=bearer(token))
    assert usage.status_code == 200, usage.text
    assert usage.json()["consultations_quota"] == plans["free"]["ai_quota"]
    org = api.get("/orgs/current", headers=bearer(token)).json()
    assert (org["plan_tier"], org["seat_limit"]) == ("free", plans["free"]["seats_included"])
    assert f"ai_quota:{plans['pro']['ai_quota']}" in plans["pro"]["entitlements"]


def test_an_admin_revokes_an_invite_and_the_seat_is_free_again_and_names_show_where_people_read(api):
    owner = register(api, organization_name=f"Seats {uuid.uuid4().hex[:6]}", display_name="Olivia Owner")
    token = login(api, owner["email"])["access_token"]
    seats = api.get("/orgs/current", headers=bearer(token)).json()["seat_limit"]
    invites = []
    for _ in range(seats - 1):
        made = api.post("/orgs/current/invites", json={"email": f"i{uuid.uuid4().hex[:8]}@example.com",
                                                       "role": "member"}, headers=bearer(token))
        assert made.status_code == 201, made.text
        invites.append(made.json())
    assert invites[0]["accept_url"].endswith(f"/invites/{invites[0]['token']}")
    problem(api.post("/orgs/current/invites", json={"email": "x@example.com", "role": "member"},
                     headers=bearer(token)), 409, "seat_limit_reached")
    listed = api.get("/orgs/current/invites", headers=bearer(token)).json()
    assert {i["invite_id"] for i in listed["invites"]} == {i["invite_id"] for i in invites}

    assert api.delete(f"/orgs/current/invites/{invites[0]['invite_id']}", headers=bearer(token)).status_code == 200
    assert api.get("/orgs/current", headers=bearer(token)).json()["seats_used"] == seats - 1
    problem(api.post(f"/orgs/invites/{invites[0]['token']}/accept",
                     json={"password": PASSWORD, "display_name": "Too Late"}), 409, "invite_revoked")

    # The freed seat goes to someone who already has an account: they accept logged in, and then
    # belong to two organisations, each with their role.
    member = register(api, display_name="Mona Member")
    member_token = login(api, member["email"])["access_token"]
    made = api.post("/orgs/current/invites", json={"email": member["email"], "role": "instructor"},
                    headers=bearer(token))
    assert made.status_code == 201, made.text
    accepted = api.post(f"/orgs/invites/{made.json()['token']}/accept", json={}, headers=bearer(member_token))
    assert accepted.status_code == 200, accepted.text
    mine = api.get("/me/organizations", headers=bearer(member_token)).json()["organizations"]
    assert sorted((o["org_role"], o["kind"]) for o in mine) == [("instructor", "organization"),
                                                                  ("owner", "personal")]

    log = api.get("/orgs/current/audit-log", headers=bearer(token)).json()["entries"]
    names = {e["action"]: e["actor_name"] for e in log}
    assert names["org.invite_revoked"] == "Olivia Owner" and names["org.invite_accepted"] == "Mona Member"
    # Analytics learned of Mona from membership.changed (ids only); the name comes from auth when read.
    report = eventually(lambda: api.get("/analytics/learners", headers=bearer(token)).json(),
                        lambda r: any(row["user_id"] == member["user_id"] for row in r.get("learners", [])),
                        what="the member in the analytics report", timeout_s=60.0)
    [row] = [row for row in report["learners"] if row["user_id"] == member["user_id"]]
    assert row["display_name"] == "Mona Member"


def test_excel_at_level_3_shortens_the_spreadsheets_milestone_and_skills_carry_esco_uris(api):
    user = register(api)
    token = login(api, user["email"])["access_token"]
    h = bearer(token)
    wait_for_profile(api, token)
    patched = api.patch("/profile", json={"skills": [{"name": "Excel", "level": 3}]}, headers=h)
    assert patched.status_code == 200, patched.text
    assert patched.json()["skills"] == [{"name": "Spreadsheets", "level": 3, "esco_uri": SPREADSHEETS_URI}]

    def spreadsheets_milestone() -> dict:
        made = api.post("/roadmaps", json={"target_role": "Data Analyst", "hours_per_week": 10}, headers=h)
        assert made.status_code == 201, made.text
        return {m["skill_id"]: m for m in made.json()["milestones"]}["spreadsheets"]

    milestone = eventually(spreadsheets_milestone, lambda m: m["known_level"] == 3,
                           what="the roadmap to see the profile's Excel", timeout_s=60.0)
    assert milestone["esco_uri"] == SPREADSHEETS_URI and milestone["level"] == 4
    assert 0 < milestone["planned_hours"] < milestone["estimated_hours"]
    svg = api.get(f"/roadmaps/{api.get('/roadmaps/current', headers=h).json()['roadmap_id']}.svg", headers=h)
    assert svg.status_code == 200 and "Spreadsheets (L4)" in svg.text
