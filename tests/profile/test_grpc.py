"""The profile gRPC server in process, called through a real grpcio stub."""
from __future__ import annotations

import json
import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from careeros_services.common import grpc_support
from careeros_services.common.errors import ValidationFailed
from careeros_services.profile.entrypoints.grpc_server import registration
from careeros_services.profile.service import ProfileService
from contracts.grpc import common_pb2, profile_pb2, profile_pb2_grpc
from tests.profile.support import user_registered
from careeros_services.common.infra import free_port


@pytest.fixture(scope="module")
def address(config, fresh_store):
    """A running in-process profile gRPC server, built by ``registration(config)`` as in production."""
    fresh_store("profile")  # the database the server's own store connects to, migrated
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    assert name == "careeros.profile.v1.ProfileService"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    try:
        grpc_support.wait_for_server(address, timeout_s=10)
        yield address
    finally:
        server.stop(grace=None)
        servicer.service.store.close()


@pytest.fixture(scope="module")
def stub(address):
    with grpc.insecure_channel(address) as channel:
        yield profile_pb2_grpc.ProfileServiceStub(channel)


@pytest.fixture
def caller(fresh_store) -> common_pb2.Caller:
    """A registered learner (profile made by handling the event), as the gateway would pass them."""
    envelope = user_registered(display_name="Linus")
    assert ProfileService(fresh_store("profile")).handle_event(envelope) is True
    payload = envelope["payload"]
    return common_pb2.Caller(user_id=payload["user_id"], tenant_id=payload["tenant_id"],
                             org_role="owner", plan_tier="free")


def trailers(error: grpc.RpcError) -> dict:
    return dict(error.trailing_metadata() or ())


def test_get_profile(stub, caller):
    profile = stub.GetProfile(profile_pb2.GetProfileRequest(caller=caller), timeout=5)
    assert (profile.user_id, profile.tenant_id) == (caller.user_id, caller.tenant_id)
    assert profile.display_name == "Linus" and profile.version == 1
    assert profile.learning_pace == "steady" and profile.created_at


def test_update_profile_changes_only_the_masked_paths(stub, caller):
    request = profile_pb2.UpdateProfileRequest(
        caller=caller,
        profile=profile_pb2.Profile(
            headline="Kernel hacker", target_role="not in the mask", years_experience=12,
            skills=[profile_pb2.Skill(name="C", level=5), profile_pb2.Skill(name="Git", level=4)],
            interests=["operating systems"], display_name="not editable and not in the mask"),
        update_mask=FieldMask(paths=["headline", "skills", "years_experience", "interests"]))

    updated = stub.UpdateProfile(request, timeout=5)

    assert updated.headline == "Kernel hacker" and updated.years_experience == 12
    assert [(s.name, s.level) for s in updated.skills] == [("C", 5), ("Git", 4)]
    assert list(updated.interests) == ["operating systems"]
    assert updated.target_role == "" and updated.display_name == "Linus"
    assert updated.version == 2
    assert stub.GetProfile(profile_pb2.GetProfileRequest(caller=caller), timeout=5) == updated


def test_masked_path_with_the_default_value_clears_the_field(stub, caller):
    set_request = profile_pb2.UpdateProfileRequest(
        caller=caller, profile=profile_pb2.Profile(headline="temporary"),
        update_mask=FieldMask(paths=["headline"]))
    assert stub.UpdateProfile(set_request, timeout=5).headline == "temporary"
    cleared = stub.UpdateProfile(profile_pb2.UpdateProfileRequest(
        caller=caller, profile=profile_pb2.Profile(), update_mask=FieldMask(paths=["headline"])), timeout=5)
    assert cleared.headline == "" and cleared.version == 3


def test_missing_profile_is_not_found_with_its_code(stub):
    stranger = common_pb2.Caller(user_id=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()))
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetProfile(profile_pb2.GetProfileRequest(caller=stranger), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(caught.value)[grpc_support.ERROR_CODE_KEY] == "profile_not_found"


def test_another_tenant_cannot_reach_the_profile(stub, caller):
    impostor = common_pb2.Caller(user_id=caller.user_id, tenant_id=str(uuid.uuid4()))
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetProfile(profile_pb2.GetProfileRequest(caller=impostor), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_bad_patch_is_invalid_argument_naming_the_fields(stub, caller):
    request = profile_pb2.UpdateProfileRequest(
        caller=caller,
        profile=profile_pb2.Profile(headline="h" * 201, skills=[profile_pb2.Skill(name="Go", level=9)],
                                    learning_pace="warp"),
        update_mask=FieldMask(paths=["headline", "skills", "learning_pace"]))
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateProfile(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    meta = trailers(caught.value)
    assert meta[grpc_support.ERROR_CODE_KEY] == "validation_failed"
    assert set(json.loads(meta[grpc_support.ERROR_FIELDS_KEY])) == {"headline", "skills[0].level",
                                                                    "learning_pace"}


@pytest.mark.parametrize("path", ["display_name", "version", "user_id", "nickname", "skills.name"])
def test_unknown_or_read_only_mask_path_is_invalid_argument(stub, caller, path):
    request = profile_pb2.UpdateProfileRequest(
        caller=caller, profile=profile_pb2.Profile(display_name="Mallory", version=99),
        update_mask=FieldMask(paths=["headline", path]))
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateProfile(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(json.loads(trailers(caught.value)[grpc_support.ERROR_FIELDS_KEY])) == [path]
    assert stub.GetProfile(profile_pb2.GetProfileRequest(caller=caller), timeout=5).version == 1


def test_gateway_client_rebuilds_the_domain_error(address, caller):
    client = grpc_support.ServiceClient("profile", address, profile_pb2_grpc.ProfileServiceStub)
    try:
        with pytest.raises(ValidationFailed) as caught:
            client.call("UpdateProfile", profile_pb2.UpdateProfileRequest(
                caller=caller, profile=profile_pb2.Profile(years_experience=-3),
                update_mask=FieldMask(paths=["years_experience"])))
        assert caught.value.fields == {"years_experience": ["must be between 0 and 70"]}
    finally:
        client.close()


def test_the_gateways_breaker_ignores_business_errors_and_opens_on_transport_failures(address, caller):
    """Ten NOT_FOUNDs leave the breaker closed; an unreachable service opens it: 503 + Retry-After."""
    from careeros_services.common.errors import NotFound, Unavailable

    client = grpc_support.ServiceClient("profile", address, profile_pb2_grpc.ProfileServiceStub,
                                        deadline_s=2, fail_max=2, reset_timeout_s=30)
    stranger = common_pb2.Caller(user_id=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()))
    for _ in range(10):
        with pytest.raises(NotFound):
            client.call("GetProfile", profile_pb2.GetProfileRequest(caller=stranger))
    assert client.breaker.current_state == "closed"
    assert client.call("GetProfile", profile_pb2.GetProfileRequest(caller=caller)).user_id == caller.user_id

    dead = grpc_support.ServiceClient("profile", f"127.0.0.1:{free_port()}", profile_pb2_grpc.ProfileServiceStub,
                                      deadline_s=0.5, fail_max=2, reset_timeout_s=30)
    errors = []
    for _ in range(3):
        with pytest.raises(Unavailable) as caught:
            dead.call("GetProfile", profile_pb2.GetProfileRequest(caller=caller))
        errors.append(caught.value)
    assert [e.code for e in errors][-1] == "circuit_open"
    assert errors[-1].status == 503 and 1 <= errors[-1].retry_after <= 30
    assert errors[0].code in ("upstream_unavailable", "circuit_open")
