"""The auth gRPC server in process, called through a real grpcio stub."""
import json
import uuid

import grpc
import pytest

from careeros_services.auth.entrypoints.grpc_server import registration
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from contracts.grpc import auth_pb2, auth_pb2_grpc, common_pb2


@pytest.fixture(scope="module")
def stub(config, fresh_store):
    fresh_store("auth")
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration(config)
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    with grpc.insecure_channel(address) as channel:
        yield auth_pb2_grpc.AuthStub(channel)
    server.stop(grace=None)
    servicer.service.store.close()


def test_register_login_jwks_and_me_over_grpc(stub):
    email = f"g{uuid.uuid4().hex[:10]}@example.com"
    registered = stub.Register(auth_pb2.RegisterRequest(email=email, password="correct horse battery",
                                                        display_name="Grace"), timeout=10)
    tokens = stub.Login(auth_pb2.LoginRequest(email=email, password="correct horse battery"), timeout=10)
    assert tokens.token_type == "Bearer" and tokens.access_token.count(".") == 2
    assert json.loads(stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=10).json)["keys"]
    me = stub.GetMe(auth_pb2.GetMeRequest(caller=common_pb2.Caller(
        user_id=registered.user_id, tenant_id=registered.tenant_id)), timeout=10)
    assert me.email == email and me.tenant_kind == "personal"


def test_domain_errors_arrive_as_status_codes_with_a_stable_code(stub):
    email = f"g{uuid.uuid4().hex[:10]}@example.com"
    request = auth_pb2.RegisterRequest(email=email, password="correct horse battery", display_name="G")
    stub.Register(request, timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Register(request, timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert dict(caught.value.trailing_metadata())["careeros-error-code"] == "email_taken"
    with pytest.raises(grpc.RpcError) as caught:
        stub.Register(auth_pb2.RegisterRequest(email="bad", password="x", display_name=""), timeout=10)
    trailers = dict(caught.value.trailing_metadata())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"email", "password", "display_name"} <= set(json.loads(trailers["careeros-error-fields"]))
