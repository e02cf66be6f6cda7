"""The ai_core service layer: what the nameko and gRPC entrypoints both call.

A consultation turn:

1. per-tenant rate limit (Redis);
2. read the learner (read model of profile events), the history and the
   courses the learner can see (the seed catalog, public courses and the
   tenant's own, from lms events);
3. ``domain.analyse`` computes the facts (gaps, ordered next steps, courses,
   roles, interview topics, ESCO URIs);
4. an identical earlier request is answered from the Redis cache; otherwise
   one unit of the monthly quota is taken and the provider writes the answer,
   outside any database transaction;
5. the answer is validated (JSON Schema + ``domain.answer_problems``), with
   one repair attempt; failing twice is a 502 and nothing is stored (the
   quota unit is given back);
6. one transaction stores the learner's message, the answer and the usage
   row and publishes ``usage.recorded`` and ``consultation.answered``.

Operations act on the verified caller's own data: they take the caller's
``(tenant_id, user_id)`` and no parameter names anyone else.
"""
from __future__ import annotations

import io
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Optional

from prometheus_client import Counter, Histogram

from bus.handlers import EventHandlingService, handles
from bus import privacy
from bus.store import ServiceStore, Transaction
from careeros_services.ai_core import (conversation, domain, knowledge, limits as limits_mod, objects, persistence,
                                      providers, validation)
from careeros_services.ai_core.domain import Course
from careeros_services.ai_core.knowledge import KnowledgeBase
from careeros_services.ai_core.persistence import AiUnitOfWork, course_from, iso
from careeros_services.ai_core.providers import Completion, Prompt, Provider, Redactor
from careeros_services.ai_core.settings import DEFAULT_PRICES, Settings
from careeros_services.common.caller import Caller
from careeros_services.common import esco, metrics, skills as skill_table
from careeros_services.common import text as text_rules
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import NotFound, ValidationFailed
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.common.storage import ObjectMissing, ObjectStorage
from bus.contracts import (  # event types, from contracts/events
    PROFILE_PROFILE_CREATED_V1 as PROFILE_CREATED,
    PROFILE_PROFILE_UPDATED_V1 as PROFILE_UPDATED,
    LMS_COURSE_PUBLISHED_V1 as COURSE_PUBLISHED,
    LMS_COURSE_ARCHIVED_V1 as COURSE_ARCHIVED,
    AI_CORE_USAGE_RECORDED_V1 as USAGE_RECORDED,
    AI_CORE_CONSULTATION_ANSWERED_V1 as CONSULTATION_ANSWERED,
    AI_CORE_CV_CONFIRMED_V1 as CV_CONFIRMED,
)
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork

log = logging.getLogger(__name__)

SERVICE = "ai_core"
PLATFORM_TENANT = "00000000-0000-0000-0000-000000000000"

SEED_CATALOG = Path(__file__).resolve().parents[1] / "lms" / "seed" / "catalog.json"
PLATFORM_COURSES_TTL_S = 30.0
HISTORY_TURNS = 6            # earlier messages given to the provider as context
CV_TYPES = ("application/pdf", "text/plain")
PRIVILEGED_ROLES = ("owner", "admin")
NO_MODEL_PROVIDERS = ("embedded",)   # providers that answer without a model (no tokens to report)

# Service-specific metric (tokens and cost per tenant use the shared ones in common.metrics).
AI_CACHE = Counter("careeros_ai_cache_total", "AI answers served from the cache (hit) or a provider (miss).",
                   ["outcome"])

AI_CALLS = Counter("careeros_ai_provider_calls_total",
                   "Provider calls (answers written) by provider and purpose; model_called=false: no model ran.",
                   ["provider", "purpose", "model_called"])

AI_PROVIDER_LATENCY = Histogram("careeros_ai_provider_latency_seconds", "AI provider call latency.",
                                ["provider", "purpose"], buckets=metrics.LATENCY_BUCKETS)

