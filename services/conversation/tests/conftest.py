"""Conversation test harness: real Postgres and Redis (root fixtures), real gRPC everywhere.

`mesh` serves the dependencies on one loopback port, like Envoy's mesh listener does. Which nlp
and pms it serves is a stated choice, never a silent fallback, so a test checks the same thing
on every machine:

* `CONV_TEST_NLP=real` (default): the real nlp servicer with the newest trained model; no model
  is an error that says how to get one (`make models`). `CONV_TEST_NLP=standin`: the scripted
  stand-in of conv_standins.py.
* `CONV_TEST_PMS=real` (default): the real pms servicer over the QloApps stand-in.
  `CONV_TEST_PMS=standin`: the temporary stand-in of conv_standins.py.

(`CONV_TEST_STANDIN_NLP=1` / `CONV_TEST_STANDIN_PMS=1` still mean "standin".) Audio and the
gateway's ChannelService are always stand-ins here (the real audio models are too slow for this
suite). `conversation()` starts a real ConversationService server on a free port; pass a
dependency as "down" to point it at a port where nothing listens (the real UNAVAILABLE).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from conv_standins import ScriptedNlp, StandinAudio, StandinChannel, StandinPms
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.channel.v1 import channel_service_pb2_grpc as channel_grpc
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.auth import AuthInterceptor
from posada_common.server import running
from posada_common.testing import closed_port, trusted_channel
from posada_conversation.main import SERVICE_NAME, Components, build
from posada_conversation.settings import ConversationSettings


@dataclass
class Mesh:
    address: str
    nlp: Any
    pms: Any
    audio: StandinAudio
    channel: StandinChannel
    real_nlp: bool = False
    real_pms: bool = False
    sim: Any = None  # the QloApps stand-in (fault injection), with the real pms


def _choice(dependency: str) -> str:
    """ "real" or "standin" for nlp/pms, from the environment (see the module docstring)."""
    upper = dependency.upper()
    if os.environ.get(f"CONV_TEST_STANDIN_{upper}") == "1":
        return "standin"
    choice = os.environ.get(f"CONV_TEST_{upper}", "real").strip().lower()
    if choice not in ("real", "standin"):
        raise pytest.UsageError(f"CONV_TEST_{upper} must be 'real' or 'standin', not {choice!r}")
    return choice


@contextlib.asynccontextmanager
async def _real_pms(redis_url: str, tmp: Path) -> AsyncIterator[Any]:
    """The REAL pms servicer (test harness only) over the QloApps stand-in's HTTP API."""
    from posada_common.redis import connect_redis
    from posada_pms.servicer import PmsServicer
    from posada_pms.settings import PmsSettings
    from posada_pms.wiring import build as build_pms
    from posada_sim_qloapps.testing import running_server

    async with running_server(tmp / "qloapps.db") as sim:
        settings = PmsSettings(
            pms_base_url=sim.base_url, pms_api_key=sim.api_key, redis_url=redis_url
        )
        redis = connect_redis(redis_url)
        parts = build_pms(settings, redis)
        try:
            yield PmsServicer(parts.core), sim
        finally:
            await parts.close()
            await redis.aclose()


def _real_nlp() -> Any:
    """The REAL nlp servicer with the newest trained model (test harness only)."""
    from posada_nlp.backend import load_backend
    from posada_nlp.engine import find_latest_model
    from posada_nlp.servicer import NlpServicer
    from posada_nlp.settings import NlpSettings

    settings = NlpSettings()
    if find_latest_model(settings.nlp_model_dir) is None:
        raise pytest.UsageError(
            f"no trained NLU model under {settings.nlp_model_dir}: run `make models` "
            "(or set CONV_TEST_NLP=standin to test against the scripted stand-in)"
        )
    engine = load_backend(
        settings.nlp_model_dir,
        train_if_missing=False,
        engine="spacy",
        rasa_url="",
        rasa_timeout=2.0,
    )  # a model that exists but does not load is an error, not a reason to swap
    return NlpServicer(engine=engine)


