"""Hotel texts in the guest's language: `language` (ISO 639-1) → the shop's language id, through
a real gRPC server, the QloApps stand-in (en 1, es 2, pt 3) and real Redis."""

from __future__ import annotations

import uuid

import grpc
import pytest
import redis.asyncio as aioredis
from hotel.pms.v1 import pms_service_pb2 as pms
from pms_helpers import d, fresh_stay
from posada_common.errors import field_violations

MADRID, BUENOS_AIRES = "1", "2"

PETS_EN = "Small pets (up to 10 kg) are allowed on request for 15 EUR per night."
PETS_ES = "Se admiten mascotas pequeñas (hasta 10 kg) bajo petición por 15 EUR por noche."
PETS_PT = "Aceitamos animais de estimação de pequeno porte (até 10 kg) mediante solicitação"
CANCEL_ES = "Cancelación gratuita hasta 72 horas antes de la llegada."
CANCEL_PT = "Cancelamento gratuito até 72 horas antes da chegada."


def policy(hotel: pms.Hotel, topic: int) -> str:
    texts = [p.text for p in hotel.policies if p.topic == topic]
    assert len(texts) == 1, (topic, [(p.topic, p.text) for p in hotel.policies])
    return texts[0]


async def get_hotel(stub, hotel_id: str, language: str) -> pms.Hotel:  # type: ignore[no-untyped-def]
    req = pms.GetHotelRequest(hotel_id=hotel_id, language=language)
    return (await stub.GetHotel(req, timeout=10)).hotel


async def test_spanish_and_portuguese_policies_follow_the_requested_language(stub) -> None:  # type: ignore[no-untyped-def]
    es = await get_hotel(stub, MADRID, "es")
    assert PETS_ES in policy(es, pms.POLICY_TOPIC_PETS)
    assert policy(es, pms.POLICY_TOPIC_CHECK_IN).startswith("Entrada: A partir de las 15:00")
    assert es.description == "Hotel boutique en el Barrio de las Letras de Madrid."

    pt = await get_hotel(stub, MADRID, "pt")
    assert PETS_PT in policy(pt, pms.POLICY_TOPIC_PETS)
    assert "Cancelamento gratuito até 7 dias" in policy(pt, pms.POLICY_TOPIC_CANCELLATION)
    assert "dinheiro (EUR)" in policy(pt, pms.POLICY_TOPIC_PAYMENT)
    assert "berço" in policy(pt, pms.POLICY_TOPIC_CHILDREN)
    assert "livre de fumo" in policy(pt, pms.POLICY_TOPIC_SMOKING)
    assert pt.description == "Hotel boutique no bairro literário de Madri."
    # Every Portuguese policy line is classified like its English counterpart.
    en = await get_hotel(stub, MADRID, "en")
    assert [p.topic for p in pt.policies] == [p.topic for p in en.policies]
    assert [p.topic for p in es.policies] == [p.topic for p in en.policies]

    # Region subtags and upper case are accepted ("pt-BR" is what many clients send).
    ba_pt = await get_hotel(stub, BUENOS_AIRES, "PT-br")
    assert CANCEL_PT in policy(ba_pt, pms.POLICY_TOPIC_CANCELLATION)
    assert "exceto cães de assistência" in policy(ba_pt, pms.POLICY_TOPIC_PETS)
    hotels = (await stub.ListHotels(pms.ListHotelsRequest(language="es"), timeout=10)).hotels
    assert CANCEL_ES in policy(hotels[1], pms.POLICY_TOPIC_CANCELLATION)


async def test_no_language_or_one_the_shop_lacks_gives_the_default(stub) -> None:  # type: ignore[no-untyped-def]
    for language in ("", "fr", "de-DE"):
        hotel = await get_hotel(stub, MADRID, language)
        assert PETS_EN in policy(hotel, pms.POLICY_TOPIC_PETS), language
        assert hotel.description == "Boutique hotel in Madrid's literary quarter."


async def test_unavailable_language_falls_back_to_the_configured_default(
    server_factory,  # type: ignore[no-untyped-def]
) -> None:
    async with server_factory(pms_language_id=2) as (stub, _parts):
        for language in ("", "fr"):
            hotel = await get_hotel(stub, MADRID, language)
            assert PETS_ES in policy(hotel, pms.POLICY_TOPIC_PETS), language
        hotel = await get_hotel(stub, MADRID, "en")
        assert PETS_EN in policy(hotel, pms.POLICY_TOPIC_PETS)


@pytest.mark.parametrize("language", ["español", "e", "123", "es--", "pt BR", "x" * 40])
async def test_invalid_language_is_invalid_argument_naming_the_field(stub, language: str) -> None:  # type: ignore[no-untyped-def]
    calls = [
        stub.GetHotel(pms.GetHotelRequest(hotel_id=MADRID, language=language), timeout=10),
        stub.ListHotels(pms.ListHotelsRequest(language=language), timeout=10),
        stub.ListRoomTypes(
            pms.ListRoomTypesRequest(hotel_id=MADRID, language=language), timeout=10
        ),
    ]
    ci, co = fresh_stay()
    calls.append(
        stub.CheckAvailability(
            pms.CheckAvailabilityRequest(
                hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2, language=language
            ),
            timeout=10,
        )
    )
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "language" in field_violations(info.value)


