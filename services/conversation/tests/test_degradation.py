"""Degrade, don't fail: a dependency down gives an honest answer (and a handoff), never silence."""

from __future__ import annotations

from conv_chat import Guest
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2


async def test_nlp_down_is_an_honest_answer_and_a_handoff(conversation):  # type: ignore[no-untyped-def]
    async with conversation(down=("nlp",)) as svc:
        g = Guest(svc.stub)
        r = await g.say("quiero reservar una habitación")
        assert r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
        assert len(r.replies) == 1 and "problema técnico" in g.text()
        tasks = await svc.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
        assert any(
            t.conversation_id == g.conversation_id and "nlp_unavailable" in t.description
            for t in tasks.tasks
        )


async def test_pms_down_never_invents_a_price_and_hands_off(conversation):  # type: ignore[no-untyped-def]
    async with conversation(down=("pms",)) as svc:
        g = Guest(svc.stub)
        await g.say("quiero reservar una habitación")
        await g.say("del 12 al 14 de marzo")
        r = await g.tap("adults:2")
        assert r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
        assert "sistema de reservas" in g.text() and "€" not in g.text()
        assert [x.WhichOneof("content") for x in r.replies] == ["text"]


async def test_audio_down_asks_the_guest_to_write(conversation):  # type: ignore[no-untyped-def]
    async with conversation(down=("audio",)) as svc:
        g = Guest(svc.stub)
        r = await g.speak("quiero reservar una habitación")
        assert r.state == conv_pb2.CONVERSATION_STATE_ACTIVE
        assert "escribes" in g.text()
        r = await g.say("quiero reservar una habitación")  # and text keeps working
        assert "fechas" in g.text()


async def test_voice_reply_falls_back_to_text_when_synthesis_is_down(conversation):  # type: ignore[no-untyped-def]
    async with conversation(down=("audio",), voice_replies="always") as svc:
        g = Guest(svc.stub)
        r = await g.say("hola")
        kinds = [x.WhichOneof("content") for x in r.replies]
        assert "audio" not in kinds and "text" in kinds


async def test_staff_reply_with_the_gateway_down_is_unavailable_and_safe_to_retry(
    conversation, service, mesh
):  # type: ignore[no-untyped-def]
    import grpc
    import pytest

    g = Guest(service.stub)
    await g.say("quiero hablar con una persona")
    request = conv_pb2.ReplyAsStaffRequest(
        conversation_id=g.conversation_id,
        staff_id="maria",
        text="Ahora te ayudo.",
        idempotency_key="retry-1",
    )
    async with conversation(down=("channel",)) as broken:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await broken.stub.ReplyAsStaff(request, timeout=15)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    ok = await service.stub.ReplyAsStaff(request, timeout=15)  # same key, gateway back
    assert ok.message.provider_message_id.startswith("wamid.")
    history = await g.history()
    assert sum(1 for m in history.messages if m.reply_id == "staff:retry-1") == 1
    assert sum(1 for s in mesh.channel.sent.values() if s.conversation_id == g.conversation_id) == 1


async def test_redis_down_is_unavailable_so_the_gateway_retries(conversation):  # type: ignore[no-untyped-def]
    import grpc
    import pytest
    from posada_common.testing import closed_port

    with closed_port() as port:  # refuses connections; nobody can start a Redis there meanwhile
        async with conversation(redis_url=f"redis://127.0.0.1:{port}/0") as svc:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await Guest(svc.stub).say("hola")
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_lost_pms_answer_at_confirmation_never_books_twice(service, mesh):  # type: ignore[no-untyped-def]
    """QloApps creates the booking but the answer is lost: one order, and an honest reply."""
    import pytest

    if mesh.sim is None:
        pytest.skip("needs the real pms over the QloApps stand-in")
    g = Guest(service.stub, phone="34677000999")
    for text in ("quiero reservar una habitación", "del 16 al 18 de febrero"):
        await g.say(text)
    await g.tap("adults:3")
    await g.say("la más barata")
    await g.say("juan pérez")
    await g.say("juan@example.com")
    before = mesh.sim.count_orders()
    await mesh.sim.set_faults(
        drop_connection=True,
        after_commit=True,
        methods=["POST"],
        path_prefix="/api/bookings",
        count=1,
    )
    try:
        confirm = g.message("sí")
        first = await g.send(confirm)
    finally:
        await mesh.sim.clear_faults()
    assert mesh.sim.count_orders() == before + 1
    if first.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF:
        assert "no responde" in g.text()  # honest: not confirmed, a person checks
        tasks = await service.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
        task = next(t for t in tasks.tasks if t.conversation_id == g.conversation_id)
        assert "conv-" in task.description  # the idempotency key, for staff to find the order
    else:
        assert "*" in g.text()  # pms recovered the booking by its key: the reference is given
    again = await g.send(confirm)  # the gateway's redelivery
    assert again.duplicate and mesh.sim.count_orders() == before + 1
