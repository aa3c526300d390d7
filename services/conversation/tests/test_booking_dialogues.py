"""Scripted multi-turn booking conversations in Spanish, English and Portuguese.

Every price, room and policy the tests expect is read from the same pms the service uses.
"""

from __future__ import annotations

import pytest
from conv_chat import Guest, reference_in, stay
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from posada_conversation.i18n import format_money


def double_of(offers: list[pms_pb2.Offer]) -> pms_pb2.Offer:
    return next(o for o in offers if o.room_type.category == pms_pb2.ROOM_CATEGORY_DOUBLE)


def money(offer: pms_pb2.Offer, lang: str) -> str:
    return format_money(
        offer.total_tax_included.amount_minor, offer.total_tax_included.currency_code, lang
    )


def cancellation(hotel: pms_pb2.Hotel) -> str:
    return next(p.text for p in hotel.policies if p.topic == pms_pb2.POLICY_TOPIC_CANCELLATION)


async def test_spanish_guest_books_from_hola_to_reference(service, pms):  # type: ignore[no-untyped-def]
    hotel = await pms.hotel(language="es")
    ci, co = stay("del 12 al 14 de marzo")
    offers = await pms.offers(ci, co, 2, language="es")
    ana = Guest(service.stub)
    r = await ana.say("hola")
    assert r.language == "es" and hotel.name in ana.text()
    assert ana.buttons() == ["menu:availability", "menu:booking", "menu:human"]

    await ana.say("quiero reservar una habitación")
    assert "fechas" in ana.text()
    await ana.say("del 12 al 14 de marzo")
    assert "adults:2" in ana.buttons()  # one question at a time: now the guests, as a list
    await ana.tap("adults:2", "2 adultos")
    assert ana.buttons() == [f"offer:{o.room_type.room_type_id}" for o in offers]  # real offers
    for offer in offers:
        assert money(offer, "es") in ana.text()  # formatted es-ES from minor units

    await ana.say("la doble")
    assert "nombre" in ana.text()
    await ana.say("juan pérez")
    assert "e-mail" in ana.text()
    await ana.say("juan@example.com")
    summary = ana.text()
    double = double_of(offers)
    assert (
        money(double, "es") in summary
        and cancellation(hotel) in summary
        and "Juan Pérez" in summary
    )
    assert ana.buttons() == ["confirm:yes", "confirm:change", "confirm:no"]

    r = await ana.say("sí")
    reference = reference_in(ana.text())
    booking = await pms.booking(reference)
    assert booking.guest.email == "juan@example.com"
    assert booking.guest.first_name == "Juan" and booking.guest.last_name == "Pérez"
    assert booking.adults == 2 and booking.room_type_id == double.room_type.room_type_id
    assert (booking.check_in.month, booking.check_in.day) == (ci.month, ci.day)
    assert r.state == conv_pb2.CONVERSATION_STATE_ACTIVE

    rows = await service.components.repo.bookings_of(ana.conversation_id)
    assert [row["reference"] for row in rows] == [reference]
    assert (await ana.templates_used())[-1] == "messages.booked"


async def test_booking_changed_midway_in_english_requotes_and_books_the_new_choice(service, pms):  # type: ignore[no-untyped-def]
    ci, co = stay("i'd like to book a room from march 12 to 14")
    mary = Guest(service.stub, phone="447700900123", name="Mary Smith")
    await mary.say("hi there")
    assert mary.last.language == "en"
    await mary.say("I'd like to book a room from March 12 to 14")
    await mary.say("we are 2 adults")
    assert money(double_of(await pms.offers(ci, co, 2)), "en") in mary.text()
    await mary.say("the double please")
    await mary.say("Mary Smith")
    await mary.say("mary@example.com")
    assert mary.buttons()[0] == "confirm:yes"

    # Change of mind at the confirmation: one more guest → a new quote from pms.
    await mary.say("actually, make it 3 people")
    for_three = await pms.offers(ci, co, 3)
    assert mary.buttons() == [f"offer:{o.room_type.room_type_id}" for o in for_three]
    assert "3 adults" in mary.text()
    choice = for_three[0]
    await mary.tap(f"offer:{choice.room_type.room_type_id}", choice.room_type.name[:24])
    summary = mary.text()  # name and e-mail are kept: straight to the new summary
    assert (
        choice.room_type.name in summary
        and money(choice, "en") in summary
        and "Mary Smith" in summary
    )
    await mary.say("yes")
    booking = await pms.booking(reference_in(mary.text()))
    assert booking.room_type_id == choice.room_type.room_type_id and booking.adults == 3
    assert len(await service.components.repo.bookings_of(mary.conversation_id)) == 1


