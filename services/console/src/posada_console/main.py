"""Entry point of the console: database, Redis, the mesh client, the web app, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from aiohttp import web
from posada_common.logging import configure_logging, get_logger
from posada_common.metrics import start_metrics_server
from posada_common.redis import connect_redis
from posada_common.settings import load_settings
from posada_common.tracing import configure_tracing

from .accounts import Accounts
from .app import Console, build_app, make_templates
from .live import LiveHub
from .mesh_client import MeshClient
from .migrate import migrate
from .sessions import SessionStore
from .settings import ConsoleSettings
from .throttle import LoginThrottle

log = get_logger(__name__)


@dataclass
class Running:
    console: Console
    runner: web.AppRunner
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.console.prefix}"


@contextlib.asynccontextmanager
async def running(
    settings: ConsoleSettings, *, mesh: MeshClient | None = None
) -> AsyncIterator[Running]:
    """The console serving on settings.http_host:http_port (0 = a free port), until exit."""
    pool = await asyncpg.create_pool(
        settings.postgres_url, min_size=1, max_size=5, command_timeout=10
    )
    redis = connect_redis(settings.redis_url)
    client = mesh or MeshClient(
        settings.mesh_address,
        token_ttl_seconds=settings.staff_token_ttl_seconds,
        deadline_seconds=settings.rpc_deadline_seconds,
    )
    runner: web.AppRunner | None = None
    try:
        async with pool.acquire() as conn:
            applied = await migrate(conn)
        if applied:
            log.info("schema_migrated", versions=applied)
        oidc = None
        if settings.oidc_enabled:
            from .oidc import OidcLogin

            oidc = OidcLogin(settings, redis)
        console = Console(
            settings=settings,
            accounts=Accounts(pool),
            sessions=SessionStore(
                redis, settings.session_ttl_seconds, settings.cookie_secure, settings.public_prefix
            ),
            throttle=LoginThrottle(
                redis, settings.login_max_attempts, settings.login_window_seconds
            ),
            mesh=client,
            live=LiveHub(client, settings.live_poll_seconds),
            templates=make_templates(),
            oidc=oidc,
        )
        runner = web.AppRunner(build_app(console), access_log=None, shutdown_timeout=3)
        await runner.setup()
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        port = runner.addresses[0][1]
        log.info("console_listening", host=settings.http_host, port=port)
        yield Running(console, runner, port)
    finally:
        if runner is not None:
            await runner.cleanup()
        if mesh is None:
            await client.close()
        await redis.aclose()
        await pool.close()


async def serve(settings: ConsoleSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_host, settings.metrics_port)
    async with running(settings):
        await stop.wait()
        log.info("console_stopping")


def main() -> None:
    settings = load_settings(ConsoleSettings)
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    configure_tracing(settings.service_name, settings.service_version, settings.otlp_endpoint)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
