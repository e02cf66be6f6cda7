"""The notifications service over gRPC (``careeros.notifications.v1.Notifications``).

A plain grpcio servicer, hosted by ``careeros grpc`` in its own process (grpcio does not run
under eventlet), calling the same service layer as the nameko entrypoints. Errors are
DomainErrors; ``grpc_support``'s interceptor turns them into a status and trailing metadata.
"""
from __future__ import annotations

from typing import Callable

import grpc

from careeros_services.common.caller import Caller
from careeros_services.notifications.service import NotificationsService, build
from contracts.grpc import notifications_pb2, notifications_pb2_grpc

SERVICE_NAME = notifications_pb2.DESCRIPTOR.services_by_name["Notifications"].full_name


class NotificationsServicer(notifications_pb2_grpc.NotificationsServicer):
    """Preferences of the verified caller in the request; unsubscribe by signed token."""

    def __init__(self, service: NotificationsService):
        self.service = service

    def GetPreferences(self, request, context: grpc.ServicerContext):
        return notifications_pb2.Preferences(enabled=self.service.get_preferences(Caller.from_message(request.caller)))

    def UpdatePreferences(self, request, context: grpc.ServicerContext):
        return notifications_pb2.Preferences(enabled=self.service.update_preferences(
            Caller.from_message(request.caller), dict(request.enabled)))

    def Unsubscribe(self, request, context: grpc.ServicerContext):
        return notifications_pb2.UnsubscribeResponse(**self.service.unsubscribe(request.token))


def registration(config: dict) -> tuple[Callable, NotificationsServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    return (notifications_pb2_grpc.add_NotificationsServicer_to_server, NotificationsServicer(build(config)),
            SERVICE_NAME)
