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

    async def _dispatch(self, t: Turn) -> None:
        u, s = t.u, t.session
        if u.interactive_id and await self._interactive(t):
            s.misunderstood = 0
            return
        confident = u.confidence >= self.threshold and u.intent not in ("", "out_of_scope")
        wants_person, complaint = self._wants_person(t), self._complaint_kinds(u)
        if wants_person or complaint:
            # The staff task goes to the hotel the guest is talking about.
            await self._choose_hotel(t, quiet=True)
            if wants_person:
                self.hand_off(t, "guest_request", "messages.handoff")
            else:
                self.complaint(t, complaint)
            return
        if await self._choose_hotel(t):
            s.misunderstood = 0
            return
        if await self._several_questions(t):
            s.misunderstood = 0
            return
        await self._understood(t, confident)

    async def _understood(self, t: Turn, confident: bool) -> None:
        """One request (the message, or what is left of it once its questions are answered)."""
        u, s = t.u, t.session
        if s.pending and await self._on_pending(t, s.pending):
            s.misunderstood = 0
            return
        if (
            not confident
            and has_stay_entities(u)
            and (
                s.query
                or u.intent in ("check_availability", "ask_price", "make_reservation")
                or u.first("check_in")
            )
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
        elif intent in FAQ_INTENTS:
            await self._faq(t, t.u)
            await self._resume(t)
        elif intent == "late_checkout":
            await self._late_checkout(t)
        elif intent == "service_request":
            self._service_request(t)
        elif intent == "request_human":
            self.hand_off(t, "guest_request", "messages.handoff")
        else:
            await self._misunderstood(t)

    # -- what applies to the whole message ---------------------------------------------------

    def _wants_person(self, t: Turn) -> bool:
        """A person asked for anywhere in the message, or the second time it is hinted at."""
        u, s = t.u, t.session
        parts = [u, *u.clauses]
        if any(p.entities.get("person") for p in parts) or any(
            p.intent == "request_human" and p.confidence >= self.threshold for p in parts
        ):
            return True
        if any(p.intent == "request_human" for p in parts):
            s.human_signals += 1
            return s.human_signals >= 2
        return False

    def _complaint_kinds(self, u: Understanding) -> list[str]:
        kinds = list(dict.fromkeys(u.entities.get("complaint") or []))
        if (
            kinds == ["refund"]
            and u.confidence >= self.threshold
            and u.intent
            in (
                "ask_policies",
                "cancel_reservation",
            )
        ):
            return []  # "can I get a refund if I cancel?" is a policy question
        return kinds

    async def _choose_hotel(self, t: Turn, *, quiet: bool = False) -> bool:
        """Switches to the hotel the guest names; True when the turn was only about that."""
        u, s = t.u, t.session
        if (s.pending or {}).get("kind") in PERSONAL_DETAILS:
            return False  # "Martín Pérez" is a name, not the Antón Martín metro stop
        try:
            mention = await self.directory.mentioned(u.text, t.c.language)
        except (DependencyDown, DependencyError):
            return False
        ids = mention.strong or (mention.weak if s.hotel_source != "guest" else set())
        if quiet:
            if len(ids) == 1 and next(iter(ids)) != s.hotel_id:
                s.hotel_id, s.hotel_source, s.time_zone = next(iter(ids)), "guest", ""
            return False
        if len(ids) > 1:
            await self._ask_which_hotel(t)
            return True
        if not ids:
            return False
        hotel_id = next(iter(ids))
        if hotel_id == s.hotel_id:
            s.hotel_source = "guest"
            return False
        await self._switch_hotel(t, hotel_id)
        searching = bool(s.query) and s.pending is not None
        if (
            searching
            and not has_stay_entities(u)
            and not (u.confidence >= self.threshold and u.intent in FAQ_INTENTS)
        ):
            # "actually, the one in Buenos Aires" mid-booking: same stay, the other hotel.
            await self._advance(t, book=bool((s.pending or {}).get("book")) or bool(s.draft))
            return True
        return False

    async def _switch_hotel(self, t: Turn, hotel_id: str) -> None:
        s = t.session
        s.hotel_id, s.hotel_source, s.time_zone = hotel_id, "guest", ""
        s.offers = []
        s.draft.pop("offer", None)
        if s.manage and not s.manage.get("verified"):
            s.manage = {}
        hotel = await self.hotel(hotel_id, t.c.language)
        t.say("messages.hotel_switched", hotel=hotel.name, city=hotel.address.city)

    async def _ask_which_hotel(self, t: Turn) -> None:
        hotels = await self.directory.hotels(t.c.language)
        labels = [self.hotel_label(h) for h in hotels]
        t.buttons(
            "messages.choose_hotel",
            [],
            hotels=", ".join(labels[:-1]) + f" · {labels[-1]}" if len(labels) > 1 else labels[0],
        )
        reply = t.out.replies[-1].reply
        for h in hotels[:3]:
            reply.buttons.buttons.add(id=f"hotel:{h.hotel_id}", title=h.address.city[:20])

    async def _several_questions(self, t: Turn) -> bool:
        """Every question of a message answered, in order; the rest handled after them."""
        u = t.u
        faq = [c for c in u.clauses if c.intent in FAQ_INTENTS and c.confidence >= self.threshold]
        if not faq:
            return False
        # Once the message is known to hold questions, a weaker question clause ("¿y parking?")
        # or one naming an amenity is a question too, not something to drop.
        faq = [
            c
            for c in u.clauses
            if c in faq
            or (c.intent in FAQ_INTENTS and c.confidence >= 0.3)
            or (c.entities.get("amenity") and not has_stay_entities(c))
        ]
        for clause in u.clauses:
            if clause in faq:
                await self._faq(t, clause)
        rest = [c for c in u.clauses if c not in faq]
        actionable = [
            c
            for c in rest
            if has_stay_entities(c)
            or (c.confidence >= self.threshold and c.intent not in ("greeting", "thanks"))
        ]
        if actionable:
            entities: dict[str, list[str]] = {}
            for c in actionable:
                for kind, values in c.entities.items():
                    entities.setdefault(kind, []).extend(values)
            best = max(actionable, key=lambda c: c.confidence)
            t.u = Understanding(
                text=" ".join(c.text for c in actionable),
                language=u.language,
                intent=best.intent,
                confidence=best.confidence,
                entities=entities,
            )
            await self._understood(t, best.confidence >= self.threshold)
            t.u = u
        else:
            await self._resume(t)
        return True

    async def _faq(self, t: Turn, clause: Understanding) -> None:
        whole, t.u = t.u, clause
        intent = clause.intent if clause.intent in FAQ_INTENTS else "ask_amenities"
        try:
            if intent == "ask_location":
                await self._location(t)
            elif intent == "ask_amenities":
                await self._amenities(t)
            else:
                await self._policies(t)
        finally:
            t.u = whole

    async def _resume(self, t: Turn) -> None:
        """After a digression, the question the open form was waiting on, asked again."""
        kind = (t.session.pending or {}).get("kind", "")
        if kind and kind != "choose_offer":
            await self._ask_pending(t)

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
        elif rid.startswith("hotel:"):
            if rid[6:] != s.hotel_id:
                await self._switch_hotel(t, rid[6:])
            s.hotel_source = "guest"
            if s.query:
                await self._advance(t, book=bool(s.draft) or bool((s.pending or {}).get("book")))
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
            booking_flow and u.intent == "modify_reservation" and not u.first("booking_ref")
        )
        interrupting = confident and u.intent in INTERRUPTING and not correcting
        if correcting and not has_stay_entities(u) and kind != "choose_offer":
            t.say("messages.what_to_change")
            s.pending = {"kind": "choose_offer", "book": True}
            self._show_offers(t)
            return True
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
                start = parse_date(s.query.get("check_in"))
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
            if u.first("email"):
                s.draft["email"] = u.first("email").lower()  # "Ana Ruiz, ana@x.com": both at once
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
            email = (u.first("email") or "").lower()  # nlp reads e-mails; not again here
            if email:
                s.draft["email"] = email
                await self._summary(t)
                return True
            if "@" in u.text or not interrupting:
                t.say("messages.bad_email")
                return True
        elif kind == "guest_phone":
            phone = digits(u.first("phone"))  # nlp reads phone numbers; not again here
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
            if lacks(u) or yes_no(u, self.threshold) == "no":
                await self._lookup_by_phone(t)
                return True
        elif kind == "verify_email":
            email = (u.first("email") or "").lower()  # nlp reads e-mails; not again here
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
