"""Helpers for tests: free ports and waiting for servers. Not imported by production code."""

from __future__ import annotations

import socket
import time
from typing import Any

import grpc

from posada_common.auth_keys import MeshCredentials, generate_credentials


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


_TEST_CREDENTIALS: MeshCredentials | None = None


def shared_test_credentials() -> MeshCredentials:
    """One set of generated mesh credentials per test session (every caller's key held).

    The root conftest installs them, so in-process servers verify and `dial(..., identity=X)`
    signs as any caller X without further set-up.
    """
    global _TEST_CREDENTIALS
    if _TEST_CREDENTIALS is None:
        _TEST_CREDENTIALS = generate_credentials()
    return _TEST_CREDENTIALS


def auth_env(identity: str) -> dict[str, str]:
    """Environment for a service subprocess speaking as `identity` with the test credentials."""
    return shared_test_credentials().env_for(identity)


class _ActAsAllowed:
    """Signs each call as the first caller the table allows on that RPC (tests only)."""

    def __init__(self, staff_hotel_id: str, staff_role: str):
        self.staff_hotel_id = staff_hotel_id
        self.staff_role = staff_role
        self._tokens: dict[str, str] = {}

    def _staff_token(self, request: Any) -> str:
        from posada_common import auth

        staff_id = str(getattr(request, "staff_id", "") or "test-staff")
        if staff_id not in self._tokens:
            self._tokens[staff_id] = auth.mint_staff_token(
                staff_id,
                "Test Staff",
                self.staff_hotel_id,
                self.staff_role,  # type: ignore[arg-type]
                ttl=auth.STAFF_TOKEN_MAX_TTL_SECONDS,
                signing_key=shared_test_credentials().staff_signing_key,
            )
        return self._tokens[staff_id]

    def _details(
        self, details: grpc.aio.ClientCallDetails, request: Any = None
    ) -> grpc.aio.ClientCallDetails:
        from posada_common import auth
        from posada_common.auth_policy import load_policy

        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        policy = load_policy()
        rule = policy.rule(method)
        metadata = list(details.metadata or [])
        if rule is not None and rule.callers:
            who = policy.staff_issuer if rule.staff else sorted(rule.callers)[0]
            token = auth.cached_service_token(method.split("/")[1], who, shared_test_credentials())
            metadata.append((auth.AUTHORIZATION_HEADER, f"Bearer {token}"))
            if rule.staff and auth.STAFF_TOKEN_HEADER not in dict(metadata):
                metadata.append((auth.STAFF_TOKEN_HEADER, self._staff_token(request)))
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout,
            metadata=grpc.aio.Metadata(*metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


class _ActUU(_ActAsAllowed, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, request), request)


class _ActUS(_ActAsAllowed, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, request), request)


class _ActSU(_ActAsAllowed, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _ActSS(_ActAsAllowed, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


def trusted_channel(
    address: str,
    *,
    options: list[tuple[str, Any]] | None = None,
    staff_hotel_id: str = "1",
    staff_role: str = "manager",
) -> grpc.aio.Channel:
    """A test channel whose every call is signed as a caller the table allows on that RPC.

    Staff RPCs also carry a staff token for the request's `staff_id` (or `test-staff`) at hotel
    `staff_hotel_id`, unless the call passes its own in metadata. For tests of a service's behaviour; tests *of*
    authorisation use `dial(..., identity=...)` and explicit tokens instead.
    """
    act = (staff_hotel_id, staff_role)
    interceptors: list[Any] = [_ActUU(*act), _ActUS(*act), _ActSU(*act), _ActSS(*act)]
    return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)