def load_seed_catalog(kb: KnowledgeBase, path: Path = SEED_CATALOG) -> list[Course]:
    """The LMS's public seed catalog (shipped in the repo), skills matched to KB ids; [] if absent."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    courses = document.get("courses", []) if isinstance(document, dict) else document
    tenant = document.get("tenant_id", PLATFORM_TENANT) if isinstance(document, dict) else PLATFORM_TENANT
    return [course_from(kb, c["slug"], c["title"], c.get("level", ""), tenant, c.get("skills", []),
                        premium=bool(c.get("premium", False)), hours=int(c.get("estimated_hours") or 0),
                        course_id=str(c.get("id", "")))
            for c in courses if c.get("slug") and c.get("title")]


class AiCoreService(ServiceWithUnitOfWork[AiUnitOfWork], PersonalDataOwner, EventHandlingService):
    """The AI HR consultant: consultations, CV analysis, roadmap proposals, usage."""

    consumer_name = SERVICE
    unit_of_work_class = AiUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS

    def __init__(self, store: ServiceStore, kb: KnowledgeBase, provider: Provider, limits: limits_mod.Limits,
                 object_store: ObjectStorage, *, prices: Optional[dict] = None,
                 seed_courses: Optional[list[Course]] = None, redactor: Optional[Redactor] = None,
                 max_cv_bytes: int = Settings.max_cv_bytes, clock: Clock = system_clock):
        self.store = store
        self.clock = clock
        self.kb = kb
        self.provider = provider
        self.limits = limits
        self.objects = object_store
        self.prices = prices or DEFAULT_PRICES
        self.seed_courses = seed_courses if seed_courses is not None else load_seed_catalog(kb)
        self.redactor = redactor or Redactor()
        self._platform_cache: Optional[tuple[float, list[Course]]] = None
        self.max_cv_bytes = int(max_cv_bytes)

    # --- privacy: the person's part of an export, and erasure (bus/privacy.py) ----------------

    def export_extra(self, tx: Transaction, user_id: str, tenant_id: str, held: dict,
                     storage: ObjectStorage, prefix: str) -> list[str]:
        """Copy the person's uploaded CVs beside their export part."""
        copied = []
        for cv in held.get("cv_uploads", []):
            try:
                data = self.objects.get(cv["object_key"])
            except ObjectMissing:
                continue
            copied.append(f"{prefix}/cv/{cv['id']}-{cv['filename']}"[:500])
            storage.put(copied[-1], data, cv.get("content_type") or "application/octet-stream")
        return copied

    def erase_extra(self, tx: Transaction, user_id: str, tenant_id: str, request: dict) -> int:
        """Delete the CV files; AI cost rows stay for the tenant's spend, no longer naming the person."""
        params = {"user": user_id, "tenant": tenant_id, "erased": privacy.ERASED_ID}
        for (key,) in tx.db.execute_sql("SELECT object_key FROM cv_uploads WHERE tenant_id = %(tenant)s"
                                        " AND user_id = %(user)s", params).fetchall():
            self.objects.delete(key)
        return privacy.execute(tx, "UPDATE ai_usage SET user_id = %(erased)s WHERE tenant_id = %(tenant)s"
                                   " AND user_id = %(user)s", params)

    # --- event handlers (read models) -----------------------------------------------------------

    @handles(PROFILE_CREATED)
    def _on_profile_created(self, tx: Transaction, envelope: dict) -> None:
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        uow.ai.profile_created(payload["tenant_id"], payload["user_id"])

    @handles(PROFILE_UPDATED)
    def _on_profile_updated(self, tx: Transaction, envelope: dict) -> None:
        """Keep skills, target role, years and headline; older versions than stored are ignored."""
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        uow.ai.profile_updated(payload["tenant_id"], payload["user_id"], int(payload["version"]),
                               payload["changes"])

    @handles(COURSE_PUBLISHED)
    def _on_course_published(self, tx: Transaction, envelope: dict) -> None:
        uow = self.unit_of_work_in(tx)
        uow.ai.upsert_course(envelope["payload"])
        self._platform_cache = None  # this process sees its own consumption at once

    @handles(COURSE_ARCHIVED)
    def _on_course_archived(self, tx: Transaction, envelope: dict) -> None:
        uow = self.unit_of_work_in(tx)
        payload = envelope["payload"]
        uow.ai.archive_course(payload["tenant_id"], payload["course_id"])
        self._platform_cache = None

    # --- consultations --------------------------------------------------------------------------

    def open_consultation(self, caller: Caller, question: str, target_role: str = "") -> dict:
        """Open a consultation with a first question (or goal); returns it with the first answer."""
        question = domain.validate_question(question, "question")
        if target_role and len(target_role) > 120:
            raise ValidationFailed("The target role is too long.", fields={"target_role": ["must be at most 120 characters"]})
        return self._turn(caller, None, question, explicit_role=(target_role or "").strip())

    def post_message(self, caller: Caller, consultation_id: str, content: str) -> dict:
        """Add the learner's message to their consultation and answer it; returns the consultation."""
        [consultation_id] = _ids(consultation_id=consultation_id)
        content = domain.validate_question(content, "content")
        return self._turn(caller, consultation_id, content, explicit_role="")

    def get_consultation(self, caller: Caller, consultation_id: str) -> dict:
        """The caller's consultation with every message (NotFound for anyone else's)."""
        [consultation_id] = _ids(consultation_id=consultation_id)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.ai
            record = repo.consultation(caller.tenant_id, caller.user_id, consultation_id)
            if record is None:
                raise _consultation_not_found()
            return _consultation_dict(record, repo.messages(caller.tenant_id, consultation_id))

    def list_consultations(self, caller: Caller, limit: int = 20) -> dict:
        """The caller's own consultations (never a colleague's), newest activity first, for a chat's history."""
        if not 0 <= limit <= 100:
            raise ValidationFailed("limit must be between 1 and 100.", fields={"limit": ["must be between 1 and 100"]})
        with self.unit_of_work(caller.tenant_id) as uow:
            found = uow.ai.consultations_of(caller.tenant_id, caller.user_id, limit or 20)
        return {"consultations": [
            {"consultation_id": str(r.id), "topic": r.topic, "target_role": r.target_role,
             "created_at": iso(r.created_at), "last_message_at": iso(last), "message_count": count}
            for r, count, last in found]}

    def _visible_courses(self, tenant_id: str, own: Optional[list[Course]] = None) -> list[Course]:
        """The tenant's own courses + public (platform) courses + the seed catalog, without duplicate slugs.

        ``own``: the tenant's courses when the caller already read them in its transaction.
        Platform courses are shared by every tenant and change rarely: they are cached in the
        process for ``PLATFORM_COURSES_TTL_S`` (a read model is eventually consistent anyway).
        """
        if own is None:
            with self.unit_of_work(tenant_id) as uow:
                own = uow.ai.courses(tenant_id, self.kb)
        public: list[Course] = []
        if tenant_id != PLATFORM_TENANT:
            public = self._platform_courses()
        seen: set[str] = set()
        out = []
        for course in own + public + self.seed_courses:   # tenant courses first: they win a slug clash
            if course.slug not in seen:
                seen.add(course.slug)
                out.append(course)
        return out

    def _platform_courses(self) -> list[Course]:
        cached = self._platform_cache
        if cached is not None and time.monotonic() - cached[0] < PLATFORM_COURSES_TTL_S:
            return cached[1]
        with self.unit_of_work(PLATFORM_TENANT) as uow:
            courses = uow.ai.courses(PLATFORM_TENANT, self.kb)
        self._platform_cache = (time.monotonic(), courses)
        return courses

    def _turn(self, caller: Caller, consultation_id: Optional[str], text: str, explicit_role: str) -> dict:
        self.limits.check_rate(caller.tenant_id)
        wants_cv = "cv" in conversation.cues_in(text)
        cv_skills, history, start_role = None, [], ""
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.ai
            profile = repo.profile(caller.tenant_id, caller.user_id)
            own_courses = repo.courses(caller.tenant_id, self.kb)
            if wants_cv:
                cv_skills = repo.latest_cv_skills(caller.tenant_id, caller.user_id)
            if consultation_id is not None:
                record = repo.consultation(caller.tenant_id, caller.user_id, consultation_id)
                if record is None:
                    raise _consultation_not_found()
                history = repo.messages(caller.tenant_id, consultation_id)
                start_role = record.target_role
        courses = self._visible_courses(caller.tenant_id, own_courses)
        start = self.kb.role_for(start_role) if start_role else None
        today = self.clock().date()
        state = conversation.state_of(self.kb, [(m.role, m.content, m.answer, m.created_at.date()) for m in history],
                                      today,
                                      plan_tier=caller.plan_tier, cv_skills=cv_skills or (),
                                      has_cv=cv_skills is not None, start_role=start.id if start else "")
        facts = domain.analyse(self.kb, profile, text, courses, explicit_role=explicit_role, state=state,
                               today=today, first=consultation_id is None)
        prompt = Prompt(purpose="consultation", question=text, facts=facts,
                        data=_learner_data(profile, history), schema=validation.schema(validation.CONSULTATION_ANSWER))
        answer, completions, cached = self._answer(caller, prompt, facts)
        try:
            return self._store_turn(caller, consultation_id, text, explicit_role, facts, answer, completions, cached)
        except Exception:
            if not cached:  # nothing was stored: the answer does not count against the quota
                self.limits.give_back_quota(caller.tenant_id, caller.user_id, caller.plan_tier)
            raise

    def _store_turn(self, caller: Caller, consultation_id: Optional[str], text: str, explicit_role: str,
                    facts: domain.Facts, answer: dict, completions: list[Completion], cached: bool) -> dict:
        """One transaction: the learner's message, the answer, usage rows and the events."""
        role_title = facts.role.title if facts.role else ""
        usage_rows = [] if cached else completions
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.ai
            if consultation_id is None:
                consultation_id = repo.create_consultation(caller.tenant_id, caller.user_id, text, role_title)
                seq = 0
            else:
                repo.consultation(caller.tenant_id, caller.user_id, consultation_id, for_update=True)
                seq = len(repo.messages(caller.tenant_id, consultation_id))
                if role_title and not explicit_role:
                    repo.set_target_role(caller.tenant_id, consultation_id, role_title)
            repo.add_message(caller.tenant_id, consultation_id, seq + 1, "user", text)
            last = completions[-1]
            message_id = repo.add_message(
                caller.tenant_id, consultation_id, seq + 2, "assistant", answer["answer"], answer=answer,
                provider=last.provider, model=last.model,
                prompt_tokens=0 if cached else sum(c.prompt_tokens for c in completions),
                completion_tokens=0 if cached else sum(c.completion_tokens for c in completions), cached=cached)
            for completion in usage_rows:
                self._record_usage(uow, caller, completion, "consultation")
            uow.publish(CONSULTATION_ANSWERED, aggregate_id=consultation_id, payload={
                "consultation_id": consultation_id, "message_id": message_id, "tenant_id": caller.tenant_id,
                "user_id": caller.user_id, "target_role": role_title,
                "skill_gaps": [g["esco_uri"] or g["name"] for g in answer["skill_gaps"]]})
            record = repo.consultation(caller.tenant_id, caller.user_id, consultation_id)
            result = _consultation_dict(record, repo.messages(caller.tenant_id, consultation_id))
        return result

    def _answer(self, caller: Caller, prompt: Prompt, facts: domain.Facts) -> tuple[dict, list[Completion], bool]:
        """The validated answer, the completions it took, and whether it came from the cache."""
        key = self.limits.cache_key(caller.tenant_id, self.provider.name, self.provider.model, prompt.purpose,
                                    facts.as_dict(), prompt.data, domain.normalised_question(prompt.question))
        hit = self.limits.cached(key)
        if hit is not None and not validation.problems(validation.CONSULTATION_ANSWER, hit):
            AI_CACHE.labels("hit").inc()
            cached = [Completion("", self.provider.name, self.provider.model, 0, 0)]
            return domain.link_courses(hit, facts), cached, True
        AI_CACHE.labels("miss").inc()
        self.limits.take_quota(caller.tenant_id, caller.user_id, caller.plan_tier)
        def ask(repair):
            return self._complete(caller, prompt, repair)

        try:
            answer, completions, repairs = validation.validated(
                validation.CONSULTATION_ANSWER, ask, lambda doc: domain.answer_problems(self.kb, doc, facts))
        except Exception:
            self.limits.give_back_quota(caller.tenant_id, caller.user_id, caller.plan_tier)
            raise
        if repairs:
            log.info("ai answer repaired after %d invalid attempt(s)", repairs)
        answer = domain.link_courses(answer, facts)
        self.limits.remember(key, answer)
        return answer, completions, False

    def _complete(self, caller: Caller, prompt: Prompt, repair) -> Completion:
        """One provider call, timed and counted (tokens, cost) whatever becomes of its output."""
        with AI_PROVIDER_LATENCY.labels(self.provider.name, prompt.purpose).time():
            completion = self.provider.complete(prompt, repair)
        self._count(caller, completion, prompt.purpose)
        return completion

    # --- usage and cost -------------------------------------------------------------------------

    def _cost(self, completion: Completion) -> int:
        return domain.cost_micro_usd(self.prices, completion.provider, completion.model,
                                     completion.prompt_tokens, completion.completion_tokens)

    def _count(self, caller: Caller, completion: Completion, purpose: str) -> None:
        """Prometheus: calls per provider, and tokens and cost per tenant where a model ran
        (every provider call, even one whose answer was thrown away)."""
        AI_CALLS.labels(completion.provider, purpose, "true" if completion.model_called else "false").inc()
        if not completion.model_called:
            return   # no model, no tokens: nothing is estimated and charged as if it were
        metrics.AI_TOKENS.labels(caller.tenant_id, completion.provider, "prompt").inc(completion.prompt_tokens)
        metrics.AI_TOKENS.labels(caller.tenant_id, completion.provider, "completion").inc(completion.completion_tokens)
        metrics.TENANT_COST_MICROS.labels(caller.tenant_id, "ai").inc(self._cost(completion))

    def _record_usage(self, uow: AiUnitOfWork, caller: Caller, completion: Completion,
                      purpose: str) -> None:
        repo = uow.ai
        cost = self._cost(completion)
        usage_id = repo.add_usage(caller.tenant_id, caller.user_id, completion.provider, completion.model, purpose,
                                  completion.prompt_tokens, completion.completion_tokens, cost)
        uow.publish(USAGE_RECORDED, aggregate_id=usage_id, payload={
            "usage_id": usage_id, "tenant_id": caller.tenant_id, "user_id": caller.user_id,
            "provider": completion.provider, "model": completion.model[:120],
            "prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
            "cost_micro_usd": cost, "purpose": purpose})

    def get_usage(self, caller: Caller) -> dict:
        """This month's quota use and the caller's tokens/cost; the tenant's totals for owners and admins."""
        start = self.clock().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.ai
            mine = repo.usage_totals(caller.tenant_id, start, caller.user_id)
            by_provider = repo.usage_by_provider(caller.tenant_id, caller.user_id, start)
            tenant = repo.usage_totals(caller.tenant_id, start) if caller.org_role in PRIVILEGED_ROLES else None
        return {"period": limits_mod.month(), "plan_tier": caller.plan_tier,
                "consultations_used": self.limits.quota_used(caller.tenant_id, caller.user_id),
                "consultations_quota": self.limits.quota_for(caller.plan_tier),
                "user": mine, "tenant": tenant or {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                                   "cost_micro_usd": 0},
                "by_provider": [dict(p, model_called=p["provider"] not in NO_MODEL_PROVIDERS) for p in by_provider]}

    # --- roadmap proposals (for the roadmap service) -----------------------------------------------

    def propose_roadmap(self, caller: Caller, target_role: str, known_skills: list[tuple[str, int]]) -> dict:
        """Milestones for a target role given known skills, validated against roadmap_proposal.v1.

        Planned by the knowledge base (prerequisite DAG, hours per level); no model
        runs, so the usage row (purpose "roadmap") has no tokens.
        """
        if not isinstance(target_role, str) or not target_role.strip() or len(target_role) > 120:
            raise ValidationFailed("A target role is required.", fields={"target_role": ["must be 1..120 characters"]})
        proposal = domain.propose_roadmap(self.kb, target_role.strip(), known_skills,
                                          self._visible_courses(caller.tenant_id))
        found = validation.problems(validation.ROADMAP_PROPOSAL, proposal) + domain.roadmap_problems(proposal)
        if found:  # our own planner produced it: a bug, not the caller's fault
            raise providers.AiOutputInvalid("The roadmap proposal failed its schema.", fields={"milestones": found[:10]})
        completion = Completion("", "embedded", "careeros-kb-1", 0, 0, model_called=False)
        self._count(caller, completion, "roadmap")
        with self.unit_of_work(caller.tenant_id) as uow:
            self._record_usage(uow, caller, completion, "roadmap")
        return proposal

    def search_skills(self, text: str, limit: int = 20) -> list[dict]:
        """The skill taxonomy (the one the platform resolves every skill against) searched as a
        person types: for autocomplete in profiles and course editors. ``limit`` 1..100."""
        errors = {}
        if len(text) > 100:
            errors["q"] = ["must be at most 100 characters"]
        if not 1 <= limit <= 100:
            errors["limit"] = ["must be between 1 and 100"]
        if errors:
            raise ValidationFailed("The skill search is not valid.", fields=errors)
        return [{"skill_id": e.id, "name": e.name, "esco_uri": e.esco_uri, "aliases": list(e.aliases)}
                for e in skill_table.table().search(text, limit)]

    def list_roles(self, track: str = "") -> list[dict]:
        """The knowledge base's roles (optionally of one track) with skills and interview topics."""
        out = []
        for role in sorted(self.kb.roles.values(), key=lambda r: (r.track, r.title)):
            if track and role.track != track:
                continue
            out.append({"role_id": role.id, "title": role.title, "track": role.track,
                        "esco_occupation_uri": role.esco_occupation_uri,
                        "skills": [{"skill_id": s, "name": self.kb.skills[s].name,
                                    "esco_uri": self.kb.skills[s].esco_uri or "", "level": lvl}
                                   for s, lvl in sorted(role.skills.items())],
                        "interview_topics": list(role.interview_topics)})
        return out

    # --- CV ---------------------------------------------------------------------------------------

    def analyze_cv(self, caller: Caller, filename: str, content_type: str, content: bytes) -> dict:
        """Store an uploaded CV and propose the skills found in it (the profile is not changed)."""
        content_type = (content_type or "").split(";")[0].strip().lower()
        if content_type not in CV_TYPES:
            raise ValidationFailed("Unsupported CV type.", fields={"content_type": [f"must be one of {', '.join(CV_TYPES)}"]})
        if not content:
            raise ValidationFailed("The CV is empty.", fields={"content": ["must not be empty"]})
        if len(content) > self.max_cv_bytes:
            raise ValidationFailed("The CV is too large.", fields={"content": [f"must be at most {self.max_cv_bytes} bytes"]})
        filename = (filename or "cv").strip().replace("/", "_")[:200] or "cv"
        text = cv_text(content_type, content)
        self.limits.check_rate(caller.tenant_id)
        prompt = Prompt(purpose="cv", data={"cv_text": text[:20000]}, schema=validation.schema(validation.CV_ANALYSIS))
        def ask(repair):
            return self._complete(caller, prompt, repair)

        proposal, completions, _repairs = validation.validated(validation.CV_ANALYSIS, ask)
        proposal = {"proposed_skills": self._normalise_proposals(proposal["proposed_skills"])}
        cv_id = str(uuid.uuid4())
        key = f"ai_core/cv/{caller.tenant_id}/{caller.user_id}/{cv_id}"
        self.objects.put(key, content, content_type)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.ai
            record = repo.add_cv(caller.tenant_id, caller.user_id, cv_id, key, filename, content_type, len(content), proposal)
            for completion in completions:
                self._record_usage(uow, caller, completion, "cv")
        return _cv_dict(record)

    def _normalise_proposals(self, proposed: list[dict]) -> list[dict]:
        """KB names and ESCO URIs are ours, not the provider's: re-resolve each proposed skill."""
        out: dict[str, dict] = {}
        for item in proposed:
            skill = self.kb.skill_for(item["name"])
            name = skill.name if skill else text_rules.strip_unsafe_chars(item["name"])[:80]
            uri = (skill.esco_uri or "") if skill else self.kb.esco_uri_for(item["name"])
            evidence = text_rules.strip_unsafe_chars(self.redactor.text(item.get("evidence", "")))[:300]
            key = name.casefold()
            if key not in out or item["level"] > out[key]["level"]:
                out[key] = {"name": name, "esco_uri": uri, "level": int(item["level"]), "evidence": evidence}
        return list(out.values())

    def confirm_cv(self, caller: Caller, cv_id: str, skills: list[dict]) -> dict:
        """The learner confirms (a subset of, possibly re-levelled) proposed skills.

        Publishes ``cv.confirmed`` for the profile service to apply; confirming twice is a Conflict-free no-op
        returning the stored confirmation.
        """
        [cv_id] = _ids(cv_id=cv_id)
        errors: dict[str, list[str]] = {}
        cleaned: list[dict] = []
        if not isinstance(skills, list) or not skills:
            raise ValidationFailed("Confirm at least one skill.", fields={"skills": ["must be a non-empty list"]})
        for i, item in enumerate(skills):
            name = item.get("name") if isinstance(item, dict) else None
            level = item.get("level") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name.strip() or len(name) > 80:
                errors[f"skills[{i}].name"] = ["must be 1..80 characters"]
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
                errors[f"skills[{i}].level"] = ["must be an integer 1..5"]
            if not errors:
                cleaned.append({"name": name.strip(), "level": level})
        if errors:
            raise ValidationFailed("Some confirmed skills are invalid.", fields=errors)
        with self.unit_of_work(caller.tenant_id) as uow:
            repo = uow.ai
            record = repo.cv(caller.tenant_id, caller.user_id, cv_id, for_update=True)
            if record is None:
                raise NotFound("No such CV.", code="cv_not_found")
            if record.status == "confirmed":
                return _cv_dict(record)
            proposed = {p["name"].casefold(): p for p in record.proposed.get("proposed_skills", [])}
            unknown = [f"skills[{i}].name" for i, s in enumerate(cleaned) if s["name"].casefold() not in proposed]
            if unknown:
                raise ValidationFailed("Only proposed skills can be confirmed.",
                                       fields={k: ["was not proposed from this CV"] for k in unknown})
            confirmed = [{"name": proposed[s["name"].casefold()]["name"], "level": s["level"],
                          "esco_uri": proposed[s["name"].casefold()]["esco_uri"]} for s in cleaned]
            repo.confirm_cv(caller.tenant_id, cv_id, confirmed)
            uow.publish(CV_CONFIRMED, aggregate_id=caller.user_id, payload={
                "cv_id": cv_id, "tenant_id": caller.tenant_id, "user_id": caller.user_id, "skills": confirmed})
            record = repo.cv(caller.tenant_id, caller.user_id, cv_id)
        return _cv_dict(record)

    # --- audits -----------------------------------------------------------------------------------

    def stored_outputs(self, tenant_id: str) -> dict[str, list[dict]]:
        """Every stored AI output of a tenant by schema name (audits; the read-back test)."""
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.ai
            return {validation.CONSULTATION_ANSWER: repo.stored_answers(tenant_id),
                    validation.CV_ANALYSIS: repo.stored_cv_analyses(tenant_id)}


