"""One guest message, once the worker has it: identify → prepare → conversation → deliver.

Channel-neutral: the adapter found by `msg.channel` does the channel's part (who the guest is,
media, read receipts, numbered menus), `ConversationService.HandleMessage` decides the answer,
and the `OutboundPipeline` sends it. Retrying, dead-lettering and acknowledging are the worker's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import grpc
from hotel.channel.v1 import message_pb2 as m
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2

from . import metrics
from .channels.base import TRUNCATED, Choice, TurnState
from .channels.registry import ChannelRegistry
from .notices import notice
from .outbound import OutboundPipeline
from .store import GatewayStore

PERMANENT_GRPC = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.OUT_OF_RANGE,
}

# Conversation could not take the turn now; the message waits and is offered again.
TRANSIENT_GRPC = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class PermanentError(Exception):
    """Retrying will not help: dead-letter at once (an operator can replay after a fix)."""


class RetryLater(Exception):
    """Conversation asked to offer the message again later (or was briefly unavailable)."""

    def __init__(self, reason: str, after_ms: int = 0):
        super().__init__(reason)
        self.after_ms = after_ms


@dataclass(slots=True)
class Attempt:
    """Which offer of a message this is (1-based) and whether it is the last one."""

    number: int = 1
    final: bool = False


@dataclass(slots=True)
class TurnConfig:
    conversation_timeout_seconds: float = 50.0


class TurnHandler:
    def __init__(
        self,
        store: GatewayStore,
        registry: ChannelRegistry,
        pipeline: OutboundPipeline,
        conversation: Any,  # ConversationServiceStub
        config: TurnConfig,
        *,
        log: Any,
    ):
        self.store = store
        self.registry = registry
        self.pipeline = pipeline
        self.conv = conversation
        self.cfg = config
        self.log = log

    async def handle(
        self,
        request: conv_pb2.HandleMessageRequest,
        attempt: Attempt | None = None,
        *,
        note: str = "",
        fresh: bool = False,
    ) -> None:
        """Handle `request.message` (changed in place: guest identity, media bytes, a typed
        choice) and send conversation's answer. `request` is what goes to conversation, so the
        message is never copied on the way."""
        attempt = attempt or Attempt()
        msg = request.message
        adapter = self.registry.get(msg.channel)
        await adapter.identify(msg)
        begun = await self.store.begin(
            account=msg.business_account_id,
            guest=msg.guest.id,
            ts=msg.sent_at.seconds or int(time.time()),
            conversation_id=msg.conversation_id,
            message_id=msg.message_id,
        )
        dest = adapter.destination_for(msg)
        if begun.held:
            await self.pipeline.flush_held(dest, begun.held)
        state = TurnState(
            menu=[Choice(i, t) for i, t in begun.menu], first_delivery=begun.first_delivery
        )
        await adapter.prepare(msg, state)
        try:
            if begun.menu and msg.kind == m.MESSAGE_KIND_INTERACTIVE_REPLY:
                await self.store.clear_menu(msg.conversation_id)
            resp = await self.call_conversation(request, attempt)
        finally:
            # Work `prepare` started alongside the conversation call (read receipt, typing).
            await adapter.settle(msg)
        if resp.conversation_id:
            dest.conversation_id = resp.conversation_id
        dest.language = resp.language
        replies = list(resp.replies)
        if note == TRUNCATED and not resp.retry_later:
            # The guest wrote more than conversation reads: say that only the start was read.
            body = notice("truncated", resp.language)
            replies.append(
                m.Reply(reply_id=f"{msg.message_id}:truncated", text=m.TextReply(body=body))
            )
        await self.pipeline.deliver(
            msg.message_id,
            dest,
            replies,
            resp.language,
            done=begun.sent,
            check_echo=not fresh,
        )
        if resp.retry_later:
            raise RetryLater("conversation asked to retry later", resp.retry_after_ms)

    async def call_conversation(
        self, request: conv_pb2.HandleMessageRequest, attempt: Attempt
    ) -> conv_pb2.HandleMessageResponse:
        request.attempt = attempt.number
        request.final_attempt = attempt.final
        started = time.perf_counter()
        try:
            resp = await self.conv.HandleMessage(
                request, timeout=self.cfg.conversation_timeout_seconds
            )
        except grpc.aio.AioRpcError as exc:
            metrics.CONVERSATION_SECONDS.labels("error").observe(time.perf_counter() - started)
            metrics.CONVERSATION_CALLS.labels("HandleMessage", exc.code().name).inc()
            if exc.code() in PERMANENT_GRPC:
                raise PermanentError(f"HandleMessage {exc.code().name}: {exc.details()}") from exc
            raise
        metrics.CONVERSATION_SECONDS.labels("ok").observe(time.perf_counter() - started)
        metrics.CONVERSATION_CALLS.labels("HandleMessage", "OK").inc()
        return resp
