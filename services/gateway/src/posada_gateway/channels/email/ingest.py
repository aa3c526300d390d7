"""One raw guest e-mail → the durable inbox (shared by the Gmail and IMAP modes).

Robots are dropped here (logged with the reason, counted), so nothing downstream ever answers
them. A person's mail is stored with its envelope (how to answer it) and then appended to the
inbox stream with the same atomic dedupe as WhatsApp messages, keyed by its Message-ID: the same
e-mail read twice, through a push and a sweep or after a restart, is one message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hotel.channel.v1 import message_pb2 as m
from prometheus_client import Counter

from .mailstore import Envelope, MailStore
from .reading import read_mail, to_inbound

EMAILS = Counter(
    "posada_gateway_emails_total",
    "Inbound e-mails read, by mode and outcome (queued, duplicate, robot_<reason>).",
    ["mode", "outcome"],
)


# The durable inbox (`Inbox.accept`): dedupe by message id and append, atomically.
Accept = Callable[[Sequence[m.InboundMessage]], Awaitable[list[bool]]]


@dataclass(slots=True)
class MailboxInfo:
    address: str
    hotel_id: str
    own_addresses: set[str]
    mode: str  # gmail | imap


async def ingest_raw(
    raw: bytes,
    *,
    provider_id: str,
    thread_id: str,
    info: MailboxInfo,
    accept: Accept,
    mail: MailStore,
    log: Any,
    received_at: int = 0,
) -> str:
    """Returns the outcome: queued, duplicate or robot_<reason>."""
    read = read_mail(raw, info.own_addresses)
    if read.robot:
        EMAILS.labels(info.mode, "robot").inc()
        log.info("email_ignored_robot", reason=read.robot, provider_id=provider_id)
        return f"robot_{read.robot}"
    if not thread_id:
        # No provider thread (IMAP): the first Message-ID of the chain names the thread.
        thread_id = (read.references or [read.in_reply_to or read.message_id])[0]
    inbound = to_inbound(
        read,
        provider_id=provider_id,
        mailbox=info.address,
        hotel_id=info.hotel_id,
        thread_id=thread_id,
        received_at=received_at,
    )
    await mail.save_envelope(
        inbound.message_id,
        Envelope(
            to=read.guest_address,
            to_name=read.guest_name,
            subject=read.subject,
            message_id=read.message_id,
            references=read.references,
            thread_id=thread_id,
            provider_id=provider_id,
        ),
    )
    (new,) = await accept([inbound])
    EMAILS.labels(info.mode, "queued" if new else "duplicate").inc()
    if new:
        log.info("email_queued", provider_id=provider_id, message_id=inbound.message_id)
    return "queued" if new else "duplicate"
