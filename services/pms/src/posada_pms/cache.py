"""Redis cache for QloApps reads: static data (hotels, room types) and availability.

Availability keys carry a per-hotel generation number (`pms:avail:gen:{hotel}`); every booking
change bumps it with one INCR, which makes every cached availability answer of that hotel
unreachable at once (they then expire on their short TTL). That is O(1) and race-free, where
deleting keys by pattern would be neither. Static data lives longer and is not touched by
bookings. A Redis failure turns into a miss, never into an error: the cache is an optimisation.

Two latency details: the generation and the cached answer are read in one round trip (a tiny
Lua script), and static data is also memoised in-process for a few seconds (`local_ttl`), so a
cached availability answer costs one Redis call instead of four.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from posada_common.logging import get_logger
from redis.exceptions import RedisError

from posada_pms.metrics import CACHE_INVALIDATIONS, CACHE_REQUESTS

log = get_logger(__name__)
# A slow Redis must not make reads slow: give up and treat it as a miss (TimeoutError is an
# OSError, caught with the Redis errors).
REDIS_OP_TIMEOUT = 0.25

# KEYS[1] = generation key; ARGV[1], ARGV[2] = answer key prefix and suffix around the generation.
_READ_AVAILABILITY = """
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. gen .. ARGV[2])}
"""


class PmsCache:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "pms",
        availability_ttl: float = 30.0,
        static_ttl: float = 600.0,
        local_ttl: float = 5.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.availability_ttl = availability_ttl
        self.static_ttl = static_ttl
        self.local_ttl = min(local_ttl, static_ttl)
        self._local: dict[str, tuple[float, Any]] = {}
        self._read_availability = redis.register_script(_READ_AVAILABILITY)

    def _gen_key(self, hotel_id: str) -> str:
        return f"{self.prefix}:avail:gen:{hotel_id}"

    async def _get(self, key: str, kind: str) -> Any | None:
        try:
            async with asyncio.timeout(REDIS_OP_TIMEOUT):
                raw = await self.redis.get(key)
        except (RedisError, OSError) as exc:
            log.warning("cache_get_failed", kind=kind, error=str(exc))
            raw = None
        CACHE_REQUESTS.labels(kind, "hit" if raw is not None else "miss").inc()
        return json.loads(raw) if raw is not None else None

    async def _set(self, key: str, value: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        try:
            async with asyncio.timeout(REDIS_OP_TIMEOUT):
                await self.redis.set(
                    key, json.dumps(value, separators=(",", ":")), px=int(ttl * 1000)
                )
        except (RedisError, OSError) as exc:
            log.warning("cache_set_failed", error=str(exc))

    async def static(self, name: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """Static data (`hotels`, `hotel:1`, `room_types:1`...): read-through with the long TTL."""
        key = f"{self.prefix}:static:{name}"
        kind = name.split(":", 1)[0]
        local = self._local.get(key)
        now = time.monotonic()
        if local is not None and local[0] > now:
            CACHE_REQUESTS.labels(kind, "hit").inc()
            return local[1]
        cached = await self._get(key, kind)
        if cached is None:
            cached = await load()
            await self._set(key, cached, self.static_ttl)
        if self.local_ttl > 0:
            self._local[key] = (now + self.local_ttl, cached)
        return cached

    async def availability(
        self, hotel_id: str, params: str, load: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Availability of one hotel for one search: read-through with the short TTL.

        The generation is read before loading: an answer computed while a booking bumps the
        generation is stored under the old generation, so nobody ever reads it.
        """
        prefix = f"{self.prefix}:avail:{hotel_id}:"
        try:
            async with asyncio.timeout(REDIS_OP_TIMEOUT):
                gen_raw, raw = await self._read_availability(
                    keys=[self._gen_key(hotel_id)], args=[prefix, f":{params}"]
                )
        except (RedisError, OSError) as exc:
            # Unknown generation: load without caching rather than risk a stale answer.
            log.warning("cache_get_failed", kind="availability", error=str(exc))
            CACHE_REQUESTS.labels("availability", "miss").inc()
            return await load()
        CACHE_REQUESTS.labels("availability", "hit" if raw is not None else "miss").inc()
        if raw is not None:
            return json.loads(raw)
        gen = gen_raw.decode() if isinstance(gen_raw, bytes) else str(gen_raw)
        value = await load()
        await self._set(f"{prefix}{gen}:{params}", value, self.availability_ttl)
        return value

    async def invalidate_availability(self, hotel_id: str) -> None:
        CACHE_INVALIDATIONS.inc()
        try:
            await self.redis.incr(self._gen_key(hotel_id))
        except (RedisError, OSError) as exc:
            # Stale availability is re-checked under the booking lock anyway; worst case a
            # guest sees a room that is gone and gets FAILED_PRECONDITION on booking.
            log.error("cache_invalidate_failed", hotel_id=hotel_id, error=str(exc))

    async def invalidate_static(self) -> None:
        self._local.clear()
        try:
            keys = [
                k async for k in self.redis.scan_iter(match=f"{self.prefix}:static:*", count=200)
            ]
            if keys:
                await self.redis.delete(*keys)
        except (RedisError, OSError) as exc:
            log.warning("cache_invalidate_static_failed", error=str(exc))
