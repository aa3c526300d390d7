"""History in PostgreSQL (asyncpg): conversations, messages, bookings, handoffs, tasks.

Enum columns store the proto enum numbers (hotel.conversation.v1 / hotel.channel.v1), so the
servicer maps rows to messages without translation tables. One handled turn is written in
one transaction (`record_turn`), which is also the durable idempotency record: the inbound
message row is unique per conversation, and the outbound rows keep the serialized replies so a
redelivered message gets exactly the replies of the first time.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

from .staff_store import SUMMARY_COLUMNS, record_event, search_clause

ACTIVE = conv_pb2.CONVERSATION_STATE_ACTIVE
HANDED_OFF = conv_pb2.CONVERSATION_STATE_HANDED_OFF
INBOUND = conv_pb2.DIRECTION_INBOUND
OUTBOUND = conv_pb2.DIRECTION_OUTBOUND


@dataclass
class NewTask:
    kind: int
    description: str
    booking_reference: str = ""
    # The hotel the guest chose in this conversation; empty = the one the channel belongs to.
    hotel_id: str = ""


# Who the history names for what the service records by itself (not a staff member).
SYSTEM_STAFF_ID = "posada"
SYSTEM_STAFF_NAME = "Posada"


class TaskRefused(ValueError):
    """OpenTask cannot be honoured as asked (`field`: which request field says why)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class OpenTaskRecord:
    """A task someone outside the dialogue asks for (OpenTask), already validated."""

    conversation_id: str
    hotel_id: str  # as the caller named it; "" = the conversation's own
    kind: int
    description: str
    idempotency_key: str
    history_text: str  # what the conversation's history shows staff
    default_language: str  # of a conversation this call has to create
    message: message_pb2.InboundMessage | None = None  # creates the conversation if unknown
    handoff_reason: str = ""  # non-empty: a person must answer the guest


@dataclass
class OpenedTask:
    task: asyncpg.Record
    language: str  # the conversation's language, "" while no turn has set it
    created: bool  # False: the idempotency key had opened it already


@dataclass
class NewBooking:
    idempotency_key: str
    booking_id: str
    reference: str
    room_type_id: str
    room_type_name: str
    check_in: dt.date
    check_out: dt.date
    adults: int
    children: int
    total_minor: int
    currency_code: str
    status: int
    hotel_id: str = ""


@dataclass
class TurnRecord:
    """Everything one handled inbound message changes, written atomically."""

    message: message_pb2.InboundMessage
    text: str
    intent: str
    language: str
    replies: Sequence[message_pb2.Reply]
    reply_texts: Sequence[str]
    reply_intents: Sequence[str]
    handoff_reason: str = ""  # non-empty: the conversation is handed off by this turn
    tasks: list[NewTask] = field(default_factory=list)
    bookings: list[NewBooking] = field(default_factory=list)
    booking_status_updates: list[tuple[str, int]] = field(
        default_factory=list
    )  # (reference, status)
    # The hotel the conversation is about now (the guest may have chosen another one than the
    # channel's); empty = unchanged. Staff lists and the bookings follow it.
    hotel_id: str = ""


