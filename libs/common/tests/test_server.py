"""The server skeleton, exercised through a real grpc.aio server and real channels."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hotel.nlp.v1 import nlp_service_pb2 as pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
from posada_common.clients import dial
from posada_common.errors import FailedPrecondition, InvalidArgument, field_violations
from posada_common.metrics import start_metrics_server
from posada_common.server import ServiceHost, running
from posada_common.settings import CommonSettings
from posada_common.testing import free_port

NAME = "hotel.nlp.v1.NlpService"


class Settings(CommonSettings):
    service_name: str = "demo"
    grpc_port: int = 0
    shutdown_grace_seconds: float = 2.0
    client_deadline_seconds: float = 0.3


class DemoServicer(pb_grpc.NlpServiceServicer):
    async def Parse(
        self, request: pb.ParseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ParseResponse:
        if not request.text:
            raise InvalidArgument("text is empty", field_violations={"text": "must not be empty"})
        if request.text == "precondition":
            raise FailedPrecondition("room no longer available")
        if request.text == "crash":
            raise RuntimeError("secret internals")
        if request.text == "slow":
            await asyncio.sleep(2)
        return pb.ParseResponse(language="es")


async def _register(rt) -> None:  # type: ignore[no-untyped-def]
    pb_grpc.add_NlpServiceServicer_to_server(DemoServicer(), rt.server)


async def test_domain_errors_become_status_codes_with_field_details() -> None:
    async with running(Settings(), service_names=[NAME], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", identity="conversation") as channel:
            stub = pb_grpc.NlpServiceStub(channel)
            assert (await stub.Parse(pb.ParseRequest(text="hola"), timeout=2)).language == "es"
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await stub.Parse(pb.ParseRequest(text=""), timeout=2)
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert field_violations(bad.value) == {"text": "must not be empty"}
            with pytest.raises(grpc.aio.AioRpcError) as pre:
                await stub.Parse(pb.ParseRequest(text="precondition"), timeout=2)
            assert pre.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            with pytest.raises(grpc.aio.AioRpcError) as crash:
                await stub.Parse(pb.ParseRequest(text="crash"), timeout=2)
            assert crash.value.code() == grpc.StatusCode.INTERNAL
            assert "secret internals" not in (crash.value.details() or "")


async def test_rpcs_not_built_yet_answer_unimplemented() -> None:
    async with running(Settings(), service_names=[NAME], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", identity="conversation") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await pb_grpc.NlpServiceStub(channel).GetModelInfo(
                    pb.GetModelInfoRequest(), timeout=2
                )
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_calls_without_a_timeout_get_the_default_deadline() -> None:
    async with running(Settings(), service_names=[NAME], register=_register) as rt:
        async with dial(
            f"127.0.0.1:{rt.port}", default_deadline_seconds=0.2, identity="conversation"
        ) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await pb_grpc.NlpServiceStub(channel).Parse(pb.ParseRequest(text="slow"))
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_service_is_not_serving_until_warmup_finishes() -> None:
    release = asyncio.Event()

    async def warmup(rt) -> None:  # type: ignore[no-untyped-def]
        await release.wait()

    host = ServiceHost(
        Settings(), service_names=[NAME], register=_register, warmup=warmup, drain_seconds=0
    )
    rt = await host.start()
    try:
        async with dial(f"127.0.0.1:{rt.port}", identity="conversation") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            assert overall.status == health_pb2.HealthCheckResponse.SERVING
            named = await health.Check(health_pb2.HealthCheckRequest(service=NAME), timeout=2)
            assert named.status == health_pb2.HealthCheckResponse.NOT_SERVING
            release.set()
            await host.wait_ready(5)
            named = await health.Check(health_pb2.HealthCheckRequest(service=NAME), timeout=2)
            assert named.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await host.stop()


async def test_reflection_lists_the_service_and_health() -> None:
    async with running(Settings(), service_names=[NAME], register=_register) as rt:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{rt.port}") as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)

            async def requests():  # type: ignore[no-untyped-def]
                yield reflection_pb2.ServerReflectionRequest(list_services="")

            names = []
            async for reply in stub.ServerReflectionInfo(requests(), timeout=2):
                names = [s.name for s in reply.list_services_response.service]
            assert NAME in names
            assert "grpc.health.v1.Health" in names


async def test_graceful_shutdown_flips_health_and_lets_inflight_rpcs_finish() -> None:
    host = ServiceHost(Settings(), service_names=[NAME], register=_register, drain_seconds=0.2)
    rt = await host.start()
    await host.wait_ready(5)
    channel = dial(f"127.0.0.1:{rt.port}", default_deadline_seconds=5, identity="conversation")
    stub = pb_grpc.NlpServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)

    async def slow_call() -> pb.ParseResponse:
        return await stub.Parse(pb.ParseRequest(text="slow"), timeout=5)

    inflight = asyncio.create_task(slow_call())
    await asyncio.sleep(0.1)
    stopping = asyncio.create_task(host.stop())
    await asyncio.sleep(0.05)
    status = await health.Check(health_pb2.HealthCheckRequest(service=NAME), timeout=1)
    assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert (await inflight).language == "es"
    await stopping
    await channel.close()


async def test_metrics_endpoint_counts_rpcs_by_method_and_code() -> None:
    port = start_metrics_server("127.0.0.1", free_port())
    async with running(Settings(), service_names=[NAME], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", identity="conversation") as channel:
            stub = pb_grpc.NlpServiceStub(channel)
            await stub.Parse(pb.ParseRequest(text="hola"), timeout=2)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.Parse(pb.ParseRequest(text=""), timeout=2)
    body = await asyncio.to_thread(
        lambda: (
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        )
    )
    assert (
        'posada_grpc_server_handled_total{grpc_code="OK",grpc_method="Parse",grpc_service="hotel.nlp.v1.NlpService"}'
        in body
    )
    assert 'grpc_code="INVALID_ARGUMENT",grpc_method="Parse"' in body
    assert "posada_grpc_server_handling_seconds_bucket" in body


async def test_readiness_follows_checks_while_liveness_stays_serving() -> None:
    """A startup-only check gates the first SERVING; a runtime check flips it both ways."""
    store_up = asyncio.Event()
    dependency_up = asyncio.Event()

    async def store() -> None:
        if not store_up.is_set():
            raise ConnectionError("store unreachable")

    async def dependency() -> None:
        await dependency_up.wait()  # hangs like an unanswered call: the check's timeout ends it

    async def register(rt) -> None:  # type: ignore[no-untyped-def]
        await _register(rt)
        rt.add_readiness_check("store", store)
        rt.add_readiness_check("dependency", dependency, startup_only=True)

    host = ServiceHost(Settings(), service_names=[NAME], register=register, drain_seconds=0)
    rt = await host.start()

    async def status(service: str) -> int:
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
        return int(reply.status)

    async def wait_for(service: str, wanted: int) -> None:
        for _ in range(200):
            if await status(service) == wanted:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{service} never became {wanted}")

    serving, not_serving = (
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    )
    try:
        async with dial(f"127.0.0.1:{rt.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            store_up.set()
            await asyncio.sleep(0.5)
            assert await status(NAME) == not_serving  # the dependency has not answered yet
            dependency_up.set()
            await host.wait_ready(10)
            assert await status(NAME) == serving
            dependency_up.clear()  # startup-only: losing it later does not flip readiness
            store_up.clear()
            await wait_for(NAME, not_serving)
            assert await status("") == serving  # alive all along
            store_up.set()
            await wait_for(NAME, serving)
    finally:
        await host.stop()
