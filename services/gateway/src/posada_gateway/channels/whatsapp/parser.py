"""WhatsApp Cloud API webhook payloads → channel-neutral `InboundMessage`s and status updates.

Every key is guarded: Meta adds fields and types over time, batches several entries/changes/
messages/statuses in one POST, and omits the phone number for guests who use a username (2026,
business-scoped user ids). Unknown message types become MESSAGE_KIND_UNSUPPORTED, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotel.channel.v1 import message_pb2 as m

from ..base import TEXT_MAX, TRUNCATED

K = m.MessageKind
S = m.DeliveryStatus

STATUS_BY_NAME: dict[str, int] = {
    "sent": S.DELIVERY_STATUS_SENT,
    "delivered": S.DELIVERY_STATUS_DELIVERED,
    "read": S.DELIVERY_STATUS_READ,
    "played": S.DELIVERY_STATUS_PLAYED,
    "failed": S.DELIVERY_STATUS_FAILED,
}

_MEDIA_KINDS = {
    "audio": K.MESSAGE_KIND_AUDIO,
    "voice": K.MESSAGE_KIND_AUDIO,  # defensive: some tools emit type "voice"
    "image": K.MESSAGE_KIND_IMAGE,
    "document": K.MESSAGE_KIND_DOCUMENT,
    "video": K.MESSAGE_KIND_VIDEO,
    "sticker": K.MESSAGE_KIND_STICKER,
}


@dataclass(slots=True)
class StatusUpdate:
    """One `statuses[]` item: what happened to a message we sent."""

    message_id: str
    status: int  # DeliveryStatus
    timestamp: int
    business_account_id: str
    recipient_id: str = ""
    recipient_user_id: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    callback_data: str = ""


@dataclass(slots=True)
class ParsedWebhook:
    messages: list[m.InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    # value.errors[] (asynchronous errors not tied to one message), with the phone_number_id.
    errors: list[dict[str, Any]] = field(default_factory=list)
    # system messages (guest changed number / user id): recorded, never answered.
    system: list[dict[str, Any]] = field(default_factory=list)
    # items we could not use at all (no id, not an object...), for metrics.
    skipped: int = 0
    # message id → note for the worker ("truncated": the text was cut to TEXT_MAX).
    notes: dict[str, str] = field(default_factory=dict)


def conversation_id_for(business_account_id: str, guest_id: str) -> str:
    """Stable conversation id: channel + business account + guest."""
    return f"wa:{business_account_id}:{guest_id}"


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Lone UTF-16 surrogates ("\\ud83d" in JSON) cannot be encoded as UTF-8 (protobuf strings,
# Redis, PostgreSQL); NUL and other C0 controls break PostgreSQL text and terminals. Both are
# replaced or dropped here, so odd input is handled instead of failing the whole batch.
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Valid range of google.protobuf.Timestamp seconds (0001-01-01 .. 9999-12-31).
_TS_MIN, _TS_MAX = -62135596800, 253402300799


def clean_text(value: str) -> str:
    """Valid, printable UTF-8: lone surrogates → U+FFFD, control characters dropped."""
    if value.isascii():
        return _CONTROLS.sub("", value) if not value.isprintable() else value
    return _CONTROLS.sub("", _SURROGATES.sub("\ufffd", value))


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _ts(value: Any) -> int:
    """Unix seconds within what a Timestamp can hold (a forged far-future value is clamped)."""
    return min(max(_int(value), _TS_MIN), _TS_MAX)


def _errors(value: Any) -> list[dict[str, Any]]:
    out = []
    for err in _list(value):
        err = _obj(err)
        out.append(
            {
                "code": _int(err.get("code")),
                "title": _str(err.get("title") or err.get("message")),
                "detail": _str(_obj(err.get("error_data")).get("details") or err.get("message")),
            }
        )
    return out


def parse_webhook(
    body: Any,
    hotel_for: Callable[[str], str] = lambda _pnid: "",
) -> ParsedWebhook:
    """Parse a decoded webhook body. `hotel_for(phone_number_id)` maps a number to its hotel."""
    out = ParsedWebhook()
    body = _obj(body)
    if body.get("object") not in (None, "whatsapp_business_account"):
        return out
    for entry in _list(body.get("entry")):
        for change in _list(_obj(entry).get("changes")):
            change = _obj(change)
            if change.get("field", "messages") != "messages":
                continue
            value = _obj(change.get("value"))
            pnid = _str(_obj(value.get("metadata")).get("phone_number_id"))
            contacts = _contacts(value.get("contacts"))
            for raw in _list(value.get("messages")):
                raw = _obj(raw)
                if raw.get("type") == "system":
                    out.system.append({"business_account_id": pnid, **raw})
                    continue
                try:
                    msg = _message(raw, pnid, contacts, hotel_for)
                except Exception:  # one odd message never loses the others
                    msg = None
                if msg is None:
                    out.skipped += 1
                    continue
                if len(msg.text) > TEXT_MAX:
                    msg.text = msg.text[: TEXT_MAX - 1].rstrip() + "…"
                    out.notes[msg.message_id] = TRUNCATED
                out.messages.append(msg)
            for raw in _list(value.get("statuses")):
                try:
                    st = _status(_obj(raw), pnid)
                except Exception:
                    st = None
                if st is None:
                    out.skipped += 1
                else:
                    out.statuses.append(st)
            for err in _errors(value.get("errors")):
                out.errors.append({"business_account_id": pnid, **err})
    return out


def _contacts(value: Any) -> dict[str, dict[str, Any]]:
    """Profiles keyed by both wa_id and user_id, whichever are present."""
    profiles: dict[str, dict[str, Any]] = {}
    for item in _list(value):
        contact = _obj(item)
        for key in (_str(contact.get("wa_id")), _str(contact.get("user_id"))):
            if key:
                profiles[key] = contact
    return profiles


def _guest(
    raw: dict[str, Any], contacts: dict[str, dict[str, Any]]
) -> tuple[str, str, str, str] | None:
    """(guest id, phone, display name, BSUID), or None when the sender is unknown."""
    phone = _str(raw.get("from"))
    bsuid = _str(raw.get("from_user_id"))
    contact = contacts.get(phone) or contacts.get(bsuid) or {}
    if not contact and len(contacts) == 1:
        # A single-contact change (the normal shape) belongs to this message.
        contact = next(iter(contacts.values()))
    phone = phone or _str(contact.get("wa_id"))
    bsuid = bsuid or _str(contact.get("user_id"))
    guest_id = phone or bsuid
    if not guest_id:
        return None
    profile = _obj(contact.get("profile"))
    name = _str(profile.get("name")) or _str(profile.get("username"))
    return guest_id, phone, name, bsuid


def _message(
    raw: dict[str, Any],
    pnid: str,
    contacts: dict[str, dict[str, Any]],
    hotel_for: Callable[[str], str],
) -> m.InboundMessage | None:
    message_id = _str(raw.get("id"))
    who = _guest(raw, contacts)
    if not message_id or who is None:
        return None
    guest_id, phone, name, bsuid = who
    # Fields are set in place (no sub-message built and then copied in): this runs before the
    # webhook's 200 for every message of every batch.
    msg = m.InboundMessage(
        message_id=message_id,
        channel=m.CHANNEL_WHATSAPP,
        hotel_id=hotel_for(pnid),
        conversation_id=conversation_id_for(pnid, guest_id),
        business_account_id=pnid,
    )
    msg.guest.id = guest_id
    msg.guest.phone = phone
    msg.guest.display_name = name
    msg.guest.business_scoped_user_id = bsuid
    msg.sent_at.seconds = _ts(raw.get("timestamp"))
    context = _obj(raw.get("context"))
    if context.get("id"):
        msg.reply_to_message_id = _str(context.get("id"))
    mtype = _str(raw.get("type"))
    content = _obj(raw.get(mtype)) if mtype else {}
    msg.provider_type = mtype

    if mtype == "text":
        msg.kind = K.MESSAGE_KIND_TEXT
        msg.text = _str(content.get("body"))
    elif mtype in _MEDIA_KINDS and content:
        msg.kind = _MEDIA_KINDS[mtype]
        media = msg.media
        media.media_id = _str(content.get("id"))
        media.mime_type = _str(content.get("mime_type"))
        media.sha256 = _str(content.get("sha256"))
        media.filename = _str(content.get("filename"))
        media.caption = _str(content.get("caption"))
        media.voice = content.get("voice") is True
        # Captions are also the text of the turn for the agent.
        msg.text = msg.media.caption
    elif mtype == "location":
        msg.kind = K.MESSAGE_KIND_LOCATION
        msg.location.CopyFrom(
            m.Location(
                latitude=_float(content.get("latitude")),
                longitude=_float(content.get("longitude")),
                name=_str(content.get("name")),
                address=_str(content.get("address")),
            )
        )
    elif mtype == "interactive" and (reply := _interactive(content)) is not None:
        msg.kind = K.MESSAGE_KIND_INTERACTIVE_REPLY
        msg.interactive_reply.CopyFrom(reply)
        msg.text = reply.title
    elif mtype == "button" and content:
        msg.kind = K.MESSAGE_KIND_TEMPLATE_BUTTON
        text = _str(content.get("text"))
        msg.interactive_reply.CopyFrom(
            m.InteractiveReply(id=_str(content.get("payload")) or text, title=text)
        )
        msg.text = text
    elif mtype == "reaction" and content:
        msg.kind = K.MESSAGE_KIND_REACTION
        msg.reaction.CopyFrom(
            m.Reaction(message_id=_str(content.get("message_id")), emoji=_str(content.get("emoji")))
        )
    elif mtype == "contacts":
        msg.kind = K.MESSAGE_KIND_CONTACTS
        msg.text = _contacts_text(raw.get("contacts"))
    else:
        msg.kind = K.MESSAGE_KIND_UNSUPPORTED
        inner = _str(_obj(raw.get("unsupported")).get("type"))
        if mtype == "unsupported" and inner:
            msg.provider_type = f"unsupported:{inner}"
        elif not mtype:
            msg.provider_type = "unknown"
    return msg


def _interactive(content: dict[str, Any]) -> m.InteractiveReply | None:
    itype = _str(content.get("type"))
    sub = _obj(content.get(itype)) if itype else {}
    if itype not in ("button_reply", "list_reply") or not sub.get("id"):
        return None  # nfm_reply, call permissions, empty objects: unsupported
    return m.InteractiveReply(
        id=_str(sub.get("id")),
        title=_str(sub.get("title")),
        description=_str(sub.get("description")),
    )


def _contacts_text(value: Any) -> str:
    """A shared contact card rendered as text (name and phone numbers)."""
    lines = []
    for card in _list(value):
        card = _obj(card)
        name = _str(_obj(card.get("name")).get("formatted_name"))
        phones = [_str(_obj(p).get("phone")) for p in _list(card.get("phones"))]
        lines.append(" ".join(x for x in [name, *phones] if x))
    return "\n".join(x for x in lines if x)


def _status(raw: dict[str, Any], pnid: str) -> StatusUpdate | None:
    message_id = _str(raw.get("id"))
    status = STATUS_BY_NAME.get(_str(raw.get("status")))
    if not message_id or status is None:
        return None
    return StatusUpdate(
        message_id=message_id,
        status=status,
        timestamp=_ts(raw.get("timestamp")),
        business_account_id=pnid,
        recipient_id=_str(raw.get("recipient_id")),
        recipient_user_id=_str(raw.get("recipient_user_id")),
        errors=_errors(raw.get("errors")),
        callback_data=_str(raw.get("biz_opaque_callback_data")),
    )
