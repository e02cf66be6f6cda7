"""Helpers shared by the lms tests."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from bus import contracts
from careeros_services.lms.service import Caller, LmsService

QUIZ = {"pass_percent": 60, "max_attempts": 2, "questions": [
    {"prompt": "2 + 2?", "choices": [{"text": "3", "correct": False}, {"text": "4", "correct": True}]},
    {"prompt": "Capital of France?", "choices": [{"text": "Paris", "correct": True}, {"text": "Rome", "correct": False}]},
    {"prompt": "Primes", "multiple": True, "choices": [{"text": "2", "correct": True}, {"text": "4", "correct": False},
                                                      {"text": "5", "correct": True}]},
]}


def author(tenant_id: str | None = None, role: str = "instructor") -> Caller:
    return Caller.of(tenant_id or str(uuid.uuid4()), str(uuid.uuid4()), role, "team")


def learner(tenant_id: str, plan: str = "free") -> Caller:
    return Caller.of(tenant_id, str(uuid.uuid4()), "member", plan)


def build_course(svc: LmsService, who: Caller, *, premium: bool = False, with_file: bool = True,
                 title: str | None = None) -> dict:
    """A published course: module 1 (article, file with asset), module 2 (required quiz)."""
    course = svc.create_course(who, {"title": title or f"Kotlin for Android {uuid.uuid4().hex[:6]}",
                                     "summary": "Build Android apps with Kotlin coroutines.", "level": "intermediate",
                                     "tags": ["kotlin", "android"], "premium": premium, "track": "mobile",
                                     "skills": [{"name": "Kotlin", "esco_uri": "", "level": 3}]})
    m1 = svc.add_module(who, course["id"], {"title": "Basics"})
    article = svc.add_lesson(who, m1["module_id"], {"title": "Why Kotlin", "kind": "article",
                                                     "body_md": "# Why Kotlin\n\nNull safety."})
    lessons = {"article": article}
    if with_file:
        f = svc.add_lesson(who, m1["module_id"], {"title": "Cheat sheet", "kind": "file", "required": False})
        svc.upload_asset_chunk(who, f["lesson_id"], upload_id=str(uuid.uuid4()), seq=0, data=b"%PDF-1.4 cheat",
                               last=True, filename="cheat.pdf", content_type="application/pdf", total_size=14)
        lessons["file"] = f
    m2 = svc.add_module(who, course["id"], {"title": "Check"})
    lessons["quiz"] = svc.add_lesson(who, m2["module_id"], {"title": "Quiz", "kind": "quiz", "quiz": QUIZ})
    published = svc.publish_course(who, course["id"])
    return {"course": published, "lessons": lessons}


def right_answers(quiz: dict) -> dict:
    return {q["id"]: [c["id"] for c in q["choices"] if c["correct"]] for q in quiz["questions"]}


def envelope(event_type: str, tenant_id: str, payload: dict, aggregate_id: str | None = None) -> dict:
    return contracts.validate({
        "id": str(uuid.uuid4()), "type": event_type, "version": int(event_type.rsplit(".v", 1)[1]),
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": event_type.split(".")[1],
        "tenant_id": tenant_id, "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "aggregate_type": event_type.split(".")[2], "aggregate_id": aggregate_id or str(uuid.uuid4()),
        "payload": payload})


def progress(tenant_id: str, user_id: str, course_id: str, required_done: bool = True, percent: int = 100) -> dict:
    return envelope("careeros.tracker.progress.updated.v1", tenant_id, {
        "user_id": user_id, "tenant_id": tenant_id, "course_id": course_id, "percent": percent,
        "lessons_done": 3, "lessons_total": 3, "required_done": required_done, "time_spent_s": 600,
        "last_activity_at": datetime.now(timezone.utc).isoformat(), "completed": percent == 100})


def outbox(store, event_type: str) -> list[dict]:
    with store.transaction(None) as tx:
        return [r[0] for r in tx.db.execute_sql(
            "SELECT envelope FROM outbox WHERE event_type = %s ORDER BY id", (event_type,)).fetchall()]
