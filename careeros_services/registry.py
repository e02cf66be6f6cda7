"""The bounded contexts this build runs, and where each one's parts live.

Every service folder has the same shape: ``domain.py`` (pure rules),
``persistence.py`` (Peewee models, repository), ``service.py`` (the service
layer, ``build(config)``), ``migrations/``, and ``entrypoints/`` with
``nameko_service.py`` (RPC + event handlers) and ``grpc_server.py``
(``registration(config)``). Adding a service = adding its folder and a line here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str

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


SERVICES: dict[str, ServiceSpec] = {name: ServiceSpec(name) for name in ("auth", "profile", "roadmap", "analytics", "tracker", "billing", "ai_core", "lms", "notifications")}


def select(names: str | None) -> list[ServiceSpec]:
    """``"auth,profile"`` (or None/"all") → specs, in registry order."""
    if not names or names == "all":
        return list(SERVICES.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return [SERVICES[n] for n in wanted]
