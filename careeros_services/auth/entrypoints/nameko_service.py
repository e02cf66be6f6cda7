"""The auth service under nameko: RPC for ``nameko shell`` and scripts.

Also the consumer of billing's events (entitlement.changed sets the plan;
subscription and invoice events feed the audit log). Entrypoints only;
everything they do is in ``service.AuthService``, built once per container
by ``bus.nameko.ServiceApp(build)``. Nothing eventlet-specific here:
``nameko run careeros_services.auth.entrypoints.nameko_service``
monkey-patches the process itself. Domain errors are ``expected_exceptions``
(the caller's fault, not the service's).
"""
from typing import Optional

from nameko.rpc import rpc
from nameko.timer import timer

from bus.nameko import ServiceApp, event_handler
from careeros_services.auth.service import AuthService, build
from careeros_services.common.bootstrap import configure_nameko_process
from careeros_services.common.caller import Caller
from careeros_services.common.errors import DomainError


class AuthRpc:
    name = "auth"
    app = ServiceApp(build, configure_nameko_process)

    @rpc(expected_exceptions=DomainError)
    def register(self, email: str, password: str, display_name: str,
                 organization_name: Optional[str] = None) -> dict:
        """Create an account and its tenant; returns user_id and tenant_id."""
        return self.app.register(email, password, display_name, organization_name)

    @rpc(expected_exceptions=DomainError)
    def login(self, email: str, password: str, client_ip: str = "") -> dict:
        """A token pair (access JWT + refresh token)."""
        return self.app.login(email, password, client_ip)

    @rpc(expected_exceptions=DomainError)
    def refresh(self, refresh_token: str) -> dict:
        """Rotate a refresh token."""
        return self.app.refresh(refresh_token)

    @rpc(expected_exceptions=DomainError)
    def logout(self, jti: str, exp: int, refresh_token: Optional[str] = None,
               user_id: Optional[str] = None) -> None:
        """Revoke an access token until ``exp`` (and, when given, the refresh token's family)."""
        return self.app.logout(jti, exp, refresh_token, user_id)

    @rpc
    def jwks(self) -> dict:
        """The public key set."""
        return self.app.jwks()

    @rpc(expected_exceptions=DomainError)
    def get_me(self, user_id: str, tenant_id: str) -> dict:
        """A user as seen in a tenant."""
        return self.app.get_me(Caller.of(tenant_id, user_id))

    @rpc(expected_exceptions=DomainError)
    def find_user_by_email(self, email: str) -> dict:
        """Ops lookup: the user (id, email, display name, home tenant, created at), never the hash."""
        return self.app.find_user_by_email(email)

    @rpc(expected_exceptions=DomainError)
    def get_org(self, tenant_id: str, user_id: str) -> dict:
        """The tenant as its member sees it: plan, seat limit and usage, the caller's role."""
        return self.app.get_org(Caller.of(tenant_id, user_id))

    @rpc(expected_exceptions=DomainError)
    def audit_log(self, tenant_id: str, user_id: str, limit: int = 50, before_id: int = 0) -> list:
        """The tenant's audit log, newest first (owner/admin of that tenant)."""
        return self.app.audit_log(Caller.of(tenant_id, user_id), limit, before_id)

    @timer(interval=30)
    def privacy_tick(self) -> None:
        """The privacy saga's recovery: re-send requests still waiting, delete expired export archives."""
        self.app.privacy_tick()
    @rpc(expected_exceptions=DomainError)
    def contact(self, tenant_id: str, user_id: str = "", invite_id: str = "") -> dict:
        """Whom notifications writes to: a user's or an invite's address, the tenant's name and kind."""
        return self.app.contact(tenant_id, user_id, invite_id)

    @event_handler(*AuthService.handled_event_types())
    def handle_events(self, envelopes: list, headers: list) -> list:
        """Apply a batch of billing events (the bus calls this for the events auth consumes)."""
        return self.app.handle_events(envelopes, headers)
