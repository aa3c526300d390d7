"""NLP_ENGINE=rasa: a local aiohttp stand-in of Rasa's documented HTTP API (POST /model/parse)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiohttp import web
from posada_common.testing import free_port
from posada_nlp.backend import load_backend
from posada_nlp.rasa import RasaEngine, RasaUnavailable

REF = date(2026, 3, 4)

# What a Rasa NLU model trained on our YAML answers, shaped as in Rasa's HTTP API docs.
CANNED: dict[str, dict[str, Any]] = {
    "quiero reservar una matrimonial del 15 al 17 de agosto para dos": {
        "intent": {"name": "make_reservation", "confidence": 0.93},
        "intent_ranking": [
            {"name": "make_reservation", "confidence": 0.93},
            {"name": "check_availability", "confidence": 0.05},
        ],
        "entities": [
            {"entity": "room_type", "value": "matrimonial", "start": 19, "end": 30,
             "confidence_entity": 0.99, "extractor": "DIETClassifier"},
            {"entity": "check_in", "value": "15", "start": 35, "end": 37,
             "confidence_entity": 0.97, "extractor": "DIETClassifier"},
            {"entity": "check_out", "value": "17 de agosto", "start": 40, "end": 52,
             "confidence_entity": 0.97, "extractor": "DIETClassifier"},
            {"entity": "adults", "value": "dos", "start": 58, "end": 61,
             "confidence_entity": 0.95, "extractor": "DIETClassifier"},
            {"entity": "number", "value": 15, "start": 35, "end": 37, "extractor": "DucklingEntityExtractor"},
        ],
    },
    "hmm": {
        "intent": {"name": "affirm", "confidence": 0.21},
        "intent_ranking": [{"name": "affirm", "confidence": 0.21}, {"name": "deny", "confidence": 0.2}],
        "entities": [],
    },
    "del 5 al 8": {
        "intent": {"name": "out_of_scope", "confidence": 0.4},
        "intent_ranking": [{"name": "out_of_scope", "confidence": 0.4}],
        "entities": [],
    },
}  # fmt: skip


@pytest.fixture(scope="module")
async def rasa_url() -> AsyncIterator[str]:
    async def parse(request: web.Request) -> web.Response:
        body = await request.json()
        text = body["text"]
        if text == "boom":
            return web.json_response({"error": "model not loaded"}, status=500)
        answer = CANNED.get(
            text, {"intent": {"name": "greeting", "confidence": 0.9}, "entities": []}
        )
        return web.json_response({"text": text, **answer})

    app = web.Application()
    app.router.add_post("/model/parse", parse)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_rasa_answer_is_mapped_to_our_contract(rasa_url: str) -> None:
    engine = RasaEngine(rasa_url)
    try:
        text = "quiero reservar una matrimonial del 15 al 17 de agosto para dos"
        res = await asyncio.to_thread(engine.parse, text, reference_date=REF)
    finally:
        engine.close()
    assert res.intent == "make_reservation"
    assert abs(res.confidence - 0.93) < 1e-6
    assert res.language == "es"
    assert {(e.type, e.value) for e in res.entities} == {
        ("room_type", "double"),
        ("check_in", "2026-08-15"),
        ("check_out", "2026-08-17"),
        ("adults", 2),
    }
    assert all(text[e.start : e.end] == e.text for e in res.entities)


async def test_low_confidence_from_rasa_is_out_of_scope(rasa_url: str) -> None:
    engine = RasaEngine(rasa_url, threshold=0.3)
    try:
        res = await asyncio.to_thread(engine.parse, "hmm", reference_date=REF)
    finally:
        engine.close()
    assert res.intent == "out_of_scope"


async def test_expected_intent_applies_to_rasa_answers_too(rasa_url: str) -> None:
    engine = RasaEngine(rasa_url)
    try:
        res = await asyncio.to_thread(
            engine.parse, "del 5 al 8", reference_date=REF, expected_intent="check_availability"
        )
    finally:
        engine.close()
    assert res.intent == "check_availability"
    assert {(e.type, e.value) for e in res.entities} == {
        ("check_in", "2026-03-05"),
        ("check_out", "2026-03-08"),
    }


async def test_rasa_errors_raise_rasa_unavailable(rasa_url: str) -> None:
    engine = RasaEngine(rasa_url)
    try:
        with pytest.raises(RasaUnavailable):
            await asyncio.to_thread(engine.parse, "boom", reference_date=REF)
    finally:
        engine.close()


async def test_load_backend_picks_rasa_from_the_environment(
    rasa_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("NLP_ENGINE", "rasa")
    monkeypatch.setenv("RASA_URL", rasa_url)
    engine = load_backend(tmp_path)
    try:
        assert isinstance(engine, RasaEngine)
        assert engine.info()["engine"] == "rasa"
    finally:
        engine.close()
