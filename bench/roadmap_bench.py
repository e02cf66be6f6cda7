"""Roadmap generation benchmark: the largest role graph, domain and service, each beside a baseline.

    .venv/bin/python bench/roadmap_bench.py [ROUNDS]

Domain: ``domain.build_plan`` (graph checks, topological order with tie-break,
skipping, course links from the LMS seed catalog, weekly schedule) on the
largest role of ai_core's knowledge base, and on a synthetic 500-skill graph;
baseline: the standard library's bare topological sort (``graphlib``) of the
same graph.

Service: ``RoadmapService.create_roadmap`` end to end on the real PostgreSQL
(reserve, propose over real gRPC, plan, commit: four transactions, the outbox
event and the read back) against an in-process AiCore server answering from
the knowledge base; baseline: the bare ProposeRoadmap gRPC round trip the
generation cannot avoid.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from datetime import date
from graphlib import TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CAREEROS_DB_PREFIX", "careeros_bench_rdm_")

from bus.store import ServiceStore, migrations  # noqa: E402
from careeros_services.common import db as dbmod, grpc_support, infra  # noqa: E402
from careeros_services.common.caller import Caller  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from careeros_services.roadmap import domain  # noqa: E402
from careeros_services.roadmap.domain import (CatalogCourse, CatalogLesson, Goal, Proposal,  # noqa: E402
                                              ProposedMilestone)
from careeros_services.roadmap.proposer import AiCoreProposer, proposal_from  # noqa: E402
from careeros_services.roadmap.service import RoadmapService, Settings  # noqa: E402
from contracts.grpc import ai_core_pb2, ai_core_pb2_grpc, common_pb2  # noqa: E402

TODAY = date(2026, 12, 1)


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> str:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ms):8.3f} ms  p95 {p95:8.3f} ms"


def largest_role() -> tuple[str, Proposal]:
    """ai_core's biggest role graph (no known skills), as ProposeRoadmap would answer."""
    from careeros_services.ai_core import domain as ai_domain, knowledge
    kb = knowledge.default()
    best = max(kb.roles.values(), key=lambda r: (len(ai_domain.plan_milestones(kb, r, {})), r.id))
    milestones = ai_domain.plan_milestones(kb, best, {})
    return best.title, Proposal(best.id, best.title, tuple(ProposedMilestone(
        skill_id=m["skill_id"], skill_name=m["skill_name"], level=m["level"], esco_uri=m["esco_uri"],
        estimated_hours=m["estimated_hours"], prerequisite_skill_ids=tuple(m["prerequisite_skill_ids"]))
        for m in milestones), best.esco_occupation_uri)


def synthetic(n: int = 500) -> Proposal:
    """A layered DAG: each skill needs up to 3 skills of the previous 20 (deterministic)."""
    ms = []
    for i in range(n):
        pres = tuple(f"s{j:04d}" for j in sorted({max(0, i - 1 - (i * k) % 20) for k in (1, 7, 13)}) if j < i)
        ms.append(ProposedMilestone(f"s{i:04d}", f"Skill {i}", 1 + i % 5, 5 + i % 30, pres))
    return Proposal("synthetic", "Synthetic", tuple(ms))


def seed_catalog() -> list[CatalogCourse]:
    data = json.loads((ROOT / "careeros_services/lms/seed/catalog.json").read_text())
    return [CatalogCourse(
        course_id=c["id"], slug=c["slug"], title=c["title"], estimated_hours=c["estimated_hours"],
        skills=tuple((s["name"], s.get("esco_uri", ""), s["level"]) for s in c["skills"]),
        lessons=tuple(CatalogLesson(le["id"], le["title"], le["required"], le["estimated_minutes"])
                      for m in c["modules"] for le in m["lessons"])) for c in data["courses"]]


def bench_domain(name: str, proposal: Proposal, catalog: list[CatalogCourse], rounds: int) -> None:
    graph = {m.skill_id: m.prerequisite_skill_ids for m in proposal.milestones}
    known = {domain.skill_key(m.skill_name): 2 for m in proposal.milestones[::3]}
    goal = Goal(name, 10)
    plan = domain.build_plan(proposal, known, catalog, goal, TODAY)
    base = timed(lambda: list(TopologicalSorter(graph).static_order()), rounds)
    ours = timed(lambda: domain.build_plan(proposal, known, catalog, goal, TODAY), rounds)
    linked = sum(1 for m in plan["milestones"] if m["courses"])
    print(f"  {name}: {len(graph)} skills, {sum(len(v) for v in graph.values())} edges, "
          f"{linked} milestones linked to courses, {plan['summary']['weeks']} weeks")
    print(f"    baseline graphlib topological sort  {summary(base)}")
    print(f"    domain.build_plan                   {summary(ours)}   "
          f"ratio {statistics.median(ours) / statistics.median(base):.1f}x")


