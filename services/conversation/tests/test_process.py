"""`python -m posada_conversation` starts from env vars, migrates, serves, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import grpc
import pytest
from conv_chat import Guest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common.testing import auth_env, free_port, trusted_channel


@pytest.mark.slow
async def test_service_process_serves_through_the_mesh_and_stops_on_sigterm(
    mesh, conv_db, redis_url
):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "GRPC_PORT": str(port),
        "METRICS_PORT": "0",
        "POSTGRES_URL": conv_db,
        "REDIS_URL": redis_url,
        "MESH_ADDRESS": mesh.address,
        "DEFAULT_HOTEL_ID": "1",
        "VOICE_REPLIES_BY_HOTEL": '{"1": "never"}',
        "LOG_LEVEL": "WARNING",
        **auth_env("conversation"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "posada_conversation",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with trusted_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for _ in range(150):
                try:
                    status = await health.Check(
                        health_pb2.HealthCheckRequest(
                            service="hotel.conversation.v1.ConversationService"
                        ),
                        timeout=1,
                    )
                    if status.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("conversation never became SERVING")
            g = Guest(conv_grpc.ConversationServiceStub(channel))
            r = await g.say("hola")
            assert r.replies and g.buttons() == ["menu:availability", "menu:booking", "menu:human"]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
