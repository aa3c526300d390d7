"""`hotel.channel.v1.ChannelService`: send to guests, follow delivery, operate dead letters."""

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
from .graph import GraphError
from .render import render_reply
from .sender import Recipient, Sender
from .store import DAY, GatewayStore, _s
from .worker import _encode_part

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
PAGE_DEFAULT = 50
PAGE_MAX = 500
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


def recipient_from(recipient_id: str) -> Recipient:
    """A wa_id (digits, '+' tolerated) or a business-scoped user id (CC.xxxx)."""
    rid = recipient_id.strip()
    digits = re.sub(r"[\s\-()]", "", rid).lstrip("+")
    if digits.isdigit():
        return Recipient(guest_id=digits, phone=digits)
    return Recipient(guest_id=rid, bsuid=rid)


def graph_error_to_status(exc: GraphError) -> ServiceError:
    meta = {"whatsapp_code": str(exc.code), "kind": exc.kind}
    if exc.kind == "rate_limit":
        return ResourceExhausted(f"WhatsApp rate limit: {exc}", metadata=meta)
    if exc.kind in ("transient", "auth"):
        return Unavailable(f"WhatsApp unavailable: {exc}", metadata=meta)
    return FailedPrecondition(f"WhatsApp refused the message: {exc}", metadata=meta)