# --- helpers ------------------------------------------------------------------------------------

def _ids(**values: object) -> list[str]:
    try:
        return [str(uuid.UUID(str(v))) for v in values.values()]
    except ValueError:
        raise ValidationFailed("Malformed id.", fields={k: ["must be a UUID"] for k in values}) from None


def _consultation_not_found() -> NotFound:
    return NotFound("No such consultation.", code="consultation_not_found")


def _learner_data(profile: domain.LearnerProfile, history: list) -> dict:
    """The untrusted part of a prompt: the learner's own words and profile."""
    return {
        "profile": {"skills": [{"name": n, "level": lvl} for n, lvl in profile.skills],
                    "target_role": profile.target_role, "years_experience": profile.years_experience,
                    "headline": profile.headline},
        "earlier_messages": [{"role": m.role, "content": m.content[:2000]} for m in history[-HISTORY_TURNS:]],
    }


def _consultation_dict(record: persistence.ConsultationRecord, messages: list) -> dict:
    return {
        "consultation_id": str(record.id), "user_id": str(record.user_id), "tenant_id": str(record.tenant_id),
        "topic": record.topic, "target_role": record.target_role, "created_at": iso(record.created_at),
        "messages": [{"message_id": str(m.id), "role": m.role, "content": m.content, "answer": m.answer,
                      "provider": m.provider, "model": m.model, "prompt_tokens": m.prompt_tokens,
                      "completion_tokens": m.completion_tokens, "created_at": iso(m.created_at)}
                     for m in messages],
    }


