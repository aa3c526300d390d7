"""Test harness: the stand-in in-process on a free port and a push endpoint standing in for
the gateway's /webhooks/gmail."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from posada_sim_gmail import GmailSim, SimConfig, start_simulator

TOKEN = "test-gmail-token"
ADDRESS = "reservas@hotel-test.example"


@dataclass
class PushReceiver:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(
            {"headers": dict(request.headers), "body": json.loads(await request.read())}
        )
        self._event.set()
        return web.Response(status=self.script.pop(0) if self.script else 204)

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async def _wait() -> None:
            while len(self.received) < count:
                self._event.clear()
                await self._event.wait()

        await asyncio.wait_for(_wait(), timeout)

    @staticmethod
    def data(push: dict[str, Any]) -> dict[str, Any]:
        return json.loads(base64.urlsafe_b64decode(push["body"]["message"]["data"] + "=="))


@dataclass
class Gmail:
    base: str
    sim: GmailSim
    http: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return f"{self.base}/gmail/v1/users/me/{path}"

    async def call(
        self, method: str, path: str, token: str = TOKEN, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.url(path), headers=headers, **kw) as resp:
            body = await resp.json() if resp.content_type == "application/json" else {}
            return resp.status, body

    async def watch(self) -> str:
        status, body = await self.call(
            "POST",
            "watch",
            json={"topicName": self.sim.config.topic, "labelIds": ["INBOX"]},
        )
        assert status == 200, body
        return str(body["historyId"])

    async def import_raw(self, raw: bytes, **extra: Any) -> dict[str, Any]:
        status, body = await self.call(
            "POST",
            "messages/import",
            json={"raw": base64.urlsafe_b64encode(raw).decode(), **extra},
        )
        assert status == 200, body
        return body


@pytest.fixture
async def push_receiver() -> AsyncIterator[PushReceiver]:
    rec = PushReceiver()
    app = web.Application()
    app.router.add_post("/webhooks/gmail", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.url = f"http://127.0.0.1:{port}/webhooks/gmail"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def gmail(push_receiver: PushReceiver) -> AsyncIterator[Gmail]:
    config = SimConfig(
        address=ADDRESS,
        sim_token=TOKEN,
        push_url=push_receiver.url,
        push_min_interval_ms=0,
        push_retry_base_ms=50,
    )
    runner, base, sim = await start_simulator(config)
    async with aiohttp.ClientSession() as http:
        yield Gmail(base, sim, http)
    await runner.cleanup()


def guest_mail(
    *,
    sender: str = "Ana García <ana@example.org>",
    subject: str = "Habitación doble",
    body: str = "Hola, ¿tienen habitación?",
    message_id: str = "<guest-1@example.org>",
    extra_headers: str = "",
    charset: str = "utf-8",
) -> bytes:
    text = (
        f"From: {sender}\r\nTo: {ADDRESS}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Thu, 03 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n{extra_headers}"
        f'Content-Type: text/plain; charset="{charset}"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        f"{body}\r\n"
    )
    return text.encode(charset)
