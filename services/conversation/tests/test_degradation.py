"""Degrade, don't fail: a dependency down gives an honest answer (and a handoff), never silence.

Transient is not a handoff (degradation.py): while the gateway will offer a message again, a
dependency that is down defers the turn (retry_later, one holding reply per outage, nothing
kept); on the final attempt the guest gets the honest answer and a *fault* handoff, which the
agent takes back on the next message once the dependency answers again. Dependencies are made
unavailable for real: their gRPC server is stopped, then started again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
from conv_chat import Guest
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.testing import free_port, trusted_channel


class Flappable:
    """A real gRPC server for one dependency on a fixed port that can be stopped and restarted."""

    def __init__(self, add: Any, servicer: Any):
        self.add, self.servicer = add, servicer
        self.port = free_port()
        self.server: grpc.aio.Server | None = None
        self.channels: list[grpc.aio.Channel] = []

    async def start(self) -> None:
        self.server = grpc.aio.server()
        self.add(self.servicer, self.server)
        assert self.server.add_insecure_port(f"127.0.0.1:{self.port}") == self.port
        await self.server.start()
        for channel in self.channels:  # the client has noticed it is back
            await asyncio.wait_for(channel.channel_ready(), 20)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)
            self.server = None

    def channel(self) -> grpc.aio.Channel:
        # Reconnect at once when the server comes back (no long reconnect backoff in tests).
        channel = trusted_channel(
            f"127.0.0.1:{self.port}",
            options=[
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 200),
            ],
        )
        self.channels.append(channel)
        return channel


@contextlib.asynccontextmanager
async def flappable(add: Any, servicer: Any) -> AsyncIterator[Flappable]:
    dep = Flappable(add, servicer)
    await dep.start()
    try:
        yield dep
    finally:
        await dep.stop()


async def offer(
    g: Guest, message: message_pb2.InboundMessage, attempt: int, final: bool = False
) -> conv_pb2.HandleMessageResponse:
    """What the gateway's worker does: offer one inbound message, saying which attempt it is."""
    g.last = await g.stub.HandleMessage(
        conv_pb2.HandleMessageRequest(message=message, attempt=attempt, final_attempt=final),
        timeout=30,
    )
    return g.last


async def conversation_row(svc: Any, cid: str) -> conv_pb2.Conversation:
    got = await svc.stub.GetConversation(conv_pb2.GetConversationRequest(conversation_id=cid))
    return got.conversation


async def tasks_of(svc: Any, cid: str) -> list[conv_pb2.Task]:
    tasks = await svc.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
    return [t for t in tasks.tasks if t.conversation_id == cid]


async def test_nlp_blip_defers_the_turn_with_one_holding_reply_and_keeps_nothing(
    conversation, mesh
):  # type: ignore[no-untyped-def]
    async with flappable(nlp_grpc.add_NlpServiceServicer_to_server, mesh.nlp) as nlp:
        async with conversation(channels={"nlp": nlp.channel()}) as svc:
            g = Guest(svc.stub)
            await offer(g, g.message("quiero reservar una habitación"), attempt=1)
            assert not g.last.retry_later and "fechas" in g.text()
            sessions = svc.components.engine.sessions
            before = (await sessions.load(g.conversation_id, "1")).to_json()
            history_before = len((await g.history()).messages)

            await nlp.stop()
            dates = g.message("del 12 al 14 de marzo")
            first = await offer(g, dates, attempt=1)
            assert first.retry_later and first.retry_after_ms > 0
            assert first.state == conv_pb2.CONVERSATION_STATE_ACTIVE
            assert len(first.replies) == 1 and "Un momento" in g.text()
            again = await offer(g, dates, attempt=2)
            other = await offer(g, g.message("y con desayuno"), attempt=1)
            assert again.retry_later and other.retry_later
            assert not again.replies and not other.replies  # one holding reply per outage
            assert again.retry_after_ms >= first.retry_after_ms

            # Nothing of the deferred turns was kept: same session, only the holding reply.
            assert (await sessions.load(g.conversation_id, "1")).to_json() == before
            history = (await g.history()).messages
            assert len(history) == history_before + 1
            assert history[-1].intent == "messages.hold_on"
            row = await conversation_row(svc, g.conversation_id)
            assert row.state == conv_pb2.CONVERSATION_STATE_ACTIVE
            assert not await tasks_of(svc, g.conversation_id)

            await nlp.start()
            answered = await offer(g, dates, attempt=3)
            assert not answered.retry_later and not answered.duplicate
            assert answered.state == conv_pb2.CONVERSATION_STATE_ACTIVE
            assert "personas" in g.text().lower()  # the dialogue went on from where it was
            redelivered = await offer(g, dates, attempt=4)
            assert redelivered.duplicate and list(redelivered.replies) == list(answered.replies)
            inbound = [
                m for m in (await g.history()).messages if m.direction == conv_pb2.DIRECTION_INBOUND
            ]
            assert sum(1 for m in inbound if m.provider_message_id == dates.message_id) == 1

            # A new outage later gets its own holding reply.
            await nlp.stop()
            later = await offer(g, g.message("gracias"), attempt=1)
            assert later.retry_later and "Un momento" in g.text()


