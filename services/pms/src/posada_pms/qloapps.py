"""Async client for the QloApps webservice (`/api/...`), built on aiohttp.

What it takes care of, so the service code above it does not:

* key auth (HTTP Basic, key as user, empty password) and `output_format=JSON` (upper case;
  anything else silently gives XML), `language=<id>` on generic reads so i18n fields come back
  as plain strings;
* XML bodies where QloApps demands them (`hotel_ari`, every generic resource such as
  `order_histories`), JSON for the `bookings` resource, which accepts it;
* tolerant parsing: an empty list comes back as a bare `[]`, an unknown id as 404 with an
  empty body, scalars as strings or numbers depending on the PHP version;
* error mapping into a small exception tree (`QloNotFound`, `QloBadRequest`, `QloUnavailable`,
  `QloAuthError`) that the service turns into gRPC codes;
* a timeout on every call, shortened to fit the gRPC caller's deadline (`CALL_DEADLINE`), and retries with exponential backoff and full jitter for
  idempotent calls only (GETs and the read-only `hotel_ari` POST). Writes are never retried
  here: a lost answer to a POST may hide a committed booking, so the booking code looks the
  booking up by its idempotency key instead;
* an optional circuit breaker around every attempt (see `breaker.py`).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from xml.sax.saxutils import escape

import aiohttp

from posada_pms.metrics import QLOAPPS_LATENCY, QLOAPPS_REQUESTS, QLOAPPS_RETRIES

# The gRPC caller's deadline (time.monotonic() value), set per request by the servicer.
CALL_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pms_call_deadline", default=None
)
DEADLINE_MARGIN = 0.3
MIN_ATTEMPT_SECONDS = 0.2


class QloAppsError(Exception):
    """Base of everything the client raises."""


class QloNotFound(QloAppsError):
    """404: unknown id (QloApps answers with an empty body)."""


@dataclass
class QloBadRequest(QloAppsError):
    """4xx with QloApps' `errors` envelope: the request was understood and refused."""

    status: int
    errors: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"QloApps {self.status}: " + "; ".join(f"[{c}] {m}" for c, m in self.errors)

    @property
    def messages(self) -> list[str]:
        return [m for _, m in self.errors]


@dataclass
class QloAuthError(QloAppsError):
    """401/403/405: the key is wrong or lacks a permission (a configuration problem)."""

    status: int
    detail: str = ""

    def __str__(self) -> str:
        return f"QloApps refused the webservice key ({self.status}) {self.detail}".strip()


@dataclass
class QloUnavailable(QloAppsError):
    """QloApps is down, slow or broken (connection refused, timeout, dropped connection, 5xx).

    `maybe_applied` is True when the request may have reached QloApps and been carried out
    (timeout after sending, connection dropped mid-answer, 5xx): for a write this means the
    outcome is unknown and must be looked up, never blindly repeated.
    """

    reason: str
    maybe_applied: bool = True
    status: int = 0

    def __str__(self) -> str:
        return f"QloApps unavailable: {self.reason}"


class QloCircuitOpen(QloUnavailable):
    """The breaker refused the call without contacting QloApps."""

    def __init__(self, reason: str = "circuit breaker open") -> None:
        super().__init__(reason=reason, maybe_applied=False)


class Guard(Protocol):
    """What the client needs from a circuit breaker: an async context manager per attempt."""

    def guard(self) -> Any: ...


def xml_document(node: str, fields: Mapping[str, Any]) -> str:
    """`<qloapps><node>...</node></qloapps>`; nested mappings become elements, lists repeat."""

    def render(name: str, value: Any) -> str:
        if isinstance(value, Mapping):
            inner = "".join(render(k, v) for k, v in value.items())
            return f"<{name}>{inner}</{name}>"
        if isinstance(value, list):
            return "".join(render(name, v) for v in value)
        if value is None:
            return f"<{name}/>"
        return f"<{name}>{escape(str(value))}</{name}>"

    return '<?xml version="1.0" encoding="UTF-8"?>\n<qloapps>' + render(node, fields) + "</qloapps>"


