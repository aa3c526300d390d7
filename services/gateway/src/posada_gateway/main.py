"""Entry point of the gateway service.

One process serves three things: the `ChannelService` gRPC API (common server skeleton), the
public webhooks of every registered channel over HTTP (aiohttp, `GATEWAY_HTTP_PORT`) and the
inbox worker (Redis consumer group → ConversationService through Envoy → the channel adapter).
A new channel is one more `registry.register(...)` here.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from hotel.channel.v1 import channel_service_pb2, channel_service_pb2_grpc
from hotel.conversation.v1 import conversation_service_pb2_grpc
from posada_common.logging import get_logger
from posada_common.server import ServiceRuntime, run_service
from posada_common.settings import load_settings

from posada_gateway.channel_service import ChannelServicer
from posada_gateway.channels.email.setup import build_email_adapter
from posada_gateway.channels.registry import ChannelRegistry
from posada_gateway.channels.whatsapp.adapter import WhatsAppAdapter, WhatsAppConfig
from posada_gateway.channels.whatsapp.graph import GraphClient
from posada_gateway.channels.whatsapp.sender import Sender, SenderConfig
from posada_gateway.dead_letters import DeadLetterNotifier
from posada_gateway.http import build_http_app
from posada_gateway.outbound import OutboundPipeline
from posada_gateway.ratelimit import Bucket, RateLimiter
from posada_gateway.readiness import dependency_serving
from posada_gateway.settings import GatewaySettings
from posada_gateway.status import StatusForwarder
from posada_gateway.store import GatewayStore, StreamNames
from posada_gateway.turn import TurnConfig, TurnHandler
from posada_gateway.worker import InboxWorker, WorkerConfig

SERVICE_NAME = channel_service_pb2.DESCRIPTOR.services_by_name["ChannelService"].full_name
CONVERSATION_SERVICE = "hotel.conversation.v1.ConversationService"

log = get_logger("posada_gateway")


@dataclass
class Gateway:
    """Everything `register` built, kept on `rt.state["gateway"]` (tests reach in through it)."""

    settings: GatewaySettings
    store: GatewayStore
    registry: ChannelRegistry
    pipeline: OutboundPipeline
    sender: Sender
    graph: GraphClient
    worker: InboxWorker
    statuses: StatusForwarder
    runner: web.AppRunner
    http_port: int


def build_sender(
    settings: GatewaySettings, redis: Any, session: aiohttp.ClientSession, store: GatewayStore
) -> tuple[GraphClient, Sender]:
    graph = GraphClient(
        session,
        base_url=settings.whatsapp_api_base,
        version=settings.whatsapp_api_version,
        access_token=settings.whatsapp_access_token.get_secret_value(),
        timeout_seconds=settings.whatsapp_http_timeout_seconds,
    )
    limiter = RateLimiter(
        redis,
        number=Bucket(settings.whatsapp_number_mps, settings.whatsapp_number_burst),
        guest=Bucket(settings.whatsapp_pair_per_minute / 60.0, settings.whatsapp_pair_burst),
    )
    sender = Sender(
        graph,
        limiter,
        SenderConfig(
            template_name=settings.whatsapp_reengagement_template,
            template_language=settings.whatsapp_reengagement_template_language,
            window_margin_seconds=settings.whatsapp_window_margin_seconds,
            max_attempts=settings.whatsapp_send_max_attempts,
            backoff_base_seconds=settings.whatsapp_send_backoff_seconds,
            pair_backoff_base_seconds=settings.whatsapp_pair_backoff_seconds,
            rate_limit_max_wait_seconds=settings.whatsapp_rate_limit_max_wait_seconds,
            auth_pause_seconds=settings.whatsapp_auth_pause_seconds,
            ambiguous_wait_seconds=settings.whatsapp_ambiguous_wait_seconds,
        ),
        last_inbound=store.last_inbound,
        log=log,
        sent_echo=store.wamid_for_callback,
    )
    return graph, sender


def open_redis(settings: GatewaySettings) -> aioredis.Redis:
    """A blocking pool: under a burst of webhooks a request waits a moment for a free connection
    instead of failing with "Too many connections" (which would turn into a 503 and a redelivery)."""
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.gateway_redis_max_connections,
        timeout=settings.gateway_redis_pool_timeout_seconds,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


async def register(rt: ServiceRuntime) -> None:
    settings = rt.settings
    assert isinstance(settings, GatewaySettings)
    redis = open_redis(settings)
    store = GatewayStore(
        redis,
        StreamNames(
            inbox=settings.gateway_inbox_stream,
            status=settings.gateway_status_stream,
            dlq=settings.gateway_dlq_stream,
            group=settings.gateway_consumer_group,
        ),
        dedupe_ttl_days=settings.gateway_dedupe_ttl_days,
    )
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(16, settings.gateway_worker_concurrency * 2))
    )
    graph, sender = build_sender(settings, redis, session, store)
    registry = ChannelRegistry()
    registry.register(
        WhatsAppAdapter(
            store,
            graph,
            sender,
            WhatsAppConfig(
                default_phone_number_id=settings.whatsapp_phone_number_id,
                app_secrets=settings.app_secrets(),
                verify_token=settings.whatsapp_verify_token.get_secret_value(),
                hotel_for=settings.hotel_for,
                max_body_bytes=settings.webhook_max_body_bytes,
                media_max_bytes=settings.gateway_media_max_bytes,
                mark_read=settings.whatsapp_mark_read,
                typing_indicator=settings.whatsapp_typing_indicator,
            ),
            log=log,
        )
    )
    email = build_email_adapter(
        settings, hotel_id=settings.hotel_id, redis=redis, session=session, log=log
    )
    if email is not None:
        registry.register(email)
    pipeline = OutboundPipeline(store, registry, log=log)
    mesh = rt.mesh_channel()
    conversation = conversation_service_pb2_grpc.ConversationServiceStub(mesh)
    consumer = settings.gateway_consumer_name or f"{socket.gethostname()}:{settings.grpc_port}"
    turn = TurnHandler(
        store,
        registry,
        pipeline,
        conversation,
        TurnConfig(conversation_timeout_seconds=settings.gateway_conversation_timeout_seconds),
        log=log,
    )
    ready = None
    if settings.gateway_wait_for_conversation:

        async def ready() -> bool:
            return await dependency_serving(mesh, "conversation", CONVERSATION_SERVICE)

    worker = InboxWorker(
        store,
        turn,
        WorkerConfig(
            consumer=consumer,
            concurrency=settings.gateway_worker_concurrency,
            max_attempts=settings.gateway_max_attempts,
            retry_base_seconds=settings.gateway_retry_base_seconds,
            retry_max_seconds=settings.gateway_retry_max_seconds,
            retry_budget_seconds=settings.gateway_retry_budget_seconds,
            claim_idle_seconds=settings.gateway_claim_idle_seconds,
            claim_interval_seconds=settings.gateway_claim_interval_seconds,
            stop_grace_seconds=settings.shutdown_grace_seconds,
        ),
        log=log,
        ready=ready,
        on_dead_letter=DeadLetterNotifier(registry, pipeline, conversation, log=log),
    )
    statuses = StatusForwarder(
        store,
        pipeline,
        conversation,
        consumer=consumer,
        log=log,
        claim_idle_seconds=settings.gateway_claim_idle_seconds,
        claim_interval_seconds=settings.gateway_claim_interval_seconds,
        max_attempts=settings.gateway_max_attempts * 4,
    )

    async def redis_reachable() -> None:
        await redis.ping()

    # The inbox, dedupe keys and send idempotency live in Redis: NOT_SERVING while it is gone.
    rt.add_readiness_check("redis", redis_reachable)
    channel_service_pb2_grpc.add_ChannelServiceServicer_to_server(
        ChannelServicer(store, registry, pipeline, log=log), rt.server
    )

    app = build_http_app(
        store, registry, max_body_bytes=settings.webhook_max_body_bytes, ready=rt.ready.is_set
    )
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.gateway_http_host, settings.gateway_http_port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    http_port = sockets[0].getsockname()[1] if sockets else settings.gateway_http_port
    log.info(
        "webhook_listening",
        address=f"http://{settings.gateway_http_host}:{http_port}/webhooks/whatsapp",
    )

    rt.state["gateway"] = Gateway(
        settings, store, registry, pipeline, sender, graph, worker, statuses, runner, http_port
    )

    async def close_clients() -> None:
        for adapter in registry:
            await adapter.stop()
        await session.close()
        await redis.aclose()

    # Cleanups run last-added first: stop the webhook, then the workers, then the clients.
    rt.add_cleanup(close_clients)
    rt.add_cleanup(statuses.stop)
    rt.add_cleanup(worker.stop)
    rt.add_cleanup(runner.cleanup)


async def warmup(rt: ServiceRuntime) -> None:
    """Ready once Redis answers and the worker runs (it waits for Redis, never gives up)."""
    gw: Gateway = rt.state["gateway"]
    delay = 0.2
    while True:
        try:
            await gw.store.ensure_groups()
            break
        except Exception as exc:
            log.warning("redis_not_ready", error=str(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    await gw.worker.start()
    gw.statuses.start()
    for adapter in gw.registry:
        await adapter.start()


def use_uvloop(enabled: bool) -> bool:
    """uvloop's event loop: the gateway is I/O bound on many small exchanges (webhooks, Redis,
    Graph, gRPC) and spends a good part of its CPU in the loop itself. Falls back to asyncio's
    loop when uvloop is unavailable."""
    if not enabled:
        return False
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def main() -> None:
    settings = load_settings(GatewaySettings)
    use_uvloop(settings.gateway_uvloop)
    run_service(
        settings,
        service_names=[SERVICE_NAME],
        register=register,
        warmup=warmup,
    )


if __name__ == "__main__":
    main()
