"""What the staff console adds to the history: take-over, notes, task undo, media, summaries.

Kept beside `repository.py` (which owns the turn path) so the two change independently. Every
staff action writes a `staff_events` row in the same transaction as the change it records, so
the history always says who did what. Enum columns hold proto enum numbers, as elsewhere.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

HANDED_OFF = conv_pb2.CONVERSATION_STATE_HANDED_OFF
INBOUND = conv_pb2.DIRECTION_INBOUND
OUTBOUND = conv_pb2.DIRECTION_OUTBOUND
REACTION = message_pb2.MESSAGE_KIND_REACTION

# Per conversation row: the intent of the latest understood guest message, and since when the
# guest has been waiting (oldest guest message after our latest outbound one).
SUMMARY_COLUMNS = f"""
    (SELECT m.intent FROM messages m
       WHERE m.conversation_id = c.conversation_id AND m.direction = {INBOUND}
         AND m.intent <> '' AND m.kind <> {REACTION}
       ORDER BY m.id DESC LIMIT 1) AS last_intent,
    (SELECT min(m.created_at) FROM messages m
       WHERE m.conversation_id = c.conversation_id AND m.direction = {INBOUND}
         AND m.kind <> {REACTION}
         AND m.id > COALESCE((SELECT max(o.id) FROM messages o
                              WHERE o.conversation_id = c.conversation_id
                                AND o.direction = {OUTBOUND}), 0)) AS waiting_since
