"""Work for hotel staff: handoffs to a human and tasks for service and late check-out.

These only record a task (and say so); nothing here changes a booking.
"""

from __future__ import annotations

from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

from ..deps import DependencyDown, DependencyError
from ..repository import NewTask
from .base import PolicyBase
from .state import Turn


class Staff(PolicyBase):
    """Handoff and staff tasks; `hand_off` is also the way out of any flow that fails."""

    def hand_off(self, turn: Turn, reason: str, key: str) -> None:
        turn.say(key)
        turn.out.handoff_reason = reason
        turn.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_HANDOFF,
                f"Handoff ({reason}). Last guest message: {turn.understanding.text[:500]}",
                turn.session.manage.get("reference", ""),
                hotel_id=turn.session.hotel_id,
            )
        )
        turn.session.pending = None
        turn.session.misunderstood = 0

    def complaint(self, turn: Turn, kinds: list[str]) -> None:
        """Apology, what we understood the guest wants put right, and a priority task for staff.

        No booking number is asked first: a person sorts it out from the conversation.
        """
        catalog = turn.catalog
        what = [catalog.text(f"names.complaints.{k}") for k in kinds]
        joined = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " · " + what[-1]
        turn.say("messages.complaint", what=joined)
        turn.out.handoff_reason = "complaint"
        turn.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_HANDOFF,
                f"PRIORITY complaint ({', '.join(kinds)}). Guest wrote: {turn.understanding.text[:1000]}",
                turn.understanding.first("booking_ref") or turn.session.manage.get("reference", ""),
                hotel_id=turn.session.hotel_id,
            )
        )
        turn.session.pending = None
        turn.session.misunderstood = 0

    def _service_request(self, turn: Turn) -> None:
        turn.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_SERVICE_REQUEST,
                f"Guest request: {turn.understanding.text[:1000]}",
                turn.understanding.first("booking_ref"),
                hotel_id=turn.session.hotel_id,
            )
        )
        turn.say("messages.service_request")

    async def _late_checkout(self, turn: Turn) -> None:
        turn.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_LATE_CHECKOUT,
                f"Late check-out request: {turn.understanding.text[:1000]}",
                turn.understanding.first("booking_ref") or turn.session.manage.get("reference", ""),
                hotel_id=turn.session.hotel_id,
            )
        )
        try:
            hotel = await self.hotel(turn.session.hotel_id, turn.catalog.language)
        except (DependencyDown, DependencyError):
            hotel = None
        if hotel and hotel.check_out_time:
            turn.say("messages.late_checkout", time=hotel.check_out_time)
        else:
            turn.say("messages.service_request")
