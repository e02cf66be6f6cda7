"""Issue 5's journeys over HTTP with every process running (the platform fixture of tests/e2e).

Personal: pro -> the token says pro -> a premium seed course is open -> the card starts declining ->
billing's clock moves (tick(now_iso) over nameko RPC, no sleeping through real days): renewal fails,
past_due (access kept), the dunning retries fail, canceled -> the token says free -> the enrolment is
read-only and lesson content a 403 entitlement_required.

Organisation: the owner buys team seats -> the token says team -> invites fill the seats and the next
one is refused naming the limit -> the invitees register through their invites -> one learns and sends
xAPI -> four members -> the audit log shows the invites, the acceptances and the subscription.

Moving billing's clock runs the billing timer for every subscription of this platform as of that
moment, so this module keeps its own tenants' state checks to its own subscriptions.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import jwt

from careeros_services.lms import domain as lms_domain
from tests.e2e.test_walking_skeleton import PASSWORD, ROOT, bearer, login, register
from tests.polling import eventually

# One nameko RPC call per moment, the way an engineer would drive billing from `nameko shell`.
TICK = """
import eventlet; eventlet.monkey_patch()
import json, sys
from nameko.standalone.rpc import ClusterRpcProxy
from careeros_services.common.config import load_config
with ClusterRpcProxy(load_config(), timeout=60) as rpc:
    print(json.dumps(rpc.billing.tick(sys.argv[1])))
