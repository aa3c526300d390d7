"""Never lose, never double: duplicates, batches, crashes, conversation outages, dead letters."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from gw_harness import eventually, guest_number
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2


async def test_duplicate_delivery_gets_one_reply(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    first = await sim.inbound(type="text", **{"from": guest}, text="twice", id="wamid.DUP-" + guest)
    second = await sim.inbound(
        type="text", **{"from": guest}, text="twice", id="wamid.DUP-" + guest
    )
    assert first["delivery"]["status"] == second["delivery"]["status"] == 200
    await sim.wait_sent(guest, 1)
    await asyncio.sleep(0.5)  # room for a wrong second reply to show up
    assert len(await sim.sent_messages(guest)) == 1
    assert len(conversation.calls_for("wamid.DUP-" + guest)) == 1
    await gw.stop()


async def test_batch_of_many_messages_each_answered_exactly_once(gateway, sim, conversation):
    gw = await gateway()
    guests = [guest_number() for _ in range(10)]
    specs = [
        {"type": "text", "from": g, "text": f"m{i}-{j}"}
        for j, g in enumerate(guests)
        for i in range(5)
    ]
    res = await sim.inbound(batch=specs)
    assert res["delivery"]["status"] == 200
    assert len(res["wamids"]) == 50

    async def all_answered():
        counts = [len(await sim.sent_messages(g)) for g in guests]
        return sum(counts) >= 50 and counts

    counts = await eventually(all_answered, within=30)
    assert counts == [5] * 10
    for g in guests:  # one guest's messages are handled in order
        bodies = [r["body"]["text"]["body"] for r in await sim.sent_messages(g)]
        assert bodies == sorted(bodies, key=lambda b: int(b.split("m")[1].split("-")[0]))
    assert sorted({c.message_id for c in conversation.calls}) == sorted(res["wamids"])
    await gw.stop()


async def test_crash_after_200_is_claimed_by_another_worker_and_answered_once(
    gateway, sim, conversation
):
    conversation.hold = asyncio.Event()
    gw1 = await gateway(gateway_consumer_name="replica-a")
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="survive")
    assert res["delivery"]["status"] == 200
    await asyncio.wait_for(conversation.entered.wait(), 5)
    await gw1.crash()  # the entry stays pending on replica-a
    conversation.hold.set()
    conversation.hold = None
    gw2 = await gateway(gateway_consumer_name="replica-b")  # claims it after the idle time
    rows = await sim.wait_sent(guest, 1, within=15)
    assert [r["body"]["text"]["body"] for r in rows] == ["echo: survive"]
    await asyncio.sleep(0.5)
    assert len(await sim.sent_messages(guest)) == 1
    await gw2.stop()


async def test_redelivered_entry_after_send_does_not_send_again(
    gateway, sim, conversation, redis_url
):
    """A crash after the reply went out but before the ack: the redelivery must not resend."""
    gw = await gateway()
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="once")
    await sim.wait_sent(guest, 1)
    store = gw.gw.store
    await eventually(lambda: store.is_done(res["wamid"]))
    # Rewind to "sent but never acknowledged": forget done, put the entry back on the stream.
    await store.redis.delete(f"gw:done:{res['wamid']}")
    payload = conversation.calls_for(res["wamid"])[0].SerializeToString()
    await store.redis.xadd(store.streams.inbox, {"m": payload, "rx": "0"})
    await eventually(lambda: len(conversation.calls_for(res["wamid"])) == 2)
    await eventually(lambda: store.is_done(res["wamid"]))
    assert len(await sim.sent_messages(guest)) == 1
    await gw.stop()


async def test_conversation_down_retries_then_dead_letters_and_replay_answers(
    gateway, sim, conversation
):
    conversation.down = True
    gw = await gateway()
    stub = gw.channel()
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="are you there?")
    assert res["delivery"]["status"] == 200

    async def dead():
        page = await stub.ListDeadLetters(pb.ListDeadLettersRequest(page_size=10))
        return [d for d in page.dead_letters if d.message.message_id == res["wamid"]]

    (dl,) = await eventually(dead)
    assert dl.attempts == 3 and "UNAVAILABLE" in dl.reason
    assert len(conversation.calls_for(res["wamid"])) == 3
    # The guest is told honestly (language unknown: es, en and pt) and staff get a task.
    (notice,) = await sim.wait_sent(guest, 1)
    assert notice["body"]["text"]["body"].startswith("Lo siento")
    assert "Sorry" in notice["body"]["text"]["body"]
    task = conversation.tasks[f"dead-letter:{res['wamid']}"]
    assert task.kind == conv_pb2.TASK_KIND_UNANSWERED_MESSAGE
    assert task.message.message_id == res["wamid"] and "are you there" not in task.description
    got = await stub.GetDeadLetter(pb.GetDeadLetterRequest(id=dl.id))
    assert got.dead_letter.message.text == "are you there?"

    conversation.down = False
    replay = await stub.ReplayDeadLetter(pb.ReplayDeadLetterRequest(id=dl.id))
    assert replay.stream_id
    rows = await sim.wait_sent(guest, 2)
    assert [r["body"]["text"]["body"] for r in rows][1:] == ["echo: are you there?"]
    assert await dead() == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ReplayDeadLetter(pb.ReplayDeadLetterRequest(id=dl.id))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    await gw.stop()


async def test_dead_letters_page_drop_and_validate(gateway, sim, conversation):
    conversation.down = True
    gw = await gateway(gateway_max_attempts=1)
    stub = gw.channel()
    guest = guest_number()
    ids = [
        (await sim.inbound(type="text", **{"from": guest}, text=f"n{i}"))["wamid"] for i in range(3)
    ]

    async def listed():
        page = await stub.ListDeadLetters(pb.ListDeadLettersRequest(page_size=500))
        return len([d for d in page.dead_letters if d.message.message_id in ids]) == 3 and page

    await eventually(listed)
    first = await stub.ListDeadLetters(pb.ListDeadLettersRequest(page_size=2))
    assert len(first.dead_letters) == 2 and first.next_page_token == first.dead_letters[-1].id
    rest = await stub.ListDeadLetters(
        pb.ListDeadLettersRequest(page_size=2, page_token=first.next_page_token)
    )
    assert len(rest.dead_letters) == 1 and rest.next_page_token == ""
    victim = rest.dead_letters[0].id
    await stub.DropDeadLetter(pb.DropDeadLetterRequest(id=victim))
    for call in (
        stub.GetDeadLetter(pb.GetDeadLetterRequest(id=victim)),
        stub.DropDeadLetter(pb.DropDeadLetterRequest(id=victim)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    for bad in (
        stub.GetDeadLetter(pb.GetDeadLetterRequest(id="nope")),
        stub.ListDeadLetters(pb.ListDeadLettersRequest(page_size=-1)),
        stub.ListDeadLetters(pb.ListDeadLettersRequest(page_token="x")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await bad
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await gw.stop()


@pytest.mark.slow
async def test_gateway_process_killed_after_200_and_restarted_answers_exactly_once(
    gateway_process, sim, conversation
):
    conversation.hold = asyncio.Event()
    proc = await gateway_process()
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="kill -9")
    assert res["delivery"]["status"] == 200
    await asyncio.wait_for(conversation.entered.wait(), 10)
    proc.kill()  # SIGKILL while conversation holds the call: nothing acknowledged
    conversation.hold.set()
    conversation.hold = None
    await asyncio.sleep(0.3)
    assert await sim.sent_messages(guest) == []
    await gateway_process()  # same consumer name: resumes its pending entry at once
    rows = await sim.wait_sent(guest, 1, within=20)
    assert [r["body"]["text"]["body"] for r in rows] == ["echo: kill -9"]
    await asyncio.sleep(0.5)
    assert len(await sim.sent_messages(guest)) == 1


async def test_two_replicas_on_one_stream_answer_each_message_once(gateway, sim, conversation):
    a = await gateway(gateway_consumer_name="replica-1", gateway_claim_idle_seconds=0.6)
    b = await gateway(gateway_consumer_name="replica-2", gateway_claim_idle_seconds=0.6)
    guests = [guest_number() for _ in range(20)]
    res = await sim.inbound(
        batch=[{"type": "text", "from": g, "text": f"hi {i}"} for i, g in enumerate(guests)]
    )
    assert res["delivery"]["status"] == 200

    async def answered():
        counts = [len(await sim.sent_messages(g)) for g in guests]
        return sum(counts) >= 20 and counts

    assert await eventually(answered, within=20) == [1] * 20
    await asyncio.sleep(1.5)  # several claim rounds: nothing is taken over and sent twice
    assert [len(await sim.sent_messages(g)) for g in guests] == [1] * 20
    await a.stop()
    await b.stop()


async def test_send_accepted_but_answer_lost_is_not_sent_twice(gateway, sim, conversation, http):
    """A proxy in front of the simulator forwards the first send but never answers it: the
    gateway times out, then finds the `sent` status echo of its callback data and does not resend."""
    from aiohttp import web

    swallowed: list[str] = []

    async def proxy(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type")
        }
        async with http.request(
            request.method, sim.base_url + request.path_qs, data=body, headers=headers
        ) as up:
            payload, status, ctype = await up.read(), up.status, up.headers.get("Content-Type")
        sent = json.loads(body) if request.path.endswith("/messages") and body else {}
        if sent.get("type") == "text" and "status" not in sent and not swallowed:
            swallowed.append(payload.decode())
            await asyncio.sleep(5)  # the answer never comes back in time
        return web.Response(
            body=payload, status=status, content_type=(ctype or "application/json").split(";")[0]
        )

    app = web.Application(client_max_size=32 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        gw = await gateway(
            whatsapp_api_base=f"http://127.0.0.1:{port}",
            whatsapp_http_timeout_seconds=1,
            whatsapp_ambiguous_wait_seconds=1,
        )
        guest = guest_number()
        await sim.inbound(type="text", **{"from": guest}, text="only once please")
        rows = await sim.wait_sent(guest, 1)
        assert swallowed, "the proxy did not swallow the first answer"
        store = gw.gw.store
        res_wamid = rows[0]["body"]["biz_opaque_callback_data"].split("|")[0]
        await eventually(lambda: store.is_done(res_wamid), within=15)
        await asyncio.sleep(0.5)
        assert len(await sim.sent_messages(guest)) == 1
        assert (await store.sent_replies(res_wamid)) == {f"{res_wamid}:0": rows[0]["wamid"]}
        await gw.stop()
    finally:
        await runner.cleanup()
