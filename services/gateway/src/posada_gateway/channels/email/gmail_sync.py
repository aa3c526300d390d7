"""Gmail API mode, inbound: pushes wake the syncer; the syncer reads history and queues mail.

* A push only says "something changed" (its history id is the mailbox's *new* one). The syncer
  lists history from the *last stored* id, drains every page, fetches each new INBOX message
  (`format=raw`) and queues it, and only then stores the response's history id (never moving
  backwards). A 404 (id too old) falls back to a full sync of recent INBOX mail, deduplicated
  against what was already read, and restarts from the profile's current history id.
* Pushes can be dropped or delayed, so the syncer also runs every `sweep_seconds` without one.
* One syncer per mailbox at a time across replicas (a Redis lease); a replica that finds the
  lease taken retries shortly, and the sweep covers whatever a race leaves.
* `users.watch` is renewed every `watch_renew_seconds` (Google: at least weekly, daily advised).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from .gmail_api import GmailClient, GmailError
from .ingest import Accept, MailboxInfo, ingest_raw
from .mailstore import MailStore

SYNCS = Counter(
    "posada_gateway_gmail_syncs_total",
    "Gmail history syncs by trigger and outcome.",
    ["trigger", "outcome"],
)
SKIP_LABELS = {"SENT", "DRAFT", "SPAM", "TRASH"}


@dataclass(slots=True)
class GmailSyncConfig:
    topic: str = ""
    label: str = "INBOX"
    sweep_seconds: float = 60.0
    watch_renew_seconds: float = 86400.0
    full_sync_query: str = "newer_than:2d"
    full_sync_limit: int = 500
    lease_seconds: float = 60.0
    error_backoff_seconds: float = 2.0


class GmailSyncer:
    def __init__(
        self,
        api: GmailClient,
        accept: Accept,
        mail: MailStore,
        info: MailboxInfo,
        config: GmailSyncConfig,
        *,
        log: Any,
    ):
        self.api = api
        self.accept = accept
        self.mail = mail
        self.info = info
        self.cfg = config
        self.log = log
        self.owner = uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gmail-sync")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    # --- loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        last_wake = await self._retrying(self.mail.last_wake_id)
        trigger = "start"
        while not self._stopping.is_set():
            try:
                await self.renew_watch_if_due()
                await self.sync(trigger)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("gmail_sync_failed", trigger=trigger, error=str(exc)[:300])
                await asyncio.sleep(self.cfg.error_backoff_seconds)
            try:
                last_wake, woken = await self.mail.wait_wake(
                    last_wake, int(self.cfg.sweep_seconds * 1000)
                )
                trigger = "push" if woken else "sweep"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("gmail_wake_failed", error=str(exc)[:300])
                await asyncio.sleep(self.cfg.error_backoff_seconds)
                trigger = "sweep"

    async def _retrying(self, fn: Any) -> Any:
        delay = 0.2
        while True:
            try:
                return await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    async def renew_watch_if_due(self) -> None:
        if not self.cfg.topic:
            return
        last = await self.mail.watch_renewed_at(self.info.address)
        if time.time() - last < self.cfg.watch_renew_seconds:
            return
        res = await self.api.watch(self.cfg.topic, [self.cfg.label])
        await self.mail.note_watch(self.info.address)
        if not await self.mail.history_id(self.info.address) and res.get("historyId"):
            await self.mail.advance_history(self.info.address, res["historyId"])
        self.log.info("gmail_watch_renewed", expiration=res.get("expiration", ""))

    # --- one sync -----------------------------------------------------------------------
    async def sync(self, trigger: str = "manual") -> int:
        """Queue every new INBOX message; returns how many were queued."""
        address = self.info.address
        lease_ms = int(self.cfg.lease_seconds * 1000)
        for _ in range(20):
            if await self.mail.lock(address, self.owner, lease_ms):
                break
            await asyncio.sleep(0.25)  # another replica is syncing; then sync after it
        else:
            SYNCS.labels(trigger, "busy").inc()
            return 0
        try:
            start = await self.mail.history_id(address)
            if not start:
                profile = await self.api.profile()
                await self.mail.advance_history(address, profile["historyId"])
                SYNCS.labels(trigger, "initialised").inc()
                return 0
            try:
                found, latest = await self._history_since(start)
                outcome = "ok"
            except GmailError as exc:
                if exc.status != 404:
                    raise
                found, latest = await self._full_sync()
                outcome = "full_sync"
            queued = 0
            for message_id, thread_id in found:
                queued += await self._ingest(message_id, thread_id)
            if outcome == "full_sync":
                await self.mail.reset_history(address, latest)
            else:
                await self.mail.advance_history(address, latest)
            SYNCS.labels(trigger, outcome).inc()
            if queued or outcome != "ok":
                self.log.info("gmail_synced", trigger=trigger, outcome=outcome, queued=queued)
            return queued
        finally:
            with contextlib.suppress(Exception):
                await self.mail.unlock(address, self.owner)

    async def _history_since(self, start: str) -> tuple[list[tuple[str, str]], str]:
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        latest = start
        async for page in self.api.history_pages(start, label_id=self.cfg.label):
            latest = str(page.get("historyId") or latest)
            for record in page.get("history", []):
                for added in record.get("messagesAdded", []):
                    msg = added.get("message") or {}
                    labels = set(msg.get("labelIds") or [])
                    if labels & SKIP_LABELS or (labels and self.cfg.label not in labels):
                        continue
                    mid = str(msg.get("id", ""))
                    if mid and mid not in seen:
                        seen.add(mid)
                        found.append((mid, str(msg.get("threadId", ""))))
        return found, latest

    async def _full_sync(self) -> tuple[list[tuple[str, str]], str]:
        """History too old: list recent INBOX mail instead (oldest first), and take the
        mailbox's current history id (read before listing, so nothing falls in between)."""
        profile = await self.api.profile()
        listed = await self.api.list_ids(
            q=self.cfg.full_sync_query, label_ids=[self.cfg.label], limit=self.cfg.full_sync_limit
        )
        self.log.warning("gmail_full_sync", listed=len(listed))
        found = [(str(m["id"]), str(m.get("threadId", ""))) for m in reversed(listed)]
        return found, str(profile["historyId"])

    async def _ingest(self, message_id: str, thread_id: str) -> int:
        address = self.info.address
        if await self.mail.got(address, message_id):
            return 0
        try:
            raw, meta = await self.api.get_raw(message_id)
        except GmailError as exc:
            if exc.status == 404:  # deleted meanwhile: nothing to answer
                await self.mail.mark_got(address, message_id)
                return 0
            raise
        if set(meta.get("labelIds") or []) & SKIP_LABELS:
            await self.mail.mark_got(address, message_id)
            return 0
        internal = int(str(meta.get("internalDate") or "0")) // 1000
        outcome = await ingest_raw(
            raw,
            provider_id=message_id,
            thread_id=str(meta.get("threadId") or thread_id),
            info=self.info,
            accept=self.accept,
            mail=self.mail,
            log=self.log,
            received_at=internal,
        )
        await self.mail.mark_got(address, message_id)
        return 1 if outcome == "queued" else 0
