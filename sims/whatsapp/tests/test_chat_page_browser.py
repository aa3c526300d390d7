"""The chat page in a real browser: Playwright driving Debian's Chromium, headless.

A tiny webhook receiver stands in for the gateway: it checks the signature and answers each
inbound text with Graph API sends back to the simulator, like the agent would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shutil
import subprocess

import aiohttp
import pytest
from aiohttp import web
from posada_sim_whatsapp import SimConfig, start_simulator

# Installing Chromium on first use may take minutes; CI installs it up front (see README).
pytestmark = pytest.mark.timeout(900)

CHROMIUM = "/usr/bin/chromium"
TOKEN, SECRET, PNID = "browser-token", "browser-secret", "1098765432101"
GUEST = "34600111222"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # a fake microphone (a beep) so the page can record a voice note without hardware
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def ensure_chromium() -> str | None:
    """Path to Chromium, installing Debian's package when missing; None with a reason to skip."""
    if os.path.exists(CHROMIUM):
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        ):
            try:
                subprocess.run(cmd, env=env, check=False, timeout=900, capture_output=True)
            except (OSError, subprocess.TimeoutExpired):
                break
    if os.path.exists(CHROMIUM):
        return None
    return f"{CHROMIUM} is absent and `apt-get install chromium` did not provide it"


@pytest.fixture
async def stand_in_agent():
    """Webhook receiver + agent stand-in; yields (state, url)."""
    state: dict = {"messages": [], "bad_signatures": 0, "sim": None, "tasks": set()}

    async def reply(msg: dict) -> None:
        base = state["sim"]
        headers = {"Authorization": f"Bearer {TOKEN}"}
        to = "+" + msg["from"]
        async with aiohttp.ClientSession() as http:
            await http.post(
                f"{base}/v21.0/{PNID}/messages",
                headers=headers,
                json={
                    "messaging_product": "whatsapp",
                    "status": "read",
                    "message_id": msg["id"],
                    "typing_indicator": {"type": "text"},
                },
            )
            if msg["type"] == "text":
                await http.post(
                    f"{base}/v21.0/{PNID}/messages",
                    headers=headers,
                    json={
                        "messaging_product": "whatsapp",
                        "to": to,
                        "type": "text",
                        "text": {"body": f"¡Hola! Soy el agente. Recibí: *{msg['text']['body']}*"},
                    },
                )
                await http.post(
                    f"{base}/v21.0/{PNID}/messages",
                    headers=headers,
                    json={
                        "messaging_product": "whatsapp",
                        "to": to,
                        "type": "interactive",
                        "interactive": {
                            "type": "button",
                            "body": {"text": "¿Reservamos la habitación doble?"},
                            "action": {
                                "buttons": [
                                    {
                                        "type": "reply",
                                        "reply": {"id": "book_yes", "title": "Sí, reservar"},
                                    },
                                    {
                                        "type": "reply",
                                        "reply": {"id": "book_no", "title": "No, gracias"},
                                    },
                                ]
                            },
                        },
                    },
                )
            elif msg["type"] == "interactive" and msg["interactive"]["type"] == "button_reply":
                await http.post(
                    f"{base}/v21.0/{PNID}/messages",
                    headers=headers,
                    json={
                        "messaging_product": "whatsapp",
                        "to": to,
                        "type": "interactive",
                        "interactive": {
                            "type": "list",
                            "body": {"text": "¿A qué hora llegas?"},
                            "action": {
                                "button": "Ver horas",
                                "sections": [
                                    {
                                        "title": "Tarde",
                                        "rows": [
                                            {
                                                "id": "eta_16",
                                                "title": "16:00",
                                                "description": "check-in",
                                            },
                                            {"id": "eta_18", "title": "18:00"},
                                        ],
                                    }
                                ],
                            },
                        },
                    },
                )
            elif msg["type"] == "interactive":
                title = msg["interactive"]["list_reply"]["title"]
                await http.post(
                    f"{base}/v21.0/{PNID}/messages",
                    headers=headers,
                    json={
                        "messaging_product": "whatsapp",
                        "to": to,
                        "type": "text",
                        "text": {"body": f"Elegiste: {title}"},
                    },
                )
            elif msg["type"] == "audio":
                await http.post(
                    f"{base}/v21.0/{PNID}/messages",
                    headers=headers,
                    json={
                        "messaging_product": "whatsapp",
                        "to": to,
                        "type": "text",
                        "text": {"body": f"Nota de voz recibida ({msg['audio']['mime_type']})"},
                    },
                )

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            state["bad_signatures"] += 1
            return web.Response(status=401)
        body = json.loads(raw)
        for entry in body["entry"]:
            for change in entry["changes"]:
                for msg in change["value"].get("messages", []):
                    state["messages"].append(msg)
                    task = asyncio.ensure_future(
                        reply(msg)
                    )  # answer after the 200, like the gateway
                    state["tasks"].add(task)
                    task.add_done_callback(state["tasks"].discard)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield state, f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whatsapp"
    for task in list(state["tasks"]):
        task.cancel()
    await runner.cleanup()


