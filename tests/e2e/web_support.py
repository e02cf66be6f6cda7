"""Browser tests of the web client: Debian's Chromium driven by Playwright, axe-core checks,
screenshots under var/screenshots. The web client is served by the e2e platform's gateway process
(as `make run` serves it); ``CAREEROS_WEB_TEST_URL`` points the tests at another running one."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SEED_CATALOG = Path(__file__).resolve().parents[2] / "careeros_services" / "lms" / "seed" / "catalog.json"
PASSWORD = "correct horse battery"
_axe = Axe()


@pytest.fixture(scope="package")
def web_url(request) -> str:
    override = os.environ.get("CAREEROS_WEB_TEST_URL")
    if override:
        return override.rstrip("/")
    return request.getfixturevalue("platform").base_url.rsplit("/api/v1", 1)[0]


@pytest.fixture(scope="package")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser, web_url) -> Callable[..., Page]:
    """``new_page(width=1280)``: a page in a fresh browser context (its own cookies: one person)."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(base_url=web_url, viewport={"width": width, "height": height},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.console_errors = []  # e.g. a Content-Security-Policy refusal: check_page fails on it
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        return page
    yield make
    for context in contexts:
        context.close()


def check_page(page: Page, name: str) -> None:
    """No serious or critical axe-core violation, no horizontal scrolling; a screenshot for people."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + json.dumps([{"id": v["id"], "impact": v["impact"], "nodes": [
        n["html"][:160] for n in v["nodes"][:3]]} for v in bad], indent=1)
    blocked = [text for text in getattr(page, "console_errors", []) if "Content Security Policy" in text]
    assert not blocked, f"{name}: {blocked}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name}: the page scrolls sideways by {overflow}px"


def unique_email(prefix: str) -> str:
    return f"{prefix}{time.time_ns() % 10**12}@example.com"


def sign_up(page: Page, name: str, email: str, organisation: str = "") -> None:
    page.goto("/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    if organisation:
        page.get_by_label("My organisation").check()
        page.get_by_label("Organisation name").fill(organisation)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/app$"))


def seeded_course(title: str) -> dict:
    """A course of the seeded public catalog, with its quiz answers (what a learner who studied knows)."""
    return next(c for c in json.loads(SEED_CATALOG.read_text())["courses"] if c["title"] == title)


def reload_until(page: Page, locator_of: Callable[[], object], timeout_s: float = 45) -> None:
    """Reload until an asynchronously made thing (progress, certificate) appears on the page."""
    deadline = time.monotonic() + timeout_s
    while True:
        if locator_of().count():
            return
        assert time.monotonic() < deadline, f"gave up waiting on {page.url}"
        time.sleep(0.5)
        page.reload()


def accept_invite(page: Page, link: str, name: str) -> None:
    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_text("You have joined")).to_be_visible()


def invite(page: Page, email: str, role: str) -> str:
    """As an owner/admin: invite by e-mail with a role; the invitation link shown."""
    page.goto("/org/members")
    page.get_by_label("Their email address").fill(email)
    page.get_by_label("Role", exact=True).select_option(role)
    page.get_by_role("button", name="Create invitation").click()
    return page.get_by_label("Invitation link").input_value()


@pytest.fixture(scope="package")
def web_redis_prefix(request) -> str:
    """Where the served web client keeps its sessions (its own Redis prefix setting)."""
    if os.environ.get("CAREEROS_WEB_TEST_URL"):
        return os.environ["CAREEROS_WEB_TEST_REDIS_PREFIX"]
    return request.getfixturevalue("platform_env")["CAREEROS_WEB_REDIS_PREFIX"]


@pytest.fixture(scope="package")
def api_url(web_url) -> str:
    """The API the web client calls (the same server when the gateway serves both)."""
    return os.environ.get("CAREEROS_WEB_TEST_API_URL", web_url + "/api/v1")
