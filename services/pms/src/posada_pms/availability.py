"""Availability and prices: QloApps' `hotel_ari` search turned into offers that fit the guests.

QloApps' search ignores occupancy (docs/external-apis/qloapps.md#availability-search), so pms
asks for one room's totals and filters by the room type's capacity itself. Answers are cached
briefly per hotel and stay (`PmsCache.availability`); a booking reads them fresh under its lock.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from posada_pms.cache import PmsCache
from posada_pms.catalogue import Catalogue
from posada_pms.errors import pms_call, room_type_not_found
from posada_pms.model import Hotel, Money, NightlyPrice, Offer, StaySearch
from posada_pms.money import to_minor
from posada_pms.qloapps import QloAppsClient


class Availability:
    def __init__(self, client: QloAppsClient, cache: PmsCache, catalogue: Catalogue) -> None:
        self.client = client
        self.cache = cache
        self.catalogue = catalogue

    async def check(self, search: StaySearch) -> tuple[list[Offer], str]:
        """Offers for a guest's search, cheapest first, and the currency they are in."""
        lang = await self.catalogue.language_id(search.language)
        hotel = await self.catalogue.hotel(search.hotel_id, lang)
        return await self.offers(
            hotel,
            search.check_in,
            search.check_out,
            search.adults,
            search.children,
            room_type_id=search.room_type_id,
            category=search.category,
            lang_id=lang,
        )

    async def offers(
        self,
        hotel: Hotel,
        check_in: date,
        check_out: date,
        adults: int,
        children: int,
        *,
        room_type_id: str = "",
        category: int = 0,
        fresh: bool = False,
        lang_id: int | None = None,
    ) -> tuple[list[Offer], str]:
        room_types = await self.catalogue.room_types(hotel.hotel_id, lang_id)
        if room_type_id and room_type_id not in room_types:
            raise room_type_not_found(room_type_id, hotel.hotel_id)

        async def load() -> dict[str, Any]:
            return await self._load_ari(hotel.hotel_id, check_in, check_out)

        if fresh:
            ari = await pms_call(load())
        else:
            ari = await pms_call(
                self.cache.availability(hotel.hotel_id, f"{check_in}:{check_out}", load)
            )
        currency = ari["currency"] or hotel.currency_code
        offers = []
        for entry in ari["room_types"]:
            room_type = room_types.get(entry["id"])
            if room_type is None or entry["rooms_left"] < 1:
                continue
            if room_type_id and entry["id"] != room_type_id:
                continue
            if category and room_type.category != category:
                continue
            if not room_type.fits(adults, children):
                continue
            offers.append(
                Offer(
                    hotel_id=hotel.hotel_id,
                    room_type=room_type,
                    rooms_left=entry["rooms_left"],
                    nightly=tuple(
                        NightlyPrice(date.fromisoformat(night["date"]), night["ex"], night["in"])
                        for night in entry["nightly"]
                    ),
                    total_tax_excluded=Money(entry["total_ex"], currency.upper()),
                    total_tax_included=Money(entry["total_in"], currency.upper()),
                    base_price_currency=hotel.currency_code,
                )
            )
        offers.sort(
            key=lambda o: (o.total_tax_included.amount_minor, int(o.room_type.room_type_id))
        )
        return offers, currency

    async def _load_ari(self, hotel_id: str, check_in: date, check_out: date) -> dict[str, Any]:
        """One search in range mode (stay totals) and, for several nights, one per-night search
        (nightly prices); JSON-friendly, for the cache."""
        base = {
            "id_hotel": hotel_id,
            "date_from": check_in.isoformat(),
            "date_to": check_out.isoformat(),
        }
        # One occupancy entry: totals are then for one room (occupancy never filters).
        occupancy = {
            "associations": {"room_occupancies": {"room_occupancy": {"adults": 1, "children": 0}}}
        }
        nights = (check_out - check_in).days
        searches = [self.client.hotel_ari({**base, "get_available_rooms": 1, **occupancy})]
        if nights > 1:
            searches.append(
                self.client.hotel_ari(
                    {**base, "get_available_rooms": 1, "date_wise_breakdown": 1, **occupancy}
                )
            )
        answers = await asyncio.gather(*searches)
        ranged = answers[0].get("hotel_ari") or {}
        currency = str(ranged.get("currency") or "").upper()
        nightly = self._nightly_prices(answers[1] if nights > 1 else {}, currency)
        room_types = []
        for entry in ranged.get("room_types") or []:
            rid = str(entry.get("id_room_type"))
            available = (entry.get("rooms") or {}).get("available") or {}
            total_ex = to_minor(entry.get("total_price"), currency)
            total_in = to_minor(entry.get("total_price_with_tax"), currency)
            nights_list = nightly.get(rid) or []
            if len(nights_list) != nights:
                nights_list = _spread(check_in, nights, total_ex, total_in)
            room_types.append(
                {
                    "id": rid,
                    "rooms_left": len(available) if isinstance(available, dict | list) else 0,
                    "total_ex": total_ex,
                    "total_in": total_in,
                    "nightly": sorted(nights_list, key=lambda n: n["date"]),
                }
            )
        return {"currency": currency, "room_types": room_types}

    @staticmethod
    def _nightly_prices(answer: dict[str, Any], currency: str) -> dict[str, list[dict[str, Any]]]:
        """Per room type, each night's prices from the per-night search. Only prices and
        available rooms of that mode are trusted (docs/external-apis/qloapps.md#availability-search)."""
        nightly: dict[str, list[dict[str, Any]]] = {}
        for night in answer.get("hotel_aris") or []:
            for entry in night.get("room_types") or []:
                nightly.setdefault(str(entry.get("id_room_type")), []).append(
                    {
                        "date": str(night.get("date_from"))[:10],
                        "ex": to_minor(entry.get("total_price", entry.get("base_price")), currency),
                        "in": to_minor(
                            entry.get("total_price_with_tax", entry.get("base_price_with_tax")),
                            currency,
                        ),
                    }
                )
        return nightly


def _spread(check_in: date, nights: int, total_ex: int, total_in: int) -> list[dict[str, Any]]:
    """No (usable) breakdown: the stay total spread evenly, the remainder on the first night."""
    return [
        {
            "date": (check_in + timedelta(days=i)).isoformat(),
            "ex": total_ex // nights + (total_ex % nights if i == 0 else 0),
            "in": total_in // nights + (total_in % nights if i == 0 else 0),
        }
        for i in range(nights)
    ]