@pytest.fixture
async def browser_page(stand_in_agent, tmp_path):
    reason = await asyncio.to_thread(ensure_chromium)
    if reason:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    state, url = stand_in_agent
    sim = await start_simulator(
        SimConfig(
            access_token=TOKEN,
            app_secret=SECRET,
            phone_number_id=PNID,
            webhook_url=url,
            status_delay_ms=50,
        )
    )
    state["sim"] = sim.base_url
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
        )
        page = context.pages[0] if context.pages else await context.new_page()
        try:
            yield page, sim, state
        finally:
            await context.close()
            await sim.runner.cleanup()


async def test_chat_page_sends_hola_and_shows_the_agents_reply(browser_page):
    page, sim, state = browser_page
    await page.goto(f"{sim.base_url}/sim/?number={GUEST}&name=Lena%20Fischer")
    await page.fill("#text", "hola")
    await page.press("#text", "Enter")
    reply = page.locator(".msg.out", has_text="Soy el agente")
    await reply.wait_for(timeout=15_000)
    assert "Recibí: hola" in await reply.inner_text()
    assert await reply.locator("b").inner_text() == "hola"  # WhatsApp *bold* rendered
    assert await page.locator(".msg.in", has_text="hola").count() == 1
    assert state["messages"][0]["text"]["body"] == "hola" and state["bad_signatures"] == 0
    # the buttons are clickable and go back as an interactive button_reply webhook
    button = page.locator(".msg.out button", has_text="Sí, reservar")
    await button.wait_for(timeout=15_000)
    await button.click()
    await page.locator(".msg.out button", has_text="Ver horas").wait_for(timeout=15_000)
    tap = next(m for m in state["messages"] if m["type"] == "interactive")
    assert tap["interactive"]["button_reply"] == {"id": "book_yes", "title": "Sí, reservar"}
    interactive_out = next(r for r in sim.sim.outbox if r["type"] == "interactive")
    assert tap["context"]["id"] == interactive_out["wamid"]
    # the list opens and a row goes back as list_reply
    await page.locator(".msg.out button", has_text="Ver horas").click()
    await page.locator(".msg.out .rows.open button", has_text="16:00").click()
    await page.locator(".msg.out", has_text="Elegiste: 16:00").wait_for(timeout=15_000)
    pick = next(
        m
        for m in state["messages"]
        if m["type"] == "interactive" and "list_reply" in m["interactive"]
    )
    assert pick["interactive"]["list_reply"] == {
        "id": "eta_16",
        "title": "16:00",
        "description": "check-in",
    }
    # read receipt shows blue ticks on the guest's message
    await page.locator(".msg.in .ticks", has_text="✓✓").first.wait_for(timeout=15_000)


async def test_chat_page_records_a_voice_note_that_arrives_as_ogg_opus(browser_page):
    page, sim, state = browser_page
    await page.goto(f"{sim.base_url}/sim/?number={GUEST}&name=Lena%20Fischer")
    await page.click("#mic")
    await page.locator("#mic.rec").wait_for(timeout=10_000)
    await asyncio.sleep(1.5)
    await page.click("#mic")
    await page.locator(".msg.out", has_text="Nota de voz recibida").wait_for(timeout=20_000)
    audio = next(m for m in state["messages"] if m["type"] == "audio")["audio"]
    assert audio["voice"] is True
    assert audio["mime_type"] == "audio/ogg; codecs=opus"  # Chrome's WebM repackaged, or native OGG
    data = sim.sim.media[audio["id"]].data
    assert data.startswith(b"OggS") and b"OpusHead" in data[:100]
    # the last page's granule position (48 kHz samples) matches the ~1.5 s recording
    last = data.rfind(b"OggS")
    granule = int.from_bytes(data[last + 6 : last + 14], "little")
    pre_skip = int.from_bytes(
        data[data.find(b"OpusHead") + 10 : data.find(b"OpusHead") + 12], "little"
    )
    assert 0.5 < (granule - pre_skip) / 48000 < 6.0
    assert await page.locator(".msg.in audio").count() == 1
