"""Calls that hash a password get ``gateway.password_deadline_s``, not the 3 s of every other call:
under load argon2id queues (the soak's registrations were 503s). Checked on the wire: a real gRPC
server answering as auth reads the deadline each call arrived with."""
from __future__ import annotations

import copy
import uuid
from concurrent import futures

import grpc
import pytest

from contracts.grpc import auth_pb2, auth_pb2_grpc
from gateway_flask import services
from gateway_flask.app import create_app
from gateway_flask.views import SERVICE_BLUEPRINTS


class RecordingAuth(auth_pb2_grpc.AuthServicer):
    def __init__(self):
        self.remaining: dict[str, float] = {}

    def Register(self, request, context):
        self.remaining["Register"] = context.time_remaining()
        return auth_pb2.RegisterResponse(user_id=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()))

    def Login(self, request, context):
        self.remaining["Login"] = context.time_remaining()
        return auth_pb2.TokenPair(access_token="a", refresh_token="r", expires_in=900)

    def ResetPassword(self, request, context):
        self.remaining["ResetPassword"] = context.time_remaining()
        return auth_pb2.ResetPasswordResponse()

    def AcceptInvite(self, request, context):
        self.remaining["AcceptInvite"] = context.time_remaining()
        return auth_pb2.AcceptInviteResponse(tenant_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()),
                                             org_role="member", tokens=auth_pb2.TokenPair(expires_in=900))

    def GetJwks(self, request, context):
        self.remaining["GetJwks"] = context.time_remaining()
        return auth_pb2.Jwks(json='{"keys": []}')


@pytest.fixture
def auth_server():
    servicer = RecordingAuth()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    auth_pb2_grpc.add_AuthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, port
    server.stop(None)


def test_password_calls_wait_longer_than_the_others(auth_server, gw_config, redis_client, monkeypatch):
    servicer, port = auth_server
    monkeypatch.setattr(services, "_clients", {})  # this test's channel stays in this test
    config = copy.deepcopy(gw_config)
    config["grpc"]["addresses"]["auth"] = f"127.0.0.1:{port}"
    config["grpc"]["deadline_s"] = 3
    config["gateway"]["password_deadline_s"] = 15
    client = create_app(config, blueprints=SERVICE_BLUEPRINTS, redis_client=redis_client).test_client()
    registered = client.post("/api/v1/auth/register", json={
        "email": "slow@example.com", "password": "a long enough password", "display_name": "Slow"})
    assert registered.status_code == 201, registered.text
    assert client.post("/api/v1/auth/login", json={"email": "slow@example.com",
                                                   "password": "a long enough password"}).status_code == 200
    assert client.post("/api/v1/auth/password/reset", json={
        "token": "t" * 32, "password": "a long enough password"}).status_code == 204
    accepted = client.post("/api/v1/orgs/invites/some-token/accept", json={
        "password": "a long enough password", "display_name": "Invitee"})
    assert accepted.status_code == 200, accepted.text
    assert client.get("/api/v1/auth/jwks").status_code == 200
    for call in ("Register", "Login", "ResetPassword", "AcceptInvite"):
        assert 10 < servicer.remaining[call] < 16, call
    assert servicer.remaining["GetJwks"] < 4
