"""The one outbound pipeline: render → send (the adapter retries) → record → status.

Used by the inbox worker (replies to a guest message) and by `ChannelService.SendMessage`
(messages from internal teams), so both share one idempotency scheme:

* every delivery has an *origin*: the inbound message id for replies, `idem:<sha256(key)>` for
  SendMessage;
* every rendered part has a *part key* (`reply_id`, plus `:n` when a reply renders to several
  parts) and the idempotency value `"{origin}|{part key}"`, which the adapter hands to the
  provider when it can echo it (WhatsApp `biz_opaque_callback_data`);
* `gw:sent:{origin}` (in `store.py`) records each part once it went out (provider id), was held
  (`held:`) or refused for good (`failed:<code>`), atomically with the outbound record and the
  delivery event. A second run of the same delivery (crash, redelivery, retried RPC) skips
  those parts and, for a part the provider accepted just before a crash, finds its id through
  the echoed idempotency value instead of sending again.

Held parts: when an adapter answers "deferred" (WhatsApp's 24-hour window is closed and a
re-engagement template went out instead), that part and every later part of the same delivery
are held per conversation, and offered again, oldest first, when the guest writes
(`flush_held`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hotel.channel.v1 import message_pb2 as m

from .channels.base import ChannelError, Choice, Destination, OutboundPart
from .channels.registry import ChannelRegistry
from .store import GatewayStore


def encode_part(part: OutboundPart) -> dict[str, Any]:
    return {
        "kind": part.kind,
        "payload": part.payload,
        "fallback_text": part.fallback_text,
        "audio": base64.b64encode(part.audio).decode() if part.audio else "",
        "audio_mime": part.audio_mime,
        "choices": [[c.id, c.title] for c in part.choices],
    }


def decode_part(encoded: dict[str, Any]) -> OutboundPart:
    return OutboundPart(
        kind=encoded["kind"],
        payload=encoded.get("payload") or {},
        fallback_text=encoded.get("fallback_text", ""),
        audio=base64.b64decode(encoded["audio"]) if encoded.get("audio") else b"",
        audio_mime=encoded.get("audio_mime", ""),
        choices=[Choice(i, t) for i, t in encoded.get("choices", [])],
    )


@dataclass(slots=True)
class Delivery:
    """Outcome of one delivery: the provider id of the first part that went out (or of the
    notice sent instead) and whether anything was held back."""

    first_id: str = ""
    held: bool = False
    parts: int = 0


class OutboundPipeline:
    def __init__(self, store: GatewayStore, registry: ChannelRegistry, *, log: Any):
        self.store = store
        self.registry = registry
        self.log = log

    async def deliver(
        self,
        origin: str,
        dest: Destination,
        replies: Sequence[m.Reply],
        language: str = "",
        *,
        raise_refused: bool = False,
        done: dict[str, str] | None = None,
        check_echo: bool = True,
    ) -> Delivery:
        """Render and send every reply to `dest`, idempotently per (origin, part key).

        Raises a retryable `ChannelError` (or the adapter's auth error) when a part could not go
        out but may later: the caller retries the whole delivery and parts already done are
        skipped. Parts refused for good are recorded FAILED and do not stop the others."""
        adapter = self.registry.get(dest.channel)
        done = await self.store.sent_replies(origin)
        out = Delivery(held=any(v.startswith("held:") for v in done.values()))
        for rkey, reply_id, parts in adapter.render_turn(replies, language or dest.language, dest):
            for j, part in enumerate(parts):
                out.parts += 1
                key = rkey if len(parts) == 1 else f"{rkey}:{j}"
                previous = done.get(key)
                if previous is not None:
                    if not out.first_id and ":" not in previous:
                        out.first_id = previous
                    continue
                if out.held:
                    await self._hold(dest, origin, key, reply_id, part)
                    continue
                idem = f"{origin}|{key}"
                echoed = await self.store.wamid_for_callback(idem) if check_echo else ""
                if echoed:
                    # The provider accepted it before a crash; its status echo told us the id.
                    await self._record(dest, echoed, reply_id, origin, key, part)
                    out.first_id = out.first_id or echoed
                    continue
                try:
                    result = await adapter.send(dest, part, idempotency=idem)
                except ChannelError as exc:
                    if exc.retryable or exc.kind == "auth" or raise_refused:
                        raise
                    await self.store.record_failed(
                        inbound_id=origin,
                        reply_key=key,
                        conversation_id=dest.conversation_id,
                        reply_id=reply_id,
                        error=str(exc),
                        code=exc.code,
                    )
                    continue
                if result.outcome == "deferred":
                    out.held = True
                    if result.provider_id:
                        await self._record_notice(dest, result.provider_id)
                        out.first_id = out.first_id or result.provider_id
                    await self._hold(dest, origin, key, reply_id, part)
                    continue
                await self._record(dest, result.provider_id, reply_id, origin, key, part)
                out.first_id = out.first_id or result.provider_id
                if adapter.offered_as_text(part, result):
                    await self.store.set_menu(
                        dest.conversation_id, [(c.id, c.title) for c in part.choices]
                    )
        return out

    async def flush_held(self, dest: Destination, items: list[dict[str, Any]]) -> None:
        """The guest wrote again: deliver what was held back, oldest first, while the channel
        lets us (a stale message does not re-open WhatsApp's window)."""
        adapter = self.registry.get(dest.channel)
        if not await adapter.can_deliver_now(dest):
            return
        for item in items:
            part = decode_part(item["part"])
            target = Destination.from_dict(item["dest"]) if item.get("dest") else dest
            result = await adapter.send(target, part, idempotency="")
            if result.outcome == "deferred":
                return  # the provider still says no: keep the rest held
            await self._record(target, result.provider_id, item.get("reply_id", ""), "", "", part)
            await self.store.drop_held(dest.conversation_id, 1)

    async def after_failed_status(
        self, wamid: str, record: dict[str, str], errors: list[dict[str, Any]]
    ) -> None:
        """A message we sent failed later. Only messages this gateway really sent (records
        written by `_record`, never a bare status webhook) can lead to a notice and a hold."""
        if not record.get("created") or record.get("notice") or not record.get("dest"):
            return
        try:
            dest = Destination.from_dict(json.loads(record["dest"]))
            adapter = self.registry.get(dest.channel)
        except (ValueError, KeyError, TypeError):
            return
        if not await self.store.first_time("notice", wamid):
            return
        try:
            result = await adapter.after_failed_status(record, errors)
        except ChannelError as exc:
            self.log.warning("failed_status_notice_failed", error=str(exc), code=exc.code)
            await self.store.forget_first_time("notice", wamid)
            return
        if result is None or result.outcome != "deferred":
            return
        if result.provider_id:
            await self._record_notice(dest, result.provider_id)
        if record.get("body") and dest.conversation_id:
            await self.store.hold(
                dest.conversation_id,
                {
                    "part": json.loads(record["body"]),
                    "reply_id": record.get("reply", ""),
                    "dest": dest.to_dict(),
                },
            )

    # --- records ------------------------------------------------------------------------
    async def _record(
        self,
        dest: Destination,
        provider_id: str,
        reply_id: str,
        origin: str,
        key: str,
        part: OutboundPart,
    ) -> None:
        await self.store.record_sent(
            wamid=provider_id,
            recipient=dest.key,
            pnid=dest.account,
            conversation_id=dest.conversation_id,
            reply_id=reply_id,
            inbound_id=origin,
            reply_key=key,
            extra={
                "dest": json.dumps(dest.to_dict()),
                "body": json.dumps(encode_part(part)) if part.kind != "audio" else "",
            },
        )

    async def _record_notice(self, dest: Destination, provider_id: str) -> None:
        await self.store.record_sent(
            wamid=provider_id,
            recipient=dest.key,
            pnid=dest.account,
            conversation_id=dest.conversation_id,
            reply_id="",
            extra={"dest": json.dumps(dest.to_dict()), "notice": "1"},
        )

    async def _hold(
        self, dest: Destination, origin: str, key: str, reply_id: str, part: OutboundPart
    ) -> None:
        await self.store.hold(
            dest.conversation_id,
            {"part": encode_part(part), "reply_id": reply_id, "dest": dest.to_dict()},
        )
        await self.store.mark_held(
            inbound_id=origin,
            reply_key=key,
            conversation_id=dest.conversation_id,
            reply_id=reply_id,
        )
