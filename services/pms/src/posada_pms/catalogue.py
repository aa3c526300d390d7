"""Hotel facts from QloApps: languages, hotels, room types (with capacity and amenities).

Everything here is static data, read through the long-lived cache (`PmsCache.static`) and kept
as plain `Hotel`/`RoomType` values. Each cached answer is also indexed by id in-process (the
index is rebuilt only when the cache hands out a new answer), so finding a hotel costs a dict
lookup, not a scan and a conversion. Every i18n read names its language and every cache key of
i18n data carries it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from posada_common.logging import get_logger

from posada_pms import mapping as qlo
from posada_pms.cache import PmsCache
from posada_pms.errors import hotel_not_found, pms_call
from posada_pms.metrics import LANGUAGE_FALLBACKS
from posada_pms.model import Address, CoreOptions, Hotel, RoomType
from posada_pms.qloapps import QloAppsClient, QloAppsError, QloBadRequest, QloNotFound

log = get_logger(__name__)


class _Index:
    """Values built from one cached answer, rebuilt when the cache hands out another one."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[object, Any]] = {}

    def get(self, key: str, raw: object, build: Any) -> Any:
        held = self._built.get(key)
        if held is not None and held[0] is raw:
            return held[1]
        value = build(raw)
        self._built[key] = (raw, value)
        return value


