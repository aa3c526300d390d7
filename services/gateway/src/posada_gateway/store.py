"""Redis state of the gateway: inbox, dedupe, outbound message records, dead letters.

Keys (all prefixed `gw:`; the stream names are settings):

| key | type | what |
| --- | --- | --- |
| `{inbox}` | stream | accepted guest messages: `m` = serialised InboundMessage, `rx` = ms received, `note` (optional, e.g. `truncated`) |
| `{status_stream}` | stream | delivery events to forward to ConversationService.RecordDelivery |
| `{dlq}` | stream | dead letters: `m`, `reason`, `attempts`, `at`, `src` |
| `gw:seen:{wamid}` | string | dedupe of inbound messages (TTL days) |
| `gw:msg:{wamid}` | hash | outbound message: status, rank, recipient, conversation, reply id, errors |
| `gw:sent:{origin}` | hash | part key → provider id / `held:` / `failed:code`: parts already handled for one inbound message or one SendMessage key (the one idempotency scheme of the outbound pipeline) |
| `gw:done:{inbound id}` | string | the message was fully handled (TTL days) |
| `gw:att:{inbound id}` | string | failed attempts so far |
| `gw:lastin:{pnid}:{guest}` | string | unix time the guest last wrote (24-hour window) |
| `gw:menu:{conversation}` | string | JSON options of the last numbered-text menu |
| `gw:held:{conversation}` | list | replies held back while the window is closed |
| `gw:cb:{callback}` | string | wamid echoed by a status webhook for our callback data |
| `gw:read:{inbound id}` | string | first delivery of a message claimed (read receipt sent once) |
| `gw:lock:{inbound id}` | string | lease of the worker handling the message |
| `gw:alias:{ns}:{alias}` | string | guest alias → guest id (WhatsApp BSUID → wa_id) |
| `gw:once:{what}:{id}` | string | one-shot markers (one re-engagement template per failed message) |
| `gw:idem:{sha256(key)}` | hash | SendMessage key: fingerprint, state, first provider id; `:busy` lease |

Every step that has an effect is one atomic script or MULTI, so a crash between two steps
leaves a state from which a redelivery continues without losing or doubling anything.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from hotel.channel.v1 import message_pb2 as m

DAY = 86400

# KEYS: seen, inbox ; ARGV: ttl, payload, received_ms, note
# Dedupe and append in one atomic step: SET NX alone then crashing before XADD would lose the
# message (Meta's redelivery would be seen as a duplicate).
_ACCEPT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then
  if ARGV[4] ~= '' then
    return redis.call('XADD', KEYS[2], '*', 'm', ARGV[2], 'rx', ARGV[3], 'note', ARGV[4])
  end
  return redis.call('XADD', KEYS[2], '*', 'm', ARGV[2], 'rx', ARGV[3])
end
return false
"""

