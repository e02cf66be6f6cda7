"""The auth gRPC servicer: messages in, service-layer calls, messages out.

Empty proto strings mean "absent". Domain errors become status codes in
``careeros_services.common.grpc_support``'s interceptor.
"""
from __future__ import annotations

import json

from careeros_services.auth.service import AuthService, build
from contracts.grpc import auth_pb2, auth_pb2_grpc

SERVICE_NAME = "careeros.auth.v1.Auth"


class AuthServicer(auth_pb2_grpc.AuthServicer):
    def __init__(self, service: AuthService):
        self.service = service

    def Register(self, request, context):
        result = self.service.register(request.email, request.password, request.display_name,
                                       request.organization_name or None)
        return auth_pb2.RegisterResponse(**result)

    def Login(self, request, context):
        return auth_pb2.TokenPair(**self.service.login(request.email, request.password, request.client_ip))

    def Refresh(self, request, context):
        return auth_pb2.TokenPair(**self.service.refresh(request.refresh_token))

    def Logout(self, request, context):
        self.service.logout(request.jti, request.exp, request.refresh_token or None)
        return auth_pb2.LogoutResponse()

    def GetJwks(self, request, context):
        return auth_pb2.Jwks(json=json.dumps(self.service.jwks()))

    def GetMe(self, request, context):
        return auth_pb2.Me(**self.service.get_me(request.caller.user_id, request.caller.tenant_id))


def registration(config: dict):
    """What ``careeros grpc`` needs to serve auth: (add function, servicer, full service name)."""
    return auth_pb2_grpc.add_AuthServicer_to_server, AuthServicer(build(config)), SERVICE_NAME
