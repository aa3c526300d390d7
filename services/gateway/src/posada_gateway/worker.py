"""The inbox worker: a Redis consumer group on the inbox stream, and nothing else.

What happens to one message is `turn.TurnHandler`'s business; this module decides *when* and
*how often*:

* Entries are read with XREADGROUP: first this consumer's own pending entries (id `0`: a restart
  under the same name resumes at once), then new ones (`>`). Entries of consumers that died are
  taken over with XAUTOCLAIM once idle for `claim_idle_seconds`; a heartbeat XCLAIMs every
  entry this worker holds (running or waiting for a retry) so a slow but alive worker never has
  them stolen. Each entry is decoded once, by the reader.
* Per-conversation order without head-of-line blocking: entries queue per conversation; a
  conversation is worked on by at most one of `concurrency` workers at a time, and the reader
  never waits for a worker (it only pauses when `max_buffered` entries are held in memory).
* Retries wait outside the workers: a message that must be retried (conversation answered
  `retry_later` or was UNAVAILABLE, a provider blip) stays pending in the stream, its
  conversation is parked on a timer, and the worker moves on to other guests. Later messages of
  the same guest wait behind it; nobody else does. Offers are numbered (`attempt`), the budget
  is bounded (`max_attempts` offers and `retry_budget_seconds`), and the last offer carries
  `final_attempt` so conversation answers the guest honestly instead of asking for more time.
* Attempts are counted in Redis, so crashes count too. A message that still fails after its last
  offer, or fails permanently, moves to the dead-letter stream in one transaction (add + ack +
  delete); `ChannelService.ReplayDeadLetter` puts it back.
* Consumption starts only once `ready()` says the conversation service is SERVING.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from posada_common.logging import bind_context, unbind_context

from . import metrics
from .store import GatewayStore, _s
from .turn import Attempt, PermanentError, RetryLater, TurnHandler


@dataclass(slots=True)
class WorkerConfig:
    consumer: str = ""
    concurrency: int = 8
    max_attempts: int = 12
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 30.0
    retry_budget_seconds: float = 120.0
    claim_idle_seconds: float = 30.0
    claim_interval_seconds: float = 5.0
    block_ms: int = 1000
    max_buffered: int = 1024
    gauge_interval_seconds: float = 5.0
    stop_grace_seconds: float = 5.0
    ready_poll_seconds: float = 0.5


def default_consumer_name() -> str:
    return socket.gethostname()


@dataclass(slots=True)
class Entry:
    """One stream entry, decoded once, straight into the HandleMessageRequest that will carry it
    (no copy of the message — with a voice note that is up to 16 MB — on the way to
    conversation). `request` is None when the payload is not a message."""

    id: str
    payload: bytes
    received_ms: int
    request: conv_pb2.HandleMessageRequest | None
    error: str = ""
    note: str = ""
    # Read for the first time (XREADGROUP '>'), not replayed: nothing can have been sent for it
    # before, so the pipeline skips looking for provider echoes of earlier sends.
    fresh: bool = False

    @property
    def msg(self) -> m.InboundMessage | None:
        return self.request.message if self.request is not None else None

    @property
    def lane(self) -> str:
        return self.msg.conversation_id if self.msg is not None else self.id


@dataclass(slots=True)
class _Lane:
    """Entries of one conversation, in stream order; `busy` while one is being handled or
    waiting for its retry time."""

    entries: deque[Entry] = field(default_factory=deque)
    busy: bool = False


def decode_entry(entry_id: Any, fields: dict[bytes, bytes], *, fresh: bool = False) -> Entry:
    payload = fields.get(b"m", b"")
    try:
        received_ms = int(_s(fields.get(b"rx")) or 0)
        request = conv_pb2.HandleMessageRequest()
        request.message.MergeFromString(payload)
        if not request.message.message_id:
            raise ValueError("no message id")
    except Exception as exc:
        return Entry(_s(entry_id), payload, 0, None, f"undecodable entry: {exc}")
    return Entry(
        _s(entry_id),
        payload,
        received_ms,
        request,
        note=_s(fields.get(b"note")),
        fresh=fresh and b"replay" not in fields,
    )


class InboxWorker:
    def __init__(
        self,
        store: GatewayStore,
        turn: TurnHandler,
        config: WorkerConfig,
        *,
        log: Any,
        ready: Callable[[], Awaitable[bool]] | None = None,
        on_dead_letter: Callable[[m.InboundMessage, str], Awaitable[None]] | None = None,
    ):
        self.store = store
        self.turn = turn
        self.cfg = config
        self.consumer = config.consumer or default_consumer_name()
        self.log = log
        self._ready = ready
        self._on_dead_letter = on_dead_letter
        self._lanes: dict[str, _Lane] = {}
        self._runnable: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffered: dict[str, Entry] = {}  # every entry in memory, by id
        self._room = asyncio.Event()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._locks: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._workers: list[asyncio.Task[None]] = []
        self._lock_ms = int(config.claim_idle_seconds * 1000)
        self._stopping = asyncio.Event()
        # Observable state for tests and metrics: how many entries wait for a retry.
        self.parked = 0

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self.store.ensure_groups()
        self._stopping.clear()
        self._room.set()
        worker_count = max(1, self.cfg.concurrency)
        self._workers = [
            asyncio.create_task(self._work(), name=f"gw-worker-{i}") for i in range(worker_count)
        ]
        self._tasks = [
            asyncio.create_task(self._reader(), name="gw-reader"),
            asyncio.create_task(self._claimer(), name="gw-claimer"),
            asyncio.create_task(self._heartbeat(), name="gw-heartbeat"),
            asyncio.create_task(self._gauges(), name="gw-gauges"),
        ]
        self.log.info("inbox_worker_started", consumer=self.consumer, workers=worker_count)

    async def stop(self) -> None:
        """Stop taking entries, give running ones `stop_grace_seconds`, then cancel: whatever
        is unfinished stays pending and is resumed by the next start (or another replica)."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for _ in self._workers:
            self._runnable.put_nowait(None)
        if self._workers:
            _done, pending = await asyncio.wait(self._workers, timeout=self.cfg.stop_grace_seconds)
            for task in pending:
                task.cancel()
        await asyncio.gather(*self._tasks, *self._workers, return_exceptions=True)
        self._tasks, self._workers = [], []

    async def kill(self) -> None:
        """Abrupt stop (tests simulate a crash with it): nothing is acknowledged."""
        self._stopping.set()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in [*self._tasks, *self._workers]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._workers, return_exceptions=True)
        self._tasks, self._workers = [], []

    # --- reading ------------------------------------------------------------------------
    def _dispatch(self, raw: list[Any], *, fresh: bool = False) -> None:
        for entry_id, fields in raw:
            eid = _s(entry_id)
            if eid in self._buffered:
                continue
            if not fields:
                # Deleted while pending (finished elsewhere): just clear it from the PEL.
                asyncio.get_running_loop().create_task(self.store.ack_inbox(eid))
                continue
            entry = decode_entry(eid, fields, fresh=fresh)
            self._buffered[eid] = entry
            lane = self._lanes.get(entry.lane)
            if lane is None:
                lane = self._lanes[entry.lane] = _Lane()
            lane.entries.append(entry)
            if not lane.busy:
                lane.busy = True
                self._runnable.put_nowait(entry.lane)
        if len(self._buffered) >= self.cfg.max_buffered:
            self._room.clear()

    async def _wait_until_ready(self) -> None:
        if self._ready is None:
            return
        logged = False
        while not self._stopping.is_set():
            with contextlib.suppress(Exception):
                if await self._ready():
                    if logged:
                        self.log.info("inbox_consumption_started")
                    return
            if not logged:
                self.log.info("inbox_waiting_for_conversation")
                logged = True
            await asyncio.sleep(self.cfg.ready_poll_seconds)

    async def _reader(self) -> None:
        await self._wait_until_ready()
        last = "0"  # own pending entries first (restart with the same consumer name)
        page = max(16, self.cfg.concurrency * 4)
        while not self._stopping.is_set():
            try:
                await self._room.wait()
                raw = await self.store.read_inbox(
                    self.consumer, last, page, None if last == "0" else self.cfg.block_ms
                )
                if last == "0":
                    if not raw:
                        last = ">"
                        continue
                    self._dispatch(raw)
                    last = _s(raw[-1][0]) if len(raw) >= page else ">"
                    continue
                self._dispatch(raw, fresh=True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("inbox_read_failed", error=str(exc))
                await asyncio.sleep(1.0)

    async def _claimer(self) -> None:
        await self._wait_until_ready()
        while not self._stopping.is_set():
            await asyncio.sleep(self.cfg.claim_interval_seconds)
            try:
                async for raw in self.store.autoclaim_inbox(
                    self.consumer, int(self.cfg.claim_idle_seconds * 1000)
                ):
                    fresh = [
                        (entry_id, fields)
                        for entry_id, fields in raw
                        if _s(entry_id) not in self._buffered
                    ]
                    if fresh:
                        metrics.CLAIMED.inc(len(fresh))
                        self.log.info("inbox_entries_claimed", count=len(fresh))
                        self._dispatch(fresh)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("inbox_claim_failed", error=str(exc))

    async def _heartbeat(self) -> None:
        interval = max(0.2, self.cfg.claim_idle_seconds / 3)
        while not self._stopping.is_set():
            await asyncio.sleep(interval)
            ids = list(self._buffered)
            if not ids:
                continue
            try:
                await self.store.keep_inbox_entries(
                    self.consumer, ids, list(self._locks.values()), self._lock_ms
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("inbox_heartbeat_failed", error=str(exc))

    async def _gauges(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(Exception):
                gauges = await self.store.inbox_gauges()
                metrics.INBOX_LENGTH.set(gauges["length"])
                metrics.INBOX_PENDING.set(gauges["pending"])
                metrics.INBOX_OLDEST_AGE.set(gauges["oldest_age"])
                metrics.DEAD_LETTERS.set(gauges["dlq"])
                metrics.STATUS_STREAM_LENGTH.set(gauges["status"])
                metrics.INBOX_PARKED.set(self.parked)
            await asyncio.sleep(self.cfg.gauge_interval_seconds)

    # --- working ------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            key = await self._runnable.get()
            if key is None:
                return
            lane = self._lanes.get(key)
            if lane is None or not lane.entries:
                self._lanes.pop(key, None)
                continue
            entry = lane.entries[0]
            delay: float | None = None
            try:
                delay = await self.process_entry(entry)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let a worker die
                self.log.exception("inbox_entry_crashed", entry_id=entry.id, error=str(exc))
                delay = self.cfg.retry_base_seconds
            if self._stopping.is_set():
                continue
            if delay is None:
                lane.entries.popleft()
                self._buffered.pop(entry.id, None)
                if len(self._buffered) < self.cfg.max_buffered:
                    self._room.set()
            if not lane.entries:
                self._lanes.pop(key, None)
            elif delay is None:
                self._runnable.put_nowait(key)
            else:
                self._park(key, delay)

    def _park(self, key: str, delay: float) -> None:
        """Offer the head of this conversation again after `delay`; nobody waits meanwhile."""
        self.parked += 1

        def wake() -> None:
            self._timers.pop(key, None)
            self.parked -= 1
            if not self._stopping.is_set():
                self._runnable.put_nowait(key)

        self._timers[key] = asyncio.get_running_loop().call_later(max(0.0, delay), wake)

    def retry_parked_now(self) -> int:
        """Offer every parked message again at once (an operator or a test saw the dependency
        recover). Returns how many conversations were woken."""
        woken = 0
        for key, timer in list(self._timers.items()):
            timer.cancel()
            self._timers.pop(key, None)
            self.parked -= 1
            self._runnable.put_nowait(key)
            woken += 1
        return woken

    def _backoff(self, attempt: int) -> float:
        return min(
            self.cfg.retry_max_seconds, self.cfg.retry_base_seconds * (2 ** max(0, attempt - 1))
        )

    async def process_entry(self, entry: Entry) -> float | None:
        """Handle one entry. Returns None when it is finished (done, duplicate, dead letter,
        handled elsewhere) or the delay after which it must be offered again."""
        started = time.monotonic()
        request = entry.request
        if request is None:
            await self.store.dead_letter(entry.id, entry.payload, "", entry.error, 1)
            metrics.DEAD_LETTERED.labels("undecodable").inc()
            metrics.PROCESSED.labels("dead_letter").inc()
            return None
        msg = request.message
        # One worker per message id at a time, even if an entry was claimed from a replica that
        # is slow rather than dead (or the same message sits in the stream twice after a replay).
        # The lease is renewed by the heartbeat and lapses with the idle time after a crash.
        owner = f"{self.consumer}|{entry.id}"
        claim = await self.store.claim(msg.message_id, owner, self._lock_ms)
        if claim.done:
            await self.store.finish(entry.id)
            if claim.locked:
                await self.store.unlock(msg.message_id, owner)
            metrics.PROCESSED.labels("duplicate").inc()
            return None
        if not claim.locked and not await self.store.holds_lock(msg.message_id, owner):
            metrics.PROCESSED.labels("busy").inc()
            # Whoever holds the lease finishes it; look again later in case they die.
            return self.cfg.claim_idle_seconds
        self._locks[entry.id] = msg.message_id
        bind_context(message_id=msg.message_id, conversation_id=msg.conversation_id)
        delay: float | None = self.cfg.retry_base_seconds
        try:
            delay = await self._offer(entry, request, claim.attempts, claim.first_failure, started)
            return delay
        finally:
            self._locks.pop(entry.id, None)
            unbind_context("message_id", "conversation_id")
            if delay is not None:  # a finished entry released its lease with the ack
                with contextlib.suppress(Exception):
                    await self.store.unlock(msg.message_id, owner)

    def _is_final(self, number: int, first_failure: float) -> bool:
        if number >= self.cfg.max_attempts:
            return True
        return bool(first_failure) and time.time() - first_failure >= (
            self.cfg.retry_budget_seconds - 0.01
        )

    async def _offer(
        self,
        entry: Entry,
        request: conv_pb2.HandleMessageRequest,
        failures: int,
        first_failure: float,
        started: float,
    ) -> float | None:
        msg = request.message
        number = failures + 1
        attempt = Attempt(number=number, final=self._is_final(number, first_failure))
        try:
            await self.turn.handle(
                request, attempt, note=entry.note, fresh=entry.fresh and number == 1
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return await self._failed(entry, msg, exc, attempt)
        await self.store.finish(entry.id, msg.message_id, owner=f"{self.consumer}|{entry.id}")
        metrics.PROCESSED.labels("done").inc()
        metrics.PROCESS_SECONDS.observe(time.monotonic() - started)
        if entry.received_ms:
            metrics.END_TO_END_SECONDS.observe(max(0.0, time.time() - entry.received_ms / 1000))
        return None

    async def _failed(
        self, entry: Entry, msg: m.InboundMessage, exc: Exception, attempt: Attempt
    ) -> float | None:
        permanent = isinstance(exc, PermanentError)
        failures, first_failure = await self.store.add_attempt(msg.message_id)
        reason = f"{type(exc).__name__}: {exc}"
        self.log.warning(
            "inbox_message_failed",
            message_id=msg.message_id,
            attempt=attempt.number,
            final=attempt.final,
            permanent=permanent,
            error=reason[:500],
        )
        if permanent or attempt.final or failures >= self.cfg.max_attempts:
            await self.store.dead_letter(entry.id, entry.payload, msg.message_id, reason, failures)
            metrics.DEAD_LETTERED.labels("permanent" if permanent else "max_attempts").inc()
            metrics.PROCESSED.labels("dead_letter").inc()
            self.log.error(
                "inbox_message_dead_lettered",
                message_id=msg.message_id,
                attempts=failures,
                reason=reason[:500],
            )
            if self._on_dead_letter is not None:
                try:
                    await self._on_dead_letter(msg, reason)
                except Exception as notice_exc:
                    self.log.error("dead_letter_notice_failed", error=str(notice_exc))
            return None
        metrics.PROCESSED.labels("retry").inc()
        delay = self._backoff(failures)
        if isinstance(exc, RetryLater) and exc.after_ms > 0:
            delay = exc.after_ms / 1000
        # Never wait past the budget: the offer that reaches it is the final one.
        remaining = self.cfg.retry_budget_seconds - (time.time() - first_failure)
        return max(0.0, min(delay, remaining))