"""


async def record_event(
    conn: asyncpg.Connection,
    conversation_id: str,
    kind: int,
    staff_id: str,
    staff_name: str,
    text: str = "",
    idempotency_key: str | None = None,
) -> asyncpg.Record | None:
    """One staff action in the history; None when the idempotency key was used already."""
    return await conn.fetchrow(
        """INSERT INTO staff_events (conversation_id, kind, staff_id, staff_name, text,
               idempotency_key) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT DO NOTHING RETURNING *""",
        conversation_id,
        kind,
        staff_id,
        staff_name,
        text,
        idempotency_key,
    )


class StaffStore:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def conversation(self, conversation_id: str) -> asyncpg.Record | None:
        """The conversation row with its summary columns (last intent, waiting since)."""
        return await self.pool.fetchrow(
            f"SELECT c.*, {SUMMARY_COLUMNS} FROM conversations c WHERE c.conversation_id = $1",
            conversation_id,
        )

    async def take_over(
        self, conversation_id: str, staff_id: str, staff_name: str
    ) -> asyncpg.Record | None:
        """Hands the conversation to this staff member; taking it again changes nothing."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM conversations WHERE conversation_id = $1 FOR UPDATE",
                conversation_id,
            )
            if row is None:
                return None
            if row["state"] == HANDED_OFF and row["assigned_staff_id"] == staff_id:
                return row
            await conn.execute(
                """UPDATE conversations SET state = $2,
                       handoff_reason = CASE WHEN state = $2 AND handoff_reason <> ''
                                                  AND handoff_reason NOT LIKE 'fault:%'
                                             THEN handoff_reason ELSE 'staff_takeover' END,
                       assigned_staff_id = $3, assigned_staff_name = $4, assigned_at = now()
                   WHERE conversation_id = $1""",
                conversation_id,
                HANDED_OFF,
                staff_id,
                staff_name,
            )
            await conn.execute(
                "INSERT INTO handoffs (conversation_id, reason) VALUES ($1, 'staff_takeover') "
                "ON CONFLICT DO NOTHING",
                conversation_id,
            )
            await record_event(
                conn, conversation_id, conv_pb2.STAFF_EVENT_KIND_TAKE_OVER, staff_id, staff_name
            )
            return await conn.fetchrow(
                "SELECT * FROM conversations WHERE conversation_id = $1", conversation_id
            )

    async def add_note(
        self, conversation_id: str, staff_id: str, staff_name: str, text: str, key: str
    ) -> asyncpg.Record | None:
        """The note (the first one written with this key); None if the conversation is unknown."""
        async with self.pool.acquire() as conn, conn.transaction():
            exists = await conn.fetchval(
                "SELECT 1 FROM conversations WHERE conversation_id = $1 FOR UPDATE",
                conversation_id,
            )
            if not exists:
                return None
            row = await record_event(
                conn,
                conversation_id,
                conv_pb2.STAFF_EVENT_KIND_NOTE,
                staff_id,
                staff_name,
                text,
                key,
            )
            if row is None:
                return await conn.fetchrow(
                    "SELECT * FROM staff_events WHERE conversation_id = $1 AND idempotency_key = $2",
                    conversation_id,
                    key,
                )
            # Touch the conversation so live views see the note.
            await conn.execute(
                "UPDATE conversations SET assigned_at = assigned_at WHERE conversation_id = $1",
                conversation_id,
            )
            return row

    async def events(self, conversation_id: str) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT * FROM staff_events WHERE conversation_id = $1 ORDER BY id",
                conversation_id,
            )
        )

    async def bookings(self, conversation_id: str) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT * FROM bookings WHERE conversation_id = $1 ORDER BY created_at",
                conversation_id,
            )
        )

    async def task_event(
        self, task: asyncpg.Record, kind: int, staff_id: str, staff_name: str
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await record_event(
                conn, task["conversation_id"], kind, staff_id, staff_name, task["description"]
            )

    async def reopen_task(
        self, task_id: uuid.UUID, staff_id: str, staff_name: str
    ) -> asyncpg.Record | None:
        """Marks a done task open again; reopening an open task returns it unchanged."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """UPDATE tasks SET status = $2, completed_at = NULL, completed_by = '',
                       completed_by_name = '', note = ''
                   WHERE task_id = $1 AND status <> $2 RETURNING *""",
                task_id,
                conv_pb2.TASK_STATUS_OPEN,
            )
            if row is None:
                return await conn.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)
            await record_event(
                conn,
                row["conversation_id"],
                conv_pb2.STAFF_EVENT_KIND_TASK_REOPENED,
                staff_id,
                staff_name,
                row["description"],
            )
            return row

    async def task(self, task_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)

    async def save_media(
        self, conversation_id: str, provider_message_id: str, mime_type: str, data: bytes
    ) -> None:
        """Keeps a guest's voice note so staff can play it (a redelivery changes nothing)."""
        await self.pool.execute(
            """INSERT INTO message_media (conversation_id, provider_message_id, mime_type, data)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            conversation_id,
            provider_message_id,
            mime_type or "application/octet-stream",
            data,
        )

    async def media(self, conversation_id: str, message_id: int) -> tuple[bytes, str] | None:
        """Audio of one history row: the stored voice note, or the spoken reply's payload."""
        row = await self.pool.fetchrow(
            """SELECT m.direction, m.payload, mm.data, mm.mime_type FROM messages m
               LEFT JOIN message_media mm ON mm.conversation_id = m.conversation_id
                    AND mm.provider_message_id = m.provider_message_id AND m.direction = $3
               WHERE m.conversation_id = $1 AND m.id = $2""",
            conversation_id,
            message_id,
            INBOUND,
        )
        if row is None:
            return None
        if row["data"] is not None:
            return bytes(row["data"]), row["mime_type"]
        if row["payload"]:
            reply = message_pb2.Reply.FromString(row["payload"])
            if reply.WhichOneof("content") == "audio" and reply.audio.data:
                return reply.audio.data, reply.audio.mime_type or "audio/ogg"
        return None


def choices_of(payload: bytes | None) -> list[str]:
    """Titles of the buttons or list rows an outbound reply offered."""
    if not payload:
        return []
    reply = message_pb2.Reply.FromString(payload)
    content = reply.WhichOneof("content")
    if content == "buttons":
        return [b.title for b in reply.buttons.buttons]
    if content == "list":
        return [row.title for section in reply.list.sections for row in section.rows]
    return []


def search_clause(query: str, args: list[Any]) -> str:
    """SQL matching `query` against name, e-mail, phone / wa_id digits and booking references."""
    words = query.strip()[:200]
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    args.append(pattern)
    p = f"${len(args)}"
    parts = [
        f"c.guest_name ILIKE {p}",
        f"c.guest_email ILIKE {p}",
        f"EXISTS (SELECT 1 FROM bookings b WHERE b.conversation_id = c.conversation_id "
        f"AND b.reference ILIKE {p})",
    ]
    digits = "".join(ch for ch in words if ch.isdigit())
    if len(digits) >= 3 and len(digits) >= len(words.replace(" ", "").lstrip("+")) - 2:
        args.append(f"%{digits}%")
        d = f"${len(args)}"
        parts.append(f"regexp_replace(c.guest_phone, '\\D', '', 'g') LIKE {d}")
        parts.append(f"c.guest_id LIKE {d}")
    return "(" + " OR ".join(parts) + ")"
