"""Cancel, modify and status of an existing booking: found by reference, guest verified first."""

from __future__ import annotations

from conv_chat import Guest, reference_in, stay
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from posada_conversation.i18n import format_money


async def book(service, *, phone: str, email: str, dates: str) -> str:  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone=phone)
    await g.say("quiero reservar una habitación")
    await g.say(dates)
    await g.tap("adults:2")
    await g.say("la doble")
    await g.say("juan pérez")
    await g.say(email)
    await g.say("sí")
    return reference_in(g.text())


def cancellation(hotel: pms_pb2.Hotel) -> str:
    return next(p.text for p in hotel.policies if p.topic == pms_pb2.POLICY_TOPIC_CANCELLATION)


async def test_cancellation_from_the_same_phone_is_verified_and_cancels(service, pms):  # type: ignore[no-untyped-def]
    reference = await book(
        service, phone="34622000001", email="juan@example.com", dates="del 16 al 18 de febrero"
    )
    g = Guest(service.stub, phone="34622000001")  # new conversation, same WhatsApp number
    await g.say("quiero cancelar mi reserva")
    assert "número de reserva" in g.text()
    await g.say(f"es la {reference}")
    assert reference in g.text() and g.buttons()[0] == "confirm:yes"  # verified by phone
    # The hotel's policy, from pms, in the guest's language.
    assert cancellation(await pms.hotel(language="es")) in g.text()
    await g.say("sí")
    assert "cancelada" in g.text()
    assert (await pms.booking(reference)).status == pms_pb2.BOOKING_STATUS_CANCELLED


async def test_cancellation_from_another_phone_needs_the_booking_email(service, pms):  # type: ignore[no-untyped-def]
    reference = await book(
        service, phone="34622000002", email="juan@example.com", dates="del 6 al 8 de abril"
    )
    booking = await pms.booking(reference)
    # The name a Spanish-speaking guest would be shown: what must not leak to the stranger.
    room_es = (await pms.booking(reference, language="es")).room_type_name
    stranger = Guest(service.stub, phone="34699999999")
    await stranger.say("quiero cancelar mi reserva")
    await stranger.say(f"es la {reference}")
    assert "e-mail" in stranger.text() and room_es not in stranger.text()  # nothing disclosed
    await stranger.say("otro@example.com")
    assert "no puedo comprobar" in stranger.text()
    assert room_es not in stranger.text() and "abril" not in stranger.text()
    assert (await pms.booking(reference)).status == booking.status

    owner_elsewhere = Guest(service.stub, phone="34688888888")
    await owner_elsewhere.say("quiero cancelar mi reserva")
    await owner_elsewhere.say(reference)
    await owner_elsewhere.say("juan@example.com")  # the e-mail on the booking verifies
    assert owner_elsewhere.buttons()[0] == "confirm:yes"
    await owner_elsewhere.say("no")
    assert (await owner_elsewhere.templates_used())[-1] == "messages.cancel_kept"
    assert (await pms.booking(reference)).status == booking.status


async def test_modification_in_english_moves_the_dates_after_confirmation(service, pms):  # type: ignore[no-untyped-def]
    reference = await book(
        service, phone="447700900555", email="mary@example.com", dates="del 13 al 15 de abril"
    )
    before = await pms.booking(reference)
    ci, co = stay("from march 20 to 23 instead")
    mary = Guest(service.stub, phone="447700900555", name="Mary")
    await mary.say("I want to change my booking")
    assert "booking number" in mary.text()
    await mary.say(reference)
    assert "What would you like to change" in mary.text()
    quote = (await pms.offers(ci, co, before.adults, before.room_type_id))[0]
    await mary.say("from March 20 to 23 instead")
    new_total = format_money(
        quote.total_tax_included.amount_minor, quote.total_tax_included.currency_code, "en"
    )
    assert f"New total: {new_total}" in mary.text()  # quoted by pms for the new dates
    await mary.say("yes")
    assert mary.last.language == "en" and "Done" in mary.text(), mary.text()
    after = await pms.booking(reference)
    assert (after.check_in.month, after.check_in.day, after.check_out.day) == (
        ci.month,
        ci.day,
        co.day,
    )


async def test_status_in_portuguese_shows_the_room_named_in_portuguese(service, pms):  # type: ignore[no-untyped-def]
    reference = await book(
        service, phone="5511977776666", email="ana@example.com", dates="del 20 al 22 de abril"
    )
    room_pt = (await pms.booking(reference, language="pt")).room_type_name
    others = {
        (await pms.booking(reference, language="es")).room_type_name,
        (await pms.booking(reference)).room_type_name,  # the PMS default language's
    }
    assert room_pt and room_pt not in others  # so the checks below mean something
    ana = Guest(service.stub, phone="5511977776666", name="Ana")
    await ana.say("olá, boa tarde")
    await ana.say("quero ver o status da minha reserva")
    await ana.say(reference)
    assert ana.last.language == "pt"
    assert "Sua reserva" in ana.text() and room_pt in ana.text(), ana.text()
    assert not any(name in ana.text() for name in others), ana.text()
    assert "manage:cancel" in ana.buttons()


async def test_unknown_reference_is_said_plainly(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34633000000")
    await g.say("quiero cancelar mi reserva")
    await g.say("HB-999999")
    assert "No encuentro" in g.text() and "HB-999999" in g.text()


async def test_status_buttons_lead_to_cancellation_and_a_second_cancel_is_refused(service, pms):  # type: ignore[no-untyped-def]
    reference = await book(
        service, phone="34622000077", email="juan@example.com", dates="del 9 al 11 de febrero"
    )
    g = Guest(service.stub, phone="34622000077")
    await g.tap("menu:booking", "Mi reserva")
    await g.say(reference)
    assert "manage:cancel" in g.buttons()
    await g.tap("manage:cancel", "Cancelar reserva")
    await g.tap("confirm:yes", "Cancelar reserva")
    assert (await pms.booking(reference)).status == pms_pb2.BOOKING_STATUS_CANCELLED
    await g.say("quiero cancelar mi reserva")  # the verified booking of this conversation
    assert (await g.templates_used())[-1] == "messages.already_cancelled"
    row = next(r for r in await service.components.repo.bookings_of_reference(reference))
    assert row["status"] == pms_pb2.BOOKING_STATUS_CANCELLED  # our copy follows
