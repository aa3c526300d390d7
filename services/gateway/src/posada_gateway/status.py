"""Delivery events (`gw:status`) → `ConversationService.RecordDelivery`, with its own consumer.

Events come from status webhooks (monotonic per message, see `store.py`) and from the outbound
pipeline (FAILED, QUEUED for held parts). A failed status of a message this gateway sent is also
offered to the channel's adapter, which may send a notice and have the content held (WhatsApp:
131047, the 24-hour window closed after the send).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import grpc
from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

from . import metrics
from .outbound import OutboundPipeline
from .store import GatewayStore, _s
from .turn import PERMANENT_GRPC


class StatusForwarder:
    def __init__(
        self,
        store: GatewayStore,
        pipeline: OutboundPipeline,
        conversation: Any,
        *,
        consumer: str,
        log: Any,
        claim_idle_seconds: float = 30.0,
        claim_interval_seconds: float = 5.0,
        block_ms: int = 1000,
        record_timeout_seconds: float = 5.0,
        max_attempts: int = 20,
    ):
        self.store = store
        self.pipeline = pipeline
        self.conv = conversation
        self.consumer = consumer
        self.log = log
        self.claim_idle_seconds = claim_idle_seconds
        self.claim_interval_seconds = claim_interval_seconds
        self.block_ms = block_ms
        self.record_timeout_seconds = record_timeout_seconds
        self.max_attempts = max_attempts
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gw-status")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        """Own pending events first, then dead consumers', then new ones."""
        recover = True
        last_claim = 0.0
        while True:
            try:
                entries: list[Any] = []
                if recover:
                    entries = await self.store.read_status(self.consumer, "0", 100, None)
                    if not entries:
                        recover = False
                elif time.monotonic() - last_claim > self.claim_interval_seconds:
                    last_claim = time.monotonic()
                    entries = await self.store.autoclaim_status(
                        self.consumer, int(self.claim_idle_seconds * 1000)
                    )
                if not entries and not recover:
                    entries = await self.store.read_status(self.consumer, ">", 100, self.block_ms)
                await self.forward_batch(entries)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("status_forward_failed", error=str(exc))
                recover = True
                await asyncio.sleep(1.0)

    async def forward_batch(self, entries: list[Any]) -> None:
        """One round trip to look the messages up, the RecordDelivery calls of different
        messages concurrently (one message's events coalesced to the newest), one to ack and
        delete them."""
        if not entries:
            return
        items = [(_s(eid), fields or {}) for eid, fields in entries]
        records = await self.store.records([_s(f.get(b"id")) for _e, f in items])
        groups: dict[str, list[tuple[dict[bytes, bytes], dict[str, str]]]] = {}
        for (eid, fields), record in zip(items, records, strict=True):
            key = _s(fields.get(b"id")) or eid
            groups.setdefault(key, []).append((fields, record if fields.get(b"id") else {}))

        async def forward_group(events: list[tuple[dict[bytes, bytes], dict[str, str]]]) -> None:
            # Statuses of one message only move forward (the webhook script guarantees it), so
            # when several arrived together only the newest needs telling: sent + delivered +
            # read becomes one RecordDelivery(read). Under load that is most of them.
            if len(events) > 1 and all(f.get(b"id") for f, _r in events):
                events = events[-1:]
            for fields, record in events:
                await self._forward(fields, record)

        await asyncio.gather(*(forward_group(g) for g in groups.values()))
        await self.store.finish_status([eid for eid, _f in items])

    async def _forward(self, fields: dict[bytes, bytes], record: dict[str, str]) -> None:
        wamid = _s(fields.get(b"id"))
        status_name = _s(fields.get(b"status"))
        errors_raw = _s(fields.get(b"errors"))
        conversation_id = _s(fields.get(b"conv")) or record.get("conversation", "")
        reply_id = _s(fields.get(b"reply")) or record.get("reply", "")
        errors = json.loads(errors_raw) if errors_raw else []
        if status_name == "DELIVERY_STATUS_FAILED" and wamid and record:
            await self.pipeline.after_failed_status(wamid, record, errors)
        if not conversation_id:
            return
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
                timeout=self.record_timeout_seconds,
            )
            metrics.CONVERSATION_CALLS.labels("RecordDelivery", "OK").inc()
        except grpc.aio.AioRpcError as exc:
            metrics.CONVERSATION_CALLS.labels("RecordDelivery", exc.code().name).inc()
            if exc.code() in PERMANENT_GRPC:
                return
            attempts = int(_s(fields.get(b"n")) or 0) + 1
            if attempts < self.max_attempts:
                # Re-queue with a counter; the current entry is acked by the batch.
                await self.store.requeue_status(fields, attempts)
                await asyncio.sleep(min(5.0, 0.2 * attempts))
            else:
                self.log.error("record_delivery_gave_up", wamid=wamid, status=status_name)
