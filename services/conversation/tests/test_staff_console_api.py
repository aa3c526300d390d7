"""The staff console's additions: take-over, notes, task undo, media, search and change feed."""

from __future__ import annotations

import uuid

import grpc
import pytest
from conv_chat import Guest
from google.protobuf import timestamp_pb2
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

MARIA = conv_pb2.StaffRef(staff_id="maria", display_name="María Pérez")


async def _detail(service, cid: str) -> conv_pb2.GetConversationResponse:  # type: ignore[no-untyped-def]
    return await service.stub.GetConversation(conv_pb2.GetConversationRequest(conversation_id=cid))


async def test_take_over_silences_the_agent_names_the_staff_and_is_in_the_history(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34600" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    taken = await service.stub.TakeOverConversation(
        conv_pb2.TakeOverConversationRequest(conversation_id=g.conversation_id, staff=MARIA)
    )
    again = await service.stub.TakeOverConversation(
        conv_pb2.TakeOverConversationRequest(conversation_id=g.conversation_id, staff=MARIA)
    )
    assert taken.conversation.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    assert taken.conversation.assigned_to.display_name == "María Pérez"
    assert again.conversation.version == taken.conversation.version  # idempotent
    r = await g.say("¿hay alguien?")
    assert list(r.replies) == []  # the agent is silent while staff have it

    detail = await _detail(service, g.conversation_id)
    assert detail.conversation.waiting_since.seconds > 0  # the guest waits for staff
    kinds = [e.kind for e in detail.events]
    assert kinds == [conv_pb2.STAFF_EVENT_KIND_TAKE_OVER]
    assert detail.events[0].staff.staff_id == "maria"

    await service.stub.ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="maria",
            staff_name="María Pérez",
            text="Hola, soy María",
            idempotency_key=uuid.uuid4().hex,
        )
    )
    detail = await _detail(service, g.conversation_id)
    assert not detail.conversation.HasField("waiting_since")  # answered
    staff_msg = next(m for m in detail.messages if m.author == conv_pb2.AUTHOR_STAFF)
    assert staff_msg.staff.display_name == "María Pérez"

    released = await service.stub.ReleaseHandoff(
        conv_pb2.ReleaseHandoffRequest(
            conversation_id=g.conversation_id, staff_id="maria", staff_name="María Pérez"
        )
    )
    assert not released.conversation.HasField("assigned_to")
    detail = await _detail(service, g.conversation_id)
    assert [e.kind for e in detail.events] == [
        conv_pb2.STAFF_EVENT_KIND_TAKE_OVER,
        conv_pb2.STAFF_EVENT_KIND_RELEASE,
    ]


async def test_staff_reply_to_an_active_conversation_assigns_it_to_the_writer(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34601" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    await service.stub.ReplyAsStaff(
        conv_pb2.ReplyAsStaffRequest(
            conversation_id=g.conversation_id,
            staff_id="juan",
            staff_name="Juan",
            text="Buenas",
            idempotency_key=uuid.uuid4().hex,
        )
    )
    detail = await _detail(service, g.conversation_id)
    assert detail.conversation.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    assert detail.conversation.assigned_to.staff_id == "juan"


