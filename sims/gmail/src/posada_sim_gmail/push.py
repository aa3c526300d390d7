"""Pub/Sub push delivery, as Gmail + an authenticated push subscription do it.

A change to a watched label publishes `{"emailAddress", "historyId"}` (base64 in
`message.data`) to the push endpoint with `Authorization: Bearer <OIDC token>`. At most one
notification per mailbox per `push_min_interval_ms`: changes in between are coalesced into the
next one (which carries the newest history id). Any answer other than 102/200/201/202/204 is a
nack and the push is retried with exponential backoff up to `push_max_attempts`. A test can ask
for the next pushes to be dropped (Gmail does drop some), to check the gateway's sweep.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from .config import SimConfig
from .keys import SigningKey

ACK_STATUSES = {102, 200, 201, 202, 204}


@dataclass
class PushAttempt:
    pubsub_id: str
    history_id: int
    status: int | str
    at: float


@dataclass
class Publisher:
    config: SimConfig
    key: SigningKey
    attempts: list[PushAttempt] = field(default_factory=list)
    dropped: int = 0
    drop_next: int = 0
    published: int = 0
    _pending: int | None = None
    _last_sent: float = 0.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _deliveries: set[asyncio.Task[None]] = field(default_factory=set)
    _session: aiohttp.ClientSession | None = None
    watching: bool = False
    watch_labels: list[str] = field(default_factory=list)
    watch_expiration_ms: int = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._loop(), name="gmail-sim-push")

    async def close(self) -> None:
        for t in [self._task, *self._deliveries]:
            if t:
                t.cancel()
        await asyncio.gather(
            *(t for t in [self._task, *self._deliveries] if t), return_exceptions=True
        )
        if self._session:
            await self._session.close()

    def watch_matches(self, label_ids: list[str]) -> bool:
        if not self.watching or self.watch_expiration_ms < time.time() * 1000:
            return False
        return not self.watch_labels or bool(set(label_ids) & set(self.watch_labels))

    def notify(self, history_id: int) -> None:
        """A watched change happened: publish (now or coalesced into the next slot)."""
        self._pending = max(self._pending or 0, history_id)
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            gap = self.config.push_min_interval_ms / 1000 - (time.monotonic() - self._last_sent)
            if gap > 0:
                await asyncio.sleep(gap)
            if self._pending is None:
                continue
            history_id, self._pending = self._pending, None
            self._last_sent = time.monotonic()
            if self.drop_next > 0:
                self.drop_next -= 1
                self.dropped += 1
                continue
            task = asyncio.create_task(self._deliver(history_id))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    def envelope(self, history_id: int, pubsub_id: str) -> dict[str, Any]:
        data = json.dumps({"emailAddress": self.config.address, "historyId": history_id})
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "message": {
                "data": base64.b64encode(data.encode()).decode(),
                "messageId": pubsub_id,
                "message_id": pubsub_id,
                "publishTime": now,
                "publish_time": now,
                "attributes": {},
            },
            "subscription": self.config.subscription,
        }

    async def _deliver(self, history_id: int) -> None:
        assert self._session is not None
        pubsub_id = str(secrets.randbelow(10**17) + 10**16)
        self.published += 1
        body = json.dumps(self.envelope(history_id, pubsub_id))
        for attempt in range(1, self.config.push_max_attempts + 1):
            token = self.key.push_token(
                audience=self.config.audience,
                issuer=self.config.issuer,
                email=self.config.push_service_account,
            )
            status: int | str
            try:
                async with self._session.post(
                    self.config.push_url,
                    data=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                    timeout=aiohttp.ClientTimeout(total=self.config.push_timeout_s),
                ) as resp:
                    status = resp.status
                    with contextlib.suppress(Exception):
                        await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            self.attempts.append(PushAttempt(pubsub_id, history_id, status, time.time()))
            if status in ACK_STATUSES:
                return
            if attempt < self.config.push_max_attempts:
                await asyncio.sleep(self.config.push_retry_base_ms / 1000 * 2 ** (attempt - 1))
