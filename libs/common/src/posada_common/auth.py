"""Mesh authentication and authorisation: signed service tokens and staff tokens.

Every call between services carries a short-lived JWT (EdDSA / Ed25519) in the `authorization`
metadata, signed with the caller's own private key and addressed to the gRPC service it calls.
`dial()` attaches it automatically; the shared server interceptor (`AuthInterceptor`, installed
by `ServiceHost`) verifies it and checks the caller against the authorisation table compiled
from deploy/mesh.yaml. Health and reflection stay open. See docs/adr/0007-mesh-authentication.md.

Staff act through the console: the console mints a *staff token* (its own key pair, separate
from any service key) naming the staff member, hotel and role, and sends it in
`x-posada-staff-token` beside its own service token. RPCs marked `staff` in the table refuse a
call without a valid staff token, and the servicer reads who is acting with `current_staff()`.

How the console uses it::

    from posada_common import auth
    from posada_common.clients import dial

    channel = dial(mesh_address)                       # speaks as MESH_IDENTITY=console
    token = auth.mint_staff_token("u-17", "Ana Pérez", "1", "agent", ttl=900)
    stub = ConversationServiceStub(channel)
    await stub.ReplyAsStaff(request, metadata=auth.staff_metadata(token))

How conversation reads it::

    staff = auth.current_staff(context)                # StaffIdentity, or PERMISSION_DENIED
    if conversation.hotel_id != staff.hotel_id: ...
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from posada_common.auth_keys import (
    CredentialsError,
    MeshCredentials,
    credentials_from_env,
)
from posada_common.auth_policy import Policy, load_policy
from posada_common.errors import PermissionDenied, ServiceError
from posada_common.logging import get_logger

log = get_logger(__name__)

AUTHORIZATION_HEADER = "authorization"
STAFF_TOKEN_HEADER = "x-posada-staff-token"
ALGORITHM = "EdDSA"
SERVICE_TOKEN_TTL_SECONDS = 300
SERVICE_TOKEN_REFRESH_SECONDS = 60  # mint a new token when the cached one has < this left
STAFF_TOKEN_TTL_SECONDS = 900
STAFF_TOKEN_MAX_TTL_SECONDS = 12 * 3600
CLOCK_LEEWAY_SECONDS = 5
STAFF_AUDIENCE = "posada-staff"
STAFF_ROLES = ("agent", "manager")
StaffRole = Literal["agent", "manager"]


class AuthError(ServiceError):
    """No or invalid credentials: the caller is not who it says (UNAUTHENTICATED)."""

    code = grpc.StatusCode.UNAUTHENTICATED


@dataclass(frozen=True)
class StaffIdentity:
    """A member of staff, as named by a verified staff token."""

    staff_id: str
    name: str
    hotel_id: str
    role: StaffRole
    expires_at: int

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    def label(self) -> str:
        """How the history shows who acted: `Ana Pérez (u-17, agent)`."""
        return f"{self.name} ({self.staff_id}, {self.role})"


# --------------------------------------------------------------------------------------------
# Process-wide credentials


_installed: MeshCredentials | None = None


def install_credentials(credentials: MeshCredentials | None) -> None:
    """Make `credentials` what `dial()`, `mint_staff_token()` and servers use by default.

    Services get theirs from the environment automatically; tests install generated ones.
    `None` forgets them (the next use reads the environment again).
    """
    global _installed
    _installed = credentials
    _token_cache.clear()
    _verified.clear()


def process_credentials() -> MeshCredentials:
    """The installed credentials, else those in the environment (read once)."""
    global _installed
    if _installed is None:
        import os

        _installed = credentials_from_env(os.environ, os.environ.get("SERVICE_NAME", ""))
    return _installed


# --------------------------------------------------------------------------------------------
# Service tokens


_token_cache: dict[tuple[str, str], tuple[str, float]] = {}


def mint_service_token(
    audience: str,
    *,
    identity: str | None = None,
    credentials: MeshCredentials | None = None,
    ttl: float = SERVICE_TOKEN_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """A token saying "I am `identity`" to the gRPC service `audience` (e.g. hotel.pms.v1.PmsService)."""
    creds = credentials or process_credentials()
    who = identity or creds.identity
    if not who:
        raise CredentialsError("no mesh identity (set MESH_IDENTITY or SERVICE_NAME)")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": who,
        "sub": who,
        "aud": audience,
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, creds.private_key(who), algorithm=ALGORITHM, headers={"kid": who})


def cached_service_token(
    audience: str, identity: str | None = None, credentials: MeshCredentials | None = None
) -> str:
    """`mint_service_token`, reused until a minute before it expires (one sign per 4 min)."""
    creds = credentials or process_credentials()
    who = identity or creds.identity
    key = (f"{id(creds)}:{who}", audience)
    hit = _token_cache.get(key)
    now = time.time()
    if hit is not None and hit[1] - now > SERVICE_TOKEN_REFRESH_SECONDS:
        return hit[0]
    token = mint_service_token(audience, identity=who, credentials=creds, now=now)
    _token_cache[key] = (token, now + SERVICE_TOKEN_TTL_SECONDS)
    return token


def _decode(token: str, keys: Sequence[Any], **options: Any) -> dict[str, Any]:
    """`jwt.decode` with the first key whose signature matches (key rotation: current, then
    retiring keys); every other check is the same for all keys, so its error is final."""
    for key in keys[:-1]:
        try:
            return dict(jwt.decode(token, key, **options))
        except jwt.InvalidSignatureError:
            continue
    return dict(jwt.decode(token, keys[-1], **options))


# Verified tokens, so a caller's token (reused for ~4 minutes) is checked once per server, not
# on every call: same bytes, same signature, same answer; only the expiry is re-checked.
_verified: dict[tuple[int, str, tuple[str, ...]], tuple[str, float]] = {}
VERIFIED_CACHE_SIZE = 4096


def verify_service_token(token: str, audiences: Sequence[str], credentials: MeshCredentials) -> str:
    """The caller's name if `token` is a valid, unexpired token for one of `audiences`."""
    key = (id(credentials), token, tuple(audiences))
    hit = _verified.get(key)
    if hit is not None:
        if time.time() <= hit[1] + CLOCK_LEEWAY_SECONDS:
            return hit[0]
        _verified.pop(key, None)
    caller, expires = _verify_service_token(token, audiences, credentials)
    if len(_verified) >= VERIFIED_CACHE_SIZE:
        _verified.clear()
    _verified[key] = (caller, expires)
    return caller


