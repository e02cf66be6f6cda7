"""The gateway's gRPC clients, one per service, made lazily in each process.

Lazily because gunicorn forks workers after importing the app and a gRPC
channel must not cross a fork.
"""
from __future__ import annotations

import importlib
import os
import threading
import time
from typing import Any, Optional

import redis
from flask import g
from google.protobuf.json_format import MessageToDict

from careeros_services import registry
from careeros_services.common import plan_cache
from careeros_services.common.grpc_support import ServiceClient
from careeros_services.common.settings import gateway_settings
from contracts.grpc import auth_pb2, common_pb2
from gateway_flask.security import Principal
from gateway_flask.state import gateway_state


def _stub(path: str) -> type:
    module, cls = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"contracts.grpc.{module}"), cls)


# One client per gRPC API of a registered service (careeros_services/registry.py).
STUBS = {client: _stub(stub) for spec in registry.SERVICES.values() for client, stub in spec.stubs.items()}
HOSTED_BY = {client: spec.name for spec in registry.SERVICES.values() for client in spec.hosted}

_lock = threading.Lock()
_clients: dict[tuple[int, str], ServiceClient] = {}


def client(name: str) -> ServiceClient:
    """The (per-process) client of service ``name``."""
    key = (os.getpid(), name)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                grpc_conf = gateway_state().config["grpc"]
                found = ServiceClient(
                    name, str(grpc_conf["addresses"][HOSTED_BY.get(name, name)]), STUBS[name],
                    deadline_s=float(grpc_conf["deadline_s"]), fail_max=int(grpc_conf["breaker_fail_max"]),
                    reset_timeout_s=float(grpc_conf["breaker_reset_s"]))
                _clients[key] = found
    return found


class RpcClient:
    """One service's RPCs as methods, made from its ``.proto`` (see :func:`rpc_client`)."""

    service = ""
    methods: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.service}: {', '.join(self.methods)}>"


def _rpc(method: str):
    def invoke(self: RpcClient, request: Any, **options: Any) -> Any:
        return client(self.service).call(method, request, **options)
    invoke.__name__ = invoke.__qualname__ = method
    invoke.__doc__ = f"The {method} RPC: the response message, or a DomainError (options: timeout, metadata)."
    return invoke


def rpc_client(name: str) -> RpcClient:
    """Service ``name``'s typed client: ``rpc_client("lms").SearchCourses(request)``.

    Its methods are the RPCs of the service's stub, read from the generated descriptor,
    so a misspelt RPC is an AttributeError that tests/gateway/test_typed_clients.py finds,
    not a failure at request time. The channel is made on first call, after gunicorn's fork.
    """
    stub = STUBS[name]
    pb2 = importlib.import_module(stub.__module__.removesuffix("_grpc"))
    service = pb2.DESCRIPTOR.services_by_name[stub.__name__.removesuffix("Stub")]
    methods = tuple(service.methods_by_name)
    namespace = {"service": name, "methods": methods, "__slots__": (), **{m: _rpc(m) for m in methods}}
    return type(f"{service.name}Client", (RpcClient,), namespace)()


def caller(principal: Principal) -> common_pb2.Caller:
    """The caller as services see it, with the tenant's plan tier as of now (see :func:`plan_tier`)."""
    return common_pb2.Caller(user_id=principal.user_id, tenant_id=principal.tenant_id,
                             org_role=principal.org_role, plan_tier=plan_tier(principal))


def plan_tier(principal: Principal) -> str:
    """The tenant's current plan tier: what auth last applied (common.plan_cache), else the token's claim.

    Read once per request, so a payment or a lapse applies on the next request with the same token.
    """
    cached = getattr(g, "careeros_plan_tier", None)
    if cached is None:
        try:
            cached = plan_cache.current(gateway_state().redis, principal.tenant_id) or principal.plan_tier
        except redis.RedisError:
            cached = principal.plan_tier  # the claim is at most access_ttl_s old
        g.careeros_plan_tier = cached
    return cached


def password_deadline_s() -> float:
    """The deadline of an auth call that hashes or verifies a password (``gateway.password_deadline_s``)."""
    return gateway_state().settings.password_deadline_s


def to_dict(message) -> dict:
    """A response message as JSON-ready dict, keeping field names and zero values."""
    return MessageToDict(message, preserving_proto_field_name=True,
                         always_print_fields_with_no_presence=True)


auth_rpc = rpc_client("auth")


class JwksFromAuth:
    """JWKS provider for the token verifier: auth's key set over gRPC, cached."""

    def __init__(self, config: dict):
        self.ttl_s = gateway_settings(config).jwks_cache_s
        self._cached: Optional[dict] = None
        self._fetched_at = 0.0

    def __call__(self) -> dict:
        import json
        if self._cached is None or time.monotonic() - self._fetched_at > self.ttl_s:
            self._cached = json.loads(auth_rpc.GetJwks(auth_pb2.GetJwksRequest()).json)
            self._fetched_at = time.monotonic()
        return self._cached


def readiness_checks(config: dict) -> dict:
    """``/readyz`` checks: each service's gRPC health answers SERVING within a second."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    def check(name: str):
        def probe() -> None:
            stub = health_pb2_grpc.HealthStub(client(name).channel)
            status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
            if status != health_pb2.HealthCheckResponse.SERVING:
                raise RuntimeError(f"{name} is not serving")
        return probe

    return {name: check(name) for name in registry.SERVICES}
