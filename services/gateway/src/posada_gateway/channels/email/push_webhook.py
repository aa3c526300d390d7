"""`POST /webhooks/gmail`: Pub/Sub push endpoint of the Gmail API mode.

Nothing is read or stored before the OIDC token is verified (401 otherwise). Then only fast,
local work: decode the envelope (400 if it is not a Gmail notification), drop redeliveries of
the same Pub/Sub message, append a wake-up to a Redis stream and answer 204 — Pub/Sub counts
that as an ack. The syncer does the Gmail calls. If Redis cannot take it we answer 503 and
Pub/Sub redelivers later (and the periodic sweep would find the mail anyway).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from prometheus_client import Counter

from .mailstore import MailStore
from .pubsub import PushRejected, PushVerifier, parse_push

PATH = "/webhooks/gmail"
MAX_BODY_BYTES = 64 * 1024
PUSHES = Counter(
    "posada_gateway_gmail_pushes_total", "Gmail Pub/Sub pushes by outcome.", ["outcome"]
)


def gmail_push_handler(
    *,
    verifier: PushVerifier,
    mail: MailStore,
    mailbox: str,
    subscription: str,
    log: Any,
) -> Any:
    async def receive(request: web.Request) -> web.Response:
        try:
            await verifier.verify_token(request.headers.get("Authorization", ""))
        except PushRejected as exc:
            PUSHES.labels("unauthorized").inc()
            log.warning("gmail_push_rejected", reason=str(exc))
            return web.Response(status=401, text="unauthorized")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            PUSHES.labels("too_large").inc()
            return web.Response(status=413, text="payload too large")
        try:
            body = json.loads(await request.read())
            push = parse_push(body, subscription)
        except PushRejected as exc:
            PUSHES.labels("unauthorized").inc()
            log.warning("gmail_push_rejected", reason=str(exc))
            return web.Response(status=401, text="unauthorized")
        except (ValueError, UnicodeDecodeError):
            PUSHES.labels("malformed").inc()
            return web.Response(status=400, text="not a Gmail push notification")
        if push.email_address != mailbox.lower():
            PUSHES.labels("other_mailbox").inc()
            log.warning("gmail_push_other_mailbox", history_id=push.history_id)
            return web.Response(status=204)
        try:
            if not await mail.accept_push(mailbox, push.history_id, push.pubsub_id):
                PUSHES.labels("duplicate").inc()
                return web.Response(status=204)
        except Exception as exc:  # Redis down: nack, Pub/Sub redelivers
            PUSHES.labels("error").inc()
            log.error("gmail_push_store_failed", error=str(exc)[:300])
            return web.Response(status=503, text="try again")
        PUSHES.labels("accepted").inc()
        return web.Response(status=204)

    return receive