def _verify_service_token(
    token: str, audiences: Sequence[str], credentials: MeshCredentials
) -> tuple[str, float]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError("malformed service token") from exc
    kid = header.get("kid")
    keys = credentials.public_keys_of(kid) if isinstance(kid, str) else []
    if not keys:
        raise AuthError("service token from an unknown caller")
    try:
        claims = _decode(
            token,
            keys,
            algorithms=[ALGORITHM],
            audience=list(audiences),
            issuer=kid,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("service token expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid service token: {type(exc).__name__}") from exc
    if claims["iat"] > time.time() + CLOCK_LEEWAY_SECONDS:
        raise AuthError("service token issued in the future")
    return str(claims["iss"]), float(claims["exp"])


# --------------------------------------------------------------------------------------------
# Staff tokens


def mint_staff_token(
    staff_id: str,
    name: str,
    hotel_id: str,
    role: StaffRole,
    ttl: float = STAFF_TOKEN_TTL_SECONDS,
    *,
    signing_key: Ed25519PrivateKey | None = None,
    now: float | None = None,
) -> str:
    """Sign a staff token (console only: needs STAFF_TOKEN_SIGNING_KEY).

    `staff_id`, `name`, `hotel_id` are required; `role` is "agent" or "manager"; `ttl` seconds
    (max 12 h). Raise ValueError on bad input and CredentialsError without a signing key.
    """
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {STAFF_ROLES}")
    for label, value in (("staff_id", staff_id), ("name", name), ("hotel_id", hotel_id)):
        if not value or not value.strip():
            raise ValueError(f"{label} is required")
    if not 0 < ttl <= STAFF_TOKEN_MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be in (0, {STAFF_TOKEN_MAX_TTL_SECONDS}] seconds")
    key = signing_key or process_credentials().staff_signing_key
    if key is None:
        raise CredentialsError("no staff token signing key (STAFF_TOKEN_SIGNING_KEY)")
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": staff_id,
        "name": name,
        "hotel_id": hotel_id,
        "role": role,
        "aud": STAFF_AUDIENCE,
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": "staff"})


def verify_staff_token(token: str, credentials: MeshCredentials | None = None) -> StaffIdentity:
    """The staff member a valid, unexpired staff token names; AuthError otherwise."""
    creds = credentials or process_credentials()
    if creds.staff_public_key is None:
        raise AuthError("this service cannot verify staff tokens (no STAFF_TOKEN_PUBLIC_KEY)")
    try:
        claims = _decode(
            token,
            creds.staff_public_keys(),
            algorithms=[ALGORITHM],
            audience=STAFF_AUDIENCE,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("staff token expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid staff token: {type(exc).__name__}") from exc
    role = claims.get("role")
    values = [claims.get(k) for k in ("sub", "name", "hotel_id")]
    if role not in STAFF_ROLES or not all(isinstance(v, str) and v for v in values):
        raise AuthError("staff token lacks staff id, name, hotel or role")
    return StaffIdentity(
        staff_id=claims["sub"],
        name=claims["name"],
        hotel_id=claims["hotel_id"],
        role=role,
        expires_at=int(claims["exp"]),
    )


def staff_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Metadata to pass as `metadata=` on a stub call so it acts as the staff member."""
    return ((STAFF_TOKEN_HEADER, token),)


# --------------------------------------------------------------------------------------------
# Server side: who is calling (set by AuthInterceptor for the duration of one RPC)


_caller: contextvars.ContextVar[str | None] = contextvars.ContextVar("mesh_caller", default=None)
_staff: contextvars.ContextVar[StaffIdentity | None] = contextvars.ContextVar(
    "mesh_staff", default=None
)


def current_caller() -> str | None:
    """The authenticated service calling the RPC being handled (None outside one)."""
    return _caller.get()


def current_staff(context: grpc.aio.ServicerContext | None = None) -> StaffIdentity:
    """The staff member acting in this RPC; PermissionDenied if the call carries none.

    On RPCs marked `staff` in deploy/mesh.yaml the interceptor has already refused calls
    without a valid staff token, so inside them this always returns.
    """
    staff = _staff.get()
    if staff is None:
        raise PermissionDenied("this action needs a staff member's token")
    return staff


def optional_staff() -> StaffIdentity | None:
    """The staff member acting, if the call carries a verified staff token."""
    return _staff.get()


def _metadata_value(metadata: Sequence[tuple[str, Any]] | None, name: str) -> str | None:
    for key, value in metadata or ():
        if key == name:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def _rejecting(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> Any:
    async def abort(_request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(code, message)

    async def abort_stream(_request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await context.abort(code, message)
        yield None  # pragma: no cover - abort raises

    req, resp = handler.request_deserializer, handler.response_serializer
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(abort, req, resp)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(abort, req, resp)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(abort_stream, req, resp)
    return grpc.stream_stream_rpc_method_handler(abort_stream, req, resp)


def _with_identity(handler: grpc.RpcMethodHandler, caller: str, staff: StaffIdentity | None) -> Any:
    """Run the handler with `current_caller()` / `current_staff()` set."""

    async def call(fn: Callable[..., Any], request: Any, context: Any) -> Any:
        tokens = (_caller.set(caller), _staff.set(staff))
        try:
            result = fn(request, context)
            if isinstance(result, Awaitable):
                result = await result
            return result
        finally:
            _staff.reset(tokens[1])
            _caller.reset(tokens[0])

    async def stream(fn: Callable[..., Any], request: Any, context: Any) -> AsyncIterator[Any]:
        tokens = (_caller.set(caller), _staff.set(staff))
        try:
            gen = fn(request, context)
            if isinstance(gen, Awaitable):
                gen = await gen
            if gen is not None:
                async for item in gen:
                    yield item
        finally:
            _staff.reset(tokens[1])
            _caller.reset(tokens[0])

    # Named coroutine / async-generator functions, not lambdas: grpc.aio decides from the
    # function itself whether a handler is async.
    req, resp = handler.request_deserializer, handler.response_serializer
    if handler.unary_unary or handler.stream_unary:
        inner = handler.unary_unary or handler.stream_unary

        async def unary_response(request: Any, context: Any) -> Any:
            return await call(inner, request, context)

        make = (
            grpc.unary_unary_rpc_method_handler
            if handler.unary_unary
            else grpc.stream_unary_rpc_method_handler
        )
        return make(unary_response, req, resp)
    inner_stream = handler.unary_stream or handler.stream_stream

    async def stream_response(request: Any, context: Any) -> AsyncIterator[Any]:
        async for item in stream(inner_stream, request, context):
            yield item

    make_stream = (
        grpc.unary_stream_rpc_method_handler
        if handler.unary_stream
        else grpc.stream_stream_rpc_method_handler
    )
    return make_stream(stream_response, req, resp)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without a valid service token (UNAUTHENTICATED), from a caller the table
    does not allow on that RPC, or without a staff token on a staff RPC (PERMISSION_DENIED)."""

    def __init__(
        self,
        credentials: MeshCredentials | None = None,
        policy: Policy | None = None,
    ):
        self._credentials = credentials
        self.policy = policy or load_policy()

    @property
    def credentials(self) -> MeshCredentials:
        return self._credentials or process_credentials()

    def authorise(
        self, method: str, metadata: Sequence[tuple[str, Any]] | None
    ) -> tuple[str, StaffIdentity | None]:
        """(caller, staff) for an allowed call; raises AuthError / PermissionDenied otherwise."""
        grpc_service = method.rsplit("/", 2)[-2] if method.count("/") >= 2 else ""
        rule = self.policy.rule(method)
        header = _metadata_value(metadata, AUTHORIZATION_HEADER)
        if not header or not header.startswith("Bearer "):
            raise AuthError("this call needs a service token (authorization: Bearer …)")
        caller = verify_service_token(header[7:].strip(), [grpc_service], self.credentials)
        if rule is None or caller not in rule.callers:
            raise PermissionDenied(f"{caller} may not call {method}")
        staff = None
        staff_token = _metadata_value(metadata, STAFF_TOKEN_HEADER)
        if staff_token:
            if caller != self.policy.staff_issuer:
                raise PermissionDenied(f"{caller} may not act for staff")
            staff = verify_staff_token(staff_token, self.credentials)
        elif rule.staff:
            raise PermissionDenied(f"{method} needs a staff token ({STAFF_TOKEN_HEADER})")
        return caller, staff

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        grpc_service = method.rsplit("/", 2)[-2] if method.count("/") >= 2 else ""
        if self.policy.is_open(grpc_service):
            return handler
        try:
            caller, staff = self.authorise(method, handler_call_details.invocation_metadata)
        except ServiceError as exc:
            log.info("rpc_refused", method=method, code=exc.code.name, reason=exc.message)
            return _rejecting(handler, exc.code, exc.message)
        return _with_identity(handler, caller, staff)


# --------------------------------------------------------------------------------------------
# Client side: attach the caller's token to every call made through `dial()`


class _AttachToken:
    def __init__(self, identity: str | None, credentials: MeshCredentials | None):
        self.identity = identity
        self.credentials = credentials

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        grpc_service = method.rsplit("/", 2)[-2] if method.count("/") >= 2 else ""
        metadata = list(details.metadata or [])
        if not any(k == AUTHORIZATION_HEADER for k, _ in metadata):
            creds = self.credentials or process_credentials()
            who = self.identity or creds.identity
            if who and who in creds.private_keys:
                token = cached_service_token(grpc_service, who, creds)
                metadata.append((AUTHORIZATION_HEADER, f"Bearer {token}"))
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout,
            metadata=grpc.aio.Metadata(*metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


class _TokenUnaryUnary(_AttachToken, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _TokenUnaryStream(_AttachToken, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _TokenStreamUnary(_AttachToken, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _TokenStreamStream(_AttachToken, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


def client_interceptors(
    identity: str | None = None, credentials: MeshCredentials | None = None
) -> list[Any]:
    """Interceptors that add `authorization: Bearer <service token>` to every call.

    Without a private key for the identity the call goes out bare (and the server refuses
    it), so a misconfigured client fails loudly at the peer, not silently here.
    """
    return [
        _TokenUnaryUnary(identity, credentials),
        _TokenUnaryStream(identity, credentials),
        _TokenStreamUnary(identity, credentials),
        _TokenStreamStream(identity, credentials),
    ]
