"""The weekly progress digest, and tenants in their own schema, on the real PostgreSQL, with the real
auth service answering whom to write to and real SMTP to the embedded sink.

Each test uses a week of its own (the scan looks at one week), and the injected clock puts the
service in the week after it: nothing sleeps.
"""
from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest

from bus import privacy
from bus.store import migrations
from careeros_services.common.caller import Caller
from careeros_services.common import tenant_schemas
from careeros_services.notifications import domain, sink
from tests.notifications.support import envelope, event_for, mail_to, register

VERB = "http://adlnet.gov/expapi/verbs/"


def at(monday: date, day: int, hour: int = 10) -> datetime:
    return datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=timezone.utc)


def statement(person: dict, when: datetime, verb: str, lesson: str = "", seconds: int = 0) -> dict:
    return envelope(domain.STATEMENT_RECORDED, person["tenant_id"], {
        "statement_id": str(uuid.uuid4()), "user_id": person["user_id"], "tenant_id": person["tenant_id"],
        "verb": VERB + verb, "activity_id": f"https://careeros.local/xapi/lessons/{lesson or 'x'}",
        "course_id": "", "lesson_id": lesson, "duration_s": seconds, "timestamp": when.isoformat()}, when)


def completed_course(person: dict, when: datetime) -> dict:
    return envelope(domain.ENROLLMENT_COMPLETED, person["tenant_id"], {
        "enrollment_id": str(uuid.uuid4()), "course_id": str(uuid.uuid4()), "user_id": person["user_id"],
        "tenant_id": person["tenant_id"], "revision": 1, "certificate_id": str(uuid.uuid4()),
        "completed_at": when.isoformat()}, when)


def milestone(person: dict, when: datetime, skill: str) -> dict:
    return envelope(domain.MILESTONE_ACHIEVED, person["tenant_id"], {
        "roadmap_id": str(uuid.uuid4()), "tenant_id": person["tenant_id"], "user_id": person["user_id"],
        "skill_name": skill, "esco_uri": "", "level": 2, "evidence": [{"kind": "statement", "id": "s-1"}]}, when)


def progress(person: dict, when: datetime, course_id: str, percent: int, completed: bool = False) -> dict:
    return envelope(domain.PROGRESS_UPDATED, person["tenant_id"], {
        "user_id": person["user_id"], "tenant_id": person["tenant_id"], "course_id": course_id,
        "percent": percent, "lessons_done": 3, "lessons_total": 8, "required_done": False, "time_spent_s": 900,
        "last_activity_at": when.isoformat(), "completed": completed}, when)


@pytest.fixture
def week_after(clock):
    """``week_after(monday)``: the service's clock on the Monday morning after that week."""
    def move(monday: date) -> None:
        clock.now = at(monday, 7, 8)
    yield move
    clock.now = None


def digests_to(smtp_config: dict, address: str) -> list:
    return [m for m in mail_to(smtp_config, address) if m["Subject"].startswith("Your week on CareerOS")]


def weekly_rows(notifications, person: dict) -> int:
    with notifications.store.transaction(person["tenant_id"]) as tx:
        return tx.db.execute_sql("SELECT count(*) FROM weekly_activity WHERE user_id = %s",
                                 (person["user_id"],)).fetchone()[0]


