"""The e-mail channel's outbound side: one reply e-mail per guest message, in the thread.

`EmailChannel.handle` is what the inbox worker runs for an e-mail entry: map a written-out
choice ("2", "opción 2", or the option's name) back to its id, ask conversation, then compose
and send one e-mail through the mode's transport (Gmail `messages.send` with `threadId`, or
SMTP). Idempotent like the WhatsApp path: the reply is recorded in `gw:sent:{id}` atomically
with its outbound record; and because neither Gmail nor SMTP has an idempotency key, a retry
after an attempt that may have sent first looks for our deterministic Message-ID in the Sent
folder and records that message instead of sending a second one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from prometheus_client import Counter

from ...store import GatewayStore
from .composing import ThreadInfo, blocks_of, compose, our_message_id
from .mailstore import Envelope, MailStore

REPLY_KEY = "mail"
EMAIL_SENDS = Counter(
    "posada_gateway_email_sends_total",
    "Reply e-mails by mode and outcome (sent, recovered, failed).",
    ["mode", "outcome"],
)


class SendError(Exception):
    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class MailTransport(Protocol):
    mode: str

    async def send(self, message: EmailMessage, thread_id: str) -> str:
        """Send; returns the provider's id of the sent message. Raises SendError."""
        ...

    async def find_sent(self, message_id: str) -> str:
        """The provider id of a message we sent with this Message-ID, or ""."""
        ...


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


def match_written_choice(text: str, choices: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A short answer naming one option by number or by its exact name."""
    first = (text or "").strip().split("\n", 1)[0].strip()
    if not first or len(first) > 80:
        return None
    hit = _NUMBER.match(first)
    if hit:
        n = int(hit.group(1))
        return choices[n - 1] if 1 <= n <= len(choices) else None
    lowered = first.lower()
    named = [
        c
        for c in choices
        if c[1] and re.search(rf"(?<!\w){re.escape(c[1].lower())}(?!\w)", lowered)
    ]
    return named[0] if len(named) == 1 else None


def offered_choices(replies: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for reply in replies:
        kind = reply.WhichOneof("content")
        if kind == "buttons":
            out = [(b.id, b.title) for b in reply.buttons.buttons]
        elif kind == "list":
            out = [(r.id, r.title) for s in reply.list.sections for r in s.rows]
    return out


class EmailChannel:
    def __init__(
        self,
        store: GatewayStore,
        mail: MailStore,
        transport: MailTransport,
        identity: EmailIdentity,
        *,
        log: Any,
    ):
        self.store = store
        self.mail = mail
        self.transport = transport
        self.identity = identity
        self.log = log

    async def handle(
        self,
        msg: m.InboundMessage,
        handle_message: Callable[[m.InboundMessage], Awaitable[conv_pb2.HandleMessageResponse]],
    ) -> None:
        menu = await self.store.menu(msg.conversation_id)
        if menu and msg.kind == m.MESSAGE_KIND_TEXT:
            choice = match_written_choice(msg.text, menu)
            if choice is not None:
                msg.kind = m.MESSAGE_KIND_INTERACTIVE_REPLY
                msg.interactive_reply.CopyFrom(m.InteractiveReply(id=choice[0], title=choice[1]))
                await self.store.clear_menu(msg.conversation_id)
        resp = await handle_message(msg)
        await self.send_replies(msg, resp)

    async def send_replies(
        self, msg: m.InboundMessage, resp: conv_pb2.HandleMessageResponse
    ) -> str:
        """Send the reply e-mail for this guest message (once); returns its provider id."""
        sent = await self.store.sent_replies(msg.message_id)
        if REPLY_KEY in sent:
            return sent[REPLY_KEY]
        blocks = blocks_of(list(resp.replies))
        if not blocks:
            return ""
        env = await self.mail.envelope(msg.message_id) or Envelope(
            to=msg.guest.email or msg.guest.id,
            to_name=msg.guest.display_name,
            subject=msg.subject,
            thread_id=msg.thread_id,
        )
        conversation_id = resp.conversation_id or msg.conversation_id
        our_id = our_message_id(msg.message_id, REPLY_KEY, self.identity.domain)
        email_msg = compose(
            blocks=blocks,
            language=resp.language,
            thread=ThreadInfo(
                to=env.to,
                to_name=env.to_name,
                subject=env.subject,
                message_id=env.message_id,
                references=env.references,
            ),
            from_address=self.identity.address,
            hotel_name=self.identity.hotel_name,
            message_id=our_id,
        )
        provider_id = ""
        if await self.mail.begin_send(msg.message_id):
            provider_id = await self.transport.find_sent(our_id)
            if provider_id:
                EMAIL_SENDS.labels(self.transport.mode, "recovered").inc()
        if not provider_id:
            try:
                provider_id = await self.transport.send(email_msg, env.thread_id)
            except SendError as exc:
                if exc.retryable:
                    raise
                EMAIL_SENDS.labels(self.transport.mode, "failed").inc()
                for reply in resp.replies:
                    await self.store.record_failed(
                        inbound_id=msg.message_id,
                        reply_key=REPLY_KEY,
                        conversation_id=conversation_id,
                        reply_id=reply.reply_id,
                        error=str(exc),
                        code=0,
                    )
                self.log.error("email_send_refused", error=str(exc)[:300])
                return ""
            EMAIL_SENDS.labels(self.transport.mode, "sent").inc()
        # One outbound record per reply (conversation follows each reply's delivery); the first
        # also marks this guest message as answered, in the same transaction.
        for i, reply in enumerate(resp.replies):
            await self.store.record_sent(
                wamid=provider_id if i == 0 else f"{provider_id}#{i}",
                recipient=env.to,
                pnid=self.identity.address,
                conversation_id=conversation_id,
                reply_id=reply.reply_id,
                inbound_id=msg.message_id if i == len(resp.replies) - 1 else "",
                reply_key=REPLY_KEY,
                extra={"channel": "email", "thread": env.thread_id, "rfc_id": our_id},
            )
        choices = offered_choices(resp.replies)
        if choices:
            await self.store.set_menu(conversation_id, choices)
        self.log.info("email_reply_sent", provider_id=provider_id, thread_id=env.thread_id)
        return provider_id


class GmailTransport:
    mode = "gmail"

    def __init__(self, api: Any):
        self.api = api

    async def send(self, message: EmailMessage, thread_id: str) -> str:
        from .gmail_api import GmailError

        try:
            res = await self.api.send(message.as_bytes(), thread_id)
        except GmailError as exc:
            raise SendError(str(exc), retryable=exc.retryable) from exc
        return str(res.get("id", ""))

    async def find_sent(self, message_id: str) -> str:
        found = await self.api.list_ids(q=f"rfc822msgid:{message_id} in:sent", limit=1)
        return str(found[0]["id"]) if found else ""
