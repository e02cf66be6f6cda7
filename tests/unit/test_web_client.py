"""The web client's pure parts: safe Markdown, problem+json to field messages, the WSGI split
between the web client and the API, and where a login may send the browser next."""
from __future__ import annotations

import flask

from web.api import ApiError
from web.dispatch import serve_beside
from web.render import markdown
from web.views.account import _safe_next


def test_markdown_renders_commonmark_and_never_raw_html_or_script_links():
    html = str(markdown("# Title\n\n**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
                        "[ok](https://example.com) [bad](javascript:alert(1))"))
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert 'href="https://example.com"' in html and 'href="javascript' not in html


def test_problem_errors_become_one_message_per_top_level_field():
    problem = ApiError(422, "validation_failed", "Validation failed", "The request body is invalid.",
                       errors={"email": ["Not a valid email address."], "skills": {"0": {"level": ["Too high."]}},
                               "quiz": {"questions.0.choices": ["exactly one choice must be correct"]}})
    assert problem.field_errors() == {"email": "Not a valid email address.", "skills": "Too high.",
                                      "quiz": "exactly one choice must be correct"}
    assert str(problem) == "The request body is invalid."
    assert str(ApiError(503)) == "HTTP 503"


def test_the_api_keeps_its_paths_and_the_web_client_gets_the_rest():
    api, web = flask.Flask("api"), flask.Flask("web")
    for path in ("/api/v1/<path:rest>", "/healthz", "/readyz", "/metrics"):
        api.add_url_rule(path, path, lambda **_: "api")
    web.add_url_rule("/", "home", lambda: "web")
    web.add_url_rule("/<path:rest>", "any", lambda rest: "web")
    serve_beside(api, web)
    client = api.test_client()
    for path, served_by in (("/api/v1/lms/courses", "api"), ("/healthz", "api"), ("/metrics", "api"),
                            ("/", "web"), ("/courses", "web"), ("/apix", "web"), ("/app/api/v1", "web")):
        assert client.get(path).get_data(as_text=True) == served_by, path


def test_login_only_returns_to_a_page_of_this_site():
    app = flask.Flask("t")
    for target, expected in (("/app/billing?x=1", "/app/billing?x=1"), ("//evil.example/", "/app"),
                             ("https://evil.example/", "/app"), ("/\\evil.example", "/app"), ("", "/app")):
        with app.test_request_context("/login", query_string={"next": target}):
            assert _safe_next("/app") == expected, target


def test_time_on_a_unit_is_measured_and_capped():
    from web.xapi import time_on_previous_unit
    opened = {"lesson_id": "l", "course_id": "c", "title": "T", "minutes": 15, "at": 1000.0}
    assert time_on_previous_unit(1000.0 + 240, opened) == 240
    assert time_on_previous_unit(1000.0 + 3, opened) == 0  # a click through is not study
    assert time_on_previous_unit(1000.0 + 7200, opened) == 30 * 60  # twice the estimate at most
    assert time_on_previous_unit(1000.0 + 7200, {**opened, "minutes": 0}) == 10 * 60
    assert time_on_previous_unit(2000.0, None) == 0
