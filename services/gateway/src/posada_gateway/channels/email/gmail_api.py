"""A small Gmail API client (REST over aiohttp) for the calls the channel makes.

Access tokens: with a refresh token, `google-auth`'s `Credentials` refreshes them against the
configured token URI (Google's, or the stand-in's) — its HTTP call is blocking, so it runs in a
thread, once at a time; a 401 refreshes and retries once. Without one, a static bearer token is
used (the stand-in's `GMAIL_SIM_TOKEN`). Every call has a timeout; failures become `GmailError`
with Google's status and reason and whether a retry can help.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}


class GmailError(Exception):
    def __init__(self, message: str, *, status: int = 0, reason: str = "", network: bool = False):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.network = network

    @property
    def retryable(self) -> bool:
        return (
            self.network
            or self.status in RETRYABLE_STATUS
            or (self.status == 403 and self.reason in RATE_REASONS)
            or self.status == 401  # token trouble: a later attempt refreshes again
        )


class TokenSource:
    """Bearer tokens for the API: refreshed OAuth access tokens, or one static token."""

    def __init__(
        self,
        *,
        static_token: str = "",
        refresh_token: str = "",
        client_id: str = "",
        client_secret: str = "",
        token_uri: str = "https://oauth2.googleapis.com/token",
        timeout_seconds: float = 10.0,
    ):
        self._static = static_token
        self._creds: Any = None
        self._timeout = timeout_seconds
        self._lock = asyncio.Lock()
        if refresh_token:
            from google.oauth2.credentials import Credentials

            self._creds = Credentials(
                token=None,
                refresh_token=refresh_token,
                client_id=client_id,
                client_secret=client_secret,
                token_uri=token_uri,
                scopes=["https://www.googleapis.com/auth/gmail.modify"],
            )
        elif not static_token:
            raise ValueError("a Gmail refresh token (or a static access token) is required")

    def _refresh_blocking(self) -> None:
        import google.auth.transport.requests
        import requests

        session = requests.Session()
        request = google.auth.transport.requests.Request(session)

        def with_timeout(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", self._timeout)
            return google.auth.transport.requests.Request.__call__(request, *args, **kwargs)

        try:
            self._creds.refresh(with_timeout)
        finally:
            session.close()

    async def token(self, *, force: bool = False) -> str:
        if self._creds is None:
            return self._static
        async with self._lock:
            if force or not self._creds.valid:
                try:
                    await asyncio.to_thread(self._refresh_blocking)
                except Exception as exc:  # RefreshError (invalid_grant), network errors
                    raise GmailError(
                        f"token refresh failed: {type(exc).__name__}: {exc}",
                        status=401,
                        reason="refreshFailed",
                    ) from exc
            return str(self._creds.token)


class GmailClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenSource,
        *,
        base_url: str = "https://gmail.googleapis.com",
        user: str = "me",
        timeout_seconds: float = 10.0,
    ):
        self.session = session
        self.tokens = tokens
        self.base = f"{base_url.rstrip('/')}/gmail/v1/users/{user}"
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.tokens.token(force=attempt == 2)
            try:
                async with self.session.request(
                    method,
                    f"{self.base}/{path}",
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                ) as resp:
                    body: Any = None
                    if resp.content_type == "application/json":
                        body = await resp.json()
                    else:
                        await resp.read()
                    if resp.status == 401 and attempt == 1:
                        continue  # refresh and retry once
                    if resp.status >= 400:
                        err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                        reasons = err.get("errors") or [{}]
                        raise GmailError(
                            f"Gmail {method} {path.split('?')[0]}: {resp.status} "
                            f"{err.get('message', '')}".strip(),
                            status=resp.status,
                            reason=str(reasons[0].get("reason", "")),
                        )
                    return body if isinstance(body, dict) else {}
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise GmailError(
                    f"Gmail {method} {path.split('?')[0]}: {type(exc).__name__}", network=True
                ) from exc
        raise GmailError("unauthorised after refresh", status=401, reason="authError")

    async def profile(self) -> dict[str, Any]:
        return await self._call("GET", "profile")

    async def watch(self, topic: str, label_ids: list[str]) -> dict[str, Any]:
        return await self._call(
            "POST",
            "watch",
            json={"topicName": topic, "labelIds": label_ids, "labelFilterBehavior": "include"},
        )

    async def history_pages(
        self, start_history_id: str, *, label_id: str = "INBOX", page_size: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of history.list after `start_history_id` (all pages, always)."""
        token = ""
        while True:
            params = [
                ("startHistoryId", start_history_id),
                ("historyTypes", "messageAdded"),
                ("maxResults", str(page_size)),
            ]
            if label_id:
                params.append(("labelId", label_id))
            if token:
                params.append(("pageToken", token))
            page = await self._call("GET", "history", params=params)
            yield page
            token = page.get("nextPageToken", "")
            if not token:
                return

    async def list_ids(
        self, *, q: str = "", label_ids: list[str] | None = None, limit: int = 500
    ) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        token = ""
        while len(out) < limit:
            params: list[tuple[str, str]] = [("maxResults", str(min(500, limit - len(out))))]
            if q:
                params.append(("q", q))
            params += [("labelIds", x) for x in label_ids or []]
            if token:
                params.append(("pageToken", token))
            page = await self._call("GET", "messages", params=params)
            out += page.get("messages", [])
            token = page.get("nextPageToken", "")
            if not token:
                break
        return out

    async def get_raw(self, message_id: str) -> tuple[bytes, dict[str, Any]]:
        body = await self._call("GET", f"messages/{message_id}", params={"format": "raw"})
        raw = str(body.get("raw", ""))
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), body

    async def send(self, raw: bytes, thread_id: str = "") -> dict[str, Any]:
        payload: dict[str, Any] = {"raw": base64.urlsafe_b64encode(raw).decode()}
        if thread_id:
            payload["threadId"] = thread_id
        return await self._call("POST", "messages/send", json=payload)


def now_ms() -> int:
    return int(time.time() * 1000)