async def test_notes_are_idempotent_validated_and_never_sent_to_the_guest(service, mesh):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34602" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    sent_before = len(mesh.channel.sent)
    request = conv_pb2.AddNoteRequest(
        conversation_id=g.conversation_id, staff=MARIA, text="Cliente VIP", idempotency_key="n1"
    )
    first = await service.stub.AddNote(request)
    second = await service.stub.AddNote(request)
    assert first.note.id == second.note.id and first.note.text == "Cliente VIP"
    detail = await _detail(service, g.conversation_id)
    assert [e.text for e in detail.events if e.kind == conv_pb2.STAFF_EVENT_KIND_NOTE] == [
        "Cliente VIP"
    ]
    assert len(mesh.channel.sent) == sent_before
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await service.stub.AddNote(
            conv_pb2.AddNoteRequest(conversation_id=g.conversation_id, text="", staff=MARIA)
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await service.stub.AddNote(
            conv_pb2.AddNoteRequest(
                conversation_id="wa:nope", staff=MARIA, text="x", idempotency_key="k"
            )
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_search_finds_by_name_phone_and_email_and_filters_by_channel(service):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    phone = "34603" + str(uuid.uuid4().int)[:6]
    g = Guest(service.stub, phone=phone, name=f"Zoe Quintana {tag}", email=f"zoe{tag}@mail.test")
    await g.say("hola")

    async def ids(**kw):  # type: ignore[no-untyped-def]
        listed = await service.stub.ListConversations(
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
    listed = await service.stub.ListConversations(
        conv_pb2.ListConversationsRequest(hotel_id="1", query=f"quintana {tag}")
    )
    assert listed.conversations[0].last_intent  # nlp's intent of the guest's message


async def test_updated_since_returns_conversations_changed_by_any_staff_action(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34604" + str(uuid.uuid4().int)[:6])
    await g.say("hola")
    detail = await _detail(service, g.conversation_id)
    mark = timestamp_pb2.Timestamp()
    mark.CopyFrom(detail.conversation.updated_at)
    mark.nanos += 1000
    await service.stub.AddNote(
        conv_pb2.AddNoteRequest(
            conversation_id=g.conversation_id, staff=MARIA, text="llamar", idempotency_key="x"
        )
    )
    listed = await service.stub.ListConversations(
        conv_pb2.ListConversationsRequest(hotel_id="1", updated_since=mark, page_size=200)
    )
    changed = [c for c in listed.conversations if c.conversation_id == g.conversation_id]
    assert changed and changed[0].version > detail.conversation.version


async def test_task_done_and_undo_record_who_did_it(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34605" + str(uuid.uuid4().int)[:6])
    await g.say("quiero hablar con una persona")
    tasks = await service.stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1", page_size=200))
    mine = [t for t in tasks.tasks if t.conversation_id == g.conversation_id]
    assert mine, "a handoff opens a task"
    done = await service.stub.CompleteTask(
        conv_pb2.CompleteTaskRequest(task_id=mine[0].task_id, staff_id="maria", staff_name="María")
    )
    assert done.task.status == conv_pb2.TASK_STATUS_DONE and done.task.completed_by_name == "María"
    undone = await service.stub.ReopenTask(
        conv_pb2.ReopenTaskRequest(task_id=mine[0].task_id, staff=MARIA)
    )
    assert undone.task.status == conv_pb2.TASK_STATUS_OPEN and not undone.task.completed_by
    detail = await _detail(service, g.conversation_id)
    assert [e.kind for e in detail.events] == [
        conv_pb2.STAFF_EVENT_KIND_TASK_DONE,
        conv_pb2.STAFF_EVENT_KIND_TASK_REOPENED,
    ]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await service.stub.ReopenTask(conv_pb2.ReopenTaskRequest(task_id="nope", staff=MARIA))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_voice_notes_are_kept_and_served_with_the_transcript(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34606" + str(uuid.uuid4().int)[:6])
    audio = b"VOICE:hola, buenas tardes"
    await g.send(
        g.message(
            kind=message_pb2.MESSAGE_KIND_AUDIO,
            media=message_pb2.Media(data=audio, mime_type="audio/ogg; codecs=opus", voice=True),
        )
    )
    detail = await _detail(service, g.conversation_id)
    voice = next(m for m in detail.messages if m.kind == message_pb2.MESSAGE_KIND_AUDIO)
    assert voice.has_media and voice.text == "hola, buenas tardes"  # with its transcript
    media = await service.stub.GetMessageMedia(
        conv_pb2.GetMessageMediaRequest(conversation_id=g.conversation_id, message_id=voice.id)
    )
    assert media.data == audio and media.mime_type.startswith("audio/ogg")
    offered = [m for m in detail.messages if m.choices]
    assert all(isinstance(c, str) and c for m in offered for c in m.choices)
