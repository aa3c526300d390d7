"""The gateway's HTTP face: every registered channel's webhook routes plus `/healthz`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aiohttp import web
from hotel.channel.v1 import message_pb2 as m

from .channels.base import Inbox
from .channels.registry import ChannelRegistry
from .store import GatewayStore

MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta sends up to 3 MB


class StoreInbox(Inbox):
    """`Inbox` over the durable stream: atomic dedupe-and-append per message."""

    def __init__(self, store: GatewayStore):
        self.store = store

    async def accept(
        self, messages: Sequence[m.InboundMessage], notes: Mapping[str, str] | None = None
    ) -> list[bool]:
        return await self.store.accept_messages(list(messages), notes)


def build_http_app(
    store: GatewayStore,
    registry: ChannelRegistry,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    ready: Callable[[], bool] = lambda: True,
) -> web.Application:
    inbox = StoreInbox(store)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            await store.ping()
        except Exception as exc:
            return web.json_response({"ok": False, "redis": str(exc)}, status=503)
        return web.json_response({"ok": True, "ready": ready()}, status=200)

    # A little over the limit so aiohttp's own check does not fire before the routes' own.
    app = web.Application(client_max_size=max_body_bytes + 1)
    for adapter in registry:
        app.router.add_routes(adapter.routes(inbox))
    app.router.add_get("/healthz", healthz)
    return app