@pytest.fixture(scope="session")
async def mesh(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    async with contextlib.AsyncExitStack() as stack:
        big = 20 * 1024 * 1024
        server = grpc.aio.server(
            # Like every real service: calls without conversation's service token are refused.
            interceptors=[AuthInterceptor()],
            options=[
                ("grpc.max_receive_message_length", big),
                ("grpc.max_send_message_length", big),
            ],
        )
        audio, channel = StandinAudio(), StandinChannel()
        real_nlp = _choice("nlp") == "real"
        nlp = _real_nlp() if real_nlp else ScriptedNlp()
        real_pms = _choice("pms") == "real"
        if real_pms:
            pms, sim = await stack.enter_async_context(
                _real_pms(redis_url, tmp_path_factory.mktemp("qlo"))
            )
        else:
            pms, sim = StandinPms(), None
        nlp_grpc.add_NlpServiceServicer_to_server(nlp, server)
        pms_grpc.add_PmsServiceServicer_to_server(pms, server)
        audio_grpc.add_AudioServiceServicer_to_server(audio, server)
        channel_grpc.add_ChannelServiceServicer_to_server(channel, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            yield Mesh(
                f"127.0.0.1:{port}",
                nlp,
                pms,
                audio,
                channel,
                real_nlp=real_nlp,
                real_pms=real_pms,
                sim=sim,
            )
        finally:
            await server.stop(0)


@pytest.fixture(scope="session")
async def conv_db(postgres_url: str) -> AsyncIterator[str]:
    """A database of our own on the shared test server, dropped at the end."""
    name = f"conv_test_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base, _, _ = postgres_url.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@dataclass
class Service:
    stub: conv_grpc.ConversationServiceStub
    components: Components
    settings: ConversationSettings
    address: str = ""  # where the server listens (to dial it as a given mesh identity)


@pytest.fixture(scope="session")
def conversation(mesh: Mesh, conv_db: str, redis_url: str):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def start(
        *, down: tuple[str, ...] = (), channels: dict[str, Any] | None = None, **overrides: Any
    ) -> AsyncIterator[Service]:
        values: dict[str, Any] = {
            "grpc_port": 0,
            "metrics_port": 0,
            "postgres_url": conv_db,
            "redis_url": redis_url,
            "mesh_address": mesh.address,
            "default_hotel_id": "1",
            "nlp_deadline_seconds": 10.0,
            "postgres_pool_max": 4,
        }
        settings = ConversationSettings(**{**values, **overrides})
        # Held bound, never listened on: refused connections, and no one can take the port.
        held_ports = contextlib.ExitStack()
        dead = {
            name: grpc.aio.insecure_channel(f"127.0.0.1:{held_ports.enter_context(closed_port())}")
            for name in down
        }
        dead.update(channels or {})
        holder: dict[str, Components] = {}

        async def register(rt):  # type: ignore[no-untyped-def]
            components = await build(settings, rt.mesh_channel(), **dead)
            conv_grpc.add_ConversationServiceServicer_to_server(components.servicer, rt.server)
            rt.add_cleanup(components.close)
            holder["c"] = components

        async with running(settings, service_names=[SERVICE_NAME], register=register) as rt:
            channel = trusted_channel(
                f"127.0.0.1:{rt.port}",
                options=[("grpc.max_send_message_length", 20 * 1024 * 1024)],
            )
            try:
                yield Service(
                    conv_grpc.ConversationServiceStub(channel),
                    holder["c"],
                    settings,
                    f"127.0.0.1:{rt.port}",
                )
            finally:
                await channel.close()
                for ch in dead.values():
                    await ch.close()
                held_ports.close()

    return start


@pytest.fixture(scope="session")
async def service(conversation) -> AsyncIterator[Service]:  # type: ignore[no-untyped-def]
    async with conversation() as svc:
        yield svc


@pytest.fixture(scope="session")
def pms(mesh: Mesh):  # type: ignore[no-untyped-def]
    from conv_chat import PmsView

    return PmsView(mesh.address)


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    return [
        f"conversation deps: nlp={_choice('nlp')}; pms={_choice('pms')}"
        " (CONV_TEST_NLP / CONV_TEST_PMS); audio, gateway=stand-ins"
    ]
