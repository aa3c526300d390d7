"""The e-mail channel behind the gateway's channel port (`channels.base.ChannelAdapter`).

Inbound: Gmail mode exposes `/webhooks/gmail` (push → wake-up; `gmail_sync` reads the mail);
IMAP mode has no route and reads from its IDLE loop. Both hand guest mail to the durable inbox
through `ingest`. Outbound: `render_turn` makes *one* part for all replies of a turn, so a guest
gets one polite e-mail (greeting, answer, choices written out, signature) per message they
wrote, and `send` composes it in the guest's thread and hands it to the mode's transport (Gmail
`messages.send` with `threadId`, or SMTP + a copy in Sent).

Idempotency: neither Gmail nor SMTP dedupes sends, so our Message-ID is derived from the
pipeline's idempotency value; when a send of that value was attempted before (a crash or a
timeout after the provider may have accepted it), the Sent folder is searched for that
Message-ID first and a hit is recorded instead of sending a second e-mail.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, ClassVar, Protocol

from aiohttp import web
from hotel.channel.v1 import message_pb2 as m
from prometheus_client import Counter

from ..base import (
    ChannelAdapter,
    ChannelError,
    Choice,
    Destination,
    Inbox,
    OutboundPart,
    SendResult,
    TurnState,
)
from .composing import Block, ThreadInfo, blocks_of, compose, our_message_id
from .composing import Choice as MailChoice
from .mailstore import MailStore
from .reading import conversation_id_for

PART_KEY = "mail"
EMAIL_SENDS = Counter(
    "posada_gateway_email_sends_total",
    "Reply e-mails by mode and outcome (sent, recovered, failed).",
    ["mode", "outcome"],
)
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class EmailSendError(ChannelError):
    def __init__(self, message: str, *, retryable: bool, code: int = 0):
        super().__init__(message)
        self._retryable = retryable
        self.code = code

    @property
    def retryable(self) -> bool:
        return self._retryable

    @property
    def kind(self) -> str:
        return "transient" if self._retryable else "permanent"


class MailTransport(Protocol):
    mode: str

    async def send(self, message: EmailMessage, thread_id: str) -> str:
        """Send; returns the provider's id of the sent message. Raises EmailSendError."""
        ...

    async def find_sent(self, message_id: str) -> str:
        """The provider id of a message we sent with this Message-ID, or ""."""
        ...


class MailReader(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(slots=True)
class EmailIdentity:
    address: str
    hotel_name: str

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1]


_NUMBER = re.compile(
    r"^\s*(?:(?:la|el|opci[oó]n|op[cç][aã]o|option|n[uú]mero|number|a|o)\s*)*#?(\d{1,2})\b[.)]?",
    re.I,
)


def match_written_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """A short answer naming one option by number ("2", "la 2", "opción 2") or by its name."""
    first = (text or "").strip().split("\n", 1)[0].strip()
    if not first or len(first) > 80:
        return None
    hit = _NUMBER.match(first)
    if hit:
        number = int(hit.group(1))
        return choices[number - 1] if 1 <= number <= len(choices) else None
    lowered = first.lower()
    named = [
        c
        for c in choices
        if c.title and re.search(rf"(?<!\w){re.escape(c.title.lower())}(?!\w)", lowered)
    ]
    return named[0] if len(named) == 1 else None


def offered_choices(replies: Sequence[m.Reply]) -> list[Choice]:
    out: list[Choice] = []
    for reply in replies:
        kind = reply.WhichOneof("content")
        if kind == "buttons":
            out = [Choice(b.id, b.title) for b in reply.buttons.buttons]
        elif kind == "list":
            out = [Choice(r.id, r.title) for s in reply.list.sections for r in s.rows]
    return out


