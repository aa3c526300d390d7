"""Simulator configuration, read from the environment (dev defaults printed when unset)."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, fields

DEV_DEFAULTS = {
    "WHATSAPP_APP_SECRET": "dev-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "dev-verify-token",
    "WHATSAPP_ACCESS_TOKEN": "dev-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1098765432101",
}


@dataclass
class SimConfig:
    app_secret: str = DEV_DEFAULTS["WHATSAPP_APP_SECRET"]
    verify_token: str = DEV_DEFAULTS["WHATSAPP_VERIFY_TOKEN"]
    access_token: str = DEV_DEFAULTS["WHATSAPP_ACCESS_TOKEN"]
    phone_number_id: str = DEV_DEFAULTS["WHATSAPP_PHONE_NUMBER_ID"]
    display_phone_number: str = "15550101234"
    waba_id: str = "2345678901234"
    verified_name: str = "Posada Demo Hotel"
    webhook_url: str = "http://127.0.0.1:8080/webhooks/whatsapp"
    status_delay_ms: int = 300
    auto_statuses: bool = True
    webhook_max_attempts: int = 5
    webhook_retry_base_ms: int = 1000
    webhook_timeout_s: float = 10.0
    media_url_ttl_s: float = 300.0
    enforce_window: bool = False
    rate_limits: bool = False
    throughput_mps: int = 80
    pair_burst: int = 45
    pair_period_s: float = 6.0
    # Guests carry a business-scoped user id (BSUID) since April 2026 (reference §13).
    bsuid: bool = True
    # Absolute base of the Graph side (e.g. http://127.0.0.1:8091), used for media URLs put into
    # webhooks; set by the runner. Graph answers use the Host the caller reached us with.
    graph_base: str = ""
    extra: dict = field(default_factory=dict)
    # Where POST /sim/config may point webhooks: the URL configured at start (the gateway's)
    # plus SIM_ALLOWED_WEBHOOK_URLS. Anything else is refused, so the control API cannot be
    # turned into a signed-request cannon against other hosts or Envoy's admin.
    allowed_webhook_urls: list[str] = field(default_factory=list)

    # Settings a test or tool may change at run time through POST /sim/config.
    RUNTIME_KEYS = (
        "webhook_url",
        "status_delay_ms",
        "auto_statuses",
        "webhook_max_attempts",
        "webhook_retry_base_ms",
        "webhook_timeout_s",
        "media_url_ttl_s",
        "enforce_window",
        "rate_limits",
        "throughput_mps",
        "pair_burst",
        "pair_period_s",
        "bsuid",
    )

    def __post_init__(self) -> None:
        if self.webhook_url not in self.allowed_webhook_urls:
            self.allowed_webhook_urls.append(self.webhook_url)

    def public(self) -> dict:
        d = asdict(self)
        d.pop("extra", None)
        for secret in ("app_secret", "access_token", "verify_token"):
            d[secret] = "***"
        return d

    def update(self, changes: dict) -> list[str]:
        """Apply runtime changes; returns the keys that were not accepted."""
        rejected = []
        types = {f.name: f.type for f in fields(self)}
        for key, value in changes.items():
            if key not in self.RUNTIME_KEYS:
                rejected.append(key)
                continue
            current = getattr(self, key)
            try:
                if isinstance(current, bool):
                    value = bool(value)
                elif isinstance(current, int):
                    value = int(value)
                elif isinstance(current, float):
                    value = float(value)
                else:
                    value = str(value)
            except (TypeError, ValueError):
                rejected.append(key)
                continue
            _ = types
            if key == "webhook_url" and value not in self.allowed_webhook_urls:
                rejected.append(key)
                continue
            setattr(self, key, value)
        return rejected

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, announce: bool = True) -> SimConfig:
        env = dict(os.environ if env is None else env)
        cfg = cls()
        unset = []
        for var, attr in (
            ("WHATSAPP_APP_SECRET", "app_secret"),
            ("WHATSAPP_VERIFY_TOKEN", "verify_token"),
            ("WHATSAPP_ACCESS_TOKEN", "access_token"),
            ("WHATSAPP_PHONE_NUMBER_ID", "phone_number_id"),
        ):
            value = env.get(var, "").strip()
            if value:
                setattr(cfg, attr, value)
            else:
                unset.append(var)
        simple = {
            "WHATSAPP_DISPLAY_PHONE_NUMBER": ("display_phone_number", str),
            "WHATSAPP_WABA_ID": ("waba_id", str),
            "SIM_WEBHOOK_URL": ("webhook_url", str),
            "SIM_STATUS_DELAY_MS": ("status_delay_ms", int),
            "SIM_WEBHOOK_MAX_ATTEMPTS": ("webhook_max_attempts", int),
            "SIM_WEBHOOK_RETRY_BASE_MS": ("webhook_retry_base_ms", int),
            "SIM_MEDIA_URL_TTL_S": ("media_url_ttl_s", float),
            "SIM_GRAPH_BASE": ("graph_base", str),
        }
        for var, (attr, conv) in simple.items():
            value = env.get(var, "").strip()
            if value:
                try:
                    setattr(cfg, attr, conv(value))
                except ValueError:
                    print(f"whatsapp-sim: ignoring bad {var}={value!r}", file=sys.stderr)
        cfg.allowed_webhook_urls = [cfg.webhook_url] + [
            url.strip()
            for url in env.get("SIM_ALLOWED_WEBHOOK_URLS", "").split(",")
            if url.strip() and url.strip() != cfg.webhook_url
        ]
        if announce and unset:
            for var in unset:
                print(
                    f"whatsapp-sim: {var} not set, using dev default {DEV_DEFAULTS[var]!r}",
                    file=sys.stderr,
                )
        return cfg
