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

    def _ask_adults(self, t: Turn) -> None:
        rows = [(f"adults:{n}", t.c.plural("counts.adults", n), "") for n in range(1, 7)]
        t.listing(
            t.c.text("messages.ask_adults"), "messages.ask_adults", "people", "adults_section", rows
        )

    async def _advance(self, t: Turn, *, book: bool) -> None:
        """Asks for the next missing slot, or answers with real offers from pms."""
        s = t.session
        q = s.query
        ask = next_ask(SEARCH_FORM, q, t.today, FormLimits(self.max_guests, self.max_nights))
        if ask:
            # Checked before pms sees anything: a missing or garbled slot is a question.
            again = (s.pending or {}).get("kind") == f"slot:{ask.slot}"
            s.asked_again = s.asked_again + 1 if again else 0
            if s.asked_again >= self.handoff_after:
                # The same question three times: a person does better than a fourth time.
                self.hand_off(t, "stuck_on_question", "messages.handoff_misunderstood")
                return
            s.pending = {"kind": f"slot:{ask.slot}", "book": book}
            if ask.template == "messages.ask_adults":
                self._ask_adults(t)
                return
            values = dict(ask.values)
            if "nights" in values:
                values["nights"] = t.c.nights(values["nights"])
            t.say(ask.template, **values)
            return
        ci, co = dt.date.fromisoformat(q["check_in"]), dt.date.fromisoformat(q["check_out"])
        try:
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
        except DependencyError as exc:
            if exc.code.name not in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "FAILED_PRECONDITION"):
                raise
            # pms refused the stay itself (a rule we don't know, a date it can't sell):
            # ask again instead of calling it a technical problem.
            for key in ("check_in", "check_out", "nights"):
                q.pop(key, None)
            s.pending = {"kind": "slot:check_in", "book": book}
            t.say("messages.dates_rejected")
            return
        offers = [
            {**offer_to_dict(o, q["nights"]), "hotel_id": s.hotel_id}
            for o in response.offers
            if o.rooms_left > 0
        ]
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
        folded = fold(u.text)
        for o in s.offers:
            if fold(o["name"]) in folded:
                return o
        words = [w.strip(".,!?¿¡") for w in folded.split()]
        cheapest = {fold(w) for w in t.c.raw("names.cheapest")}
        if cheapest & set(words):
            return s.offers[0]  # pms lists offers cheapest first
        ordinals = [fold(w) for w in t.c.raw("names.ordinals")]
        for i, word in enumerate(ordinals[: len(s.offers)]):
            if word in words:
                return s.offers[i]
        if len(words) <= 3:
            n = bare_number(u.text)
            if n and 1 <= n <= len(s.offers):
                return s.offers[n - 1]
        return None
