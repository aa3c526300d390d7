"""Webhook authenticity: Meta's `X-Hub-Signature-256` and the GET verification handshake.

Both comparisons run in constant time (`hmac.compare_digest`) on bytes. The HMAC is computed over
the raw request body exactly as received: re-serialised JSON would not reproduce Meta's escaping.
Several app secrets may be accepted at once so the secret can be rotated without dropping
deliveries signed with the old one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

_PREFIX = "sha256="


def sign(secret: str | bytes, raw_body: bytes) -> str:
    """The header value Meta would send for this body (used by tests and the benchmark)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return _PREFIX + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def signature_is_valid(raw_body: bytes, header: str | None, secrets: Iterable[str | bytes]) -> bool:
    """True when `header` is `sha256=<hex HMAC of raw_body>` under one of `secrets`.

    A missing header, another algorithm, an empty secret or malformed hex all fail closed.
    """
    if not header:
        return False
    header = header.strip()
    if header[: len(_PREFIX)].lower() != _PREFIX:
        return False
    received = header[len(_PREFIX) :].strip().lower().encode("ascii", "replace")
    if len(received) != 64:
        return False
    ok = False
    for secret in secrets:
        key = secret.encode() if isinstance(secret, str) else secret
        if not key:
            continue
        expected = hmac.new(key, raw_body, hashlib.sha256).hexdigest().encode()
        # Check every secret (no early exit) so timing does not reveal which one matched.
        ok = hmac.compare_digest(expected, received) or ok
    return ok


def verification_challenge(query: dict[str, str] | object, verify_token: str) -> str | None:
    """The challenge to echo for a valid `GET` handshake, else None (answer 403)."""
    get = getattr(query, "get")  # noqa: B009 - works for dicts and aiohttp MultiDicts
    mode = get("hub.mode", "")
    token = get("hub.verify_token", "")
    challenge = get("hub.challenge")
    if mode != "subscribe" or challenge is None or not verify_token:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge
