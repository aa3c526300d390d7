"""The shared token buckets (real Redis): bursts, refill, all-or-nothing across buckets."""

from __future__ import annotations

import uuid

import pytest
from posada_common.redis import connect_redis
from posada_gateway.ratelimit import Bucket, RateLimited, RateLimiter


@pytest.fixture
async def limiter(redis_url):
    r = connect_redis(redis_url)
    yield RateLimiter(
        r, number=Bucket(0.01, 3), guest=Bucket(2, 2), prefix=f"gw:rl:test:{uuid.uuid4().hex}"
    )
    await r.aclose()


async def test_burst_then_refill_and_bounded_wait(limiter):
    key = [("pair:a", limiter.guest)]
    assert await limiter.try_take_all(key) == 0
    assert await limiter.try_take_all(key) == 0
    wait = await limiter.try_take_all(key)
    assert 0.3 < wait <= 0.5  # 2 tokens/s: the next one within half a second
    waited = await limiter.acquire_all(key, max_wait=1.0, scope="guest")
    assert 0.3 < waited <= 0.6
    with pytest.raises(RateLimited):
        await limiter.acquire_all(key, max_wait=0.01, scope="guest")


async def test_a_refused_send_takes_no_token_from_any_bucket(limiter):
    # exhaust the pair bucket of guest g; the number bucket (capacity 3) must stay untouched
    await limiter.for_send("pn", "g", max_wait=0)
    await limiter.for_send("pn", "g", max_wait=0)
    for _ in range(3):
        with pytest.raises(RateLimited):
            await limiter.for_send("pn", "g", max_wait=0)
    # the number bucket had 3 and lost 2 to the accepted sends: exactly one more guest fits now
    assert await limiter.for_send("pn", "other-1", max_wait=0) == 0
    with pytest.raises(RateLimited):
        await limiter.for_send("pn", "other-2", max_wait=0)
