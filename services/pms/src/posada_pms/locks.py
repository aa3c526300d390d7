"""Redis locks that serialise bookings of the same hotel, room type and nights.

A lock per hotel/room type/date range, taken as one redis-py `Lock` per night of the range
(`pms:lock:{hotel}:{room_type}:{YYYY-MM-DD}`), acquired in date order. Keying on whole ranges
would let 10–12 March and 11–13 March book the last room at the same time; per-night keys make
any two overlapping stays contend, and the fixed order rules out deadlocks. Each lock has a
lease (`timeout`) so a crashed replica cannot block a room forever, and a random token so a
replica whose lease expired cannot release somebody else's lock (redis-py checks the token in
a Lua script).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta

import redis.asyncio as aioredis
from posada_common.logging import get_logger
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from posada_pms.metrics import LOCK_WAIT

log = get_logger(__name__)


class LockBusy(Exception):
    """The nights stayed locked by another booking for longer than we are willing to wait."""


class LockUnavailable(Exception):
    """Redis could not be reached, so no booking may proceed (never book without the lock)."""


def nights(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]


class StayLocks:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "pms:lock",
        lease_seconds: float = 30.0,
        wait_seconds: float = 10.0,
        poll_seconds: float = 0.02,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds

    def keys(self, hotel_id: str, room_type_id: str, check_in: date, check_out: date) -> list[str]:
        return [
            f"{self.prefix}:{hotel_id}:{room_type_id}:{d.isoformat()}"
            for d in nights(check_in, check_out)
        ]

    @contextlib.asynccontextmanager
    async def hold(
        self, hotel_id: str, room_type_id: str, check_in: date, check_out: date
    ) -> AsyncIterator[None]:
        held: list[Lock] = []
        started = time.perf_counter()
        deadline = started + self.wait_seconds
        try:
            for key in sorted(self.keys(hotel_id, room_type_id, check_in, check_out)):
                lock = self.redis.lock(
                    key,
                    timeout=self.lease_seconds,
                    sleep=self.poll_seconds,
                    blocking=True,
                    blocking_timeout=max(0.0, deadline - time.perf_counter()),
                )
                try:
                    acquired = await lock.acquire()
                except (RedisError, OSError) as exc:
                    raise LockUnavailable(str(exc)) from exc
                if not acquired:
                    raise LockBusy(key)
                held.append(lock)
            LOCK_WAIT.observe(time.perf_counter() - started)
            yield
        finally:
            for lock in reversed(held):
                try:
                    await lock.release()
                except LockError:
                    # Lease expired while we worked (and maybe someone else holds it now):
                    # their token differs, so redis-py refused to delete it. Log loudly.
                    log.error("booking_lock_lease_expired", key=str(lock.name))
                except (RedisError, OSError) as exc:
                    log.error("booking_lock_release_failed", key=str(lock.name), error=str(exc))
