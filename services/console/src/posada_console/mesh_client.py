"""The console's only way to the rest of Posada: gRPC contracts through Envoy's mesh listener.

Every call carries two credentials (see posada_common.auth): the console's own service token
(attached by `dial()`, identity `console`) and a staff token the console signs for the staff
member of the web session — id, name, hotel and role — so conversation knows who acts,
records it in the history and scopes the call to that hotel. This module is the one place that
knows about tokens and stubs; views only see `Staff`, protos and `MeshError`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import grpc
from hotel.channel.v1 import channel_service_pb2 as ch_pb2
from hotel.channel.v1 import channel_service_pb2_grpc as ch_grpc
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common import auth
from posada_common.clients import dial


@dataclass(frozen=True)
class Staff:
    """Who is acting: the staff member of the current web session."""

    staff_id: str
    name: str
    hotel_id: str
    role: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    def ref(self) -> conv_pb2.StaffRef:
        return conv_pb2.StaffRef(staff_id=self.staff_id, display_name=self.name)


class MeshError(Exception):
    """A call failed; `kind` is what the page should say (not_found, invalid, denied, down)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


_KINDS = {
    grpc.StatusCode.NOT_FOUND: "not_found",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
    grpc.StatusCode.FAILED_PRECONDITION: "invalid",
    grpc.StatusCode.PERMISSION_DENIED: "denied",
    grpc.StatusCode.UNAUTHENTICATED: "denied",
}


