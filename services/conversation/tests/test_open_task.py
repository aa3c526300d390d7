"""OpenTask: the gateway asks for a person when a guest message was dead-lettered.

Calls go in as the mesh makes them: OpenTask and guests' messages as `gateway`, staff reads as
`console` with María's staff token (hotel 1), so the authorisation table is exercised too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from conv_chat import Guest
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from test_staff_console_api import Mesh

DESCRIPTION = "A guest message could not be answered automatically (nlp). Please answer the guest."


@pytest.fixture
async def calls(service) -> AsyncIterator[Mesh]:  # type: ignore[no-untyped-def]
    mesh = Mesh(service.address)
    yield mesh
    await mesh.close()


def _request(guest: Guest, text: str = "¿tenéis parking?", **fields) -> conv_pb2.OpenTaskRequest:  # type: ignore[no-untyped-def]
    message = guest.message(text)
    values = {
        "conversation_id": guest.conversation_id,
        "hotel_id": "1",
        "kind": conv_pb2.TASK_KIND_UNANSWERED_MESSAGE,
        "description": DESCRIPTION,
        "message": message,
        "idempotency_key": f"dead-letter:{message.message_id}",
    }
    values.update(fields)
    return conv_pb2.OpenTaskRequest(**values)


async def _tasks_of(service, conversation_id: str) -> list:  # type: ignore[no-untyped-def]
    return list(
        await service.components.repo.pool.fetch(
            "SELECT * FROM tasks WHERE conversation_id = $1", conversation_id
        )
    )


async def test_a_dead_lettered_first_message_opens_a_task_staff_list_and_see(service, calls):  # type: ignore[no-untyped-def]
    g = Guest(calls.guest_stub, phone="34611" + str(uuid.uuid4().int)[:6])
    opened = await calls.guest_stub.OpenTask(_request(g, "¿tenéis parking para furgonetas?"))

    task = opened.task
    assert task.task_id and task.conversation_id == g.conversation_id and task.hotel_id == "1"
    assert task.kind == conv_pb2.TASK_KIND_UNANSWERED_MESSAGE
    assert task.status == conv_pb2.TASK_STATUS_OPEN and task.description == DESCRIPTION
    assert opened.language == ""  # no turn ever ran: the language is not known

    maria = calls.staff()
    listed = await maria.ListTasks(
        conv_pb2.ListTasksRequest(hotel_id="1", status=conv_pb2.TASK_STATUS_OPEN, page_size=200)
    )
    assert task.task_id in [t.task_id for t in listed.tasks]

    detail = await maria.GetConversation(
        conv_pb2.GetConversationRequest(conversation_id=g.conversation_id)
    )
    conversation = detail.conversation
    assert conversation.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    assert conversation.handoff_reason == "unanswered_message"
    assert conversation.guest.phone == g.phone and conversation.channel == g.channel
    [event] = detail.events
    assert event.kind == conv_pb2.STAFF_EVENT_KIND_NOTE
    assert DESCRIPTION in event.text and "¿tenéis parking para furgonetas?" in event.text

    handed = await maria.ListConversations(
        conv_pb2.ListConversationsRequest(
            hotel_id="1", state=conv_pb2.CONVERSATION_STATE_HANDED_OFF, page_size=200
        )
    )
    assert g.conversation_id in [c.conversation_id for c in handed.conversations]

    # The agent stays silent now: a person answers this guest.
    r = await g.say("¿hola?")
    assert r.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF and list(r.replies) == []


async def test_the_same_idempotency_key_opens_one_task(service, calls):  # type: ignore[no-untyped-def]
    g = Guest(calls.guest_stub, phone="34612" + str(uuid.uuid4().int)[:6])
    request = _request(g)
    together = await asyncio.gather(*(calls.guest_stub.OpenTask(request) for _ in range(3)))
    later = await calls.guest_stub.OpenTask(request)

    ids = {r.task.task_id for r in [*together, later]}
    assert len(ids) == 1
    assert [str(t["task_id"]) for t in await _tasks_of(service, g.conversation_id)] == list(ids)
    detail = await calls.staff().GetConversation(
        conv_pb2.GetConversationRequest(conversation_id=g.conversation_id)
    )
    assert len(detail.events) == 1  # one line in the history, not one per call

    other = await calls.guest_stub.OpenTask(_request(g, "otra cosa"))  # a new key: a new task
    assert other.task.task_id not in ids
    assert len(await _tasks_of(service, g.conversation_id)) == 2


async def test_the_language_of_a_known_conversation_is_returned(service, calls):  # type: ignore[no-untyped-def]
    mary = Guest(calls.guest_stub, phone="4477009" + str(uuid.uuid4().int)[:5], name="Mary Smith")
    await mary.say("hi there")
    assert mary.last is not None and mary.last.language == "en"

    opened = await calls.guest_stub.OpenTask(_request(mary, "is the pool open at night?"))
    assert opened.language == "en"
    assert opened.task.conversation_id == mary.conversation_id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"conversation_id": ""}, "conversation_id"),
        ({"description": "  "}, "description"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"kind": conv_pb2.TASK_KIND_UNSPECIFIED}, "kind"),
        ({"message": None}, "message"),  # unknown conversation and nothing to create it from
        ({"hotel_id": "2"}, "message.hotel_id"),
    ],
)
async def test_bad_input_is_refused_clearly_and_changes_nothing(service, calls, fields, field):  # type: ignore[no-untyped-def]
    g = Guest(calls.guest_stub, phone="34613" + str(uuid.uuid4().int)[:6])
    request = _request(g)
    if fields.get("message", request.message) is None:
        request.ClearField("message")
        fields = {}
    for name, value in fields.items():
        setattr(request, name, value)

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.guest_stub.OpenTask(request)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (err.value.details() or "")
    pool = service.components.repo.pool
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM conversations WHERE conversation_id = $1", g.conversation_id
        )
        == 0
    )
    assert await _tasks_of(service, g.conversation_id) == []


async def test_a_task_for_another_hotels_conversation_is_refused_and_changes_nothing(  # type: ignore[no-untyped-def]
    service, calls
):
    g = Guest(calls.guest_stub, phone="34614" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    request = _request(g, hotel_id="2")
    request.message.hotel_id = "2"

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.guest_stub.OpenTask(request)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "another hotel" in (err.value.details() or "")
    assert await _tasks_of(service, g.conversation_id) == []
    row = await service.components.repo.get_conversation(g.conversation_id)
    assert row["state"] == conv_pb2.CONVERSATION_STATE_ACTIVE and row["hotel_id"] == "1"


async def test_only_the_gateway_may_open_tasks(service, calls):  # type: ignore[no-untyped-def]
    g = Guest(calls.guest_stub, phone="34615" + str(uuid.uuid4().int)[:6])
    stub = conv_grpc.ConversationServiceStub(calls.console_channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.OpenTask(_request(g))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await _tasks_of(service, g.conversation_id) == []


async def test_a_message_too_long_to_answer_still_gets_its_task(service, calls):  # type: ignore[no-untyped-def]
    g = Guest(calls.guest_stub, phone="34616" + str(uuid.uuid4().int)[:6])
    opened = await calls.guest_stub.OpenTask(_request(g, "¿parking?\x00 " + "a" * 20000))
    assert opened.task.status == conv_pb2.TASK_STATUS_OPEN
    detail = await calls.staff().GetConversation(
        conv_pb2.GetConversationRequest(conversation_id=g.conversation_id)
    )
    [event] = detail.events
    assert "Guest wrote: ¿parking? aaa" in event.text and len(event.text) < 1500
