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
from careeros_services.common.caller import Caller
from careeros_services.common.grpc_support import CLIENT_IP_KEY
from contracts.grpc import auth_pb2, auth_pb2_grpc, privacy_pb2, privacy_pb2_grpc

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["Auth"].full_name  # "careeros.auth.v1.Auth"
PRIVACY_SERVICE_NAME = privacy_pb2.DESCRIPTOR.services_by_name["Privacy"].full_name


def _token_pair(tokens: dict) -> auth_pb2.TokenPair:
    return auth_pb2.TokenPair(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                              token_type=tokens["token_type"], expires_in=tokens["expires_in"])


def _client_ip(context: grpc.ServicerContext) -> str:
    """The end client's address from the gateway's ``x-client-ip`` metadata ("" when absent)."""
    return str(dict(context.invocation_metadata() or ()).get(CLIENT_IP_KEY, ""))[:64]


def _assignment(a: dict) -> auth_pb2.Assignment:
    return auth_pb2.Assignment(**{k: a[k] for k in ("assignment_id", "tenant_id", "user_id", "course_id",
                                                    "target_role", "assigned_by", "due_at", "created_at")})


class AuthServicer(auth_pb2_grpc.AuthServicer):
    """Accounts and tokens (Register … GetMe, SwitchTenant) and organisations on one :class:`AuthService`."""

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
        me = self.service.get_me(Caller.from_message(request.caller))
        return auth_pb2.Me(**me)

    def SwitchTenant(self, request: auth_pb2.SwitchTenantRequest, context: grpc.ServicerContext):
        return _token_pair(self.service.switch_tenant(Caller.from_message(request.caller), request.tenant_id))

    # --- organisations -------------------------------------------------------------------------

    def GetOrg(self, request: auth_pb2.GetOrgRequest, context: grpc.ServicerContext):
        return auth_pb2.Org(**self.service.get_org(Caller.from_message(request.caller)))

    def CreateInvite(self, request: auth_pb2.CreateInviteRequest, context: grpc.ServicerContext):
        invite = self.service.create_invite(Caller.from_message(request.caller), request.email,
                                            request.role, client_ip=_client_ip(context))
        return auth_pb2.Invite(**invite)

    def AcceptInvite(self, request: auth_pb2.AcceptInviteRequest, context: grpc.ServicerContext):
        logged_in = request.HasField("caller") and bool(request.caller.user_id)
        result = self.service.accept_invite(
            request.token, user_id=request.caller.user_id if logged_in else None,
            password=None if logged_in else request.password,
            display_name=None if logged_in else request.display_name, client_ip=_client_ip(context))
        return auth_pb2.AcceptInviteResponse(tenant_id=result["tenant_id"], user_id=result["user_id"],
                                             org_role=result["org_role"],
                                             tokens=_token_pair(result["tokens"]))

    def ListMembers(self, request: auth_pb2.ListMembersRequest, context: grpc.ServicerContext):
        members = self.service.list_members(Caller.from_message(request.caller))
        return auth_pb2.ListMembersResponse(members=[auth_pb2.Member(**m) for m in members])

    def UpdateMember(self, request: auth_pb2.UpdateMemberRequest, context: grpc.ServicerContext):
        member = self.service.change_member_role(Caller.from_message(request.caller),
                                                 request.user_id, request.role, client_ip=_client_ip(context))
        return auth_pb2.Member(**member)

    def RemoveMember(self, request: auth_pb2.RemoveMemberRequest, context: grpc.ServicerContext):
        self.service.remove_member(Caller.from_message(request.caller), request.user_id,
                                   client_ip=_client_ip(context))
        return auth_pb2.RemoveMemberResponse()

    def CreateAssignment(self, request: auth_pb2.CreateAssignmentRequest, context: grpc.ServicerContext):
        return _assignment(self.service.create_assignment(
            Caller.from_message(request.caller), request.user_id, request.course_id,
            request.target_role, request.due_at, client_ip=_client_ip(context)))

    def ListAssignments(self, request: auth_pb2.ListAssignmentsRequest, context: grpc.ServicerContext):
        found = self.service.list_assignments(Caller.from_message(request.caller),
                                              request.user_id or None)
        return auth_pb2.ListAssignmentsResponse(assignments=[_assignment(a) for a in found])

    def ListAuditLog(self, request: auth_pb2.ListAuditLogRequest, context: grpc.ServicerContext):
        entries = self.service.audit_log(Caller.from_message(request.caller),
                                         request.limit or 50, request.before_id)
        return auth_pb2.ListAuditLogResponse(entries=[
            auth_pb2.AuditEntry(details_json=json.dumps(e["details"], sort_keys=True),
                                **{k: v for k, v in e.items() if k != "details"}) for e in entries])

    def ListInvites(self, request: auth_pb2.ListInvitesRequest, context: grpc.ServicerContext):
        found = self.service.list_invites(Caller.from_message(request.caller))
        return auth_pb2.ListInvitesResponse(invites=[auth_pb2.PendingInvite(**i) for i in found["invites"]],
                                            seat_limit=found["seat_limit"], seats_used=found["seats_used"])

    def RevokeInvite(self, request: auth_pb2.InviteActionRequest, context: grpc.ServicerContext):
        return auth_pb2.PendingInvite(**self.service.revoke_invite(
            Caller.from_message(request.caller), request.invite_id, client_ip=_client_ip(context)))

    def ResendInvite(self, request: auth_pb2.InviteActionRequest, context: grpc.ServicerContext):
        return auth_pb2.Invite(**self.service.resend_invite(
            Caller.from_message(request.caller), request.invite_id, client_ip=_client_ip(context)))

    def ListMyOrganizations(self, request: auth_pb2.ListMyOrganizationsRequest, context: grpc.ServicerContext):
        found = self.service.my_organizations(Caller.from_message(request.caller))
        return auth_pb2.ListMyOrganizationsResponse(organizations=[auth_pb2.MyOrganization(**o) for o in found])

    def ResolveNames(self, request: auth_pb2.ResolveNamesRequest, context: grpc.ServicerContext):
        return auth_pb2.ResolveNamesResponse(names=self.service.resolve_names(
            Caller.from_message(request.caller), list(request.user_ids)))

    # --- the account lifecycle -----------------------------------------------------------------

    def VerifyEmail(self, request: auth_pb2.VerifyEmailRequest, context: grpc.ServicerContext):
        return auth_pb2.VerifyEmailResponse(**self.service.verify_email(request.token))

    def ResendVerification(self, request: auth_pb2.ResendVerificationRequest, context: grpc.ServicerContext):
        self.service.resend_verification(Caller.from_message(request.caller))
        return auth_pb2.ResendVerificationResponse()

    def RequestPasswordReset(self, request: auth_pb2.RequestPasswordResetRequest, context: grpc.ServicerContext):
        self.service.request_password_reset(request.email, request.client_ip or _client_ip(context))
        return auth_pb2.RequestPasswordResetResponse()

    def ResetPassword(self, request: auth_pb2.ResetPasswordRequest, context: grpc.ServicerContext):
        self.service.reset_password(request.token, request.password)
        return auth_pb2.ResetPasswordResponse()

    def ChangePassword(self, request: auth_pb2.ChangePasswordRequest, context: grpc.ServicerContext):
        return _token_pair(self.service.change_password(Caller.from_message(request.caller),
                                                        request.current_password, request.new_password))


