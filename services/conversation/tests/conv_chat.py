"""A scripted guest talking to the ConversationService over gRPC."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from zoneinfo import ZoneInfo

from conv_standins import SCRIPT
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from hotel.type.v1 import date_pb2
from posada_common.testing import trusted_channel

_seq = itertools.count(1)


def bodies(response: conv_pb2.HandleMessageResponse) -> list[str]:
    out = []
    for r in response.replies:
        kind = r.WhichOneof("content")
        if kind == "text":
            out.append(r.text.body)
        elif kind == "buttons":
            out.append(r.buttons.body)
        elif kind == "list":
            out.append(r.list.body)
        elif kind == "audio":
            out.append(r.audio.transcript)
        elif kind == "location":
            out.append(r.location.address)
    return out


def button_ids(response: conv_pb2.HandleMessageResponse) -> list[str]:
    ids = []
    for r in response.replies:
        if r.WhichOneof("content") == "buttons":
            ids += [b.id for b in r.buttons.buttons]
        elif r.WhichOneof("content") == "list":
            ids += [row.id for s in r.list.sections for row in s.rows]
    return ids


class Guest:
    def __init__(
        self,
        stub,
        *,
        phone: str = "34600111222",
        name: str = "Ana García",
        channel=message_pb2.CHANNEL_WHATSAPP,
        email: str = "",
    ):  # type: ignore[no-untyped-def]
        self.stub = stub
        self.phone = phone
        self.conversation_id = f"wa:test:{uuid.uuid4().hex[:12]}"
        self.guest = message_pb2.Guest(id=phone, phone=phone, display_name=name, email=email)
        self.channel = channel
        self.last: conv_pb2.HandleMessageResponse | None = None

    def message(self, text: str = "", **fields) -> message_pb2.InboundMessage:  # type: ignore[no-untyped-def]
        return message_pb2.InboundMessage(
            message_id=f"wamid.{uuid.uuid4().hex}.{next(_seq)}",
            channel=self.channel,
            hotel_id="1",
            conversation_id=self.conversation_id,
            business_account_id="PNID1",
            guest=self.guest,
            kind=fields.pop("kind", message_pb2.MESSAGE_KIND_TEXT),
            text=text,
            **fields,
        )

    async def send(self, message: message_pb2.InboundMessage) -> conv_pb2.HandleMessageResponse:
        self.last = await self.stub.HandleMessage(
            conv_pb2.HandleMessageRequest(message=message), timeout=30
        )
        return self.last

    async def say(self, text: str) -> conv_pb2.HandleMessageResponse:
        return await self.send(self.message(text))

    async def tap(self, button_id: str, title: str = "") -> conv_pb2.HandleMessageResponse:
        return await self.send(
            self.message(
                kind=message_pb2.MESSAGE_KIND_INTERACTIVE_REPLY,
                interactive_reply=message_pb2.InteractiveReply(
                    id=button_id, title=title or button_id
                ),
            )
        )

    async def speak(self, text: str) -> conv_pb2.HandleMessageResponse:
        media = message_pb2.Media(
            media_id="m1",
            mime_type="audio/ogg; codecs=opus",
            data=b"VOICE:" + text.encode(),
            voice=True,
        )
        return await self.send(self.message(kind=message_pb2.MESSAGE_KIND_AUDIO, media=media))

    def text(self) -> str:
        assert self.last is not None
        return "\n".join(bodies(self.last))

    def buttons(self) -> list[str]:
        assert self.last is not None
        return button_ids(self.last)

    async def history(self) -> conv_pb2.GetConversationResponse:
        return await self.stub.GetConversation(
            conv_pb2.GetConversationRequest(
                conversation_id=self.conversation_id, message_limit=500
            ),
            timeout=10,
        )

    async def templates_used(self) -> list[str]:
        history = await self.history()
        return [m.intent for m in history.messages if m.direction == conv_pb2.DIRECTION_OUTBOUND]


def stay(phrase: str) -> tuple[dt.date, dt.date]:
    """The dates a scripted phrase means today (in the demo hotel's zone)."""
    today = dt.datetime.now(ZoneInfo("Europe/Madrid")).date()
    entities = dict(SCRIPT[phrase.lower()][3](today))  # type: ignore[operator]
    return dt.date.fromisoformat(entities["check_in"]), dt.date.fromisoformat(entities["check_out"])


def reference_in(text: str) -> str:
    match = re.search(r"\*([A-Za-z0-9-]+)\*", text)
    assert match, text
    return match.group(1)


def _d(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


class PmsView:
    """Reads the pms the service talks to, so tests check answers against its real data."""

    def __init__(self, address: str):
        self.address = address

    async def hotel(self, hotel_id: str = "1", language: str = "") -> pms_pb2.Hotel:
        """The hotel with its texts in `language` (what a guest speaking it is shown)."""
        async with trusted_channel(self.address) as channel:
            stub = pms_grpc.PmsServiceStub(channel)
            request = pms_pb2.GetHotelRequest(hotel_id=hotel_id, language=language)
            return (await stub.GetHotel(request, timeout=10)).hotel

    async def offers(
        self, ci: dt.date, co: dt.date, adults: int, room_type_id: str = "", language: str = ""
    ) -> list[pms_pb2.Offer]:
        async with trusted_channel(self.address) as channel:
            stub = pms_grpc.PmsServiceStub(channel)
            response = await stub.CheckAvailability(
                pms_pb2.CheckAvailabilityRequest(
                    hotel_id="1",
                    check_in=_d(ci),
                    check_out=_d(co),
                    adults=adults,
                    room_type_id=room_type_id,
                    language=language,
                ),
                timeout=10,
            )
        return [o for o in response.offers if o.rooms_left > 0]

    async def booking(self, reference: str, language: str = "") -> pms_pb2.Booking:
        """The booking, its room type named in `language` (what a guest speaking it is shown)."""
        async with trusted_channel(self.address) as channel:
            stub = pms_grpc.PmsServiceStub(channel)
            request = pms_pb2.FindBookingsRequest(
                hotel_id="1", reference=reference, language=language
            )
            found = await stub.FindBookings(request, timeout=10)
        matches = [b for b in found.bookings if b.reference.upper() == reference.upper()]
        assert len(matches) == 1, (reference, found)
        return matches[0]
