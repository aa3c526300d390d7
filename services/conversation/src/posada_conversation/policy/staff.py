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

    def hand_off(self, t: Turn, reason: str, key: str) -> None:
        t.say(key)
        t.out.handoff_reason = reason
        t.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_HANDOFF,
                f"Handoff ({reason}). Last guest message: {t.u.text[:500]}",
                t.session.manage.get("reference", ""),
                hotel_id=t.session.hotel_id,
            )
        )
        t.session.pending = None
        t.session.misunderstood = 0

    def complaint(self, t: Turn, kinds: list[str]) -> None:
        """Apology, what we understood the guest wants put right, and a priority task for staff.

        No booking number is asked first: a person sorts it out from the conversation.
        """
        c = t.c
        what = [c.text(f"names.complaints.{k}") for k in kinds]
        joined = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " · " + what[-1]
        t.say("messages.complaint", what=joined)
        t.out.handoff_reason = "complaint"
        t.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_HANDOFF,
                f"PRIORITY complaint ({', '.join(kinds)}). Guest wrote: {t.u.text[:1000]}",
                t.u.first("booking_ref") or t.session.manage.get("reference", ""),
                hotel_id=t.session.hotel_id,
            )
        )
        t.session.pending = None
        t.session.misunderstood = 0

    def _service_request(self, t: Turn) -> None:
        t.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_SERVICE_REQUEST,
                f"Guest request: {t.u.text[:1000]}",
                t.u.first("booking_ref"),
                hotel_id=t.session.hotel_id,
            )
        )
        t.say("messages.service_request")

    async def _late_checkout(self, t: Turn) -> None:
        t.out.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_LATE_CHECKOUT,
                f"Late check-out request: {t.u.text[:1000]}",
                t.u.first("booking_ref") or t.session.manage.get("reference", ""),
                hotel_id=t.session.hotel_id,
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
