"""Hotel facts retrieved from the hotel's own texts, never from canned answers.

The texts are what pms returns in the guest's language: the long description, each policy,
the features as the hotel words them ("Paid parking nearby", "Breakfast buffet
(Complimentary)"). They are cut into sentences and ranked with BM25 against the guest's
question. BM25 is written out here (≈30 lines) rather than taken from `rank-bm25`: the corpus
is a few dozen sentences per hotel, the tokeniser has to fold accents and cut words to a
prefix so "cancelación"/"cancelar" or "estacionamento"/"estacionamiento" meet, and the
ranking must be deterministic and free of numpy for a 100 ms turn budget.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from hotel.pms.v1 import pms_service_pb2 as pms_pb2

from .parsing import fold

STOP = set(
    [
        "a",
        "al",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "com",
        "como",
        "con",
        "could",
        "da",
        "de",
        "del",
        "do",
        "does",
        "dos",
        "e",
        "el",
        "em",
        "en",
        "es",
        "esta",
        "este",
        "for",
        "from",
        "ha",
        "hay",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "la",
        "las",
        "lo",
        "los",
        "me",
        "mi",
        "my",
        "na",
        "no",
        "o",
        "of",
        "on",
        "or",
        "os",
        "para",
        "pero",
        "por",
        "pode",
        "posso",
        "puedo",
        "que",
        "qual",
        "se",
        "sim",
        "si",
        "the",
        "there",
        "to",
        "tem",
        "tienen",
        "um",
        "una",
        "un",
        "uno",
        "vocês",
        "voces",
        "we",
        "what",
        "where",
        "which",
        "with",
        "y",
        "you",
        "your",
        "hotel",
        "hoteis",
        "hoteles",
        "hotels",
        "sus",
        "seu",
        "sua",
        "our",
        "nos",
    ]
)
_SENTENCE = re.compile(r"(?<=[.;!?])\s+")
_DISTANCE = re.compile(r"\d+\s?(?:m|km|min)\b|minut|cuadra|quadra|block|walk|a pie|a pé")


def tokens(text: str) -> list[str]:
    """Folded words without stop words, cut to 5 letters: a cheap stemmer for es/en/pt."""
    return [w[:5] for w in re.findall(r"[a-z0-9]+", fold(text)) if w not in STOP and len(w) > 1]


@dataclass
class Fact:
    text: str
    kind: str  # description | policy | feature


class Bm25:
    """Okapi BM25 over short documents (k1 = 1.5, b = 0.75)."""

    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75):
        self.docs = docs
        self.k1, self.b = k1, b
        self.avg = sum(map(len, docs)) / max(len(docs), 1) or 1.0
        df: Counter[str] = Counter(t for d in docs for t in set(d))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.tf = [Counter(d) for d in docs]

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for doc, tf in zip(self.docs, self.tf, strict=True):
            score = 0.0
            for term in set(query):
                f = tf.get(term, 0)
                if f:
                    norm = f + self.k1 * (1 - self.b + self.b * len(doc) / self.avg)
                    score += self.idf[term] * f * (self.k1 + 1) / norm
            out.append(score)
        return out


def facts_of(hotel: pms_pb2.Hotel) -> list[Fact]:
    facts = [
        Fact(s.strip(), "description")
        for s in _SENTENCE.split(hotel.long_description or hotel.description)
        if s.strip()
    ]
    for policy in hotel.policies:
        facts += [Fact(s.strip(), "policy") for s in _SENTENCE.split(policy.text) if s.strip()]
    facts += [Fact(f, "feature") for f in hotel.features]
    return facts


class HotelFacts:
    """The ranked facts of one hotel in one language."""

    def __init__(self, hotel: pms_pb2.Hotel):
        self.facts = facts_of(hotel)
        self.index = Bm25([tokens(f.text) for f in self.facts])

    def search(self, question: str, *, limit: int = 2, min_score: float = 1.0) -> list[Fact]:
        """The best facts for a question, best first; none when nothing really matches."""
        scores = self.index.scores(tokens(question))
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        top = [i for i in ranked[:limit] if scores[i] >= min_score]
        if top:
            best = scores[top[0]]
            top = [i for i in top if scores[i] >= best * 0.6]
        return [self.facts[i] for i in top]

    def mentioning(self, words: list[str]) -> list[Fact]:
        """Features first, then description sentences, that contain one of `words` (folded)."""
        out = []
        folded = [fold(w) for w in words]
        for kind in ("feature", "description"):
            for fact in self.facts:
                text = fold(fact.text)
                if fact.kind == kind and any(
                    re.search(rf"(?<![a-z]){re.escape(w)}", text) for w in folded
                ):
                    out.append(fact)
        return out

    def distances(self) -> list[Fact]:
        """Description sentences that say how far things are (stations, landmarks, airport)."""
        return [f for f in self.facts if f.kind == "description" and _DISTANCE.search(fold(f.text))]