class ChannelServicer(pb_grpc.ChannelServiceServicer):
    def __init__(
        self, store: GatewayStore, sender: Sender, *, default_business_account: str, log: Any
    ):
        self.store = store
        self.sender = sender
        self.default_pnid = default_business_account
        self.log = log

    # --- sending ------------------------------------------------------------------------
    async def SendMessage(
        self, request: pb.SendMessageRequest, context: Any
    ) -> pb.SendMessageResponse:
        violations = {}
        if request.channel not in (m.CHANNEL_WHATSAPP, m.CHANNEL_UNSPECIFIED):
            raise FailedPrecondition("this gateway sends on CHANNEL_WHATSAPP only")
        if not request.recipient_id.strip():
            violations["recipient_id"] = "required: the guest's wa_id or business-scoped user id"
        if not request.idempotency_key.strip():
            violations["idempotency_key"] = "required: the same key never sends twice"
        elif len(request.idempotency_key) > 256:
            violations["idempotency_key"] = "at most 256 characters"
        if request.reply.WhichOneof("content") is None:
            violations["reply"] = "one of text, buttons, list, audio, location is required"
        if violations:
            metrics.CHANNEL_SENDS.labels("invalid").inc()
            raise InvalidArgument("invalid SendMessage request", field_violations=violations)
        parts = render_reply(request.reply)
        if not parts:
            metrics.CHANNEL_SENDS.labels("invalid").inc()
            raise InvalidArgument(
                "the reply renders to nothing", field_violations={"reply": "is empty"}
            )

        pnid = request.business_account_id or self.default_pnid
        recipient = recipient_from(request.recipient_id)
        fingerprint = hashlib.sha256(
            pb.SendMessageRequest(
                channel=request.channel,
                business_account_id=pnid,
                recipient_id=recipient.key,
                reply=request.reply,
            ).SerializeToString(deterministic=True)
        ).hexdigest()
        key = "gw:idem:" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()
        r = self.store.r

        busy = key + ":busy"

        if await r.hsetnx(key, "fp", fingerprint):
            await r.expire(key, 7 * DAY)
        rec = {_s(k): _s(v) for k, v in (await r.hgetall(key)).items()}
        if rec.get("fp") != fingerprint:
            metrics.CHANNEL_SENDS.labels("conflict").inc()
            raise InvalidArgument(
                "idempotency_key was already used for a different message",
                field_violations={"idempotency_key": "reused with different content"},
            )
        if rec.get("state") == "done":
            metrics.CHANNEL_SENDS.labels("replayed").inc()
            status = m.DELIVERY_STATUS_QUEUED if rec.get("held") else m.DELIVERY_STATUS_SENT
            stored = await self.store.message(rec.get("wamid", ""))
            if stored.get("status") and not rec.get("held"):
                status = m.DeliveryStatus.Value(stored["status"])
            return pb.SendMessageResponse(
                message_id=rec.get("wamid", ""), status=status, replayed=True
            )
        # One call per key at a time; the lease frees the key if its holder died.
        if not await r.set(busy, "1", nx=True, ex=IDEM_LEASE_SECONDS):
            metrics.CHANNEL_SENDS.labels("in_progress").inc()
            raise Aborted("a call with this idempotency_key is in progress; retry shortly")
        # Parts a failed earlier call already sent are not sent again.
        sent = {k[5:]: v for k, v in rec.items() if k.startswith("part:")}
        first = ""
        held = False
        remaining = context.time_remaining() if context is not None else None
        try:
            async with asyncio.timeout(max(0.1, remaining - 0.25) if remaining else None):
                first, held = await self._send_parts(request, parts, pnid, recipient, key, sent)
        except TimeoutError as exc:
            await r.delete(busy)
            metrics.CHANNEL_SENDS.labels("deadline").inc()
            raise DeadlineExceeded(
                "sending did not finish within the deadline; retry with the same key"
            ) from exc
        except GraphError as exc:
            await r.delete(busy)
            metrics.CHANNEL_SENDS.labels("failed").inc()
            self.log.warning("channel_send_failed", code=exc.code, kind=exc.kind)
            raise graph_error_to_status(exc) from exc
        except BaseException:
            await r.delete(busy)
            raise
        async with r.pipeline(transaction=True) as pipe:
            pipe.hset(
                key, mapping={"state": "done", "wamid": first, **({"held": "1"} if held else {})}
            )
            pipe.delete(busy)
            pipe.expire(key, 7 * DAY)
            await pipe.execute()
        metrics.CHANNEL_SENDS.labels("held" if held else "sent").inc()
        return pb.SendMessageResponse(
            message_id=first,
            status=m.DELIVERY_STATUS_QUEUED if held else m.DELIVERY_STATUS_SENT,
        )

    async def _send_parts(
        self,
        request: pb.SendMessageRequest,
        parts: list[Any],
        pnid: str,
        recipient: Recipient,
        key: str,
        sent: dict[str, str],
    ) -> tuple[str, bool]:
        r = self.store.r
        first = ""
        held = False
        for j, part in enumerate(parts):
            pkey = str(j)
            if pkey in sent:
                first = first or sent[pkey]
                continue
            if held:
                await self.store.hold(
                    request.conversation_id or f"wa:{pnid}:{recipient.guest_id}",
                    {
                        "part": _encode_part(part),
                        "reply_id": request.reply.reply_id,
                        "pnid": pnid,
                        "guest": recipient.guest_id,
                        "phone": recipient.phone,
                        "bsuid": recipient.bsuid,
                    },
                )
                continue
            res = await self.sender.send_part(
                pnid, recipient, part, callback_data=f"idem|{request.idempotency_key[:200]}|{j}"
            )
            await r.hset(key, f"part:{pkey}", res.wamid)
            first = first or res.wamid
            if res.outcome == "template":
                held = True
                await self.store.hold(
                    request.conversation_id or f"wa:{pnid}:{recipient.guest_id}",
                    {
                        "part": _encode_part(part),
                        "reply_id": request.reply.reply_id,
                        "pnid": pnid,
                        "guest": recipient.guest_id,
                        "phone": recipient.phone,
                        "bsuid": recipient.bsuid,
                    },
                )
            await self.store.record_sent(
                wamid=res.wamid,
                recipient=recipient.key,
                pnid=pnid,
                conversation_id=request.conversation_id,
                reply_id="" if res.outcome == "template" else request.reply.reply_id,
                extra={
                    "guest": recipient.guest_id,
                    "phone": recipient.phone,
                    "bsuid": recipient.bsuid,
                    **(
                        {"template": "1"}
                        if res.outcome == "template"
                        else {
                            "body": json.dumps(_encode_part(part)) if part.kind != "audio" else ""
                        }
                    ),
                },
            )
        return first, held

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
        if request.page_size < 0:
            raise InvalidArgument(
                "page_size must not be negative", field_violations={"page_size": ">= 0"}
            )
        size = min(request.page_size or PAGE_DEFAULT, PAGE_MAX)
        if request.page_token:
            _check_stream_id(request.page_token, "page_token")
        rows = await self.store.list_dead(request.page_token, size + 1)
        page = rows[:size]
        return pb.ListDeadLettersResponse(
            dead_letters=[self._dead_letter(i, f) for i, f in page],
            next_page_token=page[-1][0] if len(rows) > size else "",
        )

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
