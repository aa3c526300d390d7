"""The mesh spine through Envoy: health, reflection, metrics and traces of all five services."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hotel.nlp.v1 import nlp_service_pb2, nlp_service_pb2_grpc
from hotelctl.health import check_all
from posada_common.clients import dial

from tests.e2e.conftest import OFFSET, RunningMesh

pytestmark = pytest.mark.e2e


def test_all_five_services_are_serving_through_envoy(running_mesh: RunningMesh) -> None:
    results = asyncio.run(check_all(running_mesh.mesh))
    assert {r.service for r in results} == {"gateway", "conversation", "nlp", "audio", "pms"}
    assert all(r.serving for r in results), results
    print(f"mesh up and SERVING through Envoy in {running_mesh.started_in:.1f}s")


def test_hotelctl_status_reports_serving_and_exits_zero(running_mesh: RunningMesh) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hotelctl"), "--port-offset", str(OFFSET), "status"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SERVING") >= 5


async def _reflection_services(address: str, header: str, service: str) -> list[str]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests():  # type: ignore[no-untyped-def]
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names: list[str] = []
        async for reply in stub.ServerReflectionInfo(
            requests(), timeout=5, metadata=((header, service),)
        ):
            names = [s.name for s in reply.list_services_response.service]
        return names


def test_reflection_lists_every_service_through_envoy(running_mesh: RunningMesh) -> None:
    for name, spec in running_mesh.mesh.services.items():
        names = asyncio.run(
            _reflection_services(running_mesh.mesh_address, running_mesh.mesh.service_header, name)
        )
        for grpc_service in spec.grpc_services:
            assert grpc_service in names, (name, names)
        assert "grpc.health.v1.Health" in names


def _metric_value(body: str, pattern: str) -> float:
    total = 0.0
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        if re.search(pattern, line):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_show_the_rpcs_just_made(running_mesh: RunningMesh) -> None:
    url = f"http://127.0.0.1:{running_mesh.mesh.services['nlp'].metrics_port}/metrics"
    pattern = r'^posada_grpc_server_handled_total\{.*grpc_method="GetModelInfo".*\}'
    before = _metric_value(urllib.request.urlopen(url, timeout=5).read().decode(), pattern)

    async def call() -> None:
        async with dial(running_mesh.mesh_address, identity="hotelctl") as channel:
            stub = nlp_service_pb2_grpc.NlpServiceStub(channel)
            for _ in range(3):
                try:
                    await stub.GetModelInfo(nlp_service_pb2.GetModelInfoRequest(), timeout=5)
                except grpc.aio.AioRpcError as err:
                    assert err.code() == grpc.StatusCode.UNIMPLEMENTED

    asyncio.run(call())
    after = _metric_value(urllib.request.urlopen(url, timeout=5).read().decode(), pattern)
    assert after - before == 3
    envoy_stats = (
        urllib.request.urlopen(
            f"http://127.0.0.1:{running_mesh.mesh.stats_port}/stats/prometheus", timeout=5
        )
        .read()
        .decode()
    )
    assert "envoy_cluster_upstream_rq_total" in envoy_stats
    assert 'envoy_cluster_name="nlp_grpc"' in envoy_stats


def test_one_trace_spans_two_services(running_mesh: RunningMesh) -> None:
    """A guest message to conversation goes on to nlp; both services' spans share one trace."""
    from hotel.channel.v1 import message_pb2
    from hotel.conversation.v1 import conversation_service_pb2 as conv_pb
    from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
    from opentelemetry import trace
    from posada_common.tracing import configure_tracing

    configure_tracing("e2e-test", "0")
    tracer = trace.get_tracer("e2e")

    async def call() -> str:
        with tracer.start_as_current_span("guest-message") as span:
            async with dial(running_mesh.mesh_address, identity="gateway") as channel:
                stub = conv_grpc.ConversationServiceStub(channel)
                await stub.HandleMessage(
                    conv_pb.HandleMessageRequest(
                        message=message_pb2.InboundMessage(
                            message_id=f"wamid.e2e-trace-{time.time_ns()}",
                            channel=message_pb2.CHANNEL_WHATSAPP,
                            conversation_id="wa-e2e-trace",
                            guest=message_pb2.Guest(
                                id="34600000001", phone="34600000001", display_name="Ana"
                            ),
                            kind=message_pb2.MESSAGE_KIND_TEXT,
                            text="hola, tienen habitacion doble para el viernes?",
                        )
                    ),
                    timeout=30,
                )
            return format(span.get_span_context().trace_id, "032x")

    trace_id = asyncio.run(call())
    deadline = time.monotonic() + 15
    seen: set[str] = set()
    while time.monotonic() < deadline:
        seen = running_mesh.collector.services_in(trace_id)
        if {"conversation", "nlp"} <= seen:
            break
        time.sleep(0.2)
    assert {"conversation", "nlp"} <= seen, seen
