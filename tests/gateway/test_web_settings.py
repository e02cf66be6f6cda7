"""The settings pages and e-mail landing pages of the web client, on real Redis with the API down:
opening an unsubscribe link calls nothing (mail scanners open links); settings need a session."""
from __future__ import annotations

import uuid

import pytest

from careeros_services.common.infra import free_port
from web.app import create_app


@pytest.fixture
def web_client(redis_client):
    prefix = f"test:web:{uuid.uuid4().hex[:8]}:"
    app = create_app({"api_url": f"http://127.0.0.1:{free_port()}/api/v1", "redis_prefix": prefix,
                      "api_timeout_s": 2}, redis_client=redis_client)
    yield app.test_client()
    for key in redis_client.scan_iter(match=prefix + "*"):
        redis_client.delete(key)


def test_opening_an_unsubscribe_link_only_asks_and_a_post_needs_the_forms_token(web_client):
    page = web_client.get("/unsubscribe?token=abc.def")  # the API is down: a GET never reaches it
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Unsubscribe from these e-mails?" in text
    assert 'name="token" value="abc.def"' in text and 'method="post"' in text
    assert web_client.post("/unsubscribe", data={"token": "abc.def"}).status_code == 400  # no CSRF token


@pytest.mark.parametrize("path", ["/settings", "/settings/notifications", "/settings/organisations",
                                  "/settings/privacy", f"/settings/organisations/{uuid.uuid4()}/leave"])
def test_settings_need_a_session(web_client, path):
    answer = web_client.get(path)
    assert answer.status_code == 302 and "/login?next=" in answer.headers["Location"]
