"""The JSON documents pms sends to QloApps' `bookings` API, and how its refusals read.

Pure functions (no I/O), tested without a server. The quirks they work around are described in
docs/external-apis/qloapps.md#booking-create and #booking-update.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hotel.pms.v1.error_reason import PmsErrorReason
from posada_common.errors import FailedPrecondition, InvalidArgument, ServiceError

from posada_pms import mapping as qlo
from posada_pms.booking_reads import SOURCE_PREFIX, first_stay
from posada_pms.metrics import BOOKINGS
from posada_pms.model import BookingRequest, RoomType

CHILD_AGE = 8  # QloApps wants an age per child; we do not ask guests for it


def _room(adults: int, children: int, room_type: RoomType) -> dict[str, Any]:
    return {
        # `adult` is what create reads, `adults` what the schema says: both are sent.
        "adult": adults,
        "adults": adults,
        "child": children,
        "child_ages": [CHILD_AGE] * children,
        # Without a tax group QloApps appends a PHP notice (a 500) after creating the order.
        "id_tax_rules_group": room_type.id_tax_rules_group,
    }


def new_booking_document(
    request: BookingRequest, room_type: RoomType, currency: str
) -> dict[str, Any]:
    guest = request.guest
    return {
        "booking": {
            "id_property": int(request.hotel_id),
            "currency": currency,
            "booking_status": 1,
            "payment_status": 3,
            "source": SOURCE_PREFIX + request.idempotency_key,
            "associations": {
                "customer_detail": {
                    "firstname": guest.first_name.strip(),
                    "lastname": guest.last_name.strip(),
                    "email": guest.email.strip().lower(),
                    "phone": guest.phone.strip(),
                },
                "payment_detail": {
                    "payment_type": "pay at hotel",
                    "payment_method": "Pay at hotel",
                },
                "room_types": [
                    {
                        "id_room_type": int(room_type.room_type_id),
                        "checkin_date": request.check_in.isoformat(),
                        "checkout_date": request.check_out.isoformat(),
                        "number_of_rooms": 1,
                        "rooms": [_room(request.adults, request.children, room_type)],
                    }
                ],
            },
        }
    }


def modified_document(
    doc: dict[str, Any],
    room_type: RoomType,
    check_in: date,
    check_out: date,
    adults: int,
    children: int,
    same_stay: bool,
) -> dict[str, Any]:
    """The full booking with its first stay replaced: QloApps' PUT replaces the room list,
    so everything we do not mean to change is sent back exactly as read."""
    assoc = {**(doc.get("associations") or {})}
    stays, first = first_stay(doc)
    old_rooms = qlo.unwrap(first.get("rooms"), "room")
    count = max(1, qlo.as_int(first.get("number_of_rooms"), 1))
    rooms = []
    for i in range(count):
        old = old_rooms[i] if i < len(old_rooms) else {}
        room_adults = adults if i == 0 else qlo.as_int(old.get("adults", old.get("adult")), 1)
        room_children = children if i == 0 else qlo.as_int(old.get("child"))
        room = _room(room_adults, room_children, room_type)
        if same_stay and old.get("id_room"):
            # Only the guests change: pin the room and the price it was booked at.
            room["id_room"] = qlo.as_int(old["id_room"])
            if old.get("unit_price_without_tax") not in (None, ""):
                room["unit_price_without_tax"] = old["unit_price_without_tax"]
        rooms.append(room)
    new_first = {
        "id_room_type": int(room_type.room_type_id),
        "checkin_date": check_in.isoformat(),
        "checkout_date": check_out.isoformat(),
        "number_of_rooms": count,
        "rooms": rooms,
    }
    others = [
        {
            "id_room_type": qlo.as_int(stay.get("id_room_type")),
            "checkin_date": qlo.as_str(stay.get("checkin_date"))[:10],
            "checkout_date": qlo.as_str(stay.get("checkout_date"))[:10],
            "number_of_rooms": qlo.as_int(stay.get("number_of_rooms"), 1),
            "rooms": [
                {
                    key: value
                    for key, value in room.items()
                    if key in ("id_room", "adults", "child", "unit_price_without_tax")
                }
                # Untouched stays: echo their tax as read (total_tax keeps it exactly).
                | {"adult": room.get("adults", 1), "total_tax": room.get("total_tax", 0)}
                for room in (stay.get("rooms") or [])
            ],
        }
        for stay in stays[1:]
    ]
    customer = dict(assoc.get("customer_detail") or doc.get("customer_detail") or {})
    booking: dict[str, Any] = {
        "id": qlo.as_int(doc.get("id")),
        "id_property": qlo.as_int(doc.get("id_property")),
        "currency": qlo.as_str(doc.get("currency")),
        "source": qlo.as_str(doc.get("source")),
        "id_language": qlo.as_int(doc.get("id_language"), 1),
        "associations": {"customer_detail": customer, "room_types": [new_first, *others]},
    }
    rules = assoc.get("cart_rules") or []
    if rules:
        booking["associations"]["cart_rules"] = [
            {"code": rule.get("code")} for rule in rules if isinstance(rule, dict)
        ]
    return {"booking": booking}


def booking_refusal(messages: list[str]) -> ServiceError:
    """What a 400 from QloApps on a create means for the caller."""
    text = " ".join(messages).lower()
    if "not available" in text:
        BOOKINGS.labels("create", "sold_out").inc()
        return FailedPrecondition(
            "the room is no longer available for these dates", reason=PmsErrorReason.SOLD_OUT
        )
    fields = {
        "first name": "guest.first_name",
        "last name": "guest.last_name",
        "email": "guest.email",
        "phone": "guest.phone",
    }
    for word, field in fields.items():
        if word in text:
            return InvalidArgument(
                f"the PMS refused {field}", field_violations={field: "; ".join(messages)}
            )
    return FailedPrecondition(
        f"the PMS refused the booking: {'; '.join(messages)}", reason=PmsErrorReason.PMS_REJECTED
    )


def change_refusal(messages: list[str]) -> ServiceError:
    """What a 400 from QloApps on a change means for the caller."""
    text = " ".join(messages).lower()
    reason = PmsErrorReason.SOLD_OUT if "not available" in text else PmsErrorReason.PMS_REJECTED
    return FailedPrecondition(f"the PMS refused the change: {'; '.join(messages)}", reason=reason)
