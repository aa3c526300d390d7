"""What the guest hears when pms refuses a booking or a change, by `ErrorInfo.reason`.

One gRPC code covers several business answers (FAILED_PRECONDITION is sold out, a changed
price, too many guests for the room, a booking already checked in...), so the dialogue
branches on the reason pms puts in `google.rpc.ErrorInfo` (the contracts' `PmsErrorReason`),
never on the code alone: each answer gets its own honest message and next step. The table of
reasons and what callers do with them is in docs/reliability.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotel.pms.v1.error_reason import PmsErrorReason

from .deps import DependencyError


@dataclass(frozen=True)
class Refusal:
    """The guest-facing answer to one pms refusal."""

    message_key: str  # template the guest is told
    offer_again: bool  # show the current offers again (the guest picks another one)
    handoff_reason: str = ""  # non-empty: a person has to finish it (recorded with the task)


# CreateBooking: what changed between the quote and the "yes".
_BOOKING: dict[str, Refusal] = {
    PmsErrorReason.SOLD_OUT: Refusal("messages.offer_gone", offer_again=True),
    PmsErrorReason.ROOM_TYPE_NOT_FOUND: Refusal("messages.offer_gone", offer_again=True),
    PmsErrorReason.PRICE_CHANGED: Refusal("messages.price_changed", offer_again=True),
    PmsErrorReason.OVER_CAPACITY: Refusal("messages.room_too_small", offer_again=True),
}
_BOOKING_FALLBACK = Refusal(
    "messages.booking_failed", offer_again=False, handoff_reason="booking_rejected"
)

# ModifyBooking: the booking stays as it was in every case.
_CHANGE: dict[str, str] = {
    PmsErrorReason.SOLD_OUT: "messages.modify_unavailable",
    PmsErrorReason.ROOM_TYPE_NOT_FOUND: "messages.modify_unavailable",
    PmsErrorReason.OVER_CAPACITY: "messages.modify_too_many_guests",
    PmsErrorReason.CHECKED_IN: "messages.cannot_change",
    PmsErrorReason.CANCELLED: "messages.cannot_change",
}


def booking_refusal(exc: DependencyError) -> Refusal:
    """The answer to a refused CreateBooking; any other reason goes to a person, honestly."""
    return _BOOKING.get(exc.reason, _BOOKING_FALLBACK)


def change_refusal(exc: DependencyError) -> str:
    """The template for a refused ModifyBooking (the booking is unchanged)."""
    return _CHANGE.get(exc.reason, "messages.modify_unavailable")
