"""Authenticating Pub/Sub push requests (the OIDC ID token in `Authorization: Bearer`).

Checked, in this order: the header, the RS256 signature against the configured JWK set (Google's
`https://www.googleapis.com/oauth2/v3/certs` in production, the stand-in's in development),
the issuer (`accounts.google.com` with or without scheme), the audience (a constant from the
settings, never rebuilt from the request URL), expiry and issue time with a small leeway, and
the service account the subscription pushes as (`email`, `email_verified`).

Keys are fetched with aiohttp (timeout), cached for `cache_seconds`, and refetched early when a
token names an unknown key id (Google rotates keys), at most once every `refetch_min_seconds`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


class PushRejected(Exception):
    """The push is not from our subscription: answer 401 and process nothing."""


@dataclass(slots=True)
class PushNotification:
    email_address: str
    history_id: int
    pubsub_id: str
    subscription: str


class PushVerifier:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        jwks_url: str,
        audience: str,
        service_account: str,
        issuers: tuple[str, ...] = GOOGLE_ISSUERS,
        leeway_seconds: int = 60,
        cache_seconds: float = 3600.0,
        refetch_min_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ):
        if not audience:
            raise ValueError("the push audience must be configured")
        self.session = session
        self.jwks_url = jwks_url
        self.audience = audience
        self.service_account = service_account.lower()
        self.issuers = issuers
        self.leeway = leeway_seconds
        self.cache_seconds = cache_seconds
        self.refetch_min = refetch_min_seconds
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._keys: dict[str, Any] = {}
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        async with self.session.get(self.jwks_url, timeout=self.timeout) as resp:
            resp.raise_for_status()
            data = await resp.json(content_type=None)
        keys = {}
        for jwk in data.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("kid"):
                keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk, algorithm="RS256").key
        self._keys = keys
        self._fetched = time.monotonic()

    async def _key(self, kid: str) -> Any:
        async with self._lock:
            age = time.monotonic() - self._fetched
            stale = not self._keys or age > self.cache_seconds
            unknown = kid not in self._keys and age > self.refetch_min
            if stale or unknown:
                try:
                    await self._fetch()
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    if not self._keys:
                        raise PushRejected(f"signing keys unavailable: {exc}") from exc
        key = self._keys.get(kid)
        if key is None:
            raise PushRejected("unknown signing key")
        return key

    async def verify_token(self, authorization: str) -> dict[str, Any]:
        if not authorization.startswith("Bearer "):
            raise PushRejected("missing bearer token")
        token = authorization[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise PushRejected("malformed token") from exc
        if header.get("alg") != "RS256":
            raise PushRejected("unexpected algorithm")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise PushRejected(f"invalid token: {type(exc).__name__}") from exc
        if claims.get("iss") not in self.issuers:
            raise PushRejected("unexpected issuer")
        if self.service_account and (
            str(claims.get("email", "")).lower() != self.service_account
            or claims.get("email_verified") is not True
        ):
            raise PushRejected("unexpected push identity")
        return claims


def parse_push(body: Any, expected_subscription: str = "") -> PushNotification:
    """The push envelope → (mailbox, new history id). Raises ValueError when malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise ValueError("not a Pub/Sub push envelope")
    subscription = str(body.get("subscription", ""))
    if expected_subscription and subscription != expected_subscription:
        raise PushRejected("push from another subscription")
    message = body["message"]
    data = str(message.get("data", "")).strip().replace("+", "-").replace("/", "_")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        history_id = int(decoded["historyId"])  # a string or a JSON number
        address = str(decoded["emailAddress"]).lower()
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("push data is not a Gmail notification") from exc
    return PushNotification(
        email_address=address,
        history_id=history_id,
        pubsub_id=str(message.get("messageId") or message.get("message_id") or ""),
        subscription=subscription,
    )