def test_a_weeks_activity_makes_one_digest_with_its_numbers_whatever_runs_the_timer(
        auth, notifications, smtp_config, week_after):
    email, person = register(auth, organization_name="Acme Digest")
    week, course = date(2026, 3, 2), str(uuid.uuid4())
    events = [statement(person, at(week - timedelta(days=7), 2), "experienced", seconds=60),  # last week: streak
              statement(person, at(week, 0), "completed", "lesson-1", 600),
              statement(person, at(week, 0, 11), "passed", "lesson-1", 120),  # the same lesson again: one
              statement(person, at(week, 3), "completed", "lesson-2", 900),
              statement(person, at(week, 3, 12), "experienced", seconds=180),
              completed_course(person, at(week, 3, 13)), milestone(person, at(week, 4), "SQL"),
              progress(person, at(week, 4, 12), course, 37),
              statement(person, at(week, 7, 9), "completed", "lesson-3", 600)]  # next week: not in this digest
    for event in events:
        assert notifications.handle_event(event) is True
    assert notifications.handle_event(events[1]) is False  # redelivered: counted once

    week_after(week)
    # The timer fires in two workers at once: one digest is queued.
    counts: list[int] = []
    workers = [threading.Thread(target=lambda: counts.append(notifications.queue_weekly_digests())) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(counts) == [0, 1]
    assert notifications.deliver_due(auth.contact) == {"sent": 1}

    [digest] = digests_to(smtp_config, email)
    assert digest["Subject"] == "Your week on CareerOS at Acme Digest: 2 lessons completed"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert digest["Message-ID"] == f"<{domain.digest_event_id(person['tenant_id'], person['user_id'], week)}" \
                                   "@careeros.local>"
    text = sink.text_of(digest)
    web = notifications.web
    for line in ("week of 2026-03-02 to 2026-03-08 at Acme Digest", "Lessons completed: 2", "Courses completed: 1",
                 "Time learning: 30 min (4 activities, on 3 days)", "Roadmap milestones reached: SQL",
                 "Streak: 2 weeks in a row", f"continue your course (37 % done): {web}/app/learn/{course}",
                 f"Your dashboard: {web}/app",
                 f"{web}/unsubscribe?token={digest['List-Unsubscribe'].strip('<>').split('token=')[1]}"):
        assert line in text
    html = digest.get_body(("html",)).get_content()
    assert f'href="{web}/app"' in html and "Acme Digest" in html

    # The timer fires again (and again next hour): nothing more is queued or sent.
    assert notifications.queue_weekly_digests() == 0
    week_after(week)
    assert notifications.queue_weekly_digests() == 0
    assert notifications.deliver_due(auth.contact) == {}
    assert len(digests_to(smtp_config, email)) == 1


def test_no_digest_for_someone_who_turned_it_off_or_did_nothing_that_week(
        auth, notifications, smtp_config, week_after):
    week = date(2026, 4, 6)
    off_email, off = register(auth)
    assert notifications.get_preferences(Caller(off["tenant_id"], off["user_id"]))["weekly_digest"] is True  # the default
    token = domain.unsubscribe_token(notifications.secret, off["tenant_id"], off["user_id"], "weekly_digest")
    assert notifications.unsubscribe(token) == {"kind": "weekly_digest", "enabled": False}
    notifications.handle_event(statement(off, at(week, 1), "completed", "lesson-1", 600))

    idle_email, idle = register(auth)  # progress recomputed (a course changed), but nothing done
    notifications.handle_event(progress(idle, at(week, 2), str(uuid.uuid4()), 20))
    notifications.handle_event(statement(idle, at(week - timedelta(days=7), 2), "completed", "lesson-1", 60))

    week_after(week)
    assert notifications.queue_weekly_digests() == 0
    assert notifications.deliver_due(auth.contact) == {}
    assert digests_to(smtp_config, off_email) == digests_to(smtp_config, idle_email) == []


def test_erasure_deletes_the_digests_read_model_and_no_digest_follows(auth, notifications, smtp_config,
                                                                       week_after):
    week = date(2026, 5, 4)
    email, person = register(auth)
    notifications.handle_event(statement(person, at(week, 1), "completed", "lesson-1", 600))
    notifications.handle_event(milestone(person, at(week, 2), "Python"))
    assert weekly_rows(notifications, person) == 1
    assert notifications.handle_event(envelope(privacy.ERASURE_REQUESTED, person["tenant_id"], {
        "request_id": str(uuid.uuid4()), "user_id": person["user_id"], "scope": "account",
        "tenant_ids": [person["tenant_id"]], "personal_tenant_id": person["tenant_id"],
        "requested_at": datetime.now(timezone.utc).isoformat()})) is True
    assert weekly_rows(notifications, person) == 0
    week_after(week)
    assert notifications.queue_weekly_digests() == 0
    assert digests_to(smtp_config, email) == []


def test_a_tenant_in_its_own_schema_gets_its_queued_messages_and_its_digest(
        auth, notifications, smtp_config, config, week_after):
    email, owner = register(auth, organization_name="Isolated Ltd")
    verification = event_for(auth, "careeros.auth.user.verification_requested.v1", "user_id", owner["user_id"])
    assert notifications.handle_event(verification) is True  # queued in public, then moved with the tenant
    week = date(2026, 6, 1)
    notifications.handle_event(statement(owner, at(week, 2), "completed", "lesson-1", 300))

    moved = tenant_schemas.isolate(config, "notifications", owner["tenant_id"],
                                   migrations("careeros_services.notifications"))
    assert moved["rows"] == {"messages": 1, "preferences": 0, "weekly_activity": 1}
    schema = moved["schema"]
    with notifications.store.transaction(None) as tx:
        assert tx.db.execute_sql("SELECT count(*) FROM public.messages WHERE tenant_id = %s",
                                 (owner["tenant_id"],)).fetchone()[0] == 0
    notifications.handle_event(statement(owner, at(week, 3), "passed", "lesson-2", 300))  # into its schema

    assert notifications.deliver_due(auth.contact) == {"sent": 1}
    [message] = mail_to(smtp_config, email)
    assert message["Subject"] == "Confirm your e-mail address for CareerOS"
    assert [r["state"] for r in notifications.list_messages(limit=1000)
            if r["event_id"] == verification["id"]] == ["sent"]  # the operator's view sees the schema too

    week_after(week)
    assert notifications.queue_weekly_digests() == 1
    assert notifications.deliver_due(auth.contact) == {"sent": 1}
    [digest] = digests_to(smtp_config, email)
    assert digest["Subject"] == "Your week on CareerOS at Isolated Ltd: 2 lessons completed"
    with notifications.store.transaction(owner["tenant_id"]) as tx:  # scoped: the tenant's schema
        assert tx.db.execute_sql("SELECT current_schema()").fetchone()[0] == schema
        assert tx.db.execute_sql("SELECT count(*) FROM messages WHERE state = 'sent'").fetchone()[0] == 2