async def test_room_types_and_offers_are_named_in_the_language_with_the_same_categories(
    stub,
) -> None:  # type: ignore[no-untyped-def]
    def by_id(room_types) -> dict[str, pms.RoomType]:  # type: ignore[no-untyped-def]
        return {r.room_type_id: r for r in room_types}

    en, pt = [
        by_id(
            (
                await stub.ListRoomTypes(
                    pms.ListRoomTypesRequest(hotel_id=MADRID, language=lang), timeout=10
                )
            ).room_types
        )
        for lang in ("en", "pt")
    ]
    assert pt["14"].name == "Suíte Júnior" and pt["15"].name == "Quarto Família"
    assert pt["13"].description == "Quarto de 20 m² com duas camas de 90 cm."
    assert {k: r.category for k, r in pt.items()} == {k: r.category for k, r in en.items()}

    ci, co = fresh_stay(3)
    req = pms.CheckAvailabilityRequest(
        hotel_id=MADRID,
        check_in=d(ci),
        check_out=d(co),
        adults=2,
        category=pms.ROOM_CATEGORY_DOUBLE,
        language="es",
    )
    offers = (await stub.CheckAvailability(req, timeout=10)).offers
    assert [o.room_type.name for o in offers] == ["Habitación Doble"]


async def test_static_cache_keys_carry_the_language(stub, redis: aioredis.Redis) -> None:  # type: ignore[no-untyped-def]
    for language in ("es", "pt", ""):
        await stub.ListRoomTypes(
            pms.ListRoomTypesRequest(hotel_id=BUENOS_AIRES, language=language), timeout=10
        )
    keys = {k.decode() async for k in redis.scan_iter(match="pms:static:*")}
    assert {"pms:static:hotels:1", "pms:static:hotels:2", "pms:static:hotels:3"} <= keys
    assert {f"pms:static:room_types:2:{lang}" for lang in (1, 2, 3)} <= keys
    assert "pms:static:languages" in keys
    # A second read in Portuguese is served from the cache, still in Portuguese.
    rts = (
        await stub.ListRoomTypes(
            pms.ListRoomTypesRequest(hotel_id=BUENOS_AIRES, language="pt"), timeout=10
        )
    ).room_types
    assert {r.name for r in rts} >= {"Suíte Tango", "Quarto Duplo"}


async def test_bookings_read_with_the_room_type_named_in_the_guests_language(stub) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    created = await stub.CreateBooking(
        pms.CreateBookingRequest(
            idempotency_key=f"lang-{uuid.uuid4().hex}",
            hotel_id=MADRID,
            room_type_id="15",
            check_in=d(ci),
            check_out=d(co),
            adults=2,
            children=1,
            guest=pms.GuestDetails(
                first_name="Joana",
                last_name="Silva",
                email=f"joana.{uuid.uuid4().hex[:8]}@example.com",
                phone="+351912345678",
            ),
            language="pt",
        ),
        timeout=15,
    )
    b = created.booking
    assert b.room_type_name == "Quarto Família"

    got = await stub.GetBooking(
        pms.GetBookingRequest(booking_id=b.booking_id, language="pt-BR"), timeout=10
    )
    assert got.booking.room_type_name == "Quarto Família"
    found = await stub.FindBookings(
        pms.FindBookingsRequest(reference=b.reference, language="pt"), timeout=10
    )
    assert [x.room_type_name for x in found.bookings] == ["Quarto Família"]
    by_email = await stub.FindBookings(
        pms.FindBookingsRequest(email=b.guest.email, language="es"), timeout=10
    )
    assert [x.room_type_name for x in by_email.bookings] == ["Habitación Familiar"]
    # No language (or one the shop lacks): the name stored with the booking, the default one.
    for language in ("", "fr"):
        plain = await stub.GetBooking(
            pms.GetBookingRequest(booking_id=b.booking_id, language=language), timeout=10
        )
        assert plain.booking.room_type_name == "Family Room", language
    # Everything else is the same booking whatever the language.
    plain.booking.room_type_name = got.booking.room_type_name
    assert plain.booking == got.booking

    # The write answers name it in the language asked for too.
    modified = await stub.ModifyBooking(
        pms.ModifyBookingRequest(booking_id=b.booking_id, adults=1, language="pt"), timeout=15
    )
    assert modified.booking.room_type_name == "Quarto Família" and modified.booking.adults == 1
    cancelled = await stub.CancelBooking(
        pms.CancelBookingRequest(booking_id=b.booking_id, language="es"), timeout=15
    )
    assert cancelled.booking.room_type_name == "Habitación Familiar"


@pytest.mark.parametrize("language", ["español", "pt BR"])
async def test_booking_calls_refuse_a_malformed_language(stub, language: str) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    calls = [
        stub.GetBooking(pms.GetBookingRequest(booking_id="1", language=language), timeout=10),
        stub.FindBookings(pms.FindBookingsRequest(reference="ABC", language=language), timeout=10),
        stub.CancelBooking(pms.CancelBookingRequest(booking_id="1", language=language), timeout=10),
        stub.ModifyBooking(
            pms.ModifyBookingRequest(booking_id="1", adults=1, language=language), timeout=10
        ),
        stub.CreateBooking(
            pms.CreateBookingRequest(
                idempotency_key=f"lang-{uuid.uuid4().hex}",
                hotel_id=MADRID,
                room_type_id="12",
                check_in=d(ci),
                check_out=d(co),
                adults=2,
                guest=pms.GuestDetails(
                    first_name="Ana",
                    last_name="Garcia",
                    email="a@example.com",
                    phone="+34600111222",
                ),
                language=language,
            ),
            timeout=10,
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "language" in field_violations(info.value)
