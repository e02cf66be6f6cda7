"""Issue 13's journeys over the gateway with every process running, and real SMTP: the platform's
own embedded sink (started by the supervisor like `make run` does) keeps every message in a
Maildir that these tests read the way `careeros mail` does.

register -> verification e-mail -> its link verifies; forgot password -> e-mail -> reset -> the old
refresh token is refused; an owner invites -> the invitee's e-mail has the link -> accept -> leave; the sink
stopped during an invite -> the e-mail arrives once after it is back; a week of learning recorded
through the gateway -> one weekly progress digest. (The dunning e-mails are checked in
tests/e2e/test_billing_journey.py, on the journey that makes them.)
"""
from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, time as day_time, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import requests

from careeros_services.common.infra import stop_process
from careeros_services import supervisor
from careeros_services.common.infra import port_open
from careeros_services.lms import domain as lms_domain
from careeros_services.common.config import load_config
from careeros_services.notifications import domain as notifications_domain, sink
from tests.e2e.test_walking_skeleton import PASSWORD, bearer, login, register

LINK = re.compile(r"https?://\S+")


def mailbox(platform_env: dict, address: str) -> list:
    """Messages the platform's sink kept for ``address``, in the order they arrived."""
    config = {"smtp": {**load_config()["smtp"], "sink_dir": platform_env["CAREEROS_SMTP_SINK_DIR"]}}
    return [m for _key, m in sink.messages(config) if address in (m["To"] or "")]


def wait_for_mail(platform_env: dict, address: str, subject_part: str, count: int = 1,
                  timeout_s: float = 60) -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [m for m in mailbox(platform_env, address) if subject_part in m["Subject"]]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, (f"no e-mail '{subject_part}' for {address}; got "
                                             f"{[m['Subject'] for m in mailbox(platform_env, address)]}")
        time.sleep(0.2)


def link_in(message, path: str) -> str:
    [link] = [url for url in LINK.findall(sink.text_of(message)) if path in url]
    return link


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


def test_sign_up_sends_a_verification_link_that_verifies_the_address_once(api, platform_env):
    user = register(api)
    pair = login(api, user["email"])
    assert api.get("/me", headers=bearer(pair["access_token"])).json()["email_verified"] is False
    [message] = wait_for_mail(platform_env, user["email"], "Confirm your e-mail address")
    link = link_in(message, "/verify-email")
    assert link.startswith(f"{platform_env['CAREEROS_WEB_BASE_URL']}/verify-email?token=")  # a web page, not the API
    clicked = requests.get(link, timeout=10)  # the web client verifies through the API and says so
    assert clicked.status_code == 200 and "E-mail address confirmed" in clicked.text, clicked.text
    again = requests.get(link, timeout=10)
    assert again.status_code == 409 and "This link did not work" in again.text
    again = api.post("/auth/verify-email", json={"token": token_of(link)})
    assert (again.status_code, again.json()["code"]) == (409, "token_used")
    assert api.get("/me", headers=bearer(pair["access_token"])).json()["email_verified"] is True
    fresh = login(api, user["email"])["access_token"]
    assert api.get("/me", headers=bearer(fresh)).json()["email_verified"] is True
    resend = api.post("/auth/verify-email/resend", headers=bearer(fresh))
    assert (resend.status_code, resend.json()["code"]) == (409, "email_already_verified")


def test_resending_the_verification_link_is_rate_limited(api, platform_env):
    user = register(api)
    token = login(api, user["email"])["access_token"]
    assert api.post("/auth/verify-email/resend", headers=bearer(token)).status_code == 202
    throttled = api.post("/auth/verify-email/resend", headers=bearer(token))
    assert (throttled.status_code, throttled.json()["code"]) == (429, "resend_throttled")
    assert "Retry-After" in throttled.headers
    first, second = wait_for_mail(platform_env, user["email"], "Confirm your e-mail address", count=2)
    stale = api.post("/auth/verify-email", json={"token": token_of(link_in(first, "verify-email"))})
    assert (stale.status_code, stale.json()["code"]) == (409, "token_used")  # the newer link replaced it
    assert api.post("/auth/verify-email", json={"token": token_of(link_in(second, "verify-email"))}).ok


