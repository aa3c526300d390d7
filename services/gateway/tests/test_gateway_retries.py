"""Transient is not a handoff, and nobody waits behind someone else's retry.

Conversation (a stand-in on grpc.aio) can answer `retry_later` with a holding reply, or fail
UNAVAILABLE; the gateway keeps the message pending, offers it again outside the workers with a
numbered attempt, marks the last offer `final_attempt`, and keeps every other guest moving.
"""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from gw_harness import eventually, guest_number
from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

CONVERSATION = "hotel.conversation.v1.ConversationService"


def _bodies(rows: list[dict]) -> list[str]:
    return [r["body"]["text"]["body"] for r in rows]


async def test_retry_later_sends_one_holding_reply_and_answers_on_a_later_offer(
    gateway, sim, conversation
):
    def respond(req: conv_pb2.HandleMessageRequest) -> conv_pb2.HandleMessageResponse:
        msg = req.message
        if req.attempt < 3 and not req.final_attempt:
            return conv_pb2.HandleMessageResponse(
                conversation_id=msg.conversation_id,
                replies=[
                    m.Reply(reply_id=f"{msg.message_id}:hold", text=m.TextReply(body="un momento"))
                ],
                retry_later=True,
                retry_after_ms=20,
            )
        return conv_pb2.HandleMessageResponse(
            conversation_id=msg.conversation_id,
            replies=[m.Reply(reply_id=f"{msg.message_id}:0", text=m.TextReply(body="listo"))],
        )

    conversation.respond = respond
    gw = await gateway(gateway_max_attempts=5)
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="¿hay habitación?")
    await eventually(lambda: gw.gw.store.is_done(res["wamid"]), within=15)
    rows = await sim.wait_sent(guest, 2)
    # The holding reply went out once although conversation sent it on two offers.
    assert _bodies(rows) == ["un momento", "listo"]
    offers = [(r.attempt, r.final_attempt) for r in conversation.requests]
    assert offers == [(1, False), (2, False), (3, False)]
    await gw.stop()


async def test_unavailable_conversation_is_offered_again_and_the_last_offer_is_final(
    gateway, sim, conversation
):
    gw = await gateway(gateway_max_attempts=3)
    guest = guest_number()
    conversation.down = True
    res = await sim.inbound(type="text", **{"from": guest}, text="hola")

    async def offered_three_times() -> bool:
        return len(conversation.calls_for(res["wamid"])) >= 3

    await eventually(offered_three_times, within=15)
    offers = [
        (r.attempt, r.final_attempt)
        for r in conversation.requests
        if r.message.message_id == res["wamid"]
    ]
    assert offers == [(1, False), (2, False), (3, True)]
    await gw.stop()


async def test_retry_budget_makes_the_offer_at_the_budget_final(gateway, sim, conversation):
    """With a tiny budget, the offer that reaches it carries final_attempt even though
    max_attempts would allow more; after it the message is dead-lettered."""
    gw = await gateway(
        gateway_max_attempts=50, gateway_retry_budget_seconds=0.3, gateway_retry_base_seconds=0.1
    )
    guest = guest_number()
    conversation.down = True
    res = await sim.inbound(type="text", **{"from": guest}, text="hola")

    async def finished() -> bool:
        return any(r.final_attempt for r in conversation.requests)

    await eventually(finished, within=15)
    offers = [r for r in conversation.requests if r.message.message_id == res["wamid"]]
    assert offers[-1].final_attempt and all(not r.final_attempt for r in offers[:-1])
    assert 2 <= len(offers) < 50
    await gw.stop()


async def test_worker_consumes_only_once_conversation_is_serving(gateway, sim, conversation):
    await conversation.health.set(CONVERSATION, health_pb2.HealthCheckResponse.NOT_SERVING)
    gw = await gateway()
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="early")
    assert res["delivery"]["status"] == 200  # accepted and stored
    # Observable: the entry sits in the stream, nobody took it.
    await eventually(lambda: gw.gw.store.redis.xlen(gw.gw.store.streams.inbox), within=5)
    pending = await gw.gw.store.redis.xpending(gw.gw.store.streams.inbox, gw.gw.store.streams.group)
    assert pending["pending"] == 0 and conversation.calls_for(res["wamid"]) == []
    await conversation.health.set(CONVERSATION, health_pb2.HealthCheckResponse.SERVING)
    rows = await sim.wait_sent(guest, 1)
    assert _bodies(rows) == ["echo: early"]
    await gw.stop()


async def test_poisoned_messages_never_delay_other_guests_and_keep_their_guests_order(
    gateway, sim, conversation
):
    """8 messages that keep failing + 40 healthy guests: every healthy guest is answered while
    the 8 wait for their retry outside the workers; a later message of a poisoned guest waits
    behind the first; after recovery everything is answered in order."""
    gw = await gateway(
        gateway_worker_concurrency=4,
        gateway_retry_base_seconds=60,
        gateway_retry_max_seconds=60,
        gateway_max_attempts=5,
    )
    poisoned_guests = [guest_number() for _ in range(8)]
    healthy_guests = [guest_number() for _ in range(40)]
    poisoned = []
    for g in poisoned_guests:
        wamid = f"wamid.POISON-{g}"
        conversation.unavailable_for.add(wamid)
        res = await sim.inbound(type="text", **{"from": g}, text="first", id=wamid)
        poisoned.append(res["wamid"])
    # Each poisoned guest writes again: that message must wait behind the first one.
    followups = [
        (await sim.inbound(type="text", **{"from": g}, text="second"))["wamid"]
        for g in poisoned_guests
    ]
    res = await sim.inbound(
        batch=[{"type": "text", "from": g, "text": "hello"} for g in healthy_guests]
    )
    assert res["delivery"]["status"] == 200

    async def healthy_answered() -> bool:
        counts = [len(await sim.sent_messages(g)) for g in healthy_guests]
        return all(c == 1 for c in counts)

    await eventually(healthy_answered, within=60)
    worker = gw.gw.worker
    # Everyone healthy answered while each poisoned message has been offered only once and
    # waits outside the workers; the poisoned guests' later messages were not handled yet.
    assert all(len(conversation.calls_for(w)) == 1 for w in poisoned)
    assert worker.parked == 8
    assert all(conversation.calls_for(w) == [] for w in followups)
    for g in poisoned_guests:
        assert await sim.sent_messages(g) == []

    conversation.unavailable_for.clear()
    assert worker.retry_parked_now() == 8

    async def poisoned_answered() -> bool:
        counts = [len(await sim.sent_messages(g)) for g in poisoned_guests]
        return all(c == 2 for c in counts)

    await eventually(poisoned_answered, within=30)
    for g in poisoned_guests:
        assert _bodies(await sim.sent_messages(g)) == ["echo: first", "echo: second"]
    await gw.stop()
