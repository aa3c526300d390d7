"""Live updates: one poller per hotel with viewers, fanned out to browsers as server-sent events.

conversation keeps a change counter (`version`, `updated_at`) on every conversation row; one
`ListConversations(updated_since=…)` per second per hotel — only while someone of that hotel
has the console open — finds what changed. Each change becomes SSE events: `inbox` (the list
refreshes), `conv-<key>` (that conversation's page refreshes) and `tasks`. Polling a cursor
through the gRPC contract keeps the console stateless and Envoy-friendly (no long-lived gRPC
stream to re-establish); the overlap of the window makes a late-committing write impossible to
miss, and the version check makes the overlap invisible to browsers.

A page is rendered a moment before its event stream connects; a change in that gap would be
lost. So each page says when it was rendered (`since`), and a new stream first gets the events
of every conversation the feed saw change after that moment (`catch_up`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
from collections.abc import AsyncIterator

from google.protobuf import timestamp_pb2
from posada_common.logging import get_logger

from .mesh_client import MeshClient, MeshError, Staff

log = get_logger(__name__)
OVERLAP = dt.timedelta(seconds=5)


def conversation_key(conversation_id: str) -> str:
    """A short, stable, HTML- and SSE-safe name for a conversation's event."""
    return "conv-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:16]


class HotelFeed:
    """Polls one hotel's changes while it has subscribers."""

    def __init__(self, hotel_id: str, client: MeshClient, interval: float):
        self.hotel_id = hotel_id
        self.client = client
        self.interval = interval
        self.queues: set[asyncio.Queue[list[str]]] = set()
        self.viewers: dict[int, Staff] = {}
        self.versions: dict[str, int] = {}
        self.updated: dict[str, dt.datetime] = {}
        self.cursor: dt.datetime | None = None
        self.task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    def staff(self) -> Staff | None:
        """Whose staff token the poll uses: any current viewer of this hotel."""
        return next(iter(self.viewers.values()), None)

    async def poll_once(self) -> list[str]:
        async with self.lock:
            return await self._poll()

    async def catch_up(self, since: dt.datetime) -> list[str]:
        """Events of conversations that changed after `since` (the page's render time)."""
        if self.cursor is None:
            await self.poll_once()  # the baseline, so the gap is covered from the start
        keys = [conversation_key(cid) for cid, at in self.updated.items() if at > since]
        return ["inbox", "tasks", *keys] if keys else []

    async def _poll(self) -> list[str]:
        staff = self.staff()
        if staff is None:
            return []
        since = None
        if self.cursor is not None:
            since = timestamp_pb2.Timestamp()
            since.FromDatetime(self.cursor - OVERLAP)
        rows = await self.client.list_conversations(staff, updated_since=since, page_size=200)
        first = self.cursor is None
        events: list[str] = []
        for row in rows:
            updated = row.updated_at.ToDatetime(tzinfo=dt.UTC)
            if self.cursor is None or updated > self.cursor:
                self.cursor = updated
            self.updated[row.conversation_id] = updated
            if self.versions.get(row.conversation_id) != row.version:
                self.versions[row.conversation_id] = row.version
                events.append(conversation_key(row.conversation_id))
        if self.cursor is None:
            self.cursor = dt.datetime.now(dt.UTC)
        if len(self.versions) > 5000:
            self.versions.clear()
            self.updated.clear()
        if first or not events:
            return []
        return ["inbox", "tasks", *events]

    async def run(self) -> None:
        failures = 0
        while self.queues:
            try:
                events = await self.poll_once()
                failures = 0
            except MeshError as exc:
                failures += 1
                if failures in (1, 10) or failures % 60 == 0:
                    log.warning("live_poll_failed", hotel_id=self.hotel_id, kind=exc.kind)
                events = []
            for queue in list(self.queues):
                if events:
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(events)
            await asyncio.sleep(self.interval * (1 if failures == 0 else min(failures, 5)))


class LiveHub:
    def __init__(self, client: MeshClient, interval: float):
        self.client = client
        self.interval = interval
        self.feeds: dict[str, HotelFeed] = {}

    async def catch_up(self, staff: Staff, since: dt.datetime) -> list[str]:
        feed = self.feeds.get(staff.hotel_id)
        if feed is None:
            return []
        try:
            return await feed.catch_up(since)
        except MeshError:
            return []

    @contextlib.asynccontextmanager
    async def subscribe(self, staff: Staff) -> AsyncIterator[asyncio.Queue[list[str]]]:
        feed = self.feeds.get(staff.hotel_id)
        if feed is None:
            feed = self.feeds[staff.hotel_id] = HotelFeed(
                staff.hotel_id, self.client, self.interval
            )
        queue: asyncio.Queue[list[str]] = asyncio.Queue(maxsize=100)
        feed.queues.add(queue)
        feed.viewers[id(queue)] = staff
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(feed.run(), name=f"live-{staff.hotel_id}")
        try:
            yield queue
        finally:
            feed.queues.discard(queue)
            feed.viewers.pop(id(queue), None)

    async def close(self) -> None:
        for feed in self.feeds.values():
            feed.queues.clear()
            if feed.task is not None:
                feed.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feed.task
