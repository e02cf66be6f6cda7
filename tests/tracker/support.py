"""Helpers shared by the tracker tests: statements and LMS events as their producers make them."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

from bus import contracts
from careeros_services.tracker.domain import ADL, COURSE_IRI, HOME_PAGE, LESSON_IRI


def new_id() -> str:
    return str(uuid.uuid4())


def statement(user_id: str, verb: str = "completed", *, lesson_id: Optional[str] = None,
              course_id: Optional[str] = None, duration: Optional[str] = None, timestamp: Optional[str] = None,
              statement_id: Optional[str] = None, with_parent: bool = True, **extra) -> dict:
    """An xAPI statement following the CareerOS conventions (lesson object, course parent)."""
    body: dict = {
        "actor": {"objectType": "Agent", "account": {"homePage": HOME_PAGE, "name": user_id}},
        "verb": {"id": verb if verb.startswith("http") else ADL + verb, "display": {"en-US": verb}},
        "object": {"objectType": "Activity",
                   "id": LESSON_IRI + lesson_id if lesson_id else COURSE_IRI + (course_id or new_id())},
    }
    if statement_id:
        body["id"] = statement_id
    if duration:
        body["result"] = {"duration": duration, "completion": True}
    if timestamp:
        body["timestamp"] = timestamp
    if lesson_id and course_id and with_parent:
        body["context"] = {"contextActivities": {"parent": [{"id": COURSE_IRI + course_id}]}}
    body.update(extra)
    return body


def envelope(event_type: str, tenant_id: str, aggregate_id: str, payload: dict) -> dict:
    """A valid envelope around ``payload`` as its producer would publish it."""
    return contracts.validate({
        "id": new_id(), "type": event_type, "version": int(event_type.rsplit(".v", 1)[1]),
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": event_type.split(".")[1],
        "tenant_id": tenant_id, "correlation_id": new_id(), "causation_id": None,
        "aggregate_type": event_type.split(".")[2], "aggregate_id": aggregate_id, "payload": payload,
    })


def course_published_payload(tenant_id: str, course_id: str, lessons: list[tuple[str, bool]], revision: int = 1,
                             visibility: str = "public") -> dict:
    """A ``course.published`` payload with one module per two lessons, in order."""
    modules = []
    for index in range(0, len(lessons), 2):
        modules.append({"module_id": new_id(), "title": f"Module {index // 2 + 1}", "position": index // 2 + 1,
                        "lessons": [{"lesson_id": lid, "title": f"Lesson {lid[:4]}", "kind": "article",
                                     "required": req, "position": pos + 1, "estimated_minutes": 10}
                                    for pos, (lid, req) in enumerate(lessons[index:index + 2])]})
    return {"course_id": course_id, "tenant_id": tenant_id, "visibility": visibility, "slug": f"c-{course_id[:8]}",
            "title": "Course", "level": "beginner", "language": "en", "estimated_hours": 2, "premium": False,
            "skills": [{"name": "SQL", "esco_uri": "", "level": 2}], "track": "data", "revision": revision,
            "modules": modules}


def course_published(tenant_id: str, course_id: str, lessons: list[tuple[str, bool]], revision: int = 1) -> dict:
    """A ``careeros.lms.course.published.v1`` envelope, validated against its contract."""
    payload = course_published_payload(tenant_id, course_id, lessons, revision)
    return _raw_or_valid("careeros.lms.course.published.v1", tenant_id, course_id, payload)


def activity_recorded(tenant_id: str, user_id: str, body: dict) -> dict:
    """A ``careeros.lms.activity.recorded.v1`` envelope carrying one statement."""
    return _raw_or_valid("careeros.lms.activity.recorded.v1", tenant_id, user_id,
                         {"statement": body, "user_id": user_id, "tenant_id": tenant_id})


def _raw_or_valid(event_type: str, tenant_id: str, aggregate_id: str, payload: dict) -> dict:
    return envelope(event_type, tenant_id, aggregate_id, payload)  # validated against the LMS's schema


def outbox(store, event_type: str) -> list[dict]:
    """Envelopes of this type in the tracker's outbox (not tenant-scoped), oldest first."""
    with store.transaction(None) as tx:
        cursor = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s ORDER BY id", (event_type,))
        return [row[0] for row in cursor.fetchall()]
