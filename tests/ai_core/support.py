"""Helpers shared by the ai_core tests: event envelopes and a service wired for tests."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import redis

from bus import contracts
from careeros_services.ai_core import knowledge, limits, persistence
from careeros_services.ai_core.providers import EmbeddedProvider, Redactor
from careeros_services.ai_core.service import AiCoreService, Caller
from careeros_services.common.storage import LocalStorage
from careeros_services.common.config import load_config

RUN = uuid.uuid4().hex[:8]


def envelope(event_type: str, tenant_id: str, aggregate_id: str, payload: dict, producer: str) -> dict:
    return contracts.validate({
        "id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": producer, "tenant_id": tenant_id,
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "aggregate_type": event_type.split(".")[2],
        "aggregate_id": aggregate_id, "payload": payload})


def profile_created(tenant_id: str, user_id: str) -> dict:
    return envelope("careeros.profile.profile.created.v1", tenant_id, user_id,
                    {"user_id": user_id, "tenant_id": tenant_id}, "profile")


def profile_updated(tenant_id: str, user_id: str, version: int, **changes) -> dict:
    return envelope("careeros.profile.profile.updated.v1", tenant_id, user_id,
                    {"user_id": user_id, "tenant_id": tenant_id, "version": version,
                     "changed_fields": sorted(changes), "changes": changes}, "profile")


def course_published(tenant_id: str, slug: str, skills: list[dict], *, visibility: str = "tenant",
                     course_id: str | None = None, revision: int = 1, title: str | None = None,
                     premium: bool = False) -> dict:
    course_id = course_id or str(uuid.uuid4())
    return envelope("careeros.lms.course.published.v1", tenant_id, course_id, {
        "course_id": course_id, "tenant_id": tenant_id, "visibility": visibility, "slug": slug,
        "title": title or slug.replace("-", " ").title(), "level": "intermediate", "language": "en",
        "estimated_hours": 10, "premium": premium, "skills": skills, "track": "data", "revision": revision,
        "modules": []}, "lms")


def learner(service: AiCoreService, *, skills=(), target_role="", years=0, headline="",
            plan_tier="free", org_role="member", tenant_id: str | None = None) -> Caller:
    """A learner whose profile events ai_core has consumed."""
    tenant_id = tenant_id or str(uuid.uuid4())
    user_id = str(uuid.uuid4())
    assert service.handle_event(profile_created(tenant_id, user_id)) is True
    changes = {"skills": [{"name": n, "level": lvl} for n, lvl in skills], "target_role": target_role,
               "years_experience": years, "headline": headline}
    assert service.handle_event(profile_updated(tenant_id, user_id, 2, **changes)) is True
    return Caller.of(tenant_id, user_id, org_role, plan_tier)


def make_service(store, tmp_path, *, provider=None, quotas=None, per_minute=1000, cache_ttl_s=600) -> AiCoreService:
    persistence.bind(store.database)
    kb = knowledge.default()
    client = redis.Redis.from_url(load_config()["redis_url"])
    prefix = f"test.ai.{RUN}.{uuid.uuid4().hex[:6]}."
    lim = limits.Limits(client, prefix, tenant_per_minute=per_minute,
                        quotas=quotas or {"free": 50, "pro": 500, "team": -1}, cache_ttl_s=cache_ttl_s)
    return AiCoreService(store, kb, provider or EmbeddedProvider(kb), lim, LocalStorage(tmp_path, "careeros-ai", signing_secret="test"),
                         redactor=Redactor())


def cleanup(service: AiCoreService) -> None:
    for key in service.limits.redis.scan_iter(match=service.limits.prefix + "*"):
        service.limits.redis.delete(key)


def outbox(store, event_type: str) -> list[dict]:
    with store.transaction(None) as tx:
        cursor = tx.db.execute_sql("SELECT envelope FROM outbox WHERE event_type = %s ORDER BY id", (event_type,))
        return [row[0] for row in cursor.fetchall()]
