"""Which hotel of the chain a guest means: the vocabulary comes from the hotels' own data.

Every hotel pms lists contributes the names a guest could use for it — its name, city, state,
country, street and the proper names in its description (neighbourhood, landmarks, stations,
airport) — in every language the conversation speaks. A term two hotels share says nothing and
is dropped. Names guests use that no hotel text contains (other neighbourhoods of the same city,
"Madri") come from a short alias list keyed by the city, so a new hotel in a new city needs no
code, only data.

Terms are "strong" (hotel name, city, state, country, alias: they choose a hotel on their own)
or "weak" (landmarks from the description: they choose only while the guest hasn't picked a
hotel, so "how far is it from the Prado?" asked about Buenos Aires doesn't move the guest).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from hotel.pms.v1 import pms_service_pb2 as pms_pb2

from ..deps import Pms
from .parsing import fold

# Names guests use for a place that the hotels' texts don't spell out, keyed by folded city.
CITY_ALIASES = {
    "buenos aires": [
        "baires",
        "bs as",
        "bsas",
        "caba",
        "capital federal",
        "palermo",
        "recoleta",
        "microcentro",
        "puerto madero",
        "la boca",
        "aeroparque",
    ],
    "madrid": ["madri", "gran via", "malasana", "chueca", "la latina", "lavapies", "barajas"],
}
COUNTRY_NAMES = {
    "ES": ["espana", "spain", "espanha"],
    "AR": ["argentina"],
    "PT": ["portugal"],
    "BR": ["brasil", "brazil"],
    "MX": ["mexico"],
}
# Capitalised words in descriptions that are ordinary nouns, not places.
GENERIC = {
    "museum", "museo", "museu", "station", "estacion", "estacao", "plaza", "praca", "calle",
    "street", "avenida", "avenue", "metro", "subte", "line", "linea", "linha", "airport",
    "aeropuerto", "aeroporto", "barrio", "bairro", "casa", "casarao", "hotel", "posada",
    "puerta", "feria", "market", "mercado", "centro", "center", "patio", "terrace", "terraza",
    "rooms", "habitaciones", "quartos", "boutique", "restored", "restaurada", "historic",
}  # fmt: skip
# Days named in descriptions ("its Sunday antiques fair") are not places either.
GENERIC |= {
    d + suffix
    for d in [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "segunda",
        "terca",
        "quarta",
        "quinta",
        "sexta",
    ]
    for suffix in ("", "s")
}
_PHRASE = re.compile(
    r"[A-ZÁÉÍÓÚÑÇ][\wáéíóúñçãõâêô'-]+(?:\s+(?:(?:de|del|la|las|los|do|da|dos|das)\s+)?"
    r"[A-ZÁÉÍÓÚÑÇ][\wáéíóúñçãõâêô'-]+)*"
)


_NOT_PLACES = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")


@dataclass
class Mention:
    """Hotels a message names: by strong terms, and by weak ones (landmarks)."""

    strong: set[str] = field(default_factory=set)
    weak: set[str] = field(default_factory=set)


def _terms_of(hotel: pms_pb2.Hotel, skip_words: set[str]) -> tuple[set[str], set[str]]:
    strong = {fold(hotel.name), fold(hotel.address.city), fold(hotel.address.state)}
    strong.update(COUNTRY_NAMES.get(hotel.address.country_code.upper(), []))
    strong.update(CITY_ALIASES.get(fold(hotel.address.city), []))
    weak: set[str] = set()
    for text in (hotel.name, hotel.address.line1, hotel.description, hotel.long_description):
        for match in _PHRASE.finditer(text):
            phrase = match.group(0)
            # A capital after a full stop only starts a sentence: single words need more.
            start = match.start()
            initial = start == 0 or text[:start].rstrip().endswith((".", ";", ":", "!", "?"))
            words = [fold(w) for w in phrase.split()]
            if len(words) > 1:
                weak.add(" ".join(words))
            for word in words:
                if (
                    len(word) >= 5
                    and word not in GENERIC
                    and word not in skip_words
                    and not initial
                ) or (
                    len(word) >= 5
                    and word not in GENERIC
                    and word not in skip_words
                    and len(words) > 1
                ):
                    weak.add(word)
    for name_word in fold(hotel.name).split():
        if len(name_word) >= 5 and name_word not in GENERIC:
            strong.add(name_word)
    return {t for t in strong if t}, {t for t in weak if t and t not in skip_words}


class HotelDirectory:
    """The chain's hotels from pms (cached) and what each can be called."""

    def __init__(self, pms: Pms, *, cache_seconds: float = 300.0, skip_words: set[str]):
        self.pms = pms
        self.cache_seconds = cache_seconds
        self.skip_words = skip_words
        self._hotels: dict[str, tuple[float, list[pms_pb2.Hotel]]] = {}
        self._terms: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]] = {}

    async def hotels(self, language: str) -> list[pms_pb2.Hotel]:
        cached = self._hotels.get(language)
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        hotels = await self.pms.list_hotels(language)
        self._hotels[language] = (time.monotonic(), hotels)
        self._terms.pop(language, None)
        return hotels

    async def _vocabulary(self, language: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        hotels = await self.hotels(language)
        if language in self._terms:
            return self._terms[language]
        strong: dict[str, set[str]] = {}
        weak: dict[str, set[str]] = {}
        for hotel in hotels:
            strong_terms, weak_terms = _terms_of(hotel, self.skip_words)
            for term in strong_terms:
                strong.setdefault(term, set()).add(hotel.hotel_id)
            for term in weak_terms - strong_terms:
                weak.setdefault(term, set()).add(hotel.hotel_id)
        # A term more than one hotel answers to tells them apart from nothing.
        vocab = (
            {t: ids for t, ids in strong.items() if len(ids) == 1},
            {t: ids for t, ids in weak.items() if len(ids) == 1 and t not in strong},
        )
        self._terms[language] = vocab
        return vocab

    async def mentioned(self, text: str, language: str) -> Mention:
        if len(await self.hotels(language)) < 2:
            return Mention()
        strong, weak = await self._vocabulary(language)
        text = _NOT_PLACES.sub(" ", text)  # "ana@madrid.com" names no hotel
        folded = f" {re.sub(r'[^a-z0-9]+', ' ', fold(text))} "
        found = Mention()
        for terms, out in ((strong, found.strong), (weak, found.weak)):
            for term, ids in terms.items():
                if f" {re.sub(r'[^a-z0-9]+', ' ', term).strip()} " in folded:
                    out.update(ids)
        return found
