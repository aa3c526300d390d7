"""Redis connections with timeouts, so a stuck Redis fails a request instead of hanging it."""

from __future__ import annotations

import redis.asyncio as aioredis


def connect_redis(
    url: str,
    *,
    socket_timeout: float = 2.0,
    connect_timeout: float = 2.0,
    max_connections: int = 64,
    decode_responses: bool = False,
) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        max_connections=max_connections,
        decode_responses=decode_responses,
        health_check_interval=30,
        retry_on_timeout=False,
    )
