"""Settings of the pms service (environment variables = field names upper-cased)."""

from __future__ import annotations

from posada_common.settings import CommonSettings
from pydantic import Field, SecretStr, field_validator, model_validator

# The QloApps stand-in's dev key (32 characters, like a real webservice key). Production
# refuses it (below) on top of CommonSettings' generic placeholder check.
DEV_PMS_API_KEY = "POSADADEVQLOAPPSKEY0000000000001"
# Dev keys: the stand-in's, `hotelctl up`'s default, the benchmark's.
DEV_KEY_PREFIXES = ("POSADADEV", "DEVKEY", "POSADABENCH")


class PmsSettings(CommonSettings):
    service_name: str = "pms"
    grpc_port: int = Field(default=50054, ge=0, le=65535)
    metrics_port: int = Field(default=9454, ge=0, le=65535)

    pms_base_url: str = Field(
        default="http://127.0.0.1:8095", description="QloApps shop root (API under /api/)"
    )
    pms_api_key: SecretStr = SecretStr(DEV_PMS_API_KEY)
    pms_language_id: int = Field(
        default=1,
        ge=1,
        description="QloApps language id for i18n fields when a request names no language, or one the shop lacks",
    )

    pms_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="per attempt, reads")
    pms_write_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="booking writes"
    )
    pms_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    pms_read_retries: int = Field(default=2, ge=0, le=5)
    pms_retry_backoff_seconds: float = Field(default=0.1, ge=0, le=5)
    pms_retry_backoff_max_seconds: float = Field(default=1.0, ge=0, le=30)

    pms_breaker_fail_max: int = Field(default=5, ge=1, le=1000)
    # First wait before a trial call once the breaker opened; doubles after each failed trial up
    # to the max (docs/reliability.md#circuit-breaker).
    pms_breaker_reset_seconds: float = Field(default=2.0, gt=0, le=3600)
    pms_breaker_reset_max_seconds: float = Field(default=30.0, gt=0, le=3600)
    pms_breaker_success_threshold: int = Field(default=1, ge=1, le=100)

    pms_availability_ttl_seconds: float = Field(default=30.0, ge=0, le=3600)
    pms_static_ttl_seconds: float = Field(default=600.0, ge=0, le=86400)

    pms_lock_lease_seconds: float = Field(default=45.0, gt=0, le=600)
    pms_lock_wait_seconds: float = Field(default=10.0, ge=0, le=120)

    pms_max_stay_nights: int = Field(default=30, ge=1, le=365)
    pms_max_advance_days: int = Field(default=730, ge=1, le=3650)
    pms_default_time_zone: str = "UTC"
    pms_hotel_time_zones: dict[str, str] = Field(
        default_factory=dict, description='JSON, hotel id → IANA zone, e.g. {"1": "Europe/Madrid"}'
    )

    @field_validator("pms_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("pms_api_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) != 32:
            raise ValueError("a QloApps webservice key has exactly 32 characters")
        return value

    @model_validator(mode="after")
    def _no_dev_key_in_production(self) -> PmsSettings:
        key = self.pms_api_key.get_secret_value().upper()
        if self.environment == "production" and key.startswith(DEV_KEY_PREFIXES):
            raise ValueError(
                "production refuses the dev PMS_API_KEY: set the shop's webservice key"
            )
        return self
