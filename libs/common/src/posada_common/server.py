"""The gRPC server skeleton every Posada service runs on.

`run_service` gives a service, in one call: JSON logs, tracing, Prometheus `/metrics`, the
`grpc.health.v1` servicer (overall "" = alive as soon as the server listens; each service
name = ready once `warmup` finished and every readiness check passes, and NOT_SERVING again
while a runtime check keeps failing, see `ServiceRuntime.add_readiness_check`), server reflection, the observability interceptor, and
graceful shutdown on SIGTERM/SIGINT: every status flips to NOT_SERVING, we wait `drain_seconds`
so Envoy's active health checks stop routing to us, then `server.stop(grace)` lets in-flight
RPCs finish, then cleanups run.

`ServiceHost` is the same thing as an async context manager, which is how tests run a real
server in-process on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from posada_common.auth import AuthInterceptor, process_credentials
from posada_common.auth_keys import MeshCredentials
from posada_common.clients import dial
from posada_common.drill import drill_interceptors
from posada_common.interceptors import ObservabilityInterceptor
from posada_common.logging import configure_logging, get_logger
from posada_common.metrics import (
    SERVICE_INFO,
    SERVICE_READY,
    precreate_rpc_series,
    start_metrics_server,
)
from posada_common.settings import CommonSettings
from posada_common.tracing import configure_tracing

log = get_logger(__name__)

Register = Callable[["ServiceRuntime"], Awaitable[None] | None]
Warmup = Callable[["ServiceRuntime"], Awaitable[None]]
Cleanup = Callable[[], Awaitable[None] | None]
# Raises (or times out) when what the service needs is not there; returns when it is.
ReadinessCheck = Callable[[], Awaitable[None]]
READINESS_INTERVAL_SECONDS = 2.0
READINESS_CHECK_TIMEOUT_SECONDS = 2.0
READINESS_FAILURES_TO_FLIP = 2  # one lost probe is noise, two in a row is an outage


@dataclass
class ServiceRuntime:
    """What a service's `register`/`warmup` hooks get to wire themselves in."""

    settings: CommonSettings
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    service_names: Sequence[str]
    port: int = 0
    metrics_port: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _cleanups: list[Cleanup] = field(default_factory=list)
    _mesh: grpc.aio.Channel | None = None
    state: dict[str, Any] = field(default_factory=dict)
    readiness_checks: list[tuple[str, ReadinessCheck, bool]] = field(default_factory=list)

    def add_readiness_check(
        self, name: str, check: ReadinessCheck, *, startup_only: bool = False
    ) -> None:
        """Ready (SERVING) only while `check` passes: its stores reachable, say.

        `startup_only` checks gate the first SERVING only (what the service calls must be up
        before it takes traffic); the others are also probed every few seconds afterwards and
        flip readiness to NOT_SERVING after consecutive failures, and back once they pass.
        """
        self.readiness_checks.append((name, check, startup_only))

    async def failing_checks(self, *, startup: bool) -> list[str]:
        """Names of the readiness checks that fail now."""
        failing = []
        for name, check, startup_only in self.readiness_checks:
            if startup_only and not startup:
                continue
            try:
                await asyncio.wait_for(check(), READINESS_CHECK_TIMEOUT_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:
                failing.append(name)
        return failing

    def add_cleanup(self, fn: Cleanup) -> None:
        """Run `fn` at shutdown, after in-flight RPCs drained (last added runs first)."""
        self._cleanups.append(fn)

    def mesh_channel(self) -> grpc.aio.Channel:
        """One shared channel to Envoy's mesh listener for calling other services."""
        if self._mesh is None:
            self._mesh = dial(
                self.settings.mesh_address,
                default_deadline_seconds=self.settings.client_deadline_seconds,
                identity=self.settings.mesh_identity or self.settings.service_name,
            )
        return self._mesh

    async def set_ready(self, ready: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if ready
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self.service_names:
            await self.health.set(name, status)
        SERVICE_READY.labels(self.settings.service_name).set(1 if ready else 0)
        if ready:
            self.ready.set()
        else:
            self.ready.clear()

    async def run_cleanups(self) -> None:
        for fn in reversed(self._cleanups):
            try:
                result = fn()
                if inspect.isawaitable(result):
                    await asyncio.wait_for(result, timeout=10)
            except Exception:
                log.exception("cleanup_failed", cleanup=getattr(fn, "__qualname__", repr(fn)))
        if self._mesh is not None:
            await self._mesh.close()
            self._mesh = None


def default_server_options(settings: CommonSettings) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.so_reuseport", 0),
    ]


def _method_names(grpc_service: str) -> list[str]:
    """The RPC names of a registered service, from the protobuf descriptor pool."""
    try:
        desc = descriptor_pool.Default().FindServiceByName(grpc_service)
    except KeyError:
        return []
    return [m.name for m in desc.methods]


class ServiceHost:
    """Builds, starts and stops one service's server. `async with ServiceHost(...) as rt:`."""

    def __init__(
        self,
        settings: CommonSettings,
        *,
        service_names: Sequence[str],
        register: Register,
        warmup: Warmup | None = None,
        server_options: Sequence[tuple[str, Any]] = (),
        drain_seconds: float | None = None,
        credentials: MeshCredentials | None = None,
    ):
        self.settings = settings
        self.credentials = credentials
        self.service_names = list(service_names)
        self.register = register
        self.warmup = warmup
        self.server_options = list(server_options)
        self.drain_seconds = (
            drain_seconds
            if drain_seconds is not None
            else min(1.0, settings.shutdown_grace_seconds / 4)
        )
        self.runtime: ServiceRuntime | None = None
        self._warmup_task: asyncio.Task[None] | None = None

    async def start(self) -> ServiceRuntime:
        options = dict(default_server_options(self.settings))
        options.update(dict(self.server_options))
        server = grpc.aio.server(
            interceptors=[
                aio_server_interceptor(),
                ObservabilityInterceptor(),
                AuthInterceptor(self.credentials),
                *drill_interceptors(self.settings.environment),
            ],
            options=list(options.items()),
            maximum_concurrent_rpcs=self.settings.max_concurrent_rpcs or None,
        )
        creds = self.credentials or process_credentials()
        identity = self.settings.mesh_identity or self.settings.service_name
        if not creds.public_keys:
            log.warning(
                "mesh_credentials_missing",
                detail="no MESH_PUBLIC_KEYS: every call except health and reflection is refused",
            )
        elif identity not in creds.private_keys:
            log.warning(
                "mesh_identity_without_key",
                identity=identity,
                detail="no MESH_PRIVATE_KEY: calls to other services will be refused",
            )
        health_servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        rt = ServiceRuntime(self.settings, server, health_servicer, self.service_names)
        self.runtime = rt
        for name in self.service_names:
            await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        SERVICE_READY.labels(self.settings.service_name).set(0)
        result = self.register(rt)
        if inspect.isawaitable(result):
            await result
        for name in self.service_names:
            precreate_rpc_series(name, _method_names(name))
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        rt.port = server.add_insecure_port(f"{self.settings.grpc_host}:{self.settings.grpc_port}")
        if rt.port == 0:
            raise RuntimeError(
                f"could not bind {self.settings.grpc_host}:{self.settings.grpc_port}"
            )
        await server.start()
        await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        SERVICE_INFO.labels(self.settings.service_name, self.settings.service_version).set(1)
        log.info(
            "grpc_listening",
            address=f"{self.settings.grpc_host}:{rt.port}",
            services=self.service_names,
        )
        self._warmup_task = asyncio.create_task(self._warm(rt))
        return rt

    async def _warm(self, rt: ServiceRuntime) -> None:
        try:
            if self.warmup is not None:
                log.info("warmup_started")
                await self.warmup(rt)
            waited = 0
            while failing := await rt.failing_checks(startup=True):
                if waited % 10 == 0:
                    log.info("waiting_for_dependencies", failing=failing)
                waited += 1
                await asyncio.sleep(0.5)
            await rt.set_ready(True)
            log.info("service_ready")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("warmup_failed")
            # Stay alive but NOT_SERVING: the probe says why we get no traffic, and the log says why.
            return
        await self._watch(rt)

    async def _watch(self, rt: ServiceRuntime) -> None:
        """Runtime readiness: NOT_SERVING while a check keeps failing, SERVING once it passes."""
        if not any(not startup_only for _, _, startup_only in rt.readiness_checks):
            return
        failures = 0
        while True:
            await asyncio.sleep(READINESS_INTERVAL_SECONDS)
            failing = await rt.failing_checks(startup=False)
            if failing:
                failures += 1
                if failures == READINESS_FAILURES_TO_FLIP:
                    log.warning("service_not_ready", failing=failing)
                    await rt.set_ready(False)
            else:
                if failures >= READINESS_FAILURES_TO_FLIP:
                    log.info("service_ready_again")
                    await rt.set_ready(True)
                failures = 0

    async def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.runtime is not None
        await asyncio.wait_for(self.runtime.ready.wait(), timeout)

    async def stop(self) -> None:
        rt = self.runtime
        if rt is None:
            return
        log.info(
            "shutdown_started",
            drain_seconds=self.drain_seconds,
            grace_seconds=self.settings.shutdown_grace_seconds,
        )
        await rt.health.enter_graceful_shutdown()
        SERVICE_READY.labels(self.settings.service_name).set(0)
        if self._warmup_task and not self._warmup_task.done():
            self._warmup_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warmup_task
        if self.drain_seconds > 0:
            await asyncio.sleep(self.drain_seconds)
        await rt.server.stop(self.settings.shutdown_grace_seconds)
        await rt.run_cleanups()
        log.info("shutdown_complete")
        self.runtime = None

    async def __aenter__(self) -> ServiceRuntime:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(
    settings: CommonSettings,
    *,
    service_names: Sequence[str],
    register: Register,
    warmup: Warmup | None = None,
    server_options: Sequence[tuple[str, Any]] = (),
) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    configure_tracing(
        settings.service_name,
        settings.service_version,
        settings.otlp_endpoint,
        settings.trace_console,
    )
    metrics_port = start_metrics_server(settings.metrics_host, settings.metrics_port)
    if metrics_port:
        log.info(
            "metrics_listening", address=f"http://{settings.metrics_host}:{metrics_port}/metrics"
        )
    host = ServiceHost(
        settings,
        service_names=service_names,
        register=register,
        warmup=warmup,
        server_options=server_options,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    rt = await host.start()
    rt.metrics_port = metrics_port
    await stop.wait()
    await host.stop()
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if callable(shutdown):
        shutdown()


def run_service(
    settings: CommonSettings,
    *,
    service_names: Sequence[str],
    register: Register,
    warmup: Warmup | None = None,
    server_options: Sequence[tuple[str, Any]] = (),
) -> None:
    """Blocking entry point for a service's `main()`."""
    asyncio.run(
        serve(
            settings,
            service_names=service_names,
            register=register,
            warmup=warmup,
            server_options=server_options,
        )
    )


@contextlib.asynccontextmanager
async def running(
    settings: CommonSettings,
    *,
    service_names: Sequence[str],
    register: Register,
    warmup: Warmup | None = None,
    server_options: Sequence[tuple[str, Any]] = (),
    wait_ready: bool = True,
) -> AsyncIterator[ServiceRuntime]:
    """Test helper: a real server on `settings.grpc_port` (use 0 for a free port)."""
    host = ServiceHost(
        settings,
        service_names=service_names,
        register=register,
        warmup=warmup,
        server_options=server_options,
        drain_seconds=0,
    )
    rt = await host.start()
    try:
        if wait_ready:
            await host.wait_ready()
        yield rt
    finally:
        await host.stop()
