"""Console test harness: the real console, conversation and gateway, over real stores.

Everything real except Meta's Graph API (the WhatsApp simulator, a faithful local stand-in):
PostgreSQL and Redis from the root fixtures, the conversation service and the gateway's
ChannelService as in-process gRPC servers with the mesh's authentication interceptor, and the
console's web app on a free port, called over HTTP like a browser does (cookies, forms, CSRF).
Conversations are seeded through conversation's own repository (what a handled turn writes),
so each test starts from a known history without depending on nlp's answers.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from console_harness import PNID, Browser, Stack
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common.server import ServiceHost, running
from posada_common.testing import free_port
from posada_console.accounts import Accounts
from posada_console.main import running as console_running
from posada_console.settings import ConsoleSettings
from posada_conversation.main import SERVICE_NAME as CONV_SERVICE
from posada_conversation.main import build as build_conversation
from posada_conversation.repository import Repository
from posada_conversation.settings import ConversationSettings
from posada_gateway.main import SERVICE_NAME as GW_SERVICE
from posada_gateway.main import register as gw_register
from posada_gateway.main import warmup as gw_warmup
from posada_gateway.settings import GatewaySettings
from posada_sim_whatsapp import SimConfig, start_simulator
from pydantic import SecretStr


@pytest.fixture(scope="session")
async def console_db(postgres_url: str) -> AsyncIterator[str]:
    name = f"console_test_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base, _, _ = postgres_url.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
async def stack(console_db: str, redis_url: str) -> AsyncIterator[Stack]:
    conv_port, gw_port = free_port(), free_port()
    async with contextlib.AsyncExitStack() as stack:
        sim_config = SimConfig(phone_number_id=PNID, webhook_url="http://127.0.0.1:9/unset")
        sim = await start_simulator(sim_config)
        stack.push_async_callback(sim.runner.cleanup)
        conv_settings = ConversationSettings(
            grpc_port=conv_port,
            metrics_port=0,
            postgres_url=console_db,
            redis_url=redis_url,
            mesh_address=f"127.0.0.1:{gw_port}",
            default_hotel_id="1",
            postgres_pool_max=4,
        )

        async def register(rt):  # type: ignore[no-untyped-def]
            components = await build_conversation(conv_settings, rt.mesh_channel())
            conv_grpc.add_ConversationServiceServicer_to_server(components.servicer, rt.server)
            rt.add_cleanup(components.close)

        await stack.enter_async_context(
            running(conv_settings, service_names=[CONV_SERVICE], register=register)
        )
        gw_settings = GatewaySettings(
            grpc_port=gw_port,
            metrics_port=0,
            gateway_http_port=0,
            mesh_address=f"127.0.0.1:{conv_port}",
            redis_url=redis_url,
            whatsapp_api_base=sim.base_url,
            whatsapp_phone_number_id=PNID,
            whatsapp_access_token=SecretStr(sim_config.access_token),
            whatsapp_app_secret=SecretStr(sim_config.app_secret),
            whatsapp_reengagement_template="reengagement",
            gateway_inbox_stream=f"console-test:{uuid.uuid4().hex[:6]}:inbox",
            gateway_status_stream=f"console-test:{uuid.uuid4().hex[:6]}:status",
            gateway_dlq_stream=f"console-test:{uuid.uuid4().hex[:6]}:dlq",
            shutdown_grace_seconds=1,
        )
        gateway = ServiceHost(
            gw_settings,
            service_names=[GW_SERVICE],
            register=gw_register,
            warmup=gw_warmup,
            drain_seconds=0,
        )
        await gateway.start()
        stack.push_async_callback(gateway.stop)
        console = await stack.enter_async_context(
            console_running(
                ConsoleSettings(
                    http_port=0,
                    postgres_url=console_db,
                    redis_url=redis_url,
                    mesh_address=f"127.0.0.1:{conv_port}",
                    live_poll_seconds=0.2,
                    login_max_attempts=3,
                    login_window_seconds=60,
                )
            )
        )
        pool = await asyncpg.create_pool(console_db, min_size=1, max_size=3)
        stack.push_async_callback(pool.close)
        yield Stack(console, f"127.0.0.1:{conv_port}", sim, pool, Repository(pool), Accounts(pool))


@pytest.fixture
async def browser(stack: Stack) -> AsyncIterator[Any]:
    opened: list[Browser] = []

    def open_browser() -> Browser:
        b = Browser(stack.url)
        opened.append(b)
        return b

    yield open_browser
    for b in opened:
        await b.close()
