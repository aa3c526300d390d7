"""Server interceptors: metrics, request logging context, and domain errors → gRPC status.

One wrapper handles all four RPC shapes so every service gets the same behaviour without
writing any of it: `ServiceError` subclasses become their status with google.rpc details, and
an unexpected exception becomes INTERNAL with a generic message (the traceback goes to the
log, never to the caller).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from posada_common.errors import ServiceError
from posada_common.logging import get_logger
from posada_common.metrics import RPC_IN_FLIGHT, RPC_LATENCY, RPC_REQUESTS, split_method

log = get_logger(__name__)
QUIET_SERVICES = {
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
}


def _code_of(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    code = context.code()
    if code is None:
        return grpc.StatusCode.OK
    if isinstance(code, grpc.StatusCode):
        return code
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate
    return grpc.StatusCode.UNKNOWN


async def _abort_for(exc: BaseException, context: grpc.aio.ServicerContext, method: str) -> None:
    if isinstance(exc, NotImplementedError):
        # Generated base servicers raise this: the RPC exists in the contract but its
        # behaviour has not landed yet. Never pretend success.
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet")
    if isinstance(exc, ServiceError):
        if exc.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
            log.error("rpc_failed", method=method, code=exc.code.name, error=exc.message)
        else:
            log.info("rpc_error", method=method, code=exc.code.name, error=exc.message)
        await context.abort_with_status(rpc_status.to_status(exc.to_status()))
    if isinstance(exc, TimeoutError):
        log.warning("rpc_timeout", method=method)
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED, "a dependency did not answer in time"
        )
    log.exception("rpc_crashed", method=method, error_type=type(exc).__name__)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; see server logs")


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    """Counts, times and error-maps every RPC."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        full = handler_call_details.method
        service, method = split_method(full)
        if service in QUIET_SERVICES:
            return handler

        def record(
            context: grpc.aio.ServicerContext, start: float, code: grpc.StatusCode | None = None
        ) -> None:
            final = code or _code_of(context)
            RPC_REQUESTS.labels(service, method, final.name).inc()
            RPC_LATENCY.labels(service, method).observe(time.perf_counter() - start)

        async def guard(call: Callable[[], Any], context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            gauge = RPC_IN_FLIGHT.labels(service, method)
            gauge.inc()
            try:
                result = call()
                if inspect.isawaitable(result):
                    result = await result
            except asyncio.CancelledError:
                record(context, start, grpc.StatusCode.CANCELLED)
                raise
            except grpc.aio.AbortError:
                record(context, start)
                raise
            except BaseException as exc:
                try:
                    await _abort_for(exc, context, full)
                finally:
                    record(context, start)
            else:
                record(context, start)
                return result
            finally:
                gauge.dec()

        async def stream_guard(
            make: Callable[[], Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            start = time.perf_counter()
            try:
                gen = make()
                if inspect.isawaitable(gen):
                    gen = await gen
                if gen is not None:
                    async for item in gen:
                        yield item
            except grpc.aio.AbortError:
                record(context, start)
                raise
            except BaseException as exc:
                try:
                    await _abort_for(exc, context, full)
                finally:
                    record(context, start)
            else:
                record(context, start)

        if handler.unary_unary:
            inner_uu = handler.unary_unary

            async def uu(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await guard(lambda: inner_uu(request, context), context)

            return grpc.unary_unary_rpc_method_handler(
                uu, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary:
            inner_su = handler.stream_unary

            async def su(request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
                return await guard(lambda: inner_su(request_iterator, context), context)

            return grpc.stream_unary_rpc_method_handler(
                su, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            inner_us = handler.unary_stream

            async def us(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                async for item in stream_guard(lambda: inner_us(request, context), context):
                    yield item

            return grpc.unary_stream_rpc_method_handler(
                us, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_stream:
            inner_ss = handler.stream_stream

            async def ss(
                request_iterator: Any, context: grpc.aio.ServicerContext
            ) -> AsyncIterator[Any]:
                async for item in stream_guard(
                    lambda: inner_ss(request_iterator, context), context
                ):
                    yield item

            return grpc.stream_stream_rpc_method_handler(
                ss, handler.request_deserializer, handler.response_serializer
            )
        return handler
