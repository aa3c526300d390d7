"""The mail view in a real browser (Playwright driving Debian's Chromium, headless): a person
writes an e-mail as a guest, and the hotel's answer — sent by a tiny stand-in agent through the
real API (history.list, messages.send with threadId) after the signed push — appears in the
same thread on the page."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import os
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from posada_sim_gmail import SimConfig, start_simulator

pytestmark = pytest.mark.timeout(300)

CHROMIUM = "/usr/bin/chromium"
TOKEN = "browser-gmail-token"
HOTEL = "reservas@hotel-browser.example"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.fixture
async def agent_and_sim():
    """A push endpoint that answers every new INBOX mail in its thread, and the stand-in."""
    state: dict[str, Any] = {"base": "", "history": "", "tasks": set()}

    async def answer() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        api = f"{state['base']}/gmail/v1/users/me"
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(
                f"{api}/history", params={"startHistoryId": state["history"], "labelId": "INBOX"}
            ) as resp:
                page = await resp.json()
            state["history"] = page["historyId"]
            for record in page.get("history", []):
                for added in record["messagesAdded"]:
                    mid = added["message"]["id"]
                    async with http.get(f"{api}/messages/{mid}", params={"format": "raw"}) as r:
                        got = await r.json()
                    raw = base64.urlsafe_b64decode(got["raw"] + "==")
                    guest = email.message_from_bytes(raw, policy=email.policy.default)
                    reply = (
                        f"From: Hotel <{HOTEL}>\r\nTo: {guest['From']}\r\n"
                        f"Subject: Re: {guest['Subject']}\r\nIn-Reply-To: {guest['Message-ID']}\r\n"
                        f"References: {guest['Message-ID']}\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                        "Sí, nos queda una doble por 120 € la noche.\r\n"
                    ).encode()
                    await http.post(
                        f"{api}/messages/send",
                        json={
                            "raw": base64.urlsafe_b64encode(reply).decode(),
                            "threadId": got["threadId"],
                        },
                    )

    async def push(_request: web.Request) -> web.Response:
        task = asyncio.ensure_future(answer())
        state["tasks"].add(task)
        task.add_done_callback(state["tasks"].discard)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks/gmail", push)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    push_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/gmail"
    sim_runner, base, sim = await start_simulator(
        SimConfig(address=HOTEL, sim_token=TOKEN, push_url=push_url, push_min_interval_ms=0)
    )
    state["base"] = base
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with http.post(
            f"{base}/gmail/v1/users/me/watch",
            json={"topicName": sim.config.topic, "labelIds": ["INBOX"]},
        ) as resp:
            state["history"] = (await resp.json())["historyId"]
    yield state, base
    for task in list(state["tasks"]):
        task.cancel()
    await sim_runner.cleanup()
    await runner.cleanup()


async def test_a_person_writes_as_a_guest_and_reads_the_answer_in_the_thread(
    agent_and_sim, tmp_path
):
    if not await asyncio.to_thread(os.path.exists, CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (make system-test-deps installs chromium)")
    from playwright.async_api import async_playwright

    _state, base = agent_and_sim
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(f"{base}/mail/")
            await page.fill("input[name=from_email]", "lena@example.org")
            await page.fill("input[name=subject]", "Habitación")
            await page.fill("textarea[name=text]", "¿Tienen una doble el viernes?")
            await page.click("button[type=submit]")
            thread = page.locator(".thread", has_text="Habitación")
            answer = thread.locator(".msg.out", has_text="120 € la noche")
            await answer.wait_for(timeout=15_000)
            assert await thread.locator(".msg").count() == 2
            assert "¿Tienen una doble el viernes?" in await thread.inner_text()
            assert HOTEL in await page.locator("#hotel").inner_text()
        finally:
            await context.close()
