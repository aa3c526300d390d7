"""The router: one understood message in, an `Outcome` out.

`Session.pending` names what the agent is waiting for; a message that answers it is
handled there first (buttons before text), anything else is routed by intent. This is the
only layer that sees every flow, so it is where the `Policy` is completed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hotel.channel.v1 import message_pb2
from posada_common.phones import digits

from ..deps import DependencyDown
from ..sessions import Session
from .manage import Manage
from .parsing import (
    EMAIL,
    INTERRUPTING,
    bare_number,
    has_stay_entities,
    merge_stay,
    parse_date,
    yes_no,
)
from .state import Outcome, Turn, Understanding


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
            self._service_request(t)
        elif intent == "request_human":
            self.hand_off(t, "guest_request", "messages.handoff")
        else:
            await self._misunderstood(t)

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
