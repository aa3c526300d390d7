"""Idempotent redelivery, ordering under concurrency, migrations, bad input."""

from __future__ import annotations

import asyncio

import asyncpg
import grpc
import pytest
from conv_chat import Guest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from posada_conversation.migrate import load_migrations, migrate


async def test_redelivered_message_returns_the_first_replies_and_never_books_twice(service, mesh):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34655000111")
    for text in ("quiero reservar una habitación", "del 9 al 11 de febrero"):
        await g.say(text)
    await g.tap("adults:2")
    await g.say("la doble")
    await g.say("juan pérez")
    await g.say("juan@example.com")
    confirm = g.message("sí")
    before = getattr(mesh.pms, "create_calls", None)
    first = await g.send(confirm)
    second = await g.send(confirm)
    assert not first.duplicate and second.duplicate
    assert list(first.replies) == list(second.replies)
    assert len(await service.components.repo.bookings_of(g.conversation_id)) == 1
    if before is not None:
        assert mesh.pms.create_calls == before + 1

    # Redis forgot (e.g. flushed): the Postgres history still answers the redelivery.
    await service.components.engine.sessions.redis.delete(
        f"conv:handled:{g.conversation_id}:{confirm.message_id}"
    )
    third = await g.send(confirm)
    assert third.duplicate and list(third.replies) == list(first.replies)
    history = await g.history()
    assert sum(1 for m in history.messages if m.provider_message_id == confirm.message_id) == 1


async def test_concurrent_messages_of_one_guest_are_handled_one_at_a_time(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    texts = [
        "hola",
        "¿dónde están?",
        "¿tienen piscina?",
        "gracias",
        "¿a qué hora es el check-in?",
        "hola",
    ]
    messages = [g.message(t) for t in texts]
    responses = await asyncio.gather(*(g.send(m) for m in messages))
    assert all(r.replies for r in responses)
    history = await g.history()
    # Every inbound row is directly followed by its own replies: turns never interleave.
    current = None
    for m in history.messages:
        if m.direction == conv_pb2.DIRECTION_INBOUND:
            current = m.provider_message_id
        else:
            assert m.reply_id.startswith(current + ":")
    session = await service.components.engine.sessions.load(g.conversation_id, "1")
    assert session.turns == len(texts)  # no lost update of the session


async def test_migrations_are_recorded_and_idempotent(conv_db):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(conv_db)
    try:
        assert await migrate(conn) == []  # the service already applied them at start-up
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in load_migrations()]
        assert [r["checksum"] for r in rows] == [m.checksum for m in load_migrations()]
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (conv_pb2.HandleMessageRequest(), "message.message_id"),
        (conv_pb2.GetConversationRequest(message_limit=9999), "conversation_id"),
        (conv_pb2.ReplyAsStaffRequest(conversation_id="x", staff_id="s"), "text"),
        (conv_pb2.CompleteTaskRequest(task_id="nope", staff_id="s"), "task_id"),
        (conv_pb2.ListConversationsRequest(page_token="%%%"), "page_token"),
        (conv_pb2.RecordDeliveryRequest(conversation_id="x"), "reply_id"),
    ],
)
async def test_bad_requests_are_invalid_argument_with_the_field(service, request_, field):  # type: ignore[no-untyped-def]
    method = {
        conv_pb2.HandleMessageRequest: service.stub.HandleMessage,
        conv_pb2.GetConversationRequest: service.stub.GetConversation,
        conv_pb2.ReplyAsStaffRequest: service.stub.ReplyAsStaff,
        conv_pb2.CompleteTaskRequest: service.stub.CompleteTask,
        conv_pb2.ListConversationsRequest: service.stub.ListConversations,
        conv_pb2.RecordDeliveryRequest: service.stub.RecordDelivery,
    }[type(request_)]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await method(request_, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    assert field in fields


async def test_unknown_ids_are_not_found(service):  # type: ignore[no-untyped-def]
    calls = [
        service.stub.GetConversation(conv_pb2.GetConversationRequest(conversation_id="wa:none")),
        service.stub.ReleaseHandoff(
            conv_pb2.ReleaseHandoffRequest(conversation_id="wa:none", staff_id="s")
        ),
        service.stub.CompleteTask(
            conv_pb2.CompleteTaskRequest(
                task_id="00000000-0000-0000-0000-000000000000", staff_id="s"
            )
        ),
        service.stub.ReplyAsStaff(
            conv_pb2.ReplyAsStaffRequest(
                conversation_id="wa:none", staff_id="s", text="hi", idempotency_key="k"
            )
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reactions_are_kept_silently_and_other_media_get_a_polite_answer(service):  # type: ignore[no-untyped-def]
    from hotel.channel.v1 import message_pb2

    g = Guest(service.stub)
    first = await g.say("hola")
    r = await g.send(
        g.message(
            kind=message_pb2.MESSAGE_KIND_REACTION,
            reaction=message_pb2.Reaction(message_id="wamid.x", emoji="👍"),
        )
    )
    assert list(r.replies) == [] and r.state == conv_pb2.CONVERSATION_STATE_ACTIVE
    r = await g.send(g.message(kind=message_pb2.MESSAGE_KIND_STICKER))
    assert len(r.replies) == 1 and "texto" in g.text()
    assert first.language == r.language == "es"
    history = await g.history()
    assert [m.text for m in history.messages if m.direction == conv_pb2.DIRECTION_INBOUND][
        1
    ] == "👍"
