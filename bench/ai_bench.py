"""AI consultant benchmark: consultation latency with the embedded provider, beside a read baseline.

    .venv/bin/python bench/ai_bench.py [N]

Uses its own ai_core database (prefix ``careeros_bench_ai_``) and Redis keys, the
embedded provider, the answer cache off and an unlimited plan, so every call
does the full turn: rate limit, profile + history + visible courses (3 SQL
transactions), analysis over the knowledge base, the provider, JSON Schema and
semantic validation, one write transaction (2 messages, usage row, 2 outbox
events). One client, sequential, N calls each:

* service layer — ``open_consultation`` and, as the baseline,
  ``get_consultation`` (one RLS-scoped read of a stored consultation);
* through gRPC — the same two via ``ServiceClient`` (deadline + breaker) to an
  in-process grpcio server built by ``registration(config)``;
* the pure part — ``domain.analyse`` + ``compose_answer`` + validation only,
  and a cache hit, to show where the time goes.

Baseline and consult calls are interleaved so both see the same load. Prints
p50/p99 in ms and the consult/baseline ratios. Everything shares this machine's 2 cores.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CAREEROS_DB_PREFIX", "careeros_bench_ai_")
os.environ["CAREEROS_AI_PROVIDER"] = "embedded"
os.environ["CAREEROS_AI_CACHE_TTL_S"] = "0"
os.environ["CAREEROS_AI_RATE_PER_TENANT"] = "0"
os.environ["CAREEROS_AI_REDIS_PREFIX"] = f"bench.ai.{uuid.uuid4().hex[:8]}."

from bus.store import migrations  # noqa: E402
from careeros_services.ai_core import domain, validation, writer  # noqa: E402
from careeros_services.ai_core.entrypoints.grpc_server import registration  # noqa: E402
from careeros_services.ai_core.service import Caller  # noqa: E402
from careeros_services.common import db as dbmod, grpc_support, infra  # noqa: E402
from careeros_services.common.config import load_config  # noqa: E402
from careeros_services.common.grpc_support import ServiceClient  # noqa: E402
from contracts.grpc import ai_core_pb2, ai_core_pb2_grpc, common_pb2  # noqa: E402
from tests.ai_core.support import profile_created, profile_updated  # noqa: E402

SKILLS = [("Python", 3), ("SQL", 2), ("Git", 3), ("Excel", 4)]
QUESTIONS = ["How do I become a data engineer?", "Is Spark important?", "Which courses first?",
             "What do interviews ask?", "Could I be a data scientist instead?"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure_pair(base_fn, fn, n: int) -> tuple[list[float], list[float]]:
    """Interleaved (base, fn, base, fn, ...): both see the same load on a shared machine."""
    base, out = [], []
    for i in range(n):
        start = time.perf_counter()
        base_fn(i)
        middle = time.perf_counter()
        fn(i)
        end = time.perf_counter()
        base.append((middle - start) * 1000)
        out.append((end - middle) * 1000)
    return base, out


def row(name: str, ms: list[float], base: list[float] | None = None) -> str:
    ratio = f"{statistics.median(ms) / statistics.median(base):6.1f}x" if base else "   base"
    return f"{name:44} {pct(ms, 0.5):8.2f} {pct(ms, 0.99):8.2f}   {ratio}"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    infra.ensure_servers()
    config = load_config()
    dbmod.drop_database(config, "ai_core")
    dbmod.migrate(config, "ai_core", migrations("careeros_services.ai_core"))
    add, servicer, name = registration(config)
    service = servicer.service
    tenant_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    service.handle_event(profile_created(tenant_id, user_id))
    service.handle_event(profile_updated(tenant_id, user_id, 2, target_role="Data Engineer", years_experience=3,
                                         skills=[{"name": s, "level": lvl} for s, lvl in SKILLS]))
    caller = Caller.of(tenant_id, user_id, "member", "team")
    address = f"127.0.0.1:{infra.free_port()}"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address)
    client = ServiceClient("ai_core", address, ai_core_pb2_grpc.AiCoreStub, deadline_s=10)
    pb_caller = common_pb2.Caller(user_id=user_id, tenant_id=tenant_id, org_role="member", plan_tier="team")
    try:
        question = lambda i: f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"  # noqa: E731 - distinct: no cache
        for i in range(10):  # warm up connections, caches of the KB and ESCO
            service.open_consultation(caller, question(i))
        stored = service.open_consultation(caller, "warm")["consultation_id"]

        read, consult = measure_pair(lambda i: service.get_consultation(caller, stored),
                                     lambda i: service.open_consultation(caller, question(i)), n)
        grpc_read, grpc_consult = measure_pair(
            lambda i: client.call("GetConsultation", ai_core_pb2.GetConsultationRequest(
                caller=pb_caller, consultation_id=stored)),
            lambda i: client.call("OpenConsultation", ai_core_pb2.OpenConsultationRequest(
                caller=pb_caller, question=question(n + i))), n)

        profile = domain.LearnerProfile(user_id, tenant_id, skills=tuple(SKILLS), target_role="Data Engineer")
        courses = service._visible_courses(tenant_id)

        def pure(i):
            facts = domain.analyse(service.kb, profile, question(i), courses)
            answer = writer.compose_answer(service.kb, facts)
            assert not validation.problems(validation.CONSULTATION_ANSWER, answer)
            assert not domain.answer_problems(service.kb, answer, facts)
        pure_ms = measure(pure, n)
        service.limits.cache_ttl_s = 600
        service.open_consultation(caller, "cached question")
        cached = measure(lambda i: service.open_consultation(caller, "cached question"), n)
    finally:
        client.close()
        server.stop(grace=None)
        for key in service.limits.redis.scan_iter(match=service.limits.prefix + "*"):
            service.limits.redis.delete(key)
        service.store.close()

    print(f"ai_core consult latency, embedded provider, N={n} sequential calls, ms")
    print(f"{'':44} {'p50':>8} {'p99':>8}   vs base")
    print(row("service: get_consultation (baseline)", read))
    print(row("service: open_consultation", consult, read))
    print(row("service: open_consultation, cache hit", cached, read))
    print(row("service: analyse+compose+validate only", pure_ms, read))
    print(row("gRPC: GetConsultation (baseline)", grpc_read))
    print(row("gRPC: OpenConsultation", grpc_consult, grpc_read))
    print(f"gRPC adds {pct(grpc_consult, 0.5) - pct(consult, 0.5):.2f} ms p50 to a consultation "
          f"({pct(grpc_read, 0.5) - pct(read, 0.5):.2f} ms to the read)")


if __name__ == "__main__":
    main()
