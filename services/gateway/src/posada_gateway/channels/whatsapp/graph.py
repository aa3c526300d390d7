"""A small WhatsApp Cloud API (Graph) client: send, mark read/typing, upload and download media.

It does exactly one HTTP exchange per call and turns failures into `GraphError` carrying Meta's
error `code`, classified as the reference (§9.3) says. Retries, rate limits and the 24-hour
window are the sender's business (`sender.py`), so this layer stays predictable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..base import ChannelError

USER_AGENT = "posada-gateway/0.1"

# Retry classes (reference §9.3).
TRANSIENT = {1, 2, 4, 80007, 131000, 131016, 131057, 130429, 131056}
RATE_LIMIT = {130429, 131056, 4, 80007}
NEEDS_TEMPLATE = {131047}
OPERATOR = {0, 190, 10, 131031, 131042, 368} | set(range(200, 300))
UNDELIVERABLE = {131026}
# Our own code (not Meta's) for a downloaded file whose sha256 differs from the announced one.
MEDIA_CHECKSUM_MISMATCH = -1


class GraphError(ChannelError):
    """A failed Graph call. `code` is Meta's error code (0 when there was none, e.g. a 502)."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 0,
        http_status: int = 0,
        details: str = "",
        fbtrace_id: str = "",
        network: bool = False,
        ambiguous: bool = False,
    ):
        super().__init__(message)
        # True when the request may have reached WhatsApp (timeout, dropped connection): a send
        # could have been accepted although we got no answer.
        self.ambiguous = ambiguous
        self.code = code
        self.http_status = http_status
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.network = network

    @property
    def kind(self) -> str:
        """transient | rate_limit | window | auth | undeliverable | permanent."""
        if self.network or (
            self.code == 0 and (self.http_status >= 500 or self.http_status in (0, 429))
        ):
            return "transient"
        if self.code in RATE_LIMIT:
            return "rate_limit"
        if self.code in TRANSIENT:
            return "transient"
        if self.code in NEEDS_TEMPLATE:
            return "window"
        if self.code in OPERATOR or self.http_status == 401:
            return "auth"
        if self.code in UNDELIVERABLE:
            return "undeliverable"
        return "permanent"

    @property
    def retryable(self) -> bool:
        return self.kind in ("transient", "rate_limit")

    @property
    def label(self) -> str:
        return (
            str(self.code)
            if self.code
            else (f"http_{self.http_status}" if self.http_status else "network")
        )

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (code={self.code}, http={self.http_status})" + (
            f": {self.details}" if self.details else ""
        )


@dataclass(slots=True)
class MediaInfo:
    url: str
    mime_type: str
    sha256: str
    file_size: int


