"""What the course player records as the learner goes (nobody hand-writes xAPI): time spent on a
unit as an xAPI statement, and a watched video through the LMS's explicit completion."""
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
    """Opening a unit: the time spent on the unit opened before it. Completion is the LMS's to
    record (opening a reading or file through the API completes it); a video is marked done here
    through the API's explicit ``/complete``, since the page cannot see the video end. A failure
    here must not cost the learner the page (the next visit records it again)."""
    user_id, now = bff.me()["user_id"], time.time()
    opened = session.get("open_unit")
    seconds = time_on_previous_unit(now, opened)
    session["open_unit"] = {"lesson_id": lesson["lesson_id"], "course_id": course_id, "title": lesson["title"],
                            "minutes": lesson.get("estimated_minutes", 0), "at": now}
    calls = []
    if seconds and opened["lesson_id"] != lesson["lesson_id"]:
        calls.append(("POST", "/tracking/statements", {"json": [experienced(user_id, opened, seconds)]}))
    if lesson["kind"] == "video":
        calls.append(("POST", f"/lms/lessons/{lesson['lesson_id']}/complete", {}))
    for method, path, kwargs in calls:
        try:
            bff.call(method, path, **kwargs)
        except ApiError as exc:
            if exc.status == 401:
                raise
            log.warning("could not record %s %s: %s", method, path, exc)