class Catalogue:
    def __init__(self, client: QloAppsClient, cache: PmsCache, options: CoreOptions) -> None:
        self.client = client
        self.cache = cache
        self.options = options
        # The shop language i18n fields are read in when the caller names none (PMS_LANGUAGE_ID).
        self.default_language_id = client.language_id
        self._index = _Index()

    # --- languages ---------------------------------------------------------------------------

    async def _shop_languages(self) -> dict[str, int]:
        """ISO 639-1 code → shop language id, active languages only
        (docs/external-apis/qloapps.md#catalogue)."""

        async def load() -> dict[str, int]:
            rows = await self.client.get_list(
                "languages", "languages", {"display": "[id,iso_code,active]"}
            )
            out: dict[str, int] = {}
            for row in rows:
                iso = qlo.as_str(row.get("iso_code")).strip().lower()
                lang_id = qlo.as_int(row.get("id"))
                # `active` is "1"/"0" on 1.6.x; a missing column counts as active.
                if iso and lang_id > 0 and qlo.as_int(row.get("active"), 1) == 1:
                    out.setdefault(iso, lang_id)
            return out

        return await self.cache.static("languages", load)

    async def language_id(self, code: str) -> int:
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

    async def booking_language_id(self, code: str) -> int | None:
        """Language for booking reads: None (the name stored with the booking) when none asked."""
        return await self.language_id(code) if code else None

    def _lang(self, lang_id: int | None) -> int:
        return self.default_language_id if lang_id is None else lang_id

    # --- features and rules (names only, mapped onto our catalogues) --------------------------

    async def _names(self, resource: str, lang: int, *, optional: bool) -> dict[str, str]:
        async def load() -> dict[str, str]:
            try:
                rows = await self.client.get_list(
                    resource, resource, {"display": "full", "language": str(lang)}
                )
            except QloBadRequest:
                if not optional:
                    raise
                return {}
            return {str(row.get("id")): qlo.as_str(row.get("name")) for row in rows}

        return await self.cache.static(f"{resource}:{lang}", load)

    async def _worded_features(self, lang: int) -> dict[str, str]:
        """Hotel feature names as the hotel words them, in `lang`, qualified by their group
        ("Paid parking nearby (Facilities)"): the guest is told what the data says, no more."""

        async def load() -> dict[str, str]:
            rows = await self.client.get_list(
                "hotel_features", "hotel_features", {"display": "full", "language": str(lang)}
            )
            names = {str(row.get("id")): qlo.as_str(row.get("name")) for row in rows}
            out = {}
            for row in rows:
                ident = str(row.get("id"))
                parent = names.get(str(row.get("parent_feature_id") or ""))
                out[ident] = f"{names[ident]} ({parent})" if parent else names[ident]
            return out

        return await self.cache.static(f"hotel_features_worded:{lang}", load)

    async def _refund_rules(self, lang: int) -> dict[str, str]:
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
            for row in rows:
                name = qlo.as_str(row.get("name"))
                text = qlo.strip_html(qlo.as_str(row.get("description")))
                out[str(row.get("id"))] = f"{name}: {text}" if name and text else (name or text)
            return out

        return await self.cache.static(f"hotel_refund_rules:{lang}", load)

    async def _field_of(self, resource: str, singular: str, ident: str, field: str) -> str:
        if not ident or ident == "0":
            return ""
        try:
            obj = await self.client.get_one(f"{resource}/{ident}", singular)
        except QloNotFound:
            return ""
        return qlo.as_str(obj.get(field))

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

    # --- hotels ------------------------------------------------------------------------------

    async def _load_hotel(self, raw: dict[str, Any], lang: int) -> Hotel:
        hotel_id = str(raw.get("id"))
        # Features are only mapped onto the language-independent amenity catalogue.
        features, worded, refunds = await asyncio.gather(
            self._names("hotel_features", self.default_language_id, optional=False),
            self._worded_features(lang),
            self._refund_rules(lang),
        )
        country, state, currency = await asyncio.gather(
            self._field_of("countries", "country", str(raw.get("id_country") or ""), "iso_code"),
            self._field_of("states", "state", str(raw.get("id_state") or ""), "name"),
            self._currency_of(hotel_id),
        )
        zones = self.options.hotel_time_zones or {}
        check_in, check_out = qlo.as_str(raw.get("check_in")), qlo.as_str(raw.get("check_out"))
        return Hotel(
            hotel_id=hotel_id,
            name=qlo.as_str(raw.get("hotel_name")),
            address=Address(
                line1=qlo.as_str(raw.get("address")),
                city=qlo.as_str(raw.get("city")),
                state=state,
                postcode=qlo.as_str(raw.get("zipcode")),
                country_code=country.upper(),
            ),
            latitude=qlo.as_float(raw.get("latitude")),
            longitude=qlo.as_float(raw.get("longitude")),
            phone=qlo.as_str(raw.get("phone")),
            email=qlo.as_str(raw.get("email")),
            check_in_time=check_in,
            check_out_time=check_out,
            time_zone=zones.get(hotel_id)
            or qlo.COUNTRY_TIME_ZONES.get(country.upper(), self.options.default_time_zone),
            currency_code=currency,
            policies=tuple(
                qlo.policies(
                    qlo.as_str(raw.get("policies")),
                    check_in,
                    check_out,
                    [refunds.get(i, "") for i in qlo.assoc_ids(raw, "hotel_refund_rules")],
                )
            ),
            amenities=tuple(
                qlo.amenity_values(
                    [features.get(i, "") for i in qlo.assoc_ids(raw, "hotel_features")]
                )
            ),
            features=tuple(
                name for i in qlo.assoc_ids(raw, "hotel_features") if (name := worded.get(i, ""))
            ),
            description=qlo.strip_html(
                qlo.as_str(raw.get("short_description")) or qlo.as_str(raw.get("description"))
            ),
            long_description=qlo.strip_html(qlo.as_str(raw.get("description"))),
            rating=qlo.as_int(raw.get("rating")),
        )

    async def hotels(self, lang_id: int | None = None) -> dict[str, Hotel]:
        """Active hotels by id, texts in the given language."""
        lang = self._lang(lang_id)

        async def load() -> list[dict[str, Any]]:
            rows = await self.client.get_list(
                "hotels",
                "hotels",
                {"display": "full", "filter[active]": "1", "language": str(lang)},
            )
            loaded = await asyncio.gather(*(self._load_hotel(row, lang) for row in rows))
            return [hotel.to_json() for hotel in loaded]

        cached = await pms_call(self.cache.static(f"hotels:{lang}", load))
        return self._index.get(  # type: ignore[no-any-return]
            f"hotels:{lang}",
            cached,
            lambda rows: {row["hotel_id"]: Hotel.from_json(row) for row in rows},
        )

    async def hotel(self, hotel_id: str, lang_id: int | None = None) -> Hotel:
        hotel = (await self.hotels(lang_id)).get(hotel_id)
        if hotel is None:
            raise hotel_not_found(hotel_id)
        return hotel

    # --- room types --------------------------------------------------------------------------

    async def room_types(self, hotel_id: str, lang_id: int | None = None) -> dict[str, RoomType]:
        """Room types of a hotel by product id, each with its capacity and tax group.

        Names and descriptions are in `lang_id`; the category is always derived from the
        default-language name, so filtering by category does not depend on the language.
        """
        lang = self._lang(lang_id)

        async def load() -> dict[str, dict[str, Any]]:
            base: dict[str, RoomType] = {}
            if lang != self.default_language_id:
                base = await self.room_types(hotel_id, self.default_language_id)
            return {
                pid: room_type.to_json()
                for pid, room_type in (await self._load_room_types(hotel_id, lang, base)).items()
            }

        key = f"room_types:{hotel_id}:{lang}"
        cached = await pms_call(self.cache.static(key, load))
        return self._index.get(  # type: ignore[no-any-return]
            key, cached, lambda rows: {pid: RoomType.from_json(row) for pid, row in rows.items()}
        )

    async def _load_room_types(
        self, hotel_id: str, lang: int, base: dict[str, RoomType]
    ) -> dict[str, RoomType]:
        # Room types are products joined to hotel_room_types (capacity) on the product id
        # (docs/external-apis/qloapps.md#catalogue).
        links, products, feature_names = await asyncio.gather(
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
            self._names("room_type_features", self.default_language_id, optional=True),
        )
        by_id = {str(product.get("id")): product for product in products}
        fields: dict[str, dict[str, Any]] = {}
        for link in links:
            pid = str(link.get("id_product"))
            product = by_id.get(pid)
            if product is None:
                continue  # inactive room type
            name = qlo.as_str(product.get("name"))
            default = base.get(pid)
            fields[pid] = {
                "room_type_id": pid,
                "name": name,
                "category": default.category
                if default and default.category
                else qlo.room_category(
                    name, qlo.as_int(link.get("max_adults")), qlo.as_int(link.get("max_guests"))
                ),
                "description": qlo.strip_html(qlo.as_str(product.get("description_short"))),
                "price": qlo.as_str(product.get("price")),
                "id_tax_rules_group": qlo.as_int(product.get("id_tax_rules_group")),
                "max_adults": qlo.as_int(link.get("max_adults")),
                "max_children": qlo.as_int(link.get("max_children")),
                "max_guests": qlo.as_int(link.get("max_guests")),
            }
        # The display list above leaves associations out; amenities come from full objects.
        details = await asyncio.gather(
            *(self.client.get_one(f"room_types/{pid}", "room_type") for pid in fields),
            return_exceptions=True,
        )
        out: dict[str, RoomType] = {}
        for pid, detail in zip(list(fields), details, strict=True):
            amenities: tuple[str, ...] = ()
            if isinstance(detail, dict):
                names = [
                    feature_names.get(i, "") for i in qlo.assoc_ids(detail, "room_type_features")
                ]
                amenities = tuple(qlo.amenity_values(names))
            out[pid] = RoomType(**fields[pid], amenities=amenities)
        return out
