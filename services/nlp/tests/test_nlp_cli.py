"""`hotel-nlp` end to end, as a subprocess: the public JSON-lines contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HOTEL_NLP = Path(sys.executable).parent / "hotel-nlp"


def run_cli(args: list[str], stdin: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NLP_MODEL_DIR": str(model_dir.parent), "NLP_ENGINE": "spacy"}
    return subprocess.run(
        [str(HOTEL_NLP), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_parse_writes_one_json_line_per_input_with_normalised_values(model_dir: Path) -> None:
    lines = [
        {
            "text": "Hola, ¿tienen una habitación matrimonial del 15 al 17 de agosto para 2 adultos y 1 niño?"
        },
        {"text": "do you have a twin room this weekend for 3 nights?"},
        {"text": "Olá, quanto custa o quarto de casal na sexta?"},
        {"text": "quiero cancelar la reserva HB-4821"},
    ]
    proc = run_cli(
        ["parse", "--reference-date", "2026-03-04", "--timezone", "Europe/Madrid"],
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
        model_dir,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    for o, i in zip(out, lines, strict=True):
        assert set(o) == {"text", "language", "intent", "intent_ranking", "entities"}
        assert o["text"] == i["text"]
        assert set(o["intent"]) == {"name", "confidence"}
        assert 0.0 <= o["intent"]["confidence"] <= 1.0
        assert o["intent_ranking"][0]["name"] == o["intent"]["name"]
        for e in o["entities"]:
            assert set(e) == {"type", "value", "text", "start", "end"}
            assert o["text"][e["start"] : e["end"]] == e["text"]

    es, en, pt, cancel = out
    assert es["language"] == "es" and es["intent"]["name"] == "check_availability"
    got = {(e["type"], e["value"]) for e in es["entities"]}
    assert got == {
        ("room_type", "double"),
        ("check_in", "2026-08-15"),
        ("check_out", "2026-08-17"),
        ("adults", 2),
        ("children", 1),
    }
    assert isinstance(next(e for e in es["entities"] if e["type"] == "adults")["value"], int)
    assert en["language"] == "en"
    assert {("room_type", "twin"), ("nights", 3), ("check_in", "2026-03-06")} <= {
        (e["type"], e["value"]) for e in en["entities"]
    }
    assert pt["language"] == "pt" and pt["intent"]["name"] == "ask_price"
    assert {("room_type", "double"), ("check_in", "2026-03-06")} <= {
        (e["type"], e["value"]) for e in pt["entities"]
    }
    assert cancel["intent"]["name"] == "cancel_reservation"
    assert ("booking_ref", "HB-4821") in {(e["type"], e["value"]) for e in cancel["entities"]}


def test_reference_date_moves_relative_dates(model_dir: Path) -> None:
    proc = run_cli(
        ["parse", "--reference-date", "2026-12-30"],
        json.dumps({"text": "pasado mañana"}) + "\n",
        model_dir,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert ("check_in", "2027-01-01") in {(e["type"], e["value"]) for e in out["entities"]}


@pytest.mark.parametrize(
    "args",
    [
        ["parse", "--reference-date", "04/03/2026"],
        ["parse", "--reference-date", "2026-03-04", "--timezone", "Mars/Base"],
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], model_dir: Path) -> None:
    proc = run_cli(args, "", model_dir)
    assert proc.returncode == 2
    assert "hotel-nlp:" in proc.stderr


def test_a_malformed_line_is_reported_and_the_rest_still_parsed(model_dir: Path) -> None:
    proc = run_cli(
        ["parse", "--reference-date", "2026-03-04"],
        'not json\n{"text": "gracias!"}\n',
        model_dir,
    )
    assert proc.returncode == 0
    first, second = (json.loads(x) for x in proc.stdout.splitlines())
    assert "error" in first
    assert second["intent"]["name"] == "thanks"


def test_train_if_missing_is_a_no_op_when_the_model_exists(model_dir: Path) -> None:
    proc = run_cli(["train", "--if-missing"], "", model_dir)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert model_dir.name in proc.stdout
