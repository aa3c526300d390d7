"""Dialogue sessions in Redis: state with a TTL, a per-conversation lock, and a reply cache.

Keys (all prefixed `conv:`):
- `conv:session:{conversation_id}`  JSON of `Session`, expires after the session TTL of silence;
- `conv:lock:{conversation_id}`     the lock token (SET NX PX), released by compare-and-delete;
- `conv:handled:{conversation_id}:{message_id}` serialized HandleMessageResponse of a handled
  message (fast path of idempotency; Postgres holds the durable copy).

Ordering: inside one replica, waiters queue on an `asyncio.Lock` (FIFO), so one guest's
messages are handled in arrival order; across replicas the Redis lock gives mutual exclusion.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


# Bumped when the meaning of a field changes. Older versions whose fields still mean the same
# are upgraded in place (new fields take their defaults); anything else starts a fresh session
# (the conversation's language survives in Postgres), never a half-understood one.
SESSION_VERSION = 2
COMPATIBLE_VERSIONS = {1, 2}


class LockTimeout(Exception):
    """The conversation stayed locked longer than we are willing to wait."""


@dataclass
class Session:
    conversation_id: str
    hotel_id: str
    language: str = ""
    time_zone: str = ""
    # What the agent is waiting for: {"kind": "...", ...}; None = nothing.
    pending: dict[str, Any] | None = None
    # Last availability query: check_in, check_out (ISO), nights, adults, children, room_type.
    query: dict[str, Any] = field(default_factory=dict)
    # Offers last shown (plain dicts, see policy.offer_to_dict).
    offers: list[dict[str, Any]] = field(default_factory=list)
    # Booking being put together: offer, first_name, last_name, email.
    draft: dict[str, Any] = field(default_factory=dict)
    # Booking being managed: action, reference, booking (dict), verified, changes.
    manage: dict[str, Any] = field(default_factory=dict)
    misunderstood: int = 0
    # Another language seen once in a long enough message (a second one switches).
    language_vote: str = ""
    bookings_made: int = 0
    turns: int = 0
    # How `hotel_id` was settled: "" = the hotel owning the channel (or the chain default),
    # "guest" = the guest named it (city, neighbourhood, hotel name); a guest's choice sticks.
    hotel_source: str = ""
    # Times the guest signalled wanting a person without it being the whole message.
    human_signals: int = 0
    # What the guest said they don't have ("reference"): never asked for again.
    lacks: list[str] = field(default_factory=list)
    # Times in a row the same slot question was asked again without an answer.
    asked_again: int = 0
    version: int = SESSION_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session | None:
        """The stored session, upgraded; None when its version can't be read safely."""
        data = json.loads(raw)
        if data.get("version", 1) not in COMPATIBLE_VERSIONS:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["version"] = SESSION_VERSION
        return cls(**known)


class SessionStore:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        ttl_seconds: int = 86400,
        lock_ttl_seconds: float = 120.0,
        lock_wait_seconds: float = 30.0,
        handled_ttl_seconds: int = 7 * 86400,
    ):
        self.redis = redis
        self.ttl = ttl_seconds
        self.lock_ttl_ms = int(lock_ttl_seconds * 1000)
        self.lock_wait = lock_wait_seconds
        self.handled_ttl = handled_ttl_seconds
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}

    async def load(self, conversation_id: str, hotel_id: str) -> Session:
        raw = await self.redis.get(f"conv:session:{conversation_id}")
        session = Session.from_json(raw) if raw else None
        return session or Session(conversation_id=conversation_id, hotel_id=hotel_id)

    async def save(self, session: Session) -> None:
        await self.redis.set(
            f"conv:session:{session.conversation_id}", session.to_json(), ex=self.ttl
        )

    async def reset(self, conversation_id: str) -> None:
        await self.redis.delete(f"conv:session:{conversation_id}")

    async def handled(self, conversation_id: str, message_id: str) -> bytes | None:
        raw = await self.redis.get(f"conv:handled:{conversation_id}:{message_id}")
        return raw.encode() if isinstance(raw, str) else raw

    async def remember(self, conversation_id: str, message_id: str, response: bytes) -> None:
        await self.redis.set(
            f"conv:handled:{conversation_id}:{message_id}", response, ex=self.handled_ttl
        )

    @contextlib.asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        local, users = self._local.get(conversation_id, (asyncio.Lock(), 0))
        self._local[conversation_id] = (local, users + 1)
        try:
            async with local:
                token = uuid.uuid4().hex
                key = f"conv:lock:{conversation_id}"
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.lock_wait
                delay = 0.01
                while not await self.redis.set(key, token, nx=True, px=self.lock_ttl_ms):
                    if loop.time() >= deadline:
                        raise LockTimeout(conversation_id)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.2)
                try:
                    yield
                finally:
                    await self.redis.eval(_RELEASE, 1, key, token)
        finally:
            lock, remaining = self._local[conversation_id]
            if remaining <= 1:
                del self._local[conversation_id]
            else:
                self._local[conversation_id] = (lock, remaining - 1)
