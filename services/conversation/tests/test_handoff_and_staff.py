"""Handoff to staff (asked for, or after repeated misunderstandings), staff replies, release."""

from __future__ import annotations

import datetime as dt

from conv_chat import Guest
from google.protobuf import timestamp_pb2
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2


async def test_request_human_hands_off_and_the_bot_stays_silent_until_released(service, mesh):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    r = await g.say("quiero hablar con una persona")
    assert r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF and len(r.replies) == 1

    listed = await service.stub.ListConversations(
        conv_pb2.ListConversationsRequest(
            hotel_id="1", state=conv_pb2.CONVERSATION_STATE_HANDED_OFF, page_size=200
        )
    )
    mine = [c for c in listed.conversations if c.conversation_id == g.conversation_id]
    assert mine and mine[0].handoff_reason == "guest_request"

    r = await g.say("hola")
    assert r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF and list(r.replies) == []  # silent

    staff = await service.stub.ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="maria",
            text="¡Hola! Soy María, de recepción.",
            idempotency_key="k1",
        )
    )
    again = await service.stub.ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="maria",
            text="¡Hola! Soy María, de recepción.",
            idempotency_key="k1",
        )
    )
    assert staff.message.id == again.message.id and staff.message.author == conv_pb2.AUTHOR_STAFF
    sent = [s for s in mesh.channel.sent.values() if s.conversation_id == g.conversation_id]
    assert len(sent) == 1 and sent[0].recipient_id == g.phone  # sent once through the gateway
    assert sent[0].reply.text.body == "¡Hola! Soy María, de recepción."

    released = await service.stub.ReleaseHandoff(
        conv_pb2.ReleaseHandoffRequest(conversation_id=g.conversation_id, staff_id="maria")
    )
    assert released.conversation.state == conv_pb2.CONVERSATION_STATE_ACTIVE
    r = await g.say("hola")
    assert r.state == conv_pb2.CONVERSATION_STATE_ACTIVE and r.replies

    history = await g.history()
    authors = [m.author for m in history.messages]
    assert conv_pb2.AUTHOR_STAFF in authors
    silent_turn = [m for m in history.messages if m.direction == conv_pb2.DIRECTION_INBOUND]
    assert len(silent_turn) == 3  # the message during the handoff is kept for staff

    tasks = await service.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
    assert any(
        t.conversation_id == g.conversation_id and t.kind == conv_pb2.TASK_KIND_HANDOFF
        for t in tasks.tasks
    )


async def test_three_misunderstandings_in_a_row_hand_off(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    r1 = await g.say("asdf qwerty")
    r2 = await g.say("¿quién ganó el partido?")
    assert r1.state == r2.state == conv_pb2.CONVERSATION_STATE_ACTIVE
    r3 = await g.say("¿cuál es la capital de mongolia?")
    assert r3.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    assert (await g.templates_used())[-1] == "messages.handoff_misunderstood"


async def test_delivery_status_is_recorded_and_only_moves_forward(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    r = await g.say("hola")
    reply_id = r.replies[0].reply_id
    for status in (
        message_pb2.DELIVERY_STATUS_SENT,
        message_pb2.DELIVERY_STATUS_READ,
        message_pb2.DELIVERY_STATUS_DELIVERED,
    ):
        await service.stub.RecordDelivery(
            conv_pb2.RecordDeliveryRequest(
                conversation_id=g.conversation_id,
                reply_id=reply_id,
                provider_message_id="wamid.out1",
                status=status,
            )
        )
    history = await g.history()
    out = next(m for m in history.messages if m.reply_id == reply_id)
    assert (
        out.status == message_pb2.DELIVERY_STATUS_READ and out.provider_message_id == "wamid.out1"
    )


async def test_list_conversations_pages_and_filters_by_since(service):  # type: ignore[no-untyped-def]
    start = timestamp_pb2.Timestamp()
    start.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    guests = [Guest(service.stub, phone=f"3460000{i:04d}") for i in range(5)]
    for g in guests:
        await g.say("hola")
    seen, token = [], ""
    while True:
        page = await service.stub.ListConversations(
            conv_pb2.ListConversationsRequest(since=start, page_size=2, page_token=token)
        )
        assert len(page.conversations) <= 2
        seen += [c.conversation_id for c in page.conversations]
        token = page.next_page_token
        if not token:
            break
    assert {g.conversation_id for g in guests} <= set(seen)
    assert len(seen) == len(set(seen))


async def test_staff_reply_to_an_email_guest_goes_into_the_same_thread(service, mesh):  # type: ignore[no-untyped-def]
    g = Guest(
        service.stub,
        phone="",
        name="Lucía",
        channel=message_pb2.CHANNEL_GMAIL,
        email="lucia@example.com",
    )
    g.guest.id = "lucia@example.com"
    await g.send(
        g.message(
            "quiero hablar con una persona", thread_id="thread-77", subject="Reserva de marzo"
        )
    )
    await service.stub.ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="maria",
            text="Hola Lucía",
            idempotency_key="e1",
        )
    )
    sent = next(s for s in mesh.channel.sent.values() if s.conversation_id == g.conversation_id)
    assert (sent.channel, sent.recipient_id, sent.thread_id, sent.subject) == (
        message_pb2.CHANNEL_GMAIL,
        "lucia@example.com",
        "thread-77",
        "Reserva de marzo",
    )


async def test_tasks_page_and_completing_twice_is_harmless(service):  # type: ignore[no-untyped-def]
    guests = [Guest(service.stub, phone=f"3461111{i:04d}") for i in range(3)]
    for g in guests:
        await g.say("necesito toallas en la habitación")
    seen, token = [], ""
    while True:
        page = await service.stub.ListTasks(
            conv_pb2.ListTasksRequest(hotel_id="1", page_size=2, page_token=token)
        )
        seen += [t.task_id for t in page.tasks]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) and len(seen) >= 3
    mine = [
        t
        for t in (await service.stub.ListTasks(conv_pb2.ListTasksRequest(page_size=200))).tasks
        if t.conversation_id == guests[0].conversation_id
    ]
    first = await service.stub.CompleteTask(
        conv_pb2.CompleteTaskRequest(task_id=mine[0].task_id, staff_id="ana", note="hecho")
    )
    second = await service.stub.CompleteTask(
        conv_pb2.CompleteTaskRequest(task_id=mine[0].task_id, staff_id="luis", note="otra")
    )
    assert second.task.completed_by == "ana" and second.task.completed_at == first.task.completed_at
