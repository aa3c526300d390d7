"""WhatsApp's public webhook (`/webhooks/whatsapp`, behind Envoy's public listener).

Before the 200 only fast, local work happens: read the raw body (≤ `max_body_bytes`, else 413),
check the signature on those bytes (401), decode JSON (400), parse, then one Redis round trip
per kind that atomically dedupes and appends every message to the inbox stream and applies every
status. If Redis cannot take the batch we answer 503, so Meta redelivers it later: nothing is
acknowledged that is not stored.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from hotel.channel.v1 import message_pb2 as m

from ... import metrics
from ...store import GatewayStore
from ..base import Inbox
from .parser import parse_webhook
from .signature import signature_is_valid, verification_challenge

PATH = "/webhooks/whatsapp"
MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta sends up to 3 MB


# Meta's payloads nest about ten levels; a signed body nested deeper than Python's default
# recursion limit must still be read (its other messages answered), up to this depth.
JSON_MAX_DEPTH = 5000


def decode_json(raw: bytes) -> Any:
    """json.loads that copes with deep nesting: the first try uses the default recursion limit;
    only a body that hits it is decoded again with a higher limit (synchronously, so nothing
    else runs meanwhile), and one deeper than `JSON_MAX_DEPTH` is refused (RecursionError)."""
    try:
        return json.loads(raw)
    except RecursionError:
        pass
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, JSON_MAX_DEPTH))
    try:
        return json.loads(raw)
    finally:
        sys.setrecursionlimit(previous)


def whatsapp_routes(
    inbox: Inbox,
    store: GatewayStore,
    *,
    app_secrets: Sequence[str],
    verify_token: str,
    hotel_for: Callable[[str], str],
    log: Any,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> list[web.RouteDef]:
    secrets = [s for s in app_secrets if s]

    async def verify(request: web.Request) -> web.Response:
        challenge = verification_challenge(request.query, verify_token)
        if challenge is None:
            metrics.WEBHOOK_REQUESTS.labels("GET", "forbidden").inc()
            log.warning("webhook_verification_refused", mode=request.query.get("hub.mode", ""))
            return web.Response(status=403, text="Forbidden")
        metrics.WEBHOOK_REQUESTS.labels("GET", "verified").inc()
        return web.Response(text=challenge, content_type="text/plain")

    async def receive(request: web.Request) -> web.Response:
        started = time.perf_counter()
        if request.content_length is not None and request.content_length > max_body_bytes:
            metrics.WEBHOOK_REQUESTS.labels("POST", "too_large").inc()
            return web.Response(status=413, text="payload too large")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            metrics.WEBHOOK_REQUESTS.labels("POST", "too_large").inc()
            return web.Response(status=413, text="payload too large")
        if not signature_is_valid(raw, request.headers.get("X-Hub-Signature-256"), secrets):
            metrics.WEBHOOK_REQUESTS.labels("POST", "bad_signature").inc()
            log.warning(
                "webhook_bad_signature",
                bytes=len(raw),
                has_header="X-Hub-Signature-256" in request.headers,
            )
            return web.Response(status=401, text="invalid signature")
        try:
            body = decode_json(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            metrics.WEBHOOK_REQUESTS.labels("POST", "malformed").inc()
            return web.Response(status=400, text="malformed JSON")
        if not isinstance(body, dict):
            metrics.WEBHOOK_REQUESTS.labels("POST", "malformed").inc()
            return web.Response(status=400, text="JSON object expected")
        parsed = parse_webhook(body, hotel_for)
        try:
            accepted = await inbox.accept(parsed.messages, parsed.notes)
            applied = await store.apply_statuses(parsed.statuses)
        except Exception as exc:  # Redis down: refuse, Meta will redeliver
            metrics.WEBHOOK_REQUESTS.labels("POST", "error").inc()
            log.error("webhook_store_failed", error=str(exc), messages=len(parsed.messages))
            return web.Response(status=503, text="try again")
        for msg, new in zip(parsed.messages, accepted, strict=True):
            if new:
                metrics.INBOUND_MESSAGES.labels(m.MessageKind.Name(msg.kind)).inc()
            else:
                metrics.DUPLICATES.labels("message").inc()
        for st, changed in zip(parsed.statuses, applied, strict=True):
            if changed:
                metrics.STATUSES.labels(m.DeliveryStatus.Name(st.status)).inc()
            else:
                metrics.DUPLICATES.labels("status").inc()
        if parsed.skipped:
            metrics.ITEMS_SKIPPED.inc(parsed.skipped)
            log.warning("webhook_items_skipped", count=parsed.skipped)
        for err in parsed.errors:
            metrics.ASYNC_ERRORS.labels(str(err.get("code", 0))).inc()
            log.warning("whatsapp_async_error", **{k: v for k, v in err.items() if k != "detail"})
        for event in parsed.system:
            log.info(
                "whatsapp_system_event",
                business_account_id=event.get("business_account_id"),
                system_type=(event.get("system") or {}).get("type", ""),
            )
        metrics.WEBHOOK_REQUESTS.labels("POST", "ok").inc()
        metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        if parsed.messages:
            # debug: at hundreds of webhooks a second an info line each costs real CPU; the
            # counters above tell the same story.
            log.debug(
                "webhook_accepted",
                messages=len(parsed.messages),
                new=sum(accepted),
                statuses=len(parsed.statuses),
            )
        return web.Response(text="ok")

    return [web.get(PATH, verify), web.post(PATH, receive)]
