"""The web client as a backend-for-frontend, over plain HTTP: CSRF on every state-changing form,
an HttpOnly SameSite=Lax session cookie (Secure behind https), tokens kept server-side and
refreshed there, logout that revokes at the API, error pages without stack traces; and the two
API changes it needs: anonymous reads of the public catalog, Swagger UI served locally."""
from __future__ import annotations

import json
import re
import uuid

import redis
import requests

from tests.e2e.web_support import PASSWORD, unique_email
from careeros_services.common.config import load_config

PLATFORM_TENANT = "00000000-0000-0000-0000-000000000000"


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _register(api_url: str, **extra) -> dict:
    email = unique_email("bff")
    created = requests.post(f"{api_url}/auth/register", json={
        "email": email, "password": PASSWORD, "display_name": "Bea Bff", **extra}, timeout=20)
    assert created.status_code == 201, created.text
    return {"email": email, **created.json()}


def test_session_cookie_csrf_refresh_and_logout(web_url, api_url, web_redis_prefix):
    user = _register(api_url)
    browser = requests.Session()
    refused = browser.post(f"{web_url}/login", data={"email": user["email"], "password": PASSWORD})
    assert refused.status_code == 400 and "This form has expired" in refused.text
    token = _csrf(browser, f"{web_url}/login")
    wrong = browser.post(f"{web_url}/login", data={"csrf_token": token, "email": user["email"], "password": "nope"})
    assert wrong.status_code == 401 and "The email or password is not right." in wrong.text

    logged_in = browser.post(f"{web_url}/login", data={"csrf_token": token, "email": user["email"],
                                                      "password": PASSWORD}, allow_redirects=False)
    assert logged_in.status_code == 302 and logged_in.headers["Location"].endswith("/app")
    cookie = logged_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    behind_https = requests.get(f"{web_url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=20)
    assert "Secure" in behind_https.headers["Set-Cookie"] and "HttpOnly" in behind_https.headers["Set-Cookie"]
    sid = browser.cookies["careeros_session"]
    assert sid not in token and "eyJ" not in cookie  # the cookie is an id, never a token

    store = redis.Redis.from_url(load_config()["redis_url"])  # the platform's Redis (REDIS_URL)
    key = f"{web_redis_prefix}session:{sid}"
    kept = json.loads(store.get(key))
    first = kept["tokens"]
    kept["tokens"]["expires_at"] = 0  # the access token is due: the next page refreshes it here
    store.set(key, json.dumps(kept), keepttl=True)
    dashboard = browser.get(f"{web_url}/app", allow_redirects=False)
    assert dashboard.status_code == 200 and "Hello, Bea Bff" in dashboard.text
    second = json.loads(store.get(key))["tokens"]
    assert second["refresh"] != first["refresh"] and second["access"] != first["access"]
    reused = requests.post(f"{api_url}/auth/refresh", json={"refresh_token": first["refresh"]}, timeout=20)
    assert reused.status_code == 401, reused.text

    token = _csrf(browser, f"{web_url}/app")
    assert browser.post(f"{web_url}/logout", data={"csrf_token": token}).status_code == 200
    assert store.get(key) is None
    revoked = requests.get(f"{api_url}/me", headers={"Authorization": f"Bearer {second['access']}"}, timeout=20)
    assert revoked.status_code == 401
    assert requests.post(f"{api_url}/auth/refresh", json={"refresh_token": second["refresh"]},
                         timeout=20).status_code == 401
    after = browser.get(f"{web_url}/app", allow_redirects=False)
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_error_pages_have_no_stack_traces(web_url):
    for path, status, words in (("/no-such-page", 404, "Page not found"),
                                (f"/courses/{uuid.uuid4()}", 404, "Not found"),
                                (f"/certificates/{uuid.uuid4()}", 404, "Not found")):
        page = requests.get(web_url + path, timeout=20)
        assert page.status_code == status and words in page.text, (path, page.status_code)
        assert "Traceback" not in page.text and "<!doctype html>" in page.text.lower()
    bad = requests.get(f"{web_url}/courses", params={"level": "expert"}, timeout=20)
    assert bad.status_code == 200 and "level" in bad.text and "Traceback" not in bad.text


def test_anonymous_public_catalog_and_local_api_docs(api_url):
    owner = _register(api_url, organization_name=f"Private {uuid.uuid4().hex[:6]}")
    pair = requests.post(f"{api_url}/auth/login", json={"email": owner["email"], "password": PASSWORD}, timeout=20)
    auth = {"Authorization": f"Bearer {pair.json()['access_token']}"}
    title = f"Private Playbook {uuid.uuid4().hex[:6]}"
    course = requests.post(f"{api_url}/lms/courses", headers=auth, json={"title": title, "level": "beginner"},
                           timeout=20).json()
    module = requests.post(f"{api_url}/lms/courses/{course['id']}/modules", headers=auth, json={"title": "M"},
                           timeout=20).json()
    requests.post(f"{api_url}/lms/modules/{module['module_id']}/lessons", headers=auth,
                  json={"title": "L", "kind": "article", "body_md": "x"}, timeout=20)
    published = requests.post(f"{api_url}/lms/courses/{course['id']}/publish", headers=auth, timeout=20)
    assert published.status_code == 200, published.text
    assert title in [c["title"] for c in requests.get(f"{api_url}/lms/courses", params={"q": title}, headers=auth,
                                                       timeout=20).json()["items"]]

    everything = requests.get(f"{api_url}/lms/courses", params={"page_size": 100}, timeout=20)
    assert everything.status_code == 200, everything.text
    items = everything.json()["items"]
    assert items and {c["tenant_id"] for c in items} == {PLATFORM_TENANT}
    assert title not in [c["title"] for c in requests.get(f"{api_url}/lms/courses", params={"q": title},
                                                           timeout=20).json()["items"]]
    hidden = requests.get(f"{api_url}/lms/courses/{course['id']}", timeout=20)
    assert hidden.status_code == 404 and hidden.json()["code"] == "course_not_found"
    premium = next(c for c in items if c["premium"])
    seen = requests.get(f"{api_url}/lms/courses/{premium['id']}", timeout=20).json()
    assert (seen["access"], seen["enrolled"], premium["access"]) == ("read_only", False, "read_only")
    assert seen["modules"] and all("body_md" not in lesson for m in seen["modules"] for lesson in m["lessons"])
    free = next(c for c in items if not c["premium"])
    assert free["access"] == "full"
    forged = requests.get(f"{api_url}/lms/courses", headers={"Authorization": "Bearer forged"}, timeout=20)
    assert forged.status_code == 401
    drafts = requests.get(f"{api_url}/lms/courses", params={"status": "draft"}, timeout=20)
    assert drafts.status_code == 403, drafts.text

    docs = requests.get(f"{api_url}/docs", timeout=20)
    assert docs.status_code == 200 and "cdn." not in docs.text
    for asset in re.findall(r'(?:src|href)="(/api/v1/docs/assets/[^"]+)"', docs.text):
        fetched = requests.get(api_url.rsplit("/api/v1", 1)[0] + asset, timeout=20)
        assert fetched.status_code == 200 and len(fetched.content) > 1000, asset
    assert "swagger-ui-bundle.js" in docs.text
