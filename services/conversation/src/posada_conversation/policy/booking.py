"""Making a booking: guest details, the summary, the explicit "yes" and the pms call.

A booking is only created after a "yes" to a summary of pms prices, with an idempotency
key derived from the conversation and quote so a retried confirmation never books twice;
a pms failure mid-booking is told honestly and handed to staff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from hotel.channel.v1 import message_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.type.v1 import money_pb2
from posada_common.logging import get_logger
from posada_common.phones import digits

from ..deps import DependencyDown, DependencyError, to_date
from ..pms_errors import booking_refusal
from ..repository import NewBooking
from ..sessions import Session
from .availability import Availability
from .records import booking_to_dict
from .state import Outcome, Turn, Understanding

log = get_logger(__name__)


def idempotency_key(
    session: Session, offer: dict[str, Any], query: dict[str, Any], email: str
) -> str:
    """One key per confirmed quote of this conversation: a retry reuses it, a new booking not."""
    material = "|".join(
        str(x)
        for x in (
            session.conversation_id,
            session.bookings_made,
            session.hotel_id,
            offer["room_type_id"],
            query["check_in"],
            query["check_out"],
            query["adults"],
            query.get("children", 0),
            offer["total_minor"],
            offer["currency"],
            email.lower(),
        )
    )
    return "conv-" + hashlib.sha256(material.encode()).hexdigest()[:40]


class Booking(Availability):
    """The booking flow from a chosen offer to a confirmed (or declined) booking."""

    async def _choose(self, turn: Turn, offer: dict[str, Any]) -> None:
        session = turn.session
        session.draft["offer"] = offer
        if session.draft.get("first_name") and session.draft.get("last_name"):
            await self._after_name(turn)
            return
        session.pending = {"kind": "guest_name", "book": True}
        turn.say("messages.ask_name")

    async def _after_name(self, turn: Turn) -> None:
        session = turn.session
        if (
            not session.draft.get("email")
            and turn.guest.email
            and turn.channel == message_pb2.CHANNEL_GMAIL
        ):
            session.draft["email"] = turn.guest.email.lower()
        if session.draft.get("email"):
            await self._summary(turn)
            return
        session.pending = {"kind": "guest_email", "book": True}
        turn.say("messages.ask_email", first_name=session.draft["first_name"])

    async def _summary(self, turn: Turn) -> None:
        session, catalog, query = turn.session, turn.catalog, turn.session.query
        offer = session.draft.get("offer")
        if not offer:
            await self._advance(turn, book=True)
            return
        if not session.draft.get("phone") and not self._sender_phone(turn):
            # E-mail guests: the PMS needs a contact phone.
            session.pending = {"kind": "guest_phone", "book": True}
            turn.say("messages.ask_phone")
            return
        if offer.get("hotel_id", session.hotel_id) != session.hotel_id:
            # The guest changed hotel since this offer: never book it in the other one.
            session.draft.pop("offer", None)
            await self._advance(turn, book=True)
            return
        hotel = await self.hotel(session.hotel_id, turn.catalog.language)
        check_in, check_out = (
            dt.date.fromisoformat(query["check_in"]),
            dt.date.fromisoformat(query["check_out"]),
        )
        session.pending = {"kind": "confirm_booking", "book": True}
        turn.buttons(
            "messages.summary",
            [("confirm:yes", "confirm"), ("confirm:change", "change"), ("confirm:no", "decline")],
            hotel=self.hotel_label(hotel),
            room=offer["name"],
            check_in=catalog.date(check_in),
            check_out=catalog.date(check_out),
            nights=catalog.nights((check_out - check_in).days),
            guests=catalog.guests(query["adults"], query.get("children", 0)),
            name=f"{session.draft['first_name']} {session.draft.get('last_name', '')}".strip(),
            email=session.draft["email"],
            total=catalog.money(offer["total_minor"], offer["currency"]),
            policy=self._policy_text(hotel, pms_pb2.POLICY_TOPIC_CANCELLATION),
        )

    def _decline_booking(self, turn: Turn) -> None:
        turn.session.draft.pop("offer", None)
        turn.session.pending = None
        turn.say("messages.booking_declined")

    def _sender_phone(self, turn: Turn) -> str:
        if turn.guest.phone:
            return digits(turn.guest.phone)
        if turn.channel == message_pb2.CHANNEL_WHATSAPP and digits(turn.guest.id) == turn.guest.id:
            return turn.guest.id
        return ""

    async def _book(self, turn: Turn) -> None:
        session, query = turn.session, turn.session.query
        offer, draft = session.draft.get("offer"), session.draft
        if (
            not offer
            or not draft.get("email")
            or offer.get("hotel_id", session.hotel_id) != session.hotel_id
        ):
            await self._advance(turn, book=True)
            return
        key = idempotency_key(session, offer, query, draft["email"])
        request = pms_pb2.CreateBookingRequest(
            idempotency_key=key,
            hotel_id=session.hotel_id,
            room_type_id=offer["room_type_id"],
            check_in=to_date(dt.date.fromisoformat(query["check_in"])),
            check_out=to_date(dt.date.fromisoformat(query["check_out"])),
            adults=query["adults"],
            children=query.get("children", 0),
            guest=pms_pb2.GuestDetails(
                first_name=draft["first_name"],
                last_name=draft.get("last_name", ""),
                email=draft["email"],
                phone=self._sender_phone(turn) or draft.get("phone", ""),
            ),
            expected_total_tax_included=money_pb2.Money(
                currency_code=offer["currency"], amount_minor=offer["total_minor"]
            ),
            language=turn.catalog.language,
        )
        try:
            response = await self.pms.create_booking(request)
        except DependencyError as exc:
            log.warning("booking_refused", code=exc.code.name, detail=exc.detail[:300])
            if (refusal := booking_refusal(exc)).offer_again:
                turn.say(refusal.message_key)
                session.draft.pop("offer", None)
                await self._advance(turn, book=True)
                return
            turn.out = Outcome()
            self.hand_off(turn, refusal.handoff_reason, refusal.message_key)
            turn.out.tasks[-1].description += f" pms said: {exc.code.name} {exc.detail[:300]}"
            return
        except DependencyDown:
            # The booking may or may not exist: say so honestly, keep the key for staff.
            turn.out = Outcome()
            self.hand_off(turn, "pms_unavailable_during_booking", "messages.booking_uncertain")
            turn.out.tasks[-1].description += f" Idempotency key: {key}"
            return
        booking = response.booking
        turn.out.bookings.append(
            NewBooking(
                idempotency_key=key,
                booking_id=booking.booking_id,
                reference=booking.reference,
                room_type_id=booking.room_type_id or offer["room_type_id"],
                room_type_name=booking.room_type_name or offer["name"],
                check_in=dt.date.fromisoformat(query["check_in"]),
                check_out=dt.date.fromisoformat(query["check_out"]),
                adults=query["adults"],
                children=query.get("children", 0),
                total_minor=booking.total_tax_included.amount_minor or offer["total_minor"],
                currency_code=booking.total_tax_included.currency_code or offer["currency"],
                status=int(booking.status) or pms_pb2.BOOKING_STATUS_CONFIRMED,
                hotel_id=session.hotel_id,
            )
        )
        turn.say("messages.booked", reference=booking.reference, email=draft["email"])
        session.bookings_made += 1
        session.draft = {
            k: v for k, v in draft.items() if k in ("first_name", "last_name", "email", "phone")
        }
        session.offers = []
        session.query = {}
        session.pending = None
        session.manage = {
            "verified": True,
            "reference": booking.reference,
            "booking": booking_to_dict(booking),
        }

    def _plausible_name(self, understanding: Understanding) -> str:
        """The text as a name, unless nlp is sure it means something else."""
        if understanding.confidence >= 0.8 and understanding.intent not in (
            "make_reservation",
            "out_of_scope",
            "",
        ):
            return ""
        return self._name_from_text(understanding)

    def _name_from_text(self, understanding: Understanding) -> str:
        text = understanding.text.strip().strip(".!")
        for prefix in (
            "me llamo ",
            "soy ",
            "my name is ",
            "i'm ",
            "i am ",
            "meu nome é ",
            "sou ",
            "a nombre de ",
            "em nome de ",
        ):
            if text.lower().startswith(prefix):
                text = text[len(prefix) :]
        words = text.split()
        if 1 <= len(words) <= 5 and all(re.fullmatch(r"[^\W\d_][\w'.-]*", w) for w in words):
            return " ".join(w if not w.islower() else w.capitalize() for w in words)
        return ""
