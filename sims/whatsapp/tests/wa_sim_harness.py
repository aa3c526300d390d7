"""Test harness: an in-process simulator on a free port and a webhook receiver standing in for the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from posada_sim_whatsapp import SimConfig, start_simulator

TOKEN = "test-access-token"
SECRET = "test-app-secret"
VERIFY = "test-verify-token"
PNID = "1098765432101"


@dataclass
class Received:
    raw: bytes
    headers: dict
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """A tiny webhook endpoint: records raw bodies, answers scripted statuses (then 200)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    verify_token: str = VERIFY
    on_message: Callable | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_post(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append(Received(raw, dict(request.headers), time.time()))
        self._event.set()
        status = self.script.pop(0) if self.script else 200
        if status == 200 and self.on_message is not None:
            await self.on_message(json.loads(raw))
        return web.Response(status=status, text="ok" if status == 200 else "nope")

    async def handle_get(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("hub.mode") == "subscribe" and q.get("hub.verify_token") == self.verify_token:
            return web.Response(text=q.get("hub.challenge", ""), content_type="text/plain")
        return web.Response(status=403)

    def messages(self) -> list[dict]:
        out = []
        for r in self.received:
            body = json.loads(r.raw)
            for entry in body.get("entry", []):
                for change in entry.get("changes", []):
                    out.extend(change.get("value", {}).get("messages", []))
        return out

    def statuses(self, wamid: str | None = None) -> list[dict]:
        out = []
        for r in self.received:
            body = json.loads(r.raw)
            for entry in body.get("entry", []):
                for change in entry.get("changes", []):
                    out.extend(change.get("value", {}).get("statuses", []))
        return [s for s in out if wamid is None or s["id"] == wamid]

    async def wait_for(self, predicate: Callable[[], object], within: float = 5.0):
        deadline = time.monotonic() + within
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for webhooks")
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._event.wait(), timeout=min(0.2, deadline - time.monotonic() + 0.01)
                )


@pytest.fixture
async def receiver():
    rec = Receiver()
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/webhooks/whatsapp", rec.handle_post)
    app.router.add_get("/webhooks/whatsapp", rec.handle_get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whatsapp"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def sim(receiver):
    config = SimConfig(
        app_secret=SECRET,
        verify_token=VERIFY,
        access_token=TOKEN,
        phone_number_id=PNID,
        webhook_url=receiver.url,
        status_delay_ms=20,
        webhook_retry_base_ms=30,
        webhook_max_attempts=3,
    )
    handle = await start_simulator(config)
    yield handle
    await handle.runner.cleanup()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


class Graph:
    def __init__(self, http: aiohttp.ClientSession, base: str, version: str = "v21.0") -> None:
        self.http = http
        self.base = base
        self.version = version
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    async def send(
        self, body: dict, headers: dict | None = None, pnid: str = PNID
    ) -> tuple[int, dict]:
        async with self.http.post(
            f"{self.base}/{self.version}/{pnid}/messages",
            json=body,
            headers=self.headers if headers is None else headers,
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def text(self, to: str, body: str, **extra) -> tuple[int, dict]:
        return await self.send(
            {
                "messaging_product": "whatsapp",
                "to": to,
                "type": "text",
                "text": {"body": body},
                **extra,
            }
        )

    async def upload(self, data: bytes, mime: str, filename: str = "file.bin") -> tuple[int, dict]:
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        form.add_field("file", data, filename=filename, content_type=mime)
        async with self.http.post(
            f"{self.base}/{self.version}/{PNID}/media", data=form, headers=self.headers
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def control(self, method: str, path: str, **kwargs):
        async with self.http.request(method, f"{self.base}/sim/{path}", **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture
def graph(http, sim) -> Graph:
    return Graph(http, sim.base_url)


def ogg_opus_bytes(n_packets: int = 5) -> bytes:
    """A small valid OGG/Opus file (silent 20 ms CELT frames) built with the remuxer's writer."""
    from posada_sim_whatsapp.remux import ogg_opus, opus_head

    return ogg_opus(opus_head(1), [bytes([0xF8, 0xFF, 0xFE])] * n_packets, serial=1234)
