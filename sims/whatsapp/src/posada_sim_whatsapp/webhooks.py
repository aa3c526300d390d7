"""Webhook payloads (docs/external-apis/whatsapp.md#payloads, docs/external-apis/whatsapp.md#status-webhooks), Meta-style serialisation and signing (docs/external-apis/whatsapp.md#signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time


def serialise(payload: dict) -> bytes:
    """Compact JSON with non-ASCII as \\uXXXX escapes, like Meta's bodies."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def sign(app_secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def sign_sha1(app_secret: str, raw: bytes) -> str:
    return "sha1=" + hmac.new(app_secret.encode(), raw, hashlib.sha1).hexdigest()


def new_wamid(wa_id: str | None = None) -> str:
    # Real wamids are base64 of an opaque binary record starting with the peer's number.
    seed = b"\x18\x0d" + (wa_id or "0").encode() + b"\x15\x02\x00\x12\x18\x16" + os.urandom(11)
    return "wamid." + base64.b64encode(b"\x1c" + seed).decode()


def now_ts() -> str:
    return str(int(time.time()))


_COUNTRY = {
    "1": "US",
    "7": "RU",
    "33": "FR",
    "34": "ES",
    "39": "IT",
    "44": "GB",
    "49": "DE",
    "51": "PE",
    "52": "MX",
    "54": "AR",
    "55": "BR",
    "56": "CL",
    "57": "CO",
    "351": "PT",
    "598": "UY",
}


def bsuid_for(wa_id: str, waba_id: str) -> str:
    """A deterministic business-scoped user id: country code + '.' + digits (docs/external-apis/whatsapp.md#usernames)."""
    country = "US"
    for length in (3, 2, 1):
        if wa_id[:length] in _COUNTRY:
            country = _COUNTRY[wa_id[:length]]
            break
    digest = hashlib.sha256(f"{waba_id}:{wa_id}".encode()).hexdigest()
    return f"{country}.{int(digest[:16], 16) % 10**20:020d}"


def envelope(waba_id: str, display_phone: str, phone_number_id: str, value: dict) -> dict:
    inner = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone, "phone_number_id": phone_number_id},
    }
    inner.update(value)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": inner, "field": "messages"}]}],
    }
