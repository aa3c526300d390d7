"""The console's web application (aiohttp, server-rendered Jinja2 pages, htmx for live parts).

Every page and action checks on the server who is asking: a session (else the login page), the
staff member's hotel (a conversation or task of another hotel is "not found", even by URL), the
role where it matters (only a manager takes a conversation from a colleague or undoes their
task), and the CSRF token on every POST. Pages work as plain forms without JavaScript; htmx
only refreshes the inbox and the open conversation when the server-sent events say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from posada_common.logging import get_logger

from . import i18n, present
from .accounts import Accounts, StaffAccount
from .live import LiveHub, conversation_key
from .mesh_client import MeshClient, MeshError, Staff
from .metrics import ACTIONS, LIVE_STREAMS, LOGINS, REFUSED
from .sessions import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    Session,
    SessionStore,
    cookie_secure,
    csrf_given,
    csrf_ok,
)
from .settings import ConsoleSettings
from .throttle import LoginThrottle

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATES = {
    "handed_off": conv_pb2.CONVERSATION_STATE_HANDED_OFF,
    "bot": conv_pb2.CONVERSATION_STATE_ACTIVE,
}
CHANNELS = {"whatsapp": message_pb2.CHANNEL_WHATSAPP, "email": message_pb2.CHANNEL_GMAIL}
TASK_STATUS = {"open": conv_pb2.TASK_STATUS_OPEN, "done": conv_pb2.TASK_STATUS_DONE, "all": 0}
PUBLIC = ("/login", "/static/", "/healthz", "/oidc/")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


@dataclass
class Console:
    """Everything the handlers share, kept in the aiohttp app."""

    settings: ConsoleSettings
    accounts: Accounts
    sessions: SessionStore
    throttle: LoginThrottle
    mesh: MeshClient
    live: LiveHub
    templates: jinja2.Environment
    oidc: Any = None  # posada_console.oidc.OidcLogin when OIDC is configured

    @property
    def prefix(self) -> str:
        return self.settings.public_prefix


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("session", Session)


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("posada_console", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        present=present,
        conv_pb2=conv_pb2,
        message_pb2=message_pb2,
        conversation_key=conversation_key,
    )
    return env


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def _staff(session: Session) -> Staff:
    return Staff(session.staff_id, session.name, session.hotel_id, session.role)


def _language(request: web.Request) -> str:
    """`?lang=` (the switch link), else the cookie it set, else the browser's languages."""
    chosen = request.query.get("lang")
    return i18n.pick_language(
        chosen if chosen in i18n.LANGUAGES else request.cookies.get(i18n.COOKIE),
        request.headers.get("Accept-Language"),
    )


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    console = _console(request)
    language = _language(request)
    session: Session | None = request.get(SESSION)
    body = console.templates.get_template(template).render(
        t=i18n.translator(language),
        lang=language,
        prefix=console.prefix,
        session=session,
        csrf=session.csrf if session else "",
        csrf_field=CSRF_FIELD,
        request_path=request.path_qs,
        switch_url=_switch_url(request, "en" if language == "es" else "es"),
        events_url=f"{console.prefix}/events?since={int(time.time() * 1000)}",
        oidc=console.oidc is not None,
        **context,
    )
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    if request.query.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            language,
            path=console.prefix,
            samesite="Lax",
            httponly=True,
            secure=cookie_secure(request, console.settings.cookie_secure),
            max_age=365 * 86400,
        )
    return response


def _switch_url(request: web.Request, language: str) -> str:
    query = {k: v for k, v in request.query.items() if k not in ("lang", "e", "d", "m")}
    query["lang"] = language
    return f"{request.path}?{urlencode(query)}"


def _redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def _flash_url(base: str, key: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'e': key})}"


