"""The inbox worker: Redis consumer group → conversation → WhatsApp → acknowledge.

At-least-once with idempotent effects:

* Entries are read with XREADGROUP. A consumer first re-reads its own pending entries (id `0`:
  a restart with the same consumer name resumes at once), then new ones (`>`). Entries of
  consumers that died are taken over with XAUTOCLAIM once idle for `claim_idle_seconds`. While an
  entry is being worked on, a heartbeat XCLAIMs it to ourselves again so its idle time stays low:
  a slow but alive worker never has its entries stolen.
* Each entry is dispatched to one of `concurrency` lanes chosen by conversation id, so one
  guest's messages are handled in stream order while different guests run in parallel.
* Steps with effects are idempotent per provider message id: HandleMessage is idempotent on the
  conversation side (same replies on redelivery); every reply part sent is remembered
  (`gw:sent:{id}`, written atomically with the outbound record and the delivery event) and
  skipped on redelivery; the typing indicator is sent once; `gw:done:{id}` + XACK + XDEL are one
  transaction. The one gap the Graph API leaves (a crash after WhatsApp accepted a send and
  before we stored it) is narrowed with `biz_opaque_callback_data`: the `sent` status webhook
  echoes it, and a redelivery that finds it does not send again.
* Failures: retryable ones (conversation unavailable, Graph 5xx/rate limits, Redis blips) are
  retried with exponential backoff, counting attempts in Redis so crashes count too; after
  `max_attempts`, or at once for permanent errors, the entry moves to the dead-letter stream in
  one transaction (add + ack + delete). `ChannelService.ReplayDeadLetter` puts it back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from posada_common.logging import bind_context, unbind_context

from . import metrics
from .graph import GraphClient, GraphError
from .parser import conversation_id_for
from .render import Choice, OutboundPart, match_choice, render_reply
from .sender import Recipient, Sender
from .store import GatewayStore, _s, stream_entries

PERMANENT_GRPC = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.OUT_OF_RANGE,
}

# Kinds the agent answers: show "typing…" for them (only if a reply will follow, §7.10).
_TYPING_KINDS = {
    m.MESSAGE_KIND_TEXT,
    m.MESSAGE_KIND_AUDIO,
    m.MESSAGE_KIND_INTERACTIVE_REPLY,
    m.MESSAGE_KIND_TEMPLATE_BUTTON,
    m.MESSAGE_KIND_LOCATION,
    m.MESSAGE_KIND_IMAGE,
    m.MESSAGE_KIND_DOCUMENT,
    m.MESSAGE_KIND_VIDEO,
    m.MESSAGE_KIND_CONTACTS,
    m.MESSAGE_KIND_UNSUPPORTED,
}


class PermanentError(Exception):
    """Retrying will not help: dead-letter at once (an operator can replay after a fix)."""


@dataclass(slots=True)
class WorkerConfig:
    consumer: str = ""
    concurrency: int = 8
    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 30.0
    claim_idle_seconds: float = 30.0
    claim_interval_seconds: float = 5.0
    block_ms: int = 1000
    conversation_timeout_seconds: float = 50.0
    record_timeout_seconds: float = 5.0
    media_max_bytes: int = 16 * 1024 * 1024
    mark_read: bool = True
    typing_indicator: bool = True
    gauge_interval_seconds: float = 5.0
    stop_grace_seconds: float = 5.0


def default_consumer_name() -> str:
    return socket.gethostname()


def _encode_part(part: OutboundPart) -> dict[str, Any]:
    return {
        "kind": part.kind,
        "payload": part.payload,
        "fallback_text": part.fallback_text,
        "audio": base64.b64encode(part.audio).decode() if part.audio else "",
        "audio_mime": part.audio_mime,
        "choices": [[c.id, c.title] for c in part.choices],
    }


def _decode_part(d: dict[str, Any]) -> OutboundPart:
    return OutboundPart(
        kind=d["kind"],
        payload=d.get("payload") or {},
        fallback_text=d.get("fallback_text", ""),
        audio=base64.b64decode(d["audio"]) if d.get("audio") else b"",
        audio_mime=d.get("audio_mime", ""),
        choices=[Choice(i, t) for i, t in d.get("choices", [])],
    )


class InboxWorker:
    def __init__(
        self,
        store: GatewayStore,
        sender: Sender,
        graph: GraphClient,
        conversation: Any,  # ConversationServiceStub
        config: WorkerConfig,
        *,
        log: Any,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.store = store
        self.r = store.r
        self.s = store.s
        self.sender = sender
        self.graph = graph
        self.conv = conversation
        self.cfg = config
        self.consumer = config.consumer or default_consumer_name()
        self.log = log
        self._sleep = sleep
        self._lanes: list[asyncio.Queue[tuple[str, dict[bytes, bytes]] | None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._lane_tasks: list[asyncio.Task[None]] = []
        self._inflight: dict[str, float] = {}
        self._locks: dict[str, str] = {}
        self._lock_ms = int(config.claim_idle_seconds * 1000)
        self._stopping = asyncio.Event()
        # The e-mail channel (channels/email), when a mailbox is configured.
        self.email: Any = None

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self.store.ensure_groups()
        n = max(1, self.cfg.concurrency)
        self._lanes = [asyncio.Queue(maxsize=4) for _ in range(n)]
        self._lane_tasks = [
            asyncio.create_task(self._lane(q), name=f"gw-lane-{i}")
            for i, q in enumerate(self._lanes)
        ]
        self._tasks = [
            asyncio.create_task(self._reader(), name="gw-reader"),
            asyncio.create_task(self._claimer(), name="gw-claimer"),
            asyncio.create_task(self._heartbeat(), name="gw-heartbeat"),
            asyncio.create_task(self._status_forwarder(), name="gw-status"),
            asyncio.create_task(self._gauges(), name="gw-gauges"),
        ]
        self.log.info("inbox_worker_started", consumer=self.consumer, lanes=n)

    async def stop(self) -> None:
        """Stop taking entries, give in-flight ones `stop_grace_seconds`, then cancel: whatever
        is unfinished stays pending and is resumed by the next start (or another replica)."""
        self._stopping.set()
        for t in self._tasks:
            t.cancel()
        for q in self._lanes:
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)
        if self._lane_tasks:
            _done, pending = await asyncio.wait(
                self._lane_tasks, timeout=self.cfg.stop_grace_seconds
            )
            for t in pending:
                t.cancel()
        await asyncio.gather(*self._tasks, *self._lane_tasks, return_exceptions=True)
        self._tasks, self._lane_tasks = [], []

    async def kill(self) -> None:
        """Abrupt stop (tests simulate a crash with it): nothing is acknowledged."""
        self._stopping.set()
        for t in [*self._tasks, *self._lane_tasks]:
            t.cancel()
        await asyncio.gather(*self._tasks, *self._lane_tasks, return_exceptions=True)
        self._tasks, self._lane_tasks = [], []

    # --- reading ------------------------------------------------------------------------
    def _lane_for(self, fields: dict[bytes, bytes]) -> asyncio.Queue[Any]:
        payload = fields.get(b"m", b"")
        key = b""
        with contextlib.suppress(Exception):
            key = m.InboundMessage.FromString(payload).conversation_id.encode()
        return self._lanes[zlib.crc32(key) % len(self._lanes)]

    async def _dispatch(self, entries: list[Any]) -> None:
        for entry_id, fields in entries:
            eid = _s(entry_id)
            if eid in self._inflight:
                continue
            if not fields:
                # Deleted while pending (finished elsewhere): just clear it from the PEL.
                await self.r.xack(self.s.inbox, self.s.group, eid)
                continue
            self._inflight[eid] = time.monotonic()
            await self._lane_for(fields).put((eid, fields))

    async def _reader(self) -> None:
        last = "0"  # own pending entries first (restart with the same consumer name)
        while not self._stopping.is_set():
            try:
                res = await self.r.xreadgroup(
                    self.s.group,
                    self.consumer,
                    {self.s.inbox: last},
                    count=max(1, self.cfg.concurrency * 2),
                    block=None if last == "0" else self.cfg.block_ms,
                )
                entries = stream_entries(res)
                if last == "0":
                    if not entries:
                        last = ">"
                        continue
                    # Keep paging through our own pending list.
                    await self._dispatch(entries)
                    full = len(entries) >= self.cfg.concurrency * 2
                    last = _s(entries[-1][0]) if full else ">"
                    continue
                await self._dispatch(entries)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("inbox_read_failed", error=str(exc))
                await self._sleep(1.0)

    async def _claimer(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(self.cfg.claim_interval_seconds)
            try:
                start = "0-0"
                while True:
                    res = await self.r.xautoclaim(
                        self.s.inbox,
                        self.s.group,
                        self.consumer,
                        min_idle_time=int(self.cfg.claim_idle_seconds * 1000),
                        start_id=start,
                        count=50,
                    )
                    start, entries = _s(res[0]), res[1]
                    fresh = [(i, f) for i, f in entries if _s(i) not in self._inflight]
                    if fresh:
                        metrics.CLAIMED.inc(len(fresh))
                        self.log.info("inbox_entries_claimed", count=len(fresh))
                        await self._dispatch(fresh)
                    if start in ("0-0", "0"):
                        break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("inbox_claim_failed", error=str(exc))

    async def _heartbeat(self) -> None:
        interval = max(0.2, self.cfg.claim_idle_seconds / 3)
        while not self._stopping.is_set():
            await asyncio.sleep(interval)
            ids: list[Any] = list(self._inflight)
            if not ids:
                continue
            try:
                await self.r.xclaim(
                    self.s.inbox,
                    self.s.group,
                    self.consumer,
                    min_idle_time=0,
                    message_ids=ids,
                    justid=True,
                )
                locks = list(self._locks.values())
                if locks:
                    async with self.r.pipeline(transaction=False) as pipe:
                        for key in locks:
                            pipe.pexpire(key, self._lock_ms)
                        await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("inbox_heartbeat_failed", error=str(exc))

    async def _gauges(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(Exception):
                async with self.r.pipeline(transaction=False) as pipe:
                    pipe.xlen(self.s.inbox)
                    pipe.xpending(self.s.inbox, self.s.group)
                    pipe.xrange(self.s.inbox, count=1)
                    pipe.xlen(self.s.dlq)
                    pipe.xlen(self.s.status)
                    length, pending, oldest, dlq, status_len = await pipe.execute()
                metrics.INBOX_LENGTH.set(length)
                metrics.INBOX_PENDING.set(
                    pending.get("pending", 0) if isinstance(pending, dict) else 0
                )
                age = 0.0
                if oldest:
                    age = max(0.0, time.time() - int(_s(oldest[0][0]).split("-")[0]) / 1000)
                metrics.INBOX_OLDEST_AGE.set(age)
                metrics.DEAD_LETTERS.set(dlq)
                metrics.STATUS_STREAM_LENGTH.set(status_len)
            await asyncio.sleep(self.cfg.gauge_interval_seconds)

    # --- processing ---------------------------------------------------------------------
    async def _lane(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            eid, fields = item
            try:
                await self.process_entry(eid, fields)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let a lane die
                self.log.exception("inbox_entry_crashed", entry_id=eid, error=str(exc))
            finally:
                self._inflight.pop(eid, None)

    def _retry_delay(self, attempt: int) -> float:
        return min(
            self.cfg.retry_max_seconds, self.cfg.retry_base_seconds * (2 ** max(0, attempt - 1))
        )

    async def process_entry(self, entry_id: str, fields: dict[bytes, bytes]) -> str:
        started = time.monotonic()
        payload = fields.get(b"m", b"")
        try:
            msg = m.InboundMessage.FromString(payload)
            if not msg.message_id:
                raise ValueError("no message id")
        except Exception as exc:
            await self.store.dead_letter(
                self.s.inbox, entry_id, payload, "", f"undecodable entry: {exc}", 1
            )
            metrics.DEAD_LETTERED.labels("undecodable").inc()
            metrics.PROCESSED.labels("dead_letter").inc()
            return "dead_letter"
        # One worker per message id at a time, even if an entry was claimed from a replica that
        # is slow rather than dead (or the same message sits in the stream twice after a replay).
        # The lease is renewed by the heartbeat and lapses with the idle time after a crash.
        lock_key = f"gw:lock:{msg.message_id}"
        owner = f"{self.consumer}|{entry_id}"
        done, locked = await self.store.claim(msg.message_id, owner, self._lock_ms)
        if done:
            await self.store.finish(self.s.inbox, entry_id)
            if locked:
                await self.store.unlock(lock_key, owner)
            metrics.PROCESSED.labels("duplicate").inc()
            return "duplicate"
        if not locked and _s(await self.r.get(lock_key)) != owner:
            metrics.PROCESSED.labels("busy").inc()
            return "busy"  # left pending; whoever holds the lock acks it or it is claimed later
        self._locks[entry_id] = lock_key
        bind_context(message_id=msg.message_id, conversation_id=msg.conversation_id)
        try:
            return await self._process(entry_id, payload, msg, fields, started)
        finally:
            self._locks.pop(entry_id, None)
            unbind_context("message_id", "conversation_id")
            with contextlib.suppress(Exception):
                await self.store.unlock(lock_key, owner)

    async def _process(
        self,
        entry_id: str,
        payload: bytes,
        msg: m.InboundMessage,
        fields: dict[bytes, bytes],
        started: float,
    ) -> str:
        received_ms = int(_s(fields.get(b"rx")) or 0)
        while True:
            try:
                await self.handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                permanent = isinstance(exc, PermanentError)
                attempts = await self.store.add_attempt(msg.message_id)
                reason = f"{type(exc).__name__}: {exc}"
                self.log.warning(
                    "inbox_message_failed",
                    message_id=msg.message_id,
                    attempt=attempts,
                    permanent=permanent,
                    error=reason[:500],
                )
                if permanent or attempts >= self.cfg.max_attempts:
                    await self.store.dead_letter(
                        self.s.inbox, entry_id, payload, msg.message_id, reason, attempts
                    )
                    metrics.DEAD_LETTERED.labels("permanent" if permanent else "max_attempts").inc()
                    metrics.PROCESSED.labels("dead_letter").inc()
                    self.log.error(
                        "inbox_message_dead_lettered",
                        message_id=msg.message_id,
                        attempts=attempts,
                        reason=reason[:500],
                    )
                    return "dead_letter"
                metrics.PROCESSED.labels("retry").inc()
                await self._sleep(self._retry_delay(attempts))
                continue
            await self.store.finish(self.s.inbox, entry_id, msg.message_id)
            metrics.PROCESSED.labels("done").inc()
            metrics.PROCESS_SECONDS.observe(time.monotonic() - started)
            if received_ms:
                metrics.END_TO_END_SECONDS.observe(max(0.0, time.time() - received_ms / 1000))
            return "done"

    async def handle(self, msg: m.InboundMessage) -> None:
        if msg.channel == m.CHANNEL_GMAIL and self.email is not None:
            await self.email.handle(msg, self._handle_message)
            return
        pnid = msg.business_account_id
        await self._stable_guest(msg)
        recipient = Recipient(
            guest_id=msg.guest.id, phone=msg.guest.phone, bsuid=msg.guest.business_scoped_user_id
        )
        held, menu, send_read = await self.store.begin(
            pnid=pnid,
            guest=msg.guest.id,
            ts=msg.sent_at.seconds or int(time.time()),
            conversation_id=msg.conversation_id,
            message_id=msg.message_id,
            want_read=self.cfg.mark_read and msg.kind != m.MESSAGE_KIND_REACTION,
        )
        if held:
            await self._flush_held(msg, recipient, held)
        await self._map_numbered_choice(msg, menu)
        if send_read:
            await self.sender.mark_read(
                pnid, msg.message_id, typing=self.cfg.typing_indicator and msg.kind in _TYPING_KINDS
            )
        if msg.kind == m.MESSAGE_KIND_AUDIO and msg.media.media_id and not msg.media.data:
            await self._download_audio(msg)
        resp = await self._handle_message(msg)
        await self._send_replies(msg, recipient, resp)

    async def _stable_guest(self, msg: m.InboundMessage) -> None:
        """Keep one conversation when a guest starts hiding their number (usernames, §13):
        remember wa_id ↔ BSUID while both are sent, and map a BSUID-only message back to the
        wa_id it belonged to. Replies then go to the BSUID (no phone number is known)."""
        g = msg.guest
        if not g.business_scoped_user_id:
            return
        key = f"gw:bsuid:{msg.business_account_id}:{g.business_scoped_user_id}"
        if g.phone:
            await self.r.set(key, g.phone, ex=90 * 86400)
            return
        known = _s(await self.r.get(key))
        if known and known != g.id:
            g.id = known
            msg.conversation_id = conversation_id_for(msg.business_account_id, known)

    async def _handle_message(self, msg: m.InboundMessage) -> conv_pb2.HandleMessageResponse:
        try:
            resp = await self.conv.HandleMessage(
                conv_pb2.HandleMessageRequest(message=msg),
                timeout=self.cfg.conversation_timeout_seconds,
            )
        except grpc.aio.AioRpcError as exc:
            metrics.CONVERSATION_CALLS.labels("HandleMessage", exc.code().name).inc()
            if exc.code() in PERMANENT_GRPC:
                raise PermanentError(f"HandleMessage {exc.code().name}: {exc.details()}") from exc
            raise
        metrics.CONVERSATION_CALLS.labels("HandleMessage", "OK").inc()
        return resp

    async def _download_audio(self, msg: m.InboundMessage) -> None:
        try:
            data, mime = await self.graph.fetch_media(
                msg.media.media_id,
                msg.business_account_id,
                expected_sha256=msg.media.sha256,
                max_bytes=self.cfg.media_max_bytes,
            )
        except GraphError as exc:
            if exc.retryable or exc.kind == "auth":
                metrics.MEDIA_DOWNLOADS.labels("retry").inc()
                raise
            # Gone or refused for good: hand the message on without bytes; conversation asks
            # the guest to write instead.
            metrics.MEDIA_DOWNLOADS.labels("failed").inc()
            self.log.warning("media_download_failed", message_id=msg.message_id, error=str(exc))
            return
        metrics.MEDIA_DOWNLOADS.labels("ok").inc()
        metrics.MEDIA_BYTES.inc(len(data))
        msg.media.data = data
        if mime and not msg.media.mime_type:
            msg.media.mime_type = mime

    async def _map_numbered_choice(
        self, msg: m.InboundMessage, menu: list[tuple[str, str]]
    ) -> None:
        """A guest typing "2" after a numbered-text menu chose option 2."""
        if not menu:
            return
        if msg.kind != m.MESSAGE_KIND_TEXT:
            if msg.kind == m.MESSAGE_KIND_INTERACTIVE_REPLY:
                await self.store.clear_menu(msg.conversation_id)
            return
        choice = match_choice(msg.text, [Choice(i, t) for i, t in menu])
        if choice is not None:
            msg.kind = m.MESSAGE_KIND_INTERACTIVE_REPLY
            msg.interactive_reply.CopyFrom(m.InteractiveReply(id=choice.id, title=choice.title))
            await self.store.clear_menu(msg.conversation_id)

    async def _send_replies(
        self, msg: m.InboundMessage, recipient: Recipient, resp: conv_pb2.HandleMessageResponse
    ) -> None:
        pnid = msg.business_account_id
        conversation_id = resp.conversation_id or msg.conversation_id
        sent = await self.store.sent_replies(msg.message_id)
        held = any(v.startswith("held:") for v in sent.values())
        for i, reply in enumerate(resp.replies):
            parts = render_reply(reply, resp.language)
            rkey = reply.reply_id or f"#{i}"
            for j, part in enumerate(parts):
                key = rkey if len(parts) == 1 else f"{rkey}:{j}"
                if key in sent:
                    continue
                callback = f"{msg.message_id}|{key}"
                if held:
                    await self._hold(
                        conversation_id, msg.message_id, key, reply.reply_id, part, recipient, pnid
                    )
                    continue
                echoed = await self.store.wamid_for_callback(callback)
                if echoed:
                    # WhatsApp accepted it before a crash: the status webhook told us its id.
                    await self.store.record_sent(
                        wamid=echoed,
                        recipient=recipient.key,
                        pnid=pnid,
                        conversation_id=conversation_id,
                        reply_id=reply.reply_id,
                        inbound_id=msg.message_id,
                        reply_key=key,
                        extra={
                            "guest": recipient.guest_id,
                            "phone": recipient.phone,
                            "bsuid": recipient.bsuid,
                        },
                    )
                    continue
                try:
                    result = await self.sender.send_part(
                        pnid, recipient, part, callback_data=callback
                    )
                except GraphError as exc:
                    if exc.retryable or exc.kind == "auth":
                        raise
                    # Refused for good (and no fallback worked): record it, go on.
                    await self.store.record_failed(
                        inbound_id=msg.message_id,
                        reply_key=key,
                        conversation_id=conversation_id,
                        reply_id=reply.reply_id,
                        error=str(exc),
                        code=exc.code,
                    )
                    continue
                if result.outcome == "template":
                    held = True
                    await self.store.record_sent(
                        wamid=result.wamid,
                        recipient=recipient.key,
                        pnid=pnid,
                        conversation_id=conversation_id,
                        reply_id="",
                        extra={
                            "guest": recipient.guest_id,
                            "phone": recipient.phone,
                            "bsuid": recipient.bsuid,
                            "template": "1",
                        },
                    )
                    await self._hold(
                        conversation_id, msg.message_id, key, reply.reply_id, part, recipient, pnid
                    )
                    continue
                await self.store.record_sent(
                    wamid=result.wamid,
                    recipient=recipient.key,
                    pnid=pnid,
                    conversation_id=conversation_id,
                    reply_id=reply.reply_id,
                    inbound_id=msg.message_id,
                    reply_key=key,
                    extra={
                        "guest": recipient.guest_id,
                        "phone": recipient.phone,
                        "bsuid": recipient.bsuid,
                        "body": json.dumps(_encode_part(part)) if part.kind != "audio" else "",
                    },
                )
                if part.choices and (part.kind == "text" or result.outcome == "fallback_text"):
                    await self.store.set_menu(
                        conversation_id, [(c.id, c.title) for c in part.choices]
                    )

    async def _hold(
        self,
        conversation_id: str,
        inbound_id: str,
        key: str,
        reply_id: str,
        part: OutboundPart,
        recipient: Recipient,
        pnid: str,
    ) -> None:
        await self.store.hold(
            conversation_id,
            {
                "part": _encode_part(part),
                "reply_id": reply_id,
                "pnid": pnid,
                "guest": recipient.guest_id,
                "phone": recipient.phone,
                "bsuid": recipient.bsuid,
            },
        )
        await self.store.mark_held(
            inbound_id=inbound_id, reply_key=key, conversation_id=conversation_id, reply_id=reply_id
        )

    async def _flush_held(
        self, msg: m.InboundMessage, recipient: Recipient, items: list[dict[str, Any]]
    ) -> None:
        """The guest wrote again (window open): deliver what was held back, oldest first."""
        if not await self.sender.window_open(msg.business_account_id, recipient):
            return  # a stale message does not re-open the window
        for item in items:
            part = _decode_part(item["part"])
            result = await self.sender.send_part(
                msg.business_account_id, recipient, part, check_window=False
            )
            if result.outcome == "template":
                return  # WhatsApp still says the window is closed: keep the rest held
            await self.store.record_sent(
                wamid=result.wamid,
                recipient=recipient.key,
                pnid=msg.business_account_id,
                conversation_id=msg.conversation_id,
                reply_id=item.get("reply_id", ""),
                extra={
                    "guest": recipient.guest_id,
                    "phone": recipient.phone,
                    "bsuid": recipient.bsuid,
                },
            )
            await self.store.drop_held(msg.conversation_id, 1)

    # --- delivery events → ConversationService.RecordDelivery ---------------------------
    async def _status_forwarder(self) -> None:
        """Forward delivery events; own pending events first, then dead consumers', then new."""
        recover = True
        last_claim = 0.0
        while not self._stopping.is_set():
            try:
                entries: list[Any] = []
                if recover:
                    res = await self.r.xreadgroup(
                        self.s.group, self.consumer, {self.s.status: "0"}, count=100
                    )
                    entries = stream_entries(res)
                    if not entries:
                        recover = False
                elif time.monotonic() - last_claim > self.cfg.claim_interval_seconds:
                    last_claim = time.monotonic()
                    claimed = await self.r.xautoclaim(
                        self.s.status,
                        self.s.group,
                        self.consumer,
                        min_idle_time=int(self.cfg.claim_idle_seconds * 1000),
                        count=100,
                    )
                    entries = list(claimed[1])
                if not entries and not recover:
                    res = await self.r.xreadgroup(
                        self.s.group,
                        self.consumer,
                        {self.s.status: ">"},
                        count=100,
                        block=self.cfg.block_ms,
                    )
                    entries = stream_entries(res)
                await self._forward_batch(entries)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("status_forward_failed", error=str(exc))
                recover = True
                await self._sleep(1.0)

    async def _forward_batch(self, entries: list[Any]) -> None:
        """Forward a batch of delivery events: one pipeline to look the messages up, the
        RecordDelivery calls of different messages concurrently (one message's events in order),
        one pipeline to acknowledge and delete them all."""
        if not entries:
            return
        items = [(_s(eid), fields or {}) for eid, fields in entries]
        async with self.r.pipeline(transaction=False) as pipe:
            for _eid, fields in items:
                pipe.hgetall(f"gw:msg:{_s(fields.get(b'id')) or '-'}")
            raw_records = await pipe.execute()
        groups: dict[str, list[tuple[dict[bytes, bytes], dict[str, str]]]] = {}
        for (eid, fields), raw in zip(items, raw_records, strict=True):
            record = {_s(k): _s(v) for k, v in (raw or {}).items()} if fields.get(b"id") else {}
            key = _s(fields.get(b"id")) or eid
            groups.setdefault(key, []).append((fields, record))

        async def forward_group(events: list[tuple[dict[bytes, bytes], dict[str, str]]]) -> None:
            for fields, record in events:
                await self._forward_status(fields, record)

        await asyncio.gather(*(forward_group(g) for g in groups.values()))
        async with self.r.pipeline(transaction=True) as pipe:
            ids = [eid for eid, _f in items]
            pipe.xack(self.s.status, self.s.group, *ids)
            pipe.xdel(self.s.status, *ids)
            await pipe.execute()

    async def _forward_status(self, fields: dict[bytes, bytes], record: dict[str, str]) -> None:
        wamid = _s(fields.get(b"id"))
        status_name = _s(fields.get(b"status"))
        errors_raw = _s(fields.get(b"errors"))
        conversation_id = _s(fields.get(b"conv")) or record.get("conversation", "")
        reply_id = _s(fields.get(b"reply")) or record.get("reply", "")
        errors = json.loads(errors_raw) if errors_raw else []
        if (
            status_name == "DELIVERY_STATUS_FAILED"
            and wamid
            and any(e.get("code") == 131047 for e in errors)
        ):
            await self._window_closed_async(wamid, record)
        if conversation_id:
            err = "; ".join(
                f"{e.get('code')}: {e.get('title')} {e.get('detail', '')}".strip() for e in errors
            )
            try:
                await self.conv.RecordDelivery(
                    conv_pb2.RecordDeliveryRequest(
                        conversation_id=conversation_id,
                        reply_id=reply_id,
                        provider_message_id=wamid,
                        status=m.DeliveryStatus.Value(status_name) if status_name else 0,
                        error=err,
                    ),
                    timeout=self.cfg.record_timeout_seconds,
                )
                metrics.CONVERSATION_CALLS.labels("RecordDelivery", "OK").inc()
            except grpc.aio.AioRpcError as exc:
                metrics.CONVERSATION_CALLS.labels("RecordDelivery", exc.code().name).inc()
                if exc.code() not in PERMANENT_GRPC:
                    attempts = int(_s(fields.get(b"n")) or 0) + 1
                    if attempts < self.cfg.max_attempts * 4:
                        # Re-queue with a counter; the current entry is acked below.
                        await self.r.xadd(
                            self.s.status, {**{k: v for k, v in fields.items()}, b"n": attempts}
                        )
                        await self._sleep(min(5.0, 0.2 * attempts))
                    else:
                        self.log.error("record_delivery_gave_up", wamid=wamid, status=status_name)

    async def _window_closed_async(self, wamid: str, record: dict[str, str]) -> None:
        """A free-form reply failed later with 131047: send the template once, hold the content."""
        if record.get("template") or not record.get("pnid"):
            return
        if not await self.r.set(f"gw:tpl:{wamid}", "1", nx=True, ex=7 * 86400):
            return
        recipient = Recipient(
            guest_id=record.get("guest") or record.get("recipient", ""),
            phone=record.get("phone", ""),
            bsuid=record.get("bsuid", ""),
        )
        conversation_id = record.get("conversation", "")
        try:
            res = await self.sender.send_template(record["pnid"], recipient, "")
        except GraphError as exc:
            self.log.warning("reengagement_template_failed", wamid=wamid, error=str(exc))
            await self.r.delete(f"gw:tpl:{wamid}")
            return
        await self.store.record_sent(
            wamid=res.wamid,
            recipient=recipient.key,
            pnid=record["pnid"],
            conversation_id=conversation_id,
            reply_id="",
            extra={
                "guest": recipient.guest_id,
                "phone": recipient.phone,
                "bsuid": recipient.bsuid,
                "template": "1",
            },
        )
        if record.get("body") and conversation_id:
            await self.store.hold(
                conversation_id,
                {
                    "part": json.loads(record["body"]),
                    "reply_id": record.get("reply", ""),
                    "pnid": record["pnid"],
                    "guest": recipient.guest_id,
                    "phone": recipient.phone,
                    "bsuid": recipient.bsuid,
                },
            )
