"""A dead letter never means silence: the guest is told and staff get a task.

Called by the worker after it moved a message to the dead-letter stream (permanent error, or
the last offer failed). Two independent, best-effort steps, each bounded in time:

1. `ConversationService.OpenTask` (kind UNANSWERED_MESSAGE, idempotent by message id) opens a
   staff task and returns the conversation's language when known. If conversation cannot be
   reached the dead letter itself is the operator's to-do (`hotelctl dlq`), and it is logged.
2. An honest notice to the guest through the outbound pipeline (idempotent per message: part
   key `dead-letter`), in the conversation's language or, when unknown, in es/en/pt.
"""

from __future__ import annotations

from typing import Any

import grpc
from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

from . import metrics
from .channels.base import ChannelError
from .channels.registry import ChannelRegistry, UnknownChannel
from .notices import notice
from .outbound import OutboundPipeline


def _reason_summary(reason: str) -> str:
    """The error class only (`AioRpcError`, `PermanentError: HandleMessage INVALID_ARGUMENT`):
    details can carry guest data or provider internals."""
    head = reason.split("\n", 1)[0]
    return head[:160]


class DeadLetterNotifier:
    def __init__(
        self,
        registry: ChannelRegistry,
        pipeline: OutboundPipeline,
        conversation: Any,
        *,
        log: Any,
        timeout_seconds: float = 5.0,
    ):
        self.registry = registry
        self.pipeline = pipeline
        self.conv = conversation
        self.log = log
        self.timeout = timeout_seconds

    async def __call__(self, msg: m.InboundMessage, reason: str) -> None:
        language = await self._open_task(msg, reason)
        await self._tell_guest(msg, language)

    async def _open_task(self, msg: m.InboundMessage, reason: str) -> str:
        try:
            resp = await self.conv.OpenTask(
                conv_pb2.OpenTaskRequest(
                    conversation_id=msg.conversation_id,
                    hotel_id=msg.hotel_id,
                    kind=conv_pb2.TASK_KIND_UNANSWERED_MESSAGE,
                    description=(
                        "A guest message could not be answered automatically "
                        f"({_reason_summary(reason)}). Please answer the guest."
                    ),
                    message=msg,
                    idempotency_key=f"dead-letter:{msg.message_id}",
                ),
                timeout=self.timeout,
            )
        except grpc.aio.AioRpcError as exc:
            metrics.CONVERSATION_CALLS.labels("OpenTask", exc.code().name).inc()
            self.log.error(
                "dead_letter_task_not_opened",
                message_id=msg.message_id,
                code=exc.code().name,
                hint="the dead letter stays listed in `hotelctl dlq`",
            )
            return ""
        metrics.CONVERSATION_CALLS.labels("OpenTask", "OK").inc()
        return str(resp.language)

    async def _tell_guest(self, msg: m.InboundMessage, language: str) -> None:
        try:
            adapter = self.registry.get(msg.channel)
            dest = adapter.destination_for(msg)
            reply = m.Reply(
                reply_id=f"{msg.message_id}:dead-letter",
                text=m.TextReply(body=notice("dead_letter", language)),
            )
            await self.pipeline.deliver(msg.message_id, dest, [reply], language)
            metrics.DEAD_LETTER_NOTICES.labels("sent").inc()
        except (ChannelError, UnknownChannel) as exc:
            metrics.DEAD_LETTER_NOTICES.labels("failed").inc()
            self.log.error(
                "dead_letter_notice_not_sent", message_id=msg.message_id, error=str(exc)[:300]
            )
