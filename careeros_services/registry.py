"""The bounded contexts this build runs, and where each one's parts live.

Every service folder has the same shape: ``domain.py`` (pure rules),
``persistence.py`` (Peewee models, repository), ``service.py`` (the service
layer, ``build(config)``), ``migrations/``, and ``entrypoints/`` with
``nameko_service.py`` (RPC + event handlers) and ``grpc_server.py``
(``registration(config)``).

Adding a service = adding its folder and a line here, naming its gRPC stub and the gateway
view folders whose routes call it. The rest follows from this table: the gateway's clients
(``gateway_flask/services.py``) and blueprints (``gateway_flask/views/__init__.py``), the
gRPC addresses in ``config.yaml`` and the k8s/compose manifests (``scripts/gen-manifests.py``);
tests/unit/test_registry.py checks that each service is wired everywhere.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServiceSpec:
    """One bounded context and where its parts live.

    ``stub``: its gRPC stub in ``contracts.grpc``, as ``"<module>.<Class>"``;
    ``views``: the ``gateway_flask/views`` packages (or modules) whose routes call it, named after
    the URL (``/ai`` → ai_core, ``/roadmaps`` → roadmap, ``/tracking`` and ``/xapi`` → tracker,
    ``/orgs`` and ``/me/exports`` → auth);
    ``hosted``: other gRPC APIs its gRPC process serves, client name → stub.
    """

    name: str
    stub: str
    views: tuple[str, ...] = ()
    hosted: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def address_setting(self) -> str:
        """Where config.yaml keeps its gRPC address (``grpc.addresses.<name>``)."""
        return f"grpc.addresses.{self.name}"

    @property
    def address_env(self) -> str:
        """The environment variable that sets that address in a deployment."""
        return f"CAREEROS_GRPC_{self.name.upper()}"

    @property
    def stubs(self) -> dict[str, str]:
        """Every gRPC API its process serves: client name → ``"<module>.<Class>"``."""
        return {self.name: self.stub, **self.hosted}

    @property
    def package(self) -> str:
        return f"careeros_services.{self.name}"

    @property
    def nameko_module(self) -> str:
        return f"{self.package}.entrypoints.nameko_service"

    def grpc_registration(self, config: dict):
        module = importlib.import_module(f"{self.package}.entrypoints.grpc_server")
        return module.registration(config)

    def grpc_registrations(self, config: dict) -> list:
        """Every gRPC service the module hosts: its ``registrations(config)`` when it has more than one."""
        module = importlib.import_module(f"{self.package}.entrypoints.grpc_server")
        many = getattr(module, "registrations", None)
        return many(config) if many is not None else [module.registration(config)]


SERVICES: dict[str, ServiceSpec] = {spec.name: spec for spec in (
    ServiceSpec("auth", "auth_pb2_grpc.AuthStub", views=("auth", "orgs", "privacy"),
                hosted={"privacy": "privacy_pb2_grpc.PrivacyStub"}),
    ServiceSpec("profile", "profile_pb2_grpc.ProfileServiceStub", views=("profile",)),
    ServiceSpec("roadmap", "roadmap_pb2_grpc.RoadmapServiceStub", views=("roadmaps",)),
    ServiceSpec("analytics", "analytics_pb2_grpc.AnalyticsServiceStub", views=("analytics",)),
    ServiceSpec("tracker", "tracker_pb2_grpc.TrackerServiceStub", views=("tracking", "xapi")),
    ServiceSpec("billing", "billing_pb2_grpc.BillingServiceStub", views=("billing",)),
    ServiceSpec("ai_core", "ai_core_pb2_grpc.AiCoreStub", views=("ai",)),
    ServiceSpec("lms", "lms_pb2_grpc.LmsServiceStub", views=("lms",)),
    ServiceSpec("notifications", "notifications_pb2_grpc.NotificationsStub", views=("notifications",)),
)}


def select(names: str | None) -> list[ServiceSpec]:
    """``"auth,profile"`` (or None/"all") → specs, in registry order."""
    if not names or names == "all":
        return list(SERVICES.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return [SERVICES[n] for n in wanted]
