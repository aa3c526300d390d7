"""gRPC `hotel.conversation.v1.ConversationService`: validation, mapping rows to messages."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import redis.exceptions
from google.protobuf import timestamp_pb2
from hotel.channel.v1 import channel_service_pb2, message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from posada_common import auth
from posada_common.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from posada_common.logging import bind_context, get_logger

from . import staff_api
from .degradation import Delivery, is_fault_handoff
from .deps import DependencyDown, DependencyError
from .engine import Engine
from .repository import HANDED_OFF, OpenTaskRecord, Repository, TaskRefused, decode_token
from .sessions import LockTimeout
from .staff_store import StaffStore

log = get_logger(__name__)
MAX_PAGE = 200
# Why a conversation with a task for an unanswered guest message is handed to a person.
UNANSWERED_REASON = "unanswered_message"
R = TypeVar("R")
STORE_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def stores_down_unavailable(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Postgres or Redis unreachable → UNAVAILABLE (the caller retries), not INTERNAL; text
    PostgreSQL cannot store (a NUL character in an id) → INVALID_ARGUMENT, not INTERNAL."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: Any) -> R:
        try:
            return await fn(self, request, context)
        except STORE_DOWN as exc:
            log.error("store_unavailable", rpc=fn.__name__, error_type=type(exc).__name__)
            raise Unavailable("conversation store unavailable; retry later") from exc
        except asyncpg.CharacterNotInRepertoireError as exc:
            raise InvalidArgument(
                "invalid request: text with characters that cannot be stored (NUL)"
            ) from exc

    return wrapper


MAX_TEXT = 16384


def clean_inbound(message: message_pb2.InboundMessage) -> None:
    """What a guest wrote is answered, never refused: NUL characters (which PostgreSQL cannot
    store) are dropped and a text longer than MAX_TEXT characters is cut to that length."""
    for holder, name in (
        (message, "text"),
        (message.media, "caption"),
        (message.interactive_reply, "title"),
        (message.guest, "display_name"),
    ):
        value = getattr(holder, name)
        if "\x00" in value or len(value) > MAX_TEXT:
            setattr(holder, name, value.replace("\x00", "")[:MAX_TEXT])


def _ts(value: dt.datetime | None) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    if value is not None:
        ts.FromDatetime(value)
    return ts


def conversation_pb(row: asyncpg.Record) -> conv_pb2.Conversation:
    staff = staff_api.conversation_extras(row)
    return conv_pb2.Conversation(
        **staff,
        conversation_id=row["conversation_id"],
        hotel_id=row["hotel_id"],
        channel=row["channel"],
        guest=message_pb2.Guest(
            id=row["guest_id"],
            phone=row["guest_phone"],
            email=row["guest_email"],
            display_name=row["guest_name"],
        ),
        language=row["language"],
        state=row["state"],
        handoff_reason=row["handoff_reason"],
        created_at=_ts(row["created_at"]),
        last_message_at=_ts(row["last_message_at"]),
        business_account_id=row["business_account_id"],
    )


def message_pb(row: asyncpg.Record) -> conv_pb2.ConversationMessage:
    return conv_pb2.ConversationMessage(
        **staff_api.message_extras(row),
        id=str(row["id"]),
        provider_message_id=row["provider_message_id"] or "",
        direction=row["direction"],
        author=row["author"],
        kind=row["kind"],
        text=row["text"],
        intent=row["intent"],
        status=row["status"],
        created_at=_ts(row["created_at"]),
        reply_id=row["reply_id"] or "",
    )


def task_pb(row: asyncpg.Record) -> conv_pb2.Task:
    return conv_pb2.Task(
        task_id=str(row["task_id"]),
        conversation_id=row["conversation_id"],
        hotel_id=row["hotel_id"],
        kind=row["kind"],
        status=row["status"],
        description=row["description"],
        booking_reference=row["booking_reference"],
        created_at=_ts(row["created_at"]),
        completed_at=_ts(row["completed_at"]) if row["completed_at"] else None,
        completed_by=row["completed_by"],
        note=row["note"],
        completed_by_name=row.get("completed_by_name") or "",
    )


def _page_size(value: int, field: str, violations: dict[str, str]) -> int:
    if value < 0:
        violations[field] = "must not be negative"
        return 0
    return min(value or 50, MAX_PAGE)


# Timestamp's own valid range (0001-01-01 to 9999-12-31), as its documentation defines it.
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799


def _instant(request: Any, name: str, violations: dict[str, str]) -> dt.datetime | None:
    """A Timestamp field as an aware datetime; a value outside Timestamp's range is a violation
    (converting it would raise deep inside protobuf and answer INTERNAL)."""
    if not request.HasField(name):
        return None
    value = getattr(request, name)
    if not (_MIN_SECONDS <= value.seconds <= _MAX_SECONDS and 0 <= value.nanos < 1_000_000_000):
        violations[name] = "a timestamp between years 1 and 9999 (nanos 0 to 999,999,999)"
        return None
    instant: dt.datetime = value.ToDatetime(tzinfo=dt.UTC)
    return instant


def _check_token(token: str, field: str, violations: dict[str, str]) -> None:
    if token:
        try:
            decode_token(token)
        except ValueError:
            violations[field] = "malformed page token; pass next_page_token unchanged"


def _raise(violations: dict[str, str]) -> None:
    if violations:
        raise InvalidArgument(
            "invalid request: " + ", ".join(sorted(violations)), field_violations=violations
        )


def acting_staff(context: Any, claimed_staff_id: str = "") -> auth.StaffIdentity:
    """The staff member named by the call's verified staff token (never the request's word).

    A request that names a different staff id is refused rather than silently rewritten, so a
    console bug cannot put one person's name on another's action.
    """
    staff = auth.current_staff(context)
    if claimed_staff_id and claimed_staff_id != staff.staff_id:
        raise PermissionDenied("staff_id does not match the caller's staff token")
    bind_context(staff_id=staff.staff_id, staff_hotel_id=staff.hotel_id)
    return staff


def scoped_hotel(staff: auth.StaffIdentity, requested: str) -> str:
    """Reads are limited to the staff member's hotel; asking for another one is refused."""
    if requested and requested != staff.hotel_id:
        raise PermissionDenied(f"staff of hotel {staff.hotel_id} cannot read hotel {requested}")
    return staff.hotel_id


