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

    async def _choose(self, t: Turn, offer: dict[str, Any]) -> None:
        s = t.session
        s.draft["offer"] = offer
        if s.draft.get("first_name") and s.draft.get("last_name"):
            await self._after_name(t)
            return
        s.pending = {"kind": "guest_name", "book": True}
        t.say("messages.ask_name")

    async def _after_name(self, t: Turn) -> None:
        s = t.session
        if not s.draft.get("email") and t.guest.email and t.channel == message_pb2.CHANNEL_GMAIL:
            s.draft["email"] = t.guest.email.lower()
        if s.draft.get("email"):
            await self._summary(t)
            return
        s.pending = {"kind": "guest_email", "book": True}
        t.say("messages.ask_email", first_name=s.draft["first_name"])

    async def _summary(self, t: Turn) -> None:
        s, c, q = t.session, t.c, t.session.query
        offer = s.draft.get("offer")
        if not offer:
            await self._advance(t, book=True)
            return
        if not s.draft.get("phone") and not self._sender_phone(t):
            # E-mail guests: the PMS needs a contact phone.
            s.pending = {"kind": "guest_phone", "book": True}
            t.say("messages.ask_phone")
            return
        if offer.get("hotel_id", s.hotel_id) != s.hotel_id:
            # The guest changed hotel since this offer: never book it in the other one.
            s.draft.pop("offer", None)
            await self._advance(t, book=True)
            return
        hotel = await self.hotel(s.hotel_id, t.c.language)
        ci, co = dt.date.fromisoformat(q["check_in"]), dt.date.fromisoformat(q["check_out"])
        s.pending = {"kind": "confirm_booking", "book": True}
        t.buttons(
            "messages.summary",
            [("confirm:yes", "confirm"), ("confirm:change", "change"), ("confirm:no", "decline")],
            hotel=self.hotel_label(hotel),
            room=offer["name"],
            check_in=c.date(ci),
            check_out=c.date(co),
            nights=c.nights((co - ci).days),
            guests=c.guests(q["adults"], q.get("children", 0)),
            name=f"{s.draft['first_name']} {s.draft.get('last_name', '')}".strip(),
            email=s.draft["email"],
            total=c.money(offer["total_minor"], offer["currency"]),
            policy=self._policy_text(hotel, pms_pb2.POLICY_TOPIC_CANCELLATION),
        )

    def _decline_booking(self, t: Turn) -> None:
        t.session.draft.pop("offer", None)
        t.session.pending = None
        t.say("messages.booking_declined")

    def _sender_phone(self, t: Turn) -> str:
        if t.guest.phone:
            return digits(t.guest.phone)
        if t.channel == message_pb2.CHANNEL_WHATSAPP and digits(t.guest.id) == t.guest.id:
            return t.guest.id
        return ""

    async def _book(self, t: Turn) -> None:
        s, q = t.session, t.session.query
        offer, d = s.draft.get("offer"), s.draft
        if not offer or not d.get("email") or offer.get("hotel_id", s.hotel_id) != s.hotel_id:
            await self._advance(t, book=True)
            return
        key = idempotency_key(s, offer, q, d["email"])
        request = pms_pb2.CreateBookingRequest(
            idempotency_key=key,
            hotel_id=s.hotel_id,
            room_type_id=offer["room_type_id"],
            check_in=to_date(dt.date.fromisoformat(q["check_in"])),
            check_out=to_date(dt.date.fromisoformat(q["check_out"])),
            adults=q["adults"],
            children=q.get("children", 0),
            guest=pms_pb2.GuestDetails(
                first_name=d["first_name"],
                last_name=d.get("last_name", ""),
                email=d["email"],
                phone=self._sender_phone(t) or d.get("phone", ""),
            ),
            expected_total_tax_included=money_pb2.Money(
                currency_code=offer["currency"], amount_minor=offer["total_minor"]
            ),
            language=t.c.language,
        )
        try:
            response = await self.pms.create_booking(request)
        except DependencyError as exc:
            log.warning("booking_refused", code=exc.code.name, detail=exc.detail[:300])
            if (refusal := booking_refusal(exc)).offer_again:
                t.say(refusal.message_key)
                s.draft.pop("offer", None)
                await self._advance(t, book=True)
                return
            t.out = Outcome()
            self.hand_off(t, refusal.handoff_reason, refusal.message_key)
            t.out.tasks[-1].description += f" pms said: {exc.code.name} {exc.detail[:300]}"
            return
        except DependencyDown:
            # The booking may or may not exist: say so honestly, keep the key for staff.
            t.out = Outcome()
            self.hand_off(t, "pms_unavailable_during_booking", "messages.booking_uncertain")
            t.out.tasks[-1].description += f" Idempotency key: {key}"
            return
        b = response.booking
        t.out.bookings.append(
            NewBooking(
                idempotency_key=key,
                booking_id=b.booking_id,
                reference=b.reference,
                room_type_id=b.room_type_id or offer["room_type_id"],
                room_type_name=b.room_type_name or offer["name"],
                check_in=dt.date.fromisoformat(q["check_in"]),
                check_out=dt.date.fromisoformat(q["check_out"]),
                adults=q["adults"],
                children=q.get("children", 0),
                total_minor=b.total_tax_included.amount_minor or offer["total_minor"],
                currency_code=b.total_tax_included.currency_code or offer["currency"],
                status=int(b.status) or pms_pb2.BOOKING_STATUS_CONFIRMED,
                hotel_id=s.hotel_id,
            )
        )
        t.say("messages.booked", reference=b.reference, email=d["email"])
        s.bookings_made += 1
        s.draft = {k: v for k, v in d.items() if k in ("first_name", "last_name", "email", "phone")}
        s.offers = []
        s.query = {}
        s.pending = None
        s.manage = {"verified": True, "reference": b.reference, "booking": booking_to_dict(b)}

    def _plausible_name(self, u: Understanding) -> str:
        """The text as a name, unless nlp is sure it means something else."""
        if u.confidence >= 0.8 and u.intent not in ("make_reservation", "out_of_scope", ""):
            return ""
        return self._name_from_text(u)

    def _name_from_text(self, u: Understanding) -> str:
        text = u.text.strip().strip(".!")
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
