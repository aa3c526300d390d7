"""The Redis cache: read-through with TTLs, and availability invalidated per hotel at once."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from posada_pms.cache import PmsCache


async def test_availability_is_served_from_cache_until_invalidated(redis: aioredis.Redis) -> None:
    cache = PmsCache(redis, availability_ttl=30)
    loads = 0

    async def load() -> dict:
        nonlocal loads
        loads += 1
        return {"rooms_left": 5 - loads}

    first = await cache.availability("1", "2030-03-10:2030-03-12", load)
    second = await cache.availability("1", "2030-03-10:2030-03-12", load)
    assert first == second == {"rooms_left": 4} and loads == 1
    other_hotel = await cache.availability("2", "2030-03-10:2030-03-12", load)
    assert loads == 2 and other_hotel == {"rooms_left": 3}

    await cache.invalidate_availability("1")
    assert await cache.availability("1", "2030-03-10:2030-03-12", load) == {"rooms_left": 2}
    # Hotel 2 was not touched by hotel 1's booking.
    assert await cache.availability("2", "2030-03-10:2030-03-12", load) == {"rooms_left": 3}
    assert loads == 3


async def test_availability_expires_after_its_ttl(redis: aioredis.Redis) -> None:
    cache = PmsCache(redis, availability_ttl=0.2)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    assert await cache.availability("1", "x", load) == 1
    assert await cache.availability("1", "x", load) == 1
    for _ in range(100):  # wait for Redis to expire the answer (bounded: 5 s)
        if not [k async for k in redis.scan_iter(match="pms:avail:1:*")]:
            break
        await asyncio.sleep(0.05)
    assert await cache.availability("1", "x", load) == 2


async def test_static_data_is_read_through_and_survives_bookings(redis: aioredis.Redis) -> None:
    cache = PmsCache(redis, static_ttl=60)
    loads = 0

    async def load() -> list:
        nonlocal loads
        loads += 1
        return [{"hotel_id": "1"}]

    assert await cache.static("hotels", load) == [{"hotel_id": "1"}]
    await cache.invalidate_availability("1")
    assert await cache.static("hotels", load) == [{"hotel_id": "1"}]
    assert loads == 1
    await cache.invalidate_static()
    await cache.static("hotels", load)
    assert loads == 2
