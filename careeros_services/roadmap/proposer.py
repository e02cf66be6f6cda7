"""ai_core's ProposeRoadmap as the roadmap service's proposal source (gRPC: gRPC process only).

Through ``common.grpc_support.ServiceClient``: a deadline on every call and a
circuit breaker, so a slow or failing ai_core turns into ``Unavailable``
quickly; the saga then retries later or compensates. The answer is converted
to the domain's :class:`Proposal` as is — checking it is the domain's job.
"""
from __future__ import annotations

from careeros_services.common.caller import Caller
from careeros_services.common.grpc_support import ServiceClient
from careeros_services.roadmap.domain import Proposal, ProposedMilestone
from careeros_services.roadmap.settings import Settings
from contracts.grpc import ai_core_pb2, ai_core_pb2_grpc, common_pb2


class AiCoreProposer:
    """Calls ``careeros.ai_core.v1.AiCore/ProposeRoadmap``."""

    def __init__(self, config: dict, address: str | None = None):
        grpc_conf = config["grpc"]
        settings = Settings.from_config(config)
        self.client = ServiceClient(
            "ai_core", address or str(grpc_conf["addresses"]["ai_core"]), ai_core_pb2_grpc.AiCoreStub,
            deadline_s=settings.propose_deadline_s or float(grpc_conf["deadline_s"]),
            fail_max=int(grpc_conf["breaker_fail_max"]), reset_timeout_s=float(grpc_conf["breaker_reset_s"]))

    def propose(self, caller: Caller, target_role: str, known_skills: list[dict]) -> Proposal:
        request = ai_core_pb2.ProposeRoadmapRequest(
            caller=common_pb2.Caller(user_id=caller.user_id, tenant_id=caller.tenant_id,
                                     org_role=caller.org_role, plan_tier=caller.plan_tier),
            target_role=target_role,
            known_skills=[ai_core_pb2.SkillLevel(name=s["name"], level=s["level"]) for s in known_skills])
        answer = self.client.call("ProposeRoadmap", request)
        return proposal_from(answer)

    def close(self) -> None:
        self.client.close()


def proposal_from(answer: ai_core_pb2.ProposeRoadmapResponse) -> Proposal:
    return Proposal(
        role_id=answer.role_id, role_title=answer.role_title, esco_occupation_uri=answer.esco_occupation_uri,
        milestones=tuple(ProposedMilestone(
            skill_id=m.skill_id, skill_name=m.skill_name, esco_uri=m.esco_uri, level=m.level,
            estimated_hours=m.estimated_hours, prerequisite_skill_ids=tuple(m.prerequisite_skill_ids),
            course_slugs=tuple(m.course_slugs), practice_task=m.practice_task) for m in answer.milestones))
