"""Webhook payloads shaped like docs/external-apis/whatsapp.md#payloads, docs/external-apis/whatsapp.md#status-webhooks, docs/external-apis/whatsapp.md#usernames, for parser and webhook tests."""

from __future__ import annotations

import copy
from typing import Any

PNID = "1098765432101"
GUEST = "4915112345678"
WAMID = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjNFQjA5QUYxQzJEOEU0RTcxQkQxAA=="


def envelope(
    messages: list[dict] | None = None,
    statuses: list[dict] | None = None,
    contacts: list[dict] | None = None,
    errors: list[dict] | None = None,
    pnid: str = PNID,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550101234", "phone_number_id": pnid},
    }
    if messages is not None:
        value["contacts"] = (
            contacts
            if contacts is not None
            else [{"profile": {"name": "Lena Fischer"}, "wa_id": GUEST}]
        )
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    if errors is not None:
        value["errors"] = errors
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "2345678901234", "changes": [{"field": "messages", "value": value}]}],
    }


def msg(
    mtype: str, content: Any = None, *, id: str = WAMID, frm: str = GUEST, **extra: Any
) -> dict:
    out: dict[str, Any] = {"from": frm, "id": id, "timestamp": "1767261600", "type": mtype}
    if content is not None:
        out[mtype] = content
    out.update(extra)
    return out


BY_TYPE: dict[str, dict] = {
    "text": msg("text", {"body": "Hi, can I get a late checkout tomorrow?"}),
    "voice": msg(
        "audio",
        {
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "k3Jx0ZC1qd4m8b5mJw7cQm8Qb6wYyq0xS9m2sVb1eNw=",
            "id": "1283746501928374",
            "voice": True,
        },
    ),
    "audio_file": msg(
        "audio", {"mime_type": "audio/mpeg", "sha256": "x", "id": "555", "voice": False}
    ),
    "image": msg(
        "image",
        {
            "caption": "This stain was on the towel in room 412",
            "mime_type": "image/jpeg",
            "sha256": "0l4=",
            "id": "918273645019283",
        },
    ),
    "video": msg("video", {"mime_type": "video/mp4", "sha256": "v", "id": "777"}),
    "sticker": msg(
        "sticker", {"mime_type": "image/webp", "sha256": "s", "id": "778", "animated": False}
    ),
    "document": msg(
        "document",
        {
            "caption": "Invoice address for the company",
            "filename": "Rechnungsadresse.pdf",
            "mime_type": "application/pdf",
            "sha256": "Q2c=",
            "id": "736452819203746",
        },
    ),
    "location": msg(
        "location",
        {
            "latitude": 48.13743,
            "longitude": 11.57549,
            "name": "Marienplatz",
            "address": "Marienplatz, 80331 München",
            "url": "https://maps.google.com/?cid=1234567890",
        },
    ),
    "button_reply": msg(
        "interactive",
        {
            "type": "button_reply",
            "button_reply": {"id": "late_checkout_yes", "title": "Yes, until 2 pm"},
        },
        context={"from": "15550101234", "id": "wamid.CTX1"},
    ),
    "list_reply": msg(
        "interactive",
        {
            "type": "list_reply",
            "list_reply": {
                "id": "spa_1600",
                "title": "Spa 16:00",
                "description": "60 min, 2 guests",
            },
        },
        context={"from": "15550101234", "id": "wamid.CTX2"},
    ),
    "template_button": msg(
        "button",
        {"payload": "precheckin_start", "text": "Start pre-check-in"},
        context={"from": "15550101234", "id": "wamid.CTX3"},
    ),
    "reaction": msg("reaction", {"message_id": "wamid.TARGET", "emoji": "\U0001f44d"}),
    "reaction_removed": msg("reaction", {"message_id": "wamid.TARGET"}),
    "contacts": msg(
        "contacts",
        None,
        contacts=[
            {"name": {"formatted_name": "Max Muster"}, "phones": [{"phone": "+49 151 0000"}]}
        ],
    ),
    "unsupported": msg(
        "unsupported",
        None,
        unsupported={"type": "poll_creation"},
        errors=[
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
    ),
    "order": msg("order", {"catalog_id": "1", "product_items": []}),
    "nfm_reply": msg("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}),
    "empty_interactive": msg("interactive", {}),
}


def bsuid_only() -> dict:
    return envelope(
        messages=[
            {
                "from_user_id": "DE.40918273645512093847",
                "id": "wamid.BSUID1",
                "timestamp": "1780000000",
                "type": "text",
                "text": {"body": "Is the sauna open today?"},
            }
        ],
        contacts=[
            {
                "profile": {"name": "Lena F.", "username": "@lenaf"},
                "user_id": "DE.40918273645512093847",
            }
        ],
    )


def batch_two_messages_and_status() -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "2345678901234",
                "changes": [
                    envelope(
                        messages=[
                            {
                                "from": GUEST,
                                "id": "wamid.AAA1",
                                "timestamp": "1767262400",
                                "type": "text",
                                "text": {"body": "Also,"},
                            },
                            {
                                "from": GUEST,
                                "id": "wamid.AAA2",
                                "timestamp": "1767262402",
                                "type": "text",
                                "text": {"body": "is breakfast included?"},
                            },
                        ]
                    )["entry"][0]["changes"][0],
                    envelope(
                        statuses=[
                            {
                                "id": "wamid.BBB9",
                                "status": "read",
                                "timestamp": "1767262399",
                                "recipient_id": GUEST,
                            }
                        ]
                    )["entry"][0]["changes"][0],
                ],
            }
        ],
    }


FAILED_STATUS = {
    "id": "wamid.F1",
    "status": "failed",
    "timestamp": "1767434400",
    "recipient_id": GUEST,
    "errors": [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {
                "details": "Message failed to send because more than 24 hours have passed"
            },
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ],
}


def with_type(name: str, **overrides: Any) -> dict:
    m = copy.deepcopy(BY_TYPE[name])
    m.update(overrides)
    return envelope(messages=[m])
