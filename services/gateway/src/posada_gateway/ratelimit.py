"""Token buckets in Redis for WhatsApp's send limits.

Why Redis and not in process: Meta's limits belong to the business number (80 messages/s across
everything sent from it) and to the pair (business number, guest): ~1 message every 6 s with a
burst allowance. Every gateway replica sends from the same number and any replica may answer a
given guest, so only a shared bucket keeps the fleet under the limit; an in-process bucket would
allow N× the rate with N replicas. The bucket is one Lua script (atomic, one round trip), state
is a small hash per key with a TTL, and time comes from Redis (`TIME`) so replica clocks do not
matter. If Redis is unreachable the caller gets the exception; the worker retries the message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as aioredis

# KEYS: one bucket per key; ARGV: cost, then (rate tokens/s, capacity) per key.
# All-or-nothing: the tokens are taken from every bucket, or from none and the answer is the
# milliseconds until all of them could pay. 0 = taken.
_BUCKETS = """
local cost = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local have = tonumber(state[1])
  local ts = tonumber(state[2])
  if have == nil then have = capacity; ts = now end
  have = math.min(capacity, have + math.max(0, now - ts) * rate / 1000)
  tokens[i] = have
  if have < cost then wait = math.max(wait, math.ceil((cost - have) * 1000 / rate)) end
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1])
  local left = tokens[i]
  if wait == 0 then left = left - cost end
  redis.call('HSET', key, 'tokens', tostring(left), 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(capacity * 1000 / rate) + 1000)
end
return wait
"""


class RateLimited(Exception):
    """The bucket would make the caller wait longer than it may."""

    def __init__(self, scope: str, wait_seconds: float):
        super().__init__(f"{scope} rate limit: next token in {wait_seconds:.1f}s")
        self.scope = scope
        self.wait_seconds = wait_seconds


@dataclass(slots=True)
class Bucket:
    rate_per_second: float
    capacity: float


class RateLimiter:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        number: Bucket,
        guest: Bucket,
        prefix: str = "gw:rl",
    ):
        self.redis = redis
        self.number = number
        self.guest = guest
        self.prefix = prefix
        self._script = redis.register_script(_BUCKETS)

    async def try_take_all(self, buckets: list[tuple[str, Bucket]], cost: float = 1.0) -> float:
        """Take `cost` from every bucket, or from none and return the seconds to wait."""
        live = [(k, b) for k, b in buckets if b.rate_per_second > 0]
        if not live:
            return 0.0
        args: list[float] = [cost]
        for _k, b in live:
            args += [b.rate_per_second, b.capacity]
        wait_ms = await self._script(keys=[f"{self.prefix}:{k}" for k, _b in live], args=args)
        return int(wait_ms) / 1000.0

    async def try_take(self, key: str, bucket: Bucket, cost: float = 1.0) -> float:
        """Take `cost` tokens or return the seconds to wait (nothing is taken then)."""
        return await self.try_take_all([(key, bucket)], cost)

    async def acquire_all(
        self, buckets: list[tuple[str, Bucket]], *, max_wait: float, scope: str
    ) -> float:
        """Wait until every bucket has a token, up to `max_wait` seconds; returns the time waited."""
        waited = 0.0
        while True:
            wait = await self.try_take_all(buckets)
            if wait <= 0:
                return waited
            if waited + wait > max_wait:
                raise RateLimited(scope, wait)
            await asyncio.sleep(wait)
            waited += wait

    async def for_send(self, phone_number_id: str, guest: str, *, max_wait: float) -> float:
        """A message to a guest: one token of the number's bucket and one of the pair's."""
        return await self.acquire_all(
            [
                (f"pair:{phone_number_id}:{guest}", self.guest),
                (f"num:{phone_number_id}", self.number),
            ],
            max_wait=max_wait,
            scope="send",
        )

    async def for_number(self, phone_number_id: str, *, max_wait: float) -> float:
        return await self.acquire_all(
            [(f"num:{phone_number_id}", self.number)], max_wait=max_wait, scope="number"
        )