class MeshClient:
    def __init__(
        self,
        address: str,
        *,
        token_ttl_seconds: int = 900,
        deadline_seconds: float = 10.0,
        channel: grpc.aio.Channel | None = None,
    ):
        self.channel = channel or dial(
            address, default_deadline_seconds=deadline_seconds, identity="console"
        )
        self.conversation = conv_grpc.ConversationServiceStub(self.channel)
        self.gateway = ch_grpc.ChannelServiceStub(self.channel)
        self.token_ttl = token_ttl_seconds
        self.deadline = deadline_seconds
        self._tokens: dict[Staff, tuple[str, float]] = {}

    async def close(self) -> None:
        await self.channel.close()

    def _metadata(self, staff: Staff) -> tuple[tuple[str, str], ...]:
        """A staff token for `staff`, reused until a minute before it expires."""
        now = time.time()
        hit = self._tokens.get(staff)
        if hit is None or hit[1] - now < 60:
            token = auth.mint_staff_token(
                staff.staff_id,
                staff.name,
                staff.hotel_id,
                staff.role,  # type: ignore[arg-type]
                ttl=self.token_ttl,
            )
            if len(self._tokens) > 1000:
                self._tokens.clear()
            hit = self._tokens[staff] = (token, now + self.token_ttl)
        return auth.staff_metadata(hit[0])

    async def _call(
        self, method: Any, request: Any, staff: Staff, timeout: float | None = None
    ) -> Any:
        try:
            return await method(
                request, metadata=self._metadata(staff), timeout=timeout or self.deadline
            )
        except grpc.aio.AioRpcError as exc:
            raise MeshError(
                _KINDS.get(exc.code(), "down"), exc.details() or exc.code().name
            ) from exc

    # -- conversations ------------------------------------------------------------------

    async def list_conversations(
        self,
        staff: Staff,
        *,
        query: str = "",
        state: int = 0,
        channel: int = 0,
        language: str = "",
        updated_since: Any = None,
        page_size: int = 200,
    ) -> list[conv_pb2.Conversation]:
        request = conv_pb2.ListConversationsRequest(
            hotel_id=staff.hotel_id,
            query=query,
            state=state,
            channel=channel,  # type: ignore[arg-type]
            language=language,
            page_size=page_size,
        )
        if updated_since is not None:
            request.updated_since.CopyFrom(updated_since)
        response = await self._call(self.conversation.ListConversations, request, staff)
        # Defence in depth: whatever conversation returns, only this hotel's rows are shown.
        return [c for c in response.conversations if c.hotel_id == staff.hotel_id]

    async def get_conversation(
        self, staff: Staff, conversation_id: str, message_limit: int = 500
    ) -> conv_pb2.GetConversationResponse:
        """The conversation with its history; MeshError(not_found) for another hotel's."""
        response = await self._call(
            self.conversation.GetConversation,
            conv_pb2.GetConversationRequest(
                conversation_id=conversation_id, message_limit=message_limit
            ),
            staff,
        )
        if response.conversation.hotel_id != staff.hotel_id:
            raise MeshError("not_found", f"conversation {conversation_id} not found")
        return response

    async def take_over(self, staff: Staff, conversation_id: str) -> conv_pb2.Conversation:
        response = await self._call(
            self.conversation.TakeOverConversation,
            conv_pb2.TakeOverConversationRequest(
                conversation_id=conversation_id, staff=staff.ref()
            ),
            staff,
        )
        return response.conversation

    async def reply(
        self, staff: Staff, conversation_id: str, text: str, idempotency_key: str
    ) -> conv_pb2.ConversationMessage:
        response = await self._call(
            self.conversation.ReplyAsStaff,
            conv_pb2.ReplyAsStaffRequest(
                conversation_id=conversation_id,
                staff_id=staff.staff_id,
                staff_name=staff.name,
                text=text,
                idempotency_key=idempotency_key,
            ),
            staff,
            timeout=30,
        )
        return response.message

    async def release(self, staff: Staff, conversation_id: str) -> conv_pb2.Conversation:
        response = await self._call(
            self.conversation.ReleaseHandoff,
            conv_pb2.ReleaseHandoffRequest(
                conversation_id=conversation_id, staff_id=staff.staff_id, staff_name=staff.name
            ),
            staff,
        )
        return response.conversation

    async def add_note(
        self, staff: Staff, conversation_id: str, text: str, idempotency_key: str
    ) -> conv_pb2.StaffEvent:
        response = await self._call(
            self.conversation.AddNote,
            conv_pb2.AddNoteRequest(
                conversation_id=conversation_id,
                staff=staff.ref(),
                text=text,
                idempotency_key=idempotency_key,
            ),
            staff,
        )
        return response.note

    async def media(
        self, staff: Staff, conversation_id: str, message_id: str
    ) -> conv_pb2.GetMessageMediaResponse:
        return await self._call(
            self.conversation.GetMessageMedia,
            conv_pb2.GetMessageMediaRequest(conversation_id=conversation_id, message_id=message_id),
            staff,
        )

    # -- tasks --------------------------------------------------------------------------

    async def list_tasks(self, staff: Staff, status: int = 0) -> list[conv_pb2.Task]:
        response = await self._call(
            self.conversation.ListTasks,
            conv_pb2.ListTasksRequest(hotel_id=staff.hotel_id, status=status, page_size=200),  # type: ignore[arg-type]
            staff,
        )
        return [t for t in response.tasks if t.hotel_id == staff.hotel_id]

    async def complete_task(self, staff: Staff, task_id: str) -> conv_pb2.Task:
        response = await self._call(
            self.conversation.CompleteTask,
            conv_pb2.CompleteTaskRequest(
                task_id=task_id, staff_id=staff.staff_id, staff_name=staff.name
            ),
            staff,
        )
        return response.task

    async def reopen_task(self, staff: Staff, task_id: str) -> conv_pb2.Task:
        response = await self._call(
            self.conversation.ReopenTask,
            conv_pb2.ReopenTaskRequest(task_id=task_id, staff=staff.ref()),
            staff,
        )
        return response.task

    # -- gateway ------------------------------------------------------------------------

    async def delivery(
        self, staff: Staff, provider_message_id: str
    ) -> ch_pb2.GetMessageStatusResponse | None:
        """What the gateway knows about a message we sent (errors of a failed staff reply)."""
        try:
            return await self._call(
                self.gateway.GetMessageStatus,
                ch_pb2.GetMessageStatusRequest(message_id=provider_message_id),
                staff,
                timeout=3,
            )
        except MeshError:
            return None
