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
    def _reference(understanding: Understanding) -> str:
        ref = understanding.first("booking_ref")
        if ref:
            return ref.lstrip("#").strip()
        match = REFERENCE.search(understanding.text.upper())
        if match and not match.group(1).isalpha():
            return match.group(1)
        # QloApps order references are 9 capital letters; only as written, so that a long
        # ordinary word in capitals-insensitive text is not taken for one.
        letters = re.search(r"\b([A-Z]{9})\b", understanding.text)
        return letters.group(1) if letters else ""

    async def _start_manage(self, turn: Turn, action: str) -> None:
        session, understanding = turn.session, turn.understanding
        ref = self._reference(understanding)
        known = session.manage.get("booking") if session.manage.get("verified") else None
        changes = (
            merge_stay({}, understanding)
            if action == "modify" and has_stay_entities(understanding)
            else {}
        )
        if known and (not ref or ref.upper() == known["reference"].upper()):
            session.manage.update(action=action, changes=changes)
            await self._continue_manage(turn)
            return
        session.manage = {"action": action, "changes": changes}
        if ref:
            await self._lookup(turn, ref)
            return
        if "reference" in session.lacks or lacks(understanding):
            await self._lookup_by_phone(turn)  # never ask again for what the guest doesn't have
            return
        session.pending = {"kind": "booking_ref"}
        turn.say("messages.ask_reference")

    async def _lookup_by_phone(self, turn: Turn) -> None:
        """The guest has no booking number: their upcoming booking by the sender's phone."""
        session = turn.session
        if "reference" not in session.lacks:
            session.lacks.append("reference")
        phone = self._sender_phone(turn)
        found: list[pms_pb2.Booking] = []
        if phone:
            try:
                found = await self.pms.find_bookings(
                    session.hotel_id, "", turn.catalog.language, phone=f"+{phone.lstrip('+')}"
                )
            except DependencyError as exc:
                if exc.code.name not in ("NOT_FOUND", "INVALID_ARGUMENT"):
                    raise
        upcoming = [
            b
            for b in found
            if b.status in CHANGEABLE and (to := from_date(b.check_out)) and to >= turn.today
        ]
        if len(upcoming) != 1:
            self.hand_off(turn, "no_booking_reference", "messages.no_reference_handoff")
            return
        booking = booking_to_dict(upcoming[0])
        session.manage.update(reference=booking["reference"], booking=booking, verified=True)
        turn.say("messages.no_reference_found", reference=booking["reference"])
        await self._continue_manage(turn)

    async def _lookup(self, turn: Turn, ref: str) -> None:
        session = turn.session
        bookings = []
        try:
            bookings = await self.pms.find_bookings(session.hotel_id, ref, turn.catalog.language)
        except DependencyError as exc:
            if exc.code.name != "NOT_FOUND":
                raise
        match = next(
            (b for b in bookings if b.reference.upper() == ref.upper() or b.booking_id == ref), None
        )
        if match is None and len(bookings) == 1:
            match = bookings[0]
        if match is None:
            attempts = session.manage.get("attempts", 0) + 1
            session.manage["attempts"] = attempts
            if attempts >= 2:
                session.pending = None
                turn.buttons("messages.booking_not_found", [("menu:human", "human")], reference=ref)
            else:
                session.pending = {"kind": "booking_ref"}
                turn.say("messages.booking_not_found", reference=ref)
            return
        booking = booking_to_dict(match)
        session.manage.update(reference=booking["reference"], booking=booking, verified=False)
        sender = self._sender_phone(turn)
        email = (
            (turn.guest.email or "").lower() if turn.channel == message_pb2.CHANNEL_GMAIL else ""
        )
        if (sender and same_phone(sender, booking["phone"])) or (
            email and email == booking["email"].lower()
        ):
            session.manage["verified"] = True
            await self._continue_manage(turn)
            return
        session.pending = {"kind": "verify_email"}
        turn.say("messages.ask_verify_email")

    def _verify_failed(self, turn: Turn) -> None:
        turn.session.manage = {}
        turn.session.pending = None
        turn.buttons("messages.verify_failed", [("menu:human", "human")])

    def _booking_values(self, turn: Turn, booking: dict[str, Any]) -> dict[str, Any]:
        catalog = turn.catalog
        check_in, check_out = (
            dt.date.fromisoformat(booking["check_in"]),
            dt.date.fromisoformat(booking["check_out"]),
        )
        return {
            "reference": booking["reference"],
            "room": booking["room_type_name"],
            "check_in": catalog.date(check_in),
            "check_out": catalog.date(check_out),
            "nights": catalog.nights((check_out - check_in).days),
            "guests": catalog.guests(booking["adults"], booking["children"]),
            "status": catalog.name("status", STATUS_NAME.get(booking["status"], "pending")),
            "total": catalog.money(booking["total_minor"], booking["currency"]),
        }

    async def _continue_manage(self, turn: Turn) -> None:
        session = turn.session
        manage = session.manage
        booking = manage["booking"]
        values = self._booking_values(turn, booking)
        action = manage.get("action", "status")
        session.pending = None
        if action == "status":
            if booking["status"] in CHANGEABLE:
                turn.buttons(
                    "messages.booking_status",
                    [
                        ("manage:modify", "modify_booking"),
                        ("manage:cancel", "cancel_booking"),
                        ("menu:human", "human"),
                    ],
                    **values,
                )
            else:
                turn.say("messages.booking_status", **values)
            return
        if booking["status"] == pms_pb2.BOOKING_STATUS_CANCELLED:
            turn.say("messages.already_cancelled", **values)
            return
        if booking["status"] not in CHANGEABLE:
            turn.buttons("messages.cannot_change", [("menu:human", "human")], **values)
            return
        if action == "cancel":
            hotel = await self.hotel(session.hotel_id, turn.catalog.language)
            session.pending = {"kind": "confirm_cancel"}
            turn.buttons(
                "messages.confirm_cancel",
                [("confirm:yes", "cancel_booking"), ("confirm:no", "no")],
                policy=self._policy_text(hotel, pms_pb2.POLICY_TOPIC_CANCELLATION),
                **values,
            )
            return
        if manage.get("changes"):
            await self._propose_modify(turn)
            return
        session.pending = {"kind": "modify_details"}
        turn.say("messages.ask_modify", **values)

    async def _propose_modify(self, turn: Turn) -> None:
        session = turn.session
        manage = session.manage
        booking = manage["booking"]
        base = {
            "check_in": booking["check_in"],
            "check_out": booking["check_out"],
            "adults": booking["adults"],
            "children": booking["children"],
        }
        if (
            has_stay_entities(turn.understanding)
            and (session.pending or {}).get("kind") == "confirm_modify"
        ):
            manage["changes"] = merge_stay(manage.get("changes") or {}, turn.understanding)
        changes = manage.get("changes") or {}
        # Re-apply the guest's changes on top of the booking (dates shift keeping the stay length).
        new = dict(base)
        changes = dict(changes)
        if (
            changes.get("check_in") == booking["check_out"]
            and (changes.get("check_out") or "") > booking["check_out"]
        ):
            # "leave on the 11th instead of the 10th": the 10th is the old check-out, not an
            # arrival; the stay is extended and keeps its check-in.
            changes.pop("check_in")
        if changes.get("extra_nights") and not changes.get("check_out"):
            end = dt.date.fromisoformat(booking["check_out"])
            changes["check_out"] = (
                end + dt.timedelta(days=int(changes["extra_nights"]))
            ).isoformat()
        if changes.get("add_children") and changes.get("children") in (None, ""):
            changes["children"] = int(booking["children"]) + int(changes["add_children"])
        if changes.get("check_in") and not changes.get("check_out"):
            length = dt.date.fromisoformat(booking["check_out"]) - dt.date.fromisoformat(
                booking["check_in"]
            )
            new["check_in"] = changes["check_in"]
            new["check_out"] = (dt.date.fromisoformat(changes["check_in"]) + length).isoformat()
        for key in ("check_in", "check_out", "adults", "children"):
            if changes.get(key) not in (None, ""):
                new[key] = changes[key]
        check_in, check_out = (
            dt.date.fromisoformat(new["check_in"]),
            dt.date.fromisoformat(new["check_out"]),
        )
        if check_in < turn.today or check_out <= check_in:
            manage["changes"] = {}
            session.pending = {"kind": "modify_details"}
            turn.say(
                "messages.date_in_past" if check_in < turn.today else "messages.dates_out_of_order"
            )
            return
        if (check_out - check_in).days > self.max_nights:
            manage["changes"] = {}
            session.pending = {"kind": "modify_details"}
            turn.say(
                "messages.stay_too_long",
                nights=turn.catalog.nights((check_out - check_in).days),
                max=self.max_nights,
            )
            return
        try:
            response = await self.pms.check_availability(
                pms_pb2.CheckAvailabilityRequest(
                    hotel_id=session.hotel_id,
                    check_in=to_date(check_in),
                    check_out=to_date(check_out),
                    adults=int(new["adults"]),
                    children=int(new.get("children", 0)),
                    room_type_id=booking["room_type_id"],
                    language=turn.catalog.language,
                )
            )
        except DependencyError as exc:
            if exc.code.name not in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "FAILED_PRECONDITION"):
                raise
            manage["changes"] = {}
            session.pending = {"kind": "modify_details"}
            turn.say("messages.dates_rejected")
            return
        offer = next(
            (o for o in response.offers if o.room_type.room_type_id == booking["room_type_id"]),
            None,
        )
        if offer is None:
            manage["changes"] = {}
            session.pending = {"kind": "modify_details"}
            turn.say("messages.modify_unavailable")
            return
        manage["proposal"] = {
            **new,
            "total_minor": offer.total_tax_included.amount_minor,
            "currency": offer.total_tax_included.currency_code,
        }
        session.pending = {"kind": "confirm_modify"}
        values = self._booking_values(turn, {**booking, **manage["proposal"]})
        turn.buttons(
            "messages.confirm_modify", [("confirm:yes", "yes"), ("confirm:no", "no")], **values
        )

    async def _cancel(self, turn: Turn) -> None:
        session = turn.session
        booking = session.manage["booking"]
        try:
            cancelled = await self.pms.cancel_booking(
                booking["booking_id"], "guest request via conversation", turn.catalog.language
            )
        except DependencyError:
            session.pending = None
            turn.buttons(
                "messages.cannot_change",
                [("menu:human", "human")],
                **self._booking_values(turn, booking),
            )
            return
        session.manage["booking"] = {
            **booking,
            "status": int(cancelled.status) or pms_pb2.BOOKING_STATUS_CANCELLED,
        }
        turn.out.booking_status_updates.append(
            (booking["reference"], pms_pb2.BOOKING_STATUS_CANCELLED)
        )
        session.pending = None
        turn.say("messages.cancelled", reference=booking["reference"])

    async def _modify(self, turn: Turn) -> None:
        session = turn.session
        manage = session.manage
        booking, pending = manage["booking"], manage.get("proposal")
        if not pending:
            session.pending = {"kind": "modify_details"}
            turn.say("messages.ask_modify", reference=booking["reference"])
            return
        request = pms_pb2.ModifyBookingRequest(
            booking_id=booking["booking_id"],
            check_in=to_date(dt.date.fromisoformat(pending["check_in"])),
            check_out=to_date(dt.date.fromisoformat(pending["check_out"])),
            # The proposal holds the full new guest counts, so both are always set (presence):
            # a proposal without children sends children=0 and removes them.
            adults=int(pending["adults"]),
            children=int(pending.get("children", 0)),
            language=turn.catalog.language,
        )
        try:
            modified = await self.pms.modify_booking(request)
        except DependencyError as exc:
            manage.pop("proposal", None)
            session.pending = {"kind": "modify_details"}
            turn.say(change_refusal(exc), **self._booking_values(turn, booking))
            return
        manage["booking"] = (
            booking_to_dict(modified) if modified.booking_id else {**booking, **pending}
        )
        manage.pop("proposal", None)
        manage["changes"] = {}
        session.pending = None
        turn.say("messages.modified", **self._booking_values(turn, manage["booking"]))

    async def _keep(self, turn: Turn, key: str) -> None:
        session = turn.session
        session.pending = None
        session.manage.pop("proposal", None)
        session.manage["changes"] = {}
        turn.say(key, reference=session.manage.get("reference", ""))
