"""Quality gates on the held-out split (services/nlp/data/test), with the trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from posada_nlp.data import LANGUAGES, load_dir
from posada_nlp.engine import NluEngine
from posada_nlp.evaluate import evaluate
from posada_nlp.paths import SERVICE_DIR

DATA_DIR = SERVICE_DIR / "data"


@pytest.fixture(scope="module")
def report(engine: NluEngine) -> dict[str, Any]:
    examples = load_dir(DATA_DIR / "test")
    if len(examples) < 50:
        pytest.fail(f"held-out split too small ({len(examples)} examples)")
    return evaluate(engine, examples)


def test_intent_accuracy_overall_is_at_least_95_percent(report: dict[str, Any]) -> None:
    assert report["intent_accuracy"] >= 0.95, report["intent_accuracy"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_intent_accuracy_per_language_is_at_least_90_percent(
    report: dict[str, Any], language: str
) -> None:
    assert report["examples_by_language"][language] >= 15
    assert report["intent_accuracy_by_language"][language] >= 0.90


def test_entity_f1_is_at_least_90_percent(report: dict[str, Any]) -> None:
    assert report["entity_micro"]["f1"] >= 0.90, report["entities"]


def test_language_identification_is_at_least_95_percent(report: dict[str, Any]) -> None:
    assert report["language_id_accuracy"] >= 0.95


def test_training_never_reads_the_held_out_split(model_dir: Path) -> None:
    import json

    meta = json.loads((model_dir / "meta.json").read_text())
    assert all(not f.startswith("test") for f in meta["data_files"])
    train = {e.text.strip().lower() for e in load_dir(DATA_DIR / "train")}
    test = {e.text.strip().lower() for e in load_dir(DATA_DIR / "test")}
    assert not train & test
