"""Choosing the engine: the local spaCy model (default) or a Rasa server (NLP_ENGINE=rasa)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol

from .engine import NluEngine, find_latest_model


class Engine(Protocol):
    engine_name: str
    version: str
    blocking_io: bool

    def parse(self, text: str, **kw): ...  # type: ignore[no-untyped-def]
    def parse_many(self, texts: list[str], **kw): ...  # type: ignore[no-untyped-def]
    def info(self) -> dict: ...  # type: ignore[type-arg]


class ModelNotFound(RuntimeError):
    pass


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_spacy_engine(models_root: Path, *, train_if_missing: bool = False) -> NluEngine:
    latest = find_latest_model(models_root)
    if latest is None:
        if not train_if_missing:
            raise ModelNotFound(
                f"no trained NLU model under {models_root}; run `make train-nlp` "
                "(.venv/bin/hotel-nlp train)"
            )
        from .paths import data_dir
        from .train import train

        _stderr(f"no model under {models_root}: training one now")
        latest = train(data_dir(), models_root, log=_stderr)
    return NluEngine(latest)


def load_backend(  # type: ignore[no-untyped-def]
    models_root: Path,
    *,
    train_if_missing: bool = False,
    engine: str | None = None,
    rasa_url: str | None = None,
    rasa_timeout: float | None = None,
):
    """The engine named by ``engine`` (default: env NLP_ENGINE, else "spacy")."""
    engine = (engine or os.environ.get("NLP_ENGINE", "spacy")).strip().lower() or "spacy"
    if engine == "rasa":
        from .rasa import RasaEngine

        url = (rasa_url if rasa_url is not None else os.environ.get("RASA_URL", "")).strip()
        if not url:
            raise SystemExit("NLP_ENGINE=rasa needs RASA_URL (e.g. http://127.0.0.1:5005)")
        timeout = rasa_timeout or float(os.environ.get("RASA_TIMEOUT_SECONDS", "2.0"))
        return RasaEngine(url, timeout=timeout)
    if engine != "spacy":
        raise SystemExit(f"NLP_ENGINE must be 'spacy' or 'rasa', got {engine!r}")
    return load_spacy_engine(models_root, train_if_missing=train_if_missing)
