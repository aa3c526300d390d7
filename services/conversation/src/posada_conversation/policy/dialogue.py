"""The router: one understood message in, an `Outcome` out.

`Session.pending` names what the agent is waiting for; a message that answers it is
handled there first (buttons before text), anything else is routed by intent. This is the
only layer that sees every flow, so it is where the `Policy` is completed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hotel.channel.v1 import message_pb2
from posada_common.phones import digits

from ..deps import DependencyDown, DependencyError
from ..sessions import Session
from .manage import Manage
from .parsing import (
    FAQ_INTENTS,
    INTERRUPTING,
    bare_number,
    has_stay_entities,
    lacks,
    merge_stay,
    parse_date,
    yes_no,
)
from .state import Outcome, Turn, Understanding

PERSONAL_DETAILS = ("guest_name", "guest_last_name", "guest_email", "guest_phone", "verify_email")


class Policy(Manage):
    """What the agent says and does for one understood guest message."""

    @staticmethod
    def expected_intent(session: Session) -> str:
        pending = session.pending or {}
        kind = pending.get("kind", "")
        if kind.startswith("slot:") or kind == "choose_offer":
            return "make_reservation" if pending.get("book") else "check_availability"
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
        understanding: Understanding,
        guest: message_pb2.Guest,
        today: dt.date,
        channel: int = message_pb2.CHANNEL_WHATSAPP,
    ) -> Outcome:
        turn = Turn(
            session,
            understanding,
            guest,
            channel,
            today,
            self.templates.get(session.language or understanding.language),
        )
        try:
            await self._dispatch(turn)
        except DependencyDown:
            turn.out = Outcome()
            self.hand_off(turn, "pms_unavailable", "messages.pms_down")
        return turn.out

    async def _dispatch(self, turn: Turn) -> None:
        understanding, session = turn.understanding, turn.session
        if understanding.interactive_id and await self._interactive(turn):
            session.misunderstood = 0
            return
        confident = understanding.confidence >= self.threshold and understanding.intent not in (
            "",
            "out_of_scope",
        )
        wants_person, complaint = self._wants_person(turn), self._complaint_kinds(understanding)
        if wants_person or complaint:
            # The staff task goes to the hotel the guest is talking about.
            await self._choose_hotel(turn, quiet=True)
            if wants_person:
                self.hand_off(turn, "guest_request", "messages.handoff")
            else:
                self.complaint(turn, complaint)
            return
        if await self._choose_hotel(turn):
            session.misunderstood = 0
            return
        if await self._several_questions(turn):
            session.misunderstood = 0
            return
        await self._understood(turn, confident)

    async def _understood(self, turn: Turn, confident: bool) -> None:
        """One request (the message, or what is left of it once its questions are answered)."""
        understanding, session = turn.understanding, turn.session
        if session.pending and await self._on_pending(turn, session.pending):
            session.misunderstood = 0
            return
        if (
            not confident
            and has_stay_entities(understanding)
            and (
                session.query
                or understanding.intent in ("check_availability", "ask_price", "make_reservation")
                or understanding.first("check_in")
            )
        ):
            # Dates or guests are strong evidence on their own: "¿y para 3 personas?" is a
            # follow-up of the last search even when the intent score is low.
            session.misunderstood = 0
            await self._route(turn, "check_availability")
            return
        if not confident:
            await self._misunderstood(turn)
            return
        session.misunderstood = 0
        await self._route(turn, understanding.intent)

    async def _route(self, turn: Turn, intent: str) -> None:
        session = turn.session
        if intent == "greeting":
            await self._greet(turn)
        elif intent == "thanks":
            turn.say("messages.thanks")
        elif intent == "goodbye":
            turn.say("messages.goodbye")
            session.pending = None
        elif intent in ("affirm", "deny"):
            self._help(turn)
        elif intent in ("check_availability", "ask_price", "make_reservation"):
            book = intent == "make_reservation" or bool((session.pending or {}).get("book"))
            session.query = merge_stay(session.query, turn.understanding)
            session.draft.pop("offer", None)
            await self._advance(turn, book=book)
        elif intent in ("cancel_reservation", "modify_reservation", "reservation_status"):
            action = {"cancel_reservation": "cancel", "modify_reservation": "modify"}.get(
                intent, "status"
            )
            await self._start_manage(turn, action)
        elif intent in FAQ_INTENTS:
            await self._faq(turn, turn.understanding)
            await self._resume(turn)
        elif intent == "late_checkout":
            await self._late_checkout(turn)
        elif intent == "service_request":
            self._service_request(turn)
        elif intent == "request_human":
            self.hand_off(turn, "guest_request", "messages.handoff")
        else:
            await self._misunderstood(turn)

    # -- what applies to the whole message ---------------------------------------------------

    def _wants_person(self, turn: Turn) -> bool:
        """A person asked for anywhere in the message, or the second time it is hinted at."""
        understanding, session = turn.understanding, turn.session
        parts = [understanding, *understanding.clauses]
        if any(p.entities.get("person") for p in parts) or any(
            p.intent == "request_human" and p.confidence >= self.threshold for p in parts
        ):
            return True
        if any(p.intent == "request_human" for p in parts):
            session.human_signals += 1
            return session.human_signals >= 2
        return False

    def _complaint_kinds(self, understanding: Understanding) -> list[str]:
        kinds = list(dict.fromkeys(understanding.entities.get("complaint") or []))
        if (
            kinds == ["refund"]
            and understanding.confidence >= self.threshold
            and understanding.intent
            in (
                "ask_policies",
                "cancel_reservation",
            )
        ):
            return []  # "can I get a refund if I cancel?" is a policy question
        return kinds

    async def _choose_hotel(self, turn: Turn, *, quiet: bool = False) -> bool:
        """Switches to the hotel the guest names; True when the turn was only about that."""
        understanding, session = turn.understanding, turn.session
        if (session.pending or {}).get("kind") in PERSONAL_DETAILS:
            return False  # "Martín Pérez" is a name, not the Antón Martín metro stop
        try:
            mention = await self.directory.mentioned(understanding.text, turn.catalog.language)
        except (DependencyDown, DependencyError):
            return False
        ids = mention.strong or (mention.weak if session.hotel_source != "guest" else set())
        if quiet:
            if len(ids) == 1 and next(iter(ids)) != session.hotel_id:
                session.hotel_id, session.hotel_source, session.time_zone = (
                    next(iter(ids)),
                    "guest",
                    "",
                )
            return False
        if len(ids) > 1:
            await self._ask_which_hotel(turn)
            return True
        if not ids:
            return False
        hotel_id = next(iter(ids))
        if hotel_id == session.hotel_id:
            session.hotel_source = "guest"
            return False
        await self._switch_hotel(turn, hotel_id)
        searching = bool(session.query) and session.pending is not None
        if (
            searching
            and not has_stay_entities(understanding)
            and not (
                understanding.confidence >= self.threshold and understanding.intent in FAQ_INTENTS
            )
        ):
            # "actually, the one in Buenos Aires" mid-booking: same stay, the other hotel.
            await self._advance(
                turn, book=bool((session.pending or {}).get("book")) or bool(session.draft)
            )
            return True
        return False

    async def _switch_hotel(self, turn: Turn, hotel_id: str) -> None:
        session = turn.session
        session.hotel_id, session.hotel_source, session.time_zone = hotel_id, "guest", ""
        session.offers = []
        session.draft.pop("offer", None)
        if session.manage and not session.manage.get("verified"):
            session.manage = {}
        hotel = await self.hotel(hotel_id, turn.catalog.language)
        turn.say("messages.hotel_switched", hotel=hotel.name, city=hotel.address.city)

    async def _ask_which_hotel(self, turn: Turn) -> None:
        hotels = await self.directory.hotels(turn.catalog.language)
        labels = [self.hotel_label(h) for h in hotels]
        turn.buttons(
            "messages.choose_hotel",
            [],
            hotels=", ".join(labels[:-1]) + f" · {labels[-1]}" if len(labels) > 1 else labels[0],
        )
        reply = turn.out.replies[-1].reply
        for hotel in hotels[:3]:
            reply.buttons.buttons.add(id=f"hotel:{hotel.hotel_id}", title=hotel.address.city[:20])

    async def _several_questions(self, turn: Turn) -> bool:
        """Every question of a message answered, in order; the rest handled after them."""
        understanding = turn.understanding
        faq = [
            c
            for c in understanding.clauses
            if c.intent in FAQ_INTENTS and c.confidence >= self.threshold
        ]
        if not faq:
            return False
        # Once the message is known to hold questions, a weaker question clause ("¿y parking?")
        # or one naming an amenity is a question too, not something to drop.
        faq = [
            c
            for c in understanding.clauses
            if c in faq
            or (c.intent in FAQ_INTENTS and c.confidence >= 0.3)
            or (c.entities.get("amenity") and not has_stay_entities(c))
        ]
        for clause in understanding.clauses:
            if clause in faq:
                await self._faq(turn, clause)
        rest = [c for c in understanding.clauses if c not in faq]
        actionable = [
            c
            for c in rest
            if has_stay_entities(c)
            or (c.confidence >= self.threshold and c.intent not in ("greeting", "thanks"))
        ]
        if actionable:
            entities: dict[str, list[str]] = {}
            for part in actionable:
                for kind, values in part.entities.items():
                    entities.setdefault(kind, []).extend(values)
            best = max(actionable, key=lambda c: c.confidence)
            turn.understanding = Understanding(
                text=" ".join(c.text for c in actionable),
                language=understanding.language,
                intent=best.intent,
                confidence=best.confidence,
                entities=entities,
            )
            await self._understood(turn, best.confidence >= self.threshold)
            turn.understanding = understanding
        else:
            await self._resume(turn)
        return True

    async def _faq(self, turn: Turn, clause: Understanding) -> None:
        whole, turn.understanding = turn.understanding, clause
        intent = clause.intent if clause.intent in FAQ_INTENTS else "ask_amenities"
        try:
            if intent == "ask_location":
                await self._location(turn)
            elif intent == "ask_amenities":
                await self._amenities(turn)
            else:
                await self._policies(turn)
        finally:
            turn.understanding = whole

    async def _resume(self, turn: Turn) -> None:
        """After a digression, the question the open form was waiting on, asked again."""
        kind = (turn.session.pending or {}).get("kind", "")
        if kind and kind != "choose_offer":
            await self._ask_pending(turn)

    async def _misunderstood(self, turn: Turn) -> None:
        session = turn.session
        session.misunderstood += 1
        if session.misunderstood >= self.handoff_after:
            self.hand_off(turn, "misunderstood", "messages.handoff_misunderstood")
            return
        if session.pending:
            turn.say("messages.not_understood")
            await self._ask_pending(turn)
        else:
            self._help(turn, "messages.not_understood")

    async def _ask_pending(self, turn: Turn) -> None:
        kind = (turn.session.pending or {}).get("kind", "")
        if kind == "slot:check_in":
            turn.say("messages.ask_dates")
        elif kind == "slot:check_out":
            turn.say("messages.ask_check_out")
        elif kind == "slot:adults":
            self._ask_adults(turn)
        elif kind == "choose_offer":
            self._show_offers(turn)
        elif kind == "guest_name":
            turn.say("messages.ask_name")
        elif kind == "guest_last_name":
            turn.say("messages.ask_last_name", first_name=turn.session.draft.get("first_name", ""))
        elif kind == "guest_email":
            turn.say("messages.ask_email", first_name=turn.session.draft.get("first_name", ""))
        elif kind == "guest_phone":
            turn.say("messages.ask_phone")
        elif kind == "confirm_booking":
            turn.buttons(
                "messages.confirm_again",
                [
                    ("confirm:yes", "confirm"),
                    ("confirm:change", "change"),
                    ("confirm:no", "decline"),
                ],
            )
        elif kind == "booking_ref":
            turn.say("messages.ask_reference")
        elif kind == "verify_email":
            turn.say("messages.ask_verify_email")
        elif kind in ("confirm_cancel", "confirm_modify"):
            turn.buttons("messages.confirm_again", [("confirm:yes", "yes"), ("confirm:no", "no")])
        elif kind == "modify_details":
            turn.say("messages.ask_modify", reference=turn.session.manage.get("reference", ""))

    # -- interactive replies (buttons, list rows) ----------------------------------------

    async def _interactive(self, turn: Turn) -> bool:
        session, rid = turn.session, turn.understanding.interactive_id
        kind = (session.pending or {}).get("kind", "")
        if rid == "menu:availability":
            await self._advance(turn, book=False)
        elif rid == "menu:booking":
            await self._start_manage(turn, "status")
        elif rid in ("menu:human", "human"):
            self.hand_off(turn, "guest_request", "messages.handoff")
        elif rid.startswith("hotel:"):
            if rid[6:] != session.hotel_id:
                await self._switch_hotel(turn, rid[6:])
            session.hotel_source = "guest"
            if session.query:
                await self._advance(
                    turn, book=bool(session.draft) or bool((session.pending or {}).get("book"))
                )
        elif rid.startswith("adults:") and rid[7:].isdigit():
            session.query["adults"] = int(rid[7:])
            await self._advance(turn, book=bool((session.pending or {}).get("book")))
        elif rid.startswith("offer:"):
            offer = next((o for o in session.offers if o["room_type_id"] == rid[6:]), None)
            if offer is None:
                return False
            await self._choose(turn, offer)
        elif rid.startswith("confirm:"):
            answer = rid[8:]
            if kind == "confirm_booking":
                if answer == "yes":
                    await self._book(turn)
                elif answer == "change":
                    turn.say("messages.what_to_change")
                    session.pending = {"kind": "choose_offer", "book": True}
                    self._show_offers(turn)
                else:
                    self._decline_booking(turn)
            elif kind == "confirm_cancel":
                await (
                    self._cancel(turn)
                    if answer == "yes"
                    else self._keep(turn, "messages.cancel_kept")
                )
            elif kind == "confirm_modify":
                await (
                    self._modify(turn)
                    if answer == "yes"
                    else self._keep(turn, "messages.modify_kept")
                )
            else:
                return False
        elif rid in ("manage:cancel", "manage:modify") and session.manage.get("verified"):
            session.manage["action"] = rid[7:]
            await self._continue_manage(turn)
        else:
            return False
        return True

    # -- answers to what the agent asked ----------------------------------------------------

    async def _on_pending(self, turn: Turn, pending: dict[str, Any]) -> bool:
        session, understanding = turn.session, turn.understanding
        kind = pending.get("kind", "")
        confident = understanding.confidence >= self.threshold
        booking_flow = kind.startswith("slot:") or kind in (
            "choose_offer",
            "guest_name",
            "guest_last_name",
            "guest_email",
            "confirm_booking",
        )
        # "Actually a twin instead", "sorry, it's the 6th to the 8th, can you change it?" while
        # booking: a correction of this booking's slots, not a request about another booking.
        correcting = (
            booking_flow
            and understanding.intent == "modify_reservation"
            and not understanding.first("booking_ref")
        )
        interrupting = confident and understanding.intent in INTERRUPTING and not correcting
        if correcting and not has_stay_entities(understanding) and kind != "choose_offer":
            turn.say("messages.what_to_change")
            session.pending = {"kind": "choose_offer", "book": True}
            self._show_offers(turn)
            return True
        if booking_flow and has_stay_entities(understanding) and not interrupting:
            if kind == "choose_offer" and set(understanding.entities) <= {"room_type"}:
                offer = self._pick_offer(turn)
                if offer:
                    await self._choose(turn, offer)
                    return True
            session.query = merge_stay(session.query, understanding)
            session.draft.pop("offer", None)
            await self._advance(turn, book=bool(pending.get("book")) or bool(session.draft))
            return True
        if kind == "slot:adults":
            number = bare_number(understanding.text)
            if number and not interrupting:
                session.query["adults"] = number
                await self._advance(turn, book=bool(pending.get("book")))
                return True
        elif kind == "slot:check_out":
            number = bare_number(understanding.text)
            if number and not interrupting:
                start = parse_date(session.query.get("check_in"))
                if start:
                    session.query["check_out"] = (start + dt.timedelta(days=number)).isoformat()
                    session.query["nights"] = number
                await self._advance(turn, book=bool(pending.get("book")))
                return True
        elif kind == "choose_offer":
            answer = yes_no(understanding, self.threshold)
            offer = self._pick_offer(turn)
            if offer is None and answer == "yes" and len(session.offers) == 1:
                offer = session.offers[0]
            if offer:
                await self._choose(turn, offer)
                return True
            if answer == "no":
                self._decline_booking(turn)
                return True
        elif kind in ("guest_name", "guest_last_name", "guest_email", "guest_phone") and (
            yes_no(understanding, self.threshold) == "no"
        ):
            self._decline_booking(turn)  # "no, déjalo": nothing is booked
            return True
        elif kind == "guest_name":
            name = understanding.first("person_name") or self._plausible_name(understanding)
            if understanding.first("email"):
                session.draft["email"] = understanding.first(
                    "email"
                ).lower()  # "Ana Ruiz, ana@x.com": both at once
            if name and not interrupting:
                parts = name.split()
                session.draft["first_name"] = parts[0].title() if parts[0].islower() else parts[0]
                if len(parts) == 1:
                    session.pending = {"kind": "guest_last_name", "book": True}
                    turn.say("messages.ask_last_name", first_name=session.draft["first_name"])
                    return True
                session.draft["last_name"] = " ".join(parts[1:])
                await self._after_name(turn)
                return True
        elif kind == "guest_last_name":
            name = understanding.first("person_name") or self._plausible_name(understanding)
            if name and not interrupting:
                session.draft["last_name"] = name
                await self._after_name(turn)
                return True
        elif kind == "guest_email":
            email = (
                understanding.first("email") or ""
            ).lower()  # nlp reads e-mails; not again here
            if email:
                session.draft["email"] = email
                await self._summary(turn)
                return True
            if "@" in understanding.text or not interrupting:
                turn.say("messages.bad_email")
                return True
        elif kind == "guest_phone":
            phone = digits(understanding.first("phone"))  # nlp reads phone numbers; not again here
            if 7 <= len(phone) <= 15:
                session.draft["phone"] = phone
                await self._summary(turn)
                return True
            if not interrupting:
                turn.say("messages.bad_phone")
                return True
        elif kind == "confirm_booking":
            answer = yes_no(understanding, self.confirm_threshold)
            if answer == "yes":
                await self._book(turn)
                return True
            if answer == "no":
                self._decline_booking(turn)
                return True
            if understanding.intent == "modify_reservation" and confident:
                turn.say("messages.what_to_change")
                session.pending = {"kind": "choose_offer", "book": True}
                self._show_offers(turn)
                return True
        elif kind == "booking_ref":
            ref = self._reference(understanding)
            if ref:
                await self._lookup(turn, ref)
                return True
            if lacks(understanding) or yes_no(understanding, self.threshold) == "no":
                await self._lookup_by_phone(turn)
                return True
        elif kind == "verify_email":
            email = (
                understanding.first("email") or ""
            ).lower()  # nlp reads e-mails; not again here
            if email or not interrupting:
                booking = session.manage.get("booking") or {}
                if email and email == (booking.get("email") or "").lower():
                    session.manage["verified"] = True
                    await self._continue_manage(turn)
                else:
                    self._verify_failed(turn)
                return True
        elif kind in ("confirm_cancel", "confirm_modify"):
            answer = yes_no(understanding, self.confirm_threshold)
            if kind == "confirm_modify" and has_stay_entities(understanding):
                await self._propose_modify(turn)
                return True
            if answer == "yes":
                await (self._cancel(turn) if kind == "confirm_cancel" else self._modify(turn))
                return True
            if answer == "no":
                await self._keep(
                    turn,
                    "messages.cancel_kept" if kind == "confirm_cancel" else "messages.modify_kept",
                )
                return True
        elif (
            kind == "modify_details"
            and has_stay_entities(understanding)
            and not (interrupting and understanding.intent != "modify_reservation")
        ):
            session.manage["changes"] = merge_stay(
                session.manage.get("changes") or {}, understanding
            )
            await self._propose_modify(turn)
            return True
        return False
