"""The shared circuit breaker: opens on outages, fails fast, half-opens once, recovers, and
replicas see each other's state through Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from posada_pms.breaker import SharedCircuitBreaker
from posada_pms.qloapps import QloBadRequest, QloCircuitOpen, QloUnavailable
from posada_pms.wiring import is_outage


def make(redis: aioredis.Redis, **kw: object) -> SharedCircuitBreaker:
    opts: dict = {"fail_max": 3, "reset_timeout": 0.5, "is_failure": is_outage}
    opts.update(kw)
    return SharedCircuitBreaker(redis, **opts)  # type: ignore[arg-type]


async def outage() -> None:
    raise QloUnavailable("HTTP 503", maybe_applied=True, status=503)


async def call(breaker: SharedCircuitBreaker, fn) -> None:  # type: ignore[no-untyped-def]
    async with breaker.guard():
        await fn()


async def test_breaker_opens_after_repeated_outages_and_fails_fast(redis: aioredis.Redis) -> None:
    breaker = make(redis)
    for _ in range(3):
        with pytest.raises(QloUnavailable) as info:
            await call(breaker, outage)
        assert not isinstance(info.value, QloCircuitOpen)  # the real failure, even on the trip
    assert await breaker.refresh() == "open"
    reached = False

    async def reach() -> None:
        nonlocal reached
        reached = True

    with pytest.raises(QloCircuitOpen):
        await call(breaker, reach)
    assert reached is False


async def test_business_errors_do_not_trip_the_breaker(redis: aioredis.Redis) -> None:
    breaker = make(redis)

    async def refused() -> None:
        raise QloBadRequest(400, [(404, "Requested room(s) not available.")])

    for _ in range(6):
        with pytest.raises(QloBadRequest):
            await call(breaker, refused)
    assert await breaker.refresh() == "closed"


async def test_breaker_half_opens_after_reset_timeout_and_recovers(redis: aioredis.Redis) -> None:
    breaker = make(redis)
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    await asyncio.sleep(0.6)

    async def ok() -> None:
        return None

    await call(breaker, ok)  # the trial call passes and closes the circuit
    assert await breaker.refresh() == "closed"
    assert breaker.storage.counter == 0


async def test_failed_trial_reopens_the_breaker(redis: aioredis.Redis) -> None:
    breaker = make(redis)
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    await asyncio.sleep(0.6)
    with pytest.raises(QloUnavailable):
        await call(breaker, outage)
    assert await breaker.refresh() == "open"
    with pytest.raises(QloCircuitOpen):
        await call(breaker, outage)


async def test_only_one_trial_call_while_half_open(redis: aioredis.Redis) -> None:
    breaker = make(redis)
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    await asyncio.sleep(0.6)
    calls = 0

    async def slow_ok() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)

    results = await asyncio.gather(
        *(call(breaker, slow_ok) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1
    assert sum(isinstance(r, QloCircuitOpen) for r in results) == 4


async def test_replicas_share_the_breaker_state_through_redis(redis: aioredis.Redis) -> None:
    replica_a, replica_b = make(redis), make(redis)
    # Failures on both replicas add up to the threshold.
    for breaker in (replica_a, replica_b, replica_a):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    with pytest.raises(QloCircuitOpen):
        await call(replica_b, outage)
    assert await replica_b.refresh() == "open"