def test_forgot_password_mails_a_single_use_link_and_the_reset_ends_every_session(api, platform_env):
    user = register(api)
    old = login(api, user["email"])
    unknown = api.post("/auth/password/forgot", json={"email": f"nobody{uuid.uuid4().hex[:8]}@example.com"})
    known = api.post("/auth/password/forgot", json={"email": user["email"].upper()})
    assert unknown.status_code == known.status_code == 202 and unknown.content == known.content
    [message] = wait_for_mail(platform_env, user["email"], "Reset your CareerOS password")
    token = token_of(link_in(message, "/reset-password"))
    weak = api.post("/auth/password/reset", json={"token": token, "password": "short"})
    assert weak.status_code == 422
    new_password = "a brand new passphrase"
    assert api.post("/auth/password/reset", json={"token": token, "password": new_password}).status_code == 204
    reused = api.post("/auth/password/reset", json={"token": token, "password": "yet another passphrase"})
    assert (reused.status_code, reused.json()["code"]) == (409, "token_used")
    refused = api.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_refresh_token")
    assert api.get("/me", headers=bearer(old["access_token"])).json()["code"] == "token_revoked"
    assert api.post("/auth/login", json={"email": user["email"], "password": PASSWORD}).status_code == 401
    assert api.post("/auth/login", json={"email": user["email"], "password": new_password}).status_code == 200


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(api):
    user = register(api)
    other, this = login(api, user["email"]), login(api, user["email"])
    wrong = api.post("/auth/password/change", headers=bearer(this["access_token"]),
                     json={"current_password": "not it at all", "new_password": "another good passphrase"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_current_password")
    changed = api.post("/auth/password/change", headers=bearer(this["access_token"]),
                       json={"current_password": PASSWORD, "new_password": "another good passphrase"})
    assert changed.status_code == 200, changed.text
    assert api.post("/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401
    assert api.post("/auth/refresh", json={"refresh_token": this["refresh_token"]}).status_code == 401
    assert api.get("/me", headers=bearer(other["access_token"])).json()["code"] == "token_revoked"
    assert api.get("/me", headers=bearer(changed.json()["access_token"])).status_code == 200  # this session goes on
    assert api.post("/auth/refresh", json={"refresh_token": changed.json()["refresh_token"]}).status_code == 200


def invite(api, owner_token: str, email: str) -> dict:
    response = api.post("/orgs/current/invites", json={"email": email, "role": "member"},
                        headers=bearer(owner_token))
    assert response.status_code == 201, response.text
    return response.json()


def test_an_invite_reaches_the_invitee_by_e_mail_and_its_link_joins_them(api, platform_env):
    org_name = f"Acme {uuid.uuid4().hex[:6]}"
    owner = register(api, organization_name=org_name)
    owner_token = login(api, owner["email"])["access_token"]
    invitee = f"inv{uuid.uuid4().hex[:10]}@example.com"
    invite(api, owner_token, invitee)
    [message] = wait_for_mail(platform_env, invitee, f"invited you to {org_name}")
    assert message["Subject"] == f"Ada Learner invited you to {org_name} on CareerOS"
    token = urlparse(link_in(message, "/invites/")).path.rsplit("/", 1)[1]
    joined = api.post(f"/orgs/invites/{token}/accept", json={"password": PASSWORD, "display_name": "Invitee"})
    assert joined.status_code == 200, joined.text
    assert (joined.json()["tenant_id"], joined.json()["org_role"]) == (owner["tenant_id"], "member")
    member = joined.json()["tokens"]
    me = api.get("/me", headers=bearer(member["access_token"])).json()
    assert me["email_verified"] is True  # the invite's link proved the address

    # Leaving: the owner cannot; the member can, and their session in the organisation ends.
    owner_leaves = api.post("/orgs/current/leave", headers=bearer(owner_token))
    assert (owner_leaves.status_code, owner_leaves.json()["code"]) == (409, "owner_required")
    assert api.post("/orgs/current/leave", headers=bearer(member["access_token"])).status_code == 204
    refused = api.post("/auth/refresh", json={"refresh_token": member["refresh_token"]})
    assert refused.status_code == 401
    members = api.get("/orgs/current/members", headers=bearer(owner_token)).json()["members"]
    assert [m["user_id"] for m in members] == [owner["user_id"]]


def test_an_invite_made_while_the_smtp_server_is_down_is_sent_once_after_it_returns(api, platform, platform_env):
    owner = register(api, organization_name=f"Outage {uuid.uuid4().hex[:6]}")
    owner_token = login(api, owner["email"])["access_token"]
    invitee = f"late{uuid.uuid4().hex[:10]}@example.com"
    port = int(platform_env["CAREEROS_SMTP_PORT"])
    stop_process(platform.children.pop("smtp-sink"))
    assert not port_open(port)
    try:
        made = invite(api, owner_token, invitee)
        notifications = _notifications(platform_env)
        try:
            deadline = time.monotonic() + 30
            while not [r for r in notifications.list_messages("queued", 200) if r["attempts"] >= 1]:
                assert time.monotonic() < deadline, "the invite was never attempted while the sink was down"
                time.sleep(0.2)
        finally:
            notifications.store.close()
        assert mailbox(platform_env, invitee) == []
    finally:
        config = supervisor.config_with(platform_env)
        platform._spawn("smtp-sink", supervisor.process_commands(config, ["notifications"])["smtp-sink"])
    [message] = wait_for_mail(platform_env, invitee, "invited you to")
    assert made["token"] in sink.text_of(message)
    time.sleep(2)  # what a second send would need: none comes
    assert len(mailbox(platform_env, invitee)) == 1


def _notifications(platform_env: dict):
    from careeros_services.notifications.service import build

    return build(supervisor.config_with(platform_env))


def test_an_assignment_e_mail_unsubscribes_in_one_click_and_preferences_say_so(api, platform_env):
    org_name = f"Prefs {uuid.uuid4().hex[:6]}"
    owner = register(api, organization_name=org_name)
    token = login(api, owner["email"])["access_token"]
    assert api.get("/notifications/preferences", headers=bearer(token)).json() == {
        "enabled": {"assignment": True, "certificate_issued": True, "weekly_digest": True}}

    def assign(role: str) -> None:
        made = api.post("/orgs/current/assignments", headers=bearer(token),
                        json={"user_id": owner["user_id"], "target_role": role})
        assert made.status_code == 201, made.text

    assign("Data analyst")
    [message] = wait_for_mail(platform_env, owner["email"], f"New learning assigned to you at {org_name}")
    assert "Data analyst" in sink.text_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = requests.post(message["List-Unsubscribe"].strip("<>"), data={"List-Unsubscribe": "One-Click"},
                              timeout=10)  # what a mail client sends (RFC 8058): a form post, no login
    assert one_click.status_code == 200 and one_click.json() == {"kind": "assignment", "enabled": False}
    assert api.get("/notifications/preferences", headers=bearer(token)).json()["enabled"]["assignment"] is False
    forged = api.post("/notifications/unsubscribe", params={"token": "bm90.b3Vycw"})
    assert (forged.status_code, forged.json()["code"]) == (404, "unsubscribe_token_invalid")
    required = api.patch("/notifications/preferences", headers=bearer(token),
                         json={"enabled": {"password_reset": False}})
    assert required.status_code == 422 and "password_reset" in required.json()["errors"]

    assign("Data engineer")  # turned off: queued, then skipped, never mailed
    time.sleep(3)
    assert len(wait_for_mail(platform_env, owner["email"], "New learning assigned")) == 1
    back = api.patch("/notifications/preferences", headers=bearer(token), json={"enabled": {"assignment": True}})
    assert back.json()["enabled"]["assignment"] is True
    assign("Data scientist")
    wait_for_mail(platform_env, owner["email"], "New learning assigned", count=2)


def test_a_person_resets_a_forgotten_password_through_the_web_pages_the_mail_links_to(api, platform_env, web_url):
    """Forgot-password page -> e-mail -> its link opens the web client's page -> new password set there."""
    user = register(api)
    browser = requests.Session()

    def csrf(page_url: str) -> str:
        page = browser.get(page_url, timeout=20)
        assert page.status_code == 200, page.text
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    asked = browser.post(f"{web_url}/forgot-password", timeout=20, data={
        "csrf_token": csrf(f"{web_url}/forgot-password"), "email": user["email"]})
    assert asked.status_code == 200 and "a link to choose a new password is on its way" in asked.text
    [message] = wait_for_mail(platform_env, user["email"], "Reset your CareerOS password")
    link = link_in(message, "/reset-password")
    assert link.startswith(f"{web_url}/reset-password?token=")  # the web client's own page
    weak = browser.post(f"{web_url}/reset-password", timeout=20, data={
        "csrf_token": csrf(link), "token": token_of(link), "password": "short"})
    assert weak.status_code == 422 and 'aria-invalid="true"' in weak.text   # shown at the field
    done = browser.post(f"{web_url}/reset-password", timeout=20, data={
        "csrf_token": csrf(link), "token": token_of(link), "password": "a brand new passphrase"})
    assert done.status_code == 200 and "Your password is changed" in done.text
    assert api.post("/auth/login", json={"email": user["email"], "password": "a brand new passphrase"}
                    ).status_code == 200


def test_a_week_of_learning_brings_one_progress_digest_by_e_mail(api, platform_env):
    from careeros_services.auth.service import build as build_auth

    org_name = f"Digest {uuid.uuid4().hex[:6]}"
    person = register(api, organization_name=org_name)
    token = login(api, person["email"])["access_token"]
    statement = lms_domain.statement(person["user_id"], "completed", course_id=str(uuid.uuid4()),
                                     lesson_id=str(uuid.uuid4()), title="Joins")
    statement["result"] = {"completion": True, "duration": "PT12M"}
    assert api.post("/tracking/statements", json=statement, headers=bearer(token)).status_code == 200

    # Next Monday, as the digest timer would see it: the service's clock is injected, nothing waits a week.
    this_week = notifications_domain.week_start(datetime.now(timezone.utc))
    next_monday = datetime.combine(this_week + timedelta(days=7), day_time(8), tzinfo=timezone.utc)
    config = supervisor.config_with(platform_env)
    service = _notifications(platform_env)
    service.clock = lambda: next_monday
    auth = build_auth(config)
    key = notifications_domain.digest_event_id(person["tenant_id"], person["user_id"], this_week)
    deadline = time.monotonic() + 60
    try:  # the tracker's event reaches the notifications consumer (its own read model) within moments
        while not any(m["event_id"] == key for m in service.list_messages("queued", limit=1000)):
            assert time.monotonic() < deadline, "the statement never reached the digest's read model"
            service.queue_weekly_digests()
            time.sleep(0.5)
        assert service.queue_weekly_digests() == 0  # once per person and week
        service.deliver_due(auth.contact)
    finally:
        service.store.close()
        auth.store.close()
    [digest] = wait_for_mail(platform_env, person["email"], "Your week on CareerOS")
    assert digest["Subject"] == f"Your week on CareerOS at {org_name}: 1 lesson completed"
    assert "Time learning: 12 min (1 activity, on 1 day)" in sink.text_of(digest)
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