# -- middleware --------------------------------------------------------------------------


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not response.headers.get("Cache-Control"):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def require_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Loads the session; pages without one go to the login page; POSTs need the CSRF token."""
    console = _console(request)
    tail = request.path.removeprefix(console.prefix)
    session = await console.sessions.load(request)
    if session is not None:
        request[SESSION] = session
    if any(tail.startswith(p) for p in PUBLIC):
        return await handler(request)
    if session is None:
        if request.method == "GET" and not request.headers.get("HX-Request"):
            raise _redirect(f"{console.prefix}/login?{urlencode({'next': request.path_qs})}")
        raise web.HTTPUnauthorized(text="log in again\n")
    if request.method not in ("GET", "HEAD") and not csrf_ok(
        session.csrf, await csrf_given(request)
    ):
        log.warning("csrf_refused", path=request.path, staff_id=session.staff_id)
        REFUSED.labels("csrf").inc()
        return render(request, "error.html", status=403, message_key="csrf")
    return await handler(request)


# -- login -------------------------------------------------------------------------------


def _safe_next(console: Console, value: str | None) -> str:
    """Only our own pages are valid targets after login (no open redirect)."""
    if value and value.startswith(console.prefix + "/") and not value.startswith("//"):
        return value
    return console.prefix + "/inbox"


def _client_address(request: web.Request) -> str:
    # Envoy (use_remote_address) sets X-Envoy-External-Address to the real client.
    return request.headers.get("X-Envoy-External-Address") or request.remote or "unknown"


async def login_page(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    token = uuid.uuid4().hex
    response = render(
        request,
        "login.html",
        login_csrf=token,
        next=_safe_next(console, request.query.get("next")),
        error=request.query.get("e", ""),
        minutes=request.query.get("m", ""),
        username="",
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=console.prefix + "/login",
        httponly=True,
        samesite="Strict",
        secure=cookie_secure(request, console.settings.cookie_secure),
        max_age=3600,
    )
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    form = await request.post()
    username = str(form.get("username", "")).strip()[:200]
    password = str(form.get("password", ""))
    next_url = _safe_next(console, str(form.get("next", "")))
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get(CSRF_FIELD, ""))):
        REFUSED.labels("csrf").inc()
        return render(request, "error.html", status=403, message_key="csrf")
    address = _client_address(request)
    wait = await console.throttle.retry_after(username, address)
    if wait:
        log.warning("login_throttled", address=address)
        LOGINS.labels("password", "throttled").inc()
        minutes = max(1, (wait + 59) // 60)
        raise _redirect(f"{console.prefix}/login?{urlencode({'e': 'throttled', 'm': minutes})}")
    account = await console.accounts.authenticate(username, password)
    if account is None:
        await console.throttle.failed(username, address)
        log.info("login_failed", address=address)
        LOGINS.labels("password", "failed").inc()
        raise _redirect(f"{console.prefix}/login?{urlencode({'e': 'failed', 'next': next_url})}")
    await console.throttle.succeeded(username)
    LOGINS.labels("password", "ok").inc()
    return await start_session(request, account, next_url)


async def start_session(
    request: web.Request, account: StaffAccount, next_url: str
) -> web.StreamResponse:
    console = _console(request)
    old = request.get(SESSION)
    if old is not None:
        await console.sessions.destroy(old)
    session = await console.sessions.create(account)
    log.info("login", staff_id=account.staff_id, hotel_id=account.hotel_id, role=account.role)
    response = web.HTTPSeeOther(next_url)
    console.sessions.set_cookie(request, response, session.sid)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=console.prefix + "/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    session: Session = request[SESSION]
    await console.sessions.destroy(session)
    response = web.HTTPSeeOther(f"{console.prefix}/login")
    console.sessions.clear_cookie(response)
    raise response


# -- inbox -------------------------------------------------------------------------------


def _filters(request: web.Request) -> dict[str, str]:
    q = request.query
    return {
        "q": q.get("q", "").strip()[:200],
        "state": q.get("state", "") if q.get("state", "") in STATES else "",
        "channel": q.get("channel", "") if q.get("channel", "") in CHANNELS else "",
        "language": q.get("language", "") if q.get("language", "") in ("es", "en", "pt") else "",
    }


async def _inbox_rows(request: web.Request, filters: dict[str, str]) -> list[Any]:
    console = _console(request)
    rows = await console.mesh.list_conversations(
        _staff(request[SESSION]),
        query=filters["q"],
        state=STATES.get(filters["state"], 0),
        channel=CHANNELS.get(filters["channel"], 0),
        language=filters["language"],
    )
    return present.attention_order(rows)


async def inbox(request: web.Request) -> web.StreamResponse:
    filters = _filters(request)
    try:
        rows = await _inbox_rows(request, filters)
        error = request.query.get("e", "")
    except MeshError as exc:
        rows, error = [], exc.kind
    return render(
        request,
        "inbox.html",
        rows=rows,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        error=error,
    )


async def inbox_rows(request: web.Request) -> web.StreamResponse:
    filters = _filters(request)
    try:
        rows = await _inbox_rows(request, filters)
    except MeshError as exc:
        return render(request, "_flash.html", error=exc.kind)
    return render(request, "_rows.html", rows=rows)


# -- conversation ------------------------------------------------------------------------


async def _load(request: web.Request) -> tuple[Staff, conv_pb2.GetConversationResponse]:
    console = _console(request)
    staff = _staff(request[SESSION])
    cid = request.match_info["cid"]
    try:
        return staff, await console.mesh.get_conversation(staff, cid)
    except MeshError as exc:
        if exc.kind in ("not_found", "invalid", "denied"):
            log.info("conversation_refused", staff_id=staff.staff_id, kind=exc.kind)
            REFUSED.labels("not_found").inc()
            raise web.HTTPNotFound(
                text=render(request, "error.html", message_key="not_found").text,
                content_type="text/html",
            ) from exc
        raise web.HTTPServiceUnavailable(
            text=render(request, "error.html", message_key="down").text,
            content_type="text/html",
        ) from exc


def _may_act(staff: Staff, conversation: conv_pb2.Conversation) -> bool:
    """Agents act on conversations nobody holds or they hold; managers on any."""
    holder = conversation.assigned_to.staff_id
    return staff.is_manager or not holder or holder == staff.staff_id


async def _delivery_errors(
    console: Console, staff: Staff, detail: conv_pb2.GetConversationResponse
) -> dict[str, str]:
    """Why staff replies failed, as the gateway recorded it (message id → provider error)."""
    failed = [
        m
        for m in detail.messages
        if m.author == conv_pb2.AUTHOR_STAFF
        and m.status == message_pb2.DELIVERY_STATUS_FAILED
        and m.provider_message_id
    ][-5:]
    errors: dict[str, str] = {}
    for m in failed:
        status = await console.mesh.delivery(staff, m.provider_message_id)
        if status is not None and status.errors:
            first = status.errors[0]
            errors[m.id] = f"{first.code} {first.title}".strip()
    return errors


async def conversation_page(request: web.Request) -> web.StreamResponse:
    staff, detail = await _load(request)
    return render(
        request,
        "conversation.html",
        detail=detail,
        c=detail.conversation,
        entries=present.timeline(detail),
        may_act=_may_act(staff, detail.conversation),
        delivery_errors=await _delivery_errors(_console(request), staff, detail),
        reply_key=uuid.uuid4().hex,
        note_key=uuid.uuid4().hex,
        error=request.query.get("e", ""),
        detail_text=request.query.get("d", ""),
    )


async def conversation_part(request: web.Request) -> web.StreamResponse:
    """The parts htmx refreshes on a live event: state header or history."""
    staff, detail = await _load(request)
    part = request.match_info["part"]
    if part not in ("state", "history"):
        raise web.HTTPNotFound()
    return render(
        request,
        f"_{part}.html",
        delivery_errors=await _delivery_errors(_console(request), staff, detail),
        detail=detail,
        c=detail.conversation,
        entries=present.timeline(detail),
        may_act=_may_act(staff, detail.conversation),
    )


async def _act(request: web.Request, action: str) -> web.StreamResponse:
    console = _console(request)
    staff, detail = await _load(request)
    c = detail.conversation
    back = f"{console.prefix}/c/{present.path_id(c.conversation_id)}"
    form = await request.post()
    holder = c.assigned_to
    if action != "note" and not _may_act(staff, c):
        ACTIONS.labels(action, "held_by_other").inc()
        raise _redirect(_flash_url(back, "held_by_other"))
    try:
        if action == "take":
            await console.mesh.take_over(staff, c.conversation_id)
        elif action == "release":
            await console.mesh.release(staff, c.conversation_id)
        elif action in ("reply", "note"):
            text = str(form.get("text", "")).strip()
            key = str(form.get("key", ""))[:100] or uuid.uuid4().hex
            if not text:
                raise _redirect(_flash_url(back, "empty_reply"))
            if action == "reply":
                await console.mesh.reply(staff, c.conversation_id, text, f"console:{key}")
            else:
                await console.mesh.add_note(staff, c.conversation_id, text, f"console:{key}")
        else:
            raise web.HTTPNotFound()
    except MeshError as exc:
        log.info("action_failed", action=action, kind=exc.kind)
        ACTIONS.labels(action, exc.kind).inc()
        url = _flash_url(back, exc.kind)
        if exc.kind == "invalid":
            url += "&" + urlencode({"d": exc.detail[:200]})
        raise _redirect(url) from exc
    ACTIONS.labels(action, "ok").inc()
    log.info(
        "staff_action",
        action=action,
        staff_id=staff.staff_id,
        conversation_id=c.conversation_id,
        previous_holder=holder.staff_id,
    )
    raise _redirect(back)


async def take_over(request: web.Request) -> web.StreamResponse:
    return await _act(request, "take")


async def release(request: web.Request) -> web.StreamResponse:
    return await _act(request, "release")


async def reply(request: web.Request) -> web.StreamResponse:
    return await _act(request, "reply")


async def note(request: web.Request) -> web.StreamResponse:
    return await _act(request, "note")


async def media(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    staff, detail = await _load(request)
    mid = request.match_info["mid"]
    if not any(m.id == mid and m.has_media for m in detail.messages):
        raise web.HTTPNotFound()
    try:
        found = await console.mesh.media(staff, detail.conversation.conversation_id, mid)
    except MeshError as exc:
        raise web.HTTPNotFound() from exc
    return web.Response(
        body=found.data,
        content_type=(found.mime_type or "application/octet-stream").split(";")[0],
        headers={"Cache-Control": "private, max-age=3600"},
    )


# -- tasks -------------------------------------------------------------------------------


async def tasks_page(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    staff = _staff(request[SESSION])
    status = request.query.get("status", "open")
    if status not in TASK_STATUS:
        status = "open"
    try:
        tasks = await console.mesh.list_tasks(staff, TASK_STATUS[status])
        error = request.query.get("e", "")
    except MeshError as exc:
        tasks, error = [], exc.kind
    names = await console.accounts.names(staff.hotel_id)
    template = "_tasks.html" if request.headers.get("HX-Request") else "tasks.html"
    return render(request, template, tasks=tasks, tab=status, error=error, names=names, staff=staff)


async def _task_action(request: web.Request, undo: bool) -> web.StreamResponse:
    console = _console(request)
    staff = _staff(request[SESSION])
    task_id = request.match_info["task_id"]
    back = f"{console.prefix}/tasks?status={'done' if undo else 'open'}"
    try:
        # Scope on the console too: the task must be one of this hotel's.
        mine = {t.task_id: t for t in await console.mesh.list_tasks(staff)}
        task = mine.get(task_id)
        if task is None:
            raise _redirect(_flash_url(back, "not_found"))
        if undo:
            if task.completed_by and task.completed_by != staff.staff_id and not staff.is_manager:
                raise _redirect(_flash_url(back, "denied"))
            await console.mesh.reopen_task(staff, task_id)
        else:
            await console.mesh.complete_task(staff, task_id)
    except MeshError as exc:
        raise _redirect(_flash_url(back, exc.kind)) from exc
    ACTIONS.labels("task_undo" if undo else "task_done", "ok").inc()
    log.info("task_action", undo=undo, staff_id=staff.staff_id, task_id=task_id)
    raise _redirect(back)


async def task_done(request: web.Request) -> web.StreamResponse:
    return await _task_action(request, undo=False)


async def task_undo(request: web.Request) -> web.StreamResponse:
    return await _task_action(request, undo=True)


# -- live events -------------------------------------------------------------------------


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events for this staff member's hotel (inbox, tasks, conv-<key>)."""
    console = _console(request)
    staff = _staff(request[SESSION])
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    LIVE_STREAMS.inc()
    try:
        with contextlib.suppress(ConnectionResetError):  # the browser left (navigation, close)
            await response.write(b"retry: 2000\n: connected\n\n")
            async with console.live.subscribe(staff) as queue:
                for name in await console.live.catch_up(staff, _since(request)):
                    await response.write(f"event: {name}\ndata: {{}}\n\n".encode())
                while True:
                    try:
                        names = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        await response.write(b": keep-alive\n\n")
                        continue
                    for name in names:
                        await response.write(f"event: {name}\ndata: {{}}\n\n".encode())
    finally:
        LIVE_STREAMS.dec()
    return response


