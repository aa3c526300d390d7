"""The console over HTTP, like a browser: login, scoping, CSRF, throttling and every action."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

from console_harness import PASSWORD
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common import auth
from posada_common.clients import dial
from posada_console.live import conversation_key
from posada_console.present import path_id


async def _history(stack, cid: str) -> conv_pb2.GetConversationResponse:  # type: ignore[no-untyped-def]
    """The conversation as conversation stores it (read as a manager of its hotel)."""
    channel = dial(stack.conversation_address, identity="console", trace=False)
    try:
        stub = conv_grpc.ConversationServiceStub(channel)
        token = auth.mint_staff_token("auditor", "Auditor", "1", "manager")
        return await stub.GetConversation(
            conv_pb2.GetConversationRequest(conversation_id=cid),
            metadata=auth.staff_metadata(token),
        )
    finally:
        await channel.close()


async def test_pages_need_a_login_and_the_session_cookie_is_httponly_and_samesite(stack, browser):  # type: ignore[no-untyped-def]
    b = browser()
    status, page = await b.get("/inbox")
    assert status == 200 and 'name="password"' in page  # redirected to the login page
    login = await stack.staff()
    async with b.http.post(
        stack.url + "/login",
        data={"username": login, "password": PASSWORD, "csrf_token": "x"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403  # no login CSRF cookie/field pair: refused
    _, page = await b.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    async with b.http.post(
        stack.url + "/login",
        data={"username": login, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303
        cookie = resp.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("posada_console="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain HTTP on loopback
    assert "Path=/console" in session_cookie


async def test_session_cookie_is_secure_when_the_request_came_over_tls(stack, browser):  # type: ignore[no-untyped-def]
    b = browser()
    login = await stack.staff()
    _, page = await b.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    async with b.http.post(
        stack.url + "/login",
        data={"username": login, "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    ) as resp:
        cookie = next(c for c in resp.headers.getall("Set-Cookie") if "posada_console=" in c)
    assert "Secure" in cookie


async def test_inbox_shows_only_the_staff_members_hotel_handed_off_first(stack, browser):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    calm = await stack.seed(name=f"Calma {tag}", handed_off=False, text="hola")
    urgent = await stack.seed(name=f"Urgente {tag}")
    other = await stack.seed(hotel_id="2", name=f"Otro Hotel {tag}")
    b = browser()
    await b.login(await stack.staff())
    status, page = await b.get(f"/inbox?q={tag}")
    assert status == 200
    assert urgent in page and calm in page and other not in page
    assert page.index(urgent) < page.index(calm)  # handed-off first
    assert "request_human" in page  # last intent
    _, filtered = await b.get(f"/inbox?q={tag}&state=handed_off")
    assert urgent in filtered and calm not in filtered


async def test_search_finds_by_phone_email_and_name(stack, browser):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    cid = await stack.seed(name=f"Nora {tag}", email=f"nora.{tag}@example.org")
    phone = cid.rsplit(":", 1)[1]
    b = browser()
    await b.login(await stack.staff())
    for query in (f"nora {tag}", f"nora.{tag}@example", phone[-6:]):
        _, page = await b.get(f"/inbox?q={query}")
        assert cid in page, query
    _, page = await b.get(f"/inbox?q=nobody-{tag}")
    assert cid not in page


async def test_staff_of_another_hotel_cannot_open_or_act_on_a_conversation_by_url(stack, browser):  # type: ignore[no-untyped-def]
    cid = await stack.seed(hotel_id="1")
    b = browser()
    await b.login(await stack.staff(hotel_id="2", role="manager"))
    await b.get("/inbox")  # gets a CSRF token for this session
    status, page = await b.get(f"/c/{path_id(cid)}")
    assert status == 404 and "Lucía" not in page
    for action in ("take", "release", "reply", "note"):
        status, _, _ = await b.post(f"/c/{path_id(cid)}/{action}", {"text": "hola"})
        assert status == 404, action
    status, _ = await b.get(f"/c/{path_id(cid)}/part/history")
    assert status == 404
    detail = await _history(stack, cid)
    assert list(detail.events) == [] and detail.conversation.assigned_to.staff_id == ""


async def test_posts_without_the_csrf_token_change_nothing(stack, browser):  # type: ignore[no-untyped-def]
    cid = await stack.seed()
    b = browser()
    await b.login(await stack.staff())
    await b.get("/inbox")
    status, _, _ = await b.post(f"/c/{path_id(cid)}/take", csrf=False)
    assert status == 403
    status, _, _ = await b.post(f"/c/{path_id(cid)}/note", {"text": "x", "csrf_token": "forged"})
    assert status == 403
    detail = await _history(stack, cid)
    assert list(detail.events) == []


async def test_login_is_throttled_after_repeated_failures_even_with_the_right_password(
    stack, browser
):  # type: ignore[no-untyped-def]
    from prometheus_client import REGISTRY

    def throttled() -> float:
        labels = {"method": "password", "outcome": "throttled"}
        return REGISTRY.get_sample_value("posada_console_logins_total", labels) or 0.0

    before = throttled()
    login = await stack.staff()
    b = browser()
    for _ in range(3):  # login_max_attempts=3 in the harness
        _, page, url = await b.login(login, "wrong password!")
        assert "e=failed" in url
    _, page, url = await b.login(login, PASSWORD)
    assert "Demasiados intentos" in page
    assert throttled() == before + 1  # counted for the alerting on /metrics
    assert "e=throttled" in url and "posada_console" not in {c.key for c in b.http.cookie_jar}
    await stack.console.console.throttle.redis.delete(
        f"console:login:name:{login}", "console:login:addr:127.0.0.1"
    )
    _, _, url = await b.login(login, PASSWORD)
    assert url.endswith("/inbox")


async def test_take_over_reply_note_and_release_are_recorded_with_the_staff_identity(
    stack, browser
):  # type: ignore[no-untyped-def]
    cid = await stack.seed(name="Pablo Ruiz")
    login = await stack.staff(name="María Pérez")
    b = browser()
    await b.login(login)
    _, page = await b.get(f"/c/{path_id(cid)}")
    assert "Pablo Ruiz" in page and "quiero hablar con una persona" in page

    status, page, _ = await b.post(f"/c/{path_id(cid)}/take")
    assert status == 200 and "María Pérez" in page
    status, page, _ = await b.post(
        f"/c/{path_id(cid)}/reply", {"text": "Hola Pablo, soy María", "key": "k1"}
    )
    assert status == 200 and "Hola Pablo, soy María" in page
    await b.post(f"/c/{path_id(cid)}/reply", {"text": "Hola Pablo, soy María", "key": "k1"})
    status, page, _ = await b.post(
        f"/c/{path_id(cid)}/note", {"text": "Quiere factura", "key": "n1"}
    )
    assert "Quiere factura" in page
    status, page, _ = await b.post(f"/c/{path_id(cid)}/release")
    assert status == 200

    detail = await _history(stack, cid)
    assert detail.conversation.state == conv_pb2.CONVERSATION_STATE_ACTIVE
    staff_messages = [m for m in detail.messages if m.author == conv_pb2.AUTHOR_STAFF]
    assert len(staff_messages) == 1  # the same form key never sends twice
    assert staff_messages[0].staff.staff_id == login
    assert staff_messages[0].staff.display_name == "María Pérez"
    kinds = [(e.kind, e.staff.staff_id) for e in detail.events]
    assert kinds == [
        (conv_pb2.STAFF_EVENT_KIND_TAKE_OVER, login),
        (conv_pb2.STAFF_EVENT_KIND_NOTE, login),
        (conv_pb2.STAFF_EVENT_KIND_RELEASE, login),
    ]
    # The reply went out on the guest's channel, once, through the real gateway.
    phone = cid.rsplit(":", 1)[1]
    deadline = time.monotonic() + 10
    sent: list = []
    while time.monotonic() < deadline and not sent:
        sent = stack.sim.sim.outbox_query(to=phone, endpoint="messages", mtype="text")
        if not sent:
            await asyncio.sleep(0.1)
    assert [r["body"]["text"]["body"] for r in sent] == ["Hola Pablo, soy María"]
    _, page = await b.get(f"/c/{path_id(cid)}")
    assert "Hola Pablo, soy María" in page


async def test_an_agent_cannot_take_a_colleagues_conversation_but_a_manager_can(stack, browser):  # type: ignore[no-untyped-def]
    cid = await stack.seed()
    first, second = browser(), browser()
    await first.login(await stack.staff(name="Ana"))
    await first.get("/inbox")
    await first.post(f"/c/{path_id(cid)}/take")
    await second.login(await stack.staff(name="Beto"))
    _, page = await second.get(f"/c/{path_id(cid)}")
    assert 'id="take-over"' not in page  # not offered...
    _, page, url = await second.post(f"/c/{path_id(cid)}/take")
    assert "e=held_by_other" in url  # ...and refused on the server
    _, _, url = await second.post(f"/c/{path_id(cid)}/reply", {"text": "hola", "key": "x"})
    assert "e=held_by_other" in url
    boss = browser()
    await boss.login(await stack.staff(role="manager", name="Carmen"))
    await boss.get("/inbox")
    await boss.post(f"/c/{path_id(cid)}/take")
    detail = await _history(stack, cid)
    assert detail.conversation.assigned_to.display_name == "Carmen"


async def test_tasks_done_and_undo_show_who_did_it(stack, browser):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    cid = await stack.seed(task=f"Salida tardía hab. {tag}")
    b = browser()
    await b.login(await stack.staff(name="Elena"))
    _, page = await b.get("/tasks")
    assert f"Salida tardía hab. {tag}" in page
    tasks = [t for t in (await _tasks(stack)) if t.conversation_id == cid]
    tid = tasks[0].task_id
    status, page, _ = await b.post(f"/tasks/{tid}/done")
    assert status == 200
    _, page = await b.get("/tasks?status=done")
    assert "Elena" in page and tag in page
    await b.post(f"/tasks/{tid}/undo")
    _, page = await b.get("/tasks?status=open")
    assert tag in page
    other = browser()
    await other.login(await stack.staff(hotel_id="2", role="manager"))
    await other.get("/tasks")
    _, _, url = await other.post(f"/tasks/{tid}/done")
    assert "e=not_found" in url
    detail = await _history(stack, cid)
    assert [e.kind for e in detail.events] == [
        conv_pb2.STAFF_EVENT_KIND_TASK_DONE,
        conv_pb2.STAFF_EVENT_KIND_TASK_REOPENED,
    ]


async def _tasks(stack) -> list:  # type: ignore[no-untyped-def]
    channel = dial(stack.conversation_address, identity="console", trace=False)
    try:
        stub = conv_grpc.ConversationServiceStub(channel)
        token = auth.mint_staff_token("auditor", "Auditor", "1", "manager")
        listed = await stub.ListTasks(
            conv_pb2.ListTasksRequest(hotel_id="1", page_size=200),
            metadata=auth.staff_metadata(token),
        )
        return list(listed.tasks)
    finally:
        await channel.close()


async def test_live_events_announce_a_guest_message_in_the_staff_hotel(stack, browser):  # type: ignore[no-untyped-def]
    b = browser()
    await b.login(await stack.staff())
    events: list[str] = []
    wanted: set[str] = set()
    arrived = asyncio.Event()
    async with b.http.get(stack.url + "/events") as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")

        async def read() -> None:
            async for line in resp.content:
                text = line.decode().strip()
                if text.startswith("event:"):
                    events.append(text.split(":", 1)[1].strip())
                    if wanted & set(events):
                        arrived.set()

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.6)  # the feed takes its baseline first
        other = await stack.seed(hotel_id="2", name="Otro")
        cid = await stack.seed(name="Nueva Huésped")
        wanted.add(conversation_key(cid))
        if wanted & set(events):
            arrived.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), timeout=10)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    assert "inbox" in events and conversation_key(cid) in events
    assert conversation_key(other) not in events  # another hotel's changes are not announced


async def test_language_follows_the_browser_and_the_switch(stack, browser):  # type: ignore[no-untyped-def]
    b = browser()
    _, page = await b.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Staff login" in page and 'lang="en"' in page
    _, page = await b.get("/login?lang=es", headers={"Accept-Language": "en"})
    assert "Acceso del personal" in page
    _, page = await b.get("/login", headers={"Accept-Language": "en"})
    assert "Acceso del personal" in page  # the switch is remembered


async def test_a_change_between_page_render_and_stream_connect_is_not_lost(stack, browser):  # type: ignore[no-untyped-def]
    b = browser()
    await b.login(await stack.staff(hotel_id="7"))  # a hotel nobody else watches: no feed yet
    rendered = int(time.time() * 1000)
    cid = await stack.seed(hotel_id="7", name="Entre Medias")
    events: list[str] = []
    async with (
        asyncio.timeout(15),
        b.http.get(f"{stack.url}/events?since={rendered}") as resp,
    ):
        async for line in resp.content:
            text = line.decode().strip()
            if text.startswith("event:"):
                events.append(text.split(":", 1)[1].strip())
            if conversation_key(cid) in events:
                break
    assert "inbox" in events and conversation_key(cid) in events


async def test_booking_reference_search_and_the_booking_in_the_history(stack, browser):  # type: ignore[no-untyped-def]
    reference = "HB" + uuid.uuid4().hex[:6].upper()
    cid = await stack.seed(name="Reserva Hecha", booking=reference)
    b = browser()
    await b.login(await stack.staff())
    _, page = await b.get(f"/inbox?q={reference.lower()}")
    assert cid in page
    _, page = await b.get(f"/c/{path_id(cid)}")
    for shown in (reference, "2026-12-18", "2026-12-20", "Doble superior", "240,00 EUR"):
        assert shown in page, shown


async def test_voice_notes_have_a_player_served_only_to_the_hotels_staff(stack, browser):  # type: ignore[no-untyped-def]
    audio = b"OggS" + bytes(range(64))
    cid = await stack.seed(name="Voz", text="hola, llego tarde", voice=audio)
    b = browser()
    await b.login(await stack.staff())
    _, page = await b.get(f"/c/{path_id(cid)}")
    import re

    found = re.search(r'<audio controls preload="none" src="([^"]+)"', page)
    assert found, page
    assert "hola, llego tarde" in page  # the transcript beside the player
    async with b.http.get(stack.url.rsplit("/console", 1)[0] + found.group(1)) as resp:
        assert resp.status == 200 and resp.content_type == "audio/ogg"
        assert await resp.read() == audio
    other = browser()
    await other.login(await stack.staff(hotel_id="2", role="manager"))
    async with other.http.get(stack.url.rsplit("/console", 1)[0] + found.group(1)) as resp:
        assert resp.status == 404