def _errors_of(text: str) -> list[tuple[int, str]]:
    try:
        body = json.loads(text)
    except ValueError:
        return [(0, text.strip()[:300])] if text.strip() else []
    out: list[tuple[int, str]] = []
    if isinstance(body, dict):
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                try:
                    code = int(err.get("code") or 0)
                except (TypeError, ValueError):
                    code = 0
                out.append((code, str(err.get("message", ""))))
    return out


class QloAppsClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        write_timeout: float = 15.0,
        connect_timeout: float = 2.0,
        read_retries: int = 2,
        backoff_base: float = 0.1,
        backoff_max: float = 1.0,
        language_id: int = 1,
        breaker: Guard | None = None,
        max_connections: int = 50,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # HTTP Basic with the key as user and an empty password (docs/external-apis/qloapps.md#authentication).
        token = base64.b64encode(f"{api_key}:".encode()).decode()
        self._auth_header = f"Basic {token}"
        self.timeout = timeout
        self.write_timeout = write_timeout
        self.connect_timeout = connect_timeout
        self.read_retries = read_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.language_id = language_id
        self.breaker = breaker
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                headers={"User-Agent": "posada-pms/0.1", "Authorization": self._auth_header},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # --- reads -----------------------------------------------------------------------------

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, i18n: bool = True
    ) -> Any:
        query = dict(params or {})
        if i18n:
            query.setdefault("language", str(self.language_id))
        return await self.request("GET", path, params=query, idempotent=True)

    async def get_list(
        self, path: str, plural: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """A generic list: `{"plural": [...]}`, or the bare `[]` QloApps sends when empty."""
        body = await self.get(path, params)
        if isinstance(body, dict):
            items = body.get(plural)
            if isinstance(items, list):
                return [i for i in items if isinstance(i, dict)]
            if isinstance(items, dict):  # one element rendered as an object
                return [items]
            return []
        return []

    async def get_one(
        self, path: str, singular: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = await self.get(path, params)
        if isinstance(body, dict) and isinstance(body.get(singular), dict):
            return body[singular]
        if isinstance(body, dict):
            # A `display` parameter on a detail call makes QloApps use the plural key.
            for value in body.values():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    return value[0]
        raise QloNotFound(path)

    async def hotel_ari(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`hotel_ari` is a read done with POST and an XML body: safe to retry."""
        body = await self.request(
            "POST",
            "hotel_ari",
            data=xml_document("hotel_ari", fields),
            content_type="application/xml",
            idempotent=True,
        )
        if isinstance(body, dict):
            for key in ("hotel_ari", "hotel_aris"):
                if key in body:
                    return {key: body[key]}
        return {}

    # --- writes (never retried here) -------------------------------------------------------

    async def post_json(self, path: str, document: Mapping[str, Any]) -> Any:
        return await self.request(
            "POST",
            path,
            data=json.dumps(document),
            content_type="application/json",
            idempotent=False,
        )

    async def put_json(self, path: str, document: Mapping[str, Any]) -> Any:
        return await self.request(
            "PUT",
            path,
            data=json.dumps(document),
            content_type="application/json",
            idempotent=False,
        )

    async def post_xml(self, path: str, node: str, fields: Mapping[str, Any]) -> Any:
        return await self.request(
            "POST",
            path,
            data=xml_document(node, fields),
            content_type="application/xml",
            idempotent=False,
        )

    # --- transport --------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: str | None = None,
        content_type: str | None = None,
        idempotent: bool,
    ) -> Any:
        attempts = 1 + (self.read_retries if idempotent else 0)
        resource = path.split("/", 1)[0] or "index"
        for attempt in range(attempts):
            try:
                return await self._attempt(
                    method, path, resource, params, data, content_type, idempotent
                )
            except QloCircuitOpen:
                raise
            except QloUnavailable:
                if attempt + 1 >= attempts:
                    raise
                QLOAPPS_RETRIES.labels(resource).inc()
                # Full jitter: spread retries of many callers instead of synchronising them.
                cap = min(self.backoff_max, self.backoff_base * (2**attempt))
                await asyncio.sleep(random.uniform(0, cap))
        raise AssertionError("unreachable")

    async def _attempt(
        self,
        method: str,
        path: str,
        resource: str,
        params: Mapping[str, Any] | None,
        data: str | None,
        content_type: str | None,
        idempotent: bool,
    ) -> Any:
        if self.breaker is None:
            return await self._send(method, path, resource, params, data, content_type, idempotent)
        async with self.breaker.guard():
            return await self._send(method, path, resource, params, data, content_type, idempotent)

    async def _send(
        self,
        method: str,
        path: str,
        resource: str,
        params: Mapping[str, Any] | None,
        data: str | None,
        content_type: str | None,
        idempotent: bool,
    ) -> Any:
        session = await self._client()
        query = {"output_format": "JSON", **{k: str(v) for k, v in (params or {}).items()}}
        headers = {"Content-Type": content_type} if content_type else {}
        total = self.timeout if idempotent else self.write_timeout
        deadline = CALL_DEADLINE.get()
        if deadline is not None:
            # Give up before our caller does, leaving it time to hear the answer (and us time
            # to look a lost booking up): a definite answer beats a cancelled call.
            budget = deadline - time.monotonic() - DEADLINE_MARGIN
            if budget < MIN_ATTEMPT_SECONDS:
                raise QloUnavailable(
                    f"{method} {path}: no time left within the caller's deadline",
                    maybe_applied=False,
                )
            total = min(total, budget)
        timeout = aiohttp.ClientTimeout(total=total, connect=self.connect_timeout)
        url = f"{self.base_url}/api/{path}"
        started = time.perf_counter()
        outcome = "error"
        try:
            async with session.request(
                method, url, params=query, data=data, headers=headers, timeout=timeout
            ) as resp:
                text = await resp.text()
                outcome = str(resp.status)
                return self._parse(resp.status, text, path)
        except TimeoutError as exc:
            outcome = "timeout"
            raise QloUnavailable(
                f"{method} {path} timed out after {total}s", maybe_applied=True
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            outcome = "connect_error"
            # Nothing was sent: the request certainly did not happen.
            raise QloUnavailable(
                f"cannot connect to QloApps: {exc.os_error}", maybe_applied=False
            ) from exc
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
        ) as exc:
            outcome = "disconnected"
            raise QloUnavailable(
                f"{method} {path}: connection lost ({type(exc).__name__})", maybe_applied=True
            ) from exc
        except aiohttp.ClientError as exc:
            outcome = "client_error"
            raise QloUnavailable(
                f"{method} {path}: {type(exc).__name__}", maybe_applied=True
            ) from exc
        finally:
            QLOAPPS_REQUESTS.labels(resource, method, outcome).inc()
            QLOAPPS_LATENCY.labels(resource, method).observe(time.perf_counter() - started)

    @staticmethod
    def _parse(status: int, text: str, path: str) -> Any:
        if 200 <= status < 300:
            if not text.strip():
                return None
            try:
                return json.loads(text)
            except ValueError as exc:
                # XML where JSON was asked for, or a PHP notice glued to the body.
                raise QloUnavailable(
                    f"{path}: unparseable answer from QloApps", maybe_applied=True, status=status
                ) from exc
        if status == 404:
            raise QloNotFound(path)
        if status in (401, 403, 405):
            raise QloAuthError(status, "; ".join(m for _, m in _errors_of(text))[:300])
        if 400 <= status < 500:
            raise QloBadRequest(status, _errors_of(text))
        errs = "; ".join(m for _, m in _errors_of(text))[:300]
        raise QloUnavailable(
            f"{path}: HTTP {status} {errs}".strip(), maybe_applied=True, status=status
        )
