"""Configuration of the audio service, from environment variables (name upper-cased, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from posada_common.settings import CommonSettings
from pydantic import Field, field_validator, model_validator

MiB = 1024 * 1024


class AudioSettings(CommonSettings):
    service_name: str = "audio"
    grpc_port: int = 50053
    metrics_port: int = 9453

    # --- limits ------------------------------------------------------------------------
    audio_max_bytes: int = Field(
        default=16 * MiB, ge=1024, description="AUDIO_MAX_BYTES: largest note (WhatsApp: 16 MB)"
    )
    audio_max_duration_seconds: float = Field(
        default=300.0, gt=0, le=3600, description="AUDIO_MAX_DURATION_SECONDS: longest note"
    )
    # gRPC message limit = the audio limit plus room for the envelope; set from the above
    # unless MAX_MESSAGE_BYTES is given explicitly.
    max_message_bytes: int = Field(default=0, ge=0)

    # --- speech to text ----------------------------------------------------------------
    whisper_model_dir: Path | None = Field(
        default=None,
        description="WHISPER_MODEL_DIR: any CTranslate2 Whisper model; empty = the bundled base "
        "model, assembled on first use into services/audio/models/whisper-base",
    )
    whisper_compute_type: Literal["int8", "int8_float32", "float32", "int16"] = "int8"
    whisper_cpu_threads: int = Field(default=0, ge=0, le=64, description="0 = cores / concurrency")
    whisper_beam_size: int = Field(default=1, ge=1, le=10, description="first-pass beam")
    whisper_fallback_beam_size: int = Field(
        default=5, ge=0, le=10, description="re-decode beam on repetition/low confidence; 0 = off"
    )
    whisper_vad: bool = True
    whisper_vocabulary_prompt: bool = True
    whisper_languages: str = Field(
        default="es,en,pt", description="WHISPER_LANGUAGES: detection is restricted to these"
    )
    transcribe_max_concurrent: int = Field(default=1, ge=1, le=32)
    transcribe_max_queue: int = Field(default=8, ge=0, le=1000)
    transcribe_queue_timeout_seconds: float = Field(default=20.0, gt=0, le=600)

    # --- text to speech ----------------------------------------------------------------
    tts_default_voice: str = "es"
    tts_max_chars: int = Field(default=2000, ge=1, le=20000)
    tts_max_concurrent: int = Field(default=2, ge=1, le=32)
    espeak_binary: str = "espeak-ng"
    opus_bitrate: int = Field(default=24_000, ge=6_000, le=128_000)

    @field_validator("whisper_model_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value in ("", None) else value

    @model_validator(mode="after")
    def _message_limit(self) -> AudioSettings:
        needed = self.audio_max_bytes + MiB
        if self.max_message_bytes == 0:
            self.max_message_bytes = needed
        elif self.max_message_bytes < needed:
            raise ValueError(
                f"MAX_MESSAGE_BYTES ({self.max_message_bytes}) must be at least "
                f"AUDIO_MAX_BYTES + 1 MiB ({needed}) so a full-size note fits in one message"
            )
        return self

    @property
    def languages(self) -> tuple[str, ...]:
        langs = tuple(x.strip().lower() for x in self.whisper_languages.split(",") if x.strip())
        return langs or ("es", "en", "pt")
