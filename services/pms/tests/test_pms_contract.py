"""Every PmsService operation through a real in-process gRPC server, against the QloApps stand-in
and real Redis."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import grpc
import pytest
from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.pms.v1.error_reason import PmsErrorReason
from hotel.type.v1 import money_pb2
from pms_helpers import d, fresh_stay
from posada_common.errors import error_reason, field_violations

MADRID, BUENOS_AIRES = "1", "2"
SINGLE, DOUBLE, TWIN, JUNIOR_SUITE, FAMILY = "11", "12", "13", "14", "15"


def guest(tag: str = "") -> pms.GuestDetails:
    tag = tag or uuid.uuid4().hex[:8]
    return pms.GuestDetails(
        first_name="Ana", last_name="Garcia", email=f"ana.{tag}@example.com", phone="+34600111222"
    )


def create_req(
    room_type: str, ci, co, *, key: str | None = None, adults: int = 2, children: int = 0, g=None
):  # type: ignore[no-untyped-def]
    return pms.CreateBookingRequest(
        idempotency_key=key or f"test-{uuid.uuid4().hex}",
        hotel_id=MADRID,
        room_type_id=room_type,
        check_in=d(ci),
        check_out=d(co),
        adults=adults,
        children=children,
        guest=g or guest(),
    )


async def test_list_hotels_gives_what_the_agent_needs(stub) -> None:  # type: ignore[no-untyped-def]
    hotels = (await stub.ListHotels(pms.ListHotelsRequest(), timeout=10)).hotels
    assert [h.hotel_id for h in hotels] == [MADRID, BUENOS_AIRES]
    madrid, ba = hotels
    assert madrid.address.city == "Madrid" and madrid.address.country_code == "ES"
    assert madrid.time_zone == "Europe/Madrid" and madrid.currency_code == "EUR"
    assert ba.time_zone == "America/Argentina/Buenos_Aires" and ba.currency_code == "ARS"
    assert madrid.check_in_time and madrid.check_out_time and madrid.phone and madrid.email
    assert {p.topic for p in madrid.policies} >= {
        pms.POLICY_TOPIC_CHECK_IN,
        pms.POLICY_TOPIC_CHECK_OUT,
    }
    assert madrid.amenities and set(madrid.amenities) <= {
        "wifi", "parking", "pool", "breakfast", "gym", "spa", "restaurant", "airport_shuttle", "air_conditioning",
    }  # fmt: skip
    assert madrid.latitude != 0 and madrid.longitude != 0


async def test_get_hotel_and_unknown_hotel(stub) -> None:  # type: ignore[no-untyped-def]
    got = await stub.GetHotel(pms.GetHotelRequest(hotel_id=BUENOS_AIRES), timeout=10)
    assert got.hotel.address.city == "Buenos Aires"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetHotel(pms.GetHotelRequest(hotel_id="99"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_room_types_carry_capacity_from_hotel_room_types(stub) -> None:  # type: ignore[no-untyped-def]
    rts = {
        r.room_type_id: r
        for r in (
            await stub.ListRoomTypes(pms.ListRoomTypesRequest(hotel_id=MADRID), timeout=10)
        ).room_types
    }
    assert set(rts) == {SINGLE, DOUBLE, TWIN, JUNIOR_SUITE, FAMILY}
    suite = rts[JUNIOR_SUITE]
    assert (suite.max_adults, suite.max_children, suite.max_occupancy) == (3, 2, 4)
    assert suite.category == pms.ROOM_CATEGORY_SUITE
    assert rts[TWIN].category == pms.ROOM_CATEGORY_TWIN
    assert rts[SINGLE].base_price == money_pb2.Money(currency_code="EUR", amount_minor=8500)


async def test_availability_offers_cheapest_first_with_and_without_tax(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(3)
    resp = await stub.CheckAvailability(
        pms.CheckAvailabilityRequest(hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=1),
        timeout=10,
    )
    assert resp.currency_code == "EUR"
    totals = [o.total_tax_included.amount_minor for o in resp.offers]
    assert totals == sorted(totals) and len(totals) >= 4
    for offer in resp.offers:
        assert offer.rooms_left >= 1
        assert (
            offer.total_tax_included.amount_minor > offer.total_tax_excluded.amount_minor
        )  # 10 % IVA
        assert len(offer.nightly_prices) == 3
        nightly = sum(n.price_tax_excluded.amount_minor for n in offer.nightly_prices)
        assert abs(nightly - offer.total_tax_excluded.amount_minor) <= 3
        assert offer.total_tax_included.currency_code == "EUR"


async def test_capacity_is_checked_by_the_adapter(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    three = await stub.CheckAvailability(
        pms.CheckAvailabilityRequest(hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=3),
        timeout=10,
    )
    assert {o.room_type.room_type_id for o in three.offers} <= {JUNIOR_SUITE, FAMILY}
    assert FAMILY in {o.room_type.room_type_id for o in three.offers}
    with_child = await stub.CheckAvailability(
        pms.CheckAvailabilityRequest(
            hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2, children=1
        ),
        timeout=10,
    )
    ids = {o.room_type.room_type_id for o in with_child.offers}
    assert TWIN not in ids and SINGLE not in ids and DOUBLE in ids
    only = await stub.CheckAvailability(
        pms.CheckAvailabilityRequest(
            hotel_id=MADRID,
            check_in=d(ci),
            check_out=d(co),
            adults=2,
            category=pms.ROOM_CATEGORY_TWIN,
        ),
        timeout=10,
    )
    assert [o.room_type.room_type_id for o in only.offers] == [TWIN]


async def test_unknown_room_type_in_availability_is_not_found(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(1)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CheckAvailability(
            pms.CheckAvailabilityRequest(
                hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=1, room_type_id="999"
            ),
            timeout=10,
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_booking_lifecycle_create_get_find_modify_cancel(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    g = guest()
    key = f"quote-{uuid.uuid4().hex}"
    created = await stub.CreateBooking(
        create_req(DOUBLE, ci, co, key=key, adults=2, children=1, g=g), timeout=15
    )
    b = created.booking
    assert not created.replayed
    assert b.booking_id and b.reference and b.status == pms.BOOKING_STATUS_CONFIRMED
    assert (b.hotel_id, b.room_type_id, b.adults, b.children) == (MADRID, DOUBLE, 2, 1)
    assert b.check_in == d(ci) and b.check_out == d(co)
    assert b.guest.email == g.email and b.idempotency_key == key
    assert b.total_tax_included.amount_minor > b.total_tax_excluded.amount_minor > 0

    got = (
        await stub.GetBooking(pms.GetBookingRequest(booking_id=b.booking_id), timeout=10)
    ).booking
    assert got == b

    by_ref = (
        await stub.FindBookings(pms.FindBookingsRequest(reference=b.reference), timeout=10)
    ).bookings
    assert [x.booking_id for x in by_ref] == [b.booking_id]
    by_email = (
        await stub.FindBookings(pms.FindBookingsRequest(email=g.email.upper()), timeout=10)
    ).bookings
    assert [x.booking_id for x in by_email] == [b.booking_id]
    by_phone = (
        await stub.FindBookings(pms.FindBookingsRequest(phone="600 111 222"), timeout=10)
    ).bookings
    assert b.booking_id in {x.booking_id for x in by_phone}
    wrong_owner = await stub.FindBookings(
        pms.FindBookingsRequest(reference=b.reference, email="x@example.com"), timeout=10
    )
    assert list(wrong_owner.bookings) == []

    # Modify: QloApps' PUT replaces everything, so guest and idempotency key must survive.
    new_ci, new_co = fresh_stay(3)
    modified = (
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(
                booking_id=b.booking_id, check_in=d(new_ci), check_out=d(new_co)
            ),
            timeout=15,
        )
    ).booking
    assert modified.check_in == d(new_ci) and modified.check_out == d(new_co)
    assert (
        modified.guest == b.guest
        and modified.idempotency_key == key
        and modified.room_type_id == DOUBLE
    )
    assert modified.total_tax_excluded.amount_minor != b.total_tax_excluded.amount_minor

    guests = (
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id=b.booking_id, adults=1), timeout=15
        )
    ).booking
    assert (guests.adults, guests.children) == (1, 1) and guests.check_in == d(new_ci)

    cancelled = (
        await stub.CancelBooking(
            pms.CancelBookingRequest(booking_id=b.booking_id, reason="plans changed"), timeout=15
        )
    ).booking
    assert cancelled.status == pms.BOOKING_STATUS_CANCELLED
    again = (
        await stub.CancelBooking(pms.CancelBookingRequest(booking_id=b.booking_id), timeout=15)
    ).booking
    assert again.status == pms.BOOKING_STATUS_CANCELLED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id=b.booking_id, adults=2), timeout=15
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_modify_to_another_room_type(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    b = (await stub.CreateBooking(create_req(DOUBLE, ci, co), timeout=15)).booking
    moved = (
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id=b.booking_id, room_type_id=FAMILY), timeout=15
        )
    ).booking
    assert moved.room_type_id == FAMILY and moved.check_in == d(ci) and moved.guest == b.guest
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id=b.booking_id, room_type_id=SINGLE), timeout=15
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # 2 adults do not fit a single


async def test_modify_can_remove_the_children_and_unset_guests_keep_theirs(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    b = (await stub.CreateBooking(create_req(DOUBLE, ci, co, children=1), timeout=15)).booking
    assert (b.adults, b.children) == (2, 1)

    # Dates only: adults and children unset keep their values.
    new_ci, new_co = fresh_stay(2)
    kept = (
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(
                booking_id=b.booking_id, check_in=d(new_ci), check_out=d(new_co)
            ),
            timeout=15,
        )
    ).booking
    assert (kept.adults, kept.children) == (2, 1) and kept.check_in == d(new_ci)

    # children=0 is a value (proto3 optional), not "unset": the child is removed.
    req = pms.ModifyBookingRequest(booking_id=b.booking_id, children=0)
    assert req.HasField("children") and not req.HasField("adults")
    no_kids = (await stub.ModifyBooking(req, timeout=15)).booking
    assert (no_kids.adults, no_kids.children) == (2, 0)
    again = (
        await stub.GetBooking(pms.GetBookingRequest(booking_id=b.booking_id), timeout=10)
    ).booking
    assert (again.adults, again.children) == (2, 0) and again.check_in == d(new_ci)

    # An explicit adults=0 is refused rather than read as "keep".
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id=b.booking_id, adults=0), timeout=15
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "adults" in field_violations(info.value)


async def test_same_key_returns_the_same_booking(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    req = create_req(TWIN, ci, co)
    first = await stub.CreateBooking(req, timeout=15)
    second = await stub.CreateBooking(req, timeout=15)
    assert not first.replayed and second.replayed
    assert second.booking.booking_id == first.booking.booking_id


async def test_unknown_booking_is_not_found(stub) -> None:  # type: ignore[no-untyped-def]
    for call in (
        stub.GetBooking(pms.GetBookingRequest(booking_id="987654"), timeout=10),
        stub.CancelBooking(pms.CancelBookingRequest(booking_id="987654"), timeout=10),
        stub.ModifyBooking(pms.ModifyBookingRequest(booking_id="987654", adults=1), timeout=10),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_sold_out_room_is_failed_precondition(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)  # the Junior Suite has one room (min stay 2)
    await stub.CreateBooking(create_req(JUNIOR_SUITE, ci, co), timeout=15)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(create_req(JUNIOR_SUITE, ci, co), timeout=15)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    offers = await stub.CheckAvailability(
        pms.CheckAvailabilityRequest(hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2),
        timeout=10,
    )
    assert JUNIOR_SUITE not in {o.room_type.room_type_id for o in offers.offers}


async def test_changed_price_is_failed_precondition(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    req = create_req(DOUBLE, ci, co)
    req.expected_total_tax_included.CopyFrom(money_pb2.Money(currency_code="EUR", amount_minor=1))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(req, timeout=15)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "price" in (info.value.details() or "")


async def test_over_capacity_booking_is_failed_precondition(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(1)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(create_req(SINGLE, ci, co, adults=2), timeout=15)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


_ci, _co = fresh_stay(2)
BAD_REQUESTS = [
    (
        "CheckAvailability",
        pms.CheckAvailabilityRequest(hotel_id="1", check_in=d(_co), check_out=d(_ci), adults=0),
        {"check_out", "adults"},
    ),
    (
        "CheckAvailability",
        pms.CheckAvailabilityRequest(hotel_id="x", adults=1),
        {"hotel_id", "check_in", "check_out"},
    ),
    (
        "CreateBooking",
        pms.CreateBookingRequest(hotel_id="1", room_type_id="12", adults=1),
        {
            "idempotency_key",
            "check_in",
            "check_out",
            "guest.first_name",
            "guest.last_name",
            "guest.email",
            "guest.phone",
        },
    ),
    (
        "CreateBooking",
        create_req(DOUBLE, *fresh_stay(40), key="short"),
        {"idempotency_key", "check_out"},
    ),
    ("FindBookings", pms.FindBookingsRequest(), {"reference"}),
    (
        "FindBookings",
        pms.FindBookingsRequest(reference="[x|y]", email="not-an-email"),
        {"reference", "email"},
    ),
    ("GetBooking", pms.GetBookingRequest(), {"booking_id"}),
    ("ModifyBooking", pms.ModifyBookingRequest(booking_id="1"), {"booking_id"}),
    ("CancelBooking", pms.CancelBookingRequest(booking_id="-3"), {"booking_id"}),
]


@pytest.mark.parametrize(("method", "request_msg", "fields"), BAD_REQUESTS)
async def test_bad_requests_are_invalid_argument_with_field_names(
    stub, method, request_msg, fields
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await getattr(stub, method)(request_msg, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(info.value)) == fields


async def test_extending_a_stay_of_the_last_room_overlaps_only_itself(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)  # the only Junior Suite
    b = (await stub.CreateBooking(create_req(JUNIOR_SUITE, ci, co), timeout=15)).booking
    longer = (
        await stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id=b.booking_id, check_out=d(co + timedelta(days=1))),
            timeout=15,
        )
    ).booking
    assert longer.check_out == d(co + timedelta(days=1)) and longer.check_in == d(ci)
    # Another guest cannot take the suite on any of those nights.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(
            create_req(JUNIOR_SUITE, co - timedelta(days=1), co + timedelta(days=1)), timeout=15
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def _other_hotel(request: pms.CreateBookingRequest) -> None:
    request.hotel_id, request.room_type_id = BUENOS_AIRES, "17"


def _other_dates(request: pms.CreateBookingRequest) -> None:
    out = request.check_out
    request.check_out.CopyFrom(d(date(out.year, out.month, out.day) + timedelta(days=1)))


def _other_guests(request: pms.CreateBookingRequest) -> None:
    request.adults = 1


def _other_email(request: pms.CreateBookingRequest) -> None:
    request.guest.email = "someone.else@example.com"


@pytest.mark.parametrize("change", [_other_hotel, _other_dates, _other_guests, _other_email])
async def test_a_key_reused_for_another_booking_is_refused_and_books_nothing(  # type: ignore[no-untyped-def]
    stub, stand_in, change
) -> None:
    ci, co = fresh_stay(2)
    key = f"reuse-{uuid.uuid4().hex}"
    original = create_req(DOUBLE, ci, co, key=key)
    first = (await stub.CreateBooking(original, timeout=15)).booking
    other = pms.CreateBookingRequest()
    other.CopyFrom(original)
    change(other)
    assert other != original
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(other, timeout=15)
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_reason(info.value) == PmsErrorReason.IDEMPOTENCY_KEY_REUSED
    assert "different booking request" in (info.value.details() or "")
    assert stand_in.count_orders(f"posada:{key}") == 1
    # The same request again is still a replay of the first booking.
    again = await stub.CreateBooking(original, timeout=15)
    assert again.replayed and again.booking.booking_id == first.booking_id


async def test_a_key_reused_with_another_payload_is_refused_even_without_the_redis_record(  # type: ignore[no-untyped-def]
    stub, stand_in, redis
) -> None:
    ci, co = fresh_stay(2)
    key = f"reuse-{uuid.uuid4().hex}"
    original = create_req(DOUBLE, ci, co, key=key)
    await stub.CreateBooking(original, timeout=15)
    await redis.delete(f"pms:idem:{key}", f"pms:idem:{key}:request")  # QloApps' source only
    other = pms.CreateBookingRequest()
    other.CopyFrom(original)
    _other_email(other)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(other, timeout=15)
    assert error_reason(info.value) == PmsErrorReason.IDEMPOTENCY_KEY_REUSED
    assert stand_in.count_orders(f"posada:{key}") == 1


async def test_room_types_of_an_unknown_hotel_is_not_found(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListRoomTypes(pms.ListRoomTypesRequest(hotel_id="42"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
