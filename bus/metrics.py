"""Prometheus metrics of the event pipeline and of RPC entrypoints, defined once here.

The bus's relay, consumers and nameko adapter label these; every other metric (the
gateway's, AI cost, notifications) is in ``careeros_services/common/metrics.py``, which
re-exports these so dashboards' code has one place to look. Imported lazily by the bus
(``PROMETHEUS_MULTIPROC_DIR`` must be set before prometheus_client is first imported).
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# From 0.5 ms (an in-process nameko call) to 10 s (a slow AI provider call).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

EVENT_OUTCOMES = ("processed", "duplicate", "ignored", "retried", "dead_lettered", "invalid")

# --- RPC (gRPC servers and nameko RPC) ---------------------------------------
RPC_LATENCY = Histogram("careeros_rpc_latency_seconds", "Server-side RPC latency.",
                        ["service", "method", "transport"], buckets=LATENCY_BUCKETS)
RPC_ERRORS = Counter("careeros_rpc_errors_total", "RPCs that raised, by error code.",
                     ["service", "method", "transport", "code"])

# --- Events: outbox relay and consumers ----------------------------------------
# Gauges need a multiprocess mode; "livemax" ignores dead workers and does not
# double count when several processes report the same backlog/lag/state.
OUTBOX_BACKLOG = Gauge("careeros_outbox_backlog", "Unpublished outbox rows.",
                       ["service"], multiprocess_mode="livemax")
OUTBOX_PUBLISHED = Counter("careeros_outbox_published_total", "Outbox rows published to Kafka.",
                           ["service", "topic"])
OUTBOX_REPUBLISHED = Counter("careeros_outbox_republished_total",
                             "Sent outbox rows queued again because the broker was new (lost its log).",
                             ["service"])
RELAY_PRODUCER_RESETS = Counter("careeros_relay_producer_resets_total",
                                "Producers the relay replaced after a producer error.", ["service"])
EVENTS_CONSUMED = Counter("careeros_events_consumed_total", "Consumed events by outcome.",
                          ["group", "topic", "outcome"])
CONSUMER_LAG = Gauge("careeros_consumer_lag", "Consumer lag in messages.",
                     ["group", "topic", "partition"], multiprocess_mode="livemax")
DLQ_MESSAGES = Gauge("careeros_dlq_messages", "Messages waiting in a dead-letter topic.",
                     ["topic"], multiprocess_mode="livemax")
EVENT_HANDLE_LATENCY = Histogram("careeros_event_handle_latency_seconds", "Event handler latency.",
                                 ["group", "event_type"], buckets=LATENCY_BUCKETS)
