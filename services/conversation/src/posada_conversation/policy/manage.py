"""Existing bookings: status, cancel and modify, always behind verification.

A booking's details are shown or changed only once the guest is verified (the sender's
phone or the booking's e-mail), and a cancel or change needs an explicit "yes".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hotel.channel.v1 import message_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from posada_common.phones import same_phone

from ..deps import DependencyError, from_date, to_date
from ..pms_errors import change_refusal
from .booking import Booking
from .parsing import REFERENCE, has_stay_entities, lacks, merge_stay
from .records import CHANGEABLE, STATUS_NAME, booking_to_dict
from .state import Turn, Understanding


class Manage(Booking):
    """Finding, verifying and changing a guest's existing booking."""

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
        if "reference" in s.lacks or lacks(u):
            await self._lookup_by_phone(t)  # never ask again for what the guest doesn't have
            return
        s.pending = {"kind": "booking_ref"}
        t.say("messages.ask_reference")

    async def _lookup_by_phone(self, t: Turn) -> None:
        """The guest has no booking number: their upcoming booking by the sender's phone."""
        s = t.session
        if "reference" not in s.lacks:
            s.lacks.append("reference")
        phone = self._sender_phone(t)
        found: list[pms_pb2.Booking] = []
        if phone:
            try:
                found = await self.pms.find_bookings(
                    s.hotel_id, "", t.c.language, phone=f"+{phone.lstrip('+')}"
                )
            except DependencyError as exc:
                if exc.code.name not in ("NOT_FOUND", "INVALID_ARGUMENT"):
                    raise
        upcoming = [
            b
            for b in found
            if b.status in CHANGEABLE and (to := from_date(b.check_out)) and to >= t.today
        ]
        if len(upcoming) != 1:
            self.hand_off(t, "no_booking_reference", "messages.no_reference_handoff")
            return
        booking = booking_to_dict(upcoming[0])
        s.manage.update(reference=booking["reference"], booking=booking, verified=True)
        t.say("messages.no_reference_found", reference=booking["reference"])
        await self._continue_manage(t)

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
        changes = dict(changes)
        if (
            changes.get("check_in") == b["check_out"]
            and (changes.get("check_out") or "") > b["check_out"]
        ):
            # "leave on the 11th instead of the 10th": the 10th is the old check-out, not an
            # arrival; the stay is extended and keeps its check-in.
            changes.pop("check_in")
        if changes.get("extra_nights") and not changes.get("check_out"):
            end = dt.date.fromisoformat(b["check_out"])
            changes["check_out"] = (
                end + dt.timedelta(days=int(changes["extra_nights"]))
            ).isoformat()
        if changes.get("add_children") and changes.get("children") in (None, ""):
            changes["children"] = int(b["children"]) + int(changes["add_children"])
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
        if (co - ci).days > self.max_nights:
            m["changes"] = {}
            s.pending = {"kind": "modify_details"}
            t.say("messages.stay_too_long", nights=t.c.nights((co - ci).days), max=self.max_nights)
            return
        try:
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
        except DependencyError as exc:
            if exc.code.name not in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "FAILED_PRECONDITION"):
                raise
            m["changes"] = {}
            s.pending = {"kind": "modify_details"}
            t.say("messages.dates_rejected")
            return
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
        except DependencyError as exc:
            m.pop("proposal", None)
            s.pending = {"kind": "modify_details"}
            t.say(change_refusal(exc), **self._booking_values(t, b))
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
