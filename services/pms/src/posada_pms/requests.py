"""hotel.pms.v1 requests → validated plain values (the servicer's way in).

Every problem of a request is reported at once, by field, in one INVALID_ARGUMENT; nothing
reaches the core, or QloApps, before its request is whole.
"""

from __future__ import annotations

from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.type.v1 import date_pb2

from posada_pms import mapping as qlo
from posada_pms.model import (
    BookingChange,
    BookingRequest,
    BookingSearch,
    Guest,
    Limits,
    Money,
    StaySearch,
)
from posada_pms.validation import (
    EMAIL_RE,
    IDEMPOTENCY_KEY_RE,
    NAME_RE,
    REFERENCE_RE,
    Violations,
)


def _set(request: object, field: str) -> date_pb2.Date | None:
    return getattr(request, field) if request.HasField(field) else None  # type: ignore[attr-defined]


def language(value: str) -> str:
    violations = Violations()
    code = violations.language("language", value)
    violations.raise_if_any()
    return code


def hotel_lookup(request: pms.GetHotelRequest | pms.ListRoomTypesRequest) -> tuple[str, str]:
    violations = Violations()
    hotel_id = violations.id("hotel_id", request.hotel_id)
    code = violations.language("language", request.language)
    violations.raise_if_any()
    return hotel_id, code


def booking_lookup(request: pms.GetBookingRequest) -> tuple[str, str]:
    violations = Violations()
    booking_id = violations.id("booking_id", request.booking_id)
    code = violations.language("language", request.language)
    violations.raise_if_any()
    return booking_id, code


def stay_search(request: pms.CheckAvailabilityRequest, limits: Limits) -> StaySearch:
    violations = Violations()
    hotel_id = violations.id("hotel_id", request.hotel_id)
    check_in = violations.date("check_in", _set(request, "check_in"))
    check_out = violations.date("check_out", _set(request, "check_out"))
    violations.stay(
        check_in,
        check_out,
        max_nights=limits.max_stay_nights,
        max_advance_days=limits.max_advance_days,
    )
    violations.guests(request.adults, request.children)
    room_type_id = violations.id("room_type_id", request.room_type_id, required=False)
    if request.category not in pms.RoomCategory.values():
        violations.add("category", "unknown room category")
    code = violations.language("language", request.language)
    violations.raise_if_any()
    assert check_in and check_out
    return StaySearch(
        hotel_id=hotel_id,
        check_in=check_in,
        check_out=check_out,
        adults=request.adults,
        children=request.children,
        room_type_id=room_type_id,
        category=request.category,
        language=code,
    )


def booking_request(request: pms.CreateBookingRequest, limits: Limits) -> BookingRequest:
    violations = Violations()
    code = violations.language("language", request.language)
    key = request.idempotency_key.strip()
    if not key:
        violations.add("idempotency_key", "is required")
    elif not IDEMPOTENCY_KEY_RE.match(key):
        violations.add("idempotency_key", "8-128 characters: letters, digits, '.', '_', ':' or '-'")
    hotel_id = violations.id("hotel_id", request.hotel_id)
    room_type_id = violations.id("room_type_id", request.room_type_id)
    check_in = violations.date("check_in", _set(request, "check_in"))
    check_out = violations.date("check_out", _set(request, "check_out"))
    violations.stay(
        check_in,
        check_out,
        max_nights=limits.max_stay_nights,
        max_advance_days=limits.max_advance_days,
    )
    violations.guests(request.adults, request.children)
    guest = request.guest
    if not NAME_RE.match(guest.first_name.strip()):
        violations.add("guest.first_name", "is required (letters only, at most 60)")
    if not NAME_RE.match(guest.last_name.strip()):
        violations.add("guest.last_name", "is required (letters only, at most 60)")
    if not EMAIL_RE.match(guest.email.strip()):
        violations.add("guest.email", "is not an e-mail address")
    if not 7 <= len(qlo.digits(guest.phone)) <= 15:
        violations.add("guest.phone", "must have 7 to 15 digits")
    expected = None
    if request.HasField("expected_total_tax_included"):
        quoted = request.expected_total_tax_included
        if len(quoted.currency_code) != 3 or quoted.amount_minor < 0:
            violations.add(
                "expected_total_tax_included", "needs an ISO currency and a non-negative amount"
            )
        expected = Money(quoted.amount_minor, quoted.currency_code.upper())
    violations.raise_if_any()
    assert check_in and check_out
    return BookingRequest(
        idempotency_key=key,
        hotel_id=hotel_id,
        room_type_id=room_type_id,
        check_in=check_in,
        check_out=check_out,
        adults=request.adults,
        children=request.children,
        guest=Guest(guest.first_name, guest.last_name, guest.email, guest.phone),
        expected_total=expected,
        language=code,
    )


def booking_search(request: pms.FindBookingsRequest) -> BookingSearch:
    violations = Violations()
    reference = request.reference.strip()
    email = request.email.strip().lower()
    phone = qlo.digits(request.phone)
    hotel_id = violations.id("hotel_id", request.hotel_id, required=False)
    code = violations.language("language", request.language)
    if not (reference or email or phone):
        violations.add("reference", "give at least one of reference, email, phone")
    if reference and not REFERENCE_RE.match(reference):
        violations.add("reference", "letters, digits and '-' only")
    if email and not EMAIL_RE.match(email):
        violations.add("email", "is not an e-mail address")
    if request.phone.strip() and not 7 <= len(phone) <= 15:
        violations.add("phone", "must have 7 to 15 digits")
    violations.raise_if_any()
    return BookingSearch(reference, email, phone, hotel_id, code)


def cancellation(request: pms.CancelBookingRequest) -> tuple[str, str, str]:
    violations = Violations()
    booking_id = violations.id("booking_id", request.booking_id)
    if len(request.reason) > 500:
        violations.add("reason", "at most 500 characters")
    code = violations.language("language", request.language)
    violations.raise_if_any()
    return booking_id, request.reason, code


def booking_change(request: pms.ModifyBookingRequest) -> BookingChange:
    violations = Violations()
    booking_id = violations.id("booking_id", request.booking_id)
    check_in = violations.date("check_in", _set(request, "check_in"), required=False)
    check_out = violations.date("check_out", _set(request, "check_out"), required=False)
    room_type_id = violations.id("room_type_id", request.room_type_id, required=False)
    # proto3 `optional`: presence tells "keep" (unset) from a value, so children=0 removes them.
    adults = request.adults if request.HasField("adults") else None
    children = request.children if request.HasField("children") else None
    if adults is not None and adults < 1:
        violations.add("adults", "must be at least 1 (leave it unset to keep the current value)")
    if children is not None and children < 0:
        violations.add("children", "must not be negative")
    code = violations.language("language", request.language)
    if not (check_in or check_out or room_type_id or adults is not None or children is not None):
        violations.add("booking_id", "nothing to change: give dates, room type or guests")
    violations.raise_if_any()
    return BookingChange(booking_id, check_in, check_out, room_type_id, adults, children, code)