async def test_final_attempt_hands_off_as_a_fault_and_the_agent_takes_it_back_after_recovery(
    conversation, mesh
):  # type: ignore[no-untyped-def]
    async with flappable(nlp_grpc.add_NlpServiceServicer_to_server, mesh.nlp) as nlp:
        async with conversation(channels={"nlp": nlp.channel()}) as svc:
            g = Guest(svc.stub)
            await nlp.stop()
            first = g.message("quiero reservar una habitación")
            assert (await offer(g, first, attempt=1)).retry_later
            final = await offer(g, first, attempt=5, final=True)
            assert not final.retry_later
            assert final.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
            assert "problema técnico" in g.text()
            row = await conversation_row(svc, g.conversation_id)
            assert row.handoff_reason == "fault:nlp_unavailable"
            (task,) = await tasks_of(svc, g.conversation_id)
            assert (
                task.description.startswith("Fault handoff")
                and "nlp_unavailable" in task.description
            )

            # Still down: later messages wait quietly (the guest was told), or are recorded.
            waiting = g.message("hola, ¿tenéis parking?")
            quiet = await offer(g, waiting, attempt=1)
            assert quiet.retry_later and not quiet.replies
            assert quiet.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF

            await nlp.start()
            back = await offer(g, waiting, attempt=2)  # the pending message is answered
            assert not back.retry_later and back.replies
            assert back.state == conv_pb2.CONVERSATION_STATE_ACTIVE
            row = await conversation_row(svc, g.conversation_id)
            assert row.state == conv_pb2.CONVERSATION_STATE_ACTIVE and not row.handoff_reason
            (task,) = await tasks_of(svc, g.conversation_id)
            assert task.status == conv_pb2.TASK_STATUS_DONE and task.completed_by == "agent"


async def test_a_fault_handoff_staff_answered_stays_with_staff(conversation, mesh):  # type: ignore[no-untyped-def]
    async with flappable(nlp_grpc.add_NlpServiceServicer_to_server, mesh.nlp) as nlp:
        async with conversation(channels={"nlp": nlp.channel()}) as svc:
            g = Guest(svc.stub)
            await nlp.stop()
            await offer(g, g.message("quiero reservar"), attempt=3, final=True)
            assert g.last.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
            await svc.stub.ReplyAsStaff(
                conv_pb2.ReplyAsStaffRequest(
                    conversation_id=g.conversation_id,
                    staff_id="maria",
                    text="Hola, soy María, te ayudo yo.",
                    idempotency_key="fault-staff-1",
                ),
                timeout=15,
            )
            await nlp.start()
            r = await offer(g, g.message("gracias, María"), attempt=1)
            assert r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF and not r.replies
            row = await conversation_row(svc, g.conversation_id)
            # Staff answering takes the conversation (as the console's take-over does).
            assert row.handoff_reason == "staff_takeover"


