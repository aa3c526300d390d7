"""Staff console RPCs (take-over, notes, task undo, media) and the console's extra fields.

A mixin of `ConversationServicer`, kept in its own module so the servicer's turn path and the
staff additions change independently. Validation works like the rest of the servicer: every
violation is listed in one INVALID_ARGUMENT and nothing is changed.

Who acts is the staff member named by the signed staff token the console sends (the mesh
interceptor verified it; `auth.current_staff()` returns it, PERMISSION_DENIED without one). The
conversation or task must belong to that staff member's hotel, else NOT_FOUND: another hotel's
ids are not even confirmed to exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
from google.protobuf import timestamp_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.type.v1 import date_pb2, money_pb2
from posada_common import auth
from posada_common.errors import InvalidArgument, NotFound, PermissionDenied

from .staff_store import StaffStore, choices_of

if TYPE_CHECKING:
    from .repository import Repository

MAX_NOTE = 4000
MAX_NAME = 200


def _ts(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def _date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def conversation_extras(row: asyncpg.Record) -> dict[str, Any]:
    """Console fields of a conversation row (rows without them map to empty fields)."""
    out: dict[str, Any] = {}
    if row.get("assigned_staff_id"):
        out["assigned_to"] = conv_pb2.StaffRef(
            staff_id=row["assigned_staff_id"], display_name=row["assigned_staff_name"]
        )
        out["assigned_at"] = _ts(row["assigned_at"])
    out["last_intent"] = row.get("last_intent") or ""
    if row.get("waiting_since") is not None:
        out["waiting_since"] = _ts(row["waiting_since"])
    out["version"] = row.get("version") or 0
    if row.get("updated_at") is not None:
        out["updated_at"] = _ts(row["updated_at"])
    return out


def message_extras(row: asyncpg.Record) -> dict[str, Any]:
    payload = row.get("payload")
    out: dict[str, Any] = {"choices": choices_of(payload)}
    has_media = bool(row.get("has_stored_media"))
    if not has_media and payload and row["kind"] == 2:  # MESSAGE_KIND_AUDIO
        has_media = True
    out["has_media"] = has_media
    if row["author"] == conv_pb2.AUTHOR_STAFF:
        intent = row["intent"] or ""
        out["staff"] = conv_pb2.StaffRef(
            staff_id=intent.removeprefix("staff:"), display_name=row.get("staff_name") or ""
        )
    return out


def event_pb(row: asyncpg.Record) -> conv_pb2.StaffEvent:
    return conv_pb2.StaffEvent(
        id=str(row["id"]),
        kind=row["kind"],
        staff=conv_pb2.StaffRef(staff_id=row["staff_id"], display_name=row["staff_name"]),
        text=row["text"],
        created_at=_ts(row["created_at"]),
    )


def booking_pb(row: asyncpg.Record) -> conv_pb2.BookingRecord:
    return conv_pb2.BookingRecord(
        reference=row["reference"],
        booking_id=row["booking_id"],
        room_type_name=row["room_type_name"],
        check_in=_date(row["check_in"]),
        check_out=_date(row["check_out"]),
        adults=row["adults"],
        children=row["children"],
        total=money_pb2.Money(currency_code=row["currency_code"], amount_minor=row["total_minor"]),
        status=row["status"],
        created_at=_ts(row["created_at"]),
        updated_at=_ts(row["updated_at"]),
    )


class Actor:
    """The staff member acting in this call and the hotel they may act on."""

    def __init__(self, ref: conv_pb2.StaffRef, hotel_id: str, manager: bool):
        self.ref = ref
        self.hotel_id = hotel_id
        self.manager = manager

    def may_see(self, hotel_id: str) -> bool:
        return self.hotel_id == hotel_id


def acting(ref: conv_pb2.StaffRef) -> Actor:
    """The staff member named by the call's verified staff token (never the request's word).

    A request whose `staff` names someone else is refused rather than rewritten, so a console
    bug cannot put one person's name on another's action.
    """
    staff = auth.current_staff()
    if ref.staff_id and ref.staff_id != staff.staff_id:
        raise PermissionDenied("staff.staff_id does not match the caller's staff token")
    named = conv_pb2.StaffRef(staff_id=staff.staff_id, display_name=staff.name)
    return Actor(named, staff.hotel_id, staff.is_manager)


def _raise(violations: dict[str, str]) -> None:
    if violations:
        raise InvalidArgument(
            "invalid request: " + ", ".join(sorted(violations)), field_violations=violations
        )


def _task_id(value: str, violations: dict[str, str]) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        violations["task_id"] = "must be a task id from ListTasks"
        return None


class StaffConsoleRpcs:
    """RPCs the staff console needs beyond the original staff API."""

    staff: StaffStore
    repo: Repository

    async def TakeOverConversation(
        self, request: conv_pb2.TakeOverConversationRequest, context: Any
    ) -> conv_pb2.TakeOverConversationResponse:
        from .servicer import conversation_pb

        violations: dict[str, str] = {}
        if not request.conversation_id:
            violations["conversation_id"] = "required"
        actor = acting(request.staff)
        _raise(violations)
        current = await self.staff.conversation(request.conversation_id)
        if current is None or not actor.may_see(current["hotel_id"]):
            raise NotFound(f"conversation {request.conversation_id} not found")
        holder = current["assigned_staff_id"]
        if holder and holder != actor.ref.staff_id and not actor.manager:
            raise PermissionDenied(
                f"{current['assigned_staff_name'] or holder} has this conversation; "
                "only a manager can take it from them"
            )
        row = await self.staff.take_over(
            request.conversation_id, actor.ref.staff_id, actor.ref.display_name
        )
        if row is None:
            raise NotFound(f"conversation {request.conversation_id} not found")
        summary = await self.staff.conversation(request.conversation_id)
        return conv_pb2.TakeOverConversationResponse(conversation=conversation_pb(summary or row))

    async def AddNote(
        self, request: conv_pb2.AddNoteRequest, context: Any
    ) -> conv_pb2.AddNoteResponse:
        violations: dict[str, str] = {}
        if not request.conversation_id:
            violations["conversation_id"] = "required"
        actor = acting(request.staff)
        if not request.text.strip():
            violations["text"] = "required"
        elif len(request.text) > MAX_NOTE:
            violations["text"] = f"at most {MAX_NOTE} characters"
        if not request.idempotency_key.strip():
            violations["idempotency_key"] = "required"
        elif len(request.idempotency_key) > 200:
            violations["idempotency_key"] = "at most 200 characters"
        _raise(violations)
        current = await self.staff.conversation(request.conversation_id)
        if current is None or not actor.may_see(current["hotel_id"]):
            raise NotFound(f"conversation {request.conversation_id} not found")
        row = await self.staff.add_note(
            request.conversation_id,
            actor.ref.staff_id,
            actor.ref.display_name,
            request.text,
            request.idempotency_key,
        )
        if row is None:
            raise NotFound(f"conversation {request.conversation_id} not found")
        return conv_pb2.AddNoteResponse(note=event_pb(row))

    async def ReopenTask(
        self, request: conv_pb2.ReopenTaskRequest, context: Any
    ) -> conv_pb2.ReopenTaskResponse:
        from .servicer import task_pb

        violations: dict[str, str] = {}
        task_id = _task_id(request.task_id, violations)
        actor = acting(request.staff)
        _raise(violations)
        assert task_id is not None
        task = await self.staff.task(task_id)
        if task is None or not actor.may_see(task["hotel_id"]):
            raise NotFound(f"task {request.task_id} not found")
        done_by = task["completed_by"]
        if done_by and done_by != actor.ref.staff_id and not actor.manager:
            raise PermissionDenied("only a manager can undo a colleague's task")
        row = await self.staff.reopen_task(task_id, actor.ref.staff_id, actor.ref.display_name)
        if row is None:
            raise NotFound(f"task {request.task_id} not found")
        return conv_pb2.ReopenTaskResponse(task=task_pb(row))

    async def GetMessageMedia(
        self, request: conv_pb2.GetMessageMediaRequest, context: Any
    ) -> conv_pb2.GetMessageMediaResponse:
        violations: dict[str, str] = {}
        if not request.conversation_id:
            violations["conversation_id"] = "required"
        message_id = 0
        try:
            message_id = int(request.message_id)
        except ValueError:
            violations["message_id"] = "must be a ConversationMessage.id"
        actor = acting(conv_pb2.StaffRef())
        _raise(violations)
        current = await self.staff.conversation(request.conversation_id)
        if current is None or not actor.may_see(current["hotel_id"]):
            raise NotFound(f"conversation {request.conversation_id} not found")
        found = await self.staff.media(request.conversation_id, message_id)
        if found is None:
            raise NotFound(
                f"no audio for message {request.message_id} in {request.conversation_id}"
            )
        data, mime_type = found
        return conv_pb2.GetMessageMediaResponse(data=data, mime_type=mime_type)