async def test_saying_no_at_the_summary_books_nothing(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34600999888")
    for text in ("quiero reservar una habitación", "del 20 al 23 de marzo"):
        await g.say(text)
    await g.tap("adults:2")
    await g.say("la doble")
    await g.say("juan pérez")
    await g.say("juan@example.com")
    r = await g.tap("confirm:no", "No, gracias")
    assert (await g.templates_used())[-1] == "messages.booking_declined"
    assert await service.components.repo.bookings_of(g.conversation_id) == []
    assert r.state == conv_pb2.CONVERSATION_STATE_ACTIVE


async def test_portuguese_guest_books_in_portuguese(service, pms):  # type: ignore[no-untyped-def]
    ci, co = stay("quero reservar um quarto de 12 a 14 de março para 2 pessoas")
    ana = Guest(service.stub, phone="5511988887777", name="Ana Souza")
    await ana.say("olá, boa tarde")
    assert ana.last.language == "pt" and "Olá Ana" in ana.text()
    await ana.say("quero reservar um quarto de 12 a 14 de março para 2 pessoas")
    assert (
        money(double_of(await pms.offers(ci, co, 2)), "pt") in ana.text()
        and "2 adultos" in ana.text()
    )
    await ana.say("o quarto de casal")
    await ana.say("Ana Souza")
    await ana.say("ana@example.com")
    assert "Resumo da reserva" in ana.text()
    await ana.say("sim")
    assert "Reserva confirmada" in ana.text()
    booking = await pms.booking(reference_in(ana.text()))
    assert booking.guest.email == "ana@example.com"


async def test_spanish_guest_books_by_voice_and_gets_voice_replies(service, pms):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34611222333", name="Luis")
    r = await g.speak("quiero reservar una habitación")
    assert r.replies[0].WhichOneof("content") == "audio"
    assert r.replies[0].audio.data.startswith(b"OggS") and "fechas" in r.replies[0].audio.transcript
    await g.speak("del 2 al 4 de febrero")
    await g.speak("2")
    await g.speak("la doble")
    await g.speak("juan pérez")
    await g.speak("juan@example.com")
    r = await g.speak("sí")
    audio = [x for x in r.replies if x.WhichOneof("content") == "audio"]
    assert audio and "*" in audio[0].audio.transcript
    booking = await pms.booking(reference_in(audio[0].audio.transcript))
    assert booking.guest.email == "juan@example.com"
    history = await g.history()
    inbound = [m for m in history.messages if m.direction == conv_pb2.DIRECTION_INBOUND]
    assert inbound[0].text == "quiero reservar una habitación"  # the transcript is the history


async def test_follow_up_questions_update_the_last_availability_query(service, pms):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34644000111")
    ci, co = stay("¿hay habitaciones libres del 12 al 14 de marzo para 2 personas?")
    await g.say("¿hay habitaciones libres del 12 al 14 de marzo para 2 personas?")
    assert g.buttons() == [f"offer:{o.room_type.room_type_id}" for o in await pms.offers(ci, co, 2)]
    await g.say("¿y para 3 personas?")  # same dates, one more guest
    assert g.buttons() == [f"offer:{o.room_type.room_type_id}" for o in await pms.offers(ci, co, 3)]
    assert "3 adultos" in g.text()
    ci2, co2 = stay("¿y del 20 al 23 de marzo?")
    await g.say("¿y del 20 al 23 de marzo?")  # new dates, still 3 guests
    assert g.buttons() == [
        f"offer:{o.room_type.room_type_id}" for o in await pms.offers(ci2, co2, 3)
    ]
    assert "3 noches" in g.text() and "3 adultos" in g.text()
    await g.say("la más barata")  # pms lists the cheapest first
    assert (await g.templates_used())[-1] == "messages.ask_name"


@pytest.mark.parametrize(
    ("lang", "phone", "turns", "done"),
    [
        (
            "en",
            "447700900777",
            [
                "I want to book a room",
                "from March 12 to 14",
                "two adults",
                "the double please",
                "Mary Smith",
                "mary@example.com",
                "yes",
            ],
            "booking is confirmed",
        ),
        (
            "pt",
            "5511966665555",
            [
                "quero reservar um quarto",
                "de 12 a 14 de março",
                "duas pessoas",
                "o quarto de casal",
                "Ana Souza",
                "ana@example.com",
                "sim",
            ],
            "Reserva confirmada",
        ),
    ],
)
async def test_voice_booking_in_english_and_portuguese(service, pms, lang, phone, turns, done):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone=phone, name="Guest")
    for text in turns:
        r = await g.speak(text)
    assert r.language == lang
    audio = [x.audio for x in r.replies if x.WhichOneof("content") == "audio"]
    assert audio and done in audio[0].transcript and audio[0].data.startswith(b"OggS")
    booking = await pms.booking(reference_in(audio[0].transcript))
    assert booking.adults == 2


