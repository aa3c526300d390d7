"""TEMPORARY stand-ins for nlp, pms, audio and the gateway's ChannelService, served over real gRPC.

They exist only so the conversation tests can run while the real services are built; the
`mesh` fixture in conftest.py prefers the real nlp and pms servicers (with the QloApps stand-in)
when they are importable. The nlp stand-in is *scripted*: it knows exactly the phrases the
tests say (`SCRIPT`) and resolves their dates against today's date, the way the real nlp does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field

import grpc
from hotel.audio.v1 import audio_service_pb2 as audio_pb2
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.channel.v1 import channel_service_pb2 as channel_pb2
from hotel.channel.v1 import channel_service_pb2_grpc as channel_grpc
from hotel.channel.v1 import message_pb2
from hotel.nlp.v1 import nlp_service_pb2 as nlp_pb2
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from hotel.type.v1 import date_pb2, money_pb2

# -- nlp (scripted) ---------------------------------------------------------------------


def next_date(today: dt.date, month: int, day: int) -> dt.date:
    candidate = dt.date(today.year, month, day)
    return candidate if candidate >= today else dt.date(today.year + 1, month, day)


def _stay(month: int, a: int, b: int):  # type: ignore[no-untyped-def]
    return lambda today: [
        ("check_in", next_date(today, month, a).isoformat()),
        ("check_out", next_date(today, month, a).replace(day=b).isoformat()),
    ]


def _e(*pairs: tuple[str, str]):  # type: ignore[no-untyped-def]
    return lambda today: list(pairs)


# text (lower-case) → (language, intent, confidence, entities(today))
SCRIPT: dict[str, tuple[str, str, float, object]] = {
    # Spanish
    "hola": ("es", "greeting", 0.98, _e()),
    "quiero reservar una habitación": ("es", "make_reservation", 0.95, _e()),
    "del 12 al 14 de marzo": ("es", "check_availability", 0.9, _stay(3, 12, 14)),
    "del 20 al 23 de marzo": ("es", "check_availability", 0.9, _stay(3, 20, 23)),
    "del 2 al 4 de febrero": ("es", "check_availability", 0.9, _stay(2, 2, 4)),
    "del 9 al 11 de febrero": ("es", "check_availability", 0.9, _stay(2, 9, 11)),
    "del 16 al 18 de febrero": ("es", "check_availability", 0.9, _stay(2, 16, 18)),
    "del 6 al 8 de abril": ("es", "check_availability", 0.9, _stay(4, 6, 8)),
    "del 13 al 15 de abril": ("es", "check_availability", 0.9, _stay(4, 13, 15)),
    "del 20 al 22 de abril": ("es", "check_availability", 0.9, _stay(4, 20, 22)),
    "del 5 al 7 de mayo": ("es", "check_availability", 0.9, _stay(5, 5, 7)),
    "del 12 al 14 de mayo": ("es", "check_availability", 0.9, _stay(5, 12, 14)),
    "del 19 al 21 de mayo": ("es", "check_availability", 0.9, _stay(5, 19, 21)),
    "del 26 al 28 de mayo": ("es", "check_availability", 0.9, _stay(5, 26, 28)),
    "2": ("es", "check_availability", 0.6, _e(("adults", "2"))),
    "¿y del 20 al 23 de marzo?": ("es", "check_availability", 0.9, _stay(3, 20, 23)),
    "¿hay habitaciones libres del 12 al 14 de marzo para 2 personas?": (
        "es",
        "check_availability",
        0.95,
        lambda today: [*_stay(3, 12, 14)(today), ("adults", "2")],
    ),
    "¿y para 3 personas?": ("es", "check_availability", 0.9, _e(("adults", "3"))),
    "la más barata": ("es", "ask_price", 0.7, _e()),
    "la suite": ("es", "make_reservation", 0.7, _e(("room_type", "suite"))),
    "la doble": ("es", "make_reservation", 0.7, _e(("room_type", "double"))),
    "juan pérez": ("es", "make_reservation", 0.6, _e(("person_name", "Juan Pérez"))),
    "juan@example.com": ("es", "make_reservation", 0.6, _e(("email", "juan@example.com"))),
    "sí": ("es", "affirm", 0.97, _e()),
    "si, confirma": ("es", "affirm", 0.97, _e()),
    "no": ("es", "deny", 0.97, _e()),
    "no, mejor lo dejo": ("es", "deny", 0.9, _e()),
    "somos 12 personas": ("es", "check_availability", 0.9, _e(("adults", "12"))),
    "gracias": ("es", "thanks", 0.97, _e()),
    "quiero cancelar mi reserva": ("es", "cancel_reservation", 0.95, _e()),
    "¿dónde están?": ("es", "ask_location", 0.95, _e()),
    "¿tienen piscina?": ("es", "ask_amenities", 0.95, _e(("amenity", "pool"))),
    "¿tienen gimnasio?": ("es", "ask_amenities", 0.95, _e(("amenity", "gym"))),
    "¿a qué hora es el check-in?": ("es", "ask_policies", 0.95, _e()),
    "¿se admiten mascotas?": ("es", "ask_policies", 0.95, _e()),
    "¿cuál es la política de cancelación?": ("es", "ask_policies", 0.95, _e()),
    "quiero hablar con una persona": ("es", "request_human", 0.97, _e()),
    "¿puedo salir más tarde el domingo?": ("es", "late_checkout", 0.93, _e()),
    "necesito toallas en la habitación": ("es", "service_request", 0.93, _e()),
    "asdf qwerty": ("es", "out_of_scope", 0.3, _e()),
    "¿cuál es la capital de mongolia?": ("es", "out_of_scope", 0.4, _e()),
    "¿quién ganó el partido?": ("es", "out_of_scope", 0.4, _e()),
    # English
    "hi there": ("en", "greeting", 0.98, _e()),
    "i'd like to book a room from march 12 to 14": (
        "en",
        "make_reservation",
        0.93,
        _stay(3, 12, 14),
    ),
    "we are 2 adults": ("en", "check_availability", 0.8, _e(("adults", "2"))),
    "the double please": ("en", "make_reservation", 0.7, _e(("room_type", "double"))),
    "actually, make it 3 people": ("en", "check_availability", 0.8, _e(("adults", "3"))),
    "the suite": ("en", "make_reservation", 0.7, _e(("room_type", "suite"))),
    "mary smith": ("en", "make_reservation", 0.6, _e(("person_name", "Mary Smith"))),
    "mary@example.com": ("en", "make_reservation", 0.6, _e(("email", "mary@example.com"))),
    "i want to book a room": ("en", "make_reservation", 0.95, _e()),
    "from march 12 to 14": ("en", "check_availability", 0.9, _stay(3, 12, 14)),
    "two adults": ("en", "check_availability", 0.8, _e(("adults", "2"))),
    "ok": ("en", "affirm", 0.9, _e()),
    "do you have a swimming pool at the hotel?": (
        "en",
        "ask_amenities",
        0.95,
        _e(("amenity", "pool")),
    ),
    "yes": ("en", "affirm", 0.97, _e()),
    "i want to cancel my booking": ("en", "cancel_reservation", 0.95, _e()),
    "what time is check-out?": ("en", "ask_policies", 0.95, _e()),
    "do you have a pool?": ("en", "ask_amenities", 0.95, _e(("amenity", "pool"))),
    "where are you located?": ("en", "ask_location", 0.95, _e()),
    "i want to change my booking": ("en", "modify_reservation", 0.95, _e()),
    "from march 20 to 23 instead": ("en", "modify_reservation", 0.85, _stay(3, 20, 23)),
    # Portuguese
    "olá, boa tarde": ("pt", "greeting", 0.98, _e()),
    "quero reservar um quarto de 12 a 14 de março para 2 pessoas": (
        "pt",
        "make_reservation",
        0.94,
        lambda today: [*_stay(3, 12, 14)(today), ("adults", "2")],
    ),
    "o quarto de casal": ("pt", "make_reservation", 0.7, _e(("room_type", "double"))),
    "ana souza": ("pt", "make_reservation", 0.6, _e(("person_name", "Ana Souza"))),
    "ana@example.com": ("pt", "make_reservation", 0.6, _e(("email", "ana@example.com"))),
    "quero reservar um quarto": ("pt", "make_reservation", 0.95, _e()),
    "de 12 a 14 de março": ("pt", "check_availability", 0.9, _stay(3, 12, 14)),
    "duas pessoas": ("pt", "check_availability", 0.8, _e(("adults", "2"))),
    "sim": ("pt", "affirm", 0.97, _e()),
    "quero ver o status da minha reserva": ("pt", "reservation_status", 0.95, _e()),
    "vocês têm estacionamento?": ("pt", "ask_amenities", 0.95, _e(("amenity", "parking"))),
    "vocês aceitam animais de estimação?": ("pt", "ask_policies", 0.95, _e()),
    "qual é a política de cancelamento?": ("pt", "ask_policies", 0.95, _e()),
}


class ScriptedNlp(nlp_grpc.NlpServiceServicer):
    def __init__(self) -> None:
        self.requests: list[nlp_pb2.ParseRequest] = []

    async def Parse(self, request, context):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        ref = request.reference_date
        today = dt.date(ref.year, ref.month, ref.day) if ref.year else dt.date.today()
        text = request.text.strip().lower()
        lang, intent, conf, ents = SCRIPT.get(
            text, (request.language_hint or "es", "out_of_scope", 0.2, _e())
        )
        refs = [
            w
            for w in request.text.replace(",", " ").split()
            if w.upper().startswith("HB-")
            or (w.isdigit() and len(w) >= 4)
            or (w.isalpha() and w.isupper() and len(w) == 9)
        ]
        entities = [nlp_pb2.Entity(type=t, value=v, text=v) for t, v in ents(today)]  # type: ignore[operator]
        entities += [nlp_pb2.Entity(type="booking_ref", value=r.strip("#.?"), text=r) for r in refs]
        if text not in SCRIPT and refs:
            intent, conf = request.expected_intent or "reservation_status", 0.6
        if text not in SCRIPT and "@" in text:
            intent, conf = request.expected_intent or "out_of_scope", 0.6
            entities.append(nlp_pb2.Entity(type="email", value=text.strip(), text=text))
        phone = "".join(ch for ch in text if ch.isdigit())
        if text not in SCRIPT and not refs and 7 <= len(phone) <= 15 and "@" not in text:
            # Like the real nlp: a phone number is an entity (conversation doesn't re-read it).
            intent, conf = request.expected_intent or "out_of_scope", 0.6
            entities.append(nlp_pb2.Entity(type="phone", value=phone, text=text))
        return nlp_pb2.ParseResponse(
            language=lang,
            intent=nlp_pb2.Intent(name=intent, confidence=conf),
            intent_ranking=[nlp_pb2.Intent(name=intent, confidence=conf)],
            entities=entities,
            model_version="scripted-standin",
        )


# -- pms --------------------------------------------------------------------------------


def _money(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", amount_minor=amount)


def _d(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def _pd(value: date_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


HOTEL = pms_pb2.Hotel(
    hotel_id="1",
    name="Posada del Mar",
    address=pms_pb2.Address(
        line1="Calle Mayor 10", city="Málaga", postcode="29001", country_code="ES"
    ),
    latitude=36.7213,
    longitude=-4.4214,
    phone="+34952000000",
    email="reservas@posadadelmar.example",
    check_in_time="15:00",
    check_out_time="11:00",
    time_zone="Europe/Madrid",
    currency_code="EUR",
    policies=[
        pms_pb2.Policy(
            topic=pms_pb2.POLICY_TOPIC_CANCELLATION,
            text="Cancelación gratuita hasta 48 horas antes de la llegada.",
        ),
        pms_pb2.Policy(
            topic=pms_pb2.POLICY_TOPIC_PETS,
            text="Se admiten mascotas pequeñas (suplemento de 15 € por noche).",
        ),
    ],
    amenities=["wifi", "parking", "pool", "breakfast"],
    description="Hotel boutique junto al mar.",
    rating=4,
)

# The stand-in hotel's policies in the other languages (GetHotel `language`; es is HOTEL's).
POLICIES_BY_LANGUAGE = {
    "en": [
        pms_pb2.Policy(
            topic=pms_pb2.POLICY_TOPIC_CANCELLATION,
            text="Free cancellation up to 48 hours before arrival.",
        ),
        pms_pb2.Policy(
            topic=pms_pb2.POLICY_TOPIC_PETS, text="Small pets are welcome (15 € per night)."
        ),
    ],
    "pt": [
        pms_pb2.Policy(
            topic=pms_pb2.POLICY_TOPIC_CANCELLATION,
            text="Cancelamento gratuito até 48 horas antes da chegada.",
        ),
        pms_pb2.Policy(
            topic=pms_pb2.POLICY_TOPIC_PETS,
            text="Aceitamos animais de estimação pequenos (taxa de 15 € por noite).",
        ),
    ],
}

ROOMS = [
    (
        pms_pb2.RoomType(
            room_type_id="11",
            hotel_id="1",
            name="Doble Estándar",
            category=pms_pb2.ROOM_CATEGORY_DOUBLE,
            max_adults=2,
            max_occupancy=3,
        ),
        9000,
        40,
    ),
    (
        pms_pb2.RoomType(
            room_type_id="12",
            hotel_id="1",
            name="Suite Junior",
            category=pms_pb2.ROOM_CATEGORY_SUITE,
            max_adults=3,
            max_occupancy=4,
        ),
        15000,
        10,
    ),
    (
        pms_pb2.RoomType(
            room_type_id="13",
            hotel_id="1",
            name="Familiar",
            category=pms_pb2.ROOM_CATEGORY_FAMILY,
            max_adults=4,
            max_occupancy=5,
        ),
        12000,
        10,
    ),
]


# The room type names in the other languages (booking reads' `language`; es is ROOMS').
ROOM_NAMES_BY_LANGUAGE = {
    "en": {"11": "Standard Double", "12": "Junior Suite", "13": "Family Room"},
    "pt": {"11": "Duplo Standard", "12": "Suíte Júnior", "13": "Quarto Familiar"},
}


def _in_language(booking: pms_pb2.Booking, language: str) -> pms_pb2.Booking:
    """A copy of the booking with its room type named in `language` (ISO 639-1, "" = es)."""
    named = pms_pb2.Booking()
    named.CopyFrom(booking)
    names = ROOM_NAMES_BY_LANGUAGE.get(language.split("-")[0].lower(), {})
    named.room_type_name = names.get(booking.room_type_id, booking.room_type_name)
    return named


@dataclass
class StandinPms(pms_grpc.PmsServiceServicer):
    bookings: dict[str, pms_pb2.Booking] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    create_calls: int = 0
    _ids = itertools.count(1001)

    def _room(self, room_type_id: str):  # type: ignore[no-untyped-def]
        return next((r for r in ROOMS if r[0].room_type_id == room_type_id), None)

    def _left(self, room_type_id: str, ci: dt.date, co: dt.date, ignore: str = "") -> int:
        _, _, stock = self._room(room_type_id)  # type: ignore[misc]
        used = sum(
            1
            for b in self.bookings.values()
            if b.room_type_id == room_type_id
            and b.status == pms_pb2.BOOKING_STATUS_CONFIRMED
            and b.booking_id != ignore
            and _pd(b.check_in) < co
            and ci < _pd(b.check_out)
        )
        return stock - used

    async def GetHotel(self, request, context):  # type: ignore[no-untyped-def]
        if request.hotel_id != "1":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such hotel")
        hotel = pms_pb2.Hotel()
        hotel.CopyFrom(HOTEL)
        if request.language in POLICIES_BY_LANGUAGE:
            del hotel.policies[:]
            hotel.policies.extend(POLICIES_BY_LANGUAGE[request.language])
        return pms_pb2.GetHotelResponse(hotel=hotel)

    async def CheckAvailability(self, request, context):  # type: ignore[no-untyped-def]
        ci, co = _pd(request.check_in), _pd(request.check_out)
        nights = (co - ci).days
        offers = []
        for room, price, _ in ROOMS:
            if request.room_type_id and room.room_type_id != request.room_type_id:
                continue
            if (
                request.adults > room.max_adults
                or request.adults + request.children > room.max_occupancy
            ):
                continue
            left = self._left(room.room_type_id, ci, co)
            if left <= 0:
                continue
            offers.append(
                pms_pb2.Offer(
                    room_type=room,
                    rooms_left=left,
                    total_tax_excluded=_money(price * nights * 100 // 110),
                    total_tax_included=_money(price * nights),
                )
            )
        offers.sort(key=lambda o: o.total_tax_included.amount_minor)
        return pms_pb2.CheckAvailabilityResponse(offers=offers, currency_code="EUR")

    async def CreateBooking(self, request, context):  # type: ignore[no-untyped-def]
        self.create_calls += 1
        if request.idempotency_key in self.by_key:
            return pms_pb2.CreateBookingResponse(
                booking=_in_language(
                    self.bookings[self.by_key[request.idempotency_key]], request.language
                ),
                replayed=True,
            )
        room = self._room(request.room_type_id)
        ci, co = _pd(request.check_in), _pd(request.check_out)
        if room is None or self._left(request.room_type_id, ci, co) <= 0:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "room no longer available")
        total = room[1] * (co - ci).days
        if (
            request.expected_total_tax_included.amount_minor
            and request.expected_total_tax_included.amount_minor != total
        ):
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "price changed")
        booking_id = str(next(self._ids))
        booking = pms_pb2.Booking(
            booking_id=booking_id,
            reference="HB-" + booking_id,
            hotel_id="1",
            room_type_id=room[0].room_type_id,
            room_type_name=room[0].name,
            check_in=request.check_in,
            check_out=request.check_out,
            adults=request.adults,
            children=request.children,
            guest=request.guest,
            status=pms_pb2.BOOKING_STATUS_CONFIRMED,
            total_tax_included=_money(total),
            idempotency_key=request.idempotency_key,
        )
        self.bookings[booking_id] = booking
        self.by_key[request.idempotency_key] = booking_id
        return pms_pb2.CreateBookingResponse(booking=_in_language(booking, request.language))

    async def FindBookings(self, request, context):  # type: ignore[no-untyped-def]
        found = [
            _in_language(b, request.language)
            for b in self.bookings.values()
            if request.reference and b.reference.upper() == request.reference.upper()
        ]
        return pms_pb2.FindBookingsResponse(bookings=found)

    async def GetBooking(self, request, context):  # type: ignore[no-untyped-def]
        if request.booking_id not in self.bookings:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such booking")
        return pms_pb2.GetBookingResponse(
            booking=_in_language(self.bookings[request.booking_id], request.language)
        )

    async def CancelBooking(self, request, context):  # type: ignore[no-untyped-def]
        booking = self.bookings.get(request.booking_id)
        if booking is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such booking")
        booking.status = pms_pb2.BOOKING_STATUS_CANCELLED
        return pms_pb2.CancelBookingResponse(booking=_in_language(booking, request.language))

    async def ModifyBooking(self, request, context):  # type: ignore[no-untyped-def]
        booking = self.bookings.get(request.booking_id)
        if booking is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such booking")
        ci = _pd(request.check_in) if request.check_in.year else _pd(booking.check_in)
        co = _pd(request.check_out) if request.check_out.year else _pd(booking.check_out)
        if self._left(booking.room_type_id, ci, co, ignore=booking.booking_id) <= 0:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not available")
        booking.check_in.CopyFrom(_d(ci))
        booking.check_out.CopyFrom(_d(co))
        # proto3 optional: unset keeps the value, children=0 removes the children.
        if request.HasField("adults"):
            booking.adults = request.adults
        if request.HasField("children"):
            booking.children = request.children
        booking.total_tax_included.CopyFrom(
            _money(self._room(booking.room_type_id)[1] * (co - ci).days)
        )  # type: ignore[index]
        return pms_pb2.ModifyBookingResponse(booking=_in_language(booking, request.language))


# -- audio ------------------------------------------------------------------------------


class StandinAudio(audio_grpc.AudioServiceServicer):
    """'Transcribes' bytes b"VOICE:<text>" to <text>; 'synthesizes' OggS + a hash of the text."""

    def __init__(self) -> None:
        self.synthesized: list[str] = []

    async def Transcribe(self, request, context):  # type: ignore[no-untyped-def]
        raw = request.audio
        if not raw.startswith(b"VOICE:"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not audio")
        return audio_pb2.TranscribeResponse(
            transcription=audio_pb2.Transcription(
                text=raw[6:].decode(), language="", duration_seconds=2.0, model="standin"
            )
        )

    async def Synthesize(self, request, context):  # type: ignore[no-untyped-def]
        self.synthesized.append(request.text)
        return audio_pb2.SynthesizeResponse(
            audio=b"OggS" + hashlib.sha256(request.text.encode()).digest(),
            mime_type="audio/ogg; codecs=opus",
            duration_seconds=1.5,
            voice=request.voice,
        )


# -- gateway ChannelService ---------------------------------------------------------------


class StandinChannel(channel_grpc.ChannelServiceServicer):
    def __init__(self) -> None:
        self.sent: dict[str, channel_pb2.SendMessageRequest] = {}

    async def SendMessage(self, request, context):  # type: ignore[no-untyped-def]
        replayed = request.idempotency_key in self.sent
        self.sent.setdefault(request.idempotency_key, request)
        message_id = "wamid." + hashlib.sha1(request.idempotency_key.encode()).hexdigest()[:16]
        return channel_pb2.SendMessageResponse(
            message_id=message_id, status=message_pb2.DELIVERY_STATUS_SENT, replayed=replayed
        )