def _cv_dict(record: persistence.CvRecord) -> dict:
    return {"cv_id": str(record.id), "status": record.status, "object_key": record.object_key,
            "filename": record.filename, "proposed_skills": record.proposed.get("proposed_skills", []),
            "confirmed_skills": [{"name": s["name"], "level": s["level"]} for s in record.confirmed or []],
            "created_at": iso(record.created_at)}


def cv_text(content_type: str, content: bytes) -> str:
    """The CV's text: PDF pages through pypdf, or the text as UTF-8 (invalid bytes replaced)."""
    if content_type == "application/pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(content))
            extracted = "\n".join(page.extract_text() or "" for page in reader.pages)
        except (PdfReadError, ValueError, KeyError) as exc:
            raise ValidationFailed("The PDF cannot be read.", fields={"content": [f"is not a readable PDF ({type(exc).__name__})"]}) from None
        return text_rules.strip_unsafe_chars(extracted)  # extraction leaves form feeds and worse
    decoded = content.decode("utf-8", errors="replace")
    # Checked before anything is stored or any AI is called: a NUL would fail the insert afterwards.
    text_rules.require_safe_text("The CV has control characters.", content=decoded)
    return decoded


def build(config: dict, *, provider: Optional[Provider] = None, clock: Clock = system_clock) -> AiCoreService:
    """The service layer for one process (nameko container or gRPC server)."""
    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    settings = Settings.from_config(config)
    kb = knowledge.default()
    esco.counts()  # load ESCO's CSVs at start-up, not in the first request that needs them (~1 s)
    return AiCoreService(store, kb, provider or providers.build(settings, kb), limits_mod.Limits.from_config(config),
                         objects.build(config), prices=settings.prices or DEFAULT_PRICES,
                         redactor=Redactor.from_config(settings.redaction),
                         max_cv_bytes=settings.max_cv_bytes, clock=clock)
