"""Searching rooms: collecting dates and guests, asking pms, showing and picking offers.

Offers shown are exactly those pms returned for this query; nothing is priced here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hotel.pms.v1 import pms_service_pb2 as pms_pb2

from ..deps import DependencyError, to_date
from .forms import SEARCH_FORM, FormLimits, next_ask
from .hotel_info import HotelInfo
from .parsing import bare_number, fold
from .records import offer_to_dict
from .state import Turn


class Availability(HotelInfo):
    """The slot-filling search and the offer list."""

    def _ask_adults(self, turn: Turn) -> None:
        rows = [(f"adults:{n}", turn.catalog.plural("counts.adults", n), "") for n in range(1, 7)]
        turn.listing(
            turn.catalog.text("messages.ask_adults"),
            "messages.ask_adults",
            "people",
            "adults_section",
            rows,
        )

    async def _advance(self, turn: Turn, *, book: bool) -> None:
        """Asks for the next missing slot, or answers with real offers from pms."""
        session = turn.session
        query = session.query
        ask = next_ask(SEARCH_FORM, query, turn.today, FormLimits(self.max_guests, self.max_nights))
        if ask:
            # Checked before pms sees anything: a missing or garbled slot is a question.
            again = (session.pending or {}).get("kind") == f"slot:{ask.slot}"
            session.asked_again = session.asked_again + 1 if again else 0
            if session.asked_again >= self.handoff_after:
                # The same question three times: a person does better than a fourth time.
                self.hand_off(turn, "stuck_on_question", "messages.handoff_misunderstood")
                return
            session.pending = {"kind": f"slot:{ask.slot}", "book": book}
            if ask.template == "messages.ask_adults":
                self._ask_adults(turn)
                return
            values = dict(ask.values)
            if "nights" in values:
                values["nights"] = turn.catalog.nights(values["nights"])
            turn.say(ask.template, **values)
            return
        check_in, check_out = (
            dt.date.fromisoformat(query["check_in"]),
            dt.date.fromisoformat(query["check_out"]),
        )
        try:
            response = await self.pms.check_availability(
                pms_pb2.CheckAvailabilityRequest(
                    hotel_id=session.hotel_id,
                    check_in=to_date(check_in),
                    check_out=to_date(check_out),
                    adults=query["adults"],
                    children=query.get("children", 0),
                    language=turn.catalog.language,
                )
            )
        except DependencyError as exc:
            if exc.code.name not in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "FAILED_PRECONDITION"):
                raise
            # pms refused the stay itself (a rule we don't know, a date it can't sell):
            # ask again instead of calling it a technical problem.
            for key in ("check_in", "check_out", "nights"):
                query.pop(key, None)
            session.pending = {"kind": "slot:check_in", "book": book}
            turn.say("messages.dates_rejected")
            return
        offers = [
            {**offer_to_dict(o, query["nights"]), "hotel_id": session.hotel_id}
            for o in response.offers
            if o.rooms_left > 0
        ]
        wanted = query.get("room_type")
        if wanted and any(o["category"] == wanted for o in offers):
            offers = [o for o in offers if o["category"] == wanted]
        elif wanted and offers:
            turn.say("messages.room_type_unavailable", room=turn.catalog.name("room_types", wanted))
            query.pop("room_type", None)
        session.offers = offers
        if not offers:
            session.pending = {"kind": "slot:check_in", "book": book}
            turn.say(
                "messages.no_offers",
                check_in=turn.catalog.date(check_in),
                check_out=turn.catalog.date(check_out),
                guests=turn.catalog.guests(query["adults"], query.get("children", 0)),
            )
            return
        session.pending = {"kind": "choose_offer", "book": book}
        self._show_offers(turn)

    def _show_offers(self, turn: Turn) -> None:
        session, query, catalog = turn.session, turn.session.query, turn.catalog
        if not session.offers:
            turn.say("messages.ask_dates")
            session.pending = {"kind": "slot:check_in", "book": True}
            return
        lines, rows = [], []
        for offer in session.offers[:10]:
            total = catalog.money(offer["total_minor"], offer["currency"])
            per_night = catalog.money(offer["per_night_minor"], offer["currency"])
            lines.append(
                catalog.text(
                    "messages.offer_line", room=offer["name"], total=total, per_night=per_night
                )
            )
            rows.append(
                (
                    f"offer:{offer['room_type_id']}",
                    offer["name"],
                    catalog.text("lists.offer_row", total=total, per_night=per_night),
                )
            )
        body = catalog.text(
            "messages.offers",
            check_in=catalog.date(dt.date.fromisoformat(query["check_in"])),
            check_out=catalog.date(dt.date.fromisoformat(query["check_out"])),
            nights=catalog.nights(query["nights"]),
            guests=catalog.guests(query["adults"], query.get("children", 0)),
            lines="\n".join(lines),
        )
        turn.listing(body, "messages.offers", "choose", "offers_section", rows)

    def _pick_offer(self, turn: Turn) -> dict[str, Any] | None:
        session, understanding = turn.session, turn.understanding
        if not session.offers:
            return None
        room_type = understanding.first("room_type")
        if room_type:
            match = [o for o in session.offers if o["category"] == room_type]
            if match:
                return match[0]
        folded = fold(understanding.text)
        for offer in session.offers:
            if fold(offer["name"]) in folded:
                return offer
        words = [w.strip(".,!?¿¡") for w in folded.split()]
        cheapest = {fold(w) for w in turn.catalog.raw("names.cheapest")}
        if cheapest & set(words):
            return session.offers[0]  # pms lists offers cheapest first
        ordinals = [fold(w) for w in turn.catalog.raw("names.ordinals")]
        for i, word in enumerate(ordinals[: len(session.offers)]):
            if word in words:
                return session.offers[i]
        if len(words) <= 3:
            number = bare_number(understanding.text)
            if number and 1 <= number <= len(session.offers):
                return session.offers[number - 1]
        return None
