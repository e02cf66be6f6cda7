"""The web client for organisations, in a real browser: an owner buys a team plan (a declined card
explained first), invites an instructor and a member through invitation links; the instructor
builds and publishes a course with a file and a quiz; the owner assigns it; the member completes it
and the owner sees the completion in assignments, analytics (charts, CSV) and the audit log.
Another organisation's admin sees none of it on any page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.web_support import PASSWORD, accept_invite, check_page, invite, reload_until, sign_up, unique_email

COURSE = "Incident Response Basics"


def _build_course(page) -> str:
    page.get_by_role("link", name="Teach", exact=True).click()
    check_page(page, "20-teach-courses")
    page.get_by_role("button", name="Create a course").click()
    page.get_by_role("button", name="Create draft").click()  # empty: the API's message at the title
    expect(page.locator("#e-title")).to_be_visible()
    page.get_by_label("Title").fill(COURSE)
    page.get_by_label("Summary (optional)").fill("Triage, contain, recover.")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_text("Draft course created.")).to_be_visible()
    page.get_by_label("New module title").fill("Playbook")
    page.get_by_role("button", name="Add module").click()
    page.get_by_label("New module title").fill("Scratch")
    page.get_by_role("button", name="Add module").click()
    page.get_by_role("button", name="Move module “Scratch” up").click()  # reorder: Scratch first
    expect(page.locator("#modules h3").first).to_have_text("1. Scratch")
    page.get_by_role("button", name="Delete module “Scratch”").click()
    expect(page.get_by_text("Module deleted.")).to_be_visible()
    page.get_by_label("Title of module 1").fill("")
    page.get_by_role("button", name="Rename").click()  # empty: the API's message, nothing renamed
    expect(page.locator(".flash-error")).to_contain_text("The module was not changed")
    expect(page.get_by_label("Title of module 1")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Title of module 1").fill("Incident playbook")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#modules h3").first).to_have_text("1. Incident playbook")

    page.get_by_role("link", name="Reading (Markdown)").click()
    page.get_by_label("Title").fill("Triage")
    page.get_by_label("Text (Markdown)").fill("# Triage\n\nSeverity **first**.\n\n<script>alert(1)</script>")
    page.get_by_role("button", name="Add lesson").click()
    page.get_by_role("link", name="File to download").click()
    page.get_by_label("Title").fill("Runbook")
    page.get_by_role("button", name="Add lesson").click()
    page.get_by_role("button", name="Move “Runbook” up").click()  # reorder, then back
    expect(page.locator(".lesson-row strong").first).to_have_text("Runbook")
    page.get_by_role("button", name="Move “Runbook” down").click()
    expect(page.locator(".lesson-row strong").first).to_have_text("Triage")
    page.get_by_role("link", name="Edit “Triage”").click()
    expect(page.get_by_label("Text (Markdown)")).to_have_value(re.compile("Severity \\*\\*first"))  # the working copy
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save lesson").click()
    expect(page.locator("#e-title")).to_be_visible()  # the API's problem at its field
    page.get_by_label("Title").fill("Triage steps")
    page.get_by_label("Minutes").fill("15")
    page.get_by_role("button", name="Save lesson").click()
    expect(page.get_by_text("Lesson “Triage steps” saved.")).to_be_visible()
    upload = page.locator("form.upload", has=page.get_by_label("Upload a file for “Runbook”"))
    upload.get_by_label("Upload a file for “Runbook”").set_input_files(
        files=[{"name": "runbook.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 runbook " + b"." * 150_000}])
    upload.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("runbook.pdf uploaded.")).to_be_visible()

    page.get_by_role("link", name="Quiz").click()
    page.get_by_label("Title").fill("Check")
    page.get_by_label("Question 1 text").fill("First step?")
    page.locator("#q0-c0").fill("Triage")
    page.locator("#q0-c1").fill("Panic")
    page.locator("#q0-ok0").check()
    check_page(page, "21-quiz-builder")
    page.get_by_role("button", name="Add lesson").click()
    expect(page.get_by_text("Lesson “Check” added.")).to_be_visible()
    page.get_by_role("link", name="Edit “Check”").click()  # the quiz as built, answers marked
    expect(page.get_by_label("Question 1 text")).to_have_value("First step?")
    expect(page.locator("#q0-ok0")).to_be_checked()
    page.get_by_role("button", name="Save lesson").click()
    expect(page.get_by_text("Lesson “Check” saved.")).to_be_visible()
    check_page(page, "22-course-editor")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published revision 1.")).to_be_visible()
    return page.url.split("/teach/")[1].split("#")[0]


def test_owner_instructor_and_member_through_the_pages(new_page):
    owner = new_page()
    org = f"Acme {unique_email('')[:6]}"
    sign_up(owner, "Olga Owner", unique_email("olga"), organisation=org)
    owner.get_by_role("link", name="Billing", exact=True).click()
    owner.get_by_label("Plan", exact=True).select_option("team")
    owner.get_by_label("Seats (team plan)").fill("4")
    owner.get_by_label("Card (sandbox)").select_option("pm_card_chargeDeclined")
    owner.get_by_role("button", name="Pay and start").click()
    expect(owner.locator("#e-payment_method")).to_contain_text("Your card was declined")
    check_page(owner, "23-billing-declined")
    owner.get_by_label("Card (sandbox)").select_option("pm_card_visa")
    owner.get_by_role("button", name="Pay and start").click()
    expect(owner.get_by_text("Your plan is active.")).to_be_visible()
    reload_until(owner, lambda: owner.get_by_role("cell", name=re.compile("paid")))
    check_page(owner, "24-billing")

    teacher_link = invite(owner, unique_email("ivy"), "instructor")
    member_email = unique_email("max")
    old_member_link = invite(owner, member_email, "member")
    owner.get_by_role("button", name=f"New link for {member_email}").click()  # resend: a new link, the old one dies
    member_link = owner.get_by_label("Invitation link").input_value()
    assert member_link != old_member_link
    mistaken = unique_email("zed")
    invite(owner, mistaken, "member")
    owner.get_by_role("button", name=f"Revoke the invitation for {mistaken}").click()
    expect(owner.get_by_text(f"The invitation for {mistaken} is revoked")).to_be_visible()
    expect(owner.get_by_role("row", name=re.compile(re.escape(mistaken)))).to_have_count(0)
    expect(owner.get_by_role("row", name=re.compile(re.escape(member_email)))).to_be_visible()
    check_page(owner, "25-members")

    teacher = new_page()
    accept_invite(teacher, teacher_link, "Ivy Instructor")
    course_id = _build_course(teacher)

    owner.goto("/org/assignments")
    member = new_page()
    member.goto(old_member_link)
    member.get_by_label("Your name").fill("Max Member")
    member.get_by_label("Password").fill(PASSWORD)
    member.get_by_role("button", name="Accept the invitation").click()
    expect(member.locator("#error-summary")).to_contain_text("withdrawn, or replaced by a newer link")
    accept_invite(member, member_link, "Max Member")
    owner.reload()
    owner.get_by_label("Member").select_option(label="Max Member")
    owner.get_by_label("Course").select_option(label=COURSE)
    owner.get_by_role("button", name="Assign").click()
    expect(owner.get_by_text("Assigned.")).to_be_visible()
    check_page(owner, "26-assignments")

    member.goto(f"/courses/{course_id}")
    member.get_by_role("button", name="Enrol in this course").click()
    content = member.locator(".content")
    expect(content.get_by_role("heading", name="Triage")).to_be_visible()
    expect(content.locator("strong")).to_have_text("first")
    expect(content).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    member.get_by_role("button", name=re.compile("^Next: Runbook")).click()
    with member.expect_download() as download:
        member.get_by_role("button", name="Download runbook.pdf").click()
    assert open(download.value.path(), "rb").read(8) == b"%PDF-1.4"
    member.get_by_role("button", name=re.compile("^Next: Check")).click()
    member.get_by_label("Triage").check()
    member.get_by_role("button", name="Submit answers").click()
    expect(member.locator("#quiz-result")).to_contain_text("Passed")

    teacher.goto(f"/teach/{course_id}")
    teacher.get_by_role("link", name="Results").click()
    reload_until(teacher, lambda: teacher.get_by_role("row", name=re.compile("Max Member.*100%")))
    expect(teacher.locator(".stats")).to_contain_text("100% of enrolments")
    expect(teacher.get_by_role("region", name="Check")).to_contain_text("mean score 100%")
    expect(teacher.get_by_role("row", name=re.compile("First step"))).to_contain_text("1 (100%)")
    check_page(teacher, "31-results")

    member.goto("/org/analytics")  # members have no organisation pages: the 403 page, no figures
    expect(member.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
    check_page(member, "30-forbidden")

    owner.goto("/org/assignments")
    reload_until(owner, lambda: owner.get_by_role("cell", name="1 of 1 assignments"))
    owner.get_by_role("link", name="Analytics").click()
    reload_until(owner, lambda: owner.locator(".stats article", has_text="Enrolments").get_by_text("1 completed"))
    expect(owner.locator("#chart-active")).to_be_visible()
    check_page(owner, "27-analytics")
    with owner.expect_download() as download:
        owner.get_by_role("link", name="Download the learner report (CSV)").click()
    assert "Max Member" in open(download.value.path()).read()
    owner.get_by_role("link", name="Audit log").click()
    expect(owner.get_by_role("cell", name="Olga Owner").first).to_be_visible()
    check_page(owner, "28-audit")

    # Someone with an account of their own joins too, then switches between the two tenants.
    pia = new_page()
    pia_email = unique_email("pia")
    sign_up(pia, "Pia Personal", pia_email)
    pia_link = invite(owner, pia_email, "member")
    pia.goto(pia_link)
    pia.get_by_role("button", name="Accept the invitation").click()
    expect(pia.get_by_text(f"You have joined {org}.")).to_be_visible()
    pia.get_by_role("link", name="Switch organisation").click()
    check_page(pia, "29-switch")
    pia.get_by_label("Work in").select_option(label="Personal account")
    pia.get_by_role("button", name="Switch").click()
    expect(pia.locator(".whoami")).to_contain_text("personal account")
    pia.goto("/switch")
    pia.get_by_label("Work in").select_option(label=f"{org} (member)")
    pia.get_by_role("button", name="Switch").click()
    expect(pia.locator(".whoami")).to_contain_text(f"{org} (member)")

    owner.goto("/org/members")
    row = owner.get_by_role("row", name=re.compile("Max Member"))
    row.get_by_label("Role of Max Member").select_option("instructor")
    row.get_by_role("button", name="Change role").click()
    expect(owner.get_by_text("Role changed.")).to_be_visible()
    expect(owner.get_by_role("row", name=re.compile("Max Member"))).to_contain_text("instructor")
    owner.get_by_role("row", name=re.compile("Ivy Instructor")).get_by_role("button", name="Remove").click()
    expect(owner.get_by_text("Member removed.")).to_be_visible()
    expect(owner.get_by_role("row", name=re.compile("Ivy Instructor"))).to_have_count(0)

    owner.goto("/app/billing")
    owner.get_by_label("Seats (team plan)").fill("5")
    owner.get_by_role("button", name="Change plan").click()
    expect(owner.get_by_text("Your plan has been changed.")).to_be_visible()
    reload_until(owner, lambda: owner.locator("#plan-h + p", has_text="5 seats"))  # once the change saga is done
    owner.get_by_role("button", name="Cancel subscription").click()
    expect(owner.get_by_text("Your subscription is cancelled.")).to_be_visible()
    expect(owner.locator("#plan-h + p")).to_contain_text("It will end then.")

    owner.goto("/org/members")  # hand the organisation over, after a confirmation page
    owner.get_by_role("link", name=re.compile(r"^Make owner\W+Max Member$")).click()
    check_page(owner, "32-transfer")
    owner.get_by_role("button", name="Yes, make Max Member the owner").click()
    expect(owner.get_by_text("Ownership transferred.")).to_be_visible()
    expect(owner.locator(".whoami")).to_contain_text(f"{org} (admin)")
    expect(owner.get_by_role("row", name=re.compile("Max Member"))).to_contain_text("owner")

    small = new_page(width=375, height=800)  # the organisation's and the instructor's pages on a phone
    small.context.add_cookies(owner.context.cookies())
    for path, name in (("/org/members", "33-members-375"), ("/org/analytics", "34-analytics-375"),
                       (f"/teach/{course_id}", "35-editor-375"), (f"/teach/{course_id}/results", "36-results-375")):
        small.goto(path)
        check_page(small, name)

    stranger = new_page()
    sign_up(stranger, "Sam Stranger", unique_email("sam"), organisation=f"Other {unique_email('')[:6]}")
    stranger.goto("/courses?q=incident+response")
    expect(stranger.locator("#results")).not_to_contain_text(COURSE)
    stranger.goto(f"/courses/{course_id}")
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Not found")
    stranger.goto(f"/teach/{course_id}")
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Not found")
    for path in ("/org/members", "/org/assignments", "/org/analytics", "/org/audit", "/app"):
        stranger.goto(path)
        for secret in ("Max Member", "Ivy Instructor", "Olga Owner", COURSE, org):
            expect(stranger.locator("main")).not_to_contain_text(secret)
