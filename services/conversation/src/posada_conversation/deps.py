"""Clients of nlp, pms, audio and the gateway's ChannelService, each call with a deadline.

Failures are split in two: `DependencyDown` (UNAVAILABLE, DEADLINE_EXCEEDED and other
infrastructure codes: the policy degrades honestly and hands off) and `DependencyError`
(a business answer such as NOT_FOUND or FAILED_PRECONDITION that the policy handles). No
retries here: Envoy retries idempotent calls (one retry layer only, docs/reliability.md).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from dataclasses import dataclass

import grpc
from hotel.audio.v1 import audio_service_pb2 as audio_pb2
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.channel.v1 import channel_service_pb2 as channel_pb2
from hotel.channel.v1 import channel_service_pb2_grpc as channel_grpc
from hotel.nlp.v1 import nlp_service_pb2 as nlp_pb2
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from hotel.type.v1 import date_pb2
from posada_common.errors import error_reason

_BUSINESS = {
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.OUT_OF_RANGE,
}


class DependencyDown(Exception):
    def __init__(self, dependency: str, code: grpc.StatusCode | None, detail: str = ""):
        super().__init__(f"{dependency} unavailable: {code.name if code else '?'} {detail}")
        self.dependency = dependency
        self.code = code


class DependencyError(Exception):
    def __init__(self, dependency: str, code: grpc.StatusCode, detail: str, reason: str = ""):
        super().__init__(f"{dependency}: {code.name}: {reason or '-'}: {detail}")
        self.dependency = dependency
        self.code = code
        self.detail = detail
        self.reason = reason  # google.rpc.ErrorInfo.reason, e.g. a PmsErrorReason value


# Dependencies found down during the current turn (one asyncio task per RPC, so per turn):
# lets the engine tell a handoff caused by a fault from a business one whatever the policy
# called it (degradation.py).
_down_in_turn: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "dependencies_down_in_turn", default=frozenset()
)


def dependencies_down() -> frozenset[str]:
    """Names of the dependencies that answered UNAVAILABLE/DEADLINE_EXCEEDED in this turn."""
    return _down_in_turn.get()


def start_turn() -> None:
    _down_in_turn.set(frozenset())


async def _call(dependency: str, coro):  # type: ignore[no-untyped-def]
    try:
        return await coro
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        if code in _BUSINESS:
            raise DependencyError(dependency, code, exc.details() or "", error_reason(exc)) from exc
        _down_in_turn.set(_down_in_turn.get() | {dependency})
        raise DependencyDown(dependency, code, exc.details() or "") from exc


def to_date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def from_date(value: date_pb2.Date) -> dt.date | None:
    if not value.year:
        return None
    return dt.date(value.year, value.month, value.day)


@dataclass
class Deadlines:
    nlp: float = 2.0
    pms: float = 5.0
    pms_booking: float = 10.0
    audio_transcribe: float = 30.0
    audio_synthesize: float = 15.0
    channel: float = 10.0


class Nlp:
    def __init__(self, channel: grpc.aio.Channel, deadline: float):
        self.stub = nlp_grpc.NlpServiceStub(channel)
        self.deadline = deadline

    async def parse(
        self,
        text: str,
        *,
        language_hint: str = "",
        reference_date: dt.date | None = None,
        time_zone: str = "",
        expected_intent: str = "",
    ) -> nlp_pb2.ParseResponse:
        request = nlp_pb2.ParseRequest(
            text=text[:4096],
            language_hint=language_hint,
            time_zone=time_zone,
            expected_intent=expected_intent,
        )
        if reference_date:
            request.reference_date.CopyFrom(to_date(reference_date))
        return await _call("nlp", self.stub.Parse(request, timeout=self.deadline))

    async def parse_batch(
        self, requests: list[nlp_pb2.ParseRequest]
    ) -> list[nlp_pb2.ParseResponse]:
        """Several texts (a message and its clauses) in one round trip, same order."""
        response = await _call(
            "nlp",
            self.stub.ParseBatch(
                nlp_pb2.ParseBatchRequest(requests=requests[:256]), timeout=self.deadline
            ),
        )
        return list(response.responses)


class Pms:
    def __init__(self, channel: grpc.aio.Channel, deadline: float, booking_deadline: float):
        self.stub = pms_grpc.PmsServiceStub(channel)
        self.deadline = deadline
        self.booking_deadline = booking_deadline

    async def get_hotel(self, hotel_id: str, language: str = "") -> pms_pb2.Hotel:
        """`language`: the conversation's ISO 639-1 code, for names, descriptions, policies."""
        response = await _call(
            "pms",
            self.stub.GetHotel(
                pms_pb2.GetHotelRequest(hotel_id=hotel_id, language=language),
                timeout=self.deadline,
            ),
        )
        return response.hotel

    async def list_hotels(self, language: str = "") -> list[pms_pb2.Hotel]:
        """Every active hotel of the chain, texts in `language`."""
        response = await _call(
            "pms",
            self.stub.ListHotels(
                pms_pb2.ListHotelsRequest(language=language), timeout=self.deadline
            ),
        )
        return list(response.hotels)

    async def list_room_types(self, hotel_id: str, language: str = "") -> list[pms_pb2.RoomType]:
        """The hotel's room types, names in `language`."""
        response = await _call(
            "pms",
            self.stub.ListRoomTypes(
                pms_pb2.ListRoomTypesRequest(hotel_id=hotel_id, language=language),
                timeout=self.deadline,
            ),
        )
        return list(response.room_types)

    async def check_availability(
        self, request: pms_pb2.CheckAvailabilityRequest
    ) -> pms_pb2.CheckAvailabilityResponse:
        """Callers set `request.language` to the conversation's language (room type names)."""
        return await _call("pms", self.stub.CheckAvailability(request, timeout=self.deadline))

    async def create_booking(
        self, request: pms_pb2.CreateBookingRequest
    ) -> pms_pb2.CreateBookingResponse:
        """Callers set `request.language` to the conversation's language (room type name)."""
        return await _call("pms", self.stub.CreateBooking(request, timeout=self.booking_deadline))

    async def find_bookings(
        self, hotel_id: str, reference: str, language: str = "", *, phone: str = ""
    ) -> list[pms_pb2.Booking]:
        """By reference, or by the guest's phone; `language` names the room types."""
        response = await _call(
            "pms",
            self.stub.FindBookings(
                pms_pb2.FindBookingsRequest(
                    hotel_id=hotel_id, reference=reference, phone=phone, language=language
                ),
                timeout=self.deadline,
            ),
        )
        return list(response.bookings)

    async def cancel_booking(
        self, booking_id: str, reason: str, language: str = ""
    ) -> pms_pb2.Booking:
        """`language`: the conversation's ISO 639-1 code, for the room type name."""
        response = await _call(
            "pms",
            self.stub.CancelBooking(
                pms_pb2.CancelBookingRequest(
                    booking_id=booking_id, reason=reason, language=language
                ),
                timeout=self.booking_deadline,
            ),
        )
        return response.booking

    async def modify_booking(self, request: pms_pb2.ModifyBookingRequest) -> pms_pb2.Booking:
        """Callers set `request.language` to the conversation's language (room type name).
        `adults`/`children` are proto3 optional: set means "this value" (children=0 removes
        them), unset keeps the booking's."""
        response = await _call(
            "pms", self.stub.ModifyBooking(request, timeout=self.booking_deadline)
        )
        return response.booking


