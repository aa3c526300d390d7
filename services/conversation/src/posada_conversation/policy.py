"""Dialogue policy: what the agent says and does for one understood guest message.

A small explicit state machine. `Session.pending` names what the agent is waiting for
(a slot, a choice, a confirmation); a message that answers it is handled there first, and
anything else is routed by intent. Rules that matter for trust:

- prices, rooms and bookings only ever come from pms answers in this turn (never invented);
- nothing is booked, cancelled or modified without an explicit "yes" to a summary;
- a booking's details are shown or changed only after the guest is verified (same phone as
  the sender, or the e-mail on the booking);
- a booking uses an idempotency key derived from the conversation and the quote, so a retry
  of the same confirmation can never book twice;
- pms down → an honest answer and a handoff, never a guess.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.type.v1 import money_pb2
from posada_common.logging import get_logger
from posada_common.phones import digits, same_phone

from .deps import DependencyDown, DependencyError, Pms, from_date, to_date
from .i18n import Catalog, Templates
from .repository import NewBooking, NewTask
from .sessions import Session

log = get_logger(__name__)
QUERY_ENTITIES = ("check_in", "check_out", "nights", "adults", "children", "room_type")
INTERRUPTING = {
    "greeting",
    "goodbye",
    "thanks",
    "cancel_reservation",
    "modify_reservation",
    "reservation_status",
    "ask_amenities",
    "ask_location",
    "ask_policies",
    "late_checkout",
    "service_request",
    "request_human",
}
CATEGORY = {
    "single": pms_pb2.ROOM_CATEGORY_SINGLE,
    "double": pms_pb2.ROOM_CATEGORY_DOUBLE,
    "twin": pms_pb2.ROOM_CATEGORY_TWIN,
    "suite": pms_pb2.ROOM_CATEGORY_SUITE,
    "family": pms_pb2.ROOM_CATEGORY_FAMILY,
}
CATEGORY_NAME = {v: k for k, v in CATEGORY.items()}
STATUS_NAME = {
    pms_pb2.BOOKING_STATUS_PENDING: "pending",
    pms_pb2.BOOKING_STATUS_CONFIRMED: "confirmed",
    pms_pb2.BOOKING_STATUS_CANCELLED: "cancelled",
    pms_pb2.BOOKING_STATUS_CHECKED_IN: "checked_in",
    pms_pb2.BOOKING_STATUS_CHECKED_OUT: "checked_out",
    pms_pb2.BOOKING_STATUS_REFUNDED: "refunded",
}
CHANGEABLE = {pms_pb2.BOOKING_STATUS_PENDING, pms_pb2.BOOKING_STATUS_CONFIRMED}
POLICY_TOPIC = {
    "pets": pms_pb2.POLICY_TOPIC_PETS,
    "cancellation": pms_pb2.POLICY_TOPIC_CANCELLATION,
    "payment": pms_pb2.POLICY_TOPIC_PAYMENT,
    "children": pms_pb2.POLICY_TOPIC_CHILDREN,
    "smoking": pms_pb2.POLICY_TOPIC_SMOKING,
    "check_in": pms_pb2.POLICY_TOPIC_CHECK_IN,
    "check_out": pms_pb2.POLICY_TOPIC_CHECK_OUT,
}
YES = {
    "si",
    "sí",
    "yes",
    "sim",
    "ok",
    "okay",
    "vale",
    "claro",
    "confirmo",
    "confirm",
    "yep",
    "dale",
    "perfecto",
    "isso",
}
NO = {"no", "não", "nao", "nope", "nop", "nah"}
NUMBER_WORDS = {
    "un": 1,
    "uno": 1,
    "una": 1,
    "one": 1,
    "um": 1,
    "uma": 1,
    "dos": 2,
    "two": 2,
    "dois": 2,
    "duas": 2,
    "tres": 3,
    "três": 3,
    "three": 3,
    "cuatro": 4,
    "four": 4,
    "quatro": 4,
    "cinco": 5,
    "five": 5,
    "seis": 6,
    "six": 6,
}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REFERENCE = re.compile(r"#?\b([A-Z]{2,4}-\d{3,}|\d{4,}|[A-Z]{9})\b")


BUTTON_PREFIXES = ("menu:", "adults:", "offer:", "confirm:", "manage:")


def is_our_button(button_id: str) -> bool:
    """Ids of buttons/rows this policy sent; anything else is parsed as text."""
    return button_id == "human" or button_id.startswith(BUTTON_PREFIXES)


@dataclass
class Understanding:
    text: str
    language: str
    intent: str = ""
    confidence: float = 0.0
    entities: dict[str, list[str]] = field(default_factory=dict)
    interactive_id: str = ""

    def first(self, kind: str) -> str:
        values = self.entities.get(kind) or []
        return values[0] if values else ""


@dataclass
class OutReply:
    reply: message_pb2.Reply  # without reply_id; the orchestrator numbers them
    text: str
    template: str


@dataclass
class Outcome:
    replies: list[OutReply] = field(default_factory=list)
    tasks: list[NewTask] = field(default_factory=list)
    bookings: list[NewBooking] = field(default_factory=list)
    booking_status_updates: list[tuple[str, int]] = field(default_factory=list)
    handoff_reason: str = ""


@dataclass
class Turn:
    session: Session
    u: Understanding
    guest: message_pb2.Guest
    channel: int
    today: dt.date
    c: Catalog
    out: Outcome = field(default_factory=Outcome)

    # -- reply builders -----------------------------------------------------------------

    def say(self, key: str, *, preview_url: bool = False, **values: Any) -> str:
        body = self.c.text(key, **values)
        self.out.replies.append(
            OutReply(
                message_pb2.Reply(text=message_pb2.TextReply(body=body, preview_url=preview_url)),
                body,
                key,
            )
        )
        return body

    def buttons(self, key: str, buttons: list[tuple[str, str]], **values: Any) -> None:
        body = self.c.text(key, **values)
        reply = message_pb2.Reply(
            buttons=message_pb2.ButtonsReply(
                body=body,
                buttons=[
                    message_pb2.Button(id=i, title=self.c.text(f"buttons.{t}")[:20])
                    for i, t in buttons[:3]
                ],
            )
        )
        self.out.replies.append(OutReply(reply, body, key))

    def listing(
        self, body: str, key: str, label: str, section: str, rows: list[tuple[str, str, str]]
    ) -> None:
        reply = message_pb2.Reply(
            list=message_pb2.ListReply(
                body=body,
                button_label=self.c.text(f"buttons.{label}")[:20],
                sections=[
                    message_pb2.ListSection(
                        title=self.c.text(f"lists.{section}")[:24],
                        rows=[
                            message_pb2.ListRow(id=i, title=t[:24], description=d[:72])
                            for i, t, d in rows[:10]
                        ],
                    )
                ],
            )
        )
        self.out.replies.append(OutReply(reply, body, key))


def _fold(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch)
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[\wáéíóúâêôãõçñü@.+-]+", text.lower())


def bare_number(text: str) -> int | None:
    words = _words(text)
    for word in words:
        if word.isdigit() and len(word) <= 2:
            return int(word)
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
    return None


def yes_no(u: Understanding, threshold: float) -> str:
    """'yes', 'no' or '' from the intent, or an unambiguous one-word answer."""
    words = [_fold(w).strip(".!¡¿?,") for w in u.text.split()]
    if u.intent == "affirm" and u.confidence >= threshold:
        return "yes"
    if u.intent == "deny" and u.confidence >= threshold:
        return "no"
    if words and len(words) <= 3:
        if words[0] in {_fold(w) for w in YES}:
            return "yes"
        if words[0] in {_fold(w) for w in NO}:
            return "no"
    return ""


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


def offer_to_dict(offer: pms_pb2.Offer, nights: int) -> dict[str, Any]:
    total = offer.total_tax_included
    return {
        "room_type_id": offer.room_type.room_type_id,
        "name": offer.room_type.name,
        "category": CATEGORY_NAME.get(offer.room_type.category, ""),
        "total_minor": total.amount_minor,
        "currency": total.currency_code,
        "per_night_minor": total.amount_minor // max(nights, 1),
        "rooms_left": offer.rooms_left,
    }


def booking_to_dict(b: pms_pb2.Booking) -> dict[str, Any]:
    ci, co = from_date(b.check_in), from_date(b.check_out)
    return {
        "booking_id": b.booking_id,
        "reference": b.reference,
        "room_type_id": b.room_type_id,
        "room_type_name": b.room_type_name,
        "check_in": ci.isoformat() if ci else "",
        "check_out": co.isoformat() if co else "",
        "adults": b.adults,
        "children": b.children,
        "status": int(b.status),
        "total_minor": b.total_tax_included.amount_minor,
        "currency": b.total_tax_included.currency_code,
        "email": b.guest.email,
        "phone": b.guest.phone,
    }


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def merge_stay(base: dict[str, Any], u: Understanding) -> dict[str, Any]:
    """Applies the stay entities of a message to a query ("¿y del 12 al 14?", "¿y para 3?")."""
    q = dict(base)
    ci, co = _date(u.first("check_in")), _date(u.first("check_out"))
    nights = u.first("nights")
    old_ci, old_co = _date(q.get("check_in")), _date(q.get("check_out"))
    if ci:
        q["check_in"] = ci.isoformat()
        if not co and not nights:
            if old_ci and old_co and old_co > old_ci:
                q["check_out"] = (ci + (old_co - old_ci)).isoformat()  # same length of stay
            else:
                q.pop("check_out", None)
    if co:
        q["check_out"] = co.isoformat()
    if nights and nights.isdigit() and int(nights) > 0:
        q["nights"] = int(nights)
        start = _date(q.get("check_in"))
        if start and not co:
            q["check_out"] = (start + dt.timedelta(days=int(nights))).isoformat()
    adults = u.first("adults")
    if adults.isdigit() and int(adults) > 0:
        q["adults"] = int(adults)
    children = u.first("children")
    if children.isdigit():
        q["children"] = int(children)
    room_type = u.first("room_type")
    if room_type in CATEGORY:
        q["room_type"] = room_type
    return q


def has_stay_entities(u: Understanding) -> bool:
    return any(u.entities.get(k) for k in QUERY_ENTITIES)


class Policy:
    def __init__(
        self,
        pms: Pms,
        templates: Templates,
        *,
        confidence_threshold: float = 0.5,
        handoff_after_misunderstandings: int = 3,
        max_guests: int = 8,
        hotel_cache_seconds: float = 60.0,
    ):
        self.pms = pms
        self.templates = templates
        self.threshold = confidence_threshold
        # Booking, cancelling or changing needs an unambiguous "yes": a button, a short
        # yes-word, or an affirm nlp is sure about.
        self.confirm_threshold = max(0.8, confidence_threshold)
        self.handoff_after = handoff_after_misunderstandings
        self.max_guests = max_guests
        self.hotel_cache_seconds = hotel_cache_seconds
        # (hotel id, language) → (fetched at, hotel): names, descriptions and policies come
        # from pms in the conversation's language.
        self._hotels: dict[tuple[str, str], tuple[float, pms_pb2.Hotel]] = {}
        topics: dict[str, set[str]] = {}
        for catalog in templates.catalogs.values():
            for key, words in catalog.entries.items():
                if key.startswith("keywords.policy_topics."):
                    topics.setdefault(key.rsplit(".", 1)[1], set()).update(_fold(w) for w in words)
        self.topic_words = topics

    # -- hotel data ---------------------------------------------------------------------

    async def hotel(self, hotel_id: str, language: str = "") -> pms_pb2.Hotel:
        """The hotel with its texts in `language` (ISO 639-1; "" = the PMS default)."""
        cached = self._hotels.get((hotel_id, language))
        if cached and time.monotonic() - cached[0] < self.hotel_cache_seconds:
            return cached[1]
        hotel = await self.pms.get_hotel(hotel_id, language)
        self._hotels[(hotel_id, language)] = (time.monotonic(), hotel)
        return hotel

    def cached_hotel(self, hotel_id: str, language: str = "") -> pms_pb2.Hotel | None:
        cached = self._hotels.get((hotel_id, language))
        return cached[1] if cached else None

    @staticmethod
    def expected_intent(session: Session) -> str:
        p = session.pending or {}
        kind = p.get("kind", "")
        if kind.startswith("slot:") or kind == "choose_offer":
            return "make_reservation" if p.get("book") else "check_availability"
        if kind in ("guest_name", "guest_last_name", "guest_email", "guest_phone"):
            return "make_reservation"
        if kind in ("booking_ref", "verify_email"):
            return {
                "cancel": "cancel_reservation",
                "modify": "modify_reservation",
            }.get(session.manage.get("action", ""), "reservation_status")
        if kind == "modify_details":
            return "modify_reservation"
        return ""

    # -- entry point --------------------------------------------------------------------

    async def handle(
        self,
        session: Session,
        u: Understanding,
        guest: message_pb2.Guest,
        today: dt.date,
        channel: int = message_pb2.CHANNEL_WHATSAPP,
    ) -> Outcome:
        t = Turn(
            session, u, guest, channel, today, self.templates.get(session.language or u.language)
        )
        try:
            await self._dispatch(t)
        except DependencyDown:
            t.out = Outcome()
            self.hand_off(t, "pms_unavailable", "messages.pms_down")
        return t.out

    def hand_off(self, t: Turn, reason: str, key: str) -> None:
        t.say(key)
        t.out.handoff_reason = reason
        t.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_HANDOFF,
                f"Handoff ({reason}). Last guest message: {t.u.text[:500]}",
                t.session.manage.get("reference", ""),
            )
        )
        t.session.pending = None
        t.session.misunderstood = 0

    async def _dispatch(self, t: Turn) -> None:
        u, s = t.u, t.session
        if u.interactive_id and await self._interactive(t):
            s.misunderstood = 0
            return
        confident = u.confidence >= self.threshold and u.intent not in ("", "out_of_scope")
        if u.intent == "request_human" and confident:
            self.hand_off(t, "guest_request", "messages.handoff")
            return
        if s.pending and await self._on_pending(t, s.pending):
            s.misunderstood = 0
            return
        if (
            not confident
            and has_stay_entities(u)
            and (s.query or u.intent in ("check_availability", "ask_price", "make_reservation"))
        ):
            # Dates or guests are strong evidence on their own: "¿y para 3 personas?" is a
            # follow-up of the last search even when the intent score is low.
            s.misunderstood = 0
            await self._route(t, "check_availability")
            return
        if not confident:
            await self._misunderstood(t)
            return
        s.misunderstood = 0
        await self._route(t, u.intent)

    async def _route(self, t: Turn, intent: str) -> None:
        s = t.session
        if intent == "greeting":
            await self._greet(t)
        elif intent == "thanks":
            t.say("messages.thanks")
        elif intent == "goodbye":
            t.say("messages.goodbye")
            s.pending = None
        elif intent in ("affirm", "deny"):
            self._help(t)
        elif intent in ("check_availability", "ask_price", "make_reservation"):
            book = intent == "make_reservation" or bool((s.pending or {}).get("book"))
            s.query = merge_stay(s.query, t.u)
            s.draft.pop("offer", None)
            await self._advance(t, book=book)
        elif intent in ("cancel_reservation", "modify_reservation", "reservation_status"):
            action = {"cancel_reservation": "cancel", "modify_reservation": "modify"}.get(
                intent, "status"
            )
            await self._start_manage(t, action)
        elif intent == "ask_location":
            await self._location(t)
        elif intent == "ask_amenities":
            await self._amenities(t)
        elif intent == "ask_policies":
            await self._policies(t)
        elif intent == "late_checkout":
            await self._late_checkout(t)
        elif intent == "service_request":
            t.out.tasks.append(
                NewTask(
                    conv_pb2.TASK_KIND_SERVICE_REQUEST,
                    f"Guest request: {t.u.text[:1000]}",
                    t.u.first("booking_ref"),
                )
            )
            t.say("messages.service_request")
        elif intent == "request_human":
            self.hand_off(t, "guest_request", "messages.handoff")
        else:
            await self._misunderstood(t)

    # -- small talk ---------------------------------------------------------------------

    def _help(self, t: Turn, key: str = "messages.help_menu") -> None:
        t.buttons(
            key,
            [
                ("menu:availability", "availability"),
                ("menu:booking", "my_booking"),
                ("menu:human", "human"),
            ],
        )

    async def _greet(self, t: Turn) -> None:
        try:
            hotel_name = (await self.hotel(t.session.hotel_id, t.c.language)).name
        except (DependencyDown, DependencyError):
            hotel_name = ""
        first = (t.guest.display_name or "").split(" ")[0]
        t.say(
            "messages.greeting",
            name=f" {first}" if first else "",
            hotel=hotel_name or t.c.text("names.hotel_fallback"),
        )
        self._help(t)

    async def _misunderstood(self, t: Turn) -> None:
        s = t.session
        s.misunderstood += 1
        if s.misunderstood >= self.handoff_after:
            self.hand_off(t, "misunderstood", "messages.handoff_misunderstood")
            return
        if s.pending:
            t.say("messages.not_understood")
            await self._ask_pending(t)
        else:
            self._help(t, "messages.not_understood")

    async def _ask_pending(self, t: Turn) -> None:
        kind = (t.session.pending or {}).get("kind", "")
        if kind == "slot:check_in":
            t.say("messages.ask_dates")
        elif kind == "slot:check_out":
            t.say("messages.ask_check_out")
        elif kind == "slot:adults":
            self._ask_adults(t)
        elif kind == "choose_offer":
            self._show_offers(t)
        elif kind == "guest_name":
            t.say("messages.ask_name")
        elif kind == "guest_last_name":
            t.say("messages.ask_last_name", first_name=t.session.draft.get("first_name", ""))
        elif kind == "guest_email":
            t.say("messages.ask_email", first_name=t.session.draft.get("first_name", ""))
        elif kind == "guest_phone":
            t.say("messages.ask_phone")
        elif kind == "confirm_booking":
            t.buttons(
                "messages.confirm_again",
                [
                    ("confirm:yes", "confirm"),
                    ("confirm:change", "change"),
                    ("confirm:no", "decline"),
                ],
            )
        elif kind == "booking_ref":
            t.say("messages.ask_reference")
        elif kind == "verify_email":
            t.say("messages.ask_verify_email")
        elif kind in ("confirm_cancel", "confirm_modify"):
            t.buttons("messages.confirm_again", [("confirm:yes", "yes"), ("confirm:no", "no")])
        elif kind == "modify_details":
            t.say("messages.ask_modify", reference=t.session.manage.get("reference", ""))

    # -- interactive replies (buttons, list rows) ----------------------------------------

    async def _interactive(self, t: Turn) -> bool:
        s, rid = t.session, t.u.interactive_id
        kind = (s.pending or {}).get("kind", "")
        if rid == "menu:availability":
            await self._advance(t, book=False)
        elif rid == "menu:booking":
            await self._start_manage(t, "status")
        elif rid in ("menu:human", "human"):
            self.hand_off(t, "guest_request", "messages.handoff")
        elif rid.startswith("adults:") and rid[7:].isdigit():
            s.query["adults"] = int(rid[7:])
            await self._advance(t, book=bool((s.pending or {}).get("book")))
        elif rid.startswith("offer:"):
            offer = next((o for o in s.offers if o["room_type_id"] == rid[6:]), None)
            if offer is None:
                return False
            await self._choose(t, offer)
        elif rid.startswith("confirm:"):
            answer = rid[8:]
            if kind == "confirm_booking":
                if answer == "yes":
                    await self._book(t)
                elif answer == "change":
                    t.say("messages.what_to_change")
                    s.pending = {"kind": "choose_offer", "book": True}
                    self._show_offers(t)
                else:
                    self._decline_booking(t)
            elif kind == "confirm_cancel":
                await (
                    self._cancel(t) if answer == "yes" else self._keep(t, "messages.cancel_kept")
                )
            elif kind == "confirm_modify":
                await (
                    self._modify(t) if answer == "yes" else self._keep(t, "messages.modify_kept")
                )
            else:
                return False
        elif rid in ("manage:cancel", "manage:modify") and s.manage.get("verified"):
            s.manage["action"] = rid[7:]
            await self._continue_manage(t)
        else:
            return False
        return True

    # -- answers to what the agent asked ----------------------------------------------------

    async def _on_pending(self, t: Turn, p: dict[str, Any]) -> bool:
        s, u = t.session, t.u
        kind = p.get("kind", "")
        confident = u.confidence >= self.threshold
        interrupting = confident and u.intent in INTERRUPTING
        booking_flow = kind.startswith("slot:") or kind in (
            "choose_offer",
            "guest_name",
            "guest_last_name",
            "guest_email",
            "confirm_booking",
        )
        if booking_flow and has_stay_entities(u) and not interrupting:
            if kind == "choose_offer" and set(u.entities) <= {"room_type"}:
                offer = self._pick_offer(t)
                if offer:
                    await self._choose(t, offer)
                    return True
            s.query = merge_stay(s.query, u)
            s.draft.pop("offer", None)
            await self._advance(t, book=bool(p.get("book")) or bool(s.draft))
            return True
        if kind == "slot:adults":
            n = bare_number(u.text)
            if n and not interrupting:
                s.query["adults"] = n
                await self._advance(t, book=bool(p.get("book")))
                return True
        elif kind == "slot:check_out":
            n = bare_number(u.text)
            if n and not interrupting:
                start = _date(s.query.get("check_in"))
                if start:
                    s.query["check_out"] = (start + dt.timedelta(days=n)).isoformat()
                    s.query["nights"] = n
                await self._advance(t, book=bool(p.get("book")))
                return True
        elif kind == "choose_offer":
            answer = yes_no(u, self.threshold)
            offer = self._pick_offer(t)
            if offer is None and answer == "yes" and len(s.offers) == 1:
                offer = s.offers[0]
            if offer:
                await self._choose(t, offer)
                return True
            if answer == "no":
                self._decline_booking(t)
                return True
        elif kind in ("guest_name", "guest_last_name", "guest_email", "guest_phone") and (
            yes_no(u, self.threshold) == "no"
        ):
            self._decline_booking(t)  # "no, déjalo": nothing is booked
            return True
        elif kind == "guest_name":
            name = u.first("person_name") or self._plausible_name(u)
            if name and not interrupting:
                parts = name.split()
                s.draft["first_name"] = parts[0].title() if parts[0].islower() else parts[0]
                if len(parts) == 1:
                    s.pending = {"kind": "guest_last_name", "book": True}
                    t.say("messages.ask_last_name", first_name=s.draft["first_name"])
                    return True
                s.draft["last_name"] = " ".join(parts[1:])
                await self._after_name(t)
                return True
        elif kind == "guest_last_name":
            name = u.first("person_name") or self._plausible_name(u)
            if name and not interrupting:
                s.draft["last_name"] = name
                await self._after_name(t)
                return True
        elif kind == "guest_email":
            email = (u.first("email") or "").lower()
            if not email:
                match = EMAIL.search(u.text)
                email = match.group(0).lower() if match else ""
            if email:
                s.draft["email"] = email
                await self._summary(t)
                return True
            if "@" in u.text or not interrupting:
                t.say("messages.bad_email")
                return True
        elif kind == "guest_phone":
            phone = digits(u.first("phone")) or digits(
                " ".join(re.findall(r"\+?[\d ().-]{7,}", u.text))
            )
            if 7 <= len(phone) <= 15:
                s.draft["phone"] = phone
                await self._summary(t)
                return True
            if not interrupting:
                t.say("messages.bad_phone")
                return True
        elif kind == "confirm_booking":
            answer = yes_no(u, self.confirm_threshold)
            if answer == "yes":
                await self._book(t)
                return True
            if answer == "no":
                self._decline_booking(t)
                return True
            if u.intent == "modify_reservation" and confident:
                t.say("messages.what_to_change")
                s.pending = {"kind": "choose_offer", "book": True}
                self._show_offers(t)
                return True
        elif kind == "booking_ref":
            ref = self._reference(u)
            if ref:
                await self._lookup(t, ref)
                return True
        elif kind == "verify_email":
            email = (u.first("email") or "").lower()
            if not email:
                match = EMAIL.search(u.text)
                email = match.group(0).lower() if match else ""
            if email or not interrupting:
                booking = s.manage.get("booking") or {}
                if email and email == (booking.get("email") or "").lower():
                    s.manage["verified"] = True
                    await self._continue_manage(t)
                else:
                    self._verify_failed(t)
                return True
        elif kind in ("confirm_cancel", "confirm_modify"):
            answer = yes_no(u, self.confirm_threshold)
            if kind == "confirm_modify" and has_stay_entities(u):
                await self._propose_modify(t)
                return True
            if answer == "yes":
                await (self._cancel(t) if kind == "confirm_cancel" else self._modify(t))
                return True
            if answer == "no":
                await self._keep(
                    t,
                    "messages.cancel_kept" if kind == "confirm_cancel" else "messages.modify_kept",
                )
                return True
        elif (
            kind == "modify_details"
            and has_stay_entities(u)
            and not (interrupting and u.intent != "modify_reservation")
        ):
            s.manage["changes"] = merge_stay(s.manage.get("changes") or {}, u)
            await self._propose_modify(t)
            return True
        return False

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

    @staticmethod
    def _reference(u: Understanding) -> str:
        ref = u.first("booking_ref")
        if ref:
            return ref.lstrip("#").strip()
        match = REFERENCE.search(u.text.upper())
        if match and not match.group(1).isalpha():
            return match.group(1)
        # QloApps order references are 9 capital letters; only as written, so that a long
        # ordinary word in capitals-insensitive text is not taken for one.
        letters = re.search(r"\b([A-Z]{9})\b", u.text)
        return letters.group(1) if letters else ""

    # -- availability and booking --------------------------------------------------------

    def _ask_adults(self, t: Turn) -> None:
        rows = [(f"adults:{n}", t.c.plural("counts.adults", n), "") for n in range(1, 7)]
        t.listing(
            t.c.text("messages.ask_adults"), "messages.ask_adults", "people", "adults_section", rows
        )

    async def _advance(self, t: Turn, *, book: bool) -> None:
        """Asks for the next missing slot, or answers with real offers from pms."""
        s = t.session
        q = s.query
        ci = _date(q.get("check_in"))
        if not ci:
            s.pending = {"kind": "slot:check_in", "book": book}
            t.say("messages.ask_dates")
            return
        if ci < t.today:
            q.pop("check_in", None)
            q.pop("check_out", None)
            s.pending = {"kind": "slot:check_in", "book": book}
            t.say("messages.date_in_past")
            return
        co = _date(q.get("check_out"))
        if not co and q.get("nights"):
            co = ci + dt.timedelta(days=int(q["nights"]))
            q["check_out"] = co.isoformat()
        if not co:
            s.pending = {"kind": "slot:check_out", "book": book}
            t.say("messages.ask_check_out")
            return
        if co <= ci:
            q.pop("check_out", None)
            q.pop("nights", None)
            s.pending = {"kind": "slot:check_out", "book": book}
            t.say("messages.dates_out_of_order")
            return
        q["nights"] = (co - ci).days
        if not q.get("adults"):
            s.pending = {"kind": "slot:adults", "book": book}
            self._ask_adults(t)
            return
        if q["adults"] + q.get("children", 0) > self.max_guests:
            q.pop("adults", None)
            s.pending = {"kind": "slot:adults", "book": book}
            t.say("messages.too_many_guests", max=self.max_guests)
            return
        response = await self.pms.check_availability(
            pms_pb2.CheckAvailabilityRequest(
                hotel_id=s.hotel_id,
                check_in=to_date(ci),
                check_out=to_date(co),
                adults=q["adults"],
                children=q.get("children", 0),
                language=t.c.language,
            )
        )
        offers = [offer_to_dict(o, q["nights"]) for o in response.offers if o.rooms_left > 0]
        wanted = q.get("room_type")
        if wanted and any(o["category"] == wanted for o in offers):
            offers = [o for o in offers if o["category"] == wanted]
        elif wanted and offers:
            t.say("messages.room_type_unavailable", room=t.c.name("room_types", wanted))
            q.pop("room_type", None)
        s.offers = offers
        if not offers:
            s.pending = {"kind": "slot:check_in", "book": book}
            t.say(
                "messages.no_offers",
                check_in=t.c.date(ci),
                check_out=t.c.date(co),
                guests=t.c.guests(q["adults"], q.get("children", 0)),
            )
            return
        s.pending = {"kind": "choose_offer", "book": book}
        self._show_offers(t)

    def _show_offers(self, t: Turn) -> None:
        s, q, c = t.session, t.session.query, t.c
        if not s.offers:
            t.say("messages.ask_dates")
            s.pending = {"kind": "slot:check_in", "book": True}
            return
        lines, rows = [], []
        for o in s.offers[:10]:
            total = c.money(o["total_minor"], o["currency"])
            per_night = c.money(o["per_night_minor"], o["currency"])
            lines.append(
                c.text("messages.offer_line", room=o["name"], total=total, per_night=per_night)
            )
            rows.append(
                (
                    f"offer:{o['room_type_id']}",
                    o["name"],
                    c.text("lists.offer_row", total=total, per_night=per_night),
                )
            )
        body = c.text(
            "messages.offers",
            check_in=c.date(dt.date.fromisoformat(q["check_in"])),
            check_out=c.date(dt.date.fromisoformat(q["check_out"])),
            nights=c.nights(q["nights"]),
            guests=c.guests(q["adults"], q.get("children", 0)),
            lines="\n".join(lines),
        )
        t.listing(body, "messages.offers", "choose", "offers_section", rows)

    def _pick_offer(self, t: Turn) -> dict[str, Any] | None:
        s, u = t.session, t.u
        if not s.offers:
            return None
        room_type = u.first("room_type")
        if room_type:
            match = [o for o in s.offers if o["category"] == room_type]
            if match:
                return match[0]
        folded = _fold(u.text)
        for o in s.offers:
            if _fold(o["name"]) in folded:
                return o
        words = [w.strip(".,!?¿¡") for w in folded.split()]
        cheapest = {_fold(w) for w in t.c.raw("names.cheapest")}
        if cheapest & set(words):
            return s.offers[0]  # pms lists offers cheapest first
        ordinals = [_fold(w) for w in t.c.raw("names.ordinals")]
        for i, word in enumerate(ordinals[: len(s.offers)]):
            if word in words:
                return s.offers[i]
        if len(words) <= 3:
            n = bare_number(u.text)
            if n and 1 <= n <= len(s.offers):
                return s.offers[n - 1]
        return None

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
        hotel = await self.hotel(s.hotel_id, t.c.language)
        ci, co = dt.date.fromisoformat(q["check_in"]), dt.date.fromisoformat(q["check_out"])
        s.pending = {"kind": "confirm_booking", "book": True}
        t.buttons(
            "messages.summary",
            [("confirm:yes", "confirm"), ("confirm:change", "change"), ("confirm:no", "decline")],
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
        if not offer or not d.get("email"):
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
            if exc.code.name == "FAILED_PRECONDITION":
                t.say("messages.offer_gone")
                s.draft.pop("offer", None)
                await self._advance(t, book=True)
                return
            t.out = Outcome()
            self.hand_off(t, "booking_rejected", "messages.booking_failed")
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
            )
        )
        t.say("messages.booked", reference=b.reference, email=d["email"])
        s.bookings_made += 1
        s.draft = {k: v for k, v in d.items() if k in ("first_name", "last_name", "email", "phone")}
        s.offers = []
        s.query = {}
        s.pending = None
        s.manage = {"verified": True, "reference": b.reference, "booking": booking_to_dict(b)}

    # -- managing an existing booking ----------------------------------------------------

    async def _start_manage(self, t: Turn, action: str) -> None:
        s, u = t.session, t.u
        ref = self._reference(u)
        known = s.manage.get("booking") if s.manage.get("verified") else None
        changes = merge_stay({}, u) if action == "modify" and has_stay_entities(u) else {}
        if known and (not ref or ref.upper() == known["reference"].upper()):
            s.manage.update(action=action, changes=changes)
            await self._continue_manage(t)
            return
        s.manage = {"action": action, "changes": changes}
        if ref:
            await self._lookup(t, ref)
            return
        s.pending = {"kind": "booking_ref"}
        t.say("messages.ask_reference")

    async def _lookup(self, t: Turn, ref: str) -> None:
        s = t.session
        bookings = []
        try:
            bookings = await self.pms.find_bookings(s.hotel_id, ref, t.c.language)
        except DependencyError as exc:
            if exc.code.name != "NOT_FOUND":
                raise
        match = next(
            (b for b in bookings if b.reference.upper() == ref.upper() or b.booking_id == ref), None
        )
        if match is None and len(bookings) == 1:
            match = bookings[0]
        if match is None:
            attempts = s.manage.get("attempts", 0) + 1
            s.manage["attempts"] = attempts
            if attempts >= 2:
                s.pending = None
                t.buttons("messages.booking_not_found", [("menu:human", "human")], reference=ref)
            else:
                s.pending = {"kind": "booking_ref"}
                t.say("messages.booking_not_found", reference=ref)
            return
        booking = booking_to_dict(match)
        s.manage.update(reference=booking["reference"], booking=booking, verified=False)
        sender = self._sender_phone(t)
        email = (t.guest.email or "").lower() if t.channel == message_pb2.CHANNEL_GMAIL else ""
        if (sender and same_phone(sender, booking["phone"])) or (
            email and email == booking["email"].lower()
        ):
            s.manage["verified"] = True
            await self._continue_manage(t)
            return
        s.pending = {"kind": "verify_email"}
        t.say("messages.ask_verify_email")

    def _verify_failed(self, t: Turn) -> None:
        t.session.manage = {}
        t.session.pending = None
        t.buttons("messages.verify_failed", [("menu:human", "human")])

    def _booking_values(self, t: Turn, b: dict[str, Any]) -> dict[str, Any]:
        c = t.c
        ci, co = dt.date.fromisoformat(b["check_in"]), dt.date.fromisoformat(b["check_out"])
        return {
            "reference": b["reference"],
            "room": b["room_type_name"],
            "check_in": c.date(ci),
            "check_out": c.date(co),
            "nights": c.nights((co - ci).days),
            "guests": c.guests(b["adults"], b["children"]),
            "status": c.name("status", STATUS_NAME.get(b["status"], "pending")),
            "total": c.money(b["total_minor"], b["currency"]),
        }

    async def _continue_manage(self, t: Turn) -> None:
        s = t.session
        m = s.manage
        b = m["booking"]
        values = self._booking_values(t, b)
        action = m.get("action", "status")
        s.pending = None
        if action == "status":
            if b["status"] in CHANGEABLE:
                t.buttons(
                    "messages.booking_status",
                    [
                        ("manage:modify", "modify_booking"),
                        ("manage:cancel", "cancel_booking"),
                        ("menu:human", "human"),
                    ],
                    **values,
                )
            else:
                t.say("messages.booking_status", **values)
            return
        if b["status"] == pms_pb2.BOOKING_STATUS_CANCELLED:
            t.say("messages.already_cancelled", **values)
            return
        if b["status"] not in CHANGEABLE:
            t.buttons("messages.cannot_change", [("menu:human", "human")], **values)
            return
        if action == "cancel":
            hotel = await self.hotel(s.hotel_id, t.c.language)
            s.pending = {"kind": "confirm_cancel"}
            t.buttons(
                "messages.confirm_cancel",
                [("confirm:yes", "cancel_booking"), ("confirm:no", "no")],
                policy=self._policy_text(hotel, pms_pb2.POLICY_TOPIC_CANCELLATION),
                **values,
            )
            return
        if m.get("changes"):
            await self._propose_modify(t)
            return
        s.pending = {"kind": "modify_details"}
        t.say("messages.ask_modify", **values)

    async def _propose_modify(self, t: Turn) -> None:
        s = t.session
        m = s.manage
        b = m["booking"]
        base = {
            "check_in": b["check_in"],
            "check_out": b["check_out"],
            "adults": b["adults"],
            "children": b["children"],
        }
        if has_stay_entities(t.u) and (s.pending or {}).get("kind") == "confirm_modify":
            m["changes"] = merge_stay(m.get("changes") or {}, t.u)
        changes = m.get("changes") or {}
        # Re-apply the guest's changes on top of the booking (dates shift keeping the stay length).
        new = dict(base)
        if changes.get("check_in") and not changes.get("check_out"):
            length = dt.date.fromisoformat(b["check_out"]) - dt.date.fromisoformat(b["check_in"])
            new["check_in"] = changes["check_in"]
            new["check_out"] = (dt.date.fromisoformat(changes["check_in"]) + length).isoformat()
        for key in ("check_in", "check_out", "adults", "children"):
            if changes.get(key) not in (None, ""):
                new[key] = changes[key]
        ci, co = dt.date.fromisoformat(new["check_in"]), dt.date.fromisoformat(new["check_out"])
        if ci < t.today or co <= ci:
            m["changes"] = {}
            s.pending = {"kind": "modify_details"}
            t.say("messages.date_in_past" if ci < t.today else "messages.dates_out_of_order")
            return
        response = await self.pms.check_availability(
            pms_pb2.CheckAvailabilityRequest(
                hotel_id=s.hotel_id,
                check_in=to_date(ci),
                check_out=to_date(co),
                adults=int(new["adults"]),
                children=int(new.get("children", 0)),
                room_type_id=b["room_type_id"],
                language=t.c.language,
            )
        )
        offer = next(
            (o for o in response.offers if o.room_type.room_type_id == b["room_type_id"]), None
        )
        if offer is None:
            m["changes"] = {}
            s.pending = {"kind": "modify_details"}
            t.say("messages.modify_unavailable")
            return
        m["proposal"] = {
            **new,
            "total_minor": offer.total_tax_included.amount_minor,
            "currency": offer.total_tax_included.currency_code,
        }
        s.pending = {"kind": "confirm_modify"}
        values = self._booking_values(t, {**b, **m["proposal"]})
        t.buttons(
            "messages.confirm_modify", [("confirm:yes", "yes"), ("confirm:no", "no")], **values
        )

    async def _cancel(self, t: Turn) -> None:
        s = t.session
        b = s.manage["booking"]
        try:
            cancelled = await self.pms.cancel_booking(
                b["booking_id"], "guest request via conversation", t.c.language
            )
        except DependencyError:
            s.pending = None
            t.buttons(
                "messages.cannot_change", [("menu:human", "human")], **self._booking_values(t, b)
            )
            return
        s.manage["booking"] = {
            **b,
            "status": int(cancelled.status) or pms_pb2.BOOKING_STATUS_CANCELLED,
        }
        t.out.booking_status_updates.append((b["reference"], pms_pb2.BOOKING_STATUS_CANCELLED))
        s.pending = None
        t.say("messages.cancelled", reference=b["reference"])

    async def _modify(self, t: Turn) -> None:
        s = t.session
        m = s.manage
        b, p = m["booking"], m.get("proposal")
        if not p:
            s.pending = {"kind": "modify_details"}
            t.say("messages.ask_modify", reference=b["reference"])
            return
        request = pms_pb2.ModifyBookingRequest(
            booking_id=b["booking_id"],
            check_in=to_date(dt.date.fromisoformat(p["check_in"])),
            check_out=to_date(dt.date.fromisoformat(p["check_out"])),
            # The proposal holds the full new guest counts, so both are always set (presence):
            # a proposal without children sends children=0 and removes them.
            adults=int(p["adults"]),
            children=int(p.get("children", 0)),
            language=t.c.language,
        )
        try:
            modified = await self.pms.modify_booking(request)
        except DependencyError:
            m.pop("proposal", None)
            s.pending = {"kind": "modify_details"}
            t.say("messages.modify_unavailable")
            return
        m["booking"] = booking_to_dict(modified) if modified.booking_id else {**b, **p}
        m.pop("proposal", None)
        m["changes"] = {}
        s.pending = None
        t.say("messages.modified", **self._booking_values(t, m["booking"]))

    async def _keep(self, t: Turn, key: str) -> None:
        s = t.session
        s.pending = None
        s.manage.pop("proposal", None)
        s.manage["changes"] = {}
        t.say(key, reference=s.manage.get("reference", ""))

    # -- hotel questions (pms data only) ------------------------------------------------

    @staticmethod
    def _policy_text(hotel: pms_pb2.Hotel, topic: int) -> str:
        return "\n".join(p.text for p in hotel.policies if p.topic == topic and p.text)

    async def _location(self, t: Turn) -> None:
        hotel = await self.hotel(t.session.hotel_id, t.c.language)
        a = hotel.address
        city = " ".join(x for x in (a.postcode, a.city) if x)
        address = ", ".join(x for x in (a.line1, a.line2, city, a.state) if x)
        if hotel.latitude or hotel.longitude:
            query = f"{hotel.latitude:.6f},{hotel.longitude:.6f}"
        else:
            query = f"{hotel.name}, {address}"
        map_url = "https://www.google.com/maps/search/?api=1&query=" + urllib.parse.quote(
            query, safe=","
        )
        t.say("messages.location", preview_url=True, address=address or hotel.name, map_url=map_url)
        if hotel.latitude or hotel.longitude:
            t.out.replies.append(
                OutReply(
                    message_pb2.Reply(
                        location=message_pb2.LocationReply(
                            latitude=hotel.latitude,
                            longitude=hotel.longitude,
                            name=hotel.name,
                            address=address,
                        )
                    ),
                    address,
                    "location",
                )
            )

    async def _amenities(self, t: Turn) -> None:
        hotel = await self.hotel(t.session.hotel_id, t.c.language)
        have = set(hotel.amenities)
        asked = t.u.entities.get("amenity") or []
        if not asked:
            names = [t.c.name("amenities", a) for a in hotel.amenities]
            if not names:
                t.buttons("messages.policy_unknown", [("menu:human", "human")])
                return
            t.say("messages.amenities_list", hotel=hotel.name, amenities=", ".join(names))
            return
        for amenity in dict.fromkeys(asked):
            key = "messages.amenity_yes" if amenity in have else "messages.amenity_no"
            t.say(key, amenity=t.c.name("amenities", amenity))

    def _topics(self, text: str) -> list[str]:
        folded = f" {_fold(text)} "
        found = []
        for topic, words in self.topic_words.items():
            if any(re.search(rf"(?<!\w){re.escape(w)}(?:s|es)?(?!\w)", folded) for w in words):
                found.append(topic)
        return found

    async def _policies(self, t: Turn) -> None:
        hotel = await self.hotel(t.session.hotel_id, t.c.language)
        topics = self._topics(t.u.text)
        if not topics:
            topics = ["check_in", "check_out", "cancellation"]
        said = False
        for topic in topics:
            if topic == "check_in" and hotel.check_in_time:
                t.say("messages.check_in_time", time=hotel.check_in_time)
                said = True
            elif topic == "check_out" and hotel.check_out_time:
                t.say("messages.check_out_time", time=hotel.check_out_time)
                said = True
            else:
                text = self._policy_text(hotel, POLICY_TOPIC[topic])
                if text:
                    t.say("messages.policy_text", text=text)
                    said = True
        if not said:
            t.buttons("messages.policy_unknown", [("menu:human", "human")])

    async def _late_checkout(self, t: Turn) -> None:
        t.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_LATE_CHECKOUT,
                f"Late check-out request: {t.u.text[:1000]}",
                t.u.first("booking_ref") or t.session.manage.get("reference", ""),
            )
        )
        try:
            hotel = await self.hotel(t.session.hotel_id, t.c.language)
        except (DependencyDown, DependencyError):
            hotel = None
        if hotel and hotel.check_out_time:
            t.say("messages.late_checkout", time=hotel.check_out_time)
        else:
            t.say("messages.service_request")
