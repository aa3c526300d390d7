"""What one turn works with: the understood message, the replies and side effects it produces.

These are plain data holders shared by every part of the policy, kept apart so that the
flows (availability, booking, managing, ...) depend on them and not on each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hotel.channel.v1 import message_pb2

from ..i18n import Catalog
from ..repository import NewBooking, NewTask
from ..sessions import Session

BUTTON_PREFIXES = ("menu:", "adults:", "offer:", "confirm:", "manage:", "hotel:")


def is_our_button(button_id: str) -> bool:
    """Ids of buttons/rows this policy sent; anything else is parsed as text."""
    return button_id == "human" or button_id.startswith(BUTTON_PREFIXES)


@dataclass
class Understanding:
    text: str
    language: str
    intent: str = ""
    confidence: float = 0.0
    entities: dict[str, list[str]] = field(default_factory=dict)
    interactive_id: str = ""
    # The message's clauses, each understood on its own, when it has more than one.
    clauses: list[Understanding] = field(default_factory=list)

    def first(self, kind: str) -> str:
        values = self.entities.get(kind) or []
        return values[0] if values else ""


@dataclass
class OutReply:
    reply: message_pb2.Reply  # without reply_id; the orchestrator numbers them
    text: str
    template: str


@dataclass
class Outcome:
    replies: list[OutReply] = field(default_factory=list)
    tasks: list[NewTask] = field(default_factory=list)
    bookings: list[NewBooking] = field(default_factory=list)
    booking_status_updates: list[tuple[str, int]] = field(default_factory=list)
    handoff_reason: str = ""


@dataclass
class Turn:
    session: Session
    understanding: Understanding
    guest: message_pb2.Guest
    channel: int
    today: dt.date
    catalog: Catalog
    out: Outcome = field(default_factory=Outcome)

    # -- reply builders -----------------------------------------------------------------

    def say(self, key: str, *, preview_url: bool = False, **values: Any) -> str:
        body = self.catalog.text(key, **values)
        self.out.replies.append(
            OutReply(
                message_pb2.Reply(text=message_pb2.TextReply(body=body, preview_url=preview_url)),
                body,
                key,
            )
        )
        return body

    def buttons(self, key: str, buttons: list[tuple[str, str]], **values: Any) -> None:
        body = self.catalog.text(key, **values)
        reply = message_pb2.Reply(
            buttons=message_pb2.ButtonsReply(
                body=body,
                buttons=[
                    message_pb2.Button(id=i, title=self.catalog.text(f"buttons.{t}")[:20])
                    for i, t in buttons[:3]
                ],
            )
        )
        self.out.replies.append(OutReply(reply, body, key))

    def listing(
        self, body: str, key: str, label: str, section: str, rows: list[tuple[str, str, str]]
    ) -> None:
        reply = message_pb2.Reply(
            list=message_pb2.ListReply(
                body=body,
                button_label=self.catalog.text(f"buttons.{label}")[:20],
                sections=[
                    message_pb2.ListSection(
                        title=self.catalog.text(f"lists.{section}")[:24],
                        rows=[
                            message_pb2.ListRow(id=i, title=t[:24], description=d[:72])
                            for i, t, d in rows[:10]
                        ],
                    )
                ],
            )
        )
        self.out.replies.append(OutReply(reply, body, key))
