"""The analytics service over gRPC (``careeros.analytics.v1.AnalyticsService``).

A plain grpcio servicer, hosted by ``careeros grpc`` in its own process,
calling the same service layer as the nameko entrypoints. The caller (tenant,
user, role) is the one the gateway verified from the access token; the
service layer decides from the role what the caller may see.
"""
from __future__ import annotations

from typing import Callable

import grpc
from google.protobuf.json_format import ParseDict

from careeros_services.analytics.service import AnalyticsService, build
from careeros_services.common.caller import Caller
from contracts.grpc import analytics_pb2, analytics_pb2_grpc

SERVICE_NAME = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name


def _renamed(report: dict) -> dict:
    """The service's ``from``/``to`` keys under their proto names (``from`` is a Python keyword)."""
    out = {k: v for k, v in report.items() if k not in ("from", "to")}
    out["date_from"], out["date_to"] = report["from"], report["to"]
    return out


def overview_message(report: dict) -> analytics_pb2.Overview:
    return ParseDict(_renamed(report), analytics_pb2.Overview())


def learner_report_message(report: dict) -> analytics_pb2.LearnerReport:
    return ParseDict(_renamed(report), analytics_pb2.LearnerReport())


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    """Reports for the verified caller in the request."""

    def __init__(self, service: AnalyticsService):
        self.service = service

    def _args(self, request: analytics_pb2.ReportRequest) -> tuple[Caller, str, str]:
        return Caller.from_message(request.caller), request.date_from, request.date_to

    def GetOverview(self, request: analytics_pb2.ReportRequest, context: grpc.ServicerContext):
        return overview_message(self.service.overview(*self._args(request)))

    def GetLearnerReport(self, request: analytics_pb2.ReportRequest, context: grpc.ServicerContext):
        return learner_report_message(self.service.learner_report(*self._args(request), request.limit,
                                                                  request.offset))

    def ExportLearnersCsv(self, request: analytics_pb2.ReportRequest, context: grpc.ServicerContext):
        filename, content = self.service.export_learners_csv(*self._args(request))
        return analytics_pb2.CsvExport(filename=filename, content=content)


def registration(config: dict) -> tuple[Callable, AnalyticsServicer, str]:
    """What ``grpc_support.serve`` needs to host this service."""
    return (analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server, AnalyticsServicer(build(config, with_names=True)),
            SERVICE_NAME)
