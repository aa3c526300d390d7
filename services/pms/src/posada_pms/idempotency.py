"""Idempotency keys for bookings, which QloApps does not have
(docs/external-apis/qloapps.md#booking-create).

* The caller's key is written into the order's free-text `source` as `posada:<key>` and mirrored
  in Redis (`pms:idem:<key>` → order id) for a cheap first look; QloApps stays the record of
  truth (`GET /api/orders?filter[source]=[posada:<key>]`).
* What the key was first used for is remembered too (`pms:idem:<key>:request`, a fingerprint of
  hotel, room type, stay, guests and e-mail), claimed before anything is posted: the same key
  with a different booking request is refused (ALREADY_EXISTS, `IDEMPOTENCY_KEY_REUSED`) instead
  of silently answering with the first booking.
* After a lost answer the key is looked up a few times (the PMS may still be committing), never
  re-posted blindly.
"""

from __future__ import annotations

import asyncio
import random
import time

import redis.asyncio as aioredis
from hotel.pms.v1.error_reason import PmsErrorReason
from posada_common.errors import AlreadyExists
from posada_common.logging import get_logger
from redis.exceptions import RedisError

from posada_pms import mapping as qlo
from posada_pms.booking_reads import SOURCE_PREFIX
from posada_pms.model import Booking, BookingRequest, CoreOptions
from posada_pms.qloapps import CALL_DEADLINE, DEADLINE_MARGIN, QloAppsClient, QloAppsError

log = get_logger(__name__)


def key_reused(key: str) -> AlreadyExists:
    return AlreadyExists(
        "idempotency_key was already used for a different booking request "
        "(hotel, room type, dates, guests or e-mail differ); use a new key for a new booking",
        reason=PmsErrorReason.IDEMPOTENCY_KEY_REUSED,
        metadata={"idempotency_key": key},
    )


class IdempotencyKeys:
    def __init__(self, client: QloAppsClient, redis: aioredis.Redis, options: CoreOptions) -> None:
        self.client = client
        self.redis = redis
        self.options = options

    @staticmethod
    def _order_key(key: str) -> str:
        return f"pms:idem:{key}"

    @staticmethod
    def _request_key(key: str) -> str:
        return f"pms:idem:{key}:request"

    async def claim(self, request: BookingRequest) -> None:
        """Before a first create: tie the key to this request, or refuse it if another
        request already holds it (e.g. one that failed, or is being created right now).

        Redis trouble skips the check (the booking itself stays exactly-once through QloApps'
        `source`, and a replay is still checked against the booking it finds).
        """
        fingerprint = request.fingerprint()
        try:
            claimed = await self.redis.set(
                self._request_key(request.idempotency_key),
                fingerprint,
                nx=True,
                ex=self.options.idempotency_ttl_seconds,
            )
        except (RedisError, OSError) as exc:
            log.warning("idempotency_claim_skipped", error=str(exc))
            return
        if not claimed:
            await self.verify(request)

    async def verify(self, request: BookingRequest) -> None:
        """The key's recorded request, if any, must be this one."""
        try:
            stored = await self.redis.get(self._request_key(request.idempotency_key))
        except (RedisError, OSError) as exc:
            log.warning("idempotency_verify_skipped", error=str(exc))
            return
        stored_text = stored.decode() if isinstance(stored, bytes) else stored
        if stored_text is not None and stored_text != request.fingerprint():
            raise key_reused(request.idempotency_key)

    @staticmethod
    def check_replay(request: BookingRequest, booking: Booking) -> None:
        """The booking found for the key must be for the same hotel and guest. (A booking that
        was modified since keeps its key but not its first stay, so only what a modification
        never changes is compared here; `claim` compares everything.)"""
        same_guest = booking.guest.email.strip().lower() == request.guest.email.strip().lower()
        if booking.hotel_id != request.hotel_id or not same_guest:
            raise key_reused(request.idempotency_key)

    async def lookup(self, key: str) -> str | None:
        """The order created with this key, if any (Redis first, then QloApps)."""
        try:
            cached = await self.redis.get(self._order_key(key))
        except (RedisError, OSError):
            cached = None
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        source = SOURCE_PREFIX + key
        rows = await self.client.get_list(
            "orders", "orders", {"filter[source]": f"[{source}]", "display": "[id,source]"}
        )
        matches = sorted(
            qlo.as_int(row.get("id")) for row in rows if qlo.as_str(row.get("source")) == source
        )
        if len(matches) > 1:
            log.error("idempotency_key_has_several_orders", orders=matches)
        if matches:
            await self.remember(key, str(matches[0]))
            return str(matches[0])
        return None

    async def remember(self, key: str, booking_id: str) -> None:
        try:
            await self.redis.set(
                self._order_key(key), booking_id, ex=self.options.idempotency_ttl_seconds
            )
        except (RedisError, OSError) as exc:
            log.warning("idempotency_cache_failed", error=str(exc))

    async def lookup_after_unknown_outcome(self, key: str) -> str | None:
        """After a lost answer: look the key up a few times (the PMS may still be committing)."""
        attempts = self.options.lookup_attempts
        for attempt in range(attempts):
            try:
                found = await self.lookup(key)
            except QloAppsError:
                found = None
            if found:
                return found
            if attempt + 1 == attempts:
                break
            pause = random.uniform(0.05, 0.2) * (2**attempt)
            deadline = CALL_DEADLINE.get()
            if deadline is not None and time.monotonic() + pause + DEADLINE_MARGIN > deadline:
                break  # answer UNAVAILABLE in time rather than be cut off by the deadline
            await asyncio.sleep(pause)
        return None
