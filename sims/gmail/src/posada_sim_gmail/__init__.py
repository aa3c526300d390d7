"""Gmail API stand-in: the users.* REST paths, signed Pub/Sub pushes, an OAuth token endpoint
and a mail view page, for development and tests (never deployed to production)."""

from __future__ import annotations

from aiohttp import web

from .app import STATE, GmailSim, build_app, compose_raw
from .config import SimConfig

__all__ = ["STATE", "GmailSim", "SimConfig", "build_app", "compose_raw", "start_simulator"]


async def start_simulator(
    config: SimConfig, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str, GmailSim]:
    """Start in-process on a (free) port: (runner, base URL, state)."""
    app = build_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}", app[STATE]
