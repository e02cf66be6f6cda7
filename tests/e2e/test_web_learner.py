"""The web client in a real browser: a visitor finds a course, signs up, fills the profile, enrols,
works through the course player (progress recorded as units open), passes the quiz, sees the
certificate and downloads its PDF; then asks the consultant and opens the roadmap. Every page
is checked with axe-core and screenshotted; the key pages also at 375 px."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.e2e.web_support import PASSWORD, check_page, reload_until, seeded_course, sign_up, unique_email

COURSE = "Python Foundations"
XAPI_VERB = "http://adlnet.gov/expapi/verbs/"


def test_visitor_signs_up_learns_a_course_and_downloads_the_certificate(new_page, api_url):
    page = new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Plan your career")
    check_page(page, "01-landing")
    page.keyboard.press("Tab")  # keyboard first: the skip link, then straight to the content
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))

    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_label("Search courses").fill("python foundations")
    expect(page.locator("#results").get_by_role("link", name=COURSE)).to_be_visible()
    check_page(page, "02-catalog")
    page.get_by_label("Level").select_option("advanced")
    expect(page.locator("#results").get_by_role("link", name=COURSE)).to_have_count(0)
    page.get_by_label("Level").select_option("")
    page.locator("#results").get_by_role("link", name=COURSE).click()
    expect(page.get_by_role("heading", level=1, name=COURSE)).to_be_visible()
    expect(page.get_by_role("button", name="Sign up to enrol")).to_be_visible()
    check_page(page, "03-course")

    page.goto("/pricing")
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
    check_page(page, "04-pricing")

    page.goto("/signup")
    page.get_by_role("button", name="Create account").click()  # nothing filled: errors at the fields
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#e-email")).to_contain_text("email")
    check_page(page, "05-signup-errors")
    email = unique_email("lea")
    sign_up(page, "Lea Learner", email)
    cookie = next(c for c in page.context.cookies() if c["name"] == "careeros_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "eyJ" not in page.content()  # no token ever reaches the page

    page.get_by_label("Target role").select_option(index=1)
    page.get_by_label("Hours a week for learning").fill("5")
    page.get_by_label("Skill 1", exact=True).press_sequentially("excel")  # the API's taxonomy search
    expect(page.locator("#skill-options option").first).to_have_attribute("value", "Spreadsheets")
    page.get_by_label("Skill 1", exact=True).fill("SQL")
    page.get_by_label("Level of skill 1").select_option("3")
    check_page(page, "06-profile")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(page.get_by_label("Skill 1", exact=True)).to_have_value("SQL")

    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_label("Search courses").fill("python foundations")
    page.locator("#results").get_by_role("link", name=COURSE).click()
    page.get_by_role("button", name="Enrol in this course").click()
    expect(page.get_by_role("navigation", name="Course outline")).to_be_visible()
    check_page(page, "07-player")

    answers = {q["prompt"]: next(c["text"] for c in q["choices"] if c["correct"])
               for m in seeded_course(COURSE)["modules"] for lesson in m["lessons"] if lesson.get("quiz")
               for q in lesson["quiz"]["questions"]}
    page.wait_for_timeout(6000)  # reading the first unit: its time is recorded when the next one opens
    while page.get_by_role("button", name=re.compile("^Next: ")).count():
        page.get_by_role("button", name=re.compile("^Next: ")).click()
    expect(page.get_by_role("heading", name="Quiz")).to_be_visible()
    for prompt, answer in answers.items():
        group = page.get_by_role("group", name=re.compile(re.escape(prompt)))
        if group.count():
            group.get_by_label(answer, exact=True).check()
    check_page(page, "08-quiz")
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#quiz-result")).to_contain_text("Passed")
    page.get_by_role("navigation", name="Course outline").get_by_role("link", name=re.compile("^Walkthrough")).click()
    page.get_by_role("button", name="Mark as watched").click()  # the API's POST /lms/lessons/{id}/complete
    expect(page.locator("#done-state")).to_contain_text("Done")
    check_page(page, "08-video-done")

    token = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD},
                          timeout=20).json()["access_token"]
    stored = requests.get(f"{api_url}/tracking/statements", params={"verb": XAPI_VERB + "experienced"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=20).json()["statements"]
    assert [s["result"]["duration"] for s in stored] and all(
        int(s["result"]["duration"][2:-1]) >= 5 for s in stored), stored

    page.goto("/app")
    reload_until(page, lambda: page.get_by_role("link", name="Certificate"))
    expect(page.get_by_role("row", name=re.compile(COURSE))).to_contain_text("100%")
    check_page(page, "09-dashboard")
    page.get_by_role("link", name="Certificate").click()
    expect(page.get_by_text("Valid certificate.")).to_be_visible()
    expect(page.locator("dd", has_text="Lea Learner")).to_be_visible()
    check_page(page, "10-certificate")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"

    small = new_page(width=375, height=800)
    small.context.add_cookies(page.context.cookies())
    for path, name in (("/app", "11-dashboard-375"), ("/courses?q=python", "12-catalog-375")):
        small.goto(path)
        check_page(small, name)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    page.goto("/app")
    expect(page).to_have_url(re.compile(r"/login"))


def test_learner_asks_the_consultant_and_works_on_the_roadmap(new_page):
    page = new_page()
    sign_up(page, "Cai Consult", unique_email("cai"))
    page.goto("/app/consultant")
    check_page(page, "13-consultant-empty")
    page.get_by_label("Your question").fill("How do I become a data engineer?")
    page.get_by_role("button", name="Ask").click()
    answer = page.locator(".msg-assistant").first
    expect(answer).to_be_visible()
    expect(answer.get_by_role("heading", name="Next actions")).to_be_visible()
    expect(answer.locator("a[href^='/courses/']").first).to_be_visible()  # courses linked by id, not searched
    check_page(page, "14-consultant")
    page.get_by_label("Ask a follow-up").fill("Which course first?")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator(".msg-assistant")).to_have_count(2)
    history = page.get_by_role("navigation", name="Your conversations")
    page.get_by_label("Ask a follow-up").fill("What about cloud skills?")
    page.get_by_role("button", name="Start a new conversation").click()
    expect(page.locator(".msg-assistant")).to_have_count(1)
    expect(history.get_by_role("link")).to_have_count(2)  # the history, from the API, beside the chat
    history.get_by_role("link", name="How do I become a data engineer?").click()
    expect(page.locator(".msg-assistant")).to_have_count(2)
    expect(page.locator(".msg-user").first).to_contain_text("How do I become a data engineer?")

    page.get_by_role("link", name="Roadmap", exact=True).click()
    page.get_by_role("button", name="Plan my roadmap").click()  # no role chosen: the API's message at the field
    expect(page.locator("#error-summary")).to_be_visible()
    page.get_by_label("Target role").select_option(label="Data Engineer")
    page.get_by_label("Hours a week").fill("6")
    page.get_by_role("button", name="Plan my roadmap").click()
    expect(page.get_by_text("Your roadmap is ready.")).to_be_visible()
    picture = page.get_by_role("img", name=re.compile("Roadmap picture"))
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") > 0  # the SVG loaded through the web client
    first = page.locator(".milestones > li").first
    name = first.locator("h3").inner_text().split(" level")[0].strip()
    skill_id = first.get_attribute("id")[2:]
    drawn = f'data-skill="{skill_id}"'
    assert f'class="milestone done" {drawn}' not in page.request.get(picture.get_attribute("src")).text()
    first.get_by_role("button", name=f"Mark {name} done").click()
    expect(first.get_by_role("button", name=f"Undo “done” for {name}")).to_be_focused()  # keyboard stays put
    # The picture beside the list is redrawn from the same state: done in both.
    picture = page.get_by_role("img", name=re.compile("Roadmap picture"))
    expect(picture).to_have_js_property("complete", True)
    assert f'class="milestone done" {drawn}' in page.request.get(picture.get_attribute("src")).text()
    check_page(page, "15-roadmap")
    page.reload()
    expect(page.locator(".milestones > li").first).to_contain_text("Status: done")
    assert f'class="milestone done" {drawn}' in page.request.get(picture.get_attribute("src")).text()
