"""Helpers shared by the roadmap tests: envelopes as their producers publish them, and a
scripted ai_core gRPC server (the real AiCore protocol) to make the provider misbehave on cue."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

from bus import contracts
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from contracts.grpc import ai_core_pb2, ai_core_pb2_grpc

PLATFORM_TENANT = "00000000-0000-0000-0000-000000000000"
# One id per public seed slug, so modules sharing the session's database publish the same course.
SLUG_IDS = {slug: str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://careeros.dev/test-courses/{slug}"))
            for slug in ("python-basics", "sql-basics", "etl-pipelines")}


def envelope(event_type: str, tenant_id: str, payload: dict, aggregate_id: str) -> dict:
    """A valid envelope (checked against the payload's schema file when its producer has written it)."""
    env = {"id": str(uuid.uuid4()), "type": event_type, "version": 1,
           "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": event_type.split(".")[1],
           "tenant_id": tenant_id, "correlation_id": str(uuid.uuid4()), "causation_id": None,
           "aggregate_type": event_type.split(".")[2], "aggregate_id": aggregate_id, "payload": payload}
    if event_type in contracts.known_types():
        contracts.validate(env)
    return env


def course_published(slug: str, skills: list[tuple[str, int]], *, tenant_id: str = PLATFORM_TENANT,
                     course_id: str | None = None, hours: int = 10, revision: int = 1,
                     lessons: int = 2) -> dict:
    course_id = course_id or SLUG_IDS.get(slug) or str(uuid.uuid4())
    return envelope("careeros.lms.course.published.v1", tenant_id, {
        "course_id": course_id, "tenant_id": tenant_id,
        "visibility": "public" if tenant_id == PLATFORM_TENANT else "tenant",
        "slug": slug, "title": slug.replace("-", " ").title(), "level": "beginner", "language": "en",
        "estimated_hours": hours, "premium": False,
        "skills": [{"name": n, "esco_uri": "", "level": lvl} for n, lvl in skills], "track": "data",
        "revision": revision,
        "modules": [{"module_id": str(uuid.uuid4()), "title": "M1", "position": 1, "lessons": [
            {"lesson_id": str(uuid.uuid4()), "title": f"Lesson {i}", "kind": "article", "required": True,
             "position": i, "estimated_minutes": 30} for i in range(1, lessons + 1)]}],
    }, course_id)


def course_archived(course: dict) -> dict:
    p = course["payload"]
    return envelope("careeros.lms.course.archived.v1", p["tenant_id"],
                    {"course_id": p["course_id"], "tenant_id": p["tenant_id"], "slug": p["slug"]}, p["course_id"])


def progress_updated(tenant_id: str, user_id: str, course_id: str, percent: int, *,
                     at: datetime | None = None) -> dict:
    return envelope("careeros.tracker.progress.updated.v1", tenant_id, {
        "user_id": user_id, "tenant_id": tenant_id, "course_id": course_id, "percent": percent,
        "lessons_done": percent // 50, "lessons_total": 2, "required_done": percent == 100,
        "time_spent_s": 60 * percent, "last_activity_at": (at or datetime.now(timezone.utc)).isoformat(),
        "completed": percent == 100}, course_id)


def profile_updated(tenant_id: str, user_id: str, version: int, **changes) -> dict:
    return envelope("careeros.profile.profile.updated.v1", tenant_id, {
        "user_id": user_id, "tenant_id": tenant_id, "version": version,
        "changed_fields": sorted(changes), "changes": changes}, user_id)


# A small knowledge base: role -> (skill_id, name, level, hours, prerequisites, course slugs)
ROLES = {
    "data engineer": ("data-engineer", "Data Engineer", [
        ("python", "Python", 2, 20, [], ["python-basics"]),
        ("sql", "SQL", 3, 15, [], ["sql-basics"]),
        ("etl", "ETL pipelines", 3, 30, ["python", "sql"], []),
        ("airflow", "Airflow", 2, 12, ["etl"], []),
    ]),
    "ml engineer": ("ml-engineer", "ML Engineer", [
        ("python", "Python", 3, 30, [], ["python-basics"]),
        ("stats", "Statistics", 2, 20, [], []),
        ("ml", "Machine learning", 3, 40, ["python", "stats"], []),
    ]),
}


class ScriptedAiCore(ai_core_pb2_grpc.AiCoreServicer):
    """ProposeRoadmap from :data:`ROLES`; ``mode`` makes it answer a cycle, an unknown
    prerequisite, or fail like a broken provider. Counts calls and keeps the last request."""

    def __init__(self):
        self.mode = "ok"
        self.calls = 0
        self.last_request = None
        self.lock = threading.Lock()
        self.release = threading.Event()

    def ProposeRoadmap(self, request, context):
        with self.lock:
            self.calls += 1
            self.last_request = request
        if self.mode == "slow":  # hangs like a stuck provider (a runner can die meanwhile)
            self.release.wait(30)
        if self.mode == "unavailable":
            context.abort(__import__("grpc").StatusCode.UNAVAILABLE, "provider down")
        role = ROLES.get(request.target_role.strip().lower())
        if role is None:
            context.abort(__import__("grpc").StatusCode.NOT_FOUND, "unknown role")
        role_id, title, skills = role
        milestones = [ai_core_pb2.ProposedMilestone(
            skill_id=sid, skill_name=name, level=level, estimated_hours=hours,
            prerequisite_skill_ids=pres, course_slugs=slugs) for sid, name, level, hours, pres, slugs in skills]
        if self.mode == "cycle":
            milestones[0].prerequisite_skill_ids.append(milestones[-1].skill_id)
        elif self.mode == "unknown_prerequisite":
            milestones[0].prerequisite_skill_ids.append("quantum-basics")
        return ai_core_pb2.ProposeRoadmapResponse(role_id=role_id, role_title=title, milestones=milestones)


class AiCoreServer:
    """The scripted servicer behind a real grpcio server on a free port."""

    def __init__(self):
        self.servicer = ScriptedAiCore()
        self.address = f"127.0.0.1:{free_port()}"
        self.server = grpc_support.serve([(ai_core_pb2_grpc.add_AiCoreServicer_to_server, self.servicer,
                                           "careeros.ai_core.v1.AiCore")], self.address, workers=2)
        grpc_support.wait_for_server(self.address, timeout_s=10)

    def stop(self) -> None:
        self.server.stop(grace=None)
