"""xAPI statements the web client sends for the learner (nobody hand-writes xAPI)."""
from __future__ import annotations

import time
import uuid
from typing import Optional

from flask import session

from web import bff
from web.api import ApiError

XAPI_HOME = "https://careeros.dev"
VERB = "http://adlnet.gov/expapi/verbs/"


def completed(user_id: str, course_id: str, lesson_id: str, title: str) -> dict:
    """A "completed" statement with an id fixed by (learner, lesson): sending it again on every
    visit is recorded once (the LRS accepts an identical statement as a duplicate)."""
    course_iri = f"{XAPI_HOME}/xapi/courses/{course_id}"
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{XAPI_HOME}/web/viewed/{user_id}/{lesson_id}")),
        "actor": {"objectType": "Agent", "account": {"homePage": XAPI_HOME, "name": user_id}},
        "verb": {"id": VERB + "completed", "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": f"{XAPI_HOME}/xapi/lessons/{lesson_id}",
                   "definition": {"name": {"en-US": title or lesson_id}}},
        "context": {"contextActivities": {"parent": [{"id": course_iri}]}},
        "result": {"completion": True},
    }


def experienced(user_id: str, unit: dict, seconds: int) -> dict:
    """Time spent on a unit (counts towards the weekly goal), measured by the web client."""
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": XAPI_HOME, "name": user_id}},
        "verb": {"id": VERB + "experienced", "display": {"en-US": "experienced"}},
        "object": {"objectType": "Activity", "id": f"{XAPI_HOME}/xapi/lessons/{unit['lesson_id']}",
                   "definition": {"name": {"en-US": unit["title"] or unit["lesson_id"]}}},
        "context": {"contextActivities": {"parent": [{"id": f"{XAPI_HOME}/xapi/courses/{unit['course_id']}"}]}},
        "result": {"duration": f"PT{seconds}S"},
    }


def time_on_previous_unit(now: float, opened: Optional[dict]) -> int:
    """Seconds from opening the previous unit to this page, capped at twice its estimate (at least
    ten minutes) so that a tab left open does not count as study; 0 under five seconds."""
    if not opened:
        return 0
    seconds = int(now - opened["at"])
    cap = max(int(opened.get("minutes") or 0), 5) * 2 * 60
    return min(seconds, cap) if seconds >= 5 else 0


def record_visit(*, course_id: str, lesson: dict) -> None:
    """Opening a unit: the time spent on the unit opened before it, and for a reading, video or file
    unit its completion. A failure here must not cost the learner the page (the next visit sends
    the completion again)."""
    user_id, now = bff.me()["user_id"], time.time()
    opened = session.get("open_unit")
    batch = []
    seconds = time_on_previous_unit(now, opened)
    if seconds and opened["lesson_id"] != lesson["lesson_id"]:
        batch.append(experienced(user_id, opened, seconds))
    if lesson["kind"] != "quiz":
        batch.append(completed(user_id, course_id, lesson["lesson_id"], lesson["title"]))
    session["open_unit"] = {"lesson_id": lesson["lesson_id"], "course_id": course_id, "title": lesson["title"],
                            "minutes": lesson.get("estimated_minutes", 0), "at": now}
    if not batch:
        return
    try:
        bff.call("POST", "/tracking/statements", json=batch)
    except ApiError as exc:
        if exc.status in (401,):
            raise
