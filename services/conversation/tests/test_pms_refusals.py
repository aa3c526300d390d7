"""Each reason pms gives for refusing a booking reaches the guest as the right message.

End to end: the real pms over the QloApps stand-in; the world changes between the quote and
the guest's "yes" (the last rooms sold, the price changed, the room made smaller, QloApps
refusing the booking), and pms answers with `google.rpc.ErrorInfo.reason`. The guest must hear
what actually happened, not "the offer is gone" for everything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from conv_chat import Guest, reference_in, stay
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from hotel.pms.v1.error_reason import PmsErrorReason
from hotel.type.v1 import date_pb2
from posada_common.errors import error_reason
from posada_common.testing import trusted_channel

pytestmark = pytest.mark.usefixtures("needs_real_pms")


@pytest.fixture
def needs_real_pms(mesh):  # type: ignore[no-untyped-def]
    if not mesh.real_pms:
        pytest.skip("needs the real pms over the QloApps stand-in (CONV_TEST_STANDIN_PMS=1)")


def _date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


async def _at_summary(guest: Guest, phrase: str) -> Guest:
    """Drive a guest to the booking summary of the double room."""
    await guest.say("quiero reservar una habitación")
    await guest.say(phrase)
    await guest.tap("adults:2")
    await guest.say("la doble")
    await guest.say("juan pérez")
    await guest.say("juan@example.com")
    assert guest.buttons()[0] == "confirm:yes", guest.text()
    return guest


async def _double(pms, ci: dt.date, co: dt.date) -> pms_pb2.Offer:  # type: ignore[no-untyped-def]
    offers = await pms.offers(ci, co, 2)
    return next(o for o in offers if o.room_type.category == pms_pb2.ROOM_CATEGORY_DOUBLE)


@contextlib.asynccontextmanager
async def _sim_change(mesh, sql: str, undo: str, *args: object) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """Change the stand-in's data (what a hotelier does in QloApps' back office), then undo it.

    pms caches room types; the change is made visible the way an operator would, by clearing
    pms's static cache, before and after.
    """
    cache = mesh.pms.core.cache
    mesh.sim.state.conn.execute(sql, args)
    mesh.sim.state.conn.commit()
    await cache.invalidate_static()
    try:
        yield
    finally:
        mesh.sim.state.conn.execute(undo, args)
        mesh.sim.state.conn.commit()
        await cache.invalidate_static()


async def test_last_rooms_sold_before_yes_tells_the_guest_and_shows_what_is_left(  # type: ignore[no-untyped-def]
    service, pms, mesh
):
    phrase = "del 5 al 7 de mayo"
    ci, co = stay(phrase)
    mary = await _at_summary(Guest(service.stub, phone="447700900201"), phrase)
    double = await _double(pms, ci, co)
    # Other guests take every double left for these nights, straight through pms.
    async with trusted_channel(mesh.address) as channel:
        stub = pms_grpc.PmsServiceStub(channel)
        for _ in range(double.rooms_left):
            await stub.CreateBooking(
                pms_pb2.CreateBookingRequest(
                    idempotency_key=f"other-guest-{uuid.uuid4().hex}",
                    hotel_id="1",
                    room_type_id=double.room_type.room_type_id,
                    check_in=_date(ci),
                    check_out=_date(co),
                    adults=2,
                    guest=pms_pb2.GuestDetails(
                        first_name="Otro",
                        last_name="Huesped",
                        email="o@example.com",
                        phone="34600000001",
                    ),
                ),
                timeout=10,
            )
    await mary.say("sí")
    assert (await mary.templates_used())[-2:] == ["messages.offer_gone", "messages.offers"]
    assert f"offer:{double.room_type.room_type_id}" not in mary.buttons()
    assert await service.components.repo.bookings_of(mary.conversation_id) == []


async def test_price_changed_before_yes_says_so_and_requotes_the_new_price(  # type: ignore[no-untyped-def]
    service, pms, mesh
):
    phrase = "del 12 al 14 de mayo"
    ci, co = stay(phrase)
    mary = await _at_summary(Guest(service.stub, phone="447700900202"), phrase)
    double = await _double(pms, ci, co)
    async with _sim_change(
        mesh,
        "UPDATE ws_room_types SET price = price + 10 WHERE id = ?",
        "UPDATE ws_room_types SET price = price - 10 WHERE id = ?",
        int(double.room_type.room_type_id),
    ):
        await mary.say("sí")
        assert (await mary.templates_used())[-2:] == ["messages.price_changed", "messages.offers"]
        assert await service.components.repo.bookings_of(mary.conversation_id) == []
        new_price = (await _double(pms, ci, co)).total_tax_included.amount_minor
        assert new_price > double.total_tax_included.amount_minor
        assert f"offer:{double.room_type.room_type_id}" in mary.buttons()


async def test_room_made_smaller_before_yes_says_it_no_longer_fits(service, pms, mesh):  # type: ignore[no-untyped-def]
    phrase = "del 19 al 21 de mayo"
    ci, co = stay(phrase)
    mary = await _at_summary(Guest(service.stub, phone="447700900203"), phrase)
    double = await _double(pms, ci, co)
    async with _sim_change(
        mesh,
        "UPDATE ws_hotel_room_types SET max_adults = max_adults - 1, "
        "max_guests = max_guests - 1 WHERE id_product = ?",
        "UPDATE ws_hotel_room_types SET max_adults = max_adults + 1, "
        "max_guests = max_guests + 1 WHERE id_product = ?",
        int(double.room_type.room_type_id),
    ):
        await mary.say("sí")
        assert (await mary.templates_used())[-2:] == ["messages.room_too_small", "messages.offers"]
        assert f"offer:{double.room_type.room_type_id}" not in mary.buttons()
    assert await service.components.repo.bookings_of(mary.conversation_id) == []


async def test_pms_refusing_the_booking_hands_over_to_a_person(service, mesh):  # type: ignore[no-untyped-def]
    phrase = "del 26 al 28 de mayo"
    mary = await _at_summary(Guest(service.stub, phone="447700900204"), phrase)
    await mesh.sim.set_faults(status=400, methods=["POST"], path_prefix="/api/bookings", count=1)
    try:
        await mary.say("sí")
    finally:
        await mesh.sim.clear_faults()
    assert (await mary.templates_used())[-1] == "messages.booking_failed"
    history = await mary.history()
    assert history.conversation.handoff_reason == "booking_rejected"


@pytest.mark.parametrize(
    ("reason", "template"),
    [
        (PmsErrorReason.SOLD_OUT, "messages.modify_unavailable"),
        (PmsErrorReason.OVER_CAPACITY, "messages.modify_too_many_guests"),
        (PmsErrorReason.CHECKED_IN, "messages.cannot_change"),
        (PmsErrorReason.CANCELLED, "messages.cannot_change"),
        ("SOMETHING_NEW", "messages.modify_unavailable"),
    ],
)
def test_each_change_refusal_has_its_own_message(reason, template):  # type: ignore[no-untyped-def]
    from posada_conversation.deps import DependencyError
    from posada_conversation.pms_errors import change_refusal

    exc = DependencyError("pms", grpc.StatusCode.FAILED_PRECONDITION, "refused", reason)
    assert change_refusal(exc) == template


async def test_pms_reasons_travel_in_error_info(mesh):  # type: ignore[no-untyped-def]
    async with trusted_channel(mesh.address) as channel:
        stub = pms_grpc.PmsServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetHotel(pms_pb2.GetHotelRequest(hotel_id="999"), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_reason(err.value) == PmsErrorReason.HOTEL_NOT_FOUND


async def _change_proposed(service, pms, *, phone: str, dates: str) -> tuple[Guest, str]:  # type: ignore[no-untyped-def]
    """A guest booked a double, then asked to move it and was quoted the change."""
    booker = await _at_summary(Guest(service.stub, phone=phone), dates)
    await booker.say("sí")
    reference = reference_in(booker.text())
    mary = Guest(service.stub, phone=phone, name="Mary")
    await mary.say("I want to change my booking")
    await mary.say(reference)
    await mary.say("from march 20 to 23 instead")
    assert "New total" in mary.text(), mary.text()
    return mary, reference


async def test_room_made_smaller_before_a_change_is_confirmed_keeps_the_booking(  # type: ignore[no-untyped-def]
    service, pms, mesh
):
    mary, reference = await _change_proposed(
        service, pms, phone="447700900205", dates="del 6 al 8 de abril"
    )
    before = await pms.booking(reference)
    async with _sim_change(
        mesh,
        "UPDATE ws_hotel_room_types SET max_adults = max_adults - 1, "
        "max_guests = max_guests - 1 WHERE id_product = ?",
        "UPDATE ws_hotel_room_types SET max_adults = max_adults + 1, "
        "max_guests = max_guests + 1 WHERE id_product = ?",
        int(before.room_type_id),
    ):
        await mary.say("yes")
    assert (await mary.templates_used())[-1] == "messages.modify_too_many_guests"
    assert reference in mary.text()
    after = await pms.booking(reference)
    assert (after.check_in, after.check_out) == (before.check_in, before.check_out)


async def test_guest_checked_in_before_a_change_is_confirmed_is_told_it_cannot_change(  # type: ignore[no-untyped-def]
    service, pms, mesh
):
    mary, reference = await _change_proposed(
        service, pms, phone="447700900206", dates="del 13 al 15 de abril"
    )
    before = await pms.booking(reference)
    # The front desk checks the guest in (QloApps' room status 2) while the guest decides.
    mesh.sim.state.conn.execute(
        "UPDATE ws_room_bookings SET id_status = 2 WHERE id_order = ?", (int(before.booking_id),)
    )
    mesh.sim.state.conn.commit()
    await mary.say("yes")
    assert (await mary.templates_used())[-1] == "messages.cannot_change"
    after = await pms.booking(reference)
    assert after.status == pms_pb2.BOOKING_STATUS_CHECKED_IN
    assert (after.check_in, after.check_out) == (before.check_in, before.check_out)
