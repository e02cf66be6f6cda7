"""The ops tests' platform: every process kind of every service, exporting spans to an OTLP
receiver run here, shared by test_observability_stack.py and test_ops_scripts.py."""
from __future__ import annotations

import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest

from careeros_services.common import db as dbmod
from tests.ai_core.fake_openai import FakeOpenAI
from tests.platform_support import ApiSession, fresh_platform

DB_PREFIX = os.environ.get("CAREEROS_E2E_PREFIX", "careeros_e2e_") + "ops_"
VHOST = os.environ.get("CAREEROS_E2E_VHOST", "careeros_test") + "_ops"


# --- an OTLP/HTTP trace receiver (what the collector's otlp receiver does) -------

class OtlpReceiver:
    """Accepts ``POST /v1/traces`` (protobuf ExportTraceServiceRequest) and keeps the spans."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        self.spans: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(404)
                    self.end_headers()
                    return
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.add(request)
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, request) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append({
                        "service": resource.get("service.name"), "name": span.name,
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(), "kind": span.kind,
                        "attributes": {a.key: a.value.string_value for a in span.attributes}})
        with self.lock:
            self.requests += 1
            self.spans.extend(spans)

    def trace(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the platform ------------------------------------------------------------------

@pytest.fixture(scope="package")  # stopped after tests/ops: idle, it took CPU from every later test
def ops_platform(kafka_broker, tmp_path_factory):
    """Every process kind of every registered service, exporting spans to an OTLP receiver.

    ai_core talks to a local OpenAI-protocol server (the hosted LLM's boundary double): token and
    cost metrics exist only where a model answered, and the monitoring tests follow them."""
    receiver = OtlpReceiver()
    model = FakeOpenAI().__enter__()
    try:
        with fresh_platform(
                kafka_broker, DB_PREFIX, VHOST, tmp_path_factory.mktemp("ops-platform-logs"),
                CAREEROS_TRACING="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
                OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf", OTEL_BSP_SCHEDULE_DELAY="200",
                CAREEROS_LOG_LEVEL="INFO", CAREEROS_METRICS_HOST="0.0.0.0",  # as in containers
                # billing sagas: stuck after 2 s, re-driven only by the operator (test_ops_scripts.py)
                CAREEROS_BILLING_SAGA_STEP_TIMEOUT_S="2", CAREEROS_BILLING_TICK_S="3600",
                CAREEROS_AI_PROVIDER="openai", CAREEROS_AI_BASE_URL=model.base_url, OPENAI_API_KEY="sk-test",
                CAREEROS_AI_MODEL=model.model, CAREEROS_AI_TIMEOUT_S="10") as running:
            running.receiver = receiver
            yield running
    finally:
        receiver.close()
        model.__exit__(None, None, None)


@pytest.fixture
def ops_api(ops_platform):
    """A requests session bound to the ops platform's /api/v1."""
    with ApiSession(ops_platform.base_url) as session:
        yield session


@pytest.fixture
def failing_profile_inserts(ops_platform):
    """An outage of profile's table whose error text carries PII, as a driver's might."""
    kwargs = dbmod.connect_kwargs(ops_platform.config, "profile", admin=True)
    secret = {"email": f"leak{uuid.uuid4().hex[:8]}@example.com", "password": f"pw-{uuid.uuid4().hex}",
              "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZWFrIn0.c2lnbmF0dXJlLWJ5dGVz"}
    message = f"outage while saving {secret['email']} password={secret['password']} token {secret['jwt']}"
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION ops_test_outage() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$BEGIN RAISE EXCEPTION '{message}'; END$$;"
                    "CREATE TRIGGER ops_test_outage BEFORE INSERT ON profiles FOR EACH ROW "
                    "EXECUTE FUNCTION ops_test_outage();")
    try:
        yield secret
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP TRIGGER IF EXISTS ops_test_outage ON profiles;"
                        "DROP FUNCTION IF EXISTS ops_test_outage();")
        conn.close()
