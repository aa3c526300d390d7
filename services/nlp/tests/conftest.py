"""NLP test fixtures: a trained model (cached under services/nlp/models/), an engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from posada_nlp.engine import NluEngine
from posada_nlp.paths import SERVICE_DIR

DATA_DIR = SERVICE_DIR / "data"
MODELS_DIR = SERVICE_DIR / "models"


def _current_model() -> Path | None:
    """The cached model for the current training data and code, if it was trained already."""
    from posada_nlp.train import current_version

    path = MODELS_DIR / current_version(DATA_DIR)
    return path if (path / "meta.json").is_file() else None


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """Train once per data version (about 15 s on 2 cores); later sessions reuse it."""
    found = _current_model()
    if found is not None:
        return found
    from posada_nlp.train import train

    return train(DATA_DIR, MODELS_DIR)


@pytest.fixture(scope="session")
def engine(model_dir: Path) -> NluEngine:
    return NluEngine(model_dir)
