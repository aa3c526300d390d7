"""Prometheus metrics of the console (served on METRICS_PORT, like every service's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LOGINS = Counter("posada_console_logins_total", "Login attempts by outcome", ["method", "outcome"])
ACTIONS = Counter(
    "posada_console_staff_actions_total", "Staff actions by kind and outcome", ["action", "outcome"]
)
REFUSED = Counter(
    "posada_console_refused_total", "Requests refused by the console's checks", ["reason"]
)
LIVE_STREAMS = Gauge("posada_console_live_streams", "Open server-sent event streams")