class KbAiCore(ai_core_pb2_grpc.AiCoreServicer):
    def __init__(self, proposal: Proposal):
        self.answer = ai_core_pb2.ProposeRoadmapResponse(
            role_id=proposal.role_id, role_title=proposal.role_title,
            esco_occupation_uri=proposal.esco_occupation_uri,
            milestones=[ai_core_pb2.ProposedMilestone(
                skill_id=m.skill_id, skill_name=m.skill_name, esco_uri=m.esco_uri, level=m.level,
                estimated_hours=m.estimated_hours, prerequisite_skill_ids=m.prerequisite_skill_ids)
                for m in proposal.milestones])

    def ProposeRoadmap(self, request, context):
        return self.answer


def bench_service(config: dict, name: str, proposal: Proposal, catalog: list[CatalogCourse], rounds: int) -> None:
    infra.ensure_servers()
    dbmod.drop_database(config, "roadmap")
    dbmod.migrate(config, "roadmap", migrations("careeros_services.roadmap"))
    store = ServiceStore.from_config(config, "roadmap")
    address = f"127.0.0.1:{infra.free_port()}"
    server = grpc_support.serve([(ai_core_pb2_grpc.add_AiCoreServicer_to_server, KbAiCore(proposal),
                                  "careeros.ai_core.v1.AiCore")], address, workers=4)
    grpc_support.wait_for_server(address)
    proposer = AiCoreProposer(config, address=address)
    service = RoadmapService(store, proposer, Settings())
    try:
        with store.transaction("00000000-0000-0000-0000-000000000000") as tx:
            for c in catalog:
                tx.db.execute_sql(
                    "INSERT INTO catalog_courses (course_id, tenant_id, visibility, slug, title, estimated_hours,"
                    " skills, lessons, revision) VALUES (%s, %s, 'public', %s, %s, %s, %s, %s, 1)",
                    (c.course_id, "00000000-0000-0000-0000-000000000000", c.slug, c.title, c.estimated_hours,
                     json.dumps([{"name": n, "esco_uri": u, "level": lv} for n, u, lv in c.skills]),
                     json.dumps([{"lesson_id": le.lesson_id, "title": le.title, "required": le.required,
                                  "estimated_minutes": le.estimated_minutes} for le in c.lessons])))
        caller = {"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "org_role": "member",
                  "plan_tier": "free"}
        request = ai_core_pb2.ProposeRoadmapRequest(caller=common_pb2.Caller(
            user_id=caller["user_id"], tenant_id=caller["tenant_id"]), target_role=name)
        for _ in range(5):  # warm-up: connections, channel
            service.create_roadmap(Caller(**caller), {"target_role": name, "hours_per_week": 10})
            proposal_from(proposer.client.call("ProposeRoadmap", request))
        base = timed(lambda: proposal_from(proposer.client.call("ProposeRoadmap", request)), rounds)
        ours = timed(lambda: service.create_roadmap(Caller(**dict(caller, user_id=str(uuid.uuid4()))),
                                                    {"target_role": name, "hours_per_week": 10}), rounds)
        print(f"  {name}: create_roadmap (new learner each time), PostgreSQL + gRPC")
        print(f"    baseline ProposeRoadmap gRPC call   {summary(base)}")
        print(f"    RoadmapService.create_roadmap       {summary(ours)}   "
              f"ratio {statistics.median(ours) / statistics.median(base):.1f}x")
    finally:
        proposer.close()
        server.stop(grace=None)
        store.close()


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    catalog = seed_catalog()
    name, role = largest_role()
    print(f"roadmap generation, {rounds} rounds; catalog: {len(catalog)} LMS seed courses")
    print("domain (pure):")
    bench_domain(name, role, catalog, rounds)
    bench_domain("synthetic-500", synthetic(), catalog, max(20, rounds // 10))
    print("service:")
    bench_service(load_config(), name, role, catalog, max(20, rounds // 4))


if __name__ == "__main__":
    main()
