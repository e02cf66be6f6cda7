"""The auth gRPC server in process, called through a real grpcio stub."""
import json
import time
import uuid

import grpc
import jwt
import pytest
import redis

from careeros_services.auth.entrypoints.grpc_server import SERVICE_NAME, registration
from careeros_services.auth.service import REVOKED_JTI_PREFIX
from careeros_services.common import grpc_support
from careeros_services.common.infra import free_port
from contracts.grpc import auth_pb2, auth_pb2_grpc, common_pb2

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def stub(config, fresh_store):
    fresh_store("auth")
    prefix = f"careeros.test{uuid.uuid4().hex[:8]}.auth."
    address = f"127.0.0.1:{free_port()}"
    add, servicer, name = registration({**config, "auth": {**config["auth"], "redis_prefix": prefix}})
    assert name == SERVICE_NAME == "careeros.auth.v1.Auth"
    server = grpc_support.serve([(add, servicer, name)], address, workers=4)
    grpc_support.wait_for_server(address, timeout_s=10)
    with grpc.insecure_channel(address) as channel:
        yield auth_pb2_grpc.AuthStub(channel)
    server.stop(grace=None)
    for key in servicer.service.redis.scan_iter(match=f"{prefix}*"):
        servicer.service.redis.delete(key)
    servicer.service.store.close()


def register(stub, **fields) -> tuple[str, auth_pb2.RegisterResponse]:
    email = f"g{uuid.uuid4().hex[:10]}@example.com"
    request = auth_pb2.RegisterRequest(email=email, password=PASSWORD, display_name="Grace", **fields)
    return email, stub.Register(request, timeout=10)


def rpc_error(call, request) -> tuple[grpc.StatusCode, dict]:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=10)
    return caught.value.code(), dict(caught.value.trailing_metadata())


def test_register_login_jwks_and_me_over_grpc(stub):
    email, registered = register(stub, organization_name="Grace's Academy")
    tokens = stub.Login(auth_pb2.LoginRequest(email=email, password=PASSWORD, client_ip="10.0.0.1"), timeout=10)
    assert tokens.token_type == "Bearer" and tokens.expires_in > 0 and tokens.refresh_token
    jwks = json.loads(stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=10).json)
    kid = jwt.get_unverified_header(tokens.access_token)["kid"]
    [key] = [k for k in jwks["keys"] if k["kid"] == kid]
    claims = jwt.decode(tokens.access_token, jwt.PyJWK(key).key, algorithms=["RS256"],
                        options={"verify_aud": False})
    assert (claims["sub"], claims["tenant_id"], claims["org_role"]) == \
        (registered.user_id, registered.tenant_id, "owner")
    me = stub.GetMe(auth_pb2.GetMeRequest(caller=common_pb2.Caller(
        user_id=registered.user_id, tenant_id=registered.tenant_id)), timeout=10)
    assert (me.email, me.display_name, me.tenant_kind, me.tenant_name, me.org_role, me.plan_tier) == \
        (email, "Grace", "organization", "Grace's Academy", "owner", "free")
    assert me.user_id == registered.user_id and me.created_at


def test_refresh_and_logout_over_grpc(stub, config):
    email, registered = register(stub)  # no organization_name: the empty string means "absent"
    tokens = stub.Login(auth_pb2.LoginRequest(email=email, password=PASSWORD), timeout=10)
    rotated = stub.Refresh(auth_pb2.RefreshRequest(refresh_token=tokens.refresh_token), timeout=10)
    claims = jwt.decode(rotated.access_token, options={"verify_signature": False})
    assert claims["tenant_id"] == registered.tenant_id
    client = redis.Redis.from_url(config["redis_url"])
    try:
        logged_out_at = int(time.time())  # the TTL is what was left of the token then, not later
        stub.Logout(auth_pb2.LogoutRequest(
            jti=claims["jti"], exp=claims["exp"], refresh_token=rotated.refresh_token,
            caller=common_pb2.Caller(user_id=registered.user_id, tenant_id=registered.tenant_id)), timeout=10)
        assert client.get(REVOKED_JTI_PREFIX + claims["jti"]) == b"1"
        assert 0 < client.ttl(REVOKED_JTI_PREFIX + claims["jti"]) <= claims["exp"] - logged_out_at
    finally:
        client.delete(REVOKED_JTI_PREFIX + claims["jti"])
        client.close()
    code, trailers = rpc_error(stub.Refresh, auth_pb2.RefreshRequest(refresh_token=rotated.refresh_token))
    assert code == grpc.StatusCode.UNAUTHENTICATED and trailers["careeros-error-code"] == "invalid_refresh_token"


def test_domain_errors_arrive_as_status_codes_with_a_stable_code(stub):
    email, _ = register(stub)
    code, trailers = rpc_error(stub.Register, auth_pb2.RegisterRequest(
        email=email.upper(), password=PASSWORD, display_name="Copy"))
    assert code == grpc.StatusCode.ALREADY_EXISTS and trailers["careeros-error-code"] == "email_taken"

    code, trailers = rpc_error(stub.Register, auth_pb2.RegisterRequest(email="bad", password="x", display_name=""))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and trailers["careeros-error-code"] == "validation_failed"
    assert set(json.loads(trailers["careeros-error-fields"])) == {"email", "password", "display_name"}

    code, trailers = rpc_error(stub.Login, auth_pb2.LoginRequest(email=email, password="wrong password!"))
    assert code == grpc.StatusCode.UNAUTHENTICATED and trailers["careeros-error-code"] == "invalid_credentials"

    code, trailers = rpc_error(stub.GetMe, auth_pb2.GetMeRequest())
    assert code == grpc.StatusCode.INVALID_ARGUMENT and trailers["careeros-error-code"] == "invalid_caller"


def test_throttling_arrives_as_resource_exhausted_with_retry_after(stub, config):
    email, _ = register(stub)
    ip = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    wrong = auth_pb2.LoginRequest(email=email, password="wrong password!", client_ip=ip)
    for _ in range(int(config["auth"]["login_max_failures"])):
        assert rpc_error(stub.Login, wrong)[0] == grpc.StatusCode.UNAUTHENTICATED
    code, trailers = rpc_error(stub.Login, wrong)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and trailers["careeros-error-code"] == "login_throttled"
    assert int(trailers["careeros-retry-after"]) > 0
    code, _ = rpc_error(stub.Login, auth_pb2.LoginRequest(email=email, password=PASSWORD, client_ip=ip))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED  # even with the right password
