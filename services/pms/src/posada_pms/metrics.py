"""Prometheus metrics of the pms service (default registry, `posada_pms_*`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BREAKER_STATE = Gauge(
    "posada_pms_breaker_state",
    "Circuit breaker around QloApps as this replica last saw it: 0 closed, 1 half-open, 2 open.",
    ["breaker"],
)
BREAKER_TRANSITIONS = Counter(
    "posada_pms_breaker_transitions",
    "Breaker state changes noticed by this replica, by new state.",
    ["breaker", "state"],
)
BREAKER_REJECTED = Counter(
    "posada_pms_breaker_rejected",
    "Calls refused without reaching QloApps because the breaker was open.",
    ["breaker"],
)
CACHE_REQUESTS = Counter(
    "posada_pms_cache_requests",
    "Cache look-ups by kind (availability, hotels, hotel, room_types) and result (hit, miss).",
    ["kind", "result"],
)
CACHE_INVALIDATIONS = Counter(
    "posada_pms_cache_invalidations", "Availability cache invalidations after booking changes."
)
QLOAPPS_REQUESTS = Counter(
    "posada_pms_qloapps_requests",
    "HTTP calls to QloApps by resource, method and outcome (HTTP status, timeout, connection).",
    ["resource", "method", "outcome"],
)
QLOAPPS_LATENCY = Histogram(
    "posada_pms_qloapps_request_seconds",
    "Latency of HTTP calls to QloApps by resource and method.",
    ["resource", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QLOAPPS_RETRIES = Counter(
    "posada_pms_qloapps_retries", "Retries of idempotent QloApps calls.", ["resource"]
)
BOOKINGS = Counter(
    "posada_pms_bookings",
    "Booking operations by operation (create, cancel, modify) and outcome.",
    ["operation", "outcome"],
)
LOCK_WAIT = Histogram(
    "posada_pms_lock_wait_seconds",
    "Time spent acquiring the per-night booking locks.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LANGUAGE_FALLBACKS = Counter(
    "posada_pms_language_fallbacks",
    "Requests for a language the shop does not have, answered in the default language.",
)

# Known label values at zero from the start, so the first booking or refusal moves `rate()`.
for _outcome in ("created", "sold_out", "price_changed", "lock_busy", "replayed"):
    BOOKINGS.labels("create", _outcome)
