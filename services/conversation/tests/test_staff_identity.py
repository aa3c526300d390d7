"""Staff act as the person their staff token names, and only on their own hotel."""

from __future__ import annotations

import grpc
import pytest
from conv_chat import Guest
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from posada_common import auth


def as_staff(staff_id: str, hotel_id: str, role: str = "agent") -> tuple[tuple[str, str], ...]:
    return auth.staff_metadata(
        auth.mint_staff_token(staff_id, f"Name of {staff_id}", hotel_id, role, ttl=300)  # type: ignore[arg-type]
    )


async def _code(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_staff_of_another_hotel_can_neither_see_nor_change_this_one(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34611999001")
    await g.say("quiero hablar con una persona")  # handed off, with a HANDOFF task, hotel 1
    other = as_staff("zoe", "2")
    stub = service.stub
    get = conv_pb2.GetConversationRequest(conversation_id=g.conversation_id)
    assert await _code(stub.GetConversation(get, metadata=other)) == grpc.StatusCode.NOT_FOUND
    assert (
        await _code(stub.ListTasks(conv_pb2.ListTasksRequest(hotel_id="1"), metadata=other))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    theirs = await stub.ListTasks(conv_pb2.ListTasksRequest(page_size=200), metadata=other)
    assert all(t.hotel_id == "2" for t in theirs.tasks)
    mine = await stub.ListTasks(
        conv_pb2.ListTasksRequest(page_size=200), metadata=as_staff("maria", "1")
    )
    task = next(t for t in mine.tasks if t.conversation_id == g.conversation_id)
    complete = conv_pb2.CompleteTaskRequest(task_id=task.task_id, note="done")
    assert await _code(stub.CompleteTask(complete, metadata=other)) == grpc.StatusCode.NOT_FOUND
    release = conv_pb2.ReleaseHandoffRequest(conversation_id=g.conversation_id)
    assert await _code(stub.ReleaseHandoff(release, metadata=other)) == grpc.StatusCode.NOT_FOUND
    # Nothing changed.
    history = await stub.GetConversation(get, metadata=as_staff("maria", "1"))
    assert history.conversation.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
    again = await stub.ListTasks(
        conv_pb2.ListTasksRequest(page_size=200), metadata=as_staff("maria", "1")
    )
    assert any(
        t.task_id == task.task_id and t.status == conv_pb2.TASK_STATUS_OPEN for t in again.tasks
    )


async def test_actions_are_recorded_as_the_token_names_and_impostors_are_refused(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34611999002")
    await g.say("quiero hablar con una persona")
    maria = as_staff("maria", "1")
    stub = service.stub
    impostor = conv_pb2.ReleaseHandoffRequest(conversation_id=g.conversation_id, staff_id="boss")
    assert (
        await _code(stub.ReleaseHandoff(impostor, metadata=maria))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    tasks = await stub.ListTasks(conv_pb2.ListTasksRequest(page_size=200), metadata=maria)
    task = next(t for t in tasks.tasks if t.conversation_id == g.conversation_id)
    done = await stub.CompleteTask(
        conv_pb2.CompleteTaskRequest(task_id=task.task_id, note="llamada hecha"), metadata=maria
    )
    assert done.task.completed_by == "maria"
    await stub.ReleaseHandoff(
        conv_pb2.ReleaseHandoffRequest(conversation_id=g.conversation_id), metadata=maria
    )
    released_by = await service.components.repo.pool.fetchval(
        "SELECT released_by FROM handoffs WHERE conversation_id = $1", g.conversation_id
    )
    assert released_by == "maria"
