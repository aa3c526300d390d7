"""Dialogue policy: what the agent says and does for one understood guest message.

A small explicit state machine. `Session.pending` names what the agent is waiting for
(a slot, a choice, a confirmation); a message that answers it is handled there first, and
anything else is routed by intent. Rules that matter for trust:

- prices, rooms and bookings only ever come from pms answers in this turn (never invented);
- nothing is booked, cancelled or modified without an explicit "yes" to a summary;
- a booking's details are shown or changed only after the guest is verified (same phone as
  the sender, or the e-mail on the booking);
- a booking uses an idempotency key derived from the conversation and the quote, so a retry
  of the same confirmation can never book twice;
- pms down → an honest answer and a handoff, never a guess.

The code is split by what it does (see `base` for how the layers stack); this module
re-exports the public names so `from posada_conversation.policy import ...` keeps working.
"""

# `same_phone` is re-exported because callers (tests) have imported it from here.
from posada_common.phones import same_phone

from .availability import Availability
from .base import PolicyBase
from .booking import Booking, idempotency_key
from .dialogue import Policy
from .hotel_info import HotelInfo
from .manage import Manage
from .parsing import (
    EMAIL,
    INTERRUPTING,
    NO,
    NUMBER_WORDS,
    QUERY_ENTITIES,
    REFERENCE,
    YES,
    bare_number,
    has_stay_entities,
    merge_stay,
    yes_no,
)
from .records import (
    CATEGORY,
    CATEGORY_NAME,
    CHANGEABLE,
    POLICY_TOPIC,
    STATUS_NAME,
    booking_to_dict,
    offer_to_dict,
)
from .smalltalk import SmallTalk
from .staff import Staff
from .state import BUTTON_PREFIXES, Outcome, OutReply, Turn, Understanding, is_our_button

__all__ = [
    "BUTTON_PREFIXES",
    "CATEGORY",
    "CATEGORY_NAME",
    "CHANGEABLE",
    "EMAIL",
    "INTERRUPTING",
    "NO",
    "NUMBER_WORDS",
    "POLICY_TOPIC",
    "QUERY_ENTITIES",
    "REFERENCE",
    "STATUS_NAME",
    "YES",
    "Availability",
    "Booking",
    "HotelInfo",
    "Manage",
    "OutReply",
    "Outcome",
    "Policy",
    "PolicyBase",
    "SmallTalk",
    "Staff",
    "Turn",
    "Understanding",
    "bare_number",
    "booking_to_dict",
    "has_stay_entities",
    "idempotency_key",
    "is_our_button",
    "merge_stay",
    "offer_to_dict",
    "same_phone",
    "yes_no",
]