def encode_token(*parts: Any) -> str:
    raw = json.dumps([p.isoformat() if isinstance(p, dt.datetime) else p for p in parts])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(token: str) -> list[Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed page token") from exc
    if not isinstance(value, list):
        raise ValueError("malformed page token")
    return value


class Repository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    # -- conversations ------------------------------------------------------------------

    async def ensure_conversation(
        self,
        message: message_pb2.InboundMessage,
        default_language: str,
        conn: asyncpg.Connection | None = None,
    ) -> asyncpg.Record:
        """The conversation row, created from its first message (`conn`: inside a transaction)."""
        guest = message.guest
        return await (conn or self.pool).fetchrow(
            """INSERT INTO conversations (conversation_id, hotel_id, channel, business_account_id,
                   guest_id, guest_phone, guest_email, guest_name, language, email_thread_id,
                   email_subject)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (conversation_id) DO UPDATE SET
                   guest_phone = COALESCE(NULLIF(EXCLUDED.guest_phone, ''), conversations.guest_phone),
                   guest_email = COALESCE(NULLIF(EXCLUDED.guest_email, ''), conversations.guest_email),
                   guest_name = COALESCE(NULLIF(EXCLUDED.guest_name, ''), conversations.guest_name),
                   email_thread_id = COALESCE(
                       NULLIF(EXCLUDED.email_thread_id, ''), conversations.email_thread_id),
                   email_subject = COALESCE(NULLIF(EXCLUDED.email_subject, ''), conversations.email_subject)
               RETURNING *""",
            message.conversation_id,
            message.hotel_id,
            int(message.channel),
            message.business_account_id,
            guest.id,
            guest.phone,
            guest.email,
            guest.display_name,
            default_language,
            message.thread_id,
            message.subject[:500],
        )

    async def get_conversation(self, conversation_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT * FROM conversations WHERE conversation_id = $1", conversation_id
        )

    async def list_conversations(
        self,
        *,
        hotel_id: str = "",
        state: int = 0,
        since: dt.datetime | None = None,
        page_size: int = 50,
        page_token: str = "",
        query: str = "",
        channel: int = 0,
        language: str = "",
        updated_since: dt.datetime | None = None,
    ) -> tuple[list[asyncpg.Record], str]:
        clauses: list[str] = []
        args: list[Any] = []
        if hotel_id:
            args.append(hotel_id)
            clauses.append(f"c.hotel_id = ${len(args)}")
        if state:
            args.append(state)
            clauses.append(f"c.state = ${len(args)}")
        if since is not None:
            args.append(since)
            clauses.append(f"c.last_message_at >= ${len(args)}")
        if channel:
            args.append(channel)
            clauses.append(f"c.channel = ${len(args)}")
        if language:
            args.append(language)
            clauses.append(f"c.language = ${len(args)}")
        if updated_since is not None:
            args.append(updated_since)
            clauses.append(f"c.updated_at >= ${len(args)}")
        if query.strip():
            clauses.append(search_clause(query, args))
        if page_token:
            last_at, last_id = decode_token(page_token)
            args.extend([dt.datetime.fromisoformat(last_at), last_id])
            clauses.append(
                f"(c.last_message_at, c.conversation_id) < (${len(args) - 1}, ${len(args)})"
            )
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        args.append(page_size + 1)
        rows = await self.pool.fetch(
            f"SELECT c.*, {SUMMARY_COLUMNS} FROM conversations c {where} "
            f"ORDER BY c.last_message_at DESC, c.conversation_id DESC LIMIT ${len(args)}",
            *args,
        )
        token = ""
        if len(rows) > page_size:
            rows = rows[:page_size]
            token = encode_token(rows[-1]["last_message_at"], rows[-1]["conversation_id"])
        return list(rows), token

    async def list_messages(self, conversation_id: str, limit: int) -> list[asyncpg.Record]:
        rows = await self.pool.fetch(
            """SELECT m.*, (mm.provider_message_id IS NOT NULL) AS has_stored_media
               FROM messages m LEFT JOIN message_media mm
                 ON mm.conversation_id = m.conversation_id AND m.direction = 1
                AND mm.provider_message_id = m.provider_message_id
               WHERE m.conversation_id = $1 ORDER BY m.id DESC LIMIT $2""",
            conversation_id,
            limit,
        )
        return list(reversed(rows))

    # -- idempotency --------------------------------------------------------------------

    async def replies_for(
        self, conversation_id: str, message_id: str
    ) -> list[message_pb2.Reply] | None:
        """Replies stored for an inbound message already handled, or None if it is new."""
        async with self.pool.acquire() as conn:
            seen = await conn.fetchval(
                "SELECT 1 FROM messages WHERE conversation_id = $1 AND direction = $2 "
                "AND provider_message_id = $3",
                conversation_id,
                INBOUND,
                message_id,
            )
            if not seen:
                return None
            rows = await conn.fetch(
                "SELECT payload FROM messages WHERE conversation_id = $1 AND direction = $2 "
                "AND in_reply_to = $3 AND payload IS NOT NULL ORDER BY id",
                conversation_id,
                OUTBOUND,
                message_id,
            )
        return [message_pb2.Reply.FromString(r["payload"]) for r in rows]

    # -- one turn -----------------------------------------------------------------------

    async def record_turn(self, turn: TurnRecord) -> None:
        m = turn.message
        cid = m.conversation_id
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO messages (conversation_id, direction, author, kind,
                       provider_message_id, text, intent, status)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
                   ON CONFLICT DO NOTHING""",
                cid,
                INBOUND,
                conv_pb2.AUTHOR_GUEST,
                int(m.kind) or message_pb2.MESSAGE_KIND_TEXT,
                m.message_id,
                turn.text,
                turn.intent,
            )
            for reply, text, intent in zip(
                turn.replies, turn.reply_texts, turn.reply_intents, strict=True
            ):
                kind = (
                    message_pb2.MESSAGE_KIND_AUDIO
                    if reply.WhichOneof("content") == "audio"
                    else message_pb2.MESSAGE_KIND_TEXT
                )
                await conn.execute(
                    """INSERT INTO messages (conversation_id, direction, author, kind, reply_id,
                           in_reply_to, text, intent, status, payload)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                       ON CONFLICT DO NOTHING""",
                    cid,
                    OUTBOUND,
                    conv_pb2.AUTHOR_AGENT,
                    kind,
                    reply.reply_id,
                    m.message_id,
                    text,
                    intent,
                    message_pb2.DELIVERY_STATUS_QUEUED,
                    reply.SerializeToString(),
                )
            if turn.handoff_reason:
                await conn.execute(
                    "UPDATE conversations SET state = $2, handoff_reason = $3 "
                    "WHERE conversation_id = $1",
                    cid,
                    HANDED_OFF,
                    turn.handoff_reason,
                )
                await conn.execute(
                    "INSERT INTO handoffs (conversation_id, reason) VALUES ($1, $2) "
                    "ON CONFLICT DO NOTHING",
                    cid,
                    turn.handoff_reason,
                )
            for task in turn.tasks:
                await conn.execute(
                    """INSERT INTO tasks (task_id, conversation_id, hotel_id, kind, description,
                           booking_reference) VALUES ($1, $2, $3, $4, $5, $6)""",
                    uuid.uuid4(),
                    cid,
                    task.hotel_id or m.hotel_id,
                    task.kind,
                    task.description,
                    task.booking_reference,
                )
            for b in turn.bookings:
                await conn.execute(
                    """INSERT INTO bookings (idempotency_key, conversation_id, hotel_id, booking_id,
                           reference, room_type_id, room_type_name, check_in, check_out, adults,
                           children, total_minor, currency_code, status)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                       ON CONFLICT (idempotency_key) DO NOTHING""",
                    b.idempotency_key,
                    cid,
                    b.hotel_id or m.hotel_id,
                    b.booking_id,
                    b.reference,
                    b.room_type_id,
                    b.room_type_name,
                    b.check_in,
                    b.check_out,
                    b.adults,
                    b.children,
                    b.total_minor,
                    b.currency_code,
                    b.status,
                )
            for reference, status in turn.booking_status_updates:
                await conn.execute(
                    "UPDATE bookings SET status = $3, updated_at = now() "
                    "WHERE hotel_id = $1 AND reference = $2",
                    turn.hotel_id or m.hotel_id,
                    reference,
                    status,
                )
            await conn.execute(
                "UPDATE conversations SET language = $2, last_message_at = now(), "
                "hotel_id = COALESCE(NULLIF($3, ''), hotel_id) WHERE conversation_id = $1",
                cid,
                turn.language,
                turn.hotel_id,
            )

    # -- delivery and staff -------------------------------------------------------------

    async def record_delivery(
        self,
        conversation_id: str,
        reply_id: str,
        provider_message_id: str,
        status: int,
        error: str,
    ) -> bool:
        """Updates the outbound row by reply id, else by provider id. False if none matched.

        Statuses only move forward (sent < delivered < read < played), except FAILED, which
        always wins: providers deliver status webhooks out of order.
        """
        progress = "CASE WHEN $4 = 6 OR (status <> 6 AND $4 > status) THEN $4 ELSE status END"
        if reply_id:
            result = await self.pool.execute(
                f"""UPDATE messages SET status = {progress},
                        provider_message_id = COALESCE(NULLIF($3, ''), provider_message_id),
                        error = CASE WHEN $5 <> '' THEN $5 ELSE error END, updated_at = now()
                    WHERE conversation_id = $1 AND reply_id = $2 AND direction = 2""",
                conversation_id,
                reply_id,
                provider_message_id,
                status,
                error,
            )
        else:
            result = await self.pool.execute(
                f"""UPDATE messages SET status = {progress},
                        error = CASE WHEN $5 <> '' THEN $5 ELSE error END, updated_at = now()
                    WHERE conversation_id = $1 AND provider_message_id = $3 AND direction = 2
                      AND $2 = ''""",
                conversation_id,
                reply_id,
                provider_message_id,
                status,
                error,
            )
        return result.split()[-1] != "0"

    async def staff_message(self, conversation_id: str, reply_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT * FROM messages WHERE conversation_id = $1 AND reply_id = $2",
            conversation_id,
            reply_id,
        )

    async def record_staff_message(
        self,
        conversation_id: str,
        reply_id: str,
        text: str,
        staff_id: str,
        provider_message_id: str,
        status: int,
        payload: bytes,
        staff_name: str = "",
    ) -> asyncpg.Record:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """INSERT INTO messages (conversation_id, direction, author, kind, reply_id,
                       provider_message_id, text, intent, status, payload, staff_name)
                   VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9, $10, $11)
                   ON CONFLICT DO NOTHING RETURNING *""",
                conversation_id,
                OUTBOUND,
                conv_pb2.AUTHOR_STAFF,
                message_pb2.MESSAGE_KIND_TEXT,
                reply_id,
                provider_message_id,
                text,
                f"staff:{staff_id}",
                status,
                payload,
                staff_name,
            )
            if row is None:
                row = await conn.fetchrow(
                    "SELECT * FROM messages WHERE conversation_id = $1 AND reply_id = $2",
                    conversation_id,
                    reply_id,
                )
            await conn.execute(
                "UPDATE conversations SET last_message_at = now() WHERE conversation_id = $1",
                conversation_id,
            )
        return row

    async def mark_sent(
        self, conversation_id: str, reply_id: str, provider_message_id: str, status: int
    ) -> asyncpg.Record:
        """The gateway accepted a staff message: store its provider id (status never goes back)."""
        return await self.pool.fetchrow(
            """UPDATE messages SET provider_message_id = NULLIF($3, ''),
                   status = CASE WHEN status > $4 THEN status ELSE $4 END, updated_at = now()
               WHERE conversation_id = $1 AND reply_id = $2 RETURNING *""",
            conversation_id,
            reply_id,
            provider_message_id,
            status,
        )

    async def hand_off(self, conversation_id: str, reason: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE conversations SET state = $2, handoff_reason = $3 WHERE conversation_id = $1",
                conversation_id,
                HANDED_OFF,
                reason,
            )
            await conn.execute(
                "INSERT INTO handoffs (conversation_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                conversation_id,
                reason,
            )

    async def record_notice(
        self,
        conversation_id: str,
        in_reply_to: str,
        reply: message_pb2.Reply,
        text: str,
        template: str,
    ) -> None:
        """An agent message outside a turn (the holding reply of a deferred turn): kept in the
        history for staff and delivery statuses, but with no payload, so a redelivered message
        is never answered with it again."""
        await self.pool.execute(
            """INSERT INTO messages (conversation_id, direction, author, kind, reply_id,
                   in_reply_to, text, intent, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
            conversation_id,
            OUTBOUND,
            conv_pb2.AUTHOR_AGENT,
            message_pb2.MESSAGE_KIND_TEXT,
            reply.reply_id,
            in_reply_to,
            text,
            template,
            message_pb2.DELIVERY_STATUS_QUEUED,
        )

    async def release_fault_handoff(self, conversation_id: str) -> None:
        """The agent takes back a conversation a fault handed off (only if still a fault
        handoff: a staff reply in between made it theirs) and closes the fault's tasks."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE conversations SET state = $2, handoff_reason = '' "
                "WHERE conversation_id = $1 AND state = $3 AND handoff_reason LIKE 'fault:%' "
                "AND coalesce(assigned_staff_id, '') = '' "
                "RETURNING conversation_id",
                conversation_id,
                ACTIVE,
                HANDED_OFF,
            )
            if row is None:
                return
            await conn.execute(
                "UPDATE handoffs SET released_at = now(), released_by = 'agent:recovered' "
                "WHERE conversation_id = $1 AND released_at IS NULL",
                conversation_id,
            )
            await conn.execute(
                "UPDATE tasks SET status = $2, completed_at = now(), completed_by = 'agent', "
                "note = 'the service recovered; the agent answered the guest again' "
                "WHERE conversation_id = $1 AND kind = $3 AND status = $4 "
                "AND description LIKE 'Fault handoff%'",
                conversation_id,
                conv_pb2.TASK_STATUS_DONE,
                conv_pb2.TASK_KIND_HANDOFF,
                conv_pb2.TASK_STATUS_OPEN,
            )

    async def release_handoff(
        self, conversation_id: str, staff_id: str, staff_name: str = ""
    ) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn, conn.transaction():
            before = await conn.fetchval(
                "SELECT state FROM conversations WHERE conversation_id = $1 FOR UPDATE",
                conversation_id,
            )
            row = await conn.fetchrow(
                "UPDATE conversations SET state = $2, handoff_reason = '', assigned_staff_id = '', "
                "assigned_staff_name = '', assigned_at = NULL "
                "WHERE conversation_id = $1 RETURNING *",
                conversation_id,
                ACTIVE,
            )
            if row is None:
                return None
            await conn.execute(
                "UPDATE handoffs SET released_at = now(), released_by = $2 "
                "WHERE conversation_id = $1 AND released_at IS NULL",
                conversation_id,
                staff_id,
            )
            if before == HANDED_OFF:
                await record_event(
                    conn,
                    conversation_id,
                    conv_pb2.STAFF_EVENT_KIND_RELEASE,
                    staff_id,
                    staff_name,
                )
        return row

    # -- tasks --------------------------------------------------------------------------

    async def list_tasks(
        self, *, hotel_id: str = "", status: int = 0, page_size: int = 50, page_token: str = ""
    ) -> tuple[list[asyncpg.Record], str]:
        clauses: list[str] = []
        args: list[Any] = []
        if hotel_id:
            args.append(hotel_id)
            clauses.append(f"hotel_id = ${len(args)}")
        if status:
            args.append(status)
            clauses.append(f"status = ${len(args)}")
        if page_token:
            last_at, last_id = decode_token(page_token)
            args.extend([dt.datetime.fromisoformat(last_at), uuid.UUID(last_id)])
            clauses.append(f"(created_at, task_id) < (${len(args) - 1}, ${len(args)})")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        args.append(page_size + 1)
        rows = await self.pool.fetch(
            f"SELECT * FROM tasks {where} ORDER BY created_at DESC, task_id DESC LIMIT ${len(args)}",
            *args,
        )
        token = ""
        if len(rows) > page_size:
            rows = rows[:page_size]
            token = encode_token(rows[-1]["created_at"], str(rows[-1]["task_id"]))
        return list(rows), token

    async def open_task(self, request: OpenTaskRecord) -> OpenedTask:
        """Opens a task once per (conversation, idempotency key), in one transaction.

        The first call creates the conversation if no turn ever did (a dead-lettered first
        message), stores the task, writes it into the history and, for an unanswered message,
        hands the conversation to a person. A repeated key returns the first task and changes
        nothing. Raises `TaskRefused` (nothing written) when the request cannot be honoured.
        """
        cid = request.conversation_id
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM conversations WHERE conversation_id = $1 FOR UPDATE", cid
            )
            if row is None:
                m = request.message
                if m is None:
                    raise TaskRefused(
                        "message",
                        f"required: conversation {cid} is not known yet, and its guest and "
                        "channel come from the message",
                    )
                row = await self.ensure_conversation(m, request.default_language, conn)
            if request.hotel_id and row["hotel_id"] != request.hotel_id:
                raise TaskRefused("hotel_id", f"conversation {cid} belongs to another hotel")
            known = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 "
                "AND direction = $2)",
                cid,
                INBOUND,
            )
            # A handled turn writes the language with the message; before one it is a guess.
            language = row["language"] if known else ""
            task = await conn.fetchrow(
                """INSERT INTO tasks (task_id, conversation_id, hotel_id, kind, description,
                       booking_reference, idempotency_key) VALUES ($1, $2, $3, $4, $5, '', $6)
                   ON CONFLICT (conversation_id, idempotency_key)
                       WHERE idempotency_key IS NOT NULL DO NOTHING
                   RETURNING *""",
                uuid.uuid4(),
                cid,
                row["hotel_id"],
                request.kind,
                request.description,
                request.idempotency_key,
            )
            if task is None:
                task = await conn.fetchrow(
                    "SELECT * FROM tasks WHERE conversation_id = $1 AND idempotency_key = $2",
                    cid,
                    request.idempotency_key,
                )
                return OpenedTask(task, language, created=False)
            await record_event(
                conn,
                cid,
                conv_pb2.STAFF_EVENT_KIND_NOTE,
                SYSTEM_STAFF_ID,
                SYSTEM_STAFF_NAME,
                request.history_text,
                f"task:{request.idempotency_key}",
            )
            if request.handoff_reason:
                # Staff already on it keep their reason; otherwise say why a person is needed.
                await conn.execute(
                    """UPDATE conversations SET state = $2,
                           handoff_reason = CASE WHEN state = $2 AND assigned_staff_id <> ''
                                                 THEN handoff_reason ELSE $3 END
                       WHERE conversation_id = $1""",
                    cid,
                    HANDED_OFF,
                    request.handoff_reason,
                )
                await conn.execute(
                    "INSERT INTO handoffs (conversation_id, reason) VALUES ($1, $2) "
                    "ON CONFLICT DO NOTHING",
                    cid,
                    request.handoff_reason,
                )
            else:
                # Touch the conversation so live views see the new task.
                await conn.execute(
                    "UPDATE conversations SET assigned_at = assigned_at WHERE conversation_id = $1",
                    cid,
                )
        return OpenedTask(task, language, created=True)

    async def get_task(self, task_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)

    async def complete_task(
        self, task_id: uuid.UUID, staff_id: str, note: str, staff_name: str = ""
    ) -> asyncpg.Record | None:
        """Marks a task done; completing a done task again returns it unchanged (idempotent)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """UPDATE tasks SET status = $2, completed_at = now(), completed_by = $3, note = $4,
                       completed_by_name = $5
                   WHERE task_id = $1 AND status <> $2 RETURNING *""",
                task_id,
                conv_pb2.TASK_STATUS_DONE,
                staff_id,
                note,
                staff_name,
            )
            if row is None:
                return await conn.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)
            await record_event(
                conn,
                row["conversation_id"],
                conv_pb2.STAFF_EVENT_KIND_TASK_DONE,
                staff_id,
                staff_name,
                row["description"],
            )
        return row

    async def bookings_of(self, conversation_id: str) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT * FROM bookings WHERE conversation_id = $1 ORDER BY created_at",
                conversation_id,
            )
        )

    async def bookings_of_reference(self, reference: str) -> list[asyncpg.Record]:
        return list(await self.pool.fetch("SELECT * FROM bookings WHERE reference = $1", reference))
