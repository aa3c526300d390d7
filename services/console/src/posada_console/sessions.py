"""Server-side sessions in Redis, and the CSRF token that every form and POST must carry.

The browser holds only a random session id in an HttpOnly, SameSite=Lax cookie (Secure when
the request came over TLS); who the staff member is, their hotel and role live in Redis and
expire on their own. Each session has its own CSRF token (synchronizer pattern): forms send it
as a hidden field, htmx as the `X-CSRF-Token` header. A re-login gets a new session id, so a
session id planted before login is worthless.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis
from aiohttp import web

from .accounts import StaffAccount

COOKIE = "posada_console"
LOGIN_CSRF_COOKIE = "posada_console_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Session:
    sid: str
    staff_id: str
    name: str
    hotel_id: str
    role: str
    csrf: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def request_is_tls(request: web.Request) -> bool:
    """True for HTTPS, directly or behind Envoy (which sets X-Forwarded-Proto)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def cookie_secure(request: web.Request, mode: str) -> bool:
    return mode == "always" or (mode == "auto" and request_is_tls(request))


class SessionStore:
    def __init__(self, redis: aioredis.Redis, ttl_seconds: int, cookie_mode: str, path: str):
        self.redis = redis
        self.ttl = ttl_seconds
        self.cookie_mode = cookie_mode
        self.path = path

    @staticmethod
    def _key(sid: str) -> str:
        return f"console:session:{sid}"

    async def create(self, account: StaffAccount) -> Session:
        session = Session(
            sid=secrets.token_urlsafe(32),
            staff_id=account.staff_id,
            name=account.display_name,
            hotel_id=account.hotel_id,
            role=account.role,
            csrf=secrets.token_urlsafe(32),
        )
        data = {k: v for k, v in asdict(session).items() if k != "sid"}
        await self.redis.set(self._key(session.sid), json.dumps(data), ex=self.ttl)
        return session

    async def load(self, request: web.Request) -> Session | None:
        sid = request.cookies.get(COOKIE, "")
        if not sid or len(sid) > 100:
            return None
        raw = await self.redis.get(self._key(sid))
        if raw is None:
            return None
        return Session(sid=sid, **json.loads(raw))

    async def destroy(self, session: Session) -> None:
        await self.redis.delete(self._key(session.sid))

    def set_cookie(self, request: web.Request, response: web.StreamResponse, sid: str) -> None:
        response.set_cookie(
            COOKIE,
            sid,
            max_age=self.ttl,
            path=self.path,
            httponly=True,
            samesite="Lax",
            secure=cookie_secure(request, self.cookie_mode),
        )

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path=self.path)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given or "")


async def csrf_given(request: web.Request) -> str | None:
    """The CSRF token a POST carries: header (htmx) or form field (plain forms)."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