def registration(config: dict) -> tuple[Callable, AuthServicer, str]:
    """What ``grpc_support.serve`` needs to host auth: (add function, servicer, full service name)."""
    return auth_pb2_grpc.add_AuthServicer_to_server, AuthServicer(_ready_service(config)), SERVICE_NAME


def _ready_service(config: dict) -> AuthService:
    """The service layer with its first signing key made before serving: RSA key generation (up to
    seconds on a busy machine) must not fall inside a request's deadline (registration signs a
    verification link)."""
    service = build(config)
    service.jwks()
    return service


class PrivacyServicer(privacy_pb2_grpc.PrivacyServicer):
    """A person's export and erasure requests (``careeros.privacy.v1.Privacy``), on auth's service layer."""

    def __init__(self, service: AuthService):
        self.service = service

    def RequestExport(self, request: privacy_pb2.RequestExportRequest, context: grpc.ServicerContext):
        return privacy_pb2.PrivacyRequest(**self.service.request_export(Caller.from_message(request.caller)))

    def GetExport(self, request: privacy_pb2.GetRequestRequest, context: grpc.ServicerContext):
        caller = Caller.from_message(request.caller)
        return privacy_pb2.PrivacyRequest(**self.service.get_export(caller, request.request_id))

    def RequestErasure(self, request: privacy_pb2.RequestErasureRequest, context: grpc.ServicerContext):
        return privacy_pb2.PrivacyRequest(**self.service.request_erasure(
            Caller.from_message(request.caller), request.member_user_id or None))

    def GetErasure(self, request: privacy_pb2.GetRequestRequest, context: grpc.ServicerContext):
        caller = Caller.from_message(request.caller)
        return privacy_pb2.PrivacyRequest(**self.service.get_erasure(caller, request.request_id))

    def ReadFile(self, request: privacy_pb2.ReadFileRequest, context: grpc.ServicerContext):
        return privacy_pb2.FileChunk(**self.service.read_export_file(
            request.key, request.expires, request.signature, request.offset, request.length or 1024 * 1024))


def registrations(config: dict) -> list[tuple[Callable, object, str]]:
    """Auth and the privacy requests it owns, on one service layer."""
    service = _ready_service(config)
    return [(auth_pb2_grpc.add_AuthServicer_to_server, AuthServicer(service), SERVICE_NAME),
            (privacy_pb2_grpc.add_PrivacyServicer_to_server, PrivacyServicer(service), PRIVACY_SERVICE_NAME)]
