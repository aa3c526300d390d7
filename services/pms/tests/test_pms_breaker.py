"""The shared circuit breaker: opens on outages, fails fast, half-opens once, recovers, and
replicas see each other's state through Redis."""

from __future__ import annotations

import asyncio
import time

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
    clock = Clock()
    breaker = make(redis, clock=clock)
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    clock.now += 0.6  # past the reset timeout

    async def ok() -> None:
        return None

    await call(breaker, ok)  # the trial call passes and closes the circuit
    assert await breaker.refresh() == "closed"
    assert breaker.storage.counter == 0


async def test_failed_trial_reopens_the_breaker(redis: aioredis.Redis) -> None:
    clock = Clock()
    breaker = make(redis, clock=clock)
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    clock.now += 0.6  # past the reset timeout
    with pytest.raises(QloUnavailable):
        await call(breaker, outage)
    assert await breaker.refresh() == "open"
    with pytest.raises(QloCircuitOpen):
        await call(breaker, outage)


async def test_only_one_trial_call_while_half_open(redis: aioredis.Redis) -> None:
    clock = Clock()
    breaker = make(redis, clock=clock)
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    clock.now += 0.6  # past the reset timeout
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


class Clock:
    """A clock the test moves by hand (starts at real time: pybreaker stamps `opened_at`)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def trip(breaker: SharedCircuitBreaker) -> None:
    for _ in range(3):
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)
    assert await breaker.refresh() == "open"


async def ok() -> None:
    return None


async def test_breaker_probes_within_its_short_reset_after_the_pms_recovers(
    redis: aioredis.Redis,
) -> None:
    clock = Clock()
    breaker = make(redis, reset_timeout=2.0, reset_timeout_max=30.0, clock=clock)
    await trip(breaker)
    clock.now += 1.9
    with pytest.raises(QloCircuitOpen):
        await call(breaker, ok)  # still inside the short wait: fail fast
    clock.now += 0.2  # 2.1 s after opening: the PMS is back and the first caller is the trial
    await call(breaker, ok)
    assert await breaker.refresh() == "closed"


async def test_each_failed_trial_doubles_the_wait_up_to_the_max_and_success_resets_it(
    redis: aioredis.Redis,
) -> None:
    clock = Clock()
    breaker = make(redis, reset_timeout=2.0, reset_timeout_max=5.0, clock=clock)
    await trip(breaker)
    waits = [breaker.reset_timeout]
    for _ in range(3):
        clock.now = time.time() + breaker.reset_timeout + 0.01
        with pytest.raises(QloUnavailable):
            await call(breaker, outage)  # the trial fails: open again, longer wait
        await breaker.refresh()
        waits.append(breaker.reset_timeout)
    assert waits == [2.0, 4.0, 5.0, 5.0]
    other_replica = make(redis, reset_timeout=2.0, reset_timeout_max=5.0, clock=clock)
    await other_replica.refresh()
    assert other_replica.reset_timeout == 5.0  # the back-off is shared through Redis
    clock.now = time.time() + 5.01
    await call(breaker, ok)
    assert await breaker.refresh() == "closed"
    assert breaker.reset_timeout == 2.0


async def test_a_cancelled_trial_does_not_keep_everyone_out(redis: aioredis.Redis) -> None:
    clock = Clock()
    breaker = make(redis, reset_timeout=1.0, trial_lease=60.0, clock=clock)
    await trip(breaker)
    clock.now += 1.1
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    trial = asyncio.create_task(call(breaker, hang))
    await started.wait()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    await call(breaker, ok)  # a new trial right away, not after the 60 s lease
    assert await breaker.refresh() == "closed"