def _hotel_guard(staff: auth.StaffIdentity, row: asyncpg.Record | None, what: str) -> Any:
    """Another hotel's conversation or task answers NOT_FOUND: its existence is not revealed."""
    if row is None or row["hotel_id"] != staff.hotel_id:
        raise NotFound(f"{what} not found")
    return row


class ConversationServicer(staff_api.StaffConsoleRpcs, conv_grpc.ConversationServiceServicer):
    def __init__(self, engine: Engine, repo: Repository, default_hotel_id: str):
        self.engine = engine
        self.repo = repo
        self.staff = StaffStore(repo.pool)
        self.default_hotel_id = default_hotel_id

    @stores_down_unavailable
    async def HandleMessage(
        self, request: conv_pb2.HandleMessageRequest, context: Any
    ) -> conv_pb2.HandleMessageResponse:
        m = request.message
        violations: dict[str, str] = {}
        if not request.HasField("message"):
            violations["message"] = "required"
        if not m.message_id:
            violations["message.message_id"] = "required (the provider message id)"
        if not m.conversation_id:
            violations["message.conversation_id"] = "required"
        if not m.guest.id:
            violations["message.guest.id"] = "required"
        if m.channel == message_pb2.CHANNEL_UNSPECIFIED:
            violations["message.channel"] = "must be WHATSAPP or GMAIL"
        for name in ("message_id", "conversation_id", "hotel_id"):
            if "\x00" in getattr(m, name):
                violations[f"message.{name}"] = "must not contain NUL"
        if "\x00" in m.guest.id:
            violations["message.guest.id"] = "must not contain NUL"
        _raise(violations)
        message = message_pb2.InboundMessage()
        message.CopyFrom(m)
        clean_inbound(message)
        if not message.hotel_id:
            message.hotel_id = self.default_hotel_id
        bind_context(conversation_id=message.conversation_id, message_id=message.message_id)
        if message.kind == message_pb2.MESSAGE_KIND_AUDIO and message.media.data:
            await self.staff.save_media(
                message.conversation_id,
                message.message_id,
                message.media.mime_type,
                message.media.data,
            )
        try:
            return await self.engine.handle(
                message, Delivery(attempt=request.attempt, final=request.final_attempt)
            )
        except LockTimeout as exc:
            raise Unavailable("conversation is busy; retry later") from exc

    @stores_down_unavailable
    async def RecordDelivery(
        self, request: conv_pb2.RecordDeliveryRequest, context: Any
    ) -> conv_pb2.RecordDeliveryResponse:
        violations: dict[str, str] = {}
        if not request.conversation_id:
            violations["conversation_id"] = "required"
        if not request.reply_id and not request.provider_message_id:
            violations["reply_id"] = "reply_id or provider_message_id is required"
        if request.status == message_pb2.DELIVERY_STATUS_UNSPECIFIED:
            violations["status"] = "required"
        _raise(violations)
        found = await self.repo.record_delivery(
            request.conversation_id,
            request.reply_id,
            request.provider_message_id,
            int(request.status),
            request.error[:1000],
        )
        if not found:
            raise NotFound(
                f"no outbound message {request.reply_id or request.provider_message_id} "
                f"in conversation {request.conversation_id}"
            )
        return conv_pb2.RecordDeliveryResponse()

    @stores_down_unavailable
    async def GetConversation(
        self, request: conv_pb2.GetConversationRequest, context: Any
    ) -> conv_pb2.GetConversationResponse:
        violations: dict[str, str] = {}
        if not request.conversation_id:
            violations["conversation_id"] = "required"
        if request.message_limit < 0 or request.message_limit > 500:
            violations["message_limit"] = "must be between 0 and 500"
        _raise(violations)
        staff = acting_staff(context)
        row = await self.staff.conversation(request.conversation_id)
        _hotel_guard(staff, row, f"conversation {request.conversation_id}")
        assert row is not None
        messages = await self.repo.list_messages(
            request.conversation_id, request.message_limit or 50
        )
        return conv_pb2.GetConversationResponse(
            conversation=conversation_pb(row),
            messages=[message_pb(r) for r in messages],
            events=[staff_api.event_pb(e) for e in await self.staff.events(row["conversation_id"])],
            bookings=[
                staff_api.booking_pb(b) for b in await self.staff.bookings(row["conversation_id"])
            ],
        )

    @stores_down_unavailable
    async def ListConversations(
        self, request: conv_pb2.ListConversationsRequest, context: Any
    ) -> conv_pb2.ListConversationsResponse:
        violations: dict[str, str] = {}
        size = _page_size(request.page_size, "page_size", violations)
        _check_token(request.page_token, "page_token", violations)
        if request.state not in conv_pb2.ConversationState.values():
            violations["state"] = "unknown state"
        if request.channel not in message_pb2.Channel.values():
            violations["channel"] = "unknown channel"
        if len(request.query) > 200:
            violations["query"] = "at most 200 characters"
        if len(request.language) > 8:
            violations["language"] = "a language code such as es, en or pt"
        since = _instant(request, "since", violations)
        updated_since = _instant(request, "updated_since", violations)
        _raise(violations)
        hotel_id = scoped_hotel(acting_staff(context), request.hotel_id)
        rows, token = await self.repo.list_conversations(
            hotel_id=hotel_id,
            state=int(request.state),
            since=since,
            page_size=size,
            page_token=request.page_token,
            query=request.query,
            channel=int(request.channel),
            language=request.language,
            updated_since=updated_since,
        )
        return conv_pb2.ListConversationsResponse(
            conversations=[conversation_pb(r) for r in rows], next_page_token=token
        )

    @stores_down_unavailable
    async def ReplyAsStaff(
        self, request: conv_pb2.ReplyAsStaffRequest, context: Any
    ) -> conv_pb2.ReplyAsStaffResponse:
        violations: dict[str, str] = {}
        for name in ("conversation_id", "text", "idempotency_key"):
            if not getattr(request, name).strip():
                violations[name] = "required"
        if len(request.text) > 4096:
            violations["text"] = "at most 4096 characters"
        if len(request.idempotency_key) > 200:
            violations["idempotency_key"] = "at most 200 characters"
        _raise(violations)
        staff = acting_staff(context, request.staff_id)
        row = _hotel_guard(
            staff,
            await self.repo.get_conversation(request.conversation_id),
            f"conversation {request.conversation_id}",
        )
        reply_id = f"staff:{request.idempotency_key}"
        reply = message_pb2.Reply(reply_id=reply_id, text=message_pb2.TextReply(body=request.text))
        # Row first (QUEUED), then send: a delivery status that races back from the gateway
        # always finds its message. The same idempotency key finds the same row.
        saved = await self.repo.record_staff_message(
            request.conversation_id,
            reply_id,
            request.text,
            staff.staff_id,
            "",
            message_pb2.DELIVERY_STATUS_QUEUED,
            reply.SerializeToString(),
            staff_name=staff.name,
        )
        if saved["provider_message_id"]:
            return conv_pb2.ReplyAsStaffResponse(message=message_pb(saved))
        if (
            row["state"] != HANDED_OFF
            or not row["assigned_staff_id"]
            or is_fault_handoff(row["handoff_reason"])
        ):
            # A person is talking now: the agent must not talk over them (nor take back a
            # conversation a fault handed off once staff answered in it), and the
            # conversation shows who has it.
            await self.staff.take_over(request.conversation_id, staff.staff_id, staff.name)
        send = channel_service_pb2.SendMessageRequest(
            channel=row["channel"],
            business_account_id=row["business_account_id"],
            recipient_id=row["guest_id"],
            reply=reply,
            idempotency_key=f"conv-staff:{request.conversation_id}:{request.idempotency_key}",
            conversation_id=request.conversation_id,
            thread_id=row["email_thread_id"],
            subject=row["email_subject"],
        )
        try:
            sent = await self.engine.deps.channel.send(send)
        except DependencyDown as exc:
            raise Unavailable(f"gateway unavailable, retry with the same key: {exc}") from exc
        except DependencyError as exc:
            if exc.code.name == "INVALID_ARGUMENT":
                raise InvalidArgument(f"gateway rejected the message: {exc.detail}") from exc
            raise Unavailable(f"gateway could not send: {exc.detail}") from exc
        updated = await self.repo.mark_sent(
            request.conversation_id,
            reply_id,
            sent.message_id,
            int(sent.status) or message_pb2.DELIVERY_STATUS_SENT,
        )
        return conv_pb2.ReplyAsStaffResponse(message=message_pb(updated))

    @stores_down_unavailable
    async def ReleaseHandoff(
        self, request: conv_pb2.ReleaseHandoffRequest, context: Any
    ) -> conv_pb2.ReleaseHandoffResponse:
        violations: dict[str, str] = {}
        if not request.conversation_id:
            violations["conversation_id"] = "required"
        _raise(violations)
        staff = acting_staff(context, request.staff_id)
        _hotel_guard(
            staff,
            await self.repo.get_conversation(request.conversation_id),
            f"conversation {request.conversation_id}",
        )
        row = await self.repo.release_handoff(request.conversation_id, staff.staff_id, staff.name)
        if row is None:
            raise NotFound(f"conversation {request.conversation_id} not found")
        # Start the dialogue fresh: whatever the agent was waiting for is stale now.
        async with self.engine.sessions.lock(request.conversation_id):
            session = await self.engine.sessions.load(request.conversation_id, row["hotel_id"])
            session.pending = None
            session.misunderstood = 0
            session.draft = {}
            session.manage = {}
            await self.engine.sessions.save(session)
        return conv_pb2.ReleaseHandoffResponse(conversation=conversation_pb(row))

    @stores_down_unavailable
    async def ListTasks(
        self, request: conv_pb2.ListTasksRequest, context: Any
    ) -> conv_pb2.ListTasksResponse:
        violations: dict[str, str] = {}
        size = _page_size(request.page_size, "page_size", violations)
        _check_token(request.page_token, "page_token", violations)
        if request.status not in conv_pb2.TaskStatus.values():
            violations["status"] = "unknown status"
        _raise(violations)
        hotel_id = scoped_hotel(acting_staff(context), request.hotel_id)
        rows, token = await self.repo.list_tasks(
            hotel_id=hotel_id,
            status=int(request.status),
            page_size=size,
            page_token=request.page_token,
        )
        return conv_pb2.ListTasksResponse(tasks=[task_pb(r) for r in rows], next_page_token=token)

    @stores_down_unavailable
    async def CompleteTask(
        self, request: conv_pb2.CompleteTaskRequest, context: Any
    ) -> conv_pb2.CompleteTaskResponse:
        violations: dict[str, str] = {}
        task_id: uuid.UUID | None = None
        try:
            task_id = uuid.UUID(request.task_id)
        except ValueError:
            violations["task_id"] = "must be a task id from ListTasks"
        if len(request.note) > 2000:
            violations["note"] = "at most 2000 characters"
        _raise(violations)
        assert task_id is not None
        staff = acting_staff(context, request.staff_id)
        _hotel_guard(staff, await self.repo.get_task(task_id), f"task {request.task_id}")
        row = await self.repo.complete_task(task_id, staff.staff_id, request.note, staff.name)
        if row is None:
            raise NotFound(f"task {request.task_id} not found")
        return conv_pb2.CompleteTaskResponse(task=task_pb(row))

    @stores_down_unavailable
    async def OpenTask(
        self, request: conv_pb2.OpenTaskRequest, context: Any
    ) -> conv_pb2.OpenTaskResponse:
        """A task for staff from outside the dialogue (the gateway: a dead-lettered message).

        Never NOT_FOUND: a first message that was dead-lettered has no conversation yet, so the
        conversation is created from `message` as HandleMessage would have done.
        """
        violations: dict[str, str] = {}
        m = request.message
        has_message = request.HasField("message")
        if not request.conversation_id.strip():
            violations["conversation_id"] = "required"
        if not request.description.strip():
            violations["description"] = "required (what staff should do)"
        elif len(request.description) > 2000:
            violations["description"] = "at most 2000 characters"
        if not request.idempotency_key.strip():
            violations["idempotency_key"] = "required (the gateway sends the inbound message id)"
        elif len(request.idempotency_key) > 1000:
            violations["idempotency_key"] = "at most 1000 characters"
        if (
            request.kind == conv_pb2.TASK_KIND_UNSPECIFIED
            or request.kind not in conv_pb2.TaskKind.values()
        ):
            violations["kind"] = "a known task kind such as TASK_KIND_UNANSWERED_MESSAGE"
        hotel_id = request.hotel_id or (m.hotel_id if has_message else "")
        if request.hotel_id and has_message and m.hotel_id and m.hotel_id != request.hotel_id:
            violations["message.hotel_id"] = "must match hotel_id"
        if has_message:
            if m.conversation_id and m.conversation_id != request.conversation_id:
                violations["message.conversation_id"] = "must match conversation_id"
            if not m.guest.id:
                violations["message.guest.id"] = "required"
            if m.channel not in message_pb2.Channel.values() or (
                m.channel == message_pb2.CHANNEL_UNSPECIFIED
            ):
                violations["message.channel"] = "must be WHATSAPP or GMAIL"
        for name in ("conversation_id", "hotel_id", "idempotency_key", "description"):
            if "\x00" in getattr(request, name):
                violations[name] = "must not contain NUL"
        if has_message and "\x00" in m.guest.id + m.hotel_id + m.conversation_id:
            violations["message"] = "ids must not contain NUL"
        _raise(violations)
        bind_context(conversation_id=request.conversation_id)
        message: message_pb2.InboundMessage | None = None
        if has_message:
            message = message_pb2.InboundMessage()
            message.CopyFrom(m)
            message.conversation_id = request.conversation_id
            message.hotel_id = hotel_id or self.default_hotel_id
            message.media.ClearField("data")  # the history keeps the words, not the bytes
            clean_inbound(message)  # a guest's too long text is cut, as HandleMessage does
        unanswered = request.kind == conv_pb2.TASK_KIND_UNANSWERED_MESSAGE
        try:
            opened = await self.repo.open_task(
                OpenTaskRecord(
                    conversation_id=request.conversation_id,
                    hotel_id=hotel_id,
                    kind=int(request.kind),
                    description=request.description.strip(),
                    idempotency_key=request.idempotency_key,
                    history_text=_task_history_text(request.description.strip(), message),
                    default_language=self.engine.config.default_language,
                    message=message,
                    handoff_reason=UNANSWERED_REASON if unanswered else "",
                )
            )
        except TaskRefused as exc:
            raise InvalidArgument(
                f"invalid request: {exc.field}: {exc.reason}",
                field_violations={exc.field: exc.reason},
            ) from exc
        log.info(
            "task_opened" if opened.created else "task_open_repeated",
            task_id=str(opened.task["task_id"]),
            kind=conv_pb2.TaskKind.Name(request.kind),
        )
        return conv_pb2.OpenTaskResponse(task=task_pb(opened.task), language=opened.language)


def _task_history_text(description: str, message: message_pb2.InboundMessage | None) -> str:
    """The history line staff read: the task, and what the guest wrote when it is known."""
    text = f"Task opened: {description}"
    if message is None:
        return text
    words = (message.text or message.media.caption).strip()
    if words:
        return f"{text}\nGuest wrote: {words[:1000]}{'…' if len(words) > 1000 else ''}"
    if message.kind == 0 or message.kind not in message_pb2.MessageKind.values():
        return f"{text}\nGuest sent a message without text."
    kind = message_pb2.MessageKind.Name(message.kind).removeprefix("MESSAGE_KIND_").lower()
    return f"{text}\nGuest sent a {kind} message."


# The staff console's RPCs get the same "store down → UNAVAILABLE" mapping as the others.
for _name in ("TakeOverConversation", "AddNote", "ReopenTask", "GetMessageMedia"):
    setattr(
        ConversationServicer,
        _name,
        stores_down_unavailable(getattr(staff_api.StaffConsoleRpcs, _name)),
    )
