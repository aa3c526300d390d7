"""The PMS domain: hotels, room types, availability and bookings on top of QloApps.

`PmsCore` speaks hotel.pms.v1 messages and raises `posada_common.errors`; the gRPC servicer is
a thin shell around it. How bookings are never doubled:

1. The caller's idempotency key is stored in the order's free-text `source` as
   `posada:<key>` (QloApps has no idempotency key of its own) and mirrored in Redis
   (`pms:idem:<key>` → order id) for a cheap first look.
2. Before creating, and again after taking the locks, the key is looked up (Redis, then
   `GET /api/orders?filter[source]=[posada:<key>]`): a hit returns that booking (`replayed`).
3. Creation happens under per-night Redis locks of the hotel/room type (`locks.py`), with a
   fresh (uncached) availability check under the lock, because QloApps itself checks
   availability and inserts without any lock.
4. A create whose outcome is unknown (timeout, dropped connection, 5xx) is never re-posted
   blindly: the key is looked up; found → that booking; not found → UNAVAILABLE, and the
   caller's retry with the same key looks it up again before posting.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import redis.asyncio as aioredis
from google.protobuf import json_format
from hotel.pms.v1 import pms_service_pb2 as pms
from posada_common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ServiceError,
    Unavailable,
)
from posada_common.logging import get_logger
from redis.exceptions import RedisError

from posada_pms import mapping as m
from posada_pms.cache import PmsCache
from posada_pms.locks import LockBusy, LockUnavailable, StayLocks
from posada_pms.metrics import BOOKINGS, LANGUAGE_FALLBACKS
from posada_pms.money import minor_money, money, to_minor
from posada_pms.qloapps import (
    CALL_DEADLINE,
    DEADLINE_MARGIN,
    QloAppsClient,
    QloAppsError,
    QloAuthError,
    QloBadRequest,
    QloNotFound,
    QloUnavailable,
)
from posada_pms.validation import (
    EMAIL_RE,
    IDEMPOTENCY_KEY_RE,
    NAME_RE,
    REFERENCE_RE,
    Violations,
)

log = get_logger(__name__)
T = TypeVar("T")
SOURCE_PREFIX = "posada:"


@dataclass
class CoreOptions:
    max_stay_nights: int = 30
    max_advance_days: int = 730
    idempotency_ttl_seconds: int = 30 * 24 * 3600
    default_time_zone: str = "UTC"
    hotel_time_zones: dict[str, str] | None = None
    lookup_attempts: int = 3
    find_limit: int = 20


def _unavailable(exc: QloAppsError) -> ServiceError:
    if isinstance(exc, QloAuthError):
        log.error("qloapps_auth_failed", status=exc.status, detail=exc.detail)
        return Unavailable("the PMS refused our credentials", reason="PMS_AUTH")
    return Unavailable(f"the PMS is unavailable: {exc}", reason="PMS_UNAVAILABLE")


async def pms_call(call: Awaitable[T], not_found: str | None = None) -> T:
    """Await a QloApps call and translate its failures into gRPC-coded errors."""
    try:
        return await call
    except QloNotFound as exc:
        raise NotFound(not_found or "not found in the PMS") from exc
    except (QloUnavailable, QloAuthError) as exc:
        raise _unavailable(exc) from exc
    except QloBadRequest as exc:
        raise FailedPrecondition(
            f"the PMS refused the request: {'; '.join(exc.messages)}", reason="PMS_REJECTED"
        ) from exc


class PmsCore:
    def __init__(
        self,
        client: QloAppsClient,
        cache: PmsCache,
        locks: StayLocks,
        redis: aioredis.Redis,
        options: CoreOptions | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.locks = locks
        self.redis = redis
        self.opt = options or CoreOptions()
        # The shop language i18n fields are read in when the caller names none (PMS_LANGUAGE_ID).
        self.default_language_id = client.language_id

    # ===================================================================== languages

    async def _shop_languages(self) -> dict[str, int]:
        """ISO 639-1 code → shop language id, active languages only (`languages`, doc §8.5)."""

        async def load() -> dict[str, int]:
            rows = await self.client.get_list(
                "languages", "languages", {"display": "[id,iso_code,active]"}
            )
            out: dict[str, int] = {}
            for r in rows:
                iso = m.as_str(r.get("iso_code")).strip().lower()
                lang_id = m.as_int(r.get("id"))
                # `active` is "1"/"0" on 1.6.x; a missing column counts as active.
                if iso and lang_id > 0 and m.as_int(r.get("active"), 1) == 1:
                    out.setdefault(iso, lang_id)
            return out

        return await self.cache.static("languages", load)

    async def _language_id(self, code: str) -> int:
        """The shop's language id for an ISO 639-1 code; the default one when the shop lacks it.

        The texts are a courtesy on top of the answer: when the `languages` resource cannot be
        read (key without that permission, PMS trouble) the default language is used rather
        than failing the whole call.
        """
        if not code:
            return self.default_language_id
        try:
            languages = await self._shop_languages()
        except QloAppsError as exc:
            log.warning("pms_languages_unreadable", language=code, error=str(exc))
            return self.default_language_id
        lang_id = languages.get(code)
        if lang_id is None:
            LANGUAGE_FALLBACKS.inc()
            log.info("pms_language_not_in_shop", language=code)
            return self.default_language_id
        return lang_id

    def _lang(self, lang_id: int | None) -> int:
        return self.default_language_id if lang_id is None else lang_id

    # ===================================================================== static data
    # Every i18n read names its language and every cache key of i18n data carries it.

    async def _hotel_features(self, lang_id: int | None = None) -> dict[str, str]:
        # Default language for the (language-independent) amenity catalogue; the guest's
        # language for the feature names shown as they are worded ("Paid parking nearby").
        lang = self._lang(lang_id)

        async def load() -> dict[str, str]:
            rows = await self.client.get_list(
                "hotel_features", "hotel_features", {"display": "full", "language": str(lang)}
            )
            names = {str(r.get("id")): m.as_str(r.get("name")) for r in rows}
            # A feature under "Complimentary" is free: keep the group as a qualifier.
            return {
                str(r.get("id")): f"{names[str(r.get('id'))]} ({parent})"
                if (parent := names.get(str(r.get("parent_feature_id") or "")))
                else names[str(r.get("id"))]
                for r in rows
            }

        return await self.cache.static(f"hotel_features:{lang}", load)

    async def _room_type_features(self) -> dict[str, str]:
        lang = self.default_language_id

        async def load() -> dict[str, str]:
            try:
                rows = await self.client.get_list(
                    "room_type_features",
                    "room_type_features",
                    {"display": "full", "language": str(lang)},
                )
            except QloBadRequest:
                return {}
            return {str(r.get("id")): m.as_str(r.get("name")) for r in rows}

        return await self.cache.static(f"room_type_features:{lang}", load)

    async def _refund_rules(self, lang_id: int | None = None) -> dict[str, str]:
        lang = self._lang(lang_id)

        async def load() -> dict[str, str]:
            try:
                rows = await self.client.get_list(
                    "hotel_refund_rules",
                    "hotel_refund_rules",
                    {"display": "full", "language": str(lang)},
                )
            except QloBadRequest:
                return {}
            out = {}
            for r in rows:
                name, desc = m.as_str(r.get("name")), m.strip_html(m.as_str(r.get("description")))
                out[str(r.get("id"))] = f"{name}: {desc}" if name and desc else (name or desc)
            return out

        return await self.cache.static(f"hotel_refund_rules:{lang}", load)

    async def _iso(self, resource: str, singular: str, ident: str, field: str) -> str:
        if not ident or ident == "0":
            return ""
        try:
            obj = await self.client.get_one(f"{resource}/{ident}", singular)
        except QloNotFound:
            return ""
        return m.as_str(obj.get(field))

    async def _currency_of(self, hotel_id: str) -> str:
        # hotel_ari prices in the shop's default currency and says which: ask for one night.
        start = datetime.now(UTC).date() + timedelta(days=1)
        ari = await self.client.hotel_ari(
            {
                "id_hotel": hotel_id,
                "date_from": start.isoformat(),
                "date_to": (start + timedelta(days=1)).isoformat(),
            }
        )
        return str((ari.get("hotel_ari") or {}).get("currency") or "").upper()

    async def _load_hotel(self, raw: dict[str, Any], lang_id: int) -> dict[str, Any]:
        hotel_id = str(raw.get("id"))
        features, worded, refunds = await asyncio.gather(
            self._hotel_features(), self._hotel_features(lang_id), self._refund_rules(lang_id)
        )
        country, state, currency = await asyncio.gather(
            self._iso("countries", "country", str(raw.get("id_country") or ""), "iso_code"),
            self._iso("states", "state", str(raw.get("id_state") or ""), "name"),
            self._currency_of(hotel_id),
        )
        zones = self.opt.hotel_time_zones or {}
        check_in, check_out = m.as_str(raw.get("check_in")), m.as_str(raw.get("check_out"))
        hotel = pms.Hotel(
            hotel_id=hotel_id,
            name=m.as_str(raw.get("hotel_name")),
            address=pms.Address(
                line1=m.as_str(raw.get("address")),
                city=m.as_str(raw.get("city")),
                state=state,
                postcode=m.as_str(raw.get("zipcode")),
                country_code=country.upper(),
            ),
            latitude=m.as_float(raw.get("latitude")),
            longitude=m.as_float(raw.get("longitude")),
            phone=m.as_str(raw.get("phone")),
            email=m.as_str(raw.get("email")),
            check_in_time=check_in,
            check_out_time=check_out,
            time_zone=zones.get(hotel_id)
            or m.COUNTRY_TIME_ZONES.get(country.upper(), self.opt.default_time_zone),
            currency_code=currency,
            policies=m.policies(
                m.as_str(raw.get("policies")),
                check_in,
                check_out,
                [refunds.get(i, "") for i in m.assoc_ids(raw, "hotel_refund_rules")],
            ),
            amenities=m.amenity_values(
                [features.get(i, "") for i in m.assoc_ids(raw, "hotel_features")]
            ),
            features=[
                name for i in m.assoc_ids(raw, "hotel_features") if (name := worded.get(i, ""))
            ],
            description=m.strip_html(
                m.as_str(raw.get("short_description")) or m.as_str(raw.get("description"))
            ),
            long_description=m.strip_html(m.as_str(raw.get("description"))),
            rating=m.as_int(raw.get("rating")),
        )
        return json_format.MessageToDict(hotel, preserving_proto_field_name=True)

    async def _hotels(self, lang_id: int | None = None) -> list[dict[str, Any]]:
        lang = self._lang(lang_id)

        async def load() -> list[dict[str, Any]]:
            rows = await self.client.get_list(
                "hotels",
                "hotels",
                {"display": "full", "filter[active]": "1", "language": str(lang)},
            )
            return list(await asyncio.gather(*(self._load_hotel(r, lang) for r in rows)))

        return await pms_call(self.cache.static(f"hotels:{lang}", load))

    async def list_hotels(self, req: pms.ListHotelsRequest | None = None) -> pms.ListHotelsResponse:
        v = Violations()
        code = v.language("language", req.language if req is not None else "")
        v.raise_if_any()
        lang = await self._language_id(code)
        hotels = [json_format.ParseDict(h, pms.Hotel()) for h in await self._hotels(lang)]
        return pms.ListHotelsResponse(hotels=sorted(hotels, key=lambda h: int(h.hotel_id)))

    async def _hotel(self, hotel_id: str, lang_id: int | None = None) -> pms.Hotel:
        for h in await self._hotels(lang_id):
            if h.get("hotel_id") == hotel_id:
                return json_format.ParseDict(h, pms.Hotel())
        raise NotFound(f"hotel {hotel_id} not found", metadata={"hotel_id": hotel_id})

    async def get_hotel(self, req: pms.GetHotelRequest) -> pms.GetHotelResponse:
        v = Violations()
        hotel_id = v.id("hotel_id", req.hotel_id)
        code = v.language("language", req.language)
        v.raise_if_any()
        lang = await self._language_id(code)
        return pms.GetHotelResponse(hotel=await self._hotel(hotel_id, lang))

    async def _room_types(
        self, hotel_id: str, lang_id: int | None = None
    ) -> dict[str, dict[str, Any]]:
        """Room types of a hotel by product id, each with its capacity and tax group.

        Names and descriptions are in `lang_id`; the category is always derived from the
        default-language name, so filtering by category does not depend on the language.
        """
        lang = self._lang(lang_id)

        async def load() -> dict[str, dict[str, Any]]:
            base: dict[str, dict[str, Any]] = {}
            if lang != self.default_language_id:
                base = await self._room_types(hotel_id, self.default_language_id)
            hrts, rts, rt_features = await asyncio.gather(
                self.client.get_list(
                    "hotel_room_types",
                    "hotel_room_types",
                    {"display": "full", "filter[id_hotel]": f"[{hotel_id}]"},
                ),
                self.client.get_list(
                    "room_types",
                    "room_types",
                    {
                        "display": "[id,name,description_short,price,active,id_tax_rules_group]",
                        "filter[active]": "1",
                        "language": str(lang),
                    },
                ),
                self._room_type_features(),
            )
            products = {str(r.get("id")): r for r in rts}
            # The display list above leaves associations out; amenities come from full objects.
            out: dict[str, dict[str, Any]] = {}
            for h in hrts:
                pid = str(h.get("id_product"))
                product = products.get(pid)
                if product is None:
                    continue  # inactive room type
                name = m.as_str(product.get("name"))
                category = (base.get(pid) or {}).get("category") or m.room_category(
                    name, m.as_int(h.get("max_adults")), m.as_int(h.get("max_guests"))
                )
                out[pid] = {
                    "room_type_id": pid,
                    "name": name,
                    "category": category,
                    "description": m.strip_html(m.as_str(product.get("description_short"))),
                    "price": m.as_str(product.get("price")),
                    "id_tax_rules_group": m.as_int(product.get("id_tax_rules_group")),
                    "max_adults": m.as_int(h.get("max_adults")),
                    "max_children": m.as_int(h.get("max_children")),
                    "max_guests": m.as_int(h.get("max_guests")),
                    "amenities": [],
                }
            details = await asyncio.gather(
                *(self.client.get_one(f"room_types/{pid}", "room_type") for pid in out),
                return_exceptions=True,
            )
            for pid, detail in zip(list(out), details, strict=True):
                if isinstance(detail, dict):
                    names = [
                        rt_features.get(i, "") for i in m.assoc_ids(detail, "room_type_features")
                    ]
                    out[pid]["amenities"] = m.amenity_values(names)
            return out

        return await pms_call(self.cache.static(f"room_types:{hotel_id}:{lang}", load))

    def _room_type_msg(self, hotel: pms.Hotel, rt: dict[str, Any]) -> pms.RoomType:
        return pms.RoomType(
            room_type_id=rt["room_type_id"],
            hotel_id=hotel.hotel_id,
            name=rt["name"],
            category=rt.get("category")
            or m.room_category(rt["name"], rt["max_adults"], rt["max_guests"]),
            max_adults=rt["max_adults"],
            max_children=rt["max_children"],
            max_occupancy=rt["max_guests"],
            base_price=money(rt["price"], hotel.currency_code) if hotel.currency_code else None,
            description=rt["description"],
            amenities=rt["amenities"],
        )

    async def list_room_types(self, req: pms.ListRoomTypesRequest) -> pms.ListRoomTypesResponse:
        v = Violations()
        hotel_id = v.id("hotel_id", req.hotel_id)
        code = v.language("language", req.language)
        v.raise_if_any()
        lang = await self._language_id(code)
        hotel = await self._hotel(hotel_id, lang)
        rts = await self._room_types(hotel_id, lang)
        msgs = [self._room_type_msg(hotel, rt) for rt in rts.values()]
        return pms.ListRoomTypesResponse(room_types=sorted(msgs, key=lambda r: int(r.room_type_id)))

    # ===================================================================== availability

    @staticmethod
    def _fits(rt: dict[str, Any], adults: int, children: int) -> bool:
        # QloApps' hotel_ari ignores occupancy: capacity is ours to check.
        if rt["max_adults"] and adults > rt["max_adults"]:
            return False
        if children > rt["max_children"]:
            return False
        return not (rt["max_guests"] and adults + children > rt["max_guests"])

    async def _load_ari(self, hotel_id: str, check_in: date, check_out: date) -> dict[str, Any]:
        base = {
            "id_hotel": hotel_id,
            "date_from": check_in.isoformat(),
            "date_to": check_out.isoformat(),
        }
        # One occupancy entry: totals are then for one room (occupancy never filters, doc §6.1).
        occupancy = {
            "associations": {"room_occupancies": {"room_occupancy": {"adults": 1, "children": 0}}}
        }
        calls = [self.client.hotel_ari({**base, "get_available_rooms": 1, **occupancy})]
        nights = (check_out - check_in).days
        if nights > 1:
            calls.append(
                self.client.hotel_ari(
                    {**base, "get_available_rooms": 1, "date_wise_breakdown": 1, **occupancy}
                )
            )
        results = await asyncio.gather(*calls)
        ranged = results[0].get("hotel_ari") or {}
        currency = str(ranged.get("currency") or "").upper()
        nightly: dict[str, list[dict[str, Any]]] = {}
        if len(results) > 1:
            for night in results[1].get("hotel_aris") or []:
                for rt in night.get("room_types") or []:
                    nightly.setdefault(str(rt.get("id_room_type")), []).append(
                        {
                            "date": str(night.get("date_from"))[:10],
                            "ex": to_minor(rt.get("total_price", rt.get("base_price")), currency),
                            "in": to_minor(
                                rt.get("total_price_with_tax", rt.get("base_price_with_tax")),
                                currency,
                            ),
                        }
                    )
        room_types = []
        for rt in ranged.get("room_types") or []:
            rid = str(rt.get("id_room_type"))
            available = (rt.get("rooms") or {}).get("available") or {}
            total_ex = to_minor(rt.get("total_price"), currency)
            total_in = to_minor(rt.get("total_price_with_tax"), currency)
            nights_list = nightly.get(rid) or []
            if len(nights_list) != nights:
                # No (usable) breakdown: spread the stay total evenly, remainder on the first night.
                nights_list = []
                for i in range(nights):
                    nights_list.append(
                        {
                            "date": (check_in + timedelta(days=i)).isoformat(),
                            "ex": total_ex // nights + (total_ex % nights if i == 0 else 0),
                            "in": total_in // nights + (total_in % nights if i == 0 else 0),
                        }
                    )
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

    async def _offers(
        self,
        hotel: pms.Hotel,
        check_in: date,
        check_out: date,
        adults: int,
        children: int,
        *,
        room_type_id: str = "",
        category: int = 0,
        fresh: bool = False,
        lang_id: int | None = None,
    ) -> tuple[list[pms.Offer], str]:
        rts = await self._room_types(hotel.hotel_id, lang_id)
        if room_type_id and room_type_id not in rts:
            raise NotFound(
                f"room type {room_type_id} not found in hotel {hotel.hotel_id}",
                metadata={"room_type_id": room_type_id},
            )

        def load() -> Awaitable[dict[str, Any]]:
            return self._load_ari(hotel.hotel_id, check_in, check_out)

        if fresh:
            ari = await pms_call(load())
        else:
            ari = await pms_call(
                self.cache.availability(hotel.hotel_id, f"{check_in}:{check_out}", load)
            )
        currency = ari["currency"] or hotel.currency_code
        offers = []
        for entry in ari["room_types"]:
            rt = rts.get(entry["id"])
            if rt is None or entry["rooms_left"] < 1:
                continue
            if room_type_id and entry["id"] != room_type_id:
                continue
            msg = self._room_type_msg(hotel, rt)
            if category and msg.category != category:
                continue
            if not self._fits(rt, adults, children):
                continue
            offers.append(
                pms.Offer(
                    room_type=msg,
                    rooms_left=entry["rooms_left"],
                    nightly_prices=[
                        pms.NightlyPrice(
                            date=m.to_date_msg(date.fromisoformat(n["date"])),
                            price_tax_excluded=minor_money(n["ex"], currency),
                            price_tax_included=minor_money(n["in"], currency),
                        )
                        for n in entry["nightly"]
                    ],
                    total_tax_excluded=minor_money(entry["total_ex"], currency),
                    total_tax_included=minor_money(entry["total_in"], currency),
                )
            )
        offers.sort(
            key=lambda o: (o.total_tax_included.amount_minor, int(o.room_type.room_type_id))
        )
        return offers, currency

    async def check_availability(
        self, req: pms.CheckAvailabilityRequest
    ) -> pms.CheckAvailabilityResponse:
        v = Violations()
        hotel_id = v.id("hotel_id", req.hotel_id)
        check_in = v.date("check_in", req.check_in if req.HasField("check_in") else None)
        check_out = v.date("check_out", req.check_out if req.HasField("check_out") else None)
        v.stay(
            check_in,
            check_out,
            max_nights=self.opt.max_stay_nights,
            max_advance_days=self.opt.max_advance_days,
        )
        v.guests(req.adults, req.children)
        room_type_id = v.id("room_type_id", req.room_type_id, required=False)
        if req.category not in pms.RoomCategory.values():
            v.add("category", "unknown room category")
        code = v.language("language", req.language)
        v.raise_if_any()
        assert check_in and check_out
        lang = await self._language_id(code)
        hotel = await self._hotel(hotel_id, lang)
        offers, currency = await self._offers(
            hotel,
            check_in,
            check_out,
            req.adults,
            req.children,
            room_type_id=room_type_id,
            category=req.category,
            lang_id=lang,
        )
        return pms.CheckAvailabilityResponse(offers=offers, currency_code=currency)

    # ===================================================================== bookings: reads

    async def _booking_msg(
        self, booking_id: str, raw: dict[str, Any] | None = None, lang_id: int | None = None
    ) -> pms.Booking:
        async def room_statuses() -> list[int]:
            rows = await self.client.get_list(
                "room_bookings",
                "bookings",
                {"filter[id_order]": f"[{booking_id}]", "display": "[id,id_status]"},
            )
            return [m.as_int(r.get("id_status")) for r in rows]

        async def booking_doc() -> dict[str, Any]:
            return (
                raw
                if raw is not None
                else await self.client.get_one(f"bookings/{booking_id}", "booking")
            )

        doc, order, statuses = await asyncio.gather(
            booking_doc(), self.client.get_one(f"orders/{booking_id}", "order"), room_statuses()
        )
        booking = self._to_booking(doc, order, statuses)
        if lang_id is not None:
            booking.room_type_name = await self._room_type_name(booking, lang_id)
        return booking

    async def _room_type_name(self, booking: pms.Booking, lang_id: int) -> str:
        """The booking's room type named in `lang_id`.

        QloApps stores the room type name with the booking in one language only; the other
        languages come from the room type itself. The name is a courtesy: a room type no longer
        listed (inactive) or a PMS hiccup reading it keeps the stored name.
        """
        try:
            rts = await self._room_types(booking.hotel_id, lang_id)
        except ServiceError as exc:
            log.warning(
                "pms_room_type_name_unreadable", booking_id=booking.booking_id, error=str(exc)
            )
            return booking.room_type_name
        rt = rts.get(booking.room_type_id)
        return (m.as_str(rt.get("name")) if rt else "") or booking.room_type_name

    async def _booking_lang(self, code: str) -> int | None:
        """Language id for booking reads: None (the stored name) when no language is asked."""
        return await self._language_id(code) if code else None

    def _to_booking(
        self, doc: dict[str, Any], order: dict[str, Any], statuses: list[int]
    ) -> pms.Booking:
        assoc = {**doc, **(doc.get("associations") or {})}
        currency = m.as_str(doc.get("currency")).upper()
        room_types = assoc.get("room_types") or []
        if isinstance(room_types, dict):
            room_types = room_types.get("room_type") or [room_types]
            room_types = room_types if isinstance(room_types, list) else [room_types]
        first = room_types[0] if room_types else {}
        rooms = first.get("rooms") or []
        if isinstance(rooms, dict):
            rooms = rooms.get("room") or [rooms]
            rooms = rooms if isinstance(rooms, list) else [rooms]
        customer = assoc.get("customer_detail") or {}
        prices = assoc.get("price_details") or {}
        total_ex = m.as_float(prices.get("total_price_without_tax"))
        tax = m.as_float(prices.get("total_tax"))
        source = m.as_str(doc.get("source"))
        booking = pms.Booking(
            booking_id=str(doc.get("id")),
            reference=m.as_str(order.get("reference")),
            hotel_id=str(doc.get("id_property")),
            room_type_id=str(first.get("id_room_type", "")),
            room_type_name=m.as_str(first.get("name")),
            adults=sum(m.as_int(r.get("adults", r.get("adult"))) for r in rooms),
            children=sum(m.as_int(r.get("child", r.get("children"))) for r in rooms),
            guest=pms.GuestDetails(
                first_name=m.as_str(customer.get("firstname")),
                last_name=m.as_str(customer.get("lastname")),
                email=m.as_str(customer.get("email")),
                phone=m.as_str(customer.get("phone")),
            ),
            status=m.booking_status(m.as_int(order.get("current_state")), statuses),
            idempotency_key=source[len(SOURCE_PREFIX) :]
            if source.startswith(SOURCE_PREFIX)
            else "",
        )
        ci, co = (
            m.parse_qlo_date(first.get("checkin_date")),
            m.parse_qlo_date(first.get("checkout_date")),
        )
        if ci:
            booking.check_in.CopyFrom(m.to_date_msg(ci))
        if co:
            booking.check_out.CopyFrom(m.to_date_msg(co))
        if currency:
            booking.total_tax_excluded.CopyFrom(money(total_ex, currency))
            booking.total_tax_included.CopyFrom(
                minor_money(to_minor(total_ex, currency) + to_minor(tax, currency), currency)
            )
        created = m.parse_timestamp(doc.get("booking_date") or order.get("date_add"))
        if created:
            booking.created_at.CopyFrom(created)
        return booking

    async def get_booking(self, req: pms.GetBookingRequest) -> pms.GetBookingResponse:
        v = Violations()
        booking_id = v.id("booking_id", req.booking_id)
        code = v.language("language", req.language)
        v.raise_if_any()
        lang = await self._booking_lang(code)
        booking = await pms_call(
            self._booking_msg(booking_id, lang_id=lang), f"booking {booking_id} not found"
        )
        return pms.GetBookingResponse(booking=booking)

    async def find_bookings(self, req: pms.FindBookingsRequest) -> pms.FindBookingsResponse:
        v = Violations()
        reference = req.reference.strip()
        email = req.email.strip().lower()
        phone = m.digits(req.phone)
        hotel_id = v.id("hotel_id", req.hotel_id, required=False)
        code = v.language("language", req.language)
        if not (reference or email or phone):
            v.add("reference", "give at least one of reference, email, phone")
        if reference and not REFERENCE_RE.match(reference):
            v.add("reference", "letters, digits and '-' only")
        if email and not EMAIL_RE.match(email):
            v.add("email", "is not an e-mail address")
        if req.phone.strip() and not 7 <= len(phone) <= 15:
            v.add("phone", "must have 7 to 15 digits")
        v.raise_if_any()
        lang = await self._booking_lang(code)
        ids = await pms_call(self._find_ids(reference, email, phone))
        bookings: list[pms.Booking] = []
        sem = asyncio.Semaphore(5)

        async def load(bid: str) -> pms.Booking | None:
            async with sem:
                try:
                    return await self._booking_msg(bid, lang_id=lang)
                except QloNotFound:
                    return None

        for b in await pms_call(asyncio.gather(*(load(i) for i in ids[: self.opt.find_limit]))):
            if b is None or (hotel_id and b.hotel_id != hotel_id):
                continue
            if reference and (email or phone):
                # Reference plus contact: the contact must match (a guest proving it is theirs).
                ok = (email and b.guest.email.lower() == email) or (
                    phone and m.phones_match(b.guest.phone, phone)
                )
                if not ok:
                    continue
            bookings.append(b)
        return pms.FindBookingsResponse(bookings=bookings)

    async def _find_ids(self, reference: str, email: str, phone: str) -> list[str]:
        ids: set[str] = set()
        if reference:
            if reference.isdigit():
                ids.add(str(int(reference)))
            rows = await self.client.get_list(
                "orders",
                "orders",
                {"filter[reference]": f"[{reference.upper()}]", "display": "[id,reference]"},
            )
            ids.update(str(r.get("id")) for r in rows)
            return sorted(ids, key=int, reverse=True)
        customers: set[str] = set()
        if email:
            rows = await self.client.get_list(
                "customers", "customers", {"filter[email]": f"[{email}]", "display": "[id,email]"}
            )
            customers.update(
                str(r.get("id")) for r in rows if m.as_str(r.get("email")).lower() == email
            )
        if phone:
            tail = phone[-8:]
            try:
                # Suffix match (formats differ: "+34 600…", "600…"), then an exact digit check.
                rows = await self.client.get_list(
                    "customers",
                    "customers",
                    {"filter[phone]": f"%[{tail}]", "display": "[id,phone]"},
                )
            except QloBadRequest as exc:
                # A shop whose customers.phone is not filterable: search by e-mail/reference only.
                log.warning("phone_search_unsupported", error=str(exc))
                rows = []
            customers.update(
                str(r.get("id")) for r in rows if m.phones_match(m.as_str(r.get("phone")), phone)
            )
        if not customers:
            return []
        rows = await self.client.get_list(
            "orders",
            "orders",
            {
                "filter[id_customer]": "[" + "|".join(sorted(customers)) + "]",
                "display": "[id]",
                "sort": "[id_DESC]",
                "limit": str(self.opt.find_limit),
            },
        )
        return [str(r.get("id")) for r in rows]

    # ===================================================================== idempotency

    def _idem_key(self, key: str) -> str:
        return f"pms:idem:{key}"

    async def _lookup_key(self, key: str) -> str | None:
        """The order created with this idempotency key, if any (Redis first, then QloApps)."""
        try:
            cached = await self.redis.get(self._idem_key(key))
        except (RedisError, OSError):
            cached = None
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        source = SOURCE_PREFIX + key
        rows = await self.client.get_list(
            "orders", "orders", {"filter[source]": f"[{source}]", "display": "[id,source]"}
        )
        matches = sorted(m.as_int(r.get("id")) for r in rows if m.as_str(r.get("source")) == source)
        if len(matches) > 1:
            log.error("idempotency_key_has_several_orders", orders=matches)
        if matches:
            await self._remember_key(key, str(matches[0]))
            return str(matches[0])
        return None

    async def _remember_key(self, key: str, booking_id: str) -> None:
        try:
            await self.redis.set(
                self._idem_key(key), booking_id, ex=self.opt.idempotency_ttl_seconds
            )
        except (RedisError, OSError) as exc:
            log.warning("idempotency_cache_failed", error=str(exc))

    async def _lookup_after_unknown_outcome(self, key: str) -> str | None:
        """After a lost answer: look the key up a few times (the PMS may still be committing)."""
        for attempt in range(self.opt.lookup_attempts):
            try:
                found = await self._lookup_key(key)
            except QloAppsError:
                found = None
            if found:
                return found
            if attempt + 1 == self.opt.lookup_attempts:
                break
            pause = random.uniform(0.05, 0.2) * (2**attempt)
            deadline = CALL_DEADLINE.get()
            if deadline is not None and time.monotonic() + pause + DEADLINE_MARGIN > deadline:
                break  # answer UNAVAILABLE in time rather than be cut off by the deadline
            await asyncio.sleep(pause)
        return None

    async def _replay(
        self,
        key: str,
        booking_id: str,
        hotel_id: str,
        room_type_id: str,
        ci: date,
        co: date,
        lang_id: int | None = None,
    ) -> pms.CreateBookingResponse:
        try:
            booking = await self._booking_msg(booking_id, lang_id=lang_id)
        except QloNotFound:
            raise Unavailable(
                "the booking of this idempotency key is not readable yet; retry"
            ) from None
        except QloAppsError as exc:
            raise _unavailable(exc) from exc
        same = (
            booking.hotel_id == hotel_id
            and booking.room_type_id == room_type_id
            and (booking.check_in.year, booking.check_in.month, booking.check_in.day)
            == (ci.year, ci.month, ci.day)
            and (booking.check_out.year, booking.check_out.month, booking.check_out.day)
            == (co.year, co.month, co.day)
        )
        # A modified booking keeps its key but not its original stay: only flag a mismatch
        # for a booking that is still the one created (same hotel at least).
        if booking.hotel_id != hotel_id:
            raise InvalidArgument(
                "idempotency_key was already used for a different booking",
                field_violations={"idempotency_key": "already used for a different booking"},
            )
        if not same:
            log.info("idempotency_replay_of_modified_booking", booking_id=booking_id)
        BOOKINGS.labels("create", "replayed").inc()
        return pms.CreateBookingResponse(booking=booking, replayed=True)

    # ===================================================================== bookings: writes

    def _validate_create(
        self, req: pms.CreateBookingRequest
    ) -> tuple[str, str, str, date, date, str]:
        v = Violations()
        code = v.language("language", req.language)
        key = req.idempotency_key.strip()
        if not key:
            v.add("idempotency_key", "is required")
        elif not IDEMPOTENCY_KEY_RE.match(key):
            v.add("idempotency_key", "8-128 characters: letters, digits, '.', '_', ':' or '-'")
        hotel_id = v.id("hotel_id", req.hotel_id)
        room_type_id = v.id("room_type_id", req.room_type_id)
        check_in = v.date("check_in", req.check_in if req.HasField("check_in") else None)
        check_out = v.date("check_out", req.check_out if req.HasField("check_out") else None)
        v.stay(
            check_in,
            check_out,
            max_nights=self.opt.max_stay_nights,
            max_advance_days=self.opt.max_advance_days,
        )
        v.guests(req.adults, req.children)
        g = req.guest
        if not NAME_RE.match(g.first_name.strip()):
            v.add("guest.first_name", "is required (letters only, at most 60)")
        if not NAME_RE.match(g.last_name.strip()):
            v.add("guest.last_name", "is required (letters only, at most 60)")
        if not EMAIL_RE.match(g.email.strip()):
            v.add("guest.email", "is not an e-mail address")
        if not 7 <= len(m.digits(g.phone)) <= 15:
            v.add("guest.phone", "must have 7 to 15 digits")
        if req.HasField("expected_total_tax_included"):
            exp = req.expected_total_tax_included
            if len(exp.currency_code) != 3 or exp.amount_minor < 0:
                v.add(
                    "expected_total_tax_included", "needs an ISO currency and a non-negative amount"
                )
        v.raise_if_any()
        assert check_in and check_out
        return key, hotel_id, room_type_id, check_in, check_out, code

    async def create_booking(self, req: pms.CreateBookingRequest) -> pms.CreateBookingResponse:
        key, hotel_id, room_type_id, check_in, check_out, code = self._validate_create(req)
        lang = await self._booking_lang(code)
        existing = await pms_call(self._lookup_key(key))
        if existing:
            return await self._replay(
                key, existing, hotel_id, room_type_id, check_in, check_out, lang
            )
        hotel = await self._hotel(hotel_id)
        rts = await self._room_types(hotel_id)
        rt = rts.get(room_type_id)
        if rt is None:
            raise NotFound(
                f"room type {room_type_id} not found in hotel {hotel_id}",
                metadata={"room_type_id": room_type_id},
            )
        if not self._fits(rt, req.adults, req.children):
            raise FailedPrecondition(
                f"{rt['name']} takes at most {rt['max_adults']} adults, {rt['max_children']} children, "
                f"{rt['max_guests']} guests",
                reason="OVER_CAPACITY",
            )
        try:
            async with self.locks.hold(hotel_id, room_type_id, check_in, check_out):
                # Someone with the same key may have finished while we waited for the lock.
                existing = await pms_call(self._lookup_key(key))
                if existing:
                    return await self._replay(
                        key, existing, hotel_id, room_type_id, check_in, check_out, lang
                    )
                offers, currency = await self._offers(
                    hotel,
                    check_in,
                    check_out,
                    req.adults,
                    req.children,
                    room_type_id=room_type_id,
                    fresh=True,
                )
                if not offers:
                    BOOKINGS.labels("create", "sold_out").inc()
                    raise FailedPrecondition(
                        f"{rt['name']} is no longer available for these dates", reason="SOLD_OUT"
                    )
                offer = offers[0]
                if req.HasField("expected_total_tax_included"):
                    exp = req.expected_total_tax_included
                    got = offer.total_tax_included
                    if (
                        exp.currency_code.upper() != got.currency_code
                        or exp.amount_minor != got.amount_minor
                    ):
                        BOOKINGS.labels("create", "price_changed").inc()
                        raise FailedPrecondition(
                            "the price changed since the quote",
                            reason="PRICE_CHANGED",
                            metadata={
                                "currency": got.currency_code,
                                "amount_minor": str(got.amount_minor),
                            },
                        )
                booking_id = await self._post_booking(
                    req, key, hotel_id, rt, currency, check_in, check_out
                )
        except LockBusy as exc:
            BOOKINGS.labels("create", "lock_busy").inc()
            raise Unavailable(
                "these nights are being booked right now; retry shortly", reason="BOOKING_BUSY"
            ) from exc
        except LockUnavailable as exc:
            raise Unavailable(
                "cannot take the booking lock (Redis unavailable)", reason="LOCK_UNAVAILABLE"
            ) from exc
        await self._remember_key(key, booking_id)
        await self.cache.invalidate_availability(hotel_id)
        BOOKINGS.labels("create", "created").inc()
        log.info(
            "booking_created", booking_id=booking_id, hotel_id=hotel_id, room_type_id=room_type_id
        )
        booking = await pms_call(self._booking_msg(booking_id, lang_id=lang))
        return pms.CreateBookingResponse(booking=booking, replayed=False)

    async def _post_booking(
        self,
        req: pms.CreateBookingRequest,
        key: str,
        hotel_id: str,
        rt: dict[str, Any],
        currency: str,
        check_in: date,
        check_out: date,
    ) -> str:
        g = req.guest
        document = {
            "booking": {
                "id_property": int(hotel_id),
                "currency": currency,
                "booking_status": 1,
                "payment_status": 3,
                "source": SOURCE_PREFIX + key,
                "associations": {
                    "customer_detail": {
                        "firstname": g.first_name.strip(),
                        "lastname": g.last_name.strip(),
                        "email": g.email.strip().lower(),
                        "phone": g.phone.strip(),
                    },
                    "payment_detail": {
                        "payment_type": "pay at hotel",
                        "payment_method": "Pay at hotel",
                    },
                    "room_types": [
                        {
                            "id_room_type": int(rt["room_type_id"]),
                            "checkin_date": check_in.isoformat(),
                            "checkout_date": check_out.isoformat(),
                            "number_of_rooms": 1,
                            # `adult` is what create reads, `adults` what the schema says (doc
                            # §7.3); the tax group avoids the PHP-notice 500 of doc §7.4.
                            "rooms": [
                                {
                                    "adult": req.adults,
                                    "adults": req.adults,
                                    "child": req.children,
                                    "child_ages": [8] * req.children,
                                    "id_tax_rules_group": rt["id_tax_rules_group"],
                                }
                            ],
                        }
                    ],
                },
            }
        }
        try:
            body = await self.client.post_json("bookings", document)
        except QloBadRequest as exc:
            raise self._booking_refusal(exc) from exc
        except (QloUnavailable, QloAuthError) as exc:
            if isinstance(exc, QloUnavailable) and exc.maybe_applied:
                found = await self._lookup_after_unknown_outcome(key)
                if found:
                    BOOKINGS.labels("create", "recovered").inc()
                    log.warning("booking_recovered_after_lost_answer", booking_id=found)
                    return found
                BOOKINGS.labels("create", "unknown_outcome").inc()
                raise Unavailable(
                    "the PMS did not confirm the booking; retry with the same idempotency key",
                    reason="OUTCOME_UNKNOWN",
                ) from exc
            raise _unavailable(exc) from exc
        booking = (body or {}).get("booking") if isinstance(body, dict) else None
        if not isinstance(booking, dict) or not booking.get("id"):
            found = await self._lookup_after_unknown_outcome(key)
            if found:
                return found
            raise Unavailable("the PMS answered without a booking id", reason="OUTCOME_UNKNOWN")
        return str(booking["id"])

    @staticmethod
    def _booking_refusal(exc: QloBadRequest) -> ServiceError:
        text = " ".join(exc.messages).lower()
        if "not available" in text:
            BOOKINGS.labels("create", "sold_out").inc()
            return FailedPrecondition(
                "the room is no longer available for these dates", reason="SOLD_OUT"
            )
        fields = {
            "first name": "guest.first_name",
            "last name": "guest.last_name",
            "email": "guest.email",
            "phone": "guest.phone",
        }
        for word, fld in fields.items():
            if word in text:
                return InvalidArgument(
                    f"the PMS refused {fld}", field_violations={fld: "; ".join(exc.messages)}
                )
        return FailedPrecondition(
            f"the PMS refused the booking: {'; '.join(exc.messages)}", reason="PMS_REJECTED"
        )

    async def cancel_booking(self, req: pms.CancelBookingRequest) -> pms.CancelBookingResponse:
        v = Violations()
        booking_id = v.id("booking_id", req.booking_id)
        if len(req.reason) > 500:
            v.add("reason", "at most 500 characters")
        code = v.language("language", req.language)
        v.raise_if_any()
        lang = await self._booking_lang(code)
        booking = await pms_call(
            self._booking_msg(booking_id, lang_id=lang), f"booking {booking_id} not found"
        )
        if booking.status in (pms.BOOKING_STATUS_CANCELLED, pms.BOOKING_STATUS_REFUNDED):
            return pms.CancelBookingResponse(
                booking=booking
            )  # already done: cancelling is idempotent
        if booking.status in (pms.BOOKING_STATUS_CHECKED_IN, pms.BOOKING_STATUS_CHECKED_OUT):
            raise FailedPrecondition(
                "the guest has already checked in; the front desk must handle it",
                reason="CHECKED_IN",
            )
        try:
            await self.client.post_xml(
                "order_histories",
                "order_history",
                {"id_order": booking_id, "id_order_state": m.ORDER_STATE_CANCELED},
            )
        except QloBadRequest as exc:
            raise FailedPrecondition(
                f"the PMS refused the cancellation: {'; '.join(exc.messages)}"
            ) from exc
        except (QloUnavailable, QloAuthError) as exc:
            if not (isinstance(exc, QloUnavailable) and exc.maybe_applied):
                raise _unavailable(exc) from exc
            # Outcome unknown: read the order back rather than posting the state twice.
            try:
                again = await self._booking_msg(booking_id)
            except QloAppsError:
                raise _unavailable(exc) from exc
            if again.status != pms.BOOKING_STATUS_CANCELLED:
                raise _unavailable(exc) from exc
        await self.cache.invalidate_availability(booking.hotel_id)
        BOOKINGS.labels("cancel", "cancelled").inc()
        log.info("booking_cancelled", booking_id=booking_id, reason=req.reason[:100])
        return pms.CancelBookingResponse(
            booking=await pms_call(self._booking_msg(booking_id, lang_id=lang))
        )

    async def modify_booking(self, req: pms.ModifyBookingRequest) -> pms.ModifyBookingResponse:
        v = Violations()
        booking_id = v.id("booking_id", req.booking_id)
        new_in = v.date(
            "check_in", req.check_in if req.HasField("check_in") else None, required=False
        )
        new_out = v.date(
            "check_out", req.check_out if req.HasField("check_out") else None, required=False
        )
        new_rt = v.id("room_type_id", req.room_type_id, required=False)
        # proto3 `optional`: presence tells "keep" (unset) from a value, so children=0 removes them.
        new_adults = req.adults if req.HasField("adults") else None
        new_children = req.children if req.HasField("children") else None
        if new_adults is not None and new_adults < 1:
            v.add("adults", "must be at least 1 (leave it unset to keep the current value)")
        if new_children is not None and new_children < 0:
            v.add("children", "must not be negative")
        code = v.language("language", req.language)
        if not (new_in or new_out or new_rt or new_adults is not None or new_children is not None):
            v.add("booking_id", "nothing to change: give dates, room type or guests")
        v.raise_if_any()
        lang = await self._booking_lang(code)

        doc = await pms_call(
            self.client.get_one(f"bookings/{booking_id}", "booking"),
            f"booking {booking_id} not found",
        )
        current = await pms_call(self._booking_msg(booking_id, raw=doc))
        if current.status in (pms.BOOKING_STATUS_CANCELLED, pms.BOOKING_STATUS_REFUNDED):
            raise FailedPrecondition("the booking is cancelled", reason="CANCELLED")
        if current.status in (pms.BOOKING_STATUS_CHECKED_IN, pms.BOOKING_STATUS_CHECKED_OUT):
            raise FailedPrecondition("the guest has already checked in", reason="CHECKED_IN")
        old_in = date(current.check_in.year, current.check_in.month, current.check_in.day)
        old_out = date(current.check_out.year, current.check_out.month, current.check_out.day)
        check_in, check_out = new_in or old_in, new_out or old_out
        room_type_id = new_rt or current.room_type_id
        adults = current.adults if new_adults is None else new_adults
        children = current.children if new_children is None else new_children
        v2 = Violations()
        if new_in or new_out:
            v2.stay(
                check_in,
                check_out,
                max_nights=self.opt.max_stay_nights,
                max_advance_days=self.opt.max_advance_days,
            )
        v2.guests(adults, children)
        v2.raise_if_any()

        hotel = await self._hotel(current.hotel_id)
        rts = await self._room_types(current.hotel_id)
        rt = rts.get(room_type_id)
        if rt is None:
            raise NotFound(f"room type {room_type_id} not found in hotel {current.hotel_id}")
        if not self._fits(rt, adults, children):
            raise FailedPrecondition(
                f"{rt['name']} does not fit {adults} adults and {children} children",
                reason="OVER_CAPACITY",
            )
        same_stay = room_type_id == current.room_type_id and (check_in, check_out) == (
            old_in,
            old_out,
        )
        overlaps_own = (
            room_type_id == current.room_type_id and check_in < old_out and old_in < check_out
        )
        try:
            async with self.locks.hold(current.hotel_id, room_type_id, check_in, check_out):
                if not overlaps_own:
                    offers, _ = await self._offers(
                        hotel,
                        check_in,
                        check_out,
                        adults,
                        children,
                        room_type_id=room_type_id,
                        fresh=True,
                    )
                    if not offers:
                        raise FailedPrecondition(
                            f"{rt['name']} is not available for these dates", reason="SOLD_OUT"
                        )
                # Overlapping our own stay the booking itself holds a room, so only QloApps (which
                # re-checks on PUT) can tell; its refusal maps to FAILED_PRECONDITION below.
                document = self._modified_document(
                    doc, rt, check_in, check_out, adults, children, same_stay
                )
                try:
                    await self.client.put_json(f"bookings/{booking_id}", document)
                except QloBadRequest as exc:
                    text = " ".join(exc.messages).lower()
                    reason = "SOLD_OUT" if "not available" in text else "PMS_REJECTED"
                    raise FailedPrecondition(
                        f"the PMS refused the change: {'; '.join(exc.messages)}", reason=reason
                    ) from exc
                except (QloUnavailable, QloAuthError) as exc:
                    if not (isinstance(exc, QloUnavailable) and exc.maybe_applied):
                        raise _unavailable(exc) from exc
                    again = await pms_call(self._booking_msg(booking_id))
                    if not (
                        again.room_type_id == room_type_id
                        and again.check_in == m.to_date_msg(check_in)
                        and again.check_out == m.to_date_msg(check_out)
                    ):
                        raise _unavailable(exc) from exc
        except LockBusy as exc:
            raise Unavailable(
                "these nights are being booked right now; retry shortly", reason="BOOKING_BUSY"
            ) from exc
        except LockUnavailable as exc:
            raise Unavailable(
                "cannot take the booking lock (Redis unavailable)", reason="LOCK_UNAVAILABLE"
            ) from exc
        await self.cache.invalidate_availability(current.hotel_id)
        BOOKINGS.labels("modify", "modified").inc()
        return pms.ModifyBookingResponse(
            booking=await pms_call(self._booking_msg(booking_id, lang_id=lang))
        )

    @staticmethod
    def _modified_document(
        doc: dict[str, Any],
        rt: dict[str, Any],
        check_in: date,
        check_out: date,
        adults: int,
        children: int,
        same_stay: bool,
    ) -> dict[str, Any]:
        """The full booking with its first stay replaced: QloApps' PUT replaces the room list,
        so everything we do not mean to change is sent back exactly as read."""
        assoc = {**(doc.get("associations") or {})}
        room_types = assoc.get("room_types") or []
        if isinstance(room_types, dict):
            room_types = room_types.get("room_type") or [room_types]
            room_types = room_types if isinstance(room_types, list) else [room_types]
        first = room_types[0] if room_types else {}
        old_rooms = first.get("rooms") or []
        if isinstance(old_rooms, dict):  # XML-style wrapper {"room": [...]} or a single room
            old_rooms = old_rooms.get("room") or [old_rooms]
            old_rooms = old_rooms if isinstance(old_rooms, list) else [old_rooms]
        count = max(1, m.as_int(first.get("number_of_rooms"), 1))
        rooms = []
        for i in range(count):
            old = old_rooms[i] if i < len(old_rooms) else {}
            a = adults if i == 0 else m.as_int(old.get("adults", old.get("adult")), 1)
            c = children if i == 0 else m.as_int(old.get("child"))
            room = {
                "adult": a,
                "adults": a,
                "child": c,
                "child_ages": [8] * c,
                "id_tax_rules_group": rt["id_tax_rules_group"],
            }
            if same_stay and old.get("id_room"):
                room["id_room"] = m.as_int(old["id_room"])
                if old.get("unit_price_without_tax") not in (None, ""):
                    room["unit_price_without_tax"] = old["unit_price_without_tax"]
            rooms.append(room)
        new_first = {
            "id_room_type": int(rt["room_type_id"]),
            "checkin_date": check_in.isoformat(),
            "checkout_date": check_out.isoformat(),
            "number_of_rooms": count,
            "rooms": rooms,
        }
        others = [
            {
                "id_room_type": m.as_int(r.get("id_room_type")),
                "checkin_date": m.as_str(r.get("checkin_date"))[:10],
                "checkout_date": m.as_str(r.get("checkout_date"))[:10],
                "number_of_rooms": m.as_int(r.get("number_of_rooms"), 1),
                "rooms": [
                    {
                        k: v
                        for k, v in room.items()
                        if k in ("id_room", "adults", "child", "unit_price_without_tax")
                    }
                    # Untouched stays: echo their tax as read (total_tax keeps it exactly).
                    | {"adult": room.get("adults", 1), "total_tax": room.get("total_tax", 0)}
                    for room in (r.get("rooms") or [])
                ],
            }
            for r in room_types[1:]
        ]
        customer = dict(assoc.get("customer_detail") or doc.get("customer_detail") or {})
        booking: dict[str, Any] = {
            "id": m.as_int(doc.get("id")),
            "id_property": m.as_int(doc.get("id_property")),
            "currency": m.as_str(doc.get("currency")),
            "source": m.as_str(doc.get("source")),
            "id_language": m.as_int(doc.get("id_language"), 1),
            "associations": {
                "customer_detail": customer,
                "room_types": [new_first, *others],
            },
        }
        rules = assoc.get("cart_rules") or []
        if rules:
            booking["associations"]["cart_rules"] = [
                {"code": r.get("code")} for r in rules if isinstance(r, dict)
            ]
        return {"booking": booking}
