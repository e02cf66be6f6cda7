"""The LMS keeps the gateway's cached course answers honest (common.read_cache): every write that
changes what GET /lms/courses/{id} shows publishes an event, and the LMS's own consumer bumps
the course's (or the learner's) generation when that event comes back committed."""
from __future__ import annotations


import redis
import pytest

from careeros_services.common import read_cache
from careeros_services.common.config import load_config
from careeros_services.lms.service import COURSE_CHANGED, LmsService
from tests.lms.support import author, build_course, learner, outbox


@pytest.fixture
def cache():
    client = redis.Redis.from_url(load_config()["redis_url"])
    yield client
    client.close()


def changes_of(store, course_id: str) -> list[str]:
    return [e["payload"]["change"] for e in outbox(store, COURSE_CHANGED) if e["payload"]["course_id"] == course_id]


def test_every_authoring_write_publishes_course_changed(svc, lms_store):
    who = author()
    built = build_course(svc, who)
    course_id = built["course"]["id"]
    # build_course: 2 modules, 3 lessons and an asset, each a structure change of the working copy
    assert changes_of(lms_store, course_id) == ["structure"] * 6
    module = svc.add_module(who, course_id, {"title": "Extra"})
    lesson = svc.add_lesson(who, module["module_id"], {"title": "More", "kind": "article", "body_md": "x"})
    svc.update_lesson(who, lesson["lesson_id"], {"title": "More, renamed"})
    svc.remove_lesson(who, lesson["lesson_id"])
    svc.update_module(who, module["module_id"], {"title": "Extra, renamed"})
    svc.remove_module(who, module["module_id"])
    svc.update_course(who, course_id, {"summary": "A new summary."})
    svc.update_course(who, course_id, {})  # nothing changed: nothing published
    assert changes_of(lms_store, course_id)[6:] == ["structure"] * 6 + ["catalog"]
    assert all(e["tenant_id"] == who.tenant_id for e in outbox(lms_store, COURSE_CHANGED)
               if e["payload"]["course_id"] == course_id)


def test_its_own_course_and_enrolment_events_bump_the_generations(lms_store, storage, cache):
    keeper_svc = LmsService(lms_store, storage, read_cache_keeper=read_cache.Keeper(cache))
    who = author()
    course_id = build_course(keeper_svc, who, with_file=False)["course"]["id"]
    course_gen = read_cache.generation_key(read_cache.COURSE, course_id)
    for event in outbox(lms_store, COURSE_CHANGED):
        if event["payload"]["course_id"] == course_id:
            assert keeper_svc.handle_event(event) is True
    [published] = [e for e in outbox(lms_store, "careeros.lms.course.published.v1")
                   if e["payload"]["course_id"] == course_id]
    assert keeper_svc.handle_event(published) is True
    assert cache.get(course_gen) == b"5"  # 2 modules, 2 lessons, 1 publish
    student = learner(who.tenant_id)
    keeper_svc.enroll(student, course_id)
    [enrolled] = [e for e in outbox(lms_store, "careeros.lms.enrollment.created.v1")
                  if e["payload"]["user_id"] == student.user_id]
    learner_gen = read_cache.generation_key(read_cache.LMS_LEARNER, student.user_id)
    assert cache.get(learner_gen) is None
    assert keeper_svc.handle_event(enrolled) is True and cache.get(learner_gen) == b"1"
    assert keeper_svc.handle_event(enrolled) is False and cache.get(learner_gen) == b"1"  # a duplicate
    cache.delete(course_gen, learner_gen)
