"""aiohttp application: Gmail API paths (Google's side), OAuth token and certificate endpoints,
the mail view page and the control API.

The stand-in binds loopback only and is never routed through Envoy's public listener: the
control routes (`/control/*`) and the mail view (`/mail/`) are dev tools.
"""

from __future__ import annotations

import hmac
import secrets
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from importlib import resources
from typing import Any

from aiohttp import web

from .config import SimConfig
from .keys import SigningKey
from .mailbox import (
    Mailbox,
    MailboxError,
    b64url_decode,
    find_attachment,
    normalized_subject,
    render,
    sender_address,
    text_of,
)
from .push import Publisher

STATE: web.AppKey[GmailSim] = web.AppKey("gmail_sim")
USERS = "/gmail/v1/users/{user}"
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
}


class GmailSim:
    """All state of one stand-in (one mailbox)."""

    def __init__(self, config: SimConfig):
        self.config = config
        self.key = SigningKey()
        self.mailbox = Mailbox(config.address, history_keep=config.history_keep)
        self.publisher = Publisher(config, self.key)
        self.tokens: dict[str, float] = {}  # issued access token → expiry (epoch s)
        self.calls: dict[str, int] = {}

    def added(self, label_ids: list[str], history_id: int) -> None:
        if self.publisher.watch_matches(label_ids):
            self.publisher.notify(history_id)


def google_error(status: int, message: str, reason: str = "") -> web.Response:
    reason = reason or {401: "authError", 403: "forbidden", 404: "notFound"}.get(
        status, "invalidArgument"
    )
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": GOOGLE_STATUS.get(status, "UNKNOWN"),
        }
    }
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    return web.json_response(body, status=status, headers=headers if status == 401 else None)


@web.middleware
async def gmail_guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """Bearer token and userId checks for every /gmail/v1 call; Google-style error bodies."""
    if not request.path.startswith("/gmail/v1/"):
        return await handler(request)
    sim = request.app[STATE]
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    ok = bool(token) and (
        hmac.compare_digest(token.encode(), sim.config.sim_token.encode())
        or sim.tokens.get(token, 0) > time.time()
    )
    if not ok:
        return google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
            "authError",
        )
    user = request.match_info.get("user", "me")
    if user != "me" and user.lower() != sim.config.address.lower():
        return google_error(403, "Delegation denied for " + sim.config.address, "forbidden")
    sim.calls[request.match_info.route.name or request.path] = (
        sim.calls.get(request.match_info.route.name or request.path, 0) + 1
    )
    try:
        return await handler(request)
    except MailboxError as exc:
        return google_error(exc.status, exc.message, exc.reason)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise MailboxError(400, "Invalid JSON payload received.") from exc
    if not isinstance(body, dict):
        raise MailboxError(400, "Invalid JSON payload received.")
    return body


def _raw_of(body: dict[str, Any]) -> bytes:
    raw = body.get("raw")
    if not isinstance(raw, str) or not raw:
        raise MailboxError(
            400,
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        )
    try:
        return b64url_decode(raw)
    except ValueError as exc:
        raise MailboxError(400, "Invalid value for ByteString: raw") from exc


