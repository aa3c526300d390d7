"""Shared pieces of the console tests (a uniquely named module: every service has a conftest)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from hotel.channel.v1 import message_pb2
from posada_console.accounts import Accounts
from posada_console.main import Running
from posada_conversation.repository import NewBooking, NewTask, Repository, TurnRecord
from posada_conversation.staff_store import StaffStore

PNID = "100000000000777"
PASSWORD = "correct horse battery"


@dataclass
class Stack:
    console: Running
    conversation_address: str
    sim: Any
    pool: asyncpg.Pool
    repo: Repository
    accounts: Accounts

    @property
    def url(self) -> str:
        return self.console.url

    async def seed(
        self,
        *,
        hotel_id: str = "1",
        name: str = "Lucía Gómez",
        text: str = "quiero hablar con una persona",
        handed_off: bool = True,
        task: str = "",
        email: str = "",
        booking: str = "",
        voice: bytes = b"",
    ) -> str:
        """A conversation as a handled turn leaves it; returns its id."""
        phone = "3461" + str(uuid.uuid4().int)[:8]
        message = message_pb2.InboundMessage(
            message_id=f"wamid.{uuid.uuid4().hex}",
            channel=message_pb2.CHANNEL_WHATSAPP,
            hotel_id=hotel_id,
            conversation_id=f"wa:{PNID}:{phone}",
            business_account_id=PNID,
            guest=message_pb2.Guest(id=phone, phone=phone, display_name=name, email=email),
            kind=message_pb2.MESSAGE_KIND_AUDIO if voice else message_pb2.MESSAGE_KIND_TEXT,
            text="" if voice else text,
        )
        await self.repo.ensure_conversation(message, "es")
        if voice:  # what conversation keeps of a guest's voice note (text = its transcript)
            await StaffStore(self.pool).save_media(
                message.conversation_id, message.message_id, "audio/ogg; codecs=opus", voice
            )
        tasks = [NewTask(3, task)] if task else []
        bookings = []
        if booking:
            bookings.append(
                NewBooking(
                    idempotency_key=uuid.uuid4().hex,
                    booking_id="77",
                    reference=booking,
                    room_type_id="2",
                    room_type_name="Doble superior",
                    check_in=dt.date(2026, 12, 18),
                    check_out=dt.date(2026, 12, 20),
                    adults=2,
                    children=0,
                    total_minor=24000,
                    currency_code="EUR",
                    status=2,
                )
            )
        await self.repo.record_turn(
            TurnRecord(
                message,
                text,
                "request_human",
                "es",
                [],
                [],
                [],
                handoff_reason="guest_request" if handed_off else "",
                tasks=tasks,
                bookings=bookings,
            )
        )
        return message.conversation_id

    async def staff(
        self, hotel_id: str = "1", role: str = "agent", name: str = "María Pérez"
    ) -> str:
        login = f"staff{uuid.uuid4().hex[:8]}"
        await self.accounts.add(login, name, hotel_id, role, PASSWORD)
        return login


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """An HTTP client that behaves like a browser on the console: cookies, forms, CSRF."""

    def __init__(self, base: str):
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        async with self.http.get(self._url(path), allow_redirects=True, **kw) as resp:
            text = await resp.text()
            found = _CSRF.search(text)
            if found and "/login" not in str(resp.url):
                self.csrf = found.group(1)
            return resp.status, text

    async def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: bool = True,
        follow: bool = True,
    ) -> tuple[int, str, str]:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        async with self.http.post(self._url(path), data=form, allow_redirects=follow) as resp:
            return resp.status, await resp.text(), str(resp.url)

    async def login(self, username: str, password: str = PASSWORD) -> tuple[int, str, str]:
        _, page = await self.get("/login")
        token = _CSRF.search(page)
        assert token, page
        return await self.post(
            "/login",
            {"username": username, "password": password, "csrf_token": token.group(1)},
            csrf=False,
        )
