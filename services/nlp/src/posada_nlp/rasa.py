"""Optional backend: a Rasa server's documented HTTP API, ``POST {RASA_URL}/model/parse``.

Request ``{"text": ...}``; response ``{"text", "intent": {"name", "confidence"},
"intent_ranking": [...], "entities": [{"entity", "value", "start", "end",
"confidence_entity", "extractor"}]}``. Rasa's values are run through our normaliser so the
contract (ISO dates, integers, catalogue values) is the same as with the spaCy engine.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
from hotel.nlp.v1.vocabulary import EntityType, IntentName

from .data import INTENTS, LANGUAGES
from .dates import extract_dates
from .engine import ParseResult, decide_intent, resolve_reference
from .entities import AMENITIES, ROOM_TYPES, Entity, extract_entities
from .langid import LanguageIdentifier
from .numbers import to_int
from .textnorm import fold

ENTITY_TYPES = {entity.value for entity in EntityType}  # from the contracts' vocabulary


class RasaUnavailable(RuntimeError):
    pass


def normalise_value(etype: str, raw: Any, surface: str, ref: date) -> str | int | None:
    """Our normalisation of a value Rasa extracted (its value, else the surface text)."""
    candidates = [str(raw)] if raw not in (None, "") else []
    candidates.append(surface)
    for cand in candidates:
        f = fold(cand).strip()
        if etype in ("check_in", "check_out"):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", f[:10]) and len(f) >= 10:
                try:
                    return date.fromisoformat(f[:10]).isoformat()
                except ValueError:
                    pass
            ds = extract_dates(f, ref)
            if ds:
                want = [d for d in ds if d.type == etype] or ds
                return want[0].value.isoformat()
            ds = extract_dates("el " + f, ref)  # a bare day number: "15"
            if ds:
                return ds[0].value.isoformat()
        elif etype in ("nights", "adults", "children"):
            if re.fullmatch(r"\d+(?:\.0)?", f):
                return int(float(f))
            n = to_int(f)
            if n is not None:
                return n
            if re.search(r"pareja|couple|casal", f):
                return 2
            m = re.search(r"\d+", f)
            if m:
                return int(m.group(0))
        elif etype == "room_type":
            if f in ROOM_TYPES.values():
                return f
            if f in ROOM_TYPES:
                return ROOM_TYPES[f]
            for word in f.split():
                if word in ROOM_TYPES:
                    return ROOM_TYPES[word]
        elif etype == "amenity":
            if f in AMENITIES.values():
                return f
            if f in AMENITIES:
                return AMENITIES[f]
            for k, v in AMENITIES.items():
                if k in f:
                    return v
        elif etype == "booking_ref":
            return cand.strip().lstrip("#").strip()
        elif etype == "email":
            return cand.strip().lower()
        elif etype == "phone":
            digits = re.sub(r"\D", "", cand)
            if len(digits) >= 6:
                return ("+" + digits) if cand.strip().startswith("+") else digits
        elif etype == "person_name":
            return cand.strip()
    return None


class RasaEngine:
    engine_name = "rasa"
    blocking_io = True

    def __init__(self, url: str, timeout: float = 2.0, threshold: float = 0.3):
        self.url = url.rstrip("/")
        self.version = f"rasa@{self.url}"
        self.data_hash = ""
        self.threshold = threshold
        self.intents = list(INTENTS)
        self.langid = LanguageIdentifier.train([])
        self._client = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def _call(self, text: str) -> dict[str, Any]:
        try:
            r = self._client.post(f"{self.url}/model/parse", json={"text": text})
            r.raise_for_status()
            body = r.json()
        except (httpx.HTTPError, ValueError) as e:
            raise RasaUnavailable(f"Rasa server at {self.url} failed: {e}") from e
        if not isinstance(body, dict):
            raise RasaUnavailable("Rasa answered something that is not a JSON object")
        return body

    def parse(
        self,
        text: str,
        *,
        language_hint: str = "",
        reference_date: date | None = None,
        time_zone: str = "",
        expected_intent: str = "",
    ) -> ParseResult:
        ref = resolve_reference(reference_date, time_zone)
        body = self._call(text)
        intent = body.get("intent") or {}
        ranking = [
            (str(x.get("name")), float(x.get("confidence") or 0.0))
            for x in body.get("intent_ranking") or []
            if x.get("name")
        ]
        if not ranking and intent.get("name"):
            ranking = [(str(intent["name"]), float(intent.get("confidence") or 0.0))]
        if not ranking:
            ranking = [(IntentName.OUT_OF_SCOPE.value, 0.0)]
        ranking.sort(key=lambda kv: kv[1], reverse=True)
        ents: list[Entity] = []
        # Dates in context: "15" in "del 15 al 17 de agosto" is August 15, which only the
        # whole sentence tells; our resolver of the full text supplies the value for a span.
        ours = extract_dates(fold(text), ref)
        for raw in body.get("entities") or []:
            etype = str(raw.get("entity", ""))
            if etype not in ENTITY_TYPES:
                continue
            try:
                start, end = int(raw.get("start", 0)), int(raw.get("end", 0))
            except (TypeError, ValueError):
                start, end = 0, 0
            surface = (
                text[start:end] if 0 <= start < end <= len(text) else str(raw.get("value", ""))
            )
            value: str | int | None = None
            if etype in ("check_in", "check_out"):
                hits = [d for d in ours if d.start < end and start < d.end]
                same = [d for d in hits if d.type == etype] or hits
                if same:
                    value = same[0].value.isoformat()
            if value is None:
                value = normalise_value(etype, raw.get("value"), surface, ref)
            if value is None:
                continue
            conf = raw.get("confidence_entity")
            ents.append(
                Entity(etype, value, surface, start, end, float(conf) if conf is not None else 1.0)
            )
        if not ents:
            # Rasa's model may not extract our entities at all: fall back to our rules.
            ents = extract_entities(text, ref)
        language = language_hint if language_hint in LANGUAGES else self.langid.predict(text)[0]
        name, conf, ranking = decide_intent(
            text, ranking, ents, expected_intent, self.threshold, self.intents
        )
        return ParseResult(text, language, name, conf, ranking, ents, self.version)

    def parse_many(self, texts: list[str], **kw: Any) -> list[ParseResult]:
        n = len(texts)
        keys = {
            "language_hints": "language_hint",
            "reference_dates": "reference_date",
            "time_zones": "time_zone",
            "expected_intents": "expected_intent",
        }
        lists = {k: kw.get(k) or [None] * n for k in keys}
        out = []
        for i, t in enumerate(texts):
            args = {
                single: lists[plural][i]
                for plural, single in keys.items()
                if lists[plural][i] is not None
            }
            out.append(self.parse(t, **args))
        return out

    def info(self) -> dict[str, Any]:
        return {
            "model_version": self.version,
            "data_hash": "",
            "languages": list(LANGUAGES),
            "intents": self.intents,
            "out_of_scope_threshold": self.threshold,
            "engine": "rasa",
        }
