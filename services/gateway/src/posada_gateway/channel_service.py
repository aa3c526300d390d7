"""`hotel.channel.v1.ChannelService`: send to guests, follow delivery, operate dead letters.

`SendMessage` goes through the same outbound pipeline as the worker's replies (`outbound.py`):
the origin of its parts is `idem:<sha256(idempotency_key)>`, so a retried call skips parts that
already went out, and the key is bound to a fingerprint of the request so a key reused for a
different message is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.channel.v1 import channel_service_pb2_grpc as pb_grpc
from hotel.channel.v1 import message_pb2 as m
from posada_common.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)

from . import metrics
from .channels.base import ChannelError
from .channels.registry import ChannelRegistry, UnknownChannel
from .outbound import OutboundPipeline
from .store import GatewayStore, _s

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
PAGE_DEFAULT = 50
PAGE_MAX = 500
PAGE_MAX_BYTES = 3 * 1024 * 1024  # under gRPC's default 4 MB message limit
IDEM_LEASE_SECONDS = 120


class Aborted(ServiceError):
    code = grpc.StatusCode.ABORTED
    reason = "ABORTED"


def _check_stream_id(value: str, field: str = "id") -> str:
    if not STREAM_ID.match(value or ""):
        raise InvalidArgument(
            f"{field} must be a stream entry id like 1767261600000-0",
            field_violations={field: "must look like <milliseconds>-<sequence>"},
        )
    return value


def channel_error_to_status(exc: ChannelError) -> ServiceError:
    meta = {"provider_code": str(exc.code), "kind": exc.kind}
    if exc.kind == "rate_limit":
        return ResourceExhausted(f"provider rate limit: {exc}", metadata=meta)
    if exc.kind in ("transient", "auth") or exc.retryable:
        return Unavailable(f"provider unavailable: {exc}", metadata=meta)
    return FailedPrecondition(f"provider refused the message: {exc}", metadata=meta)


class ChannelServicer(pb_grpc.ChannelServiceServicer):
    def __init__(
        self,
        store: GatewayStore,
        registry: ChannelRegistry,
        pipeline: OutboundPipeline,
        *,
        log: Any,
    ):
        self.store = store
        self.registry = registry
        self.pipeline = pipeline
        self.log = log

    # --- sending ------------------------------------------------------------------------
    async def SendMessage(
        self, request: pb.SendMessageRequest, context: Any
    ) -> pb.SendMessageResponse:
        violations = {}
        if request.channel not in self.registry:
            raise FailedPrecondition(
                f"this gateway has no adapter for {m.Channel.Name(request.channel)}"
                if request.channel in m.Channel.values()
                else f"unknown channel {request.channel}"
            )
        adapter = self.registry.get(request.channel)
        dest = None
        try:
            dest = adapter.destination_to(
                request.recipient_id,
                request.business_account_id,
                subject=request.subject,
                thread_id=request.thread_id,
            )
        except ValueError as exc:
            violations["recipient_id"] = str(exc)
        if not request.idempotency_key.strip():
            violations["idempotency_key"] = "required: the same key never sends twice"
        elif len(request.idempotency_key) > 256:
            violations["idempotency_key"] = "at most 256 characters"
        if request.reply.WhichOneof("content") is None:
            violations["reply"] = "one of text, buttons, list, audio, location is required"
        if violations or dest is None:
            metrics.CHANNEL_SENDS.labels("invalid").inc()
            raise InvalidArgument("invalid SendMessage request", field_violations=violations)
        if request.conversation_id:
            dest.conversation_id = request.conversation_id
        if not adapter.render(request.reply, "", dest):
            metrics.CHANNEL_SENDS.labels("invalid").inc()
            raise InvalidArgument(
                "the reply renders to nothing", field_violations={"reply": "is empty"}
            )

        fingerprint = hashlib.sha256(
            pb.SendMessageRequest(
                channel=request.channel or self.registry.default,
                business_account_id=dest.account,
                recipient_id=dest.key,
                reply=request.reply,
                subject=request.subject,
                thread_id=request.thread_id,
            ).SerializeToString(deterministic=True)
        ).hexdigest()
        key_hash = hashlib.sha256(request.idempotency_key.encode()).hexdigest()
        rec = await self.store.idempotency_begin(key_hash, fingerprint)
        if rec.get("fp") != fingerprint:
            metrics.CHANNEL_SENDS.labels("conflict").inc()
            raise InvalidArgument(
                "idempotency_key was already used for a different message",
                field_violations={"idempotency_key": "reused with different content"},
            )
        if rec.get("state") == "done":
            metrics.CHANNEL_SENDS.labels("replayed").inc()
            status = m.DELIVERY_STATUS_QUEUED if rec.get("held") else m.DELIVERY_STATUS_SENT
            stored = await self.store.message(rec.get("first", ""))
            if stored.get("status") and not rec.get("held"):
                status = m.DeliveryStatus.Value(stored["status"])
            return pb.SendMessageResponse(
                message_id=rec.get("first", ""), status=status, replayed=True
            )
        if not await self.store.idempotency_lease(key_hash, IDEM_LEASE_SECONDS):
            metrics.CHANNEL_SENDS.labels("in_progress").inc()
            raise Aborted("a call with this idempotency_key is in progress; retry shortly")
        remaining = context.time_remaining() if context is not None else None
        try:
            async with asyncio.timeout(max(0.1, remaining - 0.25) if remaining else None):
                delivery = await self.pipeline.deliver(
                    f"idem:{key_hash}", dest, [request.reply], raise_refused=True
                )
        except TimeoutError as exc:
            await self.store.idempotency_release(key_hash)
            metrics.CHANNEL_SENDS.labels("deadline").inc()
            raise DeadlineExceeded(
                "sending did not finish within the deadline; retry with the same key"
            ) from exc
        except ChannelError as exc:
            await self.store.idempotency_release(key_hash)
            metrics.CHANNEL_SENDS.labels("failed").inc()
            self.log.warning("channel_send_failed", code=exc.code, kind=exc.kind)
            raise channel_error_to_status(exc) from exc
        except UnknownChannel as exc:
            await self.store.idempotency_release(key_hash)
            raise FailedPrecondition(str(exc)) from exc
        except BaseException:
            await self.store.idempotency_release(key_hash)
            raise
        await self.store.idempotency_done(key_hash, delivery.first_id, delivery.held)
        metrics.CHANNEL_SENDS.labels("held" if delivery.held else "sent").inc()
        return pb.SendMessageResponse(
            message_id=delivery.first_id,
            status=m.DELIVERY_STATUS_QUEUED if delivery.held else m.DELIVERY_STATUS_SENT,
        )

    async def GetMessageStatus(
        self, request: pb.GetMessageStatusRequest, context: Any
    ) -> pb.GetMessageStatusResponse:
        if not request.message_id.strip():
            raise InvalidArgument(
                "message_id is required", field_violations={"message_id": "required"}
            )
        rec = await self.store.message(request.message_id)
        if not rec.get("status"):
            raise NotFound(f"no message {request.message_id} sent by this gateway")
        errors = [
            pb.DeliveryError(
                code=int(e.get("code") or 0),
                title=str(e.get("title", "")),
                detail=str(e.get("detail", "")),
            )
            for e in (json.loads(rec["errors"]) if rec.get("errors") else [])
        ]
        return pb.GetMessageStatusResponse(
            message_id=request.message_id,
            status=m.DeliveryStatus.Value(rec["status"]),
            updated_at=Timestamp(seconds=int(rec.get("updated") or 0)),
            errors=errors,
            recipient_id=rec.get("recipient", ""),
            conversation_id=rec.get("conversation", ""),
        )

    # --- dead letters -------------------------------------------------------------------
    @staticmethod
    def _dead_letter(entry_id: str, fields: dict[str, Any]) -> pb.DeadLetter:
        msg = m.InboundMessage()
        try:
            msg.ParseFromString(fields.get("m") or b"")
        except Exception:
            msg = m.InboundMessage()
        # Media bytes (up to 16 MB) are not an operator's business and would break gRPC's
        # 4 MB message limit; the media id, type and checksum stay.
        msg.media.ClearField("data")
        if not msg.media.ListFields():
            msg.ClearField("media")
        at_ms = int(_s(fields.get("at")) or 0)
        return pb.DeadLetter(
            id=entry_id,
            message=msg,
            reason=_s(fields.get("reason")),
            attempts=int(_s(fields.get("attempts")) or 0),
            dead_lettered_at=Timestamp(seconds=at_ms // 1000, nanos=(at_ms % 1000) * 1_000_000),
        )

    async def ListDeadLetters(
        self, request: pb.ListDeadLettersRequest, context: Any
    ) -> pb.ListDeadLettersResponse:
        """A page holds at most `page_size` entries and at most PAGE_MAX_BYTES: a page can
        never reach gRPC's 4 MB message limit, however long the dead-lettered texts are."""
        if request.page_size < 0:
            raise InvalidArgument(
                "page_size must not be negative", field_violations={"page_size": ">= 0"}
            )
        size = min(request.page_size or PAGE_DEFAULT, PAGE_MAX)
        if request.page_token:
            _check_stream_id(request.page_token, "page_token")
        rows = await self.store.list_dead(request.page_token, size + 1)
        out = pb.ListDeadLettersResponse()
        used = 0
        for entry_id, fields in rows[:size]:
            dead = self._dead_letter(entry_id, fields)
            cost = dead.ByteSize() + 8
            if out.dead_letters and used + cost > PAGE_MAX_BYTES:
                break
            out.dead_letters.append(dead)
            used += cost
        if out.dead_letters and len(rows) > len(out.dead_letters):
            out.next_page_token = out.dead_letters[-1].id
        return out

    async def GetDeadLetter(
        self, request: pb.GetDeadLetterRequest, context: Any
    ) -> pb.GetDeadLetterResponse:
        entry_id = _check_stream_id(request.id)
        fields = await self.store.get_dead(entry_id)
        if fields is None:
            raise NotFound(f"no dead letter {entry_id}")
        return pb.GetDeadLetterResponse(dead_letter=self._dead_letter(entry_id, fields))

    async def ReplayDeadLetter(
        self, request: pb.ReplayDeadLetterRequest, context: Any
    ) -> pb.ReplayDeadLetterResponse:
        entry_id = _check_stream_id(request.id)
        new_id = await self.store.replay_dead(entry_id)
        if new_id is None:
            raise NotFound(f"no dead letter {entry_id}")
        self.log.info("dead_letter_replayed", dead_letter_id=entry_id, stream_id=new_id)
        return pb.ReplayDeadLetterResponse(stream_id=new_id)

    async def DropDeadLetter(
        self, request: pb.DropDeadLetterRequest, context: Any
    ) -> pb.DropDeadLetterResponse:
        entry_id = _check_stream_id(request.id)
        if not await self.store.drop_dead(entry_id):
            raise NotFound(f"no dead letter {entry_id}")
        self.log.info("dead_letter_dropped", dead_letter_id=entry_id)
        return pb.DropDeadLetterResponse()
