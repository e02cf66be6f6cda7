"""The ai_core gRPC server in process (built by ``registration(config)``), called through a real stub."""
from __future__ import annotations

import uuid

import grpc
import pytest

from careeros_services.ai_core.entrypoints.grpc_server import registration
from careeros_services.common import grpc_support
from careeros_services.common.grpc_support import ServiceClient
from careeros_services.common.errors import ValidationFailed
from careeros_services.common.infra import free_port
from contracts.grpc import ai_core_pb2, ai_core_pb2_grpc, common_pb2
from tests.ai_core.support import cleanup, learner


@pytest.fixture(scope="module")
def server(config, fresh_store, tmp_path_factory):
    fresh_store("ai_core")
    cvs = {"backend": "local", "bucket": "cvs", "root": str(tmp_path_factory.mktemp("cvs"))}
    config = {**config, "ai_core": {**config["ai_core"], "storage": cvs, "redis_prefix": f"test.ai.grpc.{uuid.uuid4().hex[:8]}."}}
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    assert name == "careeros.ai_core.v1.AiCore"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    try:
        grpc_support.wait_for_server(address, timeout_s=10)
        yield address, servicer.service
    finally:
        server.stop(grace=None)
        cleanup(servicer.service)
        servicer.service.store.close()


@pytest.fixture(scope="module")
def stub(server):
    with grpc.insecure_channel(server[0]) as channel:
        yield ai_core_pb2_grpc.AiCoreStub(channel)


@pytest.fixture
def caller(server) -> common_pb2.Caller:
    service = server[1]
    c = learner(service, skills=[("Python", 4), ("SQL", 3)], target_role="Data Scientist")
    return common_pb2.Caller(user_id=c.user_id, tenant_id=c.tenant_id, org_role="owner", plan_tier="pro")


def test_consultation_round_trip(stub, caller):
    opened = stub.OpenConsultation(ai_core_pb2.OpenConsultationRequest(caller=caller, question="Where do I start?"), timeout=10)
    assert opened.target_role == "Data Scientist" and len(opened.messages) == 2
    answer = opened.messages[1].answer
    assert answer.target_role.role_id == "data_scientist" and answer.skill_gaps and answer.next_actions
    assert answer.market_data.available is False and answer.cited_esco_uris
    posted = stub.PostMessage(ai_core_pb2.PostMessageRequest(
        caller=caller, consultation_id=opened.consultation_id, content="And interviews?"), timeout=10)
    assert len(posted.messages) == 4
    got = stub.GetConsultation(ai_core_pb2.GetConsultationRequest(caller=caller, consultation_id=opened.consultation_id), timeout=5)
    assert got == posted


def test_propose_roadmap_contract_for_the_roadmap_service(server, stub, caller):
    request = ai_core_pb2.ProposeRoadmapRequest(caller=caller, target_role="Data Engineer",
                                                known_skills=[ai_core_pb2.SkillLevel(name="Python", level=4)])
    response = stub.ProposeRoadmap(request, timeout=10)
    assert response.role_id == "data_engineer" and response.role_title == "Data Engineer"
    assert response.esco_occupation_uri.startswith("http://data.europa.eu/esco/occupation/")
    ids = [m.skill_id for m in response.milestones]
    assert "python" not in ids and ids.index("sql") < ids.index("data_engineering")
    sql = next(m for m in response.milestones if m.skill_id == "sql")
    assert sql.level == 4 and sql.estimated_hours > 0 and sql.esco_uri and sql.course_slugs
    # The roadmap service's own acceptance check passes on what it receives.
    from careeros_services.roadmap.domain import validate_proposal
    from careeros_services.roadmap.proposer import proposal_from
    validate_proposal(proposal_from(response))
    # The way roadmap calls it: through ServiceClient (deadline + breaker), errors as DomainErrors.
    client = ServiceClient("ai_core", server[0], ai_core_pb2_grpc.AiCoreStub)
    try:
        assert client.call("ProposeRoadmap", request).milestones == response.milestones
        with pytest.raises(ValidationFailed) as err:
            client.call("ProposeRoadmap", ai_core_pb2.ProposeRoadmapRequest(caller=caller, target_role="Astronaut"))
        assert err.value.code == "unknown_role" and "target_role" in err.value.fields
    finally:
        client.close()


def test_list_roles_cv_and_usage(stub, caller):
    roles = stub.ListRoles(ai_core_pb2.ListRolesRequest(caller=caller, track="hr"), timeout=5).roles
    assert roles and all(r.track == "hr" and r.skills and r.interview_topics for r in roles)
    analysis = stub.AnalyzeCv(ai_core_pb2.AnalyzeCvRequest(
        caller=caller, filename="cv.txt", content_type="text/plain",
        content=b"Python developer, 3 years\nKubernetes and Terraform"), timeout=10)
    assert {s.name for s in analysis.proposed_skills} >= {"Python", "Containers and orchestration"}
    confirmed = stub.ConfirmCv(ai_core_pb2.ConfirmCvRequest(
        caller=caller, cv_id=analysis.cv_id, skills=[ai_core_pb2.SkillLevel(name="Python", level=3)]), timeout=5)
    assert confirmed.status == "confirmed" and [(s.name, s.level) for s in confirmed.confirmed_skills] == [("Python", 3)]
    usage = stub.GetUsage(ai_core_pb2.GetUsageRequest(caller=caller), timeout=5)
    assert usage.plan_tier == "pro" and usage.consultations_quota == 300 and usage.user.calls >= 1


def test_errors_carry_status_and_code(stub, caller):
    with pytest.raises(grpc.RpcError) as err:
        stub.GetConsultation(ai_core_pb2.GetConsultationRequest(caller=caller, consultation_id=str(uuid.uuid4())), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert dict(err.value.trailing_metadata())["careeros-error-code"] == "consultation_not_found"
    with pytest.raises(grpc.RpcError) as err:
        stub.OpenConsultation(ai_core_pb2.OpenConsultationRequest(caller=caller, question=""), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
