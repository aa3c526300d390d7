"""Helpers for tests: ports and waiting for servers. Not imported by production code.

Picking a port by binding to 0 and closing the socket races with everything else on the
machine (another test, another helper's mesh): the port may be taken before the server binds
it. So, in order of preference:

* let the server bind port 0 itself and ask it which port it got (gRPC `add_insecure_port`,
  aiohttp sites, `socket.bind(("127.0.0.1", 0))`);
* when a server process needs its port up front, start it with `start_on_free_port`, which
  picks again when the port turned out to be taken;
* for "an address where nothing listens", hold `closed_port()`: the port stays bound (so no one
  else can take it) but is never listened on, so connections to it are refused.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc

from posada_common.auth_keys import MeshCredentials, generate_credentials

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and read it back).

    Racy by nature: prefer the alternatives in this module's docstring.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_address_in_use(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return True
    text = str(exc).lower()
    return "address already in use" in text or "eaddrinuse" in text


def start_on_free_port(
    start: Callable[[int], T],
    *,
    attempts: int = 5,
    host: str = "127.0.0.1",
    clashed: Callable[[BaseException], bool] = is_address_in_use,
) -> T:
    """`start(port)` on a free port, picking another one while the port turns out taken."""
    for attempt in range(attempts):
        try:
            return start(free_port(host))
        except Exception as exc:
            if attempt + 1 == attempts or not clashed(exc):
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def closed_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port held bound but never listened on: connecting to it is refused, for as long as
    the block runs, and nobody else can start a server on it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        yield int(sock.getsockname()[1])


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

        staff_id = str(getattr(request, "staff_id", "") or "").strip() or "test-staff"
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


class _SyncCallDetails(grpc.ClientCallDetails):  # type: ignore[misc]
    def __init__(self, method: str, timeout: float | None, metadata: Any, credentials: Any):
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = None
        self.compression = None


class _ActAsAllowedSync(
    _ActAsAllowed,
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[misc]
):
    """The blocking-API twin of `trusted_channel`'s interceptors (for threads in e2e tests)."""

    def _sync_details(self, details: Any, request: Any) -> Any:
        signed = self._details(
            grpc.aio.ClientCallDetails(
                method=details.method,
                timeout=details.timeout,
                metadata=grpc.aio.Metadata(*(details.metadata or [])),
                credentials=details.credentials,
                wait_for_ready=None,
            ),
            request,
        )
        return _SyncCallDetails(
            details.method, details.timeout, tuple(signed.metadata), details.credentials
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._sync_details(details, request), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._sync_details(details, request), request)


def trusted_sync_channel(
    address: str,
    *,
    options: list[tuple[str, Any]] | None = None,
    staff_hotel_id: str = "1",
    staff_role: str = "manager",
) -> grpc.Channel:
    """`trusted_channel` for grpc's blocking API."""
    channel = grpc.insecure_channel(address, options=options)
    return grpc.intercept_channel(channel, _ActAsAllowedSync(staff_hotel_id, staff_role))


def use_test_credentials(credentials: MeshCredentials) -> None:
    """Make `trusted_channel` sign with these (a whole-mesh test: the run's dev credentials)."""
    global _TEST_CREDENTIALS
    _TEST_CREDENTIALS = credentials
