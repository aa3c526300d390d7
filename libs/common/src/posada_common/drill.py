"""Fault and latency injection for canary drills (`hotelctl canary --inject-fault/--inject-latency`).

A canary rehearsal has to prove that the analysis rolls back a bad version, so the drill
starts the canary with `DRILL_FAULT_RATE` (share of RPCs answered UNAVAILABLE) and/or
`DRILL_LATENCY_SECONDS` (added to every RPC). The interceptor sits inside the observability
interceptor, so injected failures and delays are counted exactly like real ones. Health and
reflection are never touched (Envoy must still see the canary as healthy to send it traffic).
A production service refuses to start with either variable set: drills are a development tool.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

FAULT_ENV = "DRILL_FAULT_RATE"
LATENCY_ENV = "DRILL_LATENCY_SECONDS"
_UNTOUCHED = {
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
}


@dataclass(frozen=True)
class Drill:
    fault_rate: float = 0.0
    latency_seconds: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str], environment: str) -> Drill | None:
        """The drill the environment asks for, None when it asks for none.

        Raises ValueError for values out of range and for any drill in production.
        """
        fault_text = environ.get(FAULT_ENV, "").strip()
        latency_text = environ.get(LATENCY_ENV, "").strip()
        if not fault_text and not latency_text:
            return None
        if environment == "production":
            raise ValueError(
                f"{FAULT_ENV}/{LATENCY_ENV} are drill settings; production refuses them"
            )
        try:
            fault = float(fault_text or 0)
            latency = float(latency_text or 0)
        except ValueError as exc:
            raise ValueError(f"{FAULT_ENV}/{LATENCY_ENV} must be numbers: {exc}") from None
        if not 0 <= fault <= 1:
            raise ValueError(f"{FAULT_ENV} must be between 0 and 1, got {fault}")
        if not 0 <= latency <= 300:
            raise ValueError(f"{LATENCY_ENV} must be between 0 and 300 seconds, got {latency}")
        return cls(fault, latency)


class DrillInterceptor(grpc.aio.ServerInterceptor):
    """Delays and/or fails unary-request RPCs as the drill says."""

    def __init__(self, drill: Drill, rng: random.Random | None = None):
        self.drill = drill
        self.rng = rng or random.Random()

    async def _apply(self, context: grpc.aio.ServicerContext) -> None:
        if self.drill.latency_seconds:
            await asyncio.sleep(self.drill.latency_seconds)
        if self.drill.fault_rate and self.rng.random() < self.drill.fault_rate:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "drill: injected fault")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        service = handler_call_details.method.strip("/").split("/", 1)[0]
        if handler is None or service in _UNTOUCHED:
            return handler
        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await self._apply(context)
                return await inner_uu(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await self._apply(context)
                async for item in inner_us(request, context):
                    yield item

            return grpc.unary_stream_rpc_method_handler(
                unary_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


def drill_interceptors(environment: str) -> list[grpc.aio.ServerInterceptor]:
    """[DrillInterceptor] when the environment asks for a drill, else []."""
    drill = Drill.from_env(os.environ, environment)
    return [DrillInterceptor(drill)] if drill else []
