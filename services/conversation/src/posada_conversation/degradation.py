"""Transient is not a handoff: what a turn does when nlp, pms or audio is briefly unavailable.

The gateway offers an inbound message from its durable inbox and says which attempt this is
(`HandleMessageRequest.attempt`, `final_attempt`). While the gateway will offer the message
again, a dependency answering UNAVAILABLE / DEADLINE_EXCEEDED (or a breaker that is open) does
not hand the guest to staff: the turn is *deferred* (ADR 0008):

- nothing of the turn is kept: no session change, no history row, no reply cache entry, so the
  next offer of the same message is a fresh turn and nothing is recorded twice;
- the response says `retry_later` with a suggested delay;
- the first deferral of an outage for a conversation carries one holding reply ("un momento…"
  in the guest's language); later deferrals of the same outage carry none.

On the final attempt the guest is answered honestly and handed to staff with a task, as a
*fault handoff*: `handoff_reason` starts with `fault:` and the task with "Fault handoff". A
fault handoff is given back to the agent on the conversation's next message (see engine.py)
once the dependency answers again, unless staff replied meanwhile (then it becomes an ordinary
`staff_reply` handoff).

A caller that does not state the attempt (`attempt == 0`: a gateway that predates the contract,
or a direct gRPC client) will not offer the message again, so it is treated as the final
attempt: deferring would lose the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from prometheus_client import Counter

FAULT_PREFIX = "fault:"
FAULT_TASK_PREFIX = "Fault handoff"
# Handoff reasons the policy gives when pms is down; they are faults, not business answers.
TRANSIENT_HANDOFFS = {
    "pms_unavailable": "pms",
    "pms_unavailable_during_booking": "pms",
}
# Handoffs for a reason of the guest or the business: never deferred, even when a dependency
# also failed during the turn.
BUSINESS_HANDOFFS = frozenset({"guest_request", "misunderstood", "booking_rejected", "staff_reply"})
HOLDING_TTL_SECONDS = 900  # one holding reply per outage and conversation, at most every 15 min
RETRY_FIRST_MS = 1000
RETRY_CEILING_MS = 10_000

DEFERRED = Counter(
    "posada_conversation_deferred_total",
    "Turns deferred because a dependency was briefly unavailable",
    ["dependency"],
)
FAULT_RELEASES = Counter(
    "posada_conversation_fault_releases_total",
    "Fault handoffs given back to the agent after the dependency recovered",
)


def is_fault_handoff(reason: str | None) -> bool:
    return bool(reason) and str(reason).startswith(FAULT_PREFIX)


@dataclass(frozen=True)
class Delivery:
    """Which offer of an inbound message this is, as the gateway tells it."""

    attempt: int = 0
    final: bool = False

    @property
    def may_defer(self) -> bool:
        return self.attempt >= 1 and not self.final

    def retry_after_ms(self) -> int:
        return min(RETRY_CEILING_MS, RETRY_FIRST_MS * 2 ** max(0, self.attempt - 1))


class Deferred(Exception):
    """Raised inside a turn: `dependency` is briefly unavailable and the gateway will retry."""

    def __init__(self, dependency: str, language: str, *, quiet: bool = False):
        super().__init__(f"{dependency} unavailable; turn deferred")
        self.dependency = dependency
        self.language = language
        self.quiet = quiet  # the guest was told already (fault handoff): no holding reply


class HoldingNotices:
    """Remembers, per conversation, that this outage's holding reply went out already."""

    def __init__(self, redis: aioredis.Redis, ttl_seconds: int = HOLDING_TTL_SECONDS):
        self.redis = redis
        self.ttl = ttl_seconds

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"conv:holding:{conversation_id}"

    async def first(self, conversation_id: str, message_id: str) -> bool:
        """True for the first deferral of an outage only (at most one holding reply)."""
        return bool(
            await self.redis.set(self._key(conversation_id), message_id, nx=True, ex=self.ttl)
        )

    async def clear(self, conversation_id: str) -> None:
        """A turn went through: the outage is over for this conversation."""
        await self.redis.delete(self._key(conversation_id))
