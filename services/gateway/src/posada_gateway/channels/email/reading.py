"""Raw RFC 822 bytes → what the guest wrote, as a channel-neutral `InboundMessage`.

Parsing uses the standard library's `email` package with the modern policy: every transfer
encoding (7bit/8bit, quoted-printable, base64) and RFC 2047/2231 headers are decoded there.
Charsets are taken from each part; a wrong or unknown charset falls back to cp1252/Latin-1 so a
mislabelled mail is still readable. The body is the first text/plain part, else the text of
the first text/html part (never both), cleaned of quoted history and signatures (`text`).

Identity: the guest is the `Reply-To` address when there is one (web forms and booking
portals send from their own address and put the guest there), else `From`. The conversation
is keyed by mailbox + guest address; the thread travels with each message so the reply lands
in it.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from google.protobuf.timestamp_pb2 import Timestamp
from hotel.channel.v1 import message_pb2 as m

from .robots import robot_reason
from .text import html_to_text, strip_quoted

# An audio attachment with at most this much written text is handled as a voice note.
VOICE_NOTE_TEXT_MAX = 200
# Larger audio is not transcribed (the same bound as WhatsApp voice notes); the text is kept.
AUDIO_MAX_BYTES = 16 * 1024 * 1024
AUDIO_EXTENSIONS = {".mp3", ".m4a", ".ogg", ".oga", ".opus", ".wav", ".webm", ".aac", ".amr"}
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(slots=True)
class Attachment:
    filename: str
    mime_type: str
    data: bytes


@dataclass(slots=True)
class ReadMail:
    """Everything the e-mail channel needs from one message."""

    message_id: str  # RFC 5322 Message-ID with angle brackets ("" when missing)
    guest_address: str  # where a reply goes (Reply-To, else From), lower-case
    guest_name: str
    from_address: str
    subject: str
    text: str  # what the guest wrote, cleaned
    in_reply_to: str
    references: list[str]
    sent_at: int  # epoch seconds (0 if unknown)
    robot: str  # why not to answer ("" = a person wrote it)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def audio(self) -> Attachment | None:
        for att in self.attachments:
            if is_audio(att.mime_type, att.filename):
                return att
        return None

    def dedupe_key(self, mailbox: str, fallback: str) -> str:
        """Idempotency key of the message: mailbox + sender + Message-ID (the same mail
        delivered twice, through two paths or modes, is one message; another sender reusing
        an id is not), else the provider's id."""
        if self.message_id:
            seed = f"{mailbox.lower()}|{self.from_address}|{self.message_id.lower()}"
            return f"mail:{hashlib.sha256(seed.encode()).hexdigest()[:32]}"
        return f"mail:{mailbox.lower()}:{fallback}"


def is_audio(mime_type: str, filename: str) -> bool:
    if mime_type.startswith("audio/"):
        return True
    return any(filename.lower().endswith(ext) for ext in AUDIO_EXTENSIONS)


def _decode(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(payload or "")
    charset = (part.get_content_charset() or "").lower() or "utf-8"
    if charset in ("us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"):
        charset = "cp1252"  # superset in practice (clients label cp1252 text as Latin-1)
    for candidate in (charset, "utf-8", "cp1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the policy cannot parse: use it raw
        value = msg.get_all(name, [""])[0] if hasattr(msg, "get_all") else ""
    return re.sub(r"\s+", " ", str(value or "")).strip()


def parse_bytes(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def read_mail(raw: bytes, own_addresses: set[str]) -> ReadMail:
    msg = parse_bytes(raw)
    from_name, from_addr = parseaddr(_header(msg, "From"))
    reply_to = [a for _n, a in getaddresses([_header(msg, "Reply-To")]) if "@" in a]
    guest_addr = (reply_to[0] if reply_to else from_addr).strip().lower()
    if guest_addr in own_addresses and from_addr.lower() not in own_addresses:
        guest_addr = from_addr.lower()
    plain, html, attachments = "", "", []
    for part in msg.walk():
        if part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        filename = part.get_filename() or ""
        ctype = part.get_content_type()
        disposition = part.get_content_disposition() or ""
        if filename or disposition == "attachment" or not ctype.startswith("text/"):
            if ctype in ("message/delivery-status", "message/rfc822"):
                continue
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                attachments.append(Attachment(filename, ctype, data))
            continue
        if ctype == "text/plain" and not plain:
            plain = _decode(part)
        elif ctype == "text/html" and not html:
            html = _decode(part)
    body = plain if plain.strip() else html_to_text(html) if html else ""
    text = strip_quoted(body)
    subject = _header(msg, "Subject")
    if not text and not attachments:
        # Everything in the subject line ("Habitación doble 10-12 dic?"): that is the message.
        text = re.sub(r"^\s*((re|fw|fwd|aw|rv)\s*:\s*)+", "", subject, flags=re.I)
    sent_at = 0
    date = _header(msg, "Date")
    if date:
        try:
            sent_at = int(parsedate_to_datetime(date).timestamp())
        except (TypeError, ValueError, IndexError):
            sent_at = 0
    return ReadMail(
        message_id=(_MSGID.findall(_header(msg, "Message-ID")) or [""])[0],
        guest_address=guest_addr,
        guest_name=from_name.strip().strip('"') if not reply_to or reply_to[0] == from_addr else "",
        from_address=from_addr.lower(),
        subject=subject,
        text=text,
        in_reply_to=(_MSGID.findall(_header(msg, "In-Reply-To")) or [""])[0],
        references=_MSGID.findall(_header(msg, "References")),
        sent_at=sent_at,
        robot=robot_reason(msg, from_addr.lower(), own_addresses, guest_addr),
        attachments=attachments,
    )


def conversation_id_for(mailbox: str, guest_address: str) -> str:
    return f"em:{mailbox.lower()}:{guest_address.lower()}"


def to_inbound(
    mail: ReadMail,
    *,
    provider_id: str,
    mailbox: str,
    hotel_id: str,
    thread_id: str,
    received_at: int = 0,
) -> m.InboundMessage:
    """The channel-neutral message conversation understands."""
    msg = m.InboundMessage(
        message_id=mail.dedupe_key(mailbox, provider_id),
        channel=m.CHANNEL_GMAIL,
        hotel_id=hotel_id,
        conversation_id=conversation_id_for(mailbox, mail.guest_address),
        business_account_id=mailbox.lower(),
        guest=m.Guest(
            id=mail.guest_address, email=mail.guest_address, display_name=mail.guest_name
        ),
        sent_at=Timestamp(seconds=mail.sent_at or received_at),
        kind=m.MESSAGE_KIND_TEXT,
        text=mail.text,
        reply_to_message_id=mail.in_reply_to,
        subject=mail.subject,
        thread_id=thread_id,
        provider_type="email",
    )
    audio = mail.audio
    if (
        audio is not None
        and len(mail.text) <= VOICE_NOTE_TEXT_MAX
        and len(audio.data) <= AUDIO_MAX_BYTES
    ):
        msg.kind = m.MESSAGE_KIND_AUDIO
        msg.media.CopyFrom(
            m.Media(
                mime_type=audio.mime_type,
                data=audio.data,
                filename=audio.filename,
                caption=mail.text,
                voice=True,
            )
        )
    elif not mail.text and mail.attachments:
        first = mail.attachments[0]
        msg.kind = (
            m.MESSAGE_KIND_IMAGE
            if first.mime_type.startswith("image/")
            else m.MESSAGE_KIND_DOCUMENT
        )
        msg.media.CopyFrom(m.Media(mime_type=first.mime_type, filename=first.filename))
    return msg
