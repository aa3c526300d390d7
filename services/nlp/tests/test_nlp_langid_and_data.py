"""Language identification on short messages; the Rasa YAML loader; reproducible training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from posada_nlp.data import load_file, parse_example
from posada_nlp.engine import NluEngine


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("hola gracias", "es"),
        ("muchas gracias", "es"),
        ("buenas noches", "es"),
        ("hay lugar?", "es"),
        ("habitacion doble", "es"),
        ("dale, perfecto", "es"),
        ("thanks!", "en"),
        ("good night", "en"),
        ("any rooms?", "en"),
        ("double room", "en"),
        ("see you", "en"),
        ("obrigado!", "pt"),
        ("boa noite", "pt"),
        ("tem vaga?", "pt"),
        ("quarto duplo", "pt"),
        ("tudo bem?", "pt"),
        ("não obrigada", "pt"),
        ("¿mañana?", "es"),
        ("valeu", "pt"),
    ],
)
def test_two_word_messages_get_the_right_language(engine: NluEngine, text: str, lang: str) -> None:
    assert engine.detect_language(text) == lang


def test_messages_without_language_evidence_fall_back_to_the_default(engine: NluEngine) -> None:
    assert engine.detect_language("12/03") == "es"
    assert engine.detect_language("HB-4821") == "es"


def test_rasa_annotations_are_parsed_with_offsets_and_values() -> None:
    raw = 'una [matrimonial]{"entity": "room_type", "value": "double"} para [2](adults) del [5](check_in:2026-03-05)'
    text, ents = parse_example(raw)
    assert text == "una matrimonial para 2 del 5"
    assert [(e.type, e.value, text[e.start : e.end]) for e in ents] == [
        ("room_type", "double", "matrimonial"),
        ("adults", "2", "2"),
        ("check_in", "2026-03-05", "5"),
    ]


def test_rasa_synonym_blocks_map_values(tmp_path: Path) -> None:
    p = tmp_path / "es.yml"
    p.write_text(
        'version: "3.1"\nnlu:\n- synonym: double\n  examples: |\n    - matri\n'
        "- intent: check_availability\n  examples: |\n    - una [matri](room_type) xfa\n    - hay lugar?\n",
        encoding="utf-8",
    )
    exs = load_file(p)
    assert [e.text for e in exs] == ["una matri xfa", "hay lugar?"]
    assert exs[0].language == "es" and exs[0].intent == "check_availability"
    assert [(e.type, e.value) for e in exs[0].entities] == [("room_type", "double")]


@pytest.mark.slow
def test_training_is_reproducible_with_a_fixed_seed(tmp_path: Path) -> None:
    from posada_nlp.paths import SERVICE_DIR
    from posada_nlp.train import train

    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    for f in (SERVICE_DIR / "data" / "train").glob("*.yml"):
        (data / "train" / f.name).write_bytes(f.read_bytes())
    settings = {"epochs": 3, "bag": 1}
    a = train(data, tmp_path / "a", settings, log=lambda m: None, calibrate=False)
    b = train(data, tmp_path / "b", settings, log=lambda m: None, calibrate=False)
    assert a.name == b.name  # the version is a hash of data + settings
    assert (
        json.loads((a / "meta.json").read_text())["data_hash"]
        == json.loads((b / "meta.json").read_text())["data_hash"]
    )
    ea, eb = NluEngine(a), NluEngine(b)
    probe = ["hola", "quiero reservar", "how much is it", "tem piscina?", "cancelar HB-1"]
    for x, y in zip(ea.parse_many(probe), eb.parse_many(probe), strict=True):
        assert x.intent == y.intent
        assert abs(x.confidence - y.confidence) < 1e-6


def test_the_exported_lexicon_is_in_sync_with_the_engine() -> None:
    from posada_nlp.lexicon import render
    from posada_nlp.paths import SERVICE_DIR

    path = SERVICE_DIR / "data" / "lexicon" / "synonyms.yml"
    assert path.read_text(encoding="utf-8") == render(), "run `hotel-nlp export-lexicon`"
    # and it is valid Rasa YAML our own loader reads
    assert load_file(path) == []