def sha256_matches(data: bytes, expected: str) -> bool:
    """Meta sends base64 in webhooks and hex in media info; accept either form."""
    if not expected:
        return True
    digest = hashlib.sha256(data).digest()
    if expected.lower() == digest.hex():
        return True
    try:
        return base64.b64decode(expected, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


class GraphClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        version: str,
        access_token: str,
        timeout_seconds: float = 10.0,
    ):
        self.session = session
        self.base = f"{base_url.rstrip('/')}/{version.strip('/')}"
        self._token = access_token
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # A 16 MB voice note needs more than one API exchange: bounded per read and in total.
        self.media_timeout = aiohttp.ClientTimeout(
            total=max(60.0, timeout_seconds * 6), sock_read=timeout_seconds
        )

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "User-Agent": USER_AGENT}

    async def _json(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        try:
            async with self.session.request(
                method, url, headers=self._headers, timeout=self.timeout, **kw
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except aiohttp.ClientConnectorError as exc:  # never reached the server
            raise GraphError(f"{method} {url}: {type(exc).__name__}", network=True) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphError(
                f"{method} {url}: {type(exc).__name__}", network=True, ambiguous=True
            ) from exc
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if status >= 400 or (isinstance(body, dict) and "error" in body):
            raw_err = body.get("error") if isinstance(body, dict) else None
            err: dict[str, Any] = raw_err if isinstance(raw_err, dict) else {}
            raw_data = err.get("error_data")
            data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
            raise GraphError(
                str(err.get("message") or f"HTTP {status}"),
                code=int(err.get("code") or 0) if str(err.get("code") or "0").isdigit() else 0,
                http_status=status,
                details=str(data.get("details") or ""),
                fbtrace_id=str(err.get("fbtrace_id") or ""),
            )
        return body if isinstance(body, dict) else {}

    async def send(self, phone_number_id: str, body: dict[str, Any]) -> str:
        """POST /{phone_number_id}/messages; returns the wamid."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **body}
        out = await self._json("POST", f"{self.base}/{phone_number_id}/messages", json=payload)
        messages = out.get("messages") or [{}]
        wamid = str(messages[0].get("id") or "")
        if not wamid:
            raise GraphError("send answered without a message id", http_status=200)
        return wamid

    async def mark_read(self, phone_number_id: str, message_id: str, *, typing: bool) -> None:
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing:
            payload["typing_indicator"] = {"type": "text"}
        await self._json("POST", f"{self.base}/{phone_number_id}/messages", json=payload)

    async def upload_media(
        self, phone_number_id: str, data: bytes, mime_type: str, filename: str = "reply.ogg"
    ) -> str:
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type.split(";")[0].strip())
        form.add_field(
            "file", data, filename=filename, content_type=mime_type.split(";")[0].strip()
        )
        out = await self._json("POST", f"{self.base}/{phone_number_id}/media", data=form)
        media_id = str(out.get("id") or "")
        if not media_id:
            raise GraphError("upload answered without a media id", http_status=200)
        return media_id

    async def media_info(self, media_id: str, phone_number_id: str = "") -> MediaInfo:
        params = {"phone_number_id": phone_number_id} if phone_number_id else None
        out = await self._json("GET", f"{self.base}/{media_id}", params=params)
        try:
            size = int(out.get("file_size") or 0)  # string or number (§8.2)
        except (TypeError, ValueError):
            size = 0
        return MediaInfo(
            url=str(out.get("url") or ""),
            mime_type=str(out.get("mime_type") or ""),
            sha256=str(out.get("sha256") or ""),
            file_size=size,
        )

    async def download(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """GET the media URL with the bearer token (required); returns (bytes, content type).

        Reads the body to its end in chunks (a voice note can be up to 16 MB and arrives in
        many chunks), refusing early when it exceeds `max_bytes` (131052, permanent) and
        treating a body shorter than its Content-Length as a network failure (retryable)."""
        try:
            async with self.session.get(
                url, headers=self._headers, timeout=self.media_timeout, allow_redirects=True
            ) as resp:
                if resp.status >= 400:
                    raise GraphError(f"media download HTTP {resp.status}", http_status=resp.status)
                if resp.content_length and resp.content_length > max_bytes:
                    raise GraphError("media too large", code=131052, http_status=resp.status)
                buf = bytearray()
                async for chunk in resp.content.iter_chunked(256 * 1024):
                    buf += chunk
                    if len(buf) > max_bytes:
                        raise GraphError("media too large", code=131052, http_status=resp.status)
                if resp.content_length is not None and len(buf) != resp.content_length:
                    raise GraphError("media download cut short", network=True)
                return bytes(buf), resp.headers.get("Content-Type", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphError(f"media download: {type(exc).__name__}", network=True) from exc

    async def fetch_media(
        self, media_id: str, phone_number_id: str = "", *, expected_sha256: str = "", max_bytes: int
    ) -> tuple[bytes, str]:
        """Resolve a media id and download it at once (URLs live 5 minutes); one re-resolve on 404."""
        for attempt in range(2):
            info = await self.media_info(media_id, phone_number_id)
            try:
                data, ctype = await self.download(info.url, max_bytes=max_bytes)
            except GraphError as exc:
                if exc.http_status == 404 and attempt == 0:
                    continue  # URL expired between resolve and fetch: resolve again
                raise
            if sha256_matches(data, expected_sha256) or sha256_matches(data, info.sha256):
                return data, info.mime_type or ctype
            if attempt == 0:
                continue  # one fresh download: a corrupted transfer does not repeat
            # The complete file does not match what WhatsApp announced: permanent, never
            # retried from the inbox (the guest is asked to send it again / write instead).
            raise GraphError("media sha256 mismatch", code=MEDIA_CHECKSUM_MISMATCH)
        raise GraphError("media URL kept expiring", http_status=404)
