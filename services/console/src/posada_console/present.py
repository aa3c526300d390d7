"""Turning contract messages into what a page shows: ages, money, dates, one merged timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2

MINOR_DIGITS = {"JPY": 0, "CLP": 0, "KRW": 0}


def path_id(conversation_id: str) -> str:
    return quote(conversation_id, safe=":@")


def when(ts: Any) -> dt.datetime | None:
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return None
    return ts.ToDatetime(tzinfo=dt.UTC)


def age(ts: Any, t: Any, now: dt.datetime | None = None) -> str:
    """'5 min', '3 h', '2 d' since `ts` (empty when unset)."""
    moment = when(ts)
    if moment is None:
        return ""
    seconds = ((now or dt.datetime.now(dt.UTC)) - moment).total_seconds()
    if seconds < 60:
        return str(t("just_now"))
    if seconds < 3600:
        return str(t("minutes", n=int(seconds // 60)))
    if seconds < 86400:
        return str(t("hours", n=int(seconds // 3600)))
    return str(t("days", n=int(seconds // 86400)))


def clock(ts: Any) -> str:
    moment = when(ts)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def money(value: Any, language: str) -> str:
    digits = MINOR_DIGITS.get(value.currency_code, 2)
    amount = value.amount_minor / (10**digits)
    text = f"{amount:,.{digits}f}"
    if language == "es":
        text = text.replace(",", "\u2009").replace(".", ",")
    return f"{text} {value.currency_code}"


def date(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}" if value.year else ""


def booking_status(status: int) -> str:
    name = pms_pb2.BookingStatus.Name(status) if status in pms_pb2.BookingStatus.values() else ""
    return name.removeprefix("BOOKING_STATUS_").lower()


def attention_order(conversations: list[conv_pb2.Conversation]) -> list[conv_pb2.Conversation]:
    """Handed-off first, then guests waiting for an answer (longest wait first), then recent."""

    def key(c: conv_pb2.Conversation) -> tuple[int, int, float]:
        handed = c.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
        waiting = when(c.waiting_since)
        last = when(c.last_message_at)
        stamp = waiting.timestamp() if waiting else -(last.timestamp() if last else 0)
        return (0 if handed else 1, 0 if waiting else 1, stamp)

    return sorted(conversations, key=key)


@dataclass
class Entry:
    """One line of the history: a message, a staff action or a booking."""

    kind: str  # message | event | booking
    at: dt.datetime
    item: Any
    extra: dict[str, Any] = field(default_factory=dict)


def timeline(detail: conv_pb2.GetConversationResponse) -> list[Entry]:
    epoch = dt.datetime.fromtimestamp(0, dt.UTC)
    entries = [Entry("message", when(m.created_at) or epoch, m) for m in detail.messages]
    entries += [Entry("event", when(e.created_at) or epoch, e) for e in detail.events]
    entries += [Entry("booking", when(b.created_at) or epoch, b) for b in detail.bookings]
    order = {"message": 0, "booking": 1, "event": 2}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]))


def is_audio(message: conv_pb2.ConversationMessage) -> bool:
    return message.kind == message_pb2.MESSAGE_KIND_AUDIO


def is_choice(message: conv_pb2.ConversationMessage) -> bool:
    return message.kind in (
        message_pb2.MESSAGE_KIND_INTERACTIVE_REPLY,
        message_pb2.MESSAGE_KIND_TEMPLATE_BUTTON,
    )


EVENT_KEYS = {
    conv_pb2.STAFF_EVENT_KIND_TAKE_OVER: "event_take_over",
    conv_pb2.STAFF_EVENT_KIND_RELEASE: "event_release",
    conv_pb2.STAFF_EVENT_KIND_NOTE: "event_note",
    conv_pb2.STAFF_EVENT_KIND_TASK_DONE: "event_task_done",
    conv_pb2.STAFF_EVENT_KIND_TASK_REOPENED: "event_task_reopened",
}
AUTHOR_KEYS = {
    conv_pb2.AUTHOR_GUEST: "author_guest",
    conv_pb2.AUTHOR_AGENT: "author_agent",
    conv_pb2.AUTHOR_STAFF: "author_staff",
}
DELIVERY_KEYS = {
    message_pb2.DELIVERY_STATUS_QUEUED: "delivery_queued",
    message_pb2.DELIVERY_STATUS_SENT: "delivery_sent",
    message_pb2.DELIVERY_STATUS_DELIVERED: "delivery_delivered",
    message_pb2.DELIVERY_STATUS_READ: "delivery_read",
    message_pb2.DELIVERY_STATUS_PLAYED: "delivery_played",
    message_pb2.DELIVERY_STATUS_FAILED: "delivery_failed",
}
TASK_KEYS = {
    conv_pb2.TASK_KIND_LATE_CHECKOUT: "task_kind_late_checkout",
    conv_pb2.TASK_KIND_SERVICE_REQUEST: "task_kind_service_request",
    conv_pb2.TASK_KIND_HANDOFF: "task_kind_handoff",
}
