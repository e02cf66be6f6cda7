"""The web client's own behaviour when the API is unreachable or a page fails, on real Redis:
readable error pages (never a stack trace), CSRF on every POST, security headers."""
from __future__ import annotations

import re
import uuid

import pytest

from careeros_services.common.infra import free_port
from web.app import create_app


@pytest.fixture
def web_client(redis_client):
    prefix = f"test:web:{uuid.uuid4().hex[:8]}:"
    app = create_app({"api_url": f"http://127.0.0.1:{free_port()}/api/v1", "redis_prefix": prefix,
                      "api_timeout_s": 2}, redis_client=redis_client)

    def boom():
        raise RuntimeError("secret internals")
    app.add_url_rule("/boom", "boom", boom)
    yield app.test_client()
    for key in redis_client.scan_iter(match=prefix + "*"):
        redis_client.delete(key)


def test_an_unreachable_api_and_a_failing_page_have_readable_pages(web_client):
    down = web_client.get("/")
    assert down.status_code == 503
    assert "Something went wrong" in down.get_data(as_text=True) and "Traceback" not in down.get_data(as_text=True)
    assert "127.0.0.1" not in down.get_data(as_text=True)  # no internal address on the page
    failed = web_client.get("/boom")
    text = failed.get_data(as_text=True)
    assert failed.status_code == 500 and "Something went wrong on our side" in text
    assert "secret internals" not in text and "Traceback" not in text and "Reference:" in text
    assert web_client.get("/nowhere").status_code == 404


def test_every_post_needs_the_session_csrf_token(web_client):
    assert web_client.post("/login", data={"email": "a@example.com", "password": "x"}).status_code == 400
    page = web_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert web_client.post("/logout", data={"csrf_token": token + "x"}).status_code == 400
    assert web_client.post("/logout", headers={"X-CSRF-Token": token}).status_code == 302  # htmx sends a header
    assert web_client.get("/app").status_code == 302  # not signed in: to the login page


def test_pages_carry_security_headers_and_an_httponly_lax_cookie(web_client):
    page = web_client.get("/login")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("careeros_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    for https in ({"base_url": "https://localhost"}, {"headers": {"X-Forwarded-Proto": "https"}}):
        fresh = web_client.application.test_client()
        assert "Secure" in fresh.get("/login", **https).headers["Set-Cookie"]


def test_the_public_catalog_reads_are_documented_as_open_to_visitors(config, redis_client):
    from gateway_flask.app import create_app as create_api
    from gateway_flask.views import SERVICE_BLUEPRINTS

    api = create_api(config, blueprints=SERVICE_BLUEPRINTS, redis_client=redis_client,
                     jwks_provider=lambda: {"keys": []})
    spec = api.test_client().get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/lms/courses", "/api/v1/lms/courses/{course_id}"):
        read = spec["paths"][path]["get"]
        assert {} in read["security"] and {"bearerAuth": []} in read["security"], path
        assert "401" in read["responses"] and "Without a token" in read["summary"] + read.get("description", "")
    assert spec["paths"]["/api/v1/lms/courses"]["post"]["security"] == [{"bearerAuth": []}]
