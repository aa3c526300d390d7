"""E-mail settings of the gateway (environment variables = field names upper-cased).

`EMAIL_MODE`: `off` (default), `gmail` (Gmail API + Pub/Sub push) or `imap` (IMAP IDLE + SMTP
with an app password). Production refuses the dev/placeholder secrets of the chosen mode.
"""

from __future__ import annotations

from typing import Literal

from posada_common.settings import CommonSettings, is_placeholder
from pydantic import Field, SecretStr, model_validator


class EmailSettings(CommonSettings):
    email_mode: Literal["off", "gmail", "imap"] = "off"
    # The hotel's mailbox and how replies are signed.
    email_address: str = "reservas@posada-demo.example"
    email_hotel_name: str = "Posada Demo Hotel"
    # Hotel id of this mailbox (empty = HOTEL_ID).
    email_hotel_id: str = ""
    email_http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # Gmail API mode.
    gmail_api_base: str = "https://gmail.googleapis.com"
    gmail_token_uri: str = "https://oauth2.googleapis.com/token"
    gmail_client_id: str = ""
    gmail_client_secret: SecretStr | None = None
    gmail_refresh_token: SecretStr | None = None
    # A fixed bearer token instead of OAuth (development: the stand-in's GMAIL_SIM_TOKEN).
    gmail_access_token: SecretStr | None = None
    gmail_topic: str = ""
    gmail_push_audience: str = ""
    gmail_push_service_account: str = ""
    gmail_push_subscription: str = ""
    gmail_push_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    gmail_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    gmail_watch_renew_seconds: float = Field(default=86400.0, gt=0, le=7 * 86400)
    gmail_full_sync_query: str = "newer_than:2d"

    # IMAP/SMTP mode.
    imap_host: str = "imap.gmail.com"
    imap_port: int = Field(default=993, ge=1, le=65535)
    # Implicit TLS (993). aioimaplib has no STARTTLS; "none" only for loopback test servers.
    imap_security: Literal["tls", "none"] = "tls"
    imap_user: str = ""
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_sent_folder: str = ""  # empty: don't append (Gmail files SMTP mail in Sent itself)
    imap_idle_seconds: float = Field(default=540.0, gt=0, le=1740)
    smtp_host: str = "smtp.gmail.com"
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Literal["tls", "starttls", "none"] = "tls"
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    # A private CA bundle for self-hosted mail servers (empty = the system trust store).
    email_ca_file: str = ""

    @model_validator(mode="after")
    def _email_mode_complete(self) -> EmailSettings:
        if self.email_mode == "gmail":
            if not (self.gmail_refresh_token or self.gmail_access_token):
                raise ValueError(
                    "EMAIL_MODE=gmail needs GMAIL_REFRESH_TOKEN (or GMAIL_ACCESS_TOKEN)"
                )
            if not self.gmail_push_audience:
                raise ValueError("EMAIL_MODE=gmail needs GMAIL_PUSH_AUDIENCE")
        if self.email_mode == "imap" and not (self.imap_user and self.imap_password):
            raise ValueError("EMAIL_MODE=imap needs IMAP_USER and IMAP_PASSWORD")
        if self.environment == "production" and self.email_mode != "off":
            secrets = {
                "gmail": [self.gmail_refresh_token, self.gmail_client_secret],
                "imap": [self.imap_password, self.smtp_password or self.imap_password],
            }[self.email_mode]
            if any(s is None or is_placeholder(s.get_secret_value()) for s in secrets):
                raise ValueError(
                    f"production refuses placeholder secrets for EMAIL_MODE={self.email_mode}"
                )
            if self.email_mode == "gmail" and self.gmail_access_token is not None:
                raise ValueError("production uses OAuth refresh tokens, not GMAIL_ACCESS_TOKEN")
        return self