async def test_pms_blip_defers_instead_of_handing_off_and_never_invents_a_price(conversation, mesh):  # type: ignore[no-untyped-def]
    async with flappable(pms_grpc.add_PmsServiceServicer_to_server, mesh.pms) as pms:
        async with conversation(channels={"pms": pms.channel()}, hotel_cache_seconds=0) as svc:
            g = Guest(svc.stub)
            for text in ("quiero reservar una habitación", "del 12 al 14 de marzo"):
                await offer(g, g.message(text), attempt=1)
            await pms.stop()
            adults = g.message(
                kind=message_pb2.MESSAGE_KIND_INTERACTIVE_REPLY,
                interactive_reply=message_pb2.InteractiveReply(id="adults:2", title="2"),
            )
            held = await offer(g, adults, attempt=1)
            assert held.retry_later and held.state == conv_pb2.CONVERSATION_STATE_ACTIVE
            assert "€" not in g.text() and "Un momento" in g.text()
            assert not await tasks_of(svc, g.conversation_id)
            await pms.start()
            answered = await offer(g, adults, attempt=2)
            assert not answered.retry_later
            assert answered.state == conv_pb2.CONVERSATION_STATE_ACTIVE
            assert "€" in g.text()  # the offers the guest was waiting for


async def test_a_voice_note_waits_for_audio_instead_of_asking_to_write(conversation):  # type: ignore[no-untyped-def]
    async with conversation(down=("audio",)) as svc:
        g = Guest(svc.stub)
        media = message_pb2.Media(
            media_id="m1", mime_type="audio/ogg; codecs=opus", data=b"VOICE:hola", voice=True
        )
        note = g.message(kind=message_pb2.MESSAGE_KIND_AUDIO, media=media)
        deferred = await offer(g, note, attempt=1)
        assert deferred.retry_later and "Un momento" in g.text()
        last = await offer(g, note, attempt=4, final=True)
        assert not last.retry_later and "escribes" in g.text()
        assert last.state == conv_pb2.CONVERSATION_STATE_ACTIVE


async def test_a_guest_asking_for_a_person_is_handed_off_even_on_a_first_attempt(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    r = await offer(g, g.message("quiero hablar con una persona"), attempt=1)
    assert not r.retry_later and r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    row = await conversation_row(service, g.conversation_id)
    assert row.handoff_reason == "guest_request"


async def test_nlp_down_for_a_caller_that_will_not_retry_is_an_honest_fault_handoff(conversation):  # type: ignore[no-untyped-def]
    async with conversation(down=("nlp",), ready_after_dependencies="") as svc:
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


async def test_conversation_is_not_serving_until_nlp_answers(mesh, conv_db, redis_url):  # type: ignore[no-untyped-def]
    """The gateway starts consuming only when conversation is SERVING: not before nlp answers."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
    from posada_common.server import running
    from posada_conversation.main import SERVICE_NAME, add_readiness_checks, build
    from posada_conversation.settings import ConversationSettings

    nlp = Flappable(nlp_grpc.add_NlpServiceServicer_to_server, mesh.nlp)
    settings = ConversationSettings(
        grpc_port=0,
        metrics_port=0,
        postgres_url=conv_db,
        redis_url=redis_url,
        mesh_address=mesh.address,
        postgres_pool_max=2,
    )

    async def register(rt):  # type: ignore[no-untyped-def]
        components = await build(settings, rt.mesh_channel(), nlp=nlp.channel())
        conv_grpc.add_ConversationServiceServicer_to_server(components.servicer, rt.server)
        rt.add_cleanup(components.close)
        add_readiness_checks(rt, components, settings)

    async with running(
        settings, service_names=[SERVICE_NAME], register=register, wait_ready=False
    ) as rt:
        async with trusted_channel(f"127.0.0.1:{rt.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            async def status() -> int:
                reply = await health.Check(
                    health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5
                )
                return int(reply.status)

            await asyncio.sleep(1.5)  # several startup probes have failed by now
            assert await status() == health_pb2.HealthCheckResponse.NOT_SERVING
            try:
                await nlp.start()
                await asyncio.wait_for(rt.ready.wait(), 20)
                assert await status() == health_pb2.HealthCheckResponse.SERVING
            finally:
                await nlp.stop()
