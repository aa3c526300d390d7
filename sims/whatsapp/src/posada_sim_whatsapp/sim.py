"""Simulator state and behaviour: Meta's side of the WhatsApp Cloud API."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import hashlib
import hmac
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from . import errors, webhooks
from .config import SimConfig
from .errors import GraphError
from .media import Media, base_mime, new_media_id, ogg_is_opus, sha256_b64, sniff
from .remux import RemuxError, webm_to_ogg
from .validate import normalize_to, template_params

MAX_RECORDS = 20_000  # bounded memory for long `make run` sessions


@dataclass
class Guest:
    key: str  # wa_id when known, else the BSUID
    wa_id: str | None
    user_id: str
    name: str
    username: str | None = None
    hide_phone: bool = False
    last_inbound_at: float | None = None
    pair_tokens: float = 0.0
    pair_updated: float = 0.0

    def contact(self, with_bsuid: bool) -> dict:
        profile: dict = {"name": self.name}
        if self.username:
            profile["username"] = self.username
        c: dict = {"profile": profile}
        if self.wa_id and not self.hide_phone:
            c["wa_id"] = self.wa_id
        if with_bsuid or self.hide_phone:
            c["user_id"] = self.user_id
        return c

    def public(self) -> dict:
        return {
            "key": self.key,
            "wa_id": self.wa_id,
            "user_id": self.user_id,
            "name": self.name,
            "username": self.username,
            "hide_phone": self.hide_phone,
            "last_inbound_at": self.last_inbound_at,
        }


@dataclass
class Delivery:
    seq: int
    kind: str
    wamids: list[str]
    payload: Any
    raw: bytes
    state: str = "pending"
    attempts: list[dict] = field(default_factory=list)
    first: asyncio.Future | None = None

    def public(self) -> dict:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "wamids": self.wamids,
            "state": self.state,
            "attempts": self.attempts,
            "payload": self.payload,
        }


@dataclass
class Sent:
    wamid: str
    guest_key: str | None
    to: str | None
    recipient_user_id: str | None
    type: str
    voice: bool
    biz_opaque: str | None
    category: str
    status: str = "accepted"


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._startup = copy.deepcopy(config)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task] = set()
        self.reset_state()

    # ------------------------------------------------------------------ lifecycle
    def reset_state(self) -> None:
        self.outbox: deque[dict] = deque(maxlen=MAX_RECORDS)
        self.deliveries: deque[Delivery] = deque(maxlen=MAX_RECORDS)
        self.events: deque[dict] = deque(maxlen=MAX_RECORDS)
        self.media: dict[str, Media] = {}
        self.guests: dict[str, Guest] = {}
        self.by_user_id: dict[str, str] = {}
        self.inbound_wamids: dict[str, str] = {}  # wamid -> guest key
        self.sent: dict[str, Sent] = {}
        self.faults: list[dict] = []
        self.templates: dict[tuple[str, str], dict] = {}
        self.last_interactive: dict[str, str] = {}  # guest key -> wamid
        self.last_template: dict[str, str] = {}
        self._send_times: deque[float] = deque()
        self._seq = 0
        self._changed = asyncio.Event()

    async def reset(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.config.__dict__.update(copy.deepcopy(self._startup).__dict__)
        self.reset_state()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("simulator not started")
        return self._session

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ guests
    def guest(
        self,
        wa_id: str | None = None,
        name: str | None = None,
        user_id: str | None = None,
        hide_phone: bool = False,
        username: str | None = None,
    ) -> Guest:
        if wa_id:
            wa_id = normalize_to(str(wa_id))
        key = wa_id or user_id
        if not key:
            raise ValueError("a guest needs 'from' (wa_id) or 'user_id'")
        if key not in self.guests and user_id and user_id in self.by_user_id:
            key = self.by_user_id[user_id]
        g = self.guests.get(key)
        if g is None:
            g = Guest(
                key=key,
                wa_id=wa_id,
                user_id=user_id or webhooks.bsuid_for(wa_id or key, self.config.waba_id),
                name=name or f"Guest {(wa_id or key)[-4:]}",
            )
            self.guests[key] = g
            self.by_user_id[g.user_id] = key
        if name:
            g.name = name
        if hide_phone:
            g.hide_phone = True
            g.username = username or g.username or "@" + g.name.lower().replace(" ", "")[:20]
        elif username:
            g.username = username
        return g

    def guest_for_send(self, to: str | None, recipient: str | None) -> Guest | None:
        if to:
            digits = normalize_to(to)
            return self.guests.get(digits) or self.guest(wa_id=digits)
        if recipient:
            key = self.by_user_id.get(recipient)
            return self.guests.get(key) if key else None
        return None

    # ------------------------------------------------------------------ events (chat feed)
    def add_event(self, guest_key: str | None, **event: Any) -> dict:
        event = {"seq": self.next_seq(), "at": time.time(), "guest": guest_key, **event}
        self.events.append(event)
        self.notify()
        return event

    async def wait_events(self, guest_key: str, after: int, wait: float) -> list[dict]:
        deadline = time.monotonic() + max(0.0, min(wait, 10.0))
        while True:
            found = [e for e in self.events if e["seq"] > after and e["guest"] == guest_key]
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            changed = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)

    # ------------------------------------------------------------------ outbox
    def record(self, request_info: dict, status: int, body: Any, **extra: Any) -> dict:
        rec = {
            "seq": self.next_seq(),
            "at": time.time(),
            **request_info,
            "response": {"status": status, "body": body},
            **extra,
        }
        rec.setdefault("warnings", [])
        self.outbox.append(rec)
        self.notify()
        return rec

    def outbox_query(
        self,
        to: str | None = None,
        since: int | None = None,
        endpoint: str | None = None,
        mtype: str | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        out = list(self.outbox)
        if to:
            want = {normalize_to(to), to}
            g = self.guests.get(normalize_to(to)) or self.guests.get(self.by_user_id.get(to, ""))
            if g:
                want |= {g.key, g.user_id}
            out = [r for r in out if r.get("to") in want]
        if since is not None:
            out = [r for r in out if r["seq"] > since]
        if endpoint:
            out = [r for r in out if r.get("endpoint") == endpoint]
        if mtype:
            out = [r for r in out if r.get("type") == mtype]
        if limit:
            out = out[-limit:]
        return out

    # ------------------------------------------------------------------ faults
    def add_fault(self, spec: dict) -> dict:
        code = spec.get("code")
        http_status = spec.get("http_status")
        corrupt = bool(spec.get("corrupt", False))
        if code is None and http_status is None and not corrupt:
            raise ValueError("a fault needs 'code' and/or 'http_status' (or 'corrupt': true)")
        if code is not None:
            code = int(code)
        mode = spec.get("mode") or (errors.default_mode(code) if code is not None else "sync")
        if mode not in ("sync", "async"):
            raise ValueError("mode must be 'sync' or 'async'")
        endpoint = spec.get("endpoint", "messages")
        if endpoint not in ("messages", "media_upload", "media_get", "media_download", "any"):
            raise ValueError("unknown endpoint")
        if corrupt and endpoint != "media_download":
            raise ValueError("'corrupt' applies to endpoint media_download only")
        fault = {
            "id": self.next_seq(),
            "code": code,
            "mode": mode,
            "count": int(spec.get("count", 1)),
            "to": normalize_to(str(spec["to"])) if spec.get("to") else None,
            "endpoint": endpoint,
            "http_status": int(http_status) if http_status is not None else None,
            "delay_ms": int(spec.get("delay_ms", 0)),
            "details": spec.get("details"),
            "include_read": bool(spec.get("include_read", False)),
            # media_download answers 200 with altered bytes (the checksum no longer matches)
            "corrupt": corrupt,
        }
        self.faults.append(fault)
        return fault

    def take_fault(
        self, endpoint: str, to: str | None = None, is_read: bool = False
    ) -> dict | None:
        for fault in self.faults:
            if fault["endpoint"] not in (endpoint, "any"):
                continue
            if is_read and not fault["include_read"]:
                continue  # read receipts only consume faults that ask for it
            if fault["to"] and fault["to"] != to:
                continue
            if fault["count"] > 0:
                fault["count"] -= 1
            if fault["count"] == 0:
                self.faults.remove(fault)
            return fault
        return None

    # ------------------------------------------------------------------ media
    def store_media(
        self, data: bytes, mime: str, origin: str, filename: str | None = None
    ) -> Media:
        m = Media(id=new_media_id(), data=data, mime_type=mime, origin=origin, filename=filename)
        self.media[m.id] = m
        return m

    def store_guest_media(self, data: bytes, mime: str, filename: str | None = None) -> Media:
        """Media a guest sends. Browser recordings in WebM/Opus are repackaged as OGG/Opus, the
        format of real WhatsApp voice notes; if that fails the file is kept with its own type."""
        bm = base_mime(mime) or (sniff(data) or "application/octet-stream")
        if bm in ("audio/webm", "video/webm") or (
            bm.startswith("audio/") and sniff(data) == "audio/webm"
        ):
            try:
                data = webm_to_ogg(data)
                mime = "audio/ogg; codecs=opus"
                if filename:
                    filename = filename.rsplit(".", 1)[0] + ".ogg"
            except RemuxError:
                pass
        elif bm == "audio/ogg" and "codecs" not in mime:
            mime = "audio/ogg; codecs=opus" if ogg_is_opus(data) else mime
        return self.store_media(data, mime, "guest", filename)

    def live_media(self, media_id: str) -> Media | None:
        m = self.media.get(media_id)
        if m is None or m.deleted or m.expires_at < time.time():
            return None
        return m

    def media_url(self, origin: str, m: Media) -> str:
        ext = int(time.time() + self.config.media_url_ttl_s)
        sig = self._url_hash(m.id, ext)
        return f"{origin}/whatsapp_business/attachments/?mid={m.id}&ext={ext}&hash={sig}"

    def _url_hash(self, mid: str, ext: int) -> str:
        mac = hmac.new(self.config.access_token.encode(), f"{mid}:{ext}".encode(), hashlib.sha256)
        return "AT" + base64.urlsafe_b64encode(mac.digest()[:18]).decode()

    def check_media_url(self, mid: str, ext: str, sig: str) -> Media | None:
        try:
            expiry = int(ext)
        except ValueError:
            return None
        if not hmac.compare_digest(self._url_hash(mid, expiry), sig):
            return None
        if time.time() > expiry:
            return None
        return self.live_media(mid)

    # ------------------------------------------------------------------ webhooks
    def wrap(self, value: dict) -> dict:
        c = self.config
        return webhooks.envelope(c.waba_id, c.display_phone_number, c.phone_number_id, value)

    def deliver(
        self,
        payload: Any,
        kind: str,
        wamids: list[str],
        raw: bytes | None = None,
        retries: bool = True,
        signature: str = "valid",
    ) -> Delivery:
        raw = raw if raw is not None else webhooks.serialise(payload)
        d = Delivery(self.next_seq(), kind, wamids, payload, raw)
        d.first = asyncio.get_running_loop().create_future()
        self.deliveries.append(d)
        self.spawn(self._deliver(d, retries, signature))
        return d

    async def _deliver(self, d: Delivery, retries: bool, signature: str) -> None:
        c = self.config
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "valid":
            headers["X-Hub-Signature-256"] = webhooks.sign(c.app_secret, d.raw)
            # Graph webhooks also carry the legacy SHA-1 header; verify the SHA-256 one.
            headers["X-Hub-Signature"] = webhooks.sign_sha1(c.app_secret, d.raw)
        elif signature == "invalid":
            headers["X-Hub-Signature-256"] = webhooks.sign(c.app_secret + "-wrong", d.raw)
        attempts = max(1, c.webhook_max_attempts if retries else 1)
        try:
            for n in range(attempts):
                if n:
                    await asyncio.sleep(c.webhook_retry_base_ms / 1000 * (2 ** (n - 1)))
                attempt: dict = {"at": time.time(), "status": None, "error": None}
                try:
                    async with self.session.post(
                        c.webhook_url,
                        data=d.raw,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=c.webhook_timeout_s),
                    ) as resp:
                        await resp.read()
                        attempt["status"] = resp.status
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    attempt["error"] = f"{type(exc).__name__}: {exc}"
                attempt["ms"] = round((time.time() - attempt["at"]) * 1000, 1)
                d.attempts.append(attempt)
                if d.first is not None and not d.first.done():
                    d.first.set_result(attempt)
                if attempt["status"] == 200:
                    d.state = "delivered"
                    return
            d.state = "gave_up"
        finally:
            if d.first is not None and not d.first.done():
                d.first.set_result({"status": None, "error": "cancelled"})
            if d.state == "pending":
                d.state = "gave_up"
            self.notify()

    # ------------------------------------------------------------------ inbound (guest → business)
    def _media_object(self, spec: dict, kind: str, origin_url: str | None) -> dict:
        media_id = spec.get("media_id") or spec.get("id")
        if media_id:
            m = self.live_media(str(media_id))
            if m is None:
                raise ValueError(f"unknown media id {media_id!r}")
        elif spec.get("data_base64"):
            try:
                data = base64.b64decode(spec["data_base64"], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("data_base64 is not valid base64") from None
            mime = spec.get("mime_type") or sniff(data) or "application/octet-stream"
            m = self.store_guest_media(data, mime, spec.get("filename"))
        else:
            raise ValueError(f"{kind} needs 'media_id' or 'data_base64'")
        obj: dict = {"mime_type": m.mime_type, "sha256": sha256_b64(m.data), "id": m.id}
        if origin_url:
            obj["url"] = self.media_url(origin_url, m)
        return obj

    def build_message(self, spec: dict, origin_url: str | None = None) -> tuple[Guest, dict]:
        g = self.guest(
            wa_id=spec.get("from"),
            name=spec.get("name"),
            user_id=spec.get("user_id"),
            hide_phone=bool(spec.get("hide_phone")),
            username=spec.get("username"),
        )
        mtype = spec.get("type", "text")
        wamid = spec.get("id") or webhooks.new_wamid(g.wa_id or g.user_id)
        ts = str(int(spec.get("timestamp") or time.time()))
        msg: dict = {}
        if g.wa_id and not g.hide_phone:
            msg["from"] = g.wa_id
        if self.config.bsuid or g.hide_phone:
            msg["from_user_id"] = g.user_id
        msg["id"] = wamid
        msg["timestamp"] = ts
        context = spec.get("context")
        include_url = origin_url if spec.get("include_url") else None

        def reply_context(last: dict[str, str]) -> dict | None:
            if context is not None:
                return None
            target = last.get(g.key)
            return {"from": self.config.display_phone_number, "id": target} if target else None

        if mtype == "text":
            body = spec.get("text")
            if isinstance(body, dict):
                body = body.get("body")
            if not isinstance(body, str) or not body:
                raise ValueError("text needs a non-empty 'text'")
            msg.update(type="text", text={"body": body})
        elif mtype in ("audio", "voice"):
            media = spec.get("audio") or spec.get("voice") or {}
            obj = self._media_object(media, "audio", include_url)
            voice = media.get("voice", mtype == "voice")
            if mtype == "audio" and "voice" not in media:
                voice = base_mime(obj["mime_type"]) == "audio/ogg"
            obj["voice"] = bool(voice)
            msg.update(type="audio", audio=obj)
        elif mtype in ("image", "video", "sticker", "document"):
            media = spec.get(mtype) or {}
            obj = self._media_object(media, mtype, include_url)
            if mtype in ("image", "video", "document") and media.get("caption"):
                obj = {"caption": media["caption"], **obj}
            if mtype == "document":
                obj = {"filename": media.get("filename") or "document", **obj}
            if mtype == "sticker":
                obj["animated"] = bool(media.get("animated", False))
            msg.update(type=mtype, **{mtype: obj})
        elif mtype == "location":
            loc = spec.get("location") or {}
            try:
                out = {"latitude": float(loc["latitude"]), "longitude": float(loc["longitude"])}
            except (KeyError, TypeError, ValueError):
                raise ValueError("location needs numeric latitude and longitude") from None
            for key in ("name", "address", "url"):
                if loc.get(key):
                    out[key] = loc[key]
            msg.update(type="location", location=out)
        elif mtype in ("button_reply", "list_reply"):
            reply = spec.get(mtype) or {}
            if not reply.get("id") or not reply.get("title"):
                raise ValueError(f"{mtype} needs 'id' and 'title'")
            rep = {"id": str(reply["id"]), "title": str(reply["title"])}
            if mtype == "list_reply" and reply.get("description"):
                rep["description"] = str(reply["description"])
            ctx = reply_context(self.last_interactive)
            if ctx:
                msg = {"context": ctx, **msg}
            msg.update(type="interactive", interactive={"type": mtype, mtype: rep})
        elif mtype == "button":
            button = spec.get("button") or {}
            text = button.get("text") or button.get("payload")
            if not text:
                raise ValueError("button needs 'text' (and usually 'payload')")
            ctx = reply_context(self.last_template)
            if ctx:
                msg = {"context": ctx, **msg}
            msg.update(type="button", button={"payload": button.get("payload", text), "text": text})
        elif mtype == "reaction":
            reaction = spec.get("reaction") or {}
            if not reaction.get("message_id"):
                raise ValueError("reaction needs 'message_id'")
            rx: dict = {"message_id": reaction["message_id"]}
            if reaction.get("emoji") is not None:
                rx["emoji"] = reaction["emoji"]
            msg.update(type="reaction", reaction=rx)
        elif mtype == "unsupported":
            uns = spec.get("unsupported") or {"type": "poll_creation"}
            msg.update(
                type="unsupported",
                errors=[
                    {
                        "code": 131051,
                        "title": "Message type unknown",
                        "message": "Message type unknown",
                        "error_data": {"details": "Message type is currently not supported."},
                    }
                ],
                unsupported={"type": uns.get("type", "poll_creation")},
            )
        elif mtype == "system":
            system = spec.get("system") or {}
            msg.update(
                type="system",
                system={
                    "body": system.get("body", "User changed their number"),
                    "type": system.get("type", "user_changed_number"),
                    **({"wa_id": system["new_wa_id"]} if system.get("new_wa_id") else {}),
                },
            )
        else:
            raise ValueError(f"unknown inbound type {mtype!r}")
        if context is not None:
            if not isinstance(context, dict):
                raise ValueError("context must be an object")
            ctx = dict(context)
            if "id" in ctx:
                ctx.setdefault("from", self.config.display_phone_number)
            msg = {"context": ctx, **msg}
        if spec.get("referral"):
            msg["referral"] = spec["referral"]
        return g, msg

    def inbound(
        self, specs: list[dict], origin_url: str | None = None, wait_hint: bool = True
    ) -> tuple[Delivery, list[str]]:
        """Build one webhook for one or several guest messages and post it."""
        built = [self.build_message(spec, origin_url) for spec in specs]
        contacts: list[dict] = []
        seen: set[str] = set()
        for g, _ in built:
            if g.key not in seen:
                seen.add(g.key)
                contacts.append(g.contact(self.config.bsuid))
        payload = self.wrap({"contacts": contacts, "messages": [m for _, m in built]})
        wamids = []
        for g, msg in built:
            wamids.append(msg["id"])
            if msg["type"] != "system":
                g.last_inbound_at = float(msg["timestamp"])
            self.inbound_wamids[msg["id"]] = g.key
            self.add_event(g.key, dir="in", wamid=msg["id"], type=msg["type"], message=msg)
        d = self.deliver(payload, "message", wamids)
        return d, wamids

    # ------------------------------------------------------------------ outbound (business → guest)
    def check_rate_limits(self, g: Guest | None) -> None:
        c = self.config
        if not c.rate_limits:
            return
        now = time.monotonic()
        while self._send_times and now - self._send_times[0] > 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= c.throughput_mps:
            raise GraphError(130429)
        if g is not None:
            rate = 1.0 / c.pair_period_s
            if g.pair_updated == 0.0:
                g.pair_tokens = float(c.pair_burst)
            else:
                g.pair_tokens = min(
                    float(c.pair_burst), g.pair_tokens + (now - g.pair_updated) * rate
                )
            g.pair_updated = now
            if g.pair_tokens < 1.0:
                raise GraphError(131056)
            g.pair_tokens -= 1.0
        self._send_times.append(now)

    def accept_send(self, body: dict, mtype: str, fault: dict | None) -> tuple[dict, Sent]:
        to = body.get("to")
        recipient = body.get("recipient")
        g = self.guest_for_send(to, recipient)
        self.check_rate_limits(g)
        wamid = webhooks.new_wamid(g.wa_id if g else None)
        content = body.get(mtype) or {}
        category = "service"
        if mtype == "template":
            category = "utility"
        sent = Sent(
            wamid=wamid,
            guest_key=g.key if g else None,
            to=g.wa_id if g else None,
            recipient_user_id=g.user_id if g else recipient,
            type=mtype,
            voice=mtype == "audio" and bool(content.get("voice")),
            biz_opaque=body.get("biz_opaque_callback_data"),
            category=category,
        )
        self.sent[wamid] = sent
        contact: dict = {"input": to or recipient}
        if to:
            contact["wa_id"] = normalize_to(to)
        if recipient and not to:
            contact["user_id"] = recipient  # sent to a BSUID (reference §7.1)
        message: dict = {"id": wamid}
        if mtype == "template":
            message["message_status"] = "accepted"
        response = {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}
        if g is not None:
            if mtype == "interactive":
                self.last_interactive[g.key] = wamid
            if mtype == "template":
                self.last_template[g.key] = wamid
            self.add_event(
                g.key, dir="out", wamid=wamid, type=mtype, message=body, status="accepted"
            )
        # What happens next: a failed status for async faults / closed window / bad reaction,
        # else the normal sent → delivered → read (→ played) sequence.
        failure: tuple[int, str | None] | None = None
        if fault is not None and fault["mode"] == "async" and fault["code"] is not None:
            failure = (fault["code"], fault.get("details"))
        elif (
            self.config.enforce_window
            and mtype != "template"
            and g is not None
            and (g.last_inbound_at is None or time.time() - g.last_inbound_at > 86400)
        ):
            failure = (131047, None)
        elif (
            mtype == "reaction"
            and content.get("message_id") not in self.inbound_wamids
            and content.get("message_id") not in self.sent
        ):
            failure = (131009, "The reaction's message_id does not reference a known message.")
        if failure is not None or self.config.auto_statuses:
            self.spawn(self._status_sequence(sent, failure))
        return response, sent

    def status_payload(self, sent: Sent, status: str, error: dict | None = None) -> dict:
        st: dict = {"id": sent.wamid, "status": status, "timestamp": webhooks.now_ts()}
        g = self.guests.get(sent.guest_key or "")
        if sent.to and not (g and g.hide_phone):
            st["recipient_id"] = sent.to
        if sent.recipient_user_id and (self.config.bsuid or not sent.to):
            st["recipient_user_id"] = sent.recipient_user_id
        if sent.biz_opaque:
            st["biz_opaque_callback_data"] = sent.biz_opaque
        if status in ("sent", "delivered"):
            st["pricing"] = {
                "billable": sent.category != "service",
                "pricing_model": "PMP",
                "type": "free_customer_service" if sent.category == "service" else "regular",
                "category": sent.category,
            }
        if error is not None:
            st["errors"] = [error]
        return self.wrap({"statuses": [st]})

    def post_status(self, sent: Sent, status: str, error: dict | None = None) -> Delivery:
        sent.status = status
        self.add_event(
            sent.guest_key,
            dir="status",
            wamid=sent.wamid,
            status=status,
            errors=[error] if error else None,
        )
        return self.deliver(self.status_payload(sent, status, error), "status", [sent.wamid])

    async def _status_sequence(self, sent: Sent, failure: tuple[int, str | None] | None) -> None:
        delay = self.config.status_delay_ms / 1000
        await asyncio.sleep(delay)
        if failure is not None:
            self.post_status(sent, "failed", errors.status_error(failure[0], failure[1]))
            return
        self.post_status(sent, "sent")
        if sent.type == "reaction":
            return  # reactions only ever produce `sent` (reference §6)
        for status in ("delivered", "read") + (("played",) if sent.voice else ()):
            await asyncio.sleep(delay)
            self.post_status(sent, status)

    def template_summary(self, body: dict) -> dict:
        tpl = body.get("template") or {}
        params, buttons = template_params(tpl)
        return {"params": params, "buttons": buttons}
