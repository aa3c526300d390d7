"""Per-night booking locks: overlapping stays exclude each other, disjoint ones do not."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
import redis.asyncio as aioredis
from posada_pms.locks import LockBusy, StayLocks


async def test_overlapping_stays_are_serialised(redis: aioredis.Redis) -> None:
    locks = StayLocks(redis, wait_seconds=5)
    inside = 0
    peak = 0

    async def book(ci: date, co: date) -> None:
        nonlocal inside, peak
        async with locks.hold("1", "12", ci, co):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    await asyncio.gather(
        book(date(2030, 3, 10), date(2030, 3, 12)),
        book(date(2030, 3, 11), date(2030, 3, 13)),
        book(date(2030, 3, 9), date(2030, 3, 12)),  # every pair shares a night
    )
    assert peak == 1


async def test_disjoint_stays_run_in_parallel(redis: aioredis.Redis) -> None:
    locks = StayLocks(redis, wait_seconds=5)
    inside = 0
    peak = 0

    async def book(ci: date, co: date) -> None:
        nonlocal inside, peak
        async with locks.hold("1", "12", ci, co):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    await asyncio.gather(
        book(date(2030, 3, 10), date(2030, 3, 12)), book(date(2030, 3, 12), date(2030, 3, 14))
    )
    assert peak == 2


async def test_a_busy_stay_gives_up_after_the_wait(redis: aioredis.Redis) -> None:
    locks = StayLocks(redis, wait_seconds=0.1)
    async with locks.hold("1", "12", date(2030, 3, 10), date(2030, 3, 12)):
        with pytest.raises(LockBusy):
            async with locks.hold("1", "12", date(2030, 3, 11), date(2030, 3, 12)):
                pass
    # Released: the same nights can be taken again, and nothing is left behind.
    async with locks.hold("1", "12", date(2030, 3, 11), date(2030, 3, 12)):
        pass
    assert [k async for k in redis.scan_iter(match="pms:lock:*")] == []


async def test_an_expired_lease_frees_the_nights(redis: aioredis.Redis) -> None:
    crashed = StayLocks(redis, lease_seconds=0.2)
    lock = redis.lock(crashed.keys("1", "12", date(2030, 3, 10), date(2030, 3, 11))[0], timeout=0.2)
    assert await lock.acquire(blocking=False)  # a replica that died holding the night
    async with StayLocks(redis, wait_seconds=2).hold(
        "1", "12", date(2030, 3, 10), date(2030, 3, 11)
    ):
        pass
