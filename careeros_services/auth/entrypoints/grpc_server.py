"""The auth service over gRPC (``careeros.auth.v1.Auth``).

A plain grpcio servicer in its own process (grpcio does not run under
eventlet), translating messages to service-layer calls and back. Empty proto
strings mean "absent". Errors are DomainErrors; ``grpc_support``'s
interceptor turns them into a status code and trailing metadata.
"""
from __future__ import annotations

import json
from typing import Callable

import grpc

from careeros_services.auth.service import AuthService, build
from contracts.grpc import auth_pb2, auth_pb2_grpc

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["Auth"].full_name  # "careeros.auth.v1.Auth"


def _token_pair(tokens: dict) -> auth_pb2.TokenPair:
    return auth_pb2.TokenPair(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                              token_type=tokens["token_type"], expires_in=tokens["expires_in"])


class AuthServicer(auth_pb2_grpc.AuthServicer):
    """Register / Login / Refresh / Logout / GetJwks / GetMe on one :class:`AuthService`."""

    def __init__(self, service: AuthService):
        self.service = service

    def Register(self, request: auth_pb2.RegisterRequest, context: grpc.ServicerContext):
        result = self.service.register(request.email, request.password, request.display_name,
                                       request.organization_name or None)
        return auth_pb2.RegisterResponse(user_id=result["user_id"], tenant_id=result["tenant_id"])

    def Login(self, request: auth_pb2.LoginRequest, context: grpc.ServicerContext):
        return _token_pair(self.service.login(request.email, request.password, request.client_ip))

    def Refresh(self, request: auth_pb2.RefreshRequest, context: grpc.ServicerContext):
        return _token_pair(self.service.refresh(request.refresh_token))

    def Logout(self, request: auth_pb2.LogoutRequest, context: grpc.ServicerContext):
        self.service.logout(request.jti, request.exp, request.refresh_token or None,
                            user_id=request.caller.user_id or None)
        return auth_pb2.LogoutResponse()

    def GetJwks(self, request: auth_pb2.GetJwksRequest, context: grpc.ServicerContext):
        return auth_pb2.Jwks(json=json.dumps(self.service.jwks()))

    def GetMe(self, request: auth_pb2.GetMeRequest, context: grpc.ServicerContext):
        me = self.service.get_me(request.caller.user_id, request.caller.tenant_id)
        return auth_pb2.Me(**me)


def registration(config: dict) -> tuple[Callable, AuthServicer, str]:
    """What ``grpc_support.serve`` needs to host auth: (add function, servicer, full service name)."""
    return auth_pb2_grpc.add_AuthServicer_to_server, AuthServicer(build(config)), SERVICE_NAME
