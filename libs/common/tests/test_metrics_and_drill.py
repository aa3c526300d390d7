"""First-event series and canary drills, through a real grpc.aio server."""

from __future__ import annotations

import grpc
import pytest
from hotel.nlp.v1 import nlp_service_pb2 as pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
from posada_common.clients import dial
from posada_common.drill import FAULT_ENV, LATENCY_ENV, Drill
from posada_common.metrics import RPC_LATENCY_BUCKETS, SERVER_FAULT_CODES
from posada_common.server import running
from posada_common.settings import CommonSettings
from prometheus_client import REGISTRY

NAME = "hotel.nlp.v1.NlpService"


class Settings(CommonSettings):
    service_name: str = "drill-demo"
    grpc_port: int = 0
    shutdown_grace_seconds: float = 1.0


class Servicer(pb_grpc.NlpServiceServicer):
    async def Parse(
        self, request: pb.ParseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ParseResponse:
        return pb.ParseResponse(language="es")


async def _register(rt) -> None:  # type: ignore[no-untyped-def]
    pb_grpc.add_NlpServiceServicer_to_server(Servicer(), rt.server)


def _value(code: str, method: str = "Parse") -> float | None:
    return REGISTRY.get_sample_value(
        "posada_grpc_server_handled_total",
        {"grpc_service": NAME, "grpc_method": method, "grpc_code": code},
    )


async def test_fault_series_of_every_method_exist_before_the_first_call() -> None:
    async with running(Settings(), service_names=[NAME], register=_register):
        for method in ("Parse", "ParseBatch", "GetModelInfo"):
            for code in ("OK", *SERVER_FAULT_CODES):
                assert _value(code, method) is not None, (method, code)
        assert (
            REGISTRY.get_sample_value(
                "posada_grpc_server_handling_seconds_count",
                {"grpc_service": NAME, "grpc_method": "Parse"},
            )
            is not None
        )


def test_latency_buckets_cover_every_budget_with_room_above() -> None:
    for budget in (0.5, 3, 20, 30, 45):
        assert budget in RPC_LATENCY_BUCKETS
        assert max(RPC_LATENCY_BUCKETS) > budget
    assert max(RPC_LATENCY_BUCKETS) >= 120


def test_drill_settings_are_checked_and_refused_in_production() -> None:
    assert Drill.from_env({}, "development") is None
    assert Drill.from_env({FAULT_ENV: "0.5", LATENCY_ENV: "2"}, "development") == Drill(0.5, 2.0)
    for bad in ({FAULT_ENV: "1.5"}, {FAULT_ENV: "half"}, {LATENCY_ENV: "-1"}):
        with pytest.raises(ValueError):
            Drill.from_env(bad, "development")
    with pytest.raises(ValueError, match="production"):
        Drill.from_env({FAULT_ENV: "0.1"}, "production")


async def test_a_drilled_server_fails_rpcs_as_unavailable_and_counts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(FAULT_ENV, "1")
    async with running(Settings(), service_names=[NAME], register=_register) as rt:
        before = _value("UNAVAILABLE") or 0.0
        async with dial(f"127.0.0.1:{rt.port}", identity="conversation") as channel:
            stub = pb_grpc.NlpServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Parse(pb.ParseRequest(text="hola"), timeout=2)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "drill" in (err.value.details() or "")
        assert (_value("UNAVAILABLE") or 0.0) == before + 1
