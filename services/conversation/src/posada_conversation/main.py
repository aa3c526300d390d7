"""Entry point of the conversation service: pools, migrations, dependencies, servicer."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import grpc
from hotel.conversation.v1 import conversation_service_pb2, conversation_service_pb2_grpc
from posada_common.logging import get_logger
from posada_common.redis import connect_redis
from posada_common.server import ServiceRuntime, run_service
from posada_common.settings import load_settings

from posada_conversation.deps import Deadlines, Dependencies, DependencyError
from posada_conversation.engine import Engine, EngineConfig
from posada_conversation.i18n import Templates
from posada_conversation.migrate import migrate
from posada_conversation.policy import Policy
from posada_conversation.repository import Repository
from posada_conversation.servicer import ConversationServicer
from posada_conversation.sessions import SessionStore
from posada_conversation.settings import ConversationSettings

SERVICE_NAME = conversation_service_pb2.DESCRIPTOR.services_by_name["ConversationService"].full_name
log = get_logger(__name__)


@dataclass
class Components:
    servicer: ConversationServicer
    engine: Engine
    repo: Repository
    close: Callable[[], Awaitable[None]]


async def build(
    settings: ConversationSettings,
    mesh: grpc.aio.Channel,
    *,
    nlp: grpc.aio.Channel | None = None,
    pms: grpc.aio.Channel | None = None,
    audio: grpc.aio.Channel | None = None,
    channel: grpc.aio.Channel | None = None,
) -> Components:
    """Everything the servicer needs. Dependencies go through `mesh` (Envoy) unless given."""
    templates = Templates.load()  # fails fast on a broken template file
    pool = await asyncpg.create_pool(
        settings.postgres_url, min_size=1, max_size=settings.postgres_pool_max, command_timeout=10
    )
    async with pool.acquire() as conn:
        applied = await migrate(conn)
    if applied:
        log.info("schema_migrated", versions=applied)
    redis = connect_redis(settings.redis_url)
    deps = Dependencies.over(
        mesh,
        Deadlines(
            nlp=settings.nlp_deadline_seconds,
            pms=settings.pms_deadline_seconds,
            pms_booking=settings.pms_booking_deadline_seconds,
            audio_transcribe=settings.audio_transcribe_deadline_seconds,
            audio_synthesize=settings.audio_synthesize_deadline_seconds,
            channel=settings.channel_deadline_seconds,
        ),
        nlp=nlp,
        pms=pms,
        audio=audio,
        channel=channel,
    )
    repo = Repository(pool)
    sessions = SessionStore(
        redis,
        ttl_seconds=settings.session_ttl_seconds,
        lock_ttl_seconds=settings.lock_ttl_seconds,
        lock_wait_seconds=settings.lock_wait_seconds,
        handled_ttl_seconds=settings.handled_ttl_seconds,
    )
    policy = Policy(
        deps.pms,
        templates,
        confidence_threshold=settings.nlp_confidence_threshold,
        handoff_after_misunderstandings=settings.handoff_after_misunderstandings,
        max_guests=settings.max_guests,
        hotel_cache_seconds=settings.hotel_cache_seconds,
    )
    engine = Engine(
        repo,
        sessions,
        deps,
        templates,
        policy,
        EngineConfig(
            default_language=settings.default_language,
            default_time_zone=settings.default_time_zone,
            voice_replies=settings.voice_replies,
            voice_replies_by_hotel=dict(settings.voice_replies_by_hotel),
        ),
    )

    async def close() -> None:
        await redis.aclose()
        await pool.close()

    return Components(
        ConversationServicer(engine, repo, settings.default_hotel_id), engine, repo, close
    )


async def register(rt: ServiceRuntime) -> None:
    settings = rt.settings
    assert isinstance(settings, ConversationSettings)
    components = await build(settings, rt.mesh_channel())
    conversation_service_pb2_grpc.add_ConversationServiceServicer_to_server(
        components.servicer, rt.server
    )
    rt.add_cleanup(components.close)
    add_readiness_checks(rt, components, settings)


def add_readiness_checks(
    rt: ServiceRuntime, components: Components, settings: ConversationSettings
) -> None:
    """SERVING means a turn can be taken: Postgres and Redis answer (checked all along), and
    the dependencies every turn needs answered once (`ready_after_dependencies`, nlp by
    default) so the gateway does not start consuming into a mesh still warming up. A
    dependency lost later does not make us NOT_SERVING: turns then defer or answer honestly
    (degradation.py), which only we can do."""

    async def postgres() -> None:
        await components.repo.pool.fetchval("SELECT 1")

    async def redis() -> None:
        await components.engine.sessions.redis.ping()

    async def nlp() -> None:
        with contextlib.suppress(DependencyError):  # a business answer = it is reachable
            await components.engine.deps.nlp.parse("hola", language_hint="es")

    async def pms() -> None:
        with contextlib.suppress(DependencyError):
            await components.engine.deps.pms.get_hotel(settings.default_hotel_id)

    rt.add_readiness_check("postgres", postgres)
    rt.add_readiness_check("redis", redis)
    startup = {"nlp": nlp, "pms": pms}
    for name in settings.ready_after():
        rt.add_readiness_check(name, startup[name], startup_only=True)


def main() -> None:
    run_service(
        load_settings(ConversationSettings), service_names=[SERVICE_NAME], register=register
    )


if __name__ == "__main__":
    main()
