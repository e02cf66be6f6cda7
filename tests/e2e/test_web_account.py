"""A person's account in a real browser (issue 13): the verification e-mail read on the SMTP sink's
mailbox page and its link opened; a resend refused while throttled; e-mail preferences saved and an
unsubscribe link that asks before it acts; the password changed (another browser signed out); a data
export with its download link; leaving an organisation (the owner cannot) and erasing an account
(an owner cannot; a member can, the session ends and login is refused)."""
from __future__ import annotations

import re
import uuid

import requests
from playwright.sync_api import expect

from careeros_services import supervisor
from careeros_services.notifications import domain as notifications_domain
from tests.e2e.test_notifications import wait_for_mail
from tests.e2e.test_walking_skeleton import bearer, login, register
from tests.e2e.web_support import PASSWORD, check_page, log_in, sign_up, unique_email


def _flash(page, text: str):
    return expect(page.locator(".flash", has_text=text))


def test_an_owner_verifies_sets_preferences_changes_the_password_and_exports_their_data(
        new_page, platform_env, api):
    page, email, org = new_page(), unique_email("acct"), f"Acct {uuid.uuid4().hex[:6]}"
    sign_up(page, "Grace Owner", email, organisation=org)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_text("not verified yet")).to_be_visible()
    page.get_by_role("button", name="Resend the verification e-mail").click()
    _flash(page, "A new verification link is on its way").to_be_visible()
    page.get_by_role("button", name="Resend the verification e-mail").click()  # within the minute
    _flash(page, "try again in").to_be_visible()
    check_page(page, "40-settings-account")

    # The developer's mailbox (the sink's own page): the newest verification e-mail, its link clicked.
    wait_for_mail(platform_env, email, "Confirm your e-mail address", count=2)
    mailbox = f"http://127.0.0.1:{platform_env['CAREEROS_SMTP_SINK_HTTP_PORT']}/"
    page.goto(mailbox)
    page.get_by_role("row").filter(has_text=email).first.get_by_role("link").click()  # newest first
    expect(page.locator("iframe[sandbox]")).to_have_count(1)
    page.locator('a[href*="/verify-email?token="]').click()
    expect(page.get_by_role("heading", name="E-mail address confirmed")).to_be_visible()
    check_page(page, "41-email-verified")
    page.goto("/settings")
    expect(page.get_by_text("verified", exact=True)).to_be_visible()

    # Preferences: every optional kind from the API, saved with PATCH, as saved after a reload.
    page.get_by_role("link", name="E-mail preferences").click()
    digest = page.get_by_label("My weekly progress digest")
    expect(digest).to_be_checked()
    digest.uncheck()
    page.get_by_role("button", name="Save preferences").click()
    _flash(page, "Your e-mail preferences are saved.").to_be_visible()
    page.reload()
    expect(page.get_by_label("My weekly progress digest")).not_to_be_checked()
    expect(page.get_by_label("A course or a target role is assigned to me")).to_be_checked()
    check_page(page, "42-settings-notifications")

    # The unsubscribe link of an assignment e-mail: opening it changes nothing, the button does.
    config = supervisor.config_with(platform_env)
    me = api.get("/me", headers=bearer(login(api, email)["access_token"])).json()
    token = notifications_domain.unsubscribe_token(config["notifications"]["signing_secret"], me["tenant_id"],
                                                   me["user_id"], "assignment")
    page.goto(f"/unsubscribe?token={token}")
    check_page(page, "43-unsubscribe")
    page.goto("/settings/notifications")
    expect(page.get_by_label("A course or a target role is assigned to me")).to_be_checked()
    page.goto(f"/unsubscribe?token={token}")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    page.goto("/settings/notifications")
    expect(page.get_by_label("A course or a target role is assigned to me")).not_to_be_checked()

    # Change the password: the wrong current one is refused at its field; then another browser is signed out.
    other = new_page()
    log_in(other, email)
    page.goto("/settings")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password").fill("a much longer passphrase")
    page.get_by_role("button", name="Change the password").click()
    expect(page.locator("#e-current_password")).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("a much longer passphrase")
    page.get_by_role("button", name="Change the password").click()
    _flash(page, "Every other session (other browsers and devices) is signed out.").to_be_visible()
    page.get_by_role("link", name="E-mail preferences").click()  # this session goes on
    expect(page.get_by_role("button", name="Save preferences")).to_be_visible()
    other.goto("/settings")
    expect(other.get_by_role("heading", name="Log in")).to_be_visible()

    # Organisations: the owner cannot leave, and is told why.
    page.get_by_role("link", name="Organisations").click()
    check_page(page, "44-settings-organisations")
    page.get_by_role("link", name=f"Leave {org}").click()
    page.get_by_role("button", name=f"Yes, leave {org}").click()
    _flash(page, "transfer ownership first").to_be_visible()

    # Export: the status, then the time-limited link (the page polls by itself).
    page.get_by_role("link", name="Your data").click()
    page.get_by_role("button", name="Request an export").click()
    _flash(page, "Your export has started.").to_be_visible()
    download = page.get_by_role("link", name="Download your data (zip)")
    expect(download).to_be_visible(timeout=90_000)
    check_page(page, "45-settings-privacy")
    archive = requests.get(download.get_attribute("href"), timeout=30)
    assert archive.status_code == 200 and archive.content[:2] == b"PK"
    # An owner's erasure is refused readably: ownership first.
    page.get_by_label("Type your e-mail address to confirm").fill(email)
    page.get_by_role("button", name="Erase my account").click()
    _flash(page, "transfer its ownership first").to_be_visible()


