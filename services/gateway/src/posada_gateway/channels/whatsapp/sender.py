"""Sending to WhatsApp with the rules the reference asks for.

* Rate limits: a shared token bucket per business number (all sends, read receipts included) and
  one per (number, guest) pair for messages (`ratelimit.py`).
* Retries with backoff only for retryable errors: transient codes and HTTP 5xx/network failures
  (exponential), throughput 130429 (exponential), pair rate 131056 (4^n seconds, Meta's rule).
* 24-hour window: when the guest last wrote more than 24 h (minus a margin) ago, or a send fails
  with 131047, the configured re-engagement template is sent instead and the caller holds the
  real content until the guest answers.
* Expired or invalid token (190, other auth codes): no retry at all; an in-process breaker stops
  every send for `auth_pause_seconds`, the `whatsapp_token_valid` gauge drops to 0 and an error
  is logged, so one bad token cannot turn into a retry storm against Graph.
* Payload refused (131026 undeliverable, 131009 invalid, 131053 upload): one plain-text
  fallback when the part has one, never a retry of the same payload.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ... import metrics
from ...ratelimit import RateLimited, RateLimiter
from .graph import GraphClient, GraphError
from .render import OutboundPart

WINDOW_SECONDS = 24 * 3600


@dataclass(slots=True)
class Recipient:
    """Guest as WhatsApp addresses them: phone (wa_id digits) wins over the BSUID."""

    guest_id: str
    phone: str = ""
    bsuid: str = ""

    def address(self) -> dict[str, str]:
        if self.phone:
            return {"to": "+" + self.phone.lstrip("+")}
        return {"recipient": self.bsuid or self.guest_id}

    @property
    def key(self) -> str:
        return self.phone or self.guest_id


@dataclass(slots=True)
class SendResult:
    wamid: str
    # sent: the part itself | fallback_text: its text fallback | template: window closed, the
    # re-engagement template went out and the part must be held.
    outcome: str
    type: str


@dataclass(slots=True)
class SenderConfig:
    template_name: str = ""
    template_language: str = "en_US"
    window_margin_seconds: int = 15 * 60
    max_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    pair_backoff_base_seconds: float = 1.0  # 4^n × base (Meta: 4^X seconds)
    rate_limit_max_wait_seconds: float = 20.0
    auth_pause_seconds: float = 60.0
    # After a send without an answer (timeout), wait this long for the `sent` status echo
    # before deciding to send again.
    ambiguous_wait_seconds: float = 2.0


class AuthBroken(GraphError):
    """Sends are paused because WhatsApp rejected the access token."""


class Sender:
    def __init__(
        self,
        graph: GraphClient,
        limiter: RateLimiter,
        config: SenderConfig,
        *,
        last_inbound: Callable[[str, str], Awaitable[int | None]],
        log: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sent_echo: Callable[[str], Awaitable[str]] | None = None,
    ):
        self.graph = graph
        self.limiter = limiter
        self.cfg = config
        self._last_inbound = last_inbound
        self._log = log
        self._sleep = sleep
        self._auth_broken_until = 0.0
        # callback data → wamid, from `sent` status webhooks (biz_opaque_callback_data echo)
        self._sent_echo = sent_echo

    # --- breaker for bad tokens ---------------------------------------------------------
    def _check_auth(self) -> None:
        if time.monotonic() < self._auth_broken_until:
            raise AuthBroken("WhatsApp access token rejected; sends paused", code=190)

    def _auth_failed(self, exc: GraphError) -> None:
        self._auth_broken_until = time.monotonic() + self.cfg.auth_pause_seconds
        metrics.TOKEN_VALID.set(0)
        metrics.AUTH_FAILURES.inc()
        if self._log:
            self._log.error(
                "whatsapp_auth_failed",
                code=exc.code,
                http_status=exc.http_status,
                fbtrace_id=exc.fbtrace_id,
                pause_seconds=self.cfg.auth_pause_seconds,
                hint="check WHATSAPP_ACCESS_TOKEN (use a System User token)",
            )

    # --- window -------------------------------------------------------------------------
    async def window_open(self, pnid: str, recipient: Recipient) -> bool:
        last = await self._last_inbound(pnid, recipient.guest_id)
        if last is None:
            return True  # unknown: try, and let 131047 decide
        return time.time() - last < WINDOW_SECONDS - self.cfg.window_margin_seconds

    # --- sending ------------------------------------------------------------------------
    async def send_part(
        self,
        pnid: str,
        recipient: Recipient,
        part: OutboundPart,
        *,
        context_message_id: str = "",
        callback_data: str = "",
        check_window: bool = True,
    ) -> SendResult:
        """Send one rendered part. Raises GraphError when it could not go out (check
        `.retryable`: True means try the whole thing again later)."""
        self._check_auth()
        if check_window and not await self.window_open(pnid, recipient):
            return await self.send_template(pnid, recipient, callback_data)
        try:
            body = await self._body(pnid, part)
            return await self._send_with_retries(
                pnid, recipient, body, part.kind, context_message_id, callback_data
            )
        except GraphError as exc:
            kind = exc.kind
            if kind == "window":
                return await self.send_template(pnid, recipient, callback_data)
            if (
                kind in ("undeliverable", "permanent")
                and part.fallback_text
                and part.kind != "text"
            ):
                body = {"type": "text", "text": {"body": part.fallback_text[:4096]}}
                res = await self._send_with_retries(
                    pnid, recipient, body, "text", context_message_id, callback_data
                )
                return SendResult(res.wamid, "fallback_text", "text")
            raise

    async def _body(self, pnid: str, part: OutboundPart) -> dict[str, Any]:
        if part.kind == "audio":
            media_id = await self._upload(pnid, part.audio, part.audio_mime)
            audio: dict[str, Any] = {"id": media_id}
            if part.audio_mime.lower().startswith("audio/ogg"):
                audio["voice"] = True  # OGG/Opus: shown as a voice note (§7.3)
            return {"type": "audio", "audio": audio}
        return {"type": part.kind, part.kind: part.payload}

    async def _upload(self, pnid: str, data: bytes, mime: str) -> str:
        attempt = 0
        while True:
            self._check_auth()
            try:
                media_id = await self.graph.upload_media(pnid, data, mime)
                metrics.SENDS.labels("media_upload", "ok", "").inc()
                return media_id
            except GraphError as exc:
                metrics.SENDS.labels("media_upload", "error", exc.label).inc()
                if exc.kind == "auth":
                    self._auth_failed(exc)
                    raise
                attempt += 1
                if not exc.retryable or attempt >= self.cfg.max_attempts:
                    raise
                metrics.SEND_RETRIES.labels(exc.kind).inc()
                await self._sleep(self._backoff(exc, attempt))

    def _backoff(self, exc: GraphError, attempt: int) -> float:
        if exc.code == 131056:
            delay = self.cfg.pair_backoff_base_seconds * (4 ** (attempt - 1))
        else:
            delay = self.cfg.backoff_base_seconds * (2 ** (attempt - 1))
        return min(delay, self.cfg.backoff_max_seconds)

    async def _take_tokens(self, pnid: str, recipient: Recipient) -> None:
        try:
            waited = await self.limiter.for_send(
                pnid, recipient.key, max_wait=self.cfg.rate_limit_max_wait_seconds
            )
        except RateLimited as exc:
            # Retryable: the message stays pending and is tried again later.
            raise GraphError(str(exc), code=131056) from exc
        if waited:
            metrics.RATE_LIMIT_WAITS.labels("send").inc()
            metrics.RATE_LIMIT_WAIT_SECONDS.labels("send").inc(waited)

    async def _send_with_retries(
        self,
        pnid: str,
        recipient: Recipient,
        body: dict[str, Any],
        mtype: str,
        context_message_id: str,
        callback_data: str,
    ) -> SendResult:
        body = {**recipient.address(), **body}
        if context_message_id:
            body["context"] = {"message_id": context_message_id}
        if callback_data:
            body["biz_opaque_callback_data"] = callback_data[:512]
        attempt = 0
        while True:
            self._check_auth()
            await self._take_tokens(pnid, recipient)
            started = time.perf_counter()
            try:
                wamid = await self.graph.send(pnid, body)
            except GraphError as exc:
                metrics.SEND_SECONDS.observe(time.perf_counter() - started)
                metrics.SENDS.labels(mtype, exc.kind, exc.label).inc()
                if exc.kind == "auth":
                    self._auth_failed(exc)
                    raise
                attempt += 1
                if not exc.retryable or attempt >= self.cfg.max_attempts:
                    raise
                metrics.SEND_RETRIES.labels(exc.kind).inc()
                delay = self._backoff(exc, attempt)
                if exc.ambiguous:
                    delay = max(delay, self.cfg.ambiguous_wait_seconds)
                await self._sleep(delay)
                if exc.ambiguous and callback_data and self._sent_echo is not None:
                    # No answer, but WhatsApp may have accepted it: its `sent` status webhook
                    # echoes our callback data. Found → it went out; do not send it twice.
                    echoed = await self._sent_echo(callback_data[:512])
                    if echoed:
                        metrics.SEND_RETRIES.labels("avoided_duplicate").inc()
                        return SendResult(echoed, "sent", mtype)
                continue
            metrics.SEND_SECONDS.observe(time.perf_counter() - started)
            metrics.SENDS.labels(mtype, "ok", "").inc()
            metrics.TOKEN_VALID.set(1)
            return SendResult(wamid, "sent", mtype)

    async def send_template(
        self, pnid: str, recipient: Recipient, callback_data: str
    ) -> SendResult:
        if not self.cfg.template_name:
            raise GraphError(
                "24-hour window closed and no WHATSAPP_REENGAGEMENT_TEMPLATE configured",
                code=131047,
            )
        body = {
            "type": "template",
            "template": {
                "name": self.cfg.template_name,
                "language": {"code": self.cfg.template_language},
            },
        }
        res = await self._send_with_retries(pnid, recipient, body, "template", "", callback_data)
        metrics.TEMPLATES.inc()
        return SendResult(res.wamid, "template", "template")

    async def mark_read(self, pnid: str, message_id: str, *, typing: bool) -> bool:
        """Best effort, one try: blue ticks (+ typing indicator). Never blocks on limits."""
        if time.monotonic() < self._auth_broken_until:
            return False
        try:
            if await self.limiter.try_take(f"num:{pnid}", self.limiter.number) > 0:
                return False
            await self.graph.mark_read(pnid, message_id, typing=typing)
            metrics.SENDS.labels("read", "ok", "").inc()
            return True
        except GraphError as exc:
            metrics.SENDS.labels("read", exc.kind, exc.label).inc()
            if exc.kind == "auth":
                self._auth_failed(exc)
            return False
