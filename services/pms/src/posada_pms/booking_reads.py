"""Reading bookings from QloApps: one by id, or found by reference, e-mail or phone.

A booking is assembled from three reads (the `bookings` document, its `orders` row for the
reference and state, and its `room_bookings` rows for check-in status) into a plain `Booking`.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from posada_common.errors import ServiceError
from posada_common.logging import get_logger

from posada_pms import mapping as qlo
from posada_pms.catalogue import Catalogue
from posada_pms.errors import pms_call
from posada_pms.model import Booking, BookingSearch, CoreOptions, Guest, Money
from posada_pms.money import to_minor
from posada_pms.qloapps import QloAppsClient, QloBadRequest, QloNotFound

log = get_logger(__name__)
SOURCE_PREFIX = "posada:"  # the order's `source` carries the idempotency key (idempotency.py)


def first_stay(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """All stays (room type + dates) of a booking document, and the first one."""
    assoc = {**doc, **(doc.get("associations") or {})}
    stays = qlo.unwrap(assoc.get("room_types"), "room_type")
    return stays, (stays[0] if stays else {})


def to_booking(doc: dict[str, Any], order: dict[str, Any], room_statuses: list[int]) -> Booking:
    assoc = {**doc, **(doc.get("associations") or {})}
    currency = qlo.as_str(doc.get("currency")).upper()
    _, first = first_stay(doc)
    rooms = qlo.unwrap(first.get("rooms"), "room")
    customer = assoc.get("customer_detail") or {}
    prices = assoc.get("price_details") or {}
    total_ex = qlo.as_float(prices.get("total_price_without_tax"))
    tax = qlo.as_float(prices.get("total_tax"))
    source = qlo.as_str(doc.get("source"))
    return Booking(
        booking_id=str(doc.get("id")),
        reference=qlo.as_str(order.get("reference")),
        hotel_id=str(doc.get("id_property")),
        room_type_id=str(first.get("id_room_type", "")),
        room_type_name=qlo.as_str(first.get("name")),
        adults=sum(qlo.as_int(room.get("adults", room.get("adult"))) for room in rooms),
        children=sum(qlo.as_int(room.get("child", room.get("children"))) for room in rooms),
        guest=Guest(
            first_name=qlo.as_str(customer.get("firstname")),
            last_name=qlo.as_str(customer.get("lastname")),
            email=qlo.as_str(customer.get("email")),
            phone=qlo.as_str(customer.get("phone")),
        ),
        status=qlo.booking_status(qlo.as_int(order.get("current_state")), room_statuses),
        idempotency_key=source.removeprefix(SOURCE_PREFIX)
        if source.startswith(SOURCE_PREFIX)
        else "",
        check_in=qlo.parse_qlo_date(first.get("checkin_date")),
        check_out=qlo.parse_qlo_date(first.get("checkout_date")),
        total_tax_excluded=Money(to_minor(total_ex, currency), currency) if currency else None,
        total_tax_included=Money(to_minor(total_ex, currency) + to_minor(tax, currency), currency)
        if currency
        else None,
        created_at=qlo.parse_timestamp(doc.get("booking_date") or order.get("date_add")),
    )


class BookingReader:
    def __init__(self, client: QloAppsClient, catalogue: Catalogue, options: CoreOptions) -> None:
        self.client = client
        self.catalogue = catalogue
        self.options = options

    async def read(
        self, booking_id: str, raw: dict[str, Any] | None = None, lang_id: int | None = None
    ) -> Booking:
        """The booking (raises the client's errors); its room type named in `lang_id` if given."""

        async def room_statuses() -> list[int]:
            rows = await self.client.get_list(
                "room_bookings",
                "bookings",
                {"filter[id_order]": f"[{booking_id}]", "display": "[id,id_status]"},
            )
            return [qlo.as_int(row.get("id_status")) for row in rows]

        async def document() -> dict[str, Any]:
            if raw is not None:
                return raw
            return await self.client.get_one(f"bookings/{booking_id}", "booking")

        doc, order, statuses = await asyncio.gather(
            document(), self.client.get_one(f"orders/{booking_id}", "order"), room_statuses()
        )
        booking = to_booking(doc, order, statuses)
        if lang_id is not None:
            booking.room_type_name = await self._room_type_name(booking, lang_id)
        return booking

    async def get(self, booking_id: str, language: str) -> Booking:
        lang = await self.catalogue.booking_language_id(language)
        return await pms_call(
            self.read(booking_id, lang_id=lang), f"booking {booking_id} not found"
        )

    async def _room_type_name(self, booking: Booking, lang_id: int) -> str:
        """The booking's room type named in `lang_id`.

        QloApps stores the room type name with the booking in one language only; the other
        languages come from the room type itself. The name is a courtesy: a room type no longer
        listed (inactive) or a PMS hiccup reading it keeps the stored name.
        """
        try:
            room_types = await self.catalogue.room_types(booking.hotel_id, lang_id)
        except ServiceError as exc:
            log.warning(
                "pms_room_type_name_unreadable", booking_id=booking.booking_id, error=str(exc)
            )
            return booking.room_type_name
        room_type = room_types.get(booking.room_type_id)
        return (room_type.name if room_type else "") or booking.room_type_name

    async def find(self, search: BookingSearch) -> list[Booking]:
        lang = await self.catalogue.booking_language_id(search.language)
        ids = await pms_call(self._find_ids(search))
        limit = asyncio.Semaphore(5)

        async def load(booking_id: str) -> Booking | None:
            async with limit:
                try:
                    return await self.read(booking_id, lang_id=lang)
                except QloNotFound:
                    return None

        loaded = await pms_call(asyncio.gather(*(load(i) for i in ids[: self.options.find_limit])))
        found = []
        for booking in loaded:
            if booking is None or (search.hotel_id and booking.hotel_id != search.hotel_id):
                continue
            if search.reference and (search.email or search.phone):
                # Reference plus contact: the contact must match (a guest proving it is theirs).
                proven = (search.email and booking.guest.email.lower() == search.email) or (
                    search.phone and qlo.phones_match(booking.guest.phone, search.phone)
                )
                if not proven:
                    continue
            found.append(booking)
        return found

    async def _find_ids(self, search: BookingSearch) -> list[str]:
        if search.reference:
            ids: set[str] = set()
            if search.reference.isdigit():
                ids.add(str(int(search.reference)))
            rows = await self.client.get_list(
                "orders",
                "orders",
                {
                    "filter[reference]": f"[{search.reference.upper()}]",
                    "display": "[id,reference]",
                },
            )
            ids.update(str(row.get("id")) for row in rows)
            return sorted(ids, key=int, reverse=True)
        customers = await self._customers(search.email, search.phone)
        if not customers:
            return []
        rows = await self.client.get_list(
            "orders",
            "orders",
            {
                "filter[id_customer]": "[" + "|".join(sorted(customers)) + "]",
                "display": "[id]",
                "sort": "[id_DESC]",
                "limit": str(self.options.find_limit),
            },
        )
        return [str(row.get("id")) for row in rows]

    async def _customers(self, email: str, phone: str) -> set[str]:
        customers: set[str] = set()
        if email:
            rows = await self.client.get_list(
                "customers", "customers", {"filter[email]": f"[{email}]", "display": "[id,email]"}
            )
            customers.update(
                str(row.get("id")) for row in rows if qlo.as_str(row.get("email")).lower() == email
            )
        if phone:
            try:
                # Suffix match (formats differ: "+34 600…", "600…"), then an exact digit check.
                rows = await self.client.get_list(
                    "customers",
                    "customers",
                    {"filter[phone]": f"%[{phone[-8:]}]", "display": "[id,phone]"},
                )
            except QloBadRequest as exc:
                # A shop whose customers.phone is not filterable: search by e-mail/reference only.
                log.warning("phone_search_unsupported", error=str(exc))
                rows = []
            customers.update(
                str(row.get("id"))
                for row in rows
                if qlo.phones_match(qlo.as_str(row.get("phone")), phone)
            )
        return customers


def same_stay(booking: Booking, room_type_id: str, check_in: date, check_out: date) -> bool:
    return (booking.room_type_id, booking.check_in, booking.check_out) == (
        room_type_id,
        check_in,
        check_out,
    )