class EmailAdapter(ChannelAdapter):
    channel: ClassVar[int] = m.CHANNEL_GMAIL
    name: ClassVar[str] = "email"

    def __init__(
        self,
        mail: MailStore,
        transport: MailTransport,
        identity: EmailIdentity,
        *,
        log: Any,
        push_route: Any = None,  # (inbox) -> list of aiohttp routes (Gmail mode)
        reader_factory: Any = None,  # (accept) -> MailReader
    ):
        self.mail = mail
        self.transport = transport
        self.identity = identity
        self.log = log
        self._push_route = push_route
        self._reader_factory = reader_factory
        self.reader: Any = None
        self.inbox: Inbox | None = None

    # ── lifecycle ──
    async def start(self) -> None:
        if self._reader_factory is not None and self.inbox is not None:
            self.reader = self._reader_factory(self.inbox.accept)
            await self.reader.start()

    async def stop(self) -> None:
        if self.reader is not None:
            await self.reader.stop()

    # ── inbound ──
    def routes(self, inbox: Inbox) -> list[Any]:
        self.inbox = inbox
        return list(self._push_route()) if self._push_route is not None else []

    async def prepare(self, msg: m.InboundMessage, state: TurnState) -> None:
        if state.menu and msg.kind == m.MESSAGE_KIND_TEXT:
            choice = match_written_choice(msg.text, state.menu)
            if choice is not None:
                msg.kind = m.MESSAGE_KIND_INTERACTIVE_REPLY
                msg.interactive_reply.id = choice.id
                msg.interactive_reply.title = choice.title

    # ── outbound ──
    @property
    def default_account(self) -> str:
        return self.identity.address

    def destination_for(self, msg: m.InboundMessage) -> Destination:
        return Destination(
            channel=m.CHANNEL_GMAIL,
            account=msg.business_account_id or self.identity.address,
            guest_id=msg.guest.id,
            address=msg.guest.email or msg.guest.id,
            display_name=msg.guest.display_name,
            conversation_id=msg.conversation_id,
            hotel_id=msg.hotel_id,
            subject=msg.subject,
            thread_id=msg.thread_id,
        )

    def destination_to(
        self, recipient_id: str, account: str, *, subject: str = "", thread_id: str = ""
    ) -> Destination:
        address = recipient_id.strip().lower()
        if not _ADDRESS.match(address):
            raise ValueError("required: the guest's e-mail address")
        account = (account or self.identity.address).lower()
        return Destination(
            channel=m.CHANNEL_GMAIL,
            account=account,
            guest_id=address,
            address=address,
            conversation_id=conversation_id_for(account, address),
            subject=subject,
            thread_id=thread_id,
        )

    def render_turn(
        self, replies: Sequence[m.Reply], language: str, dest: Destination
    ) -> list[tuple[str, str, list[OutboundPart]]]:
        blocks = blocks_of(list(replies))
        if not blocks:
            return []
        part = OutboundPart(
            kind="text",
            payload={
                "language": language,
                "blocks": [
                    {"text": b.text, "choices": [[c.id, c.title] for c in b.choices]}
                    for b in blocks
                ],
            },
            choices=offered_choices(replies),
        )
        first_id = next((r.reply_id for r in replies if r.reply_id), "")
        return [(PART_KEY, first_id, [part])]

    def render(self, reply: m.Reply, language: str, dest: Destination) -> list[OutboundPart]:
        groups = self.render_turn([reply], language, dest)
        return groups[0][2] if groups else []

    async def send(self, dest: Destination, part: OutboundPart, *, idempotency: str) -> SendResult:
        origin = idempotency.split("|", 1)[0]
        env = await self.mail.envelope(origin) if origin else None
        blocks = [
            Block(b.get("text", ""), [MailChoice(i, t) for i, t in b.get("choices", [])])
            for b in part.payload.get("blocks", [])
        ] or [Block(part.fallback_text)]
        our_id = our_message_id(idempotency or uuid.uuid4().hex, PART_KEY, self.identity.domain)
        message = compose(
            blocks=blocks,
            language=str(part.payload.get("language") or dest.language or "es"),
            thread=ThreadInfo(
                to=dest.address,
                to_name=dest.display_name or (env.to_name if env else ""),
                subject=dest.subject or (env.subject if env else ""),
                message_id=(env.message_id if env else "") or dest.in_reply_to,
                references=env.references if env else dest.references.split(),
            ),
            from_address=self.identity.address,
            hotel_name=self.identity.hotel_name,
            message_id=our_id,
        )
        thread_id = dest.thread_id or (env.thread_id if env else "")
        if idempotency and await self.mail.begin_send(idempotency):
            found = await self.transport.find_sent(our_id)
            if found:
                EMAIL_SENDS.labels(self.transport.mode, "recovered").inc()
                return SendResult(found)
        try:
            provider_id = await self.transport.send(message, thread_id)
        except EmailSendError as exc:
            EMAIL_SENDS.labels(self.transport.mode, "retry" if exc.retryable else "failed").inc()
            raise
        EMAIL_SENDS.labels(self.transport.mode, "sent").inc()
        self.log.info("email_reply_sent", provider_id=provider_id, thread_id=thread_id)
        return SendResult(provider_id)


class GmailTransport:
    mode = "gmail"

    def __init__(self, api: Any):
        self.api = api

    async def send(self, message: EmailMessage, thread_id: str) -> str:
        from .gmail_api import GmailError

        try:
            res = await self.api.send(message.as_bytes(), thread_id)
        except GmailError as exc:
            raise EmailSendError(str(exc), retryable=exc.retryable, code=exc.status) from exc
        return str(res.get("id", ""))

    async def find_sent(self, message_id: str) -> str:
        from .gmail_api import GmailError

        try:
            found = await self.api.list_ids(q=f"rfc822msgid:{message_id} in:sent", limit=1)
        except GmailError as exc:
            raise EmailSendError(str(exc), retryable=True, code=exc.status) from exc
        return str(found[0]["id"]) if found else ""


def push_routes(handler: Any) -> Any:
    return lambda: [web.post("/webhooks/gmail", handler)]
