"""Login rate limiting in Redis: per account name and per client address, fixed windows.

After `max_attempts` failed logins in `window` seconds, further attempts for that name (or from
that address) are refused without checking the password until the window ends, so guessing is
slow and a locked-out user is told when to try again. A good login clears the name's counter.
Counts live in Redis so every console replica shares them.
"""

from __future__ import annotations

import redis.asyncio as aioredis


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, max_attempts: int, window_seconds: int):
        self.redis = redis
        self.max_attempts = max_attempts
        self.window = window_seconds

    @staticmethod
    def _keys(name: str, address: str) -> list[str]:
        return [f"console:login:name:{name.lower()[:200]}", f"console:login:addr:{address}"]

    async def retry_after(self, name: str, address: str) -> int:
        """Seconds until this name/address may try again (0 = may try now)."""
        wait = 0
        for key in self._keys(name, address):
            count = await self.redis.get(key)
            if count is not None and int(count) >= self.max_attempts:
                wait = max(wait, max(int(await self.redis.ttl(key)), 1))
        return wait

    async def failed(self, name: str, address: str) -> None:
        for key in self._keys(name, address):
            count = await self.redis.incr(key)
            # The window starts at the first failure (and a key never outlives it).
            if count == 1 or await self.redis.ttl(key) < 0:
                await self.redis.expire(key, self.window)

    async def succeeded(self, name: str) -> None:
        await self.redis.delete(self._keys(name, "")[0])
