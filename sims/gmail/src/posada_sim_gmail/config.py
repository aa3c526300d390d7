"""Stand-in configuration, read from the environment (dev defaults printed when unset)."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, fields

DEV_DEFAULTS = {
    "GMAIL_SIM_TOKEN": "dev-gmail-token",
    "GMAIL_ADDRESS": "reservas@posada-demo.example",
    "GMAIL_CLIENT_ID": "posada-dev.apps.googleusercontent.com",
    "GMAIL_CLIENT_SECRET": "dev-gmail-client-secret",
    "GMAIL_REFRESH_TOKEN": "dev-gmail-refresh-token",
}


@dataclass
class SimConfig:
    # The hotel's mailbox: the one account this stand-in holds.
    address: str = DEV_DEFAULTS["GMAIL_ADDRESS"]
    display_name: str = "Posada Demo Hotel"
    # A fixed bearer token accepted besides the access tokens the token endpoint issues.
    sim_token: str = DEV_DEFAULTS["GMAIL_SIM_TOKEN"]
    client_id: str = DEV_DEFAULTS["GMAIL_CLIENT_ID"]
    client_secret: str = DEV_DEFAULTS["GMAIL_CLIENT_SECRET"]
    refresh_token: str = DEV_DEFAULTS["GMAIL_REFRESH_TOKEN"]
    access_token_ttl_s: int = 3600
    # Pub/Sub push subscription: where notifications go and what their OIDC token says.
    push_url: str = "http://127.0.0.1:8080/webhooks/gmail"
    push_audience: str = ""  # empty = the push URL, like Pub/Sub
    push_service_account: str = "gmail-push@posada-dev.iam.gserviceaccount.com"
    subscription: str = "projects/posada-dev/subscriptions/gmail-inbound-push"
    topic: str = "projects/posada-dev/topics/gmail-inbound"
    issuer: str = "https://accounts.google.com"
    # Gmail sends at most one notification per mailbox per second; closer changes are coalesced.
    push_min_interval_ms: int = 1000
    push_max_attempts: int = 5
    push_retry_base_ms: int = 500
    push_timeout_s: float = 10.0
    # History records kept; a startHistoryId older than the oldest kept one gets a 404.
    history_keep: int = 5000
    watch_ttl_s: int = 7 * 86400

    RUNTIME_KEYS = (
        "push_url",
        "push_audience",
        "push_min_interval_ms",
        "push_max_attempts",
        "push_retry_base_ms",
        "push_timeout_s",
        "history_keep",
        "access_token_ttl_s",
    )

    @property
    def audience(self) -> str:
        return self.push_audience or self.push_url

    @classmethod
    def from_env(cls, announce: bool = False) -> SimConfig:
        env = os.environ
        cfg = cls(
            address=env.get("GMAIL_ADDRESS", DEV_DEFAULTS["GMAIL_ADDRESS"]),
            display_name=env.get("GMAIL_DISPLAY_NAME", cls.display_name),
            sim_token=env.get("GMAIL_SIM_TOKEN", DEV_DEFAULTS["GMAIL_SIM_TOKEN"]),
            client_id=env.get("GMAIL_CLIENT_ID", DEV_DEFAULTS["GMAIL_CLIENT_ID"]),
            client_secret=env.get("GMAIL_CLIENT_SECRET", DEV_DEFAULTS["GMAIL_CLIENT_SECRET"]),
            refresh_token=env.get("GMAIL_REFRESH_TOKEN", DEV_DEFAULTS["GMAIL_REFRESH_TOKEN"]),
            push_url=env.get("GMAIL_SIM_PUSH_URL", cls.push_url),
            push_audience=env.get("GMAIL_PUSH_AUDIENCE", ""),
            push_service_account=env.get("GMAIL_PUSH_SERVICE_ACCOUNT", cls.push_service_account),
            subscription=env.get("GMAIL_PUSH_SUBSCRIPTION", cls.subscription),
            push_min_interval_ms=int(
                env.get("GMAIL_SIM_PUSH_MIN_INTERVAL_MS", cls.push_min_interval_ms)
            ),
        )
        if announce:
            unset = [k for k in DEV_DEFAULTS if k not in env]
            if unset:
                print(
                    "gmail-sim: dev defaults in use for " + ", ".join(unset),
                    file=sys.stderr,
                    flush=True,
                )
        return cfg

    def public(self) -> dict:
        """Runtime settings (no secrets) for GET /control/config."""
        d = asdict(self)
        for k in ("sim_token", "client_secret", "refresh_token"):
            d.pop(k, None)
        return d

    def update(self, changes: dict) -> list[str]:
        """Apply runtime changes; returns the keys that were refused."""
        types = {f.name: f.type for f in fields(self)}
        bad = []
        for key, value in changes.items():
            if key not in self.RUNTIME_KEYS:
                bad.append(key)
                continue
            current = getattr(self, key)
            try:
                setattr(self, key, type(current)(value))
            except (TypeError, ValueError):
                bad.append(key)
        del types
        return bad