class Audio:
    def __init__(
        self, channel: grpc.aio.Channel, transcribe_deadline: float, synth_deadline: float
    ):
        self.stub = audio_grpc.AudioServiceStub(channel)
        self.transcribe_deadline = transcribe_deadline
        self.synth_deadline = synth_deadline

    async def transcribe(
        self, data: bytes, mime_type: str, language_hint: str
    ) -> audio_pb2.Transcription:
        request = audio_pb2.TranscribeRequest(
            audio=data,
            config=audio_pb2.TranscribeConfig(mime_type=mime_type, language_hint=language_hint),
        )
        response = await _call(
            "audio", self.stub.Transcribe(request, timeout=self.transcribe_deadline)
        )
        return response.transcription

    async def synthesize(self, text: str, voice: str) -> audio_pb2.SynthesizeResponse:
        request = audio_pb2.SynthesizeRequest(
            text=text[:2000], voice=voice, format=audio_pb2.AUDIO_FORMAT_OGG_OPUS
        )
        return await _call("audio", self.stub.Synthesize(request, timeout=self.synth_deadline))


class Channel:
    def __init__(self, channel: grpc.aio.Channel, deadline: float):
        self.stub = channel_grpc.ChannelServiceStub(channel)
        self.deadline = deadline

    async def send(
        self, request: channel_pb2.SendMessageRequest
    ) -> channel_pb2.SendMessageResponse:
        return await _call("gateway", self.stub.SendMessage(request, timeout=self.deadline))


@dataclass
class Dependencies:
    nlp: Nlp
    pms: Pms
    audio: Audio
    channel: Channel

    @classmethod
    def over(
        cls,
        mesh: grpc.aio.Channel,
        deadlines: Deadlines,
        *,
        nlp: grpc.aio.Channel | None = None,
        pms: grpc.aio.Channel | None = None,
        audio: grpc.aio.Channel | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> Dependencies:
        """All through the mesh channel (Envoy) unless a dedicated channel is given (tests)."""
        return cls(
            nlp=Nlp(nlp or mesh, deadlines.nlp),
            pms=Pms(pms or mesh, deadlines.pms, deadlines.pms_booking),
            audio=Audio(audio or mesh, deadlines.audio_transcribe, deadlines.audio_synthesize),
            channel=Channel(channel or mesh, deadlines.channel),
        )