def _invite(api, owner_token: str, email: str) -> str:
    made = api.post("/orgs/current/invites", headers=bearer(owner_token), json={"email": email, "role": "member"})
    assert made.status_code == 201, made.text
    return made.json()["token"]


def test_a_member_leaves_two_organisations_and_then_erases_their_account(new_page, api):
    """Leaving another organisation than the current one, then the current one (their home, and their
    last: the session ends and the next login lands in a new personal space), then erasure."""
    suffix = uuid.uuid4().hex[:6]
    first, second = f"Home {suffix}", f"Other {suffix}"
    owners = {name: register(api, organization_name=name) for name in (first, second)}
    tokens = {name: login(api, owner["email"])["access_token"] for name, owner in owners.items()}
    email = f"member{suffix}@example.com"
    joined = api.post(f"/orgs/invites/{_invite(api, tokens[first], email)}/accept",
                      json={"display_name": "Mo Member", "password": PASSWORD})  # their account's home
    assert joined.status_code == 200, joined.text
    also = api.post(f"/orgs/invites/{_invite(api, tokens[second], email)}/accept", json={},
                    headers=bearer(joined.json()["tokens"]["access_token"]))
    assert also.status_code == 200, also.text

    page = new_page()
    log_in(page, email)  # in their home organisation
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Organisations").click()
    page.get_by_role("link", name=f"Leave {second}").click()
    check_page(page, "46-leave-confirmation")
    page.get_by_role("button", name=f"Yes, leave {second}").click()
    _flash(page, f"You have left {second}.").to_be_visible()
    expect(page.get_by_role("link", name=f"Leave {first}")).to_be_visible()  # this session goes on
    page.get_by_role("link", name=f"Leave {first}").click()
    page.get_by_role("button", name=f"Yes, leave {first}").click()
    _flash(page, "Log in again to continue in your personal space").to_be_visible()
    for name, owner in owners.items():
        members = api.get("/orgs/current/members", headers=bearer(tokens[name])).json()["members"]
        assert [m["user_id"] for m in members] == [owner["user_id"]], name

    log_in(page, email)
    page.goto("/settings/privacy")
    page.get_by_label("Type your e-mail address to confirm").fill("someone@else.example")
    page.get_by_role("button", name="Erase my account").click()
    expect(page.locator("#e-confirm_email")).to_be_visible()
    page.get_by_label("Type your e-mail address to confirm").fill(email)
    page.get_by_role("button", name="Erase my account").click()
    _flash(page, "Your account is being erased. You have been signed out").to_be_visible()
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # the session ended
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The email or password is not right.")).to_be_visible()
