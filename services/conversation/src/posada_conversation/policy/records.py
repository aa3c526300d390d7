"""pms enums and messages as the plain values the session stores.

Sessions are persisted as JSON, so offers and bookings are kept as dicts; these mappings
are the single place where pms protobufs are turned into them.
"""

from __future__ import annotations

from typing import Any

from hotel.pms.v1 import pms_service_pb2 as pms_pb2

from ..deps import from_date

CATEGORY = {
    "single": pms_pb2.ROOM_CATEGORY_SINGLE,
    "double": pms_pb2.ROOM_CATEGORY_DOUBLE,
    "twin": pms_pb2.ROOM_CATEGORY_TWIN,
    "suite": pms_pb2.ROOM_CATEGORY_SUITE,
    "family": pms_pb2.ROOM_CATEGORY_FAMILY,
}
CATEGORY_NAME = {v: k for k, v in CATEGORY.items()}
STATUS_NAME = {
    pms_pb2.BOOKING_STATUS_PENDING: "pending",
    pms_pb2.BOOKING_STATUS_CONFIRMED: "confirmed",
    pms_pb2.BOOKING_STATUS_CANCELLED: "cancelled",
    pms_pb2.BOOKING_STATUS_CHECKED_IN: "checked_in",
    pms_pb2.BOOKING_STATUS_CHECKED_OUT: "checked_out",
    pms_pb2.BOOKING_STATUS_REFUNDED: "refunded",
}
CHANGEABLE = {pms_pb2.BOOKING_STATUS_PENDING, pms_pb2.BOOKING_STATUS_CONFIRMED}
POLICY_TOPIC = {
    "pets": pms_pb2.POLICY_TOPIC_PETS,
    "cancellation": pms_pb2.POLICY_TOPIC_CANCELLATION,
    "payment": pms_pb2.POLICY_TOPIC_PAYMENT,
    "children": pms_pb2.POLICY_TOPIC_CHILDREN,
    "smoking": pms_pb2.POLICY_TOPIC_SMOKING,
    "check_in": pms_pb2.POLICY_TOPIC_CHECK_IN,
    "check_out": pms_pb2.POLICY_TOPIC_CHECK_OUT,
}


def offer_to_dict(offer: pms_pb2.Offer, nights: int) -> dict[str, Any]:
    total = offer.total_tax_included
    return {
        "room_type_id": offer.room_type.room_type_id,
        "name": offer.room_type.name,
        "category": CATEGORY_NAME.get(offer.room_type.category, ""),
        "total_minor": total.amount_minor,
        "currency": total.currency_code,
        "per_night_minor": total.amount_minor // max(nights, 1),
        "rooms_left": offer.rooms_left,
    }


def booking_to_dict(booking: pms_pb2.Booking) -> dict[str, Any]:
    check_in, check_out = from_date(booking.check_in), from_date(booking.check_out)
    return {
        "booking_id": booking.booking_id,
        "reference": booking.reference,
        "room_type_id": booking.room_type_id,
        "room_type_name": booking.room_type_name,
        "check_in": check_in.isoformat() if check_in else "",
        "check_out": check_out.isoformat() if check_out else "",
        "adults": booking.adults,
        "children": booking.children,
        "status": int(booking.status),
        "total_minor": booking.total_tax_included.amount_minor,
        "currency": booking.total_tax_included.currency_code,
        "email": booking.guest.email,
        "phone": booking.guest.phone,
    }
