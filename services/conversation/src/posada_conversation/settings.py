"""Configuration of the conversation service (environment variables, upper-cased field names)."""

from __future__ import annotations

import json
from typing import Literal

from posada_common.settings import CommonSettings
from pydantic import Field, field_validator

VoiceMode = Literal["never", "when_guest_speaks", "always"]


class ConversationSettings(CommonSettings):
    service_name: str = "conversation"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=9451, ge=0, le=65535)

    # Voice notes arrive inside HandleMessage: WhatsApp allows 16 MB, plus the envelope.
    max_message_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    default_hotel_id: str = Field(default="1", description="hotel for messages that carry none")
    default_language: Literal["es", "en", "pt"] = "es"
    default_time_zone: str = Field(default="Europe/Madrid", description="when pms cannot tell")
    session_ttl_seconds: int = Field(
        default=86400, ge=60, description="dialogue state after silence"
    )
    handled_ttl_seconds: int = Field(
        default=7 * 86400, ge=60, description="reply cache per message id"
    )
    lock_ttl_seconds: float = Field(default=120.0, gt=0, le=600)
    lock_wait_seconds: float = Field(default=30.0, gt=0, le=600)
    voice_replies: VoiceMode = "when_guest_speaks"
    # JSON object hotel_id → mode, e.g. {"1": "always", "2": "never"}.
    voice_replies_by_hotel: dict[str, VoiceMode] = Field(default_factory=dict)
    nlp_confidence_threshold: float = Field(default=0.5, ge=0, le=1)
    handoff_after_misunderstandings: int = Field(default=3, ge=1, le=10)
    max_guests: int = Field(default=8, ge=1, le=50)
    hotel_cache_seconds: float = Field(default=60.0, ge=0)
    postgres_pool_max: int = Field(default=10, ge=1, le=100)

    # Dependencies that must answer once before we report SERVING (see main.py).
    ready_after_dependencies: str = Field(
        default="nlp", pattern=r"^((nlp|pms)(,(nlp|pms))*)?$", description="comma-separated"
    )

    # Deadlines per dependency (seconds).
    nlp_deadline_seconds: float = Field(default=2.0, gt=0, le=60)
    pms_deadline_seconds: float = Field(default=5.0, gt=0, le=60)
    pms_booking_deadline_seconds: float = Field(default=10.0, gt=0, le=120)
    audio_transcribe_deadline_seconds: float = Field(default=30.0, gt=0, le=300)
    audio_synthesize_deadline_seconds: float = Field(default=15.0, gt=0, le=300)
    channel_deadline_seconds: float = Field(default=10.0, gt=0, le=120)

    def ready_after(self) -> list[str]:
        return [name for name in self.ready_after_dependencies.split(",") if name]

    @field_validator("voice_replies_by_hotel", mode="before")
    @classmethod
    def _parse_map(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value
