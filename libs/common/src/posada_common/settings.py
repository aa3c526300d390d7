"""Typed settings from environment variables, shared by every service.

Each service subclasses `CommonSettings` and adds its own fields; the environment variable of a
field is its name upper-cased (no prefix), so one `.env` or one Kubernetes ConfigMap configures
a service without translation tables. `load_settings` turns validation errors into one clear
message and refuses placeholder secrets in production, because a service that starts with a
dev secret is worse than one that does not start.
"""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from posada_common.auth_keys import decode_private_key, parse_public_keys

PLACEHOLDER_MARKERS = (
    "changeme",
    "change-me",
    "placeholder",
    "dev-",
    "devsecret",
    "example",
    "xxx",
    "todo",
)


KEY_MATERIAL = {"mesh_private_key"}


def is_placeholder(value: str) -> bool:
    """True for empty secrets and the obvious dev/placeholder values."""
    lowered = value.strip().lower()
    return not lowered or any(marker in lowered for marker in PLACEHOLDER_MARKERS)


class CommonSettings(BaseSettings):
    """What every Posada service needs; subclasses set defaults for their own ports and name."""

    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", validate_default=True
    )

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "service"
    service_version: str = "0.1.0"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50060, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0 disables /metrics")
    mesh_address: str = Field(default="127.0.0.1:9000", description="Envoy's mesh listener")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    otlp_endpoint: str = Field(default="", description="OTLP/gRPC collector; empty = no export")
    trace_console: bool = Field(default=False, description="print spans to stderr (debugging)")
    shutdown_grace_seconds: float = Field(default=5.0, gt=0, le=120)
    shutdown_drain_seconds: float = Field(
        default=1.0,
        ge=0,
        le=120,
        description="NOT_SERVING before stopping, so health checks stop routing to us (k8s: > Envoy's check interval × unhealthy threshold)",
    )
    client_deadline_seconds: float = Field(default=5.0, gt=0, le=300)
    max_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_concurrent_rpcs: int = Field(default=0, ge=0, description="0 = unbounded")
    redis_url: str = "redis://127.0.0.1:6390/0"
    postgres_url: str = "postgresql://posada@127.0.0.1:5440/posada"
    # Mesh credentials (see posada_common.auth_keys for the formats; `hotelctl up` generates
    # development ones). Read here so production refuses to start without them.
    mesh_identity: str = Field(default="", description="caller name; empty = SERVICE_NAME")
    mesh_private_key: SecretStr = SecretStr("")
    mesh_public_keys: str = Field(default="", description="name:key,... of trusted callers")
    staff_token_public_key: str = ""

    @field_validator("mesh_private_key")
    @classmethod
    def _private_key_format(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip():
            decode_private_key(value.get_secret_value())  # ValueError names the variable only
        return value

    @field_validator("mesh_public_keys")
    @classmethod
    def _public_keys_format(cls, value: str) -> str:
        parse_public_keys(value)
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> CommonSettings:
        if self.environment != "production":
            return self
        bad = [
            name.upper()
            for name, value in self.__dict__.items()
            if isinstance(value, SecretStr)
            and name not in KEY_MATERIAL
            and is_placeholder(value.get_secret_value())
        ]
        # Keys are random base64: a substring test could match ("xxx", "todo") by chance, so
        # they only have to be present here; their format is checked on every load below.
        if not self.mesh_private_key.get_secret_value().strip():
            bad.append("MESH_PRIVATE_KEY")
        if not self.mesh_public_keys.strip():
            bad.append("MESH_PUBLIC_KEYS")
        if bad:
            raise ValueError(
                "production refuses missing or placeholder secrets: " + ", ".join(sorted(bad))
            )
        return self


S = TypeVar("S", bound=CommonSettings)


class SettingsError(SystemExit):
    """Raised (exit code 2) when the environment cannot make a valid settings object."""


def describe_validation_error(cls: type[CommonSettings], error: ValidationError) -> str:
    lines = [f"invalid configuration for {cls.__name__}:"]
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "settings"
        var = loc.upper() if item["loc"] else ""
        shown = f"{var}: " if var else ""
        lines.append(f"  - {shown}{item['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S], **overrides: object) -> S:
    """Build `cls` from the environment or exit with a readable list of what is wrong."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        message = describe_validation_error(cls, exc)
        print(message, file=sys.stderr)
        raise SettingsError(2) from exc
