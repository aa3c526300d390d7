"""Channels to peers: through Envoy's mesh listener, with a deadline and trace context on every call.

Services never dial each other directly: Envoy owns retries (idempotent RPCs only), outlier
detection and load balancing, so client-side retries are switched off here to keep retries in
one layer. A call made without `timeout=` still gets the default deadline, because a call with
no deadline can hang a whole conversation.
"""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from posada_common.auth import client_interceptors
from posada_common.auth_keys import MeshCredentials

DEFAULT_MAX_MESSAGE_BYTES = 20 * 1024 * 1024  # voice notes up to 16 MB plus envelope


class _DefaultDeadline:
    """Fills in a deadline when the caller gave none."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        if details.timeout is not None:
            return details
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=self.seconds,
            metadata=details.metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


class DeadlineUnaryUnary(_DefaultDeadline, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


class DeadlineUnaryStream(_DefaultDeadline, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


class DeadlineStreamUnary(_DefaultDeadline, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


def channel_options(max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.enable_retries", 0),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
    ]


def dial(
    address: str,
    *,
    default_deadline_seconds: float = 5.0,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    trace: bool = True,
    identity: str | None = None,
    credentials: MeshCredentials | None = None,
) -> grpc.aio.Channel:
    """An aio channel with our interceptors; every call carries a signed service token.

    The token speaks as `identity` (default: this process's MESH_IDENTITY / SERVICE_NAME)
    with `credentials` (default: this process's, see `posada_common.auth`).
    """
    interceptors: list[Any] = [
        DeadlineUnaryUnary(default_deadline_seconds),
        DeadlineUnaryStream(default_deadline_seconds),
        DeadlineStreamUnary(default_deadline_seconds),
        *client_interceptors(identity, credentials),
    ]
    if trace:
        interceptors = [*aio_client_interceptors(), *interceptors]
    return grpc.aio.insecure_channel(
        address, options=channel_options(max_message_bytes), interceptors=interceptors
    )


def is_dependency_down(error: BaseException) -> bool:
    """True for failures that mean 'the peer is unavailable', which callers degrade on."""
    if isinstance(error, TimeoutError):
        return True
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code() in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.UNIMPLEMENTED,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.UNKNOWN,
            grpc.StatusCode.CANCELLED,
        )
    return False