def _since(request: web.Request) -> dt.datetime:
    """The page's render time (ms since the epoch), a little earlier for clock skew."""
    millis: float
    try:
        millis = int(request.query.get("since", "0"))
    except ValueError:
        millis = 0
    now = time.time() * 1000
    millis = min(max(millis, now - 600_000), now)
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC) - dt.timedelta(seconds=2)


async def healthz(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok\n", headers={"Cache-Control": "no-store"})


async def root(request: web.Request) -> web.StreamResponse:
    raise _redirect(f"{_console(request).prefix}/inbox")


def build_app(console: Console) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, require_session], client_max_size=64 * 1024
    )
    app[CONSOLE] = console
    p = console.prefix
    app.router.add_get(p, root)
    app.router.add_get(p + "/", root)
    app.router.add_get(p + "/healthz", healthz)
    app.router.add_get(p + "/login", login_page)
    app.router.add_post(p + "/login", login_submit)
    app.router.add_post(p + "/logout", logout)
    app.router.add_get(p + "/inbox", inbox)
    app.router.add_get(p + "/inbox/rows", inbox_rows)
    app.router.add_get(p + "/events", events)
    app.router.add_get(p + "/tasks", tasks_page)
    app.router.add_post(p + "/tasks/{task_id}/done", task_done)
    app.router.add_post(p + "/tasks/{task_id}/undo", task_undo)
    app.router.add_get(p + "/c/{cid}", conversation_page)
    app.router.add_get(p + "/c/{cid}/part/{part}", conversation_part)
    app.router.add_get(p + "/c/{cid}/media/{mid}", media)
    app.router.add_post(p + "/c/{cid}/take", take_over)
    app.router.add_post(p + "/c/{cid}/release", release)
    app.router.add_post(p + "/c/{cid}/reply", reply)
    app.router.add_post(p + "/c/{cid}/note", note)
    if console.oidc is not None:
        console.oidc.add_routes(app, p)
    from importlib import resources

    static = resources.files("posada_console") / "static"
    app.router.add_static(p + "/static", str(static), append_version=False)

    async def _close(_app: web.Application) -> None:
        with contextlib.suppress(Exception):
            await console.live.close()

    app.on_shutdown.append(_close)
    return app
