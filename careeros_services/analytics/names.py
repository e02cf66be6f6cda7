"""People's display names for the reports, resolved when a report is read.

Analytics keeps user ids only as facts; the names shown are auth's current ones,
asked for in one batch per page (``careeros.auth.v1.Auth/ResolveNames``, names of
members of the caller's tenant only). gRPC: used by the gRPC process only.
"""
from __future__ import annotations

import logging
from typing import Optional

from careeros_services.common.errors import DomainError
from careeros_services.common.grpc_support import ServiceClient
from contracts.grpc import auth_pb2, auth_pb2_grpc, common_pb2

log = logging.getLogger(__name__)


class AuthNames:
    """Display names from auth, with a deadline and a breaker (``common.grpc_support.ServiceClient``)."""

    def __init__(self, config: dict):
        grpc_conf = config["grpc"]
        self._config = grpc_conf
        self._client: Optional[ServiceClient] = None

    def _auth(self) -> ServiceClient:
        if self._client is None:  # made on first use: never in a process that only consumes events
            conf = self._config
            self._client = ServiceClient("auth", str(conf["addresses"]["auth"]), auth_pb2_grpc.AuthStub,
                                         deadline_s=float(conf["deadline_s"]), fail_max=int(conf["breaker_fail_max"]),
                                         reset_timeout_s=float(conf["breaker_reset_s"]))
        return self._client

    def __call__(self, tenant_id: str, user_id: str, org_role: str, user_ids: list[str]) -> dict[str, str]:
        """``{user_id: display name}``; empty when auth cannot answer (the report then shows stored names)."""
        if not user_ids:
            return {}
        caller = common_pb2.Caller(tenant_id=tenant_id, user_id=user_id, org_role=org_role)
        try:
            answer = self._auth().call("ResolveNames", auth_pb2.ResolveNamesRequest(caller=caller, user_ids=user_ids))
        except DomainError as exc:  # unavailable, breaker open: a report without fresh names beats no report
            log.warning("display names unavailable for the report: %s", exc)
            return {}
        return dict(answer.names)
