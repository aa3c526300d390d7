"""The policy's shared core: configuration and the hotel data every flow reads.

The `Policy` is assembled from layers (base → staff → smalltalk → hotel_info → availability
→ booking → manage → dialogue); each layer only calls methods of the layers below it, so
each module can be read on its own and mypy can check every call.
"""

from __future__ import annotations

import time

from hotel.pms.v1 import pms_service_pb2 as pms_pb2

from ..deps import Pms
from ..i18n import Templates
from .facts import HotelFacts
from .hotels import HotelDirectory
from .parsing import fold


class PolicyBase:
    """Settings, the pms client and a short-lived cache of hotel data per language."""

    def __init__(
        self,
        pms: Pms,
        templates: Templates,
        *,
        confidence_threshold: float = 0.5,
        handoff_after_misunderstandings: int = 3,
        max_guests: int = 8,
        hotel_cache_seconds: float = 60.0,
        max_nights: int = 30,
    ):
        self.pms = pms
        self.templates = templates
        self.threshold = confidence_threshold
        # Booking, cancelling or changing needs an unambiguous "yes": a button, a short
        # yes-word, or an affirm nlp is sure about.
        self.confirm_threshold = max(0.8, confidence_threshold)
        self.handoff_after = handoff_after_misunderstandings
        self.max_guests = max_guests
        self.max_nights = max_nights
        self.hotel_cache_seconds = hotel_cache_seconds
        # (hotel id, language) → (fetched at, hotel): names, descriptions and policies come
        # from pms in the conversation's language.
        self._hotels: dict[tuple[str, str], tuple[float, pms_pb2.Hotel]] = {}
        topics: dict[str, set[str]] = {}
        for catalog in templates.catalogs.values():
            for key, words in catalog.entries.items():
                if key.startswith("keywords.policy_topics."):
                    topics.setdefault(key.rsplit(".", 1)[1], set()).update(fold(w) for w in words)
        self.topic_words = topics
        amenity_words: dict[str, set[str]] = {}
        skip: set[str] = set()
        for catalog in templates.catalogs.values():
            for key, words in catalog.entries.items():
                if key.startswith("keywords.amenity_words."):
                    amenity_words.setdefault(key.rsplit(".", 1)[1], set()).update(words)
                if key in ("names.months", "names.weekdays"):
                    skip.update(fold(w) for w in words)
                    skip.update(fold(w) + "s" for w in words)
        self.amenity_words = amenity_words
        # The chain's hotels and what guests call them (composed, not inherited).
        self.directory = HotelDirectory(pms, cache_seconds=hotel_cache_seconds, skip_words=skip)
        self._facts: dict[tuple[str, str], tuple[pms_pb2.Hotel, HotelFacts]] = {}

    # -- hotel data ---------------------------------------------------------------------

    async def hotel(self, hotel_id: str, language: str = "") -> pms_pb2.Hotel:
        """The hotel with its texts in `language` (ISO 639-1; "" = the PMS default)."""
        cached = self._hotels.get((hotel_id, language))
        if cached and time.monotonic() - cached[0] < self.hotel_cache_seconds:
            return cached[1]
        hotel = await self.pms.get_hotel(hotel_id, language)
        self._hotels[(hotel_id, language)] = (time.monotonic(), hotel)
        return hotel

    async def facts(self, hotel_id: str, language: str) -> HotelFacts:
        """The hotel's texts ranked for questions, rebuilt when pms gives a newer record."""
        hotel = await self.hotel(hotel_id, language)
        cached = self._facts.get((hotel_id, language))
        if cached and cached[0] is hotel:
            return cached[1]
        facts = HotelFacts(hotel)
        self._facts[(hotel_id, language)] = (hotel, facts)
        return facts

    @staticmethod
    def hotel_label(hotel: pms_pb2.Hotel) -> str:
        """ "Posada San Telmo (Buenos Aires)": how a summary names the hotel."""
        city = hotel.address.city
        return f"{hotel.name} ({city})" if city and city not in hotel.name else hotel.name

    def cached_hotel(self, hotel_id: str, language: str = "") -> pms_pb2.Hotel | None:
        cached = self._hotels.get((hotel_id, language))
        return cached[1] if cached else None
