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
            )
        )
        t.say("messages.service_request")

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
