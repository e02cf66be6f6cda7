"""The gateway's read cache through the running platform (CAREEROS_READ_CACHE_TTL_S is an hour in
tests/e2e/conftest.py, so only events and the reader's own writes can end an entry): a writer reads
its write at once; another reader sees it once the LMS's course.changed comes back; an enrolment
shows on the next read (a new plan tier: the pay-for-pro journey in test_journeys.py)."""
from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_walking_skeleton import bearer, login, register
from tests.polling import eventually

pytestmark = pytest.mark.e2e


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def published_course(api, token: str) -> dict:
    course = ok(api.post("/lms/courses", headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex}, json={
        "title": "Cached reading", "summary": "Read often, changed rarely.", "level": "beginner",
        "tags": ["cache"], "skills": [{"name": "Python", "level": 2}]}), 201)
    module = ok(api.post(f"/lms/courses/{course['id']}/modules", json={"title": "One"}, headers=bearer(token)), 201)
    ok(api.post(f"/lms/modules/{module['module_id']}/lessons", headers=bearer(token),
                json={"title": "Intro", "kind": "article", "body_md": "# Intro"}), 201)
    return ok(api.post(f"/lms/courses/{course['id']}/publish", headers=bearer(token)))


def member_token(api, owner_token: str) -> str:
    """A second person of the owner's organisation, signed in to it."""
    member = register(api, display_name="Rita Reader")
    token = login(api, member["email"])["access_token"]
    invite = ok(api.post("/orgs/current/invites", json={"email": member["email"], "role": "member"},
                         headers=bearer(owner_token)), 201)
    ok(api.post(f"/orgs/invites/{invite['token']}/accept", json={}, headers=bearer(token)))
    org = ok(api.get("/orgs/current", headers=bearer(owner_token)))
    return ok(api.post("/auth/switch-tenant", json={"tenant_id": org["tenant_id"]},
                       headers=bearer(token)))["access_token"]


def test_course_pages_are_cached_and_end_with_events_and_own_writes(api):
    owner = register(api, organization_name=f"Cache {uuid.uuid4().hex[:6]}", display_name="Otto Owner")
    owner_token = login(api, owner["email"])["access_token"]
    course = published_course(api, owner_token)
    url = f"/lms/courses/{course['id']}"
    reader = member_token(api, owner_token)
    assert ok(api.get(url, headers=bearer(reader)))["title"] == "Cached reading"
    assert ok(api.get(url, headers=bearer(owner_token)))["title"] == "Cached reading"   # both now cached

    ok(api.patch(url, json={"title": "Cached, then renamed"}, headers=bearer(owner_token)))
    assert ok(api.get(url, headers=bearer(owner_token)))["title"] == "Cached, then renamed"  # own write: at once
    eventually(lambda: ok(api.get(url, headers=bearer(reader))), lambda page: page["title"] == "Cached, then renamed",
               what="course.changed to end the reader's cached page", timeout_s=30.0)

    assert ok(api.get(url, headers=bearer(reader)))["enrolled"] is False
    ok(api.post(f"{url}/enrollments", headers=bearer(reader)), 201)
    assert ok(api.get(url, headers=bearer(reader)))["enrolled"] is True              # own enrolment: at once
