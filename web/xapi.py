"""Time spent on a unit, the one thing the course player records itself as xAPI.

Progress is the API's: opening a reading or file through ``GET /lms/lessons/{id}`` completes it, a
video is marked done with ``POST /lms/lessons/{id}/complete`` (see ``web.views.learn``), a quiz by
passing it. How long the learner stayed on a page only the client can see, so the ``experienced``
statement with its duration (counted towards the weekly goal) stays here."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Optional

from flask import session

from web import bff
from web.api import ApiError

log = logging.getLogger(__name__)

XAPI_HOME = "https://careeros.dev"
VERB = "http://adlnet.gov/expapi/verbs/"


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
    """Opening a unit: the time spent on the unit opened before it. A failure here must not cost the
    learner the page (the next visit records it again)."""
    now = time.time()
    opened = session.get("open_unit")
    seconds = time_on_previous_unit(now, opened)
    session["open_unit"] = {"lesson_id": lesson["lesson_id"], "course_id": course_id, "title": lesson["title"],
                            "minutes": lesson.get("estimated_minutes", 0), "at": now}
    if not seconds or opened["lesson_id"] == lesson["lesson_id"]:
        return
    try:
        bff.call("POST", "/tracking/statements", json=[experienced(bff.me()["user_id"], opened, seconds)])
    except ApiError as exc:
        if exc.status == 401:
            raise
        log.warning("could not record the time spent on %s: %s", opened["lesson_id"], exc)
