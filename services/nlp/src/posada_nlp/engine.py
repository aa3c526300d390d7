"""The NLU engine: language, intent with confidence, normalised entities, dialogue context."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotel.nlp.v1.vocabulary import IntentName

from . import classifier
from .data import INTENTS, LANGUAGES
from .entities import Entity, extract_entities
from .langid import LanguageIdentifier
from .textnorm import fold, normalise_for_intent

MAX_TEXT_CHARS = 4096
OUT_OF_SCOPE: str = IntentName.OUT_OF_SCOPE.value
# Intents whose message may be a bare booking reference.
REF_INTENTS: set[str] = {
    IntentName.RESERVATION_STATUS, IntentName.CANCEL_RESERVATION, IntentName.MODIFY_RESERVATION,
}  # fmt: skip
# Intents that ask the guest for slots (dates, guests, contact): a bare answer belongs to them.
SLOT_INTENTS: set[str] = {
    IntentName.CHECK_AVAILABILITY, IntentName.ASK_PRICE, IntentName.MAKE_RESERVATION,
    IntentName.MODIFY_RESERVATION, IntentName.CANCEL_RESERVATION, IntentName.RESERVATION_STATUS,
    IntentName.LATE_CHECKOUT,
}  # fmt: skip

# Words that carry no intent of their own in a bare answer ("del 5 al 8", "para dos",
# "somos 4 adultos", "mi correo es x@y.com").
_FILLER = set(
    [
        "del",
        "al",
        "de",
        "el",
        "la",
        "los",
        "las",
        "lo",
        "para",
        "pra",
        "por",
        "y",
        "e",
        "and",
        "from",
        "to",
        "the",
        "for",
        "a",
        "o",
        "en",
        "in",
        "on",
        "at",
        "hasta",
        "until",
        "till",
        "ate",
        "desde",
        "somos",
        "seremos",
        "we",
        "are",
        "were",
        "we're",
        "will",
        "be",
        "noches",
        "noche",
        "nights",
        "night",
        "noites",
        "noite",
        "personas",
        "persona",
        "people",
        "person",
        "pessoas",
        "pessoa",
        "adultos",
        "adulto",
        "adults",
        "adult",
        "ninos",
        "nino",
        "kids",
        "kid",
        "children",
        "child",
        "criancas",
        "crianca",
        "dia",
        "dias",
        "day",
        "days",
        "mi",
        "my",
        "meu",
        "minha",
        "mis",
        "es",
        "is",
        "son",
        "nombre",
        "name",
        "nome",
        "correo",
        "email",
        "mail",
        "e-mail",
        "telefono",
        "phone",
        "tel",
        "celular",
        "cel",
        "movil",
        "numero",
        "number",
        "fone",
        "habitacion",
        "room",
        "quarto",
        "ok",
        "okay",
        "vale",
        "si",
        "yes",
        "sim",
        "please",
        "favor",
        "porfa",
        "xfa",
        "pls",
        "entonces",
        "then",
        "so",
        "seria",
        "would",
        "sera",
        "una",
        "un",
        "uno",
        "unos",
        "unas",
        "um",
        "uma",
        "an",
        "with",
        "con",
        "com",
        "y",
        "tambien",
        "also",
        "plus",
        "mas",
        "more",
        "solo",
        "just",
        "only",
        "sr",
        "sra",
        "mr",
        "mrs",
        "ms",
        "vamos",
        "ser",
        "llegamos",
        "llego",
        "arrive",
        "arriving",
        "chegamos",
        "salimos",
        "saimos",
        "leave",
        "leaving",
        "check",
        "in",
        "out",
        "checkin",
        "checkout",
        "entrada",
        "salida",
        "saida",
        "semana",
        "week",
        "que",
        "q",
        "it",
        "its",
        "it's",
        "esta",
        "este",
        "this",
        "next",
        "proximo",
        "proxima",
        "que",
        "viene",
        "vem",
        "our",
        "nuestro",
        "nosso",
        "ahi",
        "there",
        "about",
        "around",
        "maybe",
        "quizas",
        "talvez",
        "tipo",
        "like",
        "um",
        "uh",
        "eh",
        "bueno",
        "well",
        "pues",
        "hmm",
        "mmm",
        "aprox",
        "approx",
    ]
)
_TOKEN = re.compile(r"[a-z0-9@._+\-']+")


@dataclass
class ParseResult:
    text: str
    language: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    entities: list[Entity] = field(default_factory=list)
    model_version: str = ""

    def as_dict(self, ranking_size: int = 5) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 4)},
            "intent_ranking": [
                {"name": n, "confidence": round(c, 4)} for n, c in self.ranking[:ranking_size]
            ],
            "entities": [e.as_dict() for e in self.entities],
        }


_MASK = {
    "check_in": "__date",
    "check_out": "__date",
    "email": "__email",
    "phone": "__phone",
    "booking_ref": "__ref",
    "person_name": "__name",
}


def mask_entities(text: str, entities: list[Entity], keep_dates: bool = False) -> str:
    """Replace entity spans by type tokens: "a nombre de Claudia Ortega" -> "a nombre de __name"."""
    out = []
    pos = 0
    for e in sorted(entities, key=lambda x: (x.start, -x.end)):
        tok = _MASK.get(e.type)
        if tok is None or e.start < pos or (keep_dates and tok == "__date"):
            continue
        out.append(text[pos : e.start])
        out.append(f" {tok} ")
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def resolve_reference(reference: date | None, time_zone: str | None) -> date:
    if reference is not None:
        return reference
    tz = ZoneInfo(time_zone) if time_zone else ZoneInfo("UTC")
    return datetime.now(tz).date()


def is_bare_answer(text: str, entities: list[Entity]) -> bool:
    """True when, apart from the entities, the message is only filler words."""
    if not entities:
        return False
    f = fold(text)
    chars = list(f)
    for e in entities:
        for i in range(e.start, e.end):
            chars[i] = " "
    rest = [t for t in _TOKEN.findall("".join(chars)) if t.strip(".-_'") and t not in _FILLER]
    return len(rest) <= 1 and len(" ".join(rest)) <= 12


def decide_intent(
    text: str,
    ranking: list[tuple[str, float]],
    ents: list[Entity],
    expected: str,
    threshold: float,
    intents: list[str],
) -> tuple[str, float, list[tuple[str, float]]]:
    """Apply the out-of-scope threshold and the dialogue context to a ranking (best first)."""
    scores = dict(ranking)
    intent, conf = ranking[0]
    if conf < threshold and intent != OUT_OF_SCOPE:
        intent = OUT_OF_SCOPE
    # A bare answer to the agent's question ("del 5 al 8", "para dos") keeps the intent
    # the conversation is waiting on; so does an unclear message that carries entities,
    # or a message the classifier hesitates over between two booking intents.
    if (
        expected
        and expected in intents
        and expected != intent
        and ents
        and (
            is_bare_answer(text, ents)
            or intent == OUT_OF_SCOPE
            or (intent in SLOT_INTENTS and expected in SLOT_INTENTS and conf < 0.8)
        )
    ):
        conf = max(conf, scores.get(expected, 0.0), 0.9)
        return (
            expected,
            float(conf),
            [(expected, conf)] + [(k, v) for k, v in ranking if k != expected],
        )
    if intent == OUT_OF_SCOPE and ranking[0][0] != OUT_OF_SCOPE:
        conf = max(scores.get(OUT_OF_SCOPE, 0.0), 1.0 - ranking[0][1])
        ranking = [(OUT_OF_SCOPE, conf)] + [(k, v) for k, v in ranking if k != OUT_OF_SCOPE]
    return intent, float(conf), [(k, float(v)) for k, v in ranking]


def _late_checkout_dates(ents: list[Entity]) -> list[Entity]:
    """A lone date in a late check-out request is the day of leaving ("late tomorrow")."""
    dates = [e for e in ents if e.type in ("check_in", "check_out")]
    if len(dates) != 1 or dates[0].type != "check_in":
        return ents
    return [
        Entity("check_out", e.value, e.text, e.start, e.end, e.confidence) if e is dates[0] else e
        for e in ents
    ]


def find_latest_model(models_dir: Path) -> Path | None:
    best: tuple[str, Path] | None = None
    if not models_dir.is_dir():
        return None
    for meta_path in models_dir.glob("*/meta.json"):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        key = str(meta.get("created_at", ""))
        if best is None or key > best[0]:
            best = (key, meta_path.parent)
    return best[1] if best else None


class NluEngine:
    """A loaded model. ``parse`` is thread-safe and CPU-only (about a millisecond)."""

    engine_name = "spacy"
    blocking_io = False

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self.meta: dict[str, Any] = json.loads((self.model_dir / "meta.json").read_text())
        self.langid = LanguageIdentifier.from_dict(
            json.loads((self.model_dir / "langid.json").read_text())
        )
        self.mode: str = self.meta.get("mode", "multi_lang")
        self.pipelines: dict[str, Any] = {}
        if self.mode == "per_language":
            for lang in LANGUAGES:
                self.pipelines[lang] = classifier.load(self.model_dir / f"textcat_{lang}")
        else:
            self.pipelines["*"] = classifier.load(self.model_dir / "textcat")
            for extra in sorted(self.model_dir.glob("textcat_b*")):
                self.pipelines["*" + extra.name[len("textcat_b") :]] = classifier.load(extra)
        self.threshold: float = float(self.meta.get("threshold", 0.0))
        self.version: str = str(self.meta["version"])
        self.data_hash: str = str(self.meta.get("data_hash", ""))
        self.intents: list[str] = list(self.meta.get("intents", INTENTS))
        self._lock = threading.Lock()

    # -- pieces -----------------------------------------------------------------------------
    def detect_language(self, text: str) -> str:
        return self.langid.predict(text)[0]

    def _classify(
        self, texts: list[str], languages: list[str], entities: list[list[Entity]]
    ) -> list[dict[str, float]]:
        norm = [
            normalise_for_intent(mask_entities(t, e)) for t, e in zip(texts, entities, strict=True)
        ]
        if self.mode == "per_language":
            out: list[dict[str, float]] = [{} for _ in texts]
            for lang in set(languages):
                idx = [i for i, lg in enumerate(languages) if lg == lang]
                nlp = self.pipelines.get(lang) or self.pipelines["es"]
                for i, cats in zip(
                    idx, classifier.predict(nlp, [norm[i] for i in idx]), strict=True
                ):
                    out[i] = cats
            return out
        tagged = [
            classifier.classifier_input(n, lg if self.mode == "multi_lang" else None)
            for n, lg in zip(norm, languages, strict=True)
        ]
        bag = [nlp for key, nlp in self.pipelines.items() if key.startswith("*")]
        avg: list[dict[str, float]] = classifier.predict(bag[0], tagged)
        if len(bag) > 1:
            for member in bag[1:]:
                for acc, more in zip(avg, classifier.predict(member, tagged), strict=True):
                    for k, v in more.items():
                        acc[k] += v
            avg = [{k: v / len(bag) for k, v in c.items()} for c in avg]
        return avg

    # -- public -----------------------------------------------------------------------------
    def parse(
        self,
        text: str,
        *,
        language_hint: str = "",
        reference_date: date | None = None,
        time_zone: str = "",
        expected_intent: str = "",
    ) -> ParseResult:
        return self.parse_many(
            [text],
            language_hints=[language_hint],
            reference_dates=[reference_date],
            time_zones=[time_zone],
            expected_intents=[expected_intent],
        )[0]

    def parse_many(
        self,
        texts: list[str],
        *,
        language_hints: list[str] | None = None,
        reference_dates: list[date | None] | None = None,
        time_zones: list[str] | None = None,
        expected_intents: list[str] | None = None,
    ) -> list[ParseResult]:
        n = len(texts)
        hints = language_hints or [""] * n
        refs = reference_dates or [None] * n
        tzs = time_zones or [""] * n
        expected = expected_intents or [""] * n
        ref_dates = [resolve_reference(r, z) for r, z in zip(refs, tzs, strict=True)]
        ents_list = [
            extract_entities(t, r, bare_ref_ok=e in REF_INTENTS)
            for t, r, e in zip(texts, ref_dates, expected, strict=True)
        ]
        # Names, e-mails, phones and references say nothing about the language: mask them.
        languages = [
            h if h in LANGUAGES else self.detect_language(mask_entities(t, es, keep_dates=True))
            for t, h, es in zip(texts, hints, ents_list, strict=True)
        ]
        cats_list = self._classify(texts, languages, ents_list)
        out = []
        for i, text in enumerate(texts):
            ranking = sorted(cats_list[i].items(), key=lambda kv: kv[1], reverse=True)
            ents = ents_list[i]
            if ranking[0][0] in REF_INTENTS and not any(e.type == "booking_ref" for e in ents):
                ents = extract_entities(text, ref_dates[i], bare_ref_ok=True)
            intent, conf, ranking = decide_intent(
                text, ranking, ents, expected[i], self.threshold, self.intents
            )
            if intent == "late_checkout":
                ents = _late_checkout_dates(ents)
            out.append(ParseResult(text, languages[i], intent, conf, ranking, ents, self.version))
        return out

    def info(self) -> dict[str, Any]:
        return {
            "model_version": self.version,
            "data_hash": self.data_hash,
            "languages": list(LANGUAGES),
            "intents": self.intents,
            "out_of_scope_threshold": self.threshold,
            "engine": self.engine_name,
        }
