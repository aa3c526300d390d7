"""Redis state of the e-mail channel (all keys under `gw:em:`; the shared inbox, dedupe and
outbound records stay in `GatewayStore`).

| key | type | what |
| --- | --- | --- |
| `gw:em:env:{inbound id}` | hash | how to answer: thread id, Message-ID, References, subject, to |
| `gw:em:hist:{mailbox}` | string | last Gmail history id whose messages are all queued |
| `gw:em:got:{mailbox}:{id}` | string | provider message already read (Gmail id / IMAP uid) |
| `gw:em:wake` | stream | push notifications (a wake-up for the syncer; trimmed) |
| `gw:em:lock:{mailbox}` | string | one syncer per mailbox at a time (lease) |
| `gw:em:watch:{mailbox}` | string | when users.watch was last renewed (epoch s) |
| `gw:em:uid:{mailbox}:{folder}` | hash | IMAP `uidvalidity` and `last` UID read |
| `gw:em:sending:{inbound id}` | string | a send was attempted (a retry checks the Sent folder) |
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

DAY = 86400
WAKE_STREAM = "gw:em:wake"

# KEYS: hist ; ARGV: id — history ids only move forward (a late push cannot move them back)
_MAX = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
"""

# KEYS: uid hash ; ARGV: uidvalidity, uid — advance the last UID of this UIDVALIDITY only
_UID = """
local v = redis.call('HGET', KEYS[1], 'uidvalidity')
if v ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'uidvalidity', ARGV[1], 'last', ARGV[2])
  return 1
end
local cur = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], 'last', ARGV[2]) end
return 1
"""

# KEYS: push dedupe key, wake stream ; ARGV: ttl, mailbox, history id, pubsub id
# Dedupe and wake in one step: a crash between the two must not turn a redelivery into a "dup".
_PUSH = """
if ARGV[4] ~= '' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then
  return 0
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000', '*', 'mailbox', ARGV[2], 'history', ARGV[3],
  'pubsub', ARGV[4])
return 1
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else ("" if v is None else str(v))


@dataclass(slots=True)
class Envelope:
    """How to answer one guest e-mail."""

    to: str
    to_name: str = ""
    subject: str = ""
    message_id: str = ""
    references: list[str] = field(default_factory=list)
    thread_id: str = ""
    provider_id: str = ""

    def to_redis(self) -> dict[str, str]:
        return {
            "to": self.to,
            "to_name": self.to_name,
            "subject": self.subject,
            "message_id": self.message_id,
            "references": " ".join(self.references),
            "thread_id": self.thread_id,
            "provider_id": self.provider_id,
        }

    @classmethod
    def from_redis(cls, raw: dict[Any, Any]) -> Envelope:
        fields = {_s(k): _s(v) for k, v in raw.items()}
        return cls(
            to=fields.get("to", ""),
            to_name=fields.get("to_name", ""),
            subject=fields.get("subject", ""),
            message_id=fields.get("message_id", ""),
            references=[r for r in fields.get("references", "").split() if r],
            thread_id=fields.get("thread_id", ""),
            provider_id=fields.get("provider_id", ""),
        )


class MailStore:
    def __init__(self, redis: aioredis.Redis, *, ttl_days: int = 8):
        self.redis = redis
        self.ttl = ttl_days * DAY
        self._max = redis.register_script(_MAX)
        self._uid = redis.register_script(_UID)
        self._unlock = redis.register_script(_UNLOCK)
        self._push = redis.register_script(_PUSH)

    # envelopes
    async def save_envelope(self, inbound_id: str, env: Envelope) -> None:
        key = f"gw:em:env:{inbound_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            mapping: dict[Any, Any] = env.to_redis()
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, self.ttl)
            await pipe.execute()

    async def envelope(self, inbound_id: str) -> Envelope | None:
        raw = await self.redis.hgetall(f"gw:em:env:{inbound_id}")
        return Envelope.from_redis(raw) if raw else None

    # provider ids already read
    async def got(self, mailbox: str, provider_id: str) -> bool:
        return bool(await self.redis.exists(f"gw:em:got:{mailbox}:{provider_id}"))

    async def mark_got(self, mailbox: str, provider_id: str) -> None:
        await self.redis.set(f"gw:em:got:{mailbox}:{provider_id}", "1", ex=self.ttl)

    # Gmail history
    async def history_id(self, mailbox: str) -> str:
        return _s(await self.redis.get(f"gw:em:hist:{mailbox}"))

    async def advance_history(self, mailbox: str, history_id: str | int) -> None:
        await self._max(keys=[f"gw:em:hist:{mailbox}"], args=[int(history_id)])

    async def reset_history(self, mailbox: str, history_id: str | int) -> None:
        await self.redis.set(f"gw:em:hist:{mailbox}", int(history_id))

    async def accept_push(self, mailbox: str, history_id: int, pubsub_id: str) -> bool:
        """Wake the syncers; False when this Pub/Sub message was delivered before."""
        res = await self._push(
            keys=[f"gw:em:push:{pubsub_id}", WAKE_STREAM],
            args=[7 * DAY, mailbox, history_id, pubsub_id],
        )
        return bool(res)

    async def wait_wake(self, last_id: str, block_ms: int) -> tuple[str, bool]:
        res = await self.redis.xread({WAKE_STREAM: last_id}, count=100, block=block_ms)
        entries: list[Any] = []
        if isinstance(res, dict):
            for value in res.values():
                entries = list(value[0] if value and isinstance(value[0], list) else value)
        elif res:
            entries = list(res[0][1])
        if not entries:
            return last_id, False
        return _s(entries[-1][0]), True

    async def last_wake_id(self) -> str:
        rows: list[Any] = await self.redis.xrevrange(WAKE_STREAM, count=1) or []
        return _s(rows[0][0]) if rows else "0-0"

    # locks
    async def lock(self, mailbox: str, owner: str, lease_ms: int) -> bool:
        return bool(await self.redis.set(f"gw:em:lock:{mailbox}", owner, nx=True, px=lease_ms))

    async def unlock(self, mailbox: str, owner: str) -> None:
        await self._unlock(keys=[f"gw:em:lock:{mailbox}"], args=[owner])

    # watch renewal
    async def watch_renewed_at(self, mailbox: str) -> float:
        renewed_at = _s(await self.redis.get(f"gw:em:watch:{mailbox}"))
        return float(renewed_at) if renewed_at else 0.0

    async def note_watch(self, mailbox: str) -> None:
        await self.redis.set(f"gw:em:watch:{mailbox}", str(time.time()), ex=8 * DAY)

    # IMAP UID bookkeeping
    async def imap_state(self, mailbox: str, folder: str) -> tuple[int, int]:
        raw = await self.redis.hgetall(f"gw:em:uid:{mailbox}:{folder}")
        state = {_s(k): _s(v) for k, v in raw.items()}
        return int(state.get("uidvalidity") or 0), int(state.get("last") or 0)

    async def imap_advance(self, mailbox: str, folder: str, uidvalidity: int, uid: int) -> None:
        await self._uid(keys=[f"gw:em:uid:{mailbox}:{folder}"], args=[uidvalidity, uid])

    # sends
    async def begin_send(self, inbound_id: str) -> bool:
        """True when an earlier attempt already tried to send this reply."""
        fresh = await self.redis.set(f"gw:em:sending:{inbound_id}", "1", nx=True, ex=self.ttl)
        return not fresh
