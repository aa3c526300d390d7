"""Health of each service as seen through Envoy, the way grpc_health_probe asks it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hotelctl.mesh import Mesh


@dataclass
class HealthResult:
    service: str
    grpc_service: str
    status: str  # SERVING, NOT_SERVING, UNKNOWN, or the gRPC error code name
    detail: str = ""

    @property
    def serving(self) -> bool:
        return self.status == "SERVING"


async def check_one(
    channel: grpc.aio.Channel, header: str, name: str, grpc_service: str, timeout: float
) -> HealthResult:
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await stub.Check(
            health_pb2.HealthCheckRequest(service=grpc_service),
            timeout=timeout,
            metadata=((header, name),),
        )
    except grpc.aio.AioRpcError as err:
        return HealthResult(name, grpc_service, err.code().name, err.details() or "")
    return HealthResult(
        name, grpc_service, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    )


async def check_all(
    mesh: Mesh, timeout: float = 2.0, address: str | None = None
) -> list[HealthResult]:
    target = address or f"127.0.0.1:{mesh.mesh_port}"
    async with grpc.aio.insecure_channel(target) as channel:
        return list(
            await asyncio.gather(
                *(
                    check_one(channel, mesh.service_header, name, spec.grpc_services[0], timeout)
                    for name, spec in mesh.services.items()
                )
            )
        )
