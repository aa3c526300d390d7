"""The staff console's additions: take-over, notes, task undo, media, search and change feed.

Calls go in as the mesh does it: guests' messages as `gateway`, staff actions as `console` with
a signed staff token naming the staff member (María, hotel 1, agent, unless a test says other).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from conv_chat import Guest
from google.protobuf import timestamp_pb2
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common import auth
from posada_common.clients import dial

MARIA = conv_pb2.StaffRef(staff_id="maria", display_name="María Pérez")


class StaffStub:
    """The ConversationService stub as the console uses it: every call carries a staff token."""

    def __init__(self, channel: grpc.aio.Channel, token: str):
        self._stub = conv_grpc.ConversationServiceStub(channel)
        self._metadata = auth.staff_metadata(token)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)
        return lambda request: method(request, metadata=self._metadata)


class Mesh:
    def __init__(self, address: str):
        self.gateway_channel = dial(address, identity="gateway", trace=False)
        self.console_channel = dial(address, identity="console", trace=False)
        self.guest_stub = conv_grpc.ConversationServiceStub(self.gateway_channel)

    def staff(
        self,
        staff_id: str = "maria",
        name: str = "María Pérez",
        hotel: str = "1",
        role: str = "agent",
    ) -> StaffStub:
        token = auth.mint_staff_token(staff_id, name, hotel, role)  # type: ignore[arg-type]
        return StaffStub(self.console_channel, token)

    async def close(self) -> None:
        await self.gateway_channel.close()
        await self.console_channel.close()


@pytest.fixture
async def calls(service) -> AsyncIterator[Mesh]:  # type: ignore[no-untyped-def]
    mesh = Mesh(service.address)
    yield mesh
    await mesh.close()


class Svc:
    """`service` as these tests see it: `stub` acts as María (console + staff token)."""

    def __init__(self, calls: Mesh):
        self.stub = calls.staff()
        self.guest_stub = calls.guest_stub


@pytest.fixture
def svc(calls: Mesh) -> Svc:
    return Svc(calls)


async def _detail(svc, cid: str) -> conv_pb2.GetConversationResponse:  # type: ignore[no-untyped-def]
    return await svc.stub.GetConversation(conv_pb2.GetConversationRequest(conversation_id=cid))


async def test_take_over_silences_the_agent_names_the_staff_and_is_in_the_history(svc):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34600" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    taken = await svc.stub.TakeOverConversation(
        conv_pb2.TakeOverConversationRequest(conversation_id=g.conversation_id, staff=MARIA)
    )
    again = await svc.stub.TakeOverConversation(
        conv_pb2.TakeOverConversationRequest(conversation_id=g.conversation_id, staff=MARIA)
    )
    assert taken.conversation.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    assert taken.conversation.assigned_to.display_name == "María Pérez"
    assert again.conversation.version == taken.conversation.version  # idempotent
    r = await g.say("¿hay alguien?")
    assert list(r.replies) == []  # the agent is silent while staff have it

    detail = await _detail(svc, g.conversation_id)
    assert detail.conversation.waiting_since.seconds > 0  # the guest waits for staff
    kinds = [e.kind for e in detail.events]
    assert kinds == [conv_pb2.STAFF_EVENT_KIND_TAKE_OVER]
    assert detail.events[0].staff.staff_id == "maria"

    await svc.stub.ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="maria",
            staff_name="María Pérez",
            text="Hola, soy María",
            idempotency_key=uuid.uuid4().hex,
        )
    )
    detail = await _detail(svc, g.conversation_id)
    assert not detail.conversation.HasField("waiting_since")  # answered
    staff_msg = next(m for m in detail.messages if m.author == conv_pb2.AUTHOR_STAFF)
    assert staff_msg.staff.display_name == "María Pérez"

    released = await svc.stub.ReleaseHandoff(
        conv_pb2.ReleaseHandoffRequest(
            conversation_id=g.conversation_id, staff_id="maria", staff_name="María Pérez"
        )
    )
    assert not released.conversation.HasField("assigned_to")
    detail = await _detail(svc, g.conversation_id)
    assert [e.kind for e in detail.events] == [
        conv_pb2.STAFF_EVENT_KIND_TAKE_OVER,
        conv_pb2.STAFF_EVENT_KIND_RELEASE,
    ]


async def test_staff_reply_to_an_active_conversation_assigns_it_to_the_writer(svc, calls):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34601" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    await calls.staff("juan", "Juan").ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="juan",
            staff_name="Juan",
            text="Buenas",
            idempotency_key=uuid.uuid4().hex,
        )
    )
    detail = await _detail(svc, g.conversation_id)
    assert detail.conversation.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    assert detail.conversation.assigned_to.staff_id == "juan"


async def test_notes_are_idempotent_validated_and_never_sent_to_the_guest(svc, mesh):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34602" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    sent_before = len(mesh.channel.sent)
    request = conv_pb2.AddNoteRequest(
        conversation_id=g.conversation_id, staff=MARIA, text="Cliente VIP", idempotency_key="n1"
    )
    first = await svc.stub.AddNote(request)
    second = await svc.stub.AddNote(request)
    assert first.note.id == second.note.id and first.note.text == "Cliente VIP"
    detail = await _detail(svc, g.conversation_id)
    assert [e.text for e in detail.events if e.kind == conv_pb2.STAFF_EVENT_KIND_NOTE] == [
        "Cliente VIP"
    ]
    assert len(mesh.channel.sent) == sent_before
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await svc.stub.AddNote(
            conv_pb2.AddNoteRequest(conversation_id=g.conversation_id, text="", staff=MARIA)
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await svc.stub.AddNote(
            conv_pb2.AddNoteRequest(
                conversation_id="wa:nope", staff=MARIA, text="x", idempotency_key="k"
            )
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_search_finds_by_name_phone_and_email_and_filters_by_channel(svc):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    phone = "34603" + str(uuid.uuid4().int)[:6]
    g = Guest(svc.guest_stub, phone=phone, name=f"Zoe Quintana {tag}", email=f"zoe{tag}@mail.test")
    await g.say("hola")

    async def ids(**kw):  # type: ignore[no-untyped-def]
        listed = await svc.stub.ListConversations(
            conv_pb2.ListConversationsRequest(hotel_id="1", page_size=200, **kw)
        )
        return [c.conversation_id for c in listed.conversations]

    assert g.conversation_id in await ids(query=f"quintana {tag}")
    assert g.conversation_id in await ids(query=phone[-7:])
    assert g.conversation_id in await ids(query=f"+{phone[:2]} {phone[2:]}")
    assert g.conversation_id in await ids(query=f"ZOE{tag}@")
    assert g.conversation_id not in await ids(query=f"nobody {tag}")
    assert g.conversation_id not in await ids(
        query=f"quintana {tag}", channel=message_pb2.CHANNEL_GMAIL
    )
    listed = await svc.stub.ListConversations(
        conv_pb2.ListConversationsRequest(hotel_id="1", query=f"quintana {tag}")
    )
    assert listed.conversations[0].last_intent  # nlp's intent of the guest's message


async def test_updated_since_returns_conversations_changed_by_any_staff_action(svc):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34604" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    detail = await _detail(svc, g.conversation_id)
    mark = timestamp_pb2.Timestamp()
    mark.CopyFrom(detail.conversation.updated_at)
    mark.nanos += 1000
    await svc.stub.AddNote(
        conv_pb2.AddNoteRequest(
            conversation_id=g.conversation_id, staff=MARIA, text="llamar", idempotency_key="x"
        )
    )
    listed = await svc.stub.ListConversations(
        conv_pb2.ListConversationsRequest(hotel_id="1", updated_since=mark, page_size=200)
    )
    changed = [c for c in listed.conversations if c.conversation_id == g.conversation_id]
    assert changed and changed[0].version > detail.conversation.version


async def test_task_done_and_undo_record_who_did_it(svc):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34605" + str(uuid.uuid4().int)[:6])
    await g.say("quiero hablar con una persona")
    tasks = await svc.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
    mine = [t for t in tasks.tasks if t.conversation_id == g.conversation_id]
    assert mine, "a handoff opens a task"
    done = await svc.stub.CompleteTask(
        conv_pb2.CompleteTaskRequest(task_id=mine[0].task_id, staff_id="maria", staff_name="María")
    )
    assert (
        done.task.status == conv_pb2.TASK_STATUS_DONE
        and done.task.completed_by_name == "María Pérez"
    )  # from the token
    undone = await svc.stub.ReopenTask(
        conv_pb2.ReopenTaskRequest(task_id=mine[0].task_id, staff=MARIA)
    )
    assert undone.task.status == conv_pb2.TASK_STATUS_OPEN and not undone.task.completed_by
    detail = await _detail(svc, g.conversation_id)
    assert [e.kind for e in detail.events] == [
        conv_pb2.STAFF_EVENT_KIND_TASK_DONE,
        conv_pb2.STAFF_EVENT_KIND_TASK_REOPENED,
    ]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await svc.stub.ReopenTask(conv_pb2.ReopenTaskRequest(task_id="nope", staff=MARIA))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_voice_notes_are_kept_and_served_with_the_transcript(svc):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34606" + str(uuid.uuid4().int)[:6])
    audio = b"VOICE:hola, buenas tardes"
    await g.send(
        g.message(
            kind=message_pb2.MESSAGE_KIND_AUDIO,
            media=message_pb2.Media(data=audio, mime_type="audio/ogg; codecs=opus", voice=True),
        )
    )
    detail = await _detail(svc, g.conversation_id)
    voice = next(m for m in detail.messages if m.kind == message_pb2.MESSAGE_KIND_AUDIO)
    assert voice.has_media and voice.text == "hola, buenas tardes"  # with its transcript
    media = await svc.stub.GetMessageMedia(
        conv_pb2.GetMessageMediaRequest(conversation_id=g.conversation_id, message_id=voice.id)
    )
    assert media.data == audio and media.mime_type.startswith("audio/ogg")
    offered = [m for m in detail.messages if m.choices]
    assert all(isinstance(c, str) and c for m in offered for c in m.choices)


async def test_staff_of_another_hotel_get_not_found_for_every_staff_action(svc, calls):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34607" + str(uuid.uuid4().int)[:6])
    await g.say("quiero hablar con una persona")
    stranger = calls.staff("lucas", "Lucas", hotel="2", role="manager")
    attempts = [
        stranger.TakeOverConversation(
            conv_pb2.TakeOverConversationRequest(conversation_id=g.conversation_id)
        ),
        stranger.AddNote(
            conv_pb2.AddNoteRequest(
                conversation_id=g.conversation_id, text="hola", idempotency_key="z"
            )
        ),
        stranger.GetMessageMedia(
            conv_pb2.GetMessageMediaRequest(conversation_id=g.conversation_id, message_id="1")
        ),
    ]
    for attempt in attempts:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await attempt
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    tasks = await svc.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
    task = next(t for t in tasks.tasks if t.conversation_id == g.conversation_id)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stranger.ReopenTask(conv_pb2.ReopenTaskRequest(task_id=task.task_id))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    detail = await _detail(svc, g.conversation_id)
    assert list(detail.events) == []  # nothing changed


async def test_only_a_manager_takes_a_conversation_from_a_colleague(svc, calls):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34608" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    request = conv_pb2.TakeOverConversationRequest(conversation_id=g.conversation_id)
    await calls.staff("maria", "María").TakeOverConversation(request)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.staff("juan", "Juan").TakeOverConversation(request)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    taken = await calls.staff("ines", "Inés", role="manager").TakeOverConversation(request)
    assert taken.conversation.assigned_to.staff_id == "ines"


async def test_staff_calls_without_a_staff_token_are_refused(calls):  # type: ignore[no-untyped-def]
    bare = conv_grpc.ConversationServiceStub(calls.console_channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bare.TakeOverConversation(
            conv_pb2.TakeOverConversationRequest(conversation_id="wa:x", staff=MARIA)
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_request_naming_another_staff_member_than_the_token_is_refused(svc, calls):  # type: ignore[no-untyped-def]
    g = Guest(svc.guest_stub, phone="34609" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    impostor = conv_pb2.StaffRef(staff_id="ines", display_name="Inés")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.staff("maria", "María").AddNote(
            conv_pb2.AddNoteRequest(
                conversation_id=g.conversation_id, staff=impostor, text="x", idempotency_key="i"
            )
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    detail = await _detail(svc, g.conversation_id)
    assert list(detail.events) == []
