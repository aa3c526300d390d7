"""Prometheus metrics of the gateway (default registry; names `posada_gateway_*`)."""

from __future__ import annotations

from posada_common.metrics import precreate
from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_REQUESTS = Counter(
    "posada_gateway_webhook_requests_total",
    "Webhook HTTP requests by method and result",
    ["method", "result"],  # ok, bad_signature, malformed, too_large, verified, forbidden, error
)
WEBHOOK_SECONDS = Histogram(
    "posada_gateway_webhook_seconds",
    "Time to acknowledge a webhook POST (raw body to 200)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
ITEMS_SKIPPED = Counter(
    "posada_gateway_webhook_items_skipped_total", "Webhook items without an id/guest/known status"
)
INBOUND_MESSAGES = Counter(
    "posada_gateway_inbound_messages_total", "Guest messages accepted into the inbox", ["kind"]
)
DUPLICATES = Counter(
    "posada_gateway_duplicates_total",
    "Redelivered webhook items dropped",
    ["what"],  # message|status
)
STATUSES = Counter("posada_gateway_statuses_total", "Status webhooks applied", ["status"])
ASYNC_ERRORS = Counter(
    "posada_gateway_async_errors_total", "value.errors[] reported by WhatsApp", ["code"]
)
INBOX_LENGTH = Gauge("posada_gateway_inbox_length", "Entries in the inbox stream not yet done")
INBOX_PENDING = Gauge(
    "posada_gateway_inbox_pending", "Inbox entries delivered to a worker, not acked"
)
INBOX_OLDEST_AGE = Gauge(
    "posada_gateway_inbox_oldest_age_seconds", "Age of the oldest unfinished inbox entry (lag)"
)
DEAD_LETTER_NOTICES = Counter(
    "posada_gateway_dead_letter_notices_total",
    "Guests told that their message could not be handled",
    ["result"],
)
INBOX_PARKED = Gauge(
    "posada_gateway_inbox_parked", "Inbox entries waiting outside the workers for a retry"
)
STATUS_STREAM_LENGTH = Gauge(
    "posada_gateway_status_stream_length", "Delivery events waiting to be forwarded to conversation"
)
DEAD_LETTERS = Gauge("posada_gateway_dead_letters", "Entries in the dead-letter stream")
DEAD_LETTERED = Counter(
    "posada_gateway_dead_lettered_total", "Messages moved to the dead-letter stream", ["reason"]
)
PROCESSED = Counter(
    "posada_gateway_processed_total", "Inbox entries finished by the worker", ["outcome"]
)  # done, duplicate, dead_letter, retry
CONVERSATION_SECONDS = Histogram(
    "posada_gateway_conversation_seconds",
    "HandleMessage as the gateway sees it (through Envoy), by outcome",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PROCESS_SECONDS = Histogram(
    "posada_gateway_process_seconds",
    "Time from taking an inbox entry to acknowledging it",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
END_TO_END_SECONDS = Histogram(
    "posada_gateway_end_to_end_seconds",
    "Time from webhook acceptance to the last reply sent",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
CLAIMED = Counter("posada_gateway_claimed_total", "Pending entries claimed from dead consumers")
CONVERSATION_CALLS = Counter(
    "posada_gateway_conversation_calls_total", "Calls to ConversationService", ["method", "code"]
)
SENDS = Counter(
    "posada_gateway_sends_total",
    "WhatsApp Graph sends by message type, result and error code",
    ["type", "result", "code"],
)
SEND_SECONDS = Histogram(
    "posada_gateway_send_seconds",
    "Graph send latency (one HTTP exchange)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SEND_RETRIES = Counter("posada_gateway_send_retries_total", "Send retries by reason", ["reason"])
RATE_LIMIT_WAITS = Counter(
    "posada_gateway_rate_limit_waits_total", "Sends that waited for a token", ["scope"]
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "posada_gateway_rate_limit_wait_seconds_total", "Seconds spent waiting for tokens", ["scope"]
)
TEMPLATES = Counter(
    "posada_gateway_reengagement_templates_total", "Re-engagement templates sent (window closed)"
)
TOKEN_VALID = Gauge(
    "posada_gateway_whatsapp_token_valid",
    "0 after WhatsApp rejected the access token (code 190 etc.); alert on it",
)
AUTH_FAILURES = Counter(
    "posada_gateway_whatsapp_auth_failures_total", "Graph calls rejected for auth/permission"
)
MEDIA_DOWNLOADS = Counter(
    "posada_gateway_media_downloads_total", "Inbound media downloads", ["result"]
)
MEDIA_BYTES = Counter(
    "posada_gateway_media_downloaded_bytes_total", "Inbound media bytes downloaded"
)
CHANNEL_SENDS = Counter(
    "posada_gateway_channel_send_requests_total", "ChannelService.SendMessage calls", ["result"]
)

TOKEN_VALID.set(1)

# Known label values exported at zero from the start, so `increase()`/`rate()` see the first
# webhook, dead letter or failed send (a series born on its first inc() hides that event).
precreate(
    WEBHOOK_REQUESTS,
    *[("POST", r) for r in ("ok", "bad_signature", "malformed", "too_large", "error")],
    ("GET", "verified"),
    ("GET", "forbidden"),
)
precreate(PROCESSED, *[(o,) for o in ("done", "duplicate", "dead_letter", "retry", "busy")])
precreate(DEAD_LETTERED, *[(r,) for r in ("undecodable", "permanent", "max_attempts")])
precreate(DUPLICATES, ("message",), ("status",))
precreate(MEDIA_DOWNLOADS, ("ok",), ("retry",), ("failed",))
precreate(SENDS, ("text", "ok", ""))
precreate(INBOUND_MESSAGES, *[(k,) for k in ("MESSAGE_KIND_TEXT", "MESSAGE_KIND_AUDIO")])
precreate(RATE_LIMIT_WAITS, ("send",))
precreate(SEND_RETRIES, ("transient",), ("rate_limit",), ("avoided_duplicate",))
