"""Configuration of the gateway service, from environment variables (name = field upper-cased)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from posada_gateway.channels.email.settings import EmailSettings


class GatewaySettings(EmailSettings):
    service_name: str = "gateway"
    grpc_port: int = 50050
    metrics_port: int = 9450

    # Webhook HTTP server (behind Envoy's public listener: /webhooks/* → here).
    gateway_http_host: str = "127.0.0.1"
    gateway_http_port: int = Field(default=8081, ge=0, le=65535)
    webhook_max_body_bytes: int = Field(default=3 * 1024 * 1024, ge=1024)

    # WhatsApp Cloud API. The webhook uses the app secret (signature) and the verify token
    # (handshake); Graph calls use the access token. Production refuses placeholders.
    whatsapp_app_secret: SecretStr = SecretStr("dev-app-secret")
    # Previous secret(s), comma-separated, accepted during a rotation.
    whatsapp_app_secret_previous: SecretStr | None = None
    whatsapp_verify_token: SecretStr = SecretStr("dev-verify-token")
    whatsapp_access_token: SecretStr = SecretStr("dev-access-token")
    whatsapp_phone_number_id: str = "1098765432101"
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    whatsapp_http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Approved utility template sent when the 24-hour window is closed (docs/external-apis/whatsapp.md#customer-service-window); empty = none.
    whatsapp_reengagement_template: str = "reengagement"
    whatsapp_reengagement_template_language: str = "en_US"
    whatsapp_window_margin_seconds: int = Field(default=15 * 60, ge=0, le=6 * 3600)
    whatsapp_mark_read: bool = True
    whatsapp_typing_indicator: bool = True

    # Hotels: default hotel, plus phone_number_id → hotel id ("1098765432101=1,1098...=2").
    hotel_id: str = "1"
    whatsapp_hotel_map: str = ""

    # Redis streams (shared Redis: everything under gw:).
    gateway_inbox_stream: str = "gw:inbox"
    gateway_status_stream: str = "gw:status"
    gateway_dlq_stream: str = "gw:dlq"
    gateway_consumer_group: str = "gateway"
    # Stable per replica (pod name) so a restart resumes its own pending entries at once.
    gateway_consumer_name: str = ""
    gateway_dedupe_ttl_days: int = Field(default=8, ge=1, le=60)
    gateway_redis_max_connections: int = Field(default=64, ge=4, le=10_000)
    gateway_redis_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # Worker.
    # Turns in flight (different guests). A turn mostly waits on conversation (hundreds of ms
    # under load), so throughput is about concurrency / turn time: 32 keeps the pipe full.
    gateway_worker_concurrency: int = Field(default=32, ge=1, le=256)
    # A message is offered to conversation at most `max_attempts` times and within
    # `retry_budget_seconds` of its first failure (backoff base → max); the last offer carries
    # final_attempt=true. Then it is dead-lettered and the guest is told.
    gateway_max_attempts: int = Field(default=12, ge=1, le=100)
    gateway_retry_base_seconds: float = Field(default=1.0, gt=0, le=60)
    gateway_retry_max_seconds: float = Field(default=30.0, gt=0, le=3600)
    gateway_retry_budget_seconds: float = Field(default=120.0, gt=0, le=86400)
    # Start consuming only when conversation reports SERVING (gRPC health through Envoy).
    gateway_wait_for_conversation: bool = True
    # Run on uvloop's event loop (less CPU per webhook and per message).
    gateway_uvloop: bool = True
    gateway_claim_idle_seconds: float = Field(default=30.0, gt=0, le=3600)
    gateway_claim_interval_seconds: float = Field(default=5.0, gt=0, le=600)
    # Under Envoy's route timeout for conversation (60 s: voice-note transcription + PMS calls).
    gateway_conversation_timeout_seconds: float = Field(default=50.0, gt=0, le=300)
    gateway_media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    # Rate limits (shared token buckets in Redis).
    whatsapp_number_mps: float = Field(default=80.0, ge=0, description="0 = no limit")
    whatsapp_number_burst: float = Field(default=80.0, ge=1)
    whatsapp_pair_per_minute: float = Field(default=10.0, ge=0, description="0 = no limit")
    whatsapp_pair_burst: float = Field(default=20.0, ge=1)
    whatsapp_rate_limit_max_wait_seconds: float = Field(default=20.0, ge=0, le=600)
    whatsapp_send_max_attempts: int = Field(default=4, ge=1, le=20)
    whatsapp_send_backoff_seconds: float = Field(default=0.5, gt=0, le=60)
    whatsapp_pair_backoff_seconds: float = Field(default=1.0, gt=0, le=60)
    whatsapp_auth_pause_seconds: float = Field(default=60.0, gt=0, le=3600)
    whatsapp_ambiguous_wait_seconds: float = Field(default=2.0, ge=0, le=60)

    @field_validator("whatsapp_api_base")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/")

    def app_secrets(self) -> list[str]:
        prev = (
            self.whatsapp_app_secret_previous.get_secret_value()
            if self.whatsapp_app_secret_previous
            else ""
        )
        return [
            self.whatsapp_app_secret.get_secret_value(),
            *[p.strip() for p in prev.split(",") if p.strip()],
        ]

    def hotel_map(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in self.whatsapp_hotel_map.split(","):
            if "=" in item:
                pnid, hotel = item.split("=", 1)
                out[pnid.strip()] = hotel.strip()
        return out

    def hotel_for(self, phone_number_id: str) -> str:
        return self.hotel_map().get(phone_number_id, self.hotel_id)