"""


def _tick(platform_env: dict, moment: datetime) -> dict:
    """Run billing's timer as if it were ``moment`` (billing.allow_clock_override is on in tests/e2e)."""
    result = subprocess.run([sys.executable, "-c", TICK, moment.isoformat()], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, **platform_env, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _claims(access_token: str) -> dict:
    return jwt.decode(access_token, options={"verify_signature": False})


def _refresh_until(api, pair: dict, tier: str) -> dict:
    """Rotate the refresh token until the access token carries ``tier``; returns the new pair."""
    def refreshed():
        response = api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert response.status_code == 200, response.text
        pair.update(response.json())
        return _claims(pair["access_token"])["plan_tier"]
    eventually(refreshed, lambda got: got == tier, what=f"plan_tier {tier} in a refreshed token", timeout_s=90)
    return pair


def _audit_actions(api, token: str) -> list[dict]:
    response = api.get("/orgs/current/audit-log", params={"limit": 200}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def _premium_course(api, token: str) -> tuple[dict, dict]:
    """A premium course of the seed catalog and its first article lesson (outline from the course)."""
    page = api.get("/lms/courses", params={"page_size": 100}, headers=bearer(token))
    assert page.status_code == 200, page.text
    premium = [c for c in page.json()["items"] if c["premium"] is True]
    assert premium, "the seed catalog has no premium course"
    course = api.get(f"/lms/courses/{premium[0]['id']}", headers=bearer(token)).json()
    lessons = [lesson for module in course["modules"] for lesson in module["lessons"]]
    article = next(lesson for lesson in lessons if lesson["kind"] == "article")
    return course, article


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


def _subscription(api, token: str) -> dict:
    response = api.get("/billing/subscription", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_personal_pro_lapses_through_dunning_and_premium_content_locks(api, platform_env):
    user = register(api)
    pair = login(api, user["email"])
    assert _claims(pair["access_token"])["plan_tier"] == "free"
    course, article = _premium_course(api, pair["access_token"])
    _problem(api.post(f"/lms/courses/{course['id']}/enrollments", headers=bearer(pair["access_token"])),
             403, "entitlement_required")

    started = api.post("/billing/subscriptions", json={"plan": "pro", "payment_method": "pm_card_visa"},
                       headers={**bearer(pair["access_token"]), "Idempotency-Key": uuid.uuid4().hex})
    assert started.status_code == 201, started.text
    assert started.json()["latest_invoice"]["status"] == "paid"
    _refresh_until(api, pair, "pro")
    # The saga is over once auth has logged billing's subscription.activated (notify, its last step,
    # publishes it as the saga completes): a moved clock must not find it running (it would re-drive it).
    eventually(lambda: [e["action"] for e in _audit_actions(api, pair["access_token"])],
               lambda actions: "billing.subscription_activated" in actions,
               what="the activation saga to finish", timeout_s=60.0)

    # The card saved for renewals starts declining (the sandbox's decline card, saved through the API).
    switched = api.post("/billing/subscription/change", json={"payment_method": "pm_card_chargeDeclined"},
                        headers=bearer(pair["access_token"]))
    assert switched.status_code == 200, switched.text
    sub = switched.json()["subscription"]
    assert (sub["status"], sub["plan"], sub["payment_method"]) == ("active", "pro", "pm_card_chargeDeclined")

    enrolled = api.post(f"/lms/courses/{course['id']}/enrollments", headers=bearer(pair["access_token"]))
    assert enrolled.status_code == 201, enrolled.text
    lesson = api.get(f"/lms/lessons/{article['lesson_id']}", headers=bearer(pair["access_token"]))
    assert lesson.status_code == 200, lesson.text
    assert lesson.json()["course_id"] == course["id"] and lesson.json()["body_md"].strip()
    body_md = lesson.json()["body_md"]

    # Renewal: the period ends, the renewal invoice is declined -> past_due, access kept meanwhile.
    renewal_at = datetime.fromisoformat(sub["current_period_end"]) + timedelta(minutes=1)
    assert _tick(platform_env, renewal_at)["renewed"] >= 1
    view = _subscription(api, pair["access_token"])
    assert view["subscription"]["status"] == "past_due" and "premium_courses" in view["entitlements"]
    assert datetime.fromisoformat(view["subscription"]["next_retry_at"]) == renewal_at + timedelta(days=1)
    renewal = api.get("/billing/invoices", headers=bearer(pair["access_token"])).json()["invoices"][0]
    assert (renewal["reason"], renewal["status"], renewal["total_minor"]) == (
        "subscription_cycle", "open", 1900)
    _refresh_until(api, pair, "pro")
    still = api.get(f"/lms/lessons/{article['lesson_id']}", headers=bearer(pair["access_token"]))
    assert still.status_code == 200 and still.json()["body_md"] == body_md

    # Dunning: retries at +1, +3, +5 days after the first failure (config billing.dunning_retry_days),
    # each declined; the last one gives up and cancels.
    for day, next_day in ((1, 3), (3, 5), (5, None)):
        retry_at = datetime.fromisoformat(view["subscription"]["next_retry_at"])
        assert retry_at == renewal_at + timedelta(days=day)
        assert _tick(platform_env, retry_at)["retried"] >= 1
        view = _subscription(api, pair["access_token"])
        if next_day is not None:
            assert view["subscription"]["status"] == "past_due", view
            assert "premium_courses" in view["entitlements"]
    assert view["subscription"]["status"] == "canceled", view
    assert view["plan"] == "free" and "premium_courses" not in view["entitlements"]
    invoices = api.get("/billing/invoices", headers=bearer(pair["access_token"])).json()["invoices"]
    assert [(i["id"], i["status"]) for i in invoices if i["reason"] == "subscription_cycle"] == [
        (renewal["id"], "uncollectible")]

    # auth applies billing's entitlement.changed (plan free, reason lapsed): the next token says free.
    _refresh_until(api, pair, "free")
    enrolments = api.get("/lms/enrollments", headers=bearer(pair["access_token"])).json()["items"]
    [mine] = [e for e in enrolments if e["course_id"] == course["id"]]
    assert (mine["premium"], mine["access"], mine["status"]) == (True, "read_only", "active")
    _problem(api.get(f"/lms/lessons/{article['lesson_id']}", headers=bearer(pair["access_token"])),
             403, "entitlement_required")
    actions = eventually(lambda: [e["action"] for e in _audit_actions(api, pair["access_token"])],
                         lambda got: "billing.subscription_canceled" in got,
                         what="billing's subscription.canceled in the audit log", timeout_s=60.0)
    assert "billing.subscription_past_due" in actions

    # Each step reached the subscriber by e-mail, in order (the platform's SMTP sink; issue 13).
    from tests.e2e.test_notifications import wait_for_mail
    assert wait_for_mail(platform_env, user["email"], "Receipt: 19.00")[0].get_content_type() == "multipart/mixed"
    dunning = wait_for_mail(platform_env, user["email"], "Payment failed", count=4)
    assert [m["Subject"] for m in dunning] == [
        "Payment failed (attempt 1): we will try again", "Payment failed (attempt 2): we will try again",
        "Payment failed (attempt 3): we will try again", "Payment failed (attempt 4): your pro plan ends"]
    wait_for_mail(platform_env, user["email"], "Your CareerOS pro plan has ended")


def test_organisation_team_seats_invites_members_learning_and_audit(api):
    owner = register(api, organization_name=f"Journey {uuid.uuid4().hex[:6]}")
    pair = login(api, owner["email"])
    org = api.get("/orgs/current", headers=bearer(pair["access_token"])).json()
    assert (org["plan_tier"], org["tenant_id"]) == ("free", owner["tenant_id"])

    # Four seats: the owner holds one (members + pending invites count), three for the invitees.
    seats = 4
    started = api.post("/billing/subscriptions",
                       json={"plan": "team", "seats": seats, "payment_method": "pm_card_visa"},
                       headers={**bearer(pair["access_token"]), "Idempotency-Key": uuid.uuid4().hex})
    assert started.status_code == 201, started.text
    assert started.json()["latest_invoice"]["total_minor"] == 1500 * seats
    _refresh_until(api, pair, "team")
    owner_h = bearer(pair["access_token"])
    org = api.get("/orgs/current", headers=owner_h).json()
    assert (org["plan_tier"], org["seat_limit"], org["seats_used"]) == ("team", seats, 1)

    emails = [f"m{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(3)]
    invites = []
    for email in emails:
        invite = api.post("/orgs/current/invites", json={"email": email, "role": "member"}, headers=owner_h)
        assert invite.status_code == 201, invite.text
        invites.append(invite.json()["token"])
    refused = api.post("/orgs/current/invites", json={"email": f"x{uuid.uuid4().hex[:8]}@example.com",
                                                      "role": "member"}, headers=owner_h)
    problem = _problem(refused, 409, "seat_limit_reached")
    assert problem["errors"]["seats"] == [f"limit: {seats}", f"used: {seats}"]
    assert f"limit {seats}" in problem["detail"]

    members = []
    for i, token in enumerate(invites):
        accepted = api.post(f"/orgs/invites/{token}/accept", json={"password": PASSWORD,
                                                                   "display_name": f"Member {i}"})
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        claims = _claims(body["tokens"]["access_token"])
        assert (claims["tenant_id"], claims["org_role"], claims["plan_tier"]) == (
            owner["tenant_id"], "member", "team")
        members.append({"user_id": body["user_id"], "token": body["tokens"]["access_token"]})
    assert login(api, emails[0])["access_token"]  # a real account, with the password it registered

    # A member learns: the team plan opens premium courses; the tracker stores the statement.
    learner = members[0]
    course, article = _premium_course(api, learner["token"])
    enrolled = api.post(f"/lms/courses/{course['id']}/enrollments", headers=bearer(learner["token"]))
    assert enrolled.status_code == 201, enrolled.text
    lesson = api.get(f"/lms/lessons/{article['lesson_id']}", headers=bearer(learner["token"]))
    assert lesson.status_code == 200 and lesson.json()["body_md"].strip(), lesson.text
    statement = lms_domain.statement(learner["user_id"], "completed", course_id=course["id"],
                                     lesson_id=article["lesson_id"], title=article["title"])
    posted = api.post("/tracking/statements", json=statement, headers=bearer(learner["token"]))
    assert posted.status_code == 200, posted.text
    assert posted.json()["stored"] == 1
    [statement_id] = posted.json()["statement_ids"]
    # The owner reads the organisation's learners' statements.
    listed = eventually(lambda: api.get("/tracking/statements", params={"learner": learner["user_id"]},
                                         headers=owner_h).json()["statements"],
                        lambda items: statement_id in [s["id"] for s in items],
                        what="the statement in the tracker", timeout_s=60.0)
    assert [s for s in listed if s["id"] == statement_id][0]["object"]["id"] == statement["object"]["id"]

    listed_members = api.get("/orgs/current/members", headers=owner_h)
    assert listed_members.status_code == 200, listed_members.text
    roster = listed_members.json()["members"]
    assert len(roster) == 4
    assert sorted(m["email"] for m in roster if m["org_role"] == "member") == sorted(emails)
    assert [m["user_id"] for m in roster if m["org_role"] == "owner"] == [owner["user_id"]]
    assert api.get("/orgs/current", headers=owner_h).json()["seats_used"] == seats

    entries = eventually(lambda: _audit_actions(api, pair["access_token"]),
                         lambda got: "billing.subscription_activated" in {e["action"] for e in got},
                         what="billing's subscription.activated in the audit log", timeout_s=60.0)
    invited = sorted(e["details"]["email"] for e in entries if e["action"] == "org.invite_created")
    assert invited == sorted(emails)  # the refused fourth invite left no entry
    accepted_by = {e["actor_user_id"] for e in entries if e["action"] == "org.invite_accepted"}
    assert accepted_by == {m["user_id"] for m in members}
    activated = [e for e in entries if e["action"] == "billing.subscription_activated"]
    assert len(activated) == 1 and activated[0]["source"] == "event"
    assert "billing.entitlement_changed" in {e["action"] for e in entries}
