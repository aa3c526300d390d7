"""Is a dependency SERVING? gRPC health through Envoy's mesh listener.

Envoy routes `grpc.health.v1.Health/Check` by the `x-posada-service` header (the body names the
service, Envoy cannot see it), so the header picks the cluster and `service` the gRPC service.
The inbox worker starts consuming only once conversation answers SERVING: messages read before
would fail, burn retry budget and hand guests to staff for nothing.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVICE_HEADER = "x-posada-service"


async def dependency_serving(
    channel: grpc.aio.Channel, mesh_name: str, service: str, *, timeout: float = 2.0
) -> bool:
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        resp = await stub.Check(
            health_pb2.HealthCheckRequest(service=service),
            timeout=timeout,
            metadata=((SERVICE_HEADER, mesh_name),),
        )
    except grpc.aio.AioRpcError:
        return False
    return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)