# KEYS: msg hash, status stream, callback key ; ARGV: status name, rank, ts, errors json,
# recipient, pnid, callback, terminal(0/1), ttl
# Statuses only move forward (sent < delivered < read < played; failed is terminal); a status
# that does not advance is a duplicate or late and changes nothing.
_STATUS = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if cur >= 100 then return 0 end
local rank = tonumber(ARGV[2])
if rank <= cur then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', ARGV[2], 'updated', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'errors', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSETNX', KEYS[1], 'recipient', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSETNX', KEYS[1], 'pnid', ARGV[6]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[9]))
if ARGV[7] ~= '' then redis.call('SET', KEYS[3], string.sub(KEYS[1], 8), 'EX', tonumber(ARGV[9])) end
redis.call('XADD', KEYS[2], '*', 'id', string.sub(KEYS[1], 8), 'status', ARGV[1], 'errors', ARGV[4])
return 1
"""

# KEYS: dlq, inbox ; ARGV: dlq id
_REPLAY = """
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #e == 0 then return false end
local f = e[1][2]
local payload
for i = 1, #f, 2 do if f[i] == 'm' then payload = f[i + 1] end end
if not payload then return false end
local id = redis.call('XADD', KEYS[2], '*', 'm', payload, 'rx', ARGV[2], 'replay', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"""

# KEYS: lastin ; ARGV: ts, ttl — keep the newest inbound time (messages can arrive out of order)
_MAX = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2])) end
return 1
"""

# KEYS: lock ; ARGV: owner — delete only our own lock
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

STATUS_RANK = {
    m.DELIVERY_STATUS_QUEUED: 5,
    m.DELIVERY_STATUS_SENT: 10,
    m.DELIVERY_STATUS_DELIVERED: 20,
    m.DELIVERY_STATUS_READ: 30,
    m.DELIVERY_STATUS_PLAYED: 40,
    m.DELIVERY_STATUS_FAILED: 100,
}


def stream_entries(res: Any) -> list[tuple[Any, dict[bytes, bytes]]]:
    """Entries of a one-stream XREADGROUP/XREAD answer (RESP2 list or RESP3 dict)."""
    if not res:
        return []
    if isinstance(res, dict):
        for value in res.values():
            return list(value[0] if value and isinstance(value[0], list) else value)
        return []
    return list(res[0][1])


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else ("" if v is None else str(v))


@dataclass(slots=True)
class Begun:
    held: list[dict[str, Any]]
    menu: list[tuple[str, str]]
    first_delivery: bool
    sent: dict[str, str]


@dataclass(slots=True)
class Claim:
    done: bool
    locked: bool
    attempts: int
    first_failure: float


@dataclass(slots=True)
class StreamNames:
    inbox: str = "gw:inbox"
    status: str = "gw:status"
    dlq: str = "gw:dlq"
    group: str = "gateway"


class GatewayStore:
    def __init__(self, redis: aioredis.Redis, streams: StreamNames, *, dedupe_ttl_days: int = 8):
        self.redis = redis
        self.streams = streams
        self.ttl = dedupe_ttl_days * DAY
        self._accept = redis.register_script(_ACCEPT)
        self._status = redis.register_script(_STATUS)
        self._replay = redis.register_script(_REPLAY)
        self._max = redis.register_script(_MAX)
        self._unlock = redis.register_script(_UNLOCK)

    async def ping(self) -> None:
        await self.redis.ping()

    # --- streams: reading, claiming, keeping ------------------------------------------
    async def read_inbox(
        self, consumer: str, last: str, count: int, block_ms: int | None
    ) -> list[tuple[Any, dict[bytes, bytes]]]:
        res = await self.redis.xreadgroup(
            self.streams.group, consumer, {self.streams.inbox: last}, count=count, block=block_ms
        )
        return stream_entries(res)

    async def read_status(
        self, consumer: str, last: str, count: int, block_ms: int | None
    ) -> list[tuple[Any, dict[bytes, bytes]]]:
        res = await self.redis.xreadgroup(
            self.streams.group, consumer, {self.streams.status: last}, count=count, block=block_ms
        )
        return stream_entries(res)

    async def autoclaim_inbox(
        self, consumer: str, min_idle_ms: int
    ) -> AsyncIterator[list[tuple[Any, dict[bytes, bytes]]]]:
        """Entries of consumers that stopped working on them, page by page."""
        start = "0-0"
        while True:
            res = await self.redis.xautoclaim(
                self.streams.inbox,
                self.streams.group,
                consumer,
                min_idle_time=min_idle_ms,
                start_id=start,
                count=50,
            )
            start = _s(res[0])
            yield list(res[1])
            if start in ("0-0", "0"):
                return

    async def autoclaim_status(
        self, consumer: str, min_idle_ms: int
    ) -> list[tuple[Any, dict[bytes, bytes]]]:
        res = await self.redis.xautoclaim(
            self.streams.status, self.streams.group, consumer, min_idle_time=min_idle_ms, count=100
        )
        return list(res[1])

    async def keep_inbox_entries(
        self, consumer: str, entry_ids: list[str], inbound_ids: list[str], lease_ms: int
    ) -> None:
        """Heartbeat: reset the idle time of entries we hold and renew their leases."""
        ids: list[Any] = list(entry_ids)
        await self.redis.xclaim(
            self.streams.inbox,
            self.streams.group,
            consumer,
            min_idle_time=0,
            message_ids=ids,
            justid=True,
        )
        if inbound_ids:
            async with self.redis.pipeline(transaction=False) as pipe:
                for inbound_id in inbound_ids:
                    pipe.pexpire(f"gw:lock:{inbound_id}", lease_ms)
                await pipe.execute()

    async def inbox_gauges(self) -> dict[str, float]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self.streams.inbox)
            pipe.xpending(self.streams.inbox, self.streams.group)
            pipe.xrange(self.streams.inbox, count=1)
            pipe.xlen(self.streams.dlq)
            pipe.xlen(self.streams.status)
            length, pending, oldest, dlq, status_len = await pipe.execute()
        age = 0.0
        if oldest:
            age = max(0.0, time.time() - int(_s(oldest[0][0]).split("-")[0]) / 1000)
        return {
            "length": length,
            "pending": pending.get("pending", 0) if isinstance(pending, dict) else 0,
            "oldest_age": age,
            "dlq": dlq,
            "status": status_len,
        }

    async def records(self, wamids: list[str]) -> list[dict[str, str]]:
        """Outbound records of several messages, one round trip ({} for unknown ids)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for wamid in wamids:
                pipe.hgetall(f"gw:msg:{wamid or '-'}")
            raw = await pipe.execute()
        return [{_s(k): _s(v) for k, v in (r or {}).items()} for r in raw]

    async def finish_status(self, entry_ids: list[str]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.streams.status, self.streams.group, *entry_ids)
            pipe.xdel(self.streams.status, *entry_ids)
            await pipe.execute()

    async def requeue_status(self, fields: dict[bytes, bytes], attempts: int) -> None:
        event: dict[Any, Any] = {**fields, b"n": attempts}
        await self.redis.xadd(self.streams.status, event)

    async def ensure_groups(self) -> None:
        for stream in (self.streams.inbox, self.streams.status):
            try:
                await self.redis.xgroup_create(stream, self.streams.group, id="0", mkstream=True)
            except aioredis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # --- webhook side -------------------------------------------------------------------
    async def accept_messages(
        self, messages: list[m.InboundMessage], notes: Mapping[str, str] | None = None
    ) -> list[bool]:
        """Dedupe + append each message atomically; one round trip for the whole batch."""
        if not messages:
            return []
        now_ms = str(int(time.time() * 1000))
        notes = notes or {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for msg in messages:
                await self._accept(
                    keys=[f"gw:seen:{msg.message_id}", self.streams.inbox],
                    args=[self.ttl, msg.SerializeToString(), now_ms, notes.get(msg.message_id, "")],
                    client=pipe,
                )
            results = await pipe.execute()
        return [r is not None and r is not False for r in results]

    async def apply_statuses(self, statuses: list[Any]) -> list[bool]:
        """Monotonic status update of the stored message + a forward event, per status."""
        if not statuses:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for update in statuses:
                await self.status_script(
                    pipe,
                    update.message_id,
                    update.status,
                    update.timestamp,
                    update.errors,
                    update.recipient_id or update.recipient_user_id,
                    update.business_account_id,
                    update.callback_data,
                )
            results = await pipe.execute()
        return [bool(r) for r in results]

    async def status_script(
        self,
        client: Any,
        wamid: str,
        status: int,
        ts: int,
        errors: list[dict[str, Any]],
        recipient: str = "",
        pnid: str = "",
        callback: str = "",
    ) -> Any:
        return await self._status(
            keys=[f"gw:msg:{wamid}", self.streams.status, f"gw:cb:{callback}"],
            args=[
                m.DeliveryStatus.Name(status),
                STATUS_RANK.get(status, 0),
                ts or int(time.time()),
                json.dumps(errors) if errors else "",
                recipient,
                pnid,
                callback,
                0,
                self.ttl,
            ],
            client=client,
        )

    # --- outbound records ---------------------------------------------------------------
    async def record_sent(
        self,
        *,
        wamid: str,
        recipient: str,
        pnid: str,
        conversation_id: str,
        reply_id: str,
        inbound_id: str = "",
        reply_key: str = "",
        status: int = m.DELIVERY_STATUS_SENT,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Store the outbound message and, atomically, that this reply of this inbound
        message went out, and queue the delivery event for conversation."""
        key = f"gw:msg:{wamid}"
        async with self.redis.pipeline(transaction=True) as pipe:
            fields = {
                "recipient": recipient,
                "pnid": pnid,
                "conversation": conversation_id,
                "reply": reply_id,
                **(extra or {}),
            }
            pipe.hset(key, mapping={k: v for k, v in fields.items() if v})
            pipe.hsetnx(key, "created", int(time.time()))
            pipe.expire(key, self.ttl)
            if inbound_id:
                pipe.hset(f"gw:sent:{inbound_id}", reply_key, wamid)
                pipe.expire(f"gw:sent:{inbound_id}", self.ttl)
            # The monotonic script sets the status (a faster 'delivered' webhook is never
            # downgraded) and queues the forward to RecordDelivery, in the same transaction.
            await self.status_script(pipe, wamid, status, int(time.time()), [], recipient, pnid)
            await pipe.execute()

    async def _mark_reply(
        self,
        *,
        inbound_id: str,
        reply_key: str,
        value: str,
        conversation_id: str,
        reply_id: str,
        status: int,
        errors: list[dict[str, Any]],
    ) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"gw:sent:{inbound_id}", reply_key, value)
            pipe.expire(f"gw:sent:{inbound_id}", self.ttl)
            if conversation_id:
                pipe.xadd(
                    self.streams.status,
                    {
                        "id": "",
                        "status": m.DeliveryStatus.Name(status),
                        "errors": json.dumps(errors) if errors else "",
                        "conv": conversation_id,
                        "reply": reply_id,
                    },
                )
            await pipe.execute()

    async def record_failed(
        self,
        *,
        inbound_id: str,
        reply_key: str,
        conversation_id: str,
        reply_id: str,
        error: str,
        code: int,
    ) -> None:
        """A reply WhatsApp refused for good: never retried, reported to conversation."""
        await self._mark_reply(
            inbound_id=inbound_id,
            reply_key=reply_key,
            value=f"failed:{code}",
            conversation_id=conversation_id,
            reply_id=reply_id,
            status=m.DELIVERY_STATUS_FAILED,
            errors=[{"code": code, "title": "send refused", "detail": error[:500]}],
        )

    async def mark_held(
        self, *, inbound_id: str, reply_key: str, conversation_id: str, reply_id: str
    ) -> None:
        """A reply held back while the 24-hour window is closed (QUEUED for conversation)."""
        await self._mark_reply(
            inbound_id=inbound_id,
            reply_key=reply_key,
            value="held:",
            conversation_id=conversation_id,
            reply_id=reply_id,
            status=m.DELIVERY_STATUS_QUEUED,
            errors=[],
        )

    async def sent_replies(self, inbound_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"gw:sent:{inbound_id}")
        return {_s(k): _s(v) for k, v in raw.items()}

    async def message(self, wamid: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"gw:msg:{wamid}")
        return {_s(k): _s(v) for k, v in raw.items()}

    async def wamid_for_callback(self, callback: str) -> str:
        return _s(await self.redis.get(f"gw:cb:{callback}"))

    # --- worker bookkeeping -------------------------------------------------------------
    async def claim(self, inbound_id: str, owner: str, lease_ms: int) -> Claim:
        """Already done?, lease taken?, failed attempts so far — one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(f"gw:done:{inbound_id}")
            pipe.set(f"gw:lock:{inbound_id}", owner, nx=True, px=lease_ms)
            pipe.hmget(f"gw:att:{inbound_id}", "n", "first")
            done, locked, (failures, first) = await pipe.execute()
        return Claim(bool(done), bool(locked), int(failures or 0), float(first or 0))

    async def holds_lock(self, inbound_id: str, owner: str) -> bool:
        return _s(await self.redis.get(f"gw:lock:{inbound_id}")) == owner

    async def is_done(self, inbound_id: str) -> bool:
        return bool(await self.redis.exists(f"gw:done:{inbound_id}"))

    async def finish(self, entry_id: str, inbound_id: str = "", owner: str = "") -> None:
        """Mark done, ack and delete the entry in one transaction (deleting keeps the stream
        short without MAXLEN trimming, which could drop entries still pending), releasing our
        lease in the same round trip when `owner` is given."""
        async with self.redis.pipeline(transaction=True) as pipe:
            if inbound_id:
                pipe.set(f"gw:done:{inbound_id}", "1", ex=self.ttl)
                pipe.delete(f"gw:att:{inbound_id}")
            pipe.xack(self.streams.inbox, self.streams.group, entry_id)
            pipe.xdel(self.streams.inbox, entry_id)
            if inbound_id and owner:
                await self._unlock(keys=[f"gw:lock:{inbound_id}"], args=[owner], client=pipe)
            await pipe.execute()

    async def ack_inbox(self, entry_id: str) -> None:
        await self.redis.xack(self.streams.inbox, self.streams.group, entry_id)

    async def add_attempt(self, inbound_id: str) -> tuple[int, float]:
        """Count a failed attempt; returns (failures so far, unix time of the first one)."""
        key = f"gw:att:{inbound_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "n", 1)
            pipe.hsetnx(key, "first", f"{time.time():.3f}")
            pipe.hget(key, "first")
            pipe.expire(key, self.ttl)
            failures, _set, first, _ = await pipe.execute()
        return int(failures), float(first or 0)

    async def dead_letter(
        self,
        entry_id: str,
        payload: bytes,
        inbound_id: str,
        reason: str,
        attempts: int,
    ) -> str:
        """Move an entry to the dead-letter stream atomically (add + ack + delete)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.streams.dlq,
                {
                    "m": payload,
                    "reason": reason[:2000],
                    "attempts": attempts,
                    "at": int(time.time() * 1000),
                    "src": entry_id,
                },
            )
            pipe.xack(self.streams.inbox, self.streams.group, entry_id)
            pipe.xdel(self.streams.inbox, entry_id)
            pipe.delete(f"gw:att:{inbound_id}")
            res = await pipe.execute()
        return _s(res[0])

    # --- window, menus, held replies ----------------------------------------------------
    async def begin(
        self, *, account: str, guest: str, ts: int, conversation_id: str, message_id: str
    ) -> Begun:
        """First step of handling a message, one round trip: note when the guest wrote (the
        WhatsApp 24-hour window is counted from it), fetch held replies, the last numbered
        menu and the reply parts already handled for this message, and claim the first
        delivery of this message (read receipts are sent once)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            await self._max(keys=[f"gw:lastin:{account}:{guest}"], args=[ts, self.ttl], client=pipe)
            pipe.lrange(f"gw:held:{conversation_id}", 0, -1)
            pipe.get(f"gw:menu:{conversation_id}")
            pipe.set(f"gw:read:{message_id}", "1", nx=True, ex=DAY)
            pipe.hgetall(f"gw:sent:{message_id}")
            res = await pipe.execute()
        return Begun(
            held=[json.loads(x) for x in res[1]],
            menu=[(str(x[0]), str(x[1])) for x in json.loads(res[2])] if res[2] else [],
            first_delivery=bool(res[3]),
            sent={_s(k): _s(v) for k, v in res[4].items()},
        )

    # --- guest aliases, one-shot markers ------------------------------------------------
    async def remember_alias(self, namespace: str, alias: str, guest_id: str, ttl: int) -> None:
        """Remember that `alias` (e.g. a WhatsApp BSUID) names `guest_id` (its wa_id)."""
        await self.redis.set(f"gw:alias:{namespace}:{alias}", guest_id, ex=ttl)

    async def alias(self, namespace: str, alias: str) -> str:
        return _s(await self.redis.get(f"gw:alias:{namespace}:{alias}"))

    async def first_time(self, what: str, ident: str, ttl: int = 7 * DAY) -> bool:
        """True exactly once per (what, ident) within `ttl` (e.g. one re-engagement template
        per failed message)."""
        return bool(await self.redis.set(f"gw:once:{what}:{ident}", "1", nx=True, ex=ttl))

    async def forget_first_time(self, what: str, ident: str) -> None:
        await self.redis.delete(f"gw:once:{what}:{ident}")

    # --- SendMessage idempotency --------------------------------------------------------
    async def idempotency_begin(self, key_hash: str, fingerprint: str) -> dict[str, str]:
        """Bind an idempotency key to the request's fingerprint (first call wins) and return
        its record: `fp` (the bound fingerprint), `state` ("done" once finished), `first`
        (provider id of the first part), `held`."""
        key = f"gw:idem:{key_hash}"
        if await self.redis.hsetnx(key, "fp", fingerprint):
            await self.redis.expire(key, 7 * DAY)
        return {_s(k): _s(v) for k, v in (await self.redis.hgetall(key)).items()}

    async def idempotency_lease(self, key_hash: str, seconds: int) -> bool:
        """One call per key at a time; the lease frees the key if its holder died."""
        return bool(await self.redis.set(f"gw:idem:{key_hash}:busy", "1", nx=True, ex=seconds))

    async def idempotency_release(self, key_hash: str) -> None:
        await self.redis.delete(f"gw:idem:{key_hash}:busy")

    async def idempotency_done(self, key_hash: str, first: str, held: bool) -> None:
        key = f"gw:idem:{key_hash}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key, mapping={"state": "done", "first": first, **({"held": "1"} if held else {})}
            )
            pipe.delete(key + ":busy")
            pipe.expire(key, 7 * DAY)
            await pipe.execute()

    async def unlock(self, inbound_id: str, owner: str) -> None:
        await self._unlock(keys=[f"gw:lock:{inbound_id}"], args=[owner])

    async def last_inbound(self, pnid: str, guest: str) -> int | None:
        wrote_at = await self.redis.get(f"gw:lastin:{pnid}:{guest}")
        return int(wrote_at) if wrote_at is not None else None

    async def set_menu(self, conversation_id: str, choices: list[tuple[str, str]]) -> None:
        await self.redis.set(f"gw:menu:{conversation_id}", json.dumps(choices), ex=DAY)

    async def menu(self, conversation_id: str) -> list[tuple[str, str]]:
        raw = await self.redis.get(f"gw:menu:{conversation_id}")
        return [tuple(x) for x in json.loads(raw)] if raw else []  # type: ignore[misc]

    async def clear_menu(self, conversation_id: str) -> None:
        await self.redis.delete(f"gw:menu:{conversation_id}")

    async def hold(self, conversation_id: str, item: dict[str, Any]) -> None:
        key = f"gw:held:{conversation_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, json.dumps(item))
            pipe.expire(key, 7 * DAY)
            await pipe.execute()

    async def held(self, conversation_id: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in await self.redis.lrange(f"gw:held:{conversation_id}", 0, -1)]

    async def drop_held(self, conversation_id: str, count: int) -> None:
        await self.redis.ltrim(f"gw:held:{conversation_id}", count, -1)

    # --- dead letters -------------------------------------------------------------------
    async def list_dead(self, start_exclusive: str, count: int) -> list[tuple[str, dict[str, Any]]]:
        start = f"({start_exclusive}" if start_exclusive else "-"
        rows: list[Any] = (
            await self.redis.xrange(self.streams.dlq, min=start, max="+", count=count) or []
        )
        return [
            (_s(entry_id), {_s(k): v for k, v in (fields or {}).items()})
            for entry_id, fields in rows
        ]

    async def get_dead(self, entry_id: str) -> dict[str, Any] | None:
        rows: list[Any] = (
            await self.redis.xrange(self.streams.dlq, min=entry_id, max=entry_id, count=1) or []
        )
        return {_s(k): v for k, v in (rows[0][1] or {}).items()} if rows else None

    async def replay_dead(self, entry_id: str) -> str | None:
        res = await self._replay(
            keys=[self.streams.dlq, self.streams.inbox],
            args=[entry_id, str(int(time.time() * 1000))],
        )
        return _s(res) if res else None

    async def drop_dead(self, entry_id: str) -> bool:
        return bool(await self.redis.xdel(self.streams.dlq, entry_id))
