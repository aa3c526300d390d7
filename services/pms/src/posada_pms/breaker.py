"""Circuit breaker around QloApps whose state every replica shares through Redis.

pybreaker supplies the state machine (closed → open after `fail_max` failures, open → half-open
after `reset_timeout`, half-open → closed after `success_threshold` successes). Its bundled
`CircuitRedisStorage` is synchronous: it would call a blocking redis client (several round
trips) from inside the event loop on every guarded call, stalling every other request of the
replica while Redis answers, and it cannot use the service's `redis.asyncio` pool.

So `SharedBreakerStorage` implements pybreaker's storage interface on an in-process snapshot,
which pybreaker reads and writes synchronously (cheap, never blocks), and syncs that snapshot
with one Redis hash asynchronously around each guarded call:

* `pull()` before the call: one HGETALL brings in what other replicas did (state, failure
  count, opened_at);
* `push()` after the call: the writes pybreaker made are replayed in one pipeline (HINCRBY for
  failures, so concurrent replicas add up instead of overwriting; HSET for state changes).

The price is eventual consistency within one call's duration, which a breaker tolerates: the
threshold is approximate by a few failures under heavy concurrency, never wrong in direction.
If Redis itself is down or slow (each sync gives up after 250 ms) the breaker keeps working
on the local snapshot.

Half-open admits a single trial call across all replicas (a Redis `SET NX PX` token, released
as soon as the trial ends, whatever its outcome); other callers keep failing fast until the
trial decides.

The wait before a trial starts short (`reset_timeout`, a few seconds) and doubles after each
failed trial up to `reset_timeout_max`, shared through the same hash (`failed_trials`): a QloApps
that comes back is used again within seconds, one that stays down is probed rarely. Without
that, one fixed long timeout kept the breaker open for half a minute after QloApps had recovered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pybreaker
import redis.asyncio as aioredis
from posada_common.logging import get_logger
from redis.exceptions import RedisError

from posada_pms.metrics import BREAKER_REJECTED, BREAKER_STATE, BREAKER_TRANSITIONS
from posada_pms.qloapps import QloCircuitOpen

log = get_logger(__name__)

# A slow Redis must not make every QloApps call slow: breaker syncs give up quickly and the
# replica carries on with its local snapshot (TimeoutError is an OSError, caught below).
REDIS_OP_TIMEOUT = 0.25
_STATE_VALUE = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}


class SharedBreakerStorage(pybreaker.CircuitBreakerStorage):
    def __init__(self, redis: aioredis.Redis, key: str, name: str) -> None:
        super().__init__(name)
        self._redis = redis
        self.key = key
        self._state = pybreaker.STATE_CLOSED
        self._counter = 0
        self._success = 0
        self._opened_at: float | None = None
        self._failed_trials = 0
        self._ops: list[tuple[str, str, Any]] = []

    # --- pybreaker's synchronous interface, on the local snapshot --------------------------
    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, state: str) -> None:
        self._state = str(state)
        self._ops.append(("hset", "state", self._state))

    def increment_counter(self) -> None:
        self._counter += 1
        self._ops.append(("hincrby", "fail_counter", 1))

    def reset_counter(self) -> None:
        if self._counter:
            self._counter = 0
            self._ops.append(("hset", "fail_counter", 0))

    def increment_success_counter(self) -> None:
        self._success += 1
        self._ops.append(("hincrby", "success_counter", 1))

    def reset_success_counter(self) -> None:
        if self._success:
            self._success = 0
            self._ops.append(("hset", "success_counter", 0))

    @property
    def counter(self) -> int:
        return self._counter

    @property
    def success_counter(self) -> int:
        return self._success

    @property
    def failed_trials(self) -> int:
        """Trials that failed in a row since the breaker last closed (all replicas)."""
        return self._failed_trials

    def record_trial(self, *, succeeded: bool) -> None:
        if succeeded:
            if self._failed_trials:
                self._failed_trials = 0
                self._ops.append(("hset", "failed_trials", 0))
        else:
            self._failed_trials += 1
            self._ops.append(("hincrby", "failed_trials", 1))

    @property
    def opened_at(self) -> datetime | None:
        if self._opened_at is None:
            return None
        return datetime.fromtimestamp(self._opened_at, UTC)

    @opened_at.setter
    def opened_at(self, now: datetime) -> None:
        self._opened_at = now.timestamp()
        self._ops.append(("hset", "opened_at", repr(self._opened_at)))

    # --- async sync with Redis ----------------------------------------------------------------
    async def pull(self) -> None:
        try:
            async with asyncio.timeout(REDIS_OP_TIMEOUT):
                raw = await self._redis.hgetall(self.key)
        except (RedisError, OSError) as exc:
            log.warning("breaker_pull_failed", error=str(exc))
            return
        data = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }
        self._state = data.get("state", pybreaker.STATE_CLOSED)
        self._counter = int(data.get("fail_counter", 0) or 0)
        self._success = int(data.get("success_counter", 0) or 0)
        opened = data.get("opened_at")
        self._opened_at = float(opened) if opened else None
        self._failed_trials = int(data.get("failed_trials", 0) or 0)

    async def push(self) -> None:
        ops, self._ops = self._ops, []
        if not ops:
            return
        try:
            pipe = self._redis.pipeline(transaction=True)
            for op, fld, value in ops:
                if op == "hincrby":
                    pipe.hincrby(self.key, fld, value)
                else:
                    pipe.hset(self.key, fld, value)
            async with asyncio.timeout(REDIS_OP_TIMEOUT * 2):
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("breaker_push_failed", error=str(exc))
            return
        # Adopt the shared totals HINCRBY returned (other replicas' failures included).
        for (op, fld, _), result in zip(ops, results, strict=True):
            if op == "hincrby" and fld == "fail_counter":
                self._counter = max(self._counter, int(result))


class _MetricsListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        name = cb.name or "qloapps"
        BREAKER_STATE.labels(name).set(_STATE_VALUE.get(new_state.name, 0))
        BREAKER_TRANSITIONS.labels(name, new_state.name).inc()
        log.warning(
            "breaker_state_changed",
            breaker=name,
            old=getattr(old_state, "name", None),
            new=new_state.name,
        )


class SharedCircuitBreaker:
    """pybreaker's state machine + shared Redis storage, usable around `await`."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        name: str = "qloapps",
        key_prefix: str = "pms:breaker",
        fail_max: int = 5,
        reset_timeout: float = 2.0,
        reset_timeout_max: float = 30.0,
        trial_lease: float = 15.0,
        success_threshold: int = 1,
        is_failure: Callable[[BaseException], bool] = lambda exc: True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._redis = redis
        self.storage = SharedBreakerStorage(redis, f"{key_prefix}:{name}", name)
        self._trial_key = f"{key_prefix}:{name}:trial"
        # How long a trial may hold the token if its caller dies mid-call (normally the trial
        # releases it when it ends): longer than one QloApps call, shorter than a guest's wait.
        self._trial_ms = int(max(trial_lease, 0.1) * 1000)
        self.reset_timeout_base = reset_timeout
        self.reset_timeout_max = max(reset_timeout_max, reset_timeout)
        self._clock = clock
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            success_threshold=success_threshold,
            # Excluded = "the PMS answered": business errors (404, sold out, bad input) and our
            # own cancellations must not trip the breaker.
            exclude=[lambda exc: not is_failure(exc)],
            state_storage=self.storage,
            listeners=[_MetricsListener()],
            name=name,
            # On the failure that trips the breaker, re-raise that failure itself: for a write
            # it says "outcome unknown", which a generic "breaker open" would hide.
            throw_new_error_on_trip=False,
        )
        BREAKER_STATE.labels(name).set(0)
        BREAKER_REJECTED.labels(name)  # exported at zero: the first rejection is visible

    @property
    def current_state(self) -> str:
        return self.storage.state

    @property
    def reset_timeout(self) -> float:
        """Seconds from opening to the next trial: doubles with each failed trial, capped."""
        factor = 2 ** min(self.storage.failed_trials, 16)
        return float(min(self.reset_timeout_base * factor, self.reset_timeout_max))

    async def refresh(self) -> str:
        await self.storage.pull()
        state = self.breaker.state.name  # notices changes made by other replicas
        BREAKER_STATE.labels(self.name).set(_STATE_VALUE.get(state, 0))
        return state

    async def _claim_trial(self) -> bool:
        """Only one caller across replicas may make the half-open trial call."""
        try:
            return bool(
                await self._redis.set(self._trial_key, uuid.uuid4().hex, nx=True, px=self._trial_ms)
            )
        except (RedisError, OSError):
            return True

    @contextlib.asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        state = await self.refresh()
        trial = False
        if state == pybreaker.STATE_OPEN:
            opened = self.storage._opened_at
            elapsed = opened is None or self._clock() >= opened + self.reset_timeout
            if not elapsed or not await self._claim_trial():
                BREAKER_REJECTED.labels(self.name).inc()
                raise QloCircuitOpen()
            trial = True
            self.breaker.half_open()  # we decided the wait is over (our clock, our timeout)
        elif state == pybreaker.STATE_HALF_OPEN:
            if not await self._claim_trial():
                BREAKER_REJECTED.labels(self.name).inc()
                raise QloCircuitOpen()
            trial = True
        try:
            with self.breaker.calling():
                yield
        except pybreaker.CircuitBreakerError as exc:
            BREAKER_REJECTED.labels(self.name).inc()
            raise QloCircuitOpen(str(exc)) from exc
        finally:
            if trial:
                after = self.breaker.state.name
                if after != pybreaker.STATE_HALF_OPEN:  # the trial decided (not cancelled)
                    self.storage.record_trial(succeeded=after == pybreaker.STATE_CLOSED)
                # Released whatever happened: a cancelled trial must not keep everyone out
                # until the lease runs out; the next caller makes a new trial.
                with contextlib.suppress(RedisError, OSError):
                    await self._redis.delete(self._trial_key)
            await self.storage.push()
