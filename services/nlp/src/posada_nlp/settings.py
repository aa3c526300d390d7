"""Configuration of the nlp service, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from posada_common.settings import CommonSettings
from pydantic import Field

from posada_nlp.paths import SERVICE_DIR


class NlpSettings(CommonSettings):
    service_name: str = "nlp"
    grpc_port: int = 50052
    metrics_port: int = 9452
    nlp_model_dir: Path = Field(
        default=SERVICE_DIR / "models", description="folder of versioned models; newest is loaded"
    )
    nlp_engine: Literal["spacy", "rasa"] = "spacy"
    rasa_url: str = Field(default="", description="Rasa server base URL when NLP_ENGINE=rasa")
    rasa_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    nlp_train_if_missing: bool = Field(
        default=True, description="train a model at start when none exists (dev convenience)"
    )
    nlp_inline_batch_max: int = Field(
        default=8,
        ge=0,
        description="batches up to this size run on the event loop, larger in a thread",
    )