async def test_gmail_guest_is_not_asked_for_the_email_and_is_verified_by_it(service, pms):  # type: ignore[no-untyped-def]
    from hotel.channel.v1 import message_pb2

    g = Guest(
        service.stub,
        phone="",
        name="Lucía",
        channel=message_pb2.CHANNEL_GMAIL,
        email="lucia@example.com",
    )
    g.guest.id = "lucia@example.com"
    await g.say("quiero reservar una habitación")
    await g.say("del 20 al 23 de marzo")
    await g.tap("adults:2")
    await g.say("la doble")
    await g.say("juan pérez")
    assert "teléfono" in g.text()  # no e-mail question (we have it), but pms needs a phone
    await g.say("+34 611 222 444")
    assert "lucia@example.com" in g.text() and g.buttons()[0] == "confirm:yes"
    await g.say("sí")
    reference = reference_in(g.text())
    assert (await pms.booking(reference)).guest.email == "lucia@example.com"

    again = Guest(
        service.stub,
        phone="",
        name="Lucía",
        channel=message_pb2.CHANNEL_GMAIL,
        email="lucia@example.com",
    )
    again.guest.id = "lucia@example.com"
    await again.say("quiero cancelar mi reserva")
    await again.say(reference)
    assert again.buttons()[0] == "confirm:yes"  # verified by the sender's address


async def test_no_while_giving_details_books_nothing_and_keeps_the_search(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34600777666")
    await g.say("quiero reservar una habitación")
    await g.say("del 20 al 23 de marzo")
    await g.tap("adults:2")
    await g.say("la doble")
    assert (await g.templates_used())[-1] == "messages.ask_name"
    await g.say("no, mejor lo dejo")
    assert (await g.templates_used())[-1] == "messages.booking_declined"
    await g.say("¿y para 3 personas?")  # the last search is still there
    assert "3 adultos" in g.text() and "3 noches" in g.text()
    assert await service.components.repo.bookings_of(g.conversation_id) == []


async def test_change_button_at_the_summary_shows_the_offers_again(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34600777665")
    await g.say("quiero reservar una habitación")
    await g.say("del 20 al 23 de marzo")
    await g.tap("adults:2")
    offers = g.buttons()
    await g.say("la doble")
    await g.say("juan pérez")
    await g.say("juan@example.com")
    await g.tap("confirm:change", "Cambiar algo")
    assert g.buttons() == offers and "qué quieres cambiar" in g.text()


async def test_big_groups_are_asked_again_not_quoted(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub, phone="34600777664")
    await g.say("quiero reservar una habitación")
    await g.say("del 20 al 23 de marzo")
    await g.say("somos 12 personas")
    assert (await g.templates_used())[-1] == "messages.too_many_guests" and "€" not in g.text()


async def test_a_large_voice_note_is_accepted(service):  # type: ignore[no-untyped-def]
    from hotel.channel.v1 import message_pb2

    g = Guest(service.stub)
    data = b"VOICE:quiero reservar una habitaci\xc3\xb3n" + b" " * (12 * 1024 * 1024)  # ~12 MB note
    media = message_pb2.Media(
        media_id="big", mime_type="audio/ogg; codecs=opus", data=data, voice=True
    )
    r = await g.send(g.message(kind=message_pb2.MESSAGE_KIND_AUDIO, media=media))
    assert r.replies and "fechas" in g.text()


async def test_voice_replies_per_hotel_setting(conversation):  # type: ignore[no-untyped-def]
    async with conversation(voice_replies="never", voice_replies_by_hotel={"1": "always"}) as svc:
        g = Guest(svc.stub)
        r = await g.say("gracias")  # typed, but hotel 1 always answers with a voice note too
        assert [x.WhichOneof("content") for x in r.replies] == ["audio"]
        assert r.replies[0].audio.transcript and r.replies[0].audio.mime_type.startswith(
            "audio/ogg"
        )
    async with conversation(voice_replies="never") as svc:
        g = Guest(svc.stub)
        r = await g.speak("gracias")  # spoken, but voice replies are off
        assert [x.WhichOneof("content") for x in r.replies] == ["text"]
