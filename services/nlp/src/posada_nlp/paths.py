"""Default locations (overridable from the CLI and by NLP_MODEL_DIR / NLP_DATA_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parents[2]  # services/nlp


def data_dir() -> Path:
    return Path(os.environ.get("NLP_DATA_DIR", SERVICE_DIR / "data"))


def models_dir() -> Path:
    return Path(os.environ.get("NLP_MODEL_DIR", SERVICE_DIR / "models"))
