"""Nameko adapters: the service-layer dependency and the Kafka event entrypoint.

    class ProfileRpc:
        name = "profile"
        app = ServiceApp(build, configure_nameko_process)  # build(config) -> service layer

        @rpc
        def get_profile(self, tenant_id, user_id): ...

        @event_handler(*ProfileService.handled_event_types())
        def handle_events(self, envelopes, headers):
            return self.app.handle_events(envelopes, headers)

The entrypoint runs :class:`bus.consumer.EventConsumer` inside the nameko
container: confluent-kafka's blocking calls go through eventlet's thread pool
(a blocking poll would stall every green thread), each partition's batch is
handled in a real nameko worker (so dependencies, context data and concurrency
limits apply as for RPC), partitions run concurrently, and offsets are
committed only after the handler's transaction committed.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional

import eventlet
import psycogreen.eventlet
from eventlet import tpool
from eventlet.event import Event
from nameko.extensions import DependencyProvider, Entrypoint, ProviderCollector, SharedExtension

from bus import kafka
from bus.consumer import EventConsumer
from bus.store import ServiceStore
from bus import correlation

# psycopg2 must yield to the eventlet hub instead of blocking it (platform facts).
psycogreen.eventlet.patch_psycopg()

log = logging.getLogger(__name__)
CORRELATION_KEY = "correlation_id"


def _metrics():
    from bus import metrics
    return metrics


class ServiceApp(DependencyProvider):
    """Injects the service layer, built once per container from its config.

    Per worker it binds the correlation id from nameko's context data (set by
    the caller, or made fresh for a `nameko shell` call) and times the call.
    """

    def __init__(self, factory: Callable[[dict], Any],
                 process_setup: Optional[Callable[[dict, str], None]] = None):
        self.factory = factory
        self.process_setup = process_setup  # (config, service name): logging, tracing, metrics
        self.app = None

    def setup(self) -> None:
        if self.process_setup is not None:
            self.process_setup(self.container.config, self.container.service_name)
        self.app = self.factory(self.container.config)

    def stop(self) -> None:
        store = getattr(self.app, "store", None)
        if store is not None:
            store.close()

    def get_dependency(self, worker_ctx) -> Any:
        return self.app

    def worker_setup(self, worker_ctx) -> None:
        value = correlation.accept_or_new(worker_ctx.data.get(CORRELATION_KEY))
        worker_ctx.data[CORRELATION_KEY] = value  # propagated to RPC calls the worker makes
        # Not in worker_ctx.data: nameko sends all of that as AMQP headers on the worker's RPC calls.
        worker_ctx.careeros_token = correlation.set(value)
        worker_ctx.careeros_started = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        metrics = _metrics()
        service, method = self.container.service_name, worker_ctx.entrypoint.method_name
        elapsed = time.perf_counter() - getattr(worker_ctx, "careeros_started", time.perf_counter())
        metrics.RPC_LATENCY.labels(service, method, "nameko").observe(elapsed)
        if exc_info is not None:
            code = getattr(exc_info[1], "code", type(exc_info[1]).__name__)
            metrics.RPC_ERRORS.labels(service, method, "nameko", str(code)).inc()

    def worker_teardown(self, worker_ctx) -> None:
        token = getattr(worker_ctx, "careeros_token", None)
        if token is not None:
            worker_ctx.careeros_token = None
            correlation.reset(token)


class KafkaConsumerRunner(SharedExtension, ProviderCollector):
    """One Kafka consumer per container, feeding every @event_handler in it."""

    def __init__(self):
        super().__init__()
        self._stopping = False
        self._thread = None

    def start(self) -> None:
        if self._providers:
            self._thread = self.container.spawn_managed_thread(self._run, identifier="kafka-consumer")

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._thread.wait()
        super().stop()

    def kill(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._thread.kill()

    def _dispatch(self, envelopes: list[dict], headers: list[dict]) -> list:
        # One service may declare several @event_handler methods: each gets its types.
        results: list = [None] * len(envelopes)
        for provider in self._providers:
            mine = [i for i, e in enumerate(envelopes) if e["type"] in provider.event_types]
            if mine:
                answers = provider.handle([envelopes[i] for i in mine], [headers[i] for i in mine])
                for i, answer in zip(mine, answers):
                    results[i] = answer
        return results

    def _run(self) -> None:
        config = self.container.config
        event_types = sorted({t for p in self._providers for t in p.event_types})
        memory = ServiceStore.from_config(config, self.container.service_name)
        blocking = OneAtATime()
        consumer = EventConsumer(
            config, kafka.group_id(config, self.container.service_name),
            kafka.topics_for(config, event_types), self._dispatch,
            sleep=eventlet.sleep, blocking=blocking, run_all=_run_all_green, memory=memory)
        blocking(consumer.start)
        try:
            while not self._stopping:
                consumer.poll_once(timeout_s=0.2)
        finally:
            blocking(consumer.close)
            memory.close()


class OneAtATime:
    """Runs a client's blocking calls in eventlet's thread pool, one at a time.

    A killed green thread (a container being killed) leaves its call running in the pool; closing
    the client under a running poll would free it under librdkafka's feet. The lock is a real one,
    taken only in pool threads, never in the hub.
    """

    def __init__(self) -> None:
        self._lock = eventlet.patcher.original("threading").Lock()

    def __call__(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return tpool.execute(self._locked, fn, *args, **kwargs)

    def _locked(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return fn(*args, **kwargs)


def _run_all_green(jobs) -> None:
    pool = eventlet.GreenPool()
    for job in jobs:
        pool.spawn(job)
    pool.waitall()


class EventHandler(Entrypoint):
    """Entrypoint for domain events of the given types (see module docstring)."""

    consumer = KafkaConsumerRunner()

    def __init__(self, *event_types: str, **kwargs):
        self.event_types = frozenset(event_types)
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.consumer.register_provider(self)

    def stop(self) -> None:
        self.consumer.unregister_provider(self)

    def handle(self, envelopes: list[dict], headers: list[dict]) -> list:
        """Run the handler on a batch in a nameko worker and wait; raises what it raised."""
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, (envelopes, headers), {},
                                    context_data={CORRELATION_KEY: envelopes[0]["correlation_id"]},
                                    handle_result=handle_result)
        result, exc_info = done.wait()
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        return result


event_handler = EventHandler.decorator