# --- Gmail API ----------------------------------------------------------------------------
async def get_profile(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    mb = sim.mailbox
    return web.json_response(
        {
            "emailAddress": sim.config.address,
            "messagesTotal": len(mb.messages),
            "threadsTotal": len(mb.threads()),
            "historyId": str(mb.history_id),
        }
    )


async def watch(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    body = await _json(request)
    topic = body.get("topicName", "")
    if topic != sim.config.topic:
        raise MailboxError(
            400,
            f"Invalid topicName does not match projects/.../topics/...: {topic}"
            if not str(topic).startswith("projects/")
            else f"Resource not found (resource={topic.rsplit('/', 1)[-1]}).",
            "invalidArgument",
        )
    behavior = str(body.get("labelFilterBehavior") or body.get("labelFilterAction") or "include")
    labels = [str(x) for x in body.get("labelIds") or []]
    pub = sim.publisher
    pub.watching = True
    pub.watch_labels = labels if behavior.lower() == "include" else []
    pub.watch_expiration_ms = int((time.time() + sim.config.watch_ttl_s) * 1000)
    pub.notify(sim.mailbox.history_id)  # a successful watch publishes one notification
    return web.json_response(
        {"historyId": str(sim.mailbox.history_id), "expiration": str(pub.watch_expiration_ms)}
    )


async def stop(request: web.Request) -> web.Response:
    request.app[STATE].publisher.watching = False
    return web.Response(status=204)


async def history_list(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    q = request.query
    start = q.get("startHistoryId", "")
    if not start.isdigit():
        raise MailboxError(400, "Invalid startHistoryId")
    try:
        max_results = min(500, max(1, int(q.get("maxResults", "100"))))
    except ValueError as exc:
        raise MailboxError(400, "Invalid maxResults") from exc
    types = q.getall("historyTypes", [])
    if types and "messageAdded" not in types:
        return web.json_response({"historyId": str(sim.mailbox.history_id)})
    return web.json_response(
        sim.mailbox.list_history(
            int(start),
            label_id=q.get("labelId", ""),
            max_results=max_results,
            page_token=q.get("pageToken", ""),
        )
    )


async def messages_list(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    q = request.query
    try:
        max_results = min(500, max(1, int(q.get("maxResults", "100"))))
    except ValueError as exc:
        raise MailboxError(400, "Invalid maxResults") from exc
    msgs = sim.mailbox.search(q.get("q", ""), q.getall("labelIds", []))
    offset = int(q["pageToken"]) if q.get("pageToken", "").isdigit() else 0
    page = msgs[offset : offset + max_results]
    out: dict[str, Any] = {"resultSizeEstimate": len(msgs)}
    if page:
        out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
    if offset + max_results < len(msgs):
        out["nextPageToken"] = str(offset + max_results)
    return web.json_response(out)


async def messages_get(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    fmt = request.query.get("format", "full")
    if fmt not in ("full", "raw", "metadata", "minimal"):
        raise MailboxError(400, f"Invalid value at 'format' ({fmt})")
    msg = sim.mailbox.get(request.match_info["id"])
    return web.json_response(render(msg, fmt, request.query.getall("metadataHeaders", [])))


async def attachment_get(request: web.Request) -> web.Response:
    from .mailbox import b64url

    sim = request.app[STATE]
    msg = sim.mailbox.get(request.match_info["id"])
    data = find_attachment(msg, request.match_info["aid"])
    return web.json_response({"size": len(data), "data": b64url(data)})


async def messages_send(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    body = await _json(request)
    raw = _raw_of(body)
    from email import message_from_bytes, policy

    parsed = message_from_bytes(raw, policy=policy.compat32)
    recipients = [str(v) for k in ("To", "Cc", "Bcc") for v in parsed.get_all(k, [])]
    if not any("@" in r for r in recipients):
        raise MailboxError(400, "Invalid To header", "invalidArgument")
    if parseaddr(str(parsed.get("From", "")))[1].lower() != sim.config.address.lower():
        # Gmail replaces a From it cannot send as with the account's address.
        del parsed["From"]
        parsed["From"] = formataddr((sim.config.display_name, sim.config.address))
        raw = parsed.as_bytes()
    if not parsed.get("Message-ID"):
        parsed["Message-ID"] = make_msgid(domain="mail.gmail.com")
        raw = parsed.as_bytes()
    thread_id = str(body.get("threadId") or "")
    msg = sim.mailbox.add(raw, ["SENT"], thread_id)
    sim.added(msg.label_ids, msg.history_id)
    return web.json_response({"id": msg.id, "threadId": msg.thread_id, "labelIds": msg.label_ids})


async def messages_insert(request: web.Request) -> web.Response:
    """users.messages.insert (labels as given) and .import (delivered like SMTP: INBOX, UNREAD)."""
    sim = request.app[STATE]
    body = await _json(request)
    raw = _raw_of(body)
    imported = request.path.endswith("/import")
    labels = [str(x) for x in body.get("labelIds") or []]
    if imported:
        labels = ["INBOX", "UNREAD", *[x for x in labels if x not in ("INBOX", "UNREAD")]]
    msg = sim.mailbox.add(raw, labels, str(body.get("threadId") or ""))
    sim.added(msg.label_ids, msg.history_id)
    return web.json_response({"id": msg.id, "threadId": msg.thread_id, "labelIds": msg.label_ids})


async def thread_get(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    tid = request.match_info["id"]
    msgs = sim.mailbox.threads().get(tid)
    if not msgs:
        raise MailboxError(404, "Requested entity was not found.", "notFound")
    fmt = request.query.get("format", "full")
    return web.json_response(
        {
            "id": tid,
            "historyId": str(max(m.history_id for m in msgs)),
            "messages": [render(m, fmt, []) for m in msgs],
        }
    )


# --- OAuth --------------------------------------------------------------------------------
async def token(request: web.Request) -> web.Response:
    """OAuth 2.0 token endpoint, refresh_token grant (what google-auth's Credentials call)."""
    sim = request.app[STATE]
    form = await request.post()
    cfg = sim.config

    def err(code: str, desc: str, status: int = 400) -> web.Response:
        return web.json_response({"error": code, "error_description": desc}, status=status)

    if form.get("grant_type") != "refresh_token":
        return err("unsupported_grant_type", "Invalid grant_type: " + str(form.get("grant_type")))
    client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
    if not (
        hmac.compare_digest(client_id.encode(), cfg.client_id.encode())
        and hmac.compare_digest(client_secret.encode(), cfg.client_secret.encode())
    ):
        return err("invalid_client", "The OAuth client was not found.", 401)
    if not hmac.compare_digest(
        str(form.get("refresh_token", "")).encode(), cfg.refresh_token.encode()
    ):
        return err("invalid_grant", "Token has been expired or revoked.")
    access = "ya29.sim-" + secrets.token_urlsafe(32)
    sim.tokens = {t: e for t, e in sim.tokens.items() if e > time.time()}
    sim.tokens[access] = time.time() + cfg.access_token_ttl_s
    return web.json_response(
        {
            "access_token": access,
            "expires_in": cfg.access_token_ttl_s,
            "scope": "https://www.googleapis.com/auth/gmail.modify",
            "token_type": "Bearer",
        }
    )


async def certs_v3(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].key.jwks())


async def certs_v1(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].key.pem_certs())


# --- mail view (a person writes as a guest) -----------------------------------------------
async def root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/mail/")


async def mail_page(_request: web.Request) -> web.Response:
    text = resources.files("posada_sim_gmail").joinpath("static/index.html").read_text()
    return web.Response(text=text, content_type="text/html")


def _view(msg: Any, address: str) -> dict[str, Any]:
    return {
        "id": msg.id,
        "from": msg.header("From"),
        "to": msg.header("To"),
        "subject": msg.subject,
        "date": msg.header("Date"),
        "labels": msg.label_ids,
        "outgoing": sender_address(msg.parsed) == address.lower(),
        "text": text_of(msg.parsed),
    }


async def mail_threads(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    threads = sorted(
        sim.mailbox.threads().items(), key=lambda kv: kv[1][-1].internal_date_ms, reverse=True
    )
    guest = request.query.get("guest", "").lower()
    out = []
    for tid, msgs in threads:
        if guest and not any(
            guest in m.header("From").lower() or guest in m.header("To").lower() for m in msgs
        ):
            continue
        out.append(
            {
                "threadId": tid,
                "subject": msgs[0].subject,
                "messages": [_view(m, sim.config.address) for m in msgs],
            }
        )
    return web.json_response({"address": sim.config.address, "threads": out})


def compose_raw(
    *, from_name: str, from_email: str, to: str, subject: str, text: str, in_reply_to: list[str]
) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((from_name, from_email)) if from_name else from_email
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    domain = from_email.rsplit("@", 1)[-1] or "guest.example"
    msg["Message-ID"] = make_msgid(domain=domain)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to[-1]
        msg["References"] = " ".join(in_reply_to)
    msg.set_content(text)
    return msg.as_bytes()


async def mail_compose(request: web.Request) -> web.Response:
    """A guest writes (or answers in a thread): the e-mail is delivered to the hotel's inbox
    as `messages.import` would, which publishes a push to the gateway."""
    sim = request.app[STATE]
    try:
        body = await _json(request)
    except MailboxError as exc:
        return web.json_response({"error": exc.message}, status=400)
    from_email = str(body.get("from_email", "")).strip()
    text = str(body.get("text", "")).strip()
    if "@" not in from_email or not text:
        return web.json_response({"error": "from_email and text are required"}, status=400)
    subject = str(body.get("subject", "")).strip()
    refs: list[str] = []
    thread_id = str(body.get("thread_id") or "")
    if thread_id:
        msgs = sim.mailbox.threads().get(thread_id)
        if not msgs:
            return web.json_response({"error": "unknown thread"}, status=404)
        refs = [m.header("Message-ID").strip() for m in msgs if m.header("Message-ID")]
        first = msgs[0].subject
        subject = subject or (
            first if normalized_subject(first) != first.lower() else f"Re: {first}"
        )
    raw = compose_raw(
        from_name=str(body.get("from_name", "")).strip(),
        from_email=from_email,
        to=formataddr((sim.config.display_name, sim.config.address)),
        subject=subject or "(no subject)",
        text=text,
        in_reply_to=refs,
    )
    msg = sim.mailbox.add(raw, ["INBOX", "UNREAD"])
    sim.added(msg.label_ids, msg.history_id)
    return web.json_response({"id": msg.id, "threadId": msg.thread_id})


# --- control ------------------------------------------------------------------------------
async def control_config(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    if request.method == "POST":
        changes = await request.json()
        bad = sim.config.update(changes if isinstance(changes, dict) else {})
        if bad:
            return web.json_response({"error": f"not changeable: {', '.join(bad)}"}, status=400)
        sim.mailbox.history_keep = sim.config.history_keep
    return web.json_response(sim.config.public())


async def control_drop_pushes(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    body = await request.json()
    sim.publisher.drop_next = int(body.get("count", 1))
    return web.json_response({"drop_next": sim.publisher.drop_next})


async def control_pushes(request: web.Request) -> web.Response:
    pub = request.app[STATE].publisher
    return web.json_response(
        {
            "published": pub.published,
            "dropped": pub.dropped,
            "watching": pub.watching,
            "watch_expiration": pub.watch_expiration_ms,
            "attempts": [a.__dict__ for a in pub.attempts[-200:]],
        }
    )


async def control_expire_history(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    sim.mailbox.expire_history()
    return web.json_response({"historyId": str(sim.mailbox.history_id)})


async def control_push_token(request: web.Request) -> web.Response:
    """A correctly signed push token, optionally with other claims (tests forge bad ones)."""
    sim = request.app[STATE]
    body = await request.json() if request.can_read_body else {}
    claims = {
        "aud": sim.config.audience,
        "email": sim.config.push_service_account,
        "email_verified": True,
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
        "iss": sim.config.issuer,
        "sub": "100000000000000000001",
        **(body or {}),
    }
    return web.json_response({"token": sim.key.sign(claims), "claims": claims})


async def control_stats(request: web.Request) -> web.Response:
    sim = request.app[STATE]
    sent = [m for m in sim.mailbox.messages.values() if "SENT" in m.label_ids]
    return web.json_response(
        {
            "messages": len(sim.mailbox.messages),
            "sent": len(sent),
            "historyId": str(sim.mailbox.history_id),
            "calls": sim.calls,
        }
    )


def build_app(config: SimConfig) -> web.Application:
    sim = GmailSim(config)
    app = web.Application(middlewares=[gmail_guard], client_max_size=40 * 1024 * 1024)
    app[STATE] = sim
    r = app.router
    r.add_get(f"{USERS}/profile", get_profile, name="getProfile")
    r.add_post(f"{USERS}/watch", watch, name="watch")
    r.add_post(f"{USERS}/stop", stop, name="stop")
    r.add_get(f"{USERS}/history", history_list, name="history_list")
    r.add_get(f"{USERS}/messages", messages_list, name="messages_list")
    r.add_post(f"{USERS}/messages", messages_insert, name="messages_insert")
    r.add_post(f"{USERS}/messages/import", messages_insert, name="messages_import")
    r.add_post(f"{USERS}/messages/send", messages_send, name="messages_send")
    r.add_get(f"{USERS}/messages/{{id}}", messages_get, name="messages_get")
    r.add_get(
        f"{USERS}/messages/{{id}}/attachments/{{aid}}", attachment_get, name="attachments_get"
    )
    r.add_get(f"{USERS}/threads/{{id}}", thread_get, name="threads_get")
    r.add_post("/token", token)
    r.add_get("/oauth2/v3/certs", certs_v3)
    r.add_get("/oauth2/v1/certs", certs_v1)
    r.add_get("/", root)
    r.add_get("/mail/", mail_page)
    r.add_get("/mail/api/threads", mail_threads)
    r.add_post("/mail/api/compose", mail_compose)
    r.add_route("*", "/control/config", control_config)
    r.add_post("/control/drop-pushes", control_drop_pushes)
    r.add_get("/control/pushes", control_pushes)
    r.add_post("/control/expire-history", control_expire_history)
    r.add_post("/control/push-token", control_push_token)
    r.add_get("/control/stats", control_stats)

    async def on_startup(_app: web.Application) -> None:
        await sim.publisher.start()

    async def on_cleanup(_app: web.Application) -> None:
        await sim.publisher.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
