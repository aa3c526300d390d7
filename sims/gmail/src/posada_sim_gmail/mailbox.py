"""One Gmail mailbox in memory: messages, threads, labels and the history log.

Behaviour copied from the API's documented rules: ids are 16 hex digits; history ids grow but
are not contiguous; `history.list` returns the records after `startHistoryId` and answers 404
when that id is older than the oldest record kept; a message joins a thread when it references
a message of that thread (In-Reply-To/References) *and* its subject matches, or when `send` is
given that `threadId` and the same rules hold; sent messages carry `SENT`.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import random
import re
import time
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import Any

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|rv|enc|res)\s*(\[\d+\])?\s*:\s*)+", re.I)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    text = text.strip().replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalized_subject(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", subject or "").strip().lower()


def message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


class MailboxError(Exception):
    def __init__(self, status: int, message: str, reason: str = "invalidArgument"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    label_ids: list[str]
    internal_date_ms: int
    history_id: int
    parsed: Message = field(repr=False)
    subject: str = ""  # decoded (RFC 2047 / UTF-8 headers), as Gmail compares subjects

    def header(self, name: str) -> str:
        v = self.parsed.get(name)
        return str(v) if v is not None else ""


@dataclass
class HistoryRecord:
    id: int
    message_id: str
    thread_id: str
    label_ids: list[str]


class Mailbox:
    def __init__(self, address: str, *, history_keep: int = 5000):
        self.address = address.lower()
        self.history_keep = history_keep
        self.messages: dict[str, StoredMessage] = {}
        self.order: list[str] = []  # insertion order
        self.history: list[HistoryRecord] = []
        self._rng = random.Random()
        self._next_id = self._rng.randrange(0x18C0000000000000, 0x19F0000000000000)
        self.history_id = self._rng.randrange(1_000_000, 5_000_000)
        self.floor_history_id = self.history_id  # ids below this have been pruned
        self.by_rfc_id: dict[str, str] = {}  # Message-ID header → message id

    # --- ids ---------------------------------------------------------------------------
    def _new_id(self) -> str:
        self._next_id += self._rng.randrange(0x1000, 0x90000)
        return f"{self._next_id:016x}"

    def _bump_history(self) -> int:
        self.history_id += self._rng.randrange(1, 8)
        return self.history_id

    # --- adding ------------------------------------------------------------------------
    def _thread_for(self, parsed: Message, subject_text: str, thread_id: str = "") -> str:
        subject = normalized_subject(subject_text)
        refs = message_ids(str(parsed.get("References", ""))) + message_ids(
            str(parsed.get("In-Reply-To", ""))
        )
        candidates = []
        for ref in refs:
            mid = self.by_rfc_id.get(ref.lower())
            if mid:
                candidates.append(self.messages[mid])
        if thread_id:
            candidates = [c for c in candidates if c.thread_id == thread_id] or [
                self.messages[m]
                for m in self.order
                if self.messages[m].thread_id == thread_id and not refs
            ]
        for cand in reversed(candidates):
            if normalized_subject(cand.subject) == subject:
                return cand.thread_id
        return ""

    def add(self, raw: bytes, label_ids: list[str], thread_id: str = "") -> StoredMessage:
        if not raw or b":" not in raw[:2000]:
            raise MailboxError(400, "Invalid raw message: no RFC 822 headers", "invalidArgument")
        parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
        if thread_id and not any(m.thread_id == thread_id for m in self.messages.values()):
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        mid = self._new_id()
        subject = decoded_subject(raw)
        tid = self._thread_for(parsed, subject, thread_id) or mid
        hid = self._bump_history()
        msg = StoredMessage(
            id=mid,
            thread_id=tid,
            raw=raw,
            label_ids=list(dict.fromkeys(label_ids)),
            internal_date_ms=int(time.time() * 1000),
            history_id=hid,
            parsed=parsed,
            subject=subject,
        )
        self.messages[mid] = msg
        self.order.append(mid)
        rfc = str(parsed.get("Message-ID", "")).strip().lower()
        if rfc:
            self.by_rfc_id.setdefault(rfc, mid)
        self.history.append(HistoryRecord(hid, mid, tid, list(msg.label_ids)))
        self._prune()
        return msg

    def _prune(self) -> None:
        extra = len(self.history) - self.history_keep
        if extra > 0:
            self.floor_history_id = self.history[extra - 1].id + 1
            del self.history[:extra]

    def expire_history(self) -> None:
        """Forget every history record (what happens to ids older than about a week)."""
        self._bump_history()
        self.history.clear()
        self.floor_history_id = self.history_id

    # --- reading -----------------------------------------------------------------------
    def get(self, mid: str) -> StoredMessage:
        msg = self.messages.get(mid)
        if msg is None:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        return msg

    def list_history(
        self, start: int, *, label_id: str = "", max_results: int = 100, page_token: str = ""
    ) -> dict[str, Any]:
        if start < self.floor_history_id - 1 or start > self.history_id:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        records = [h for h in self.history if h.id > start]
        if label_id:
            records = [h for h in records if label_id in h.label_ids]
        offset = int(page_token) if page_token.isdigit() else 0
        page = records[offset : offset + max_results]
        out: dict[str, Any] = {"historyId": str(self.history_id)}
        if page:
            out["history"] = [
                {
                    "id": str(h.id),
                    "messages": [{"id": h.message_id, "threadId": h.thread_id}],
                    "messagesAdded": [
                        {
                            "message": {
                                "id": h.message_id,
                                "threadId": h.thread_id,
                                "labelIds": h.label_ids,
                            }
                        }
                    ],
                }
                for h in page
            ]
        if offset + max_results < len(records):
            out["nextPageToken"] = str(offset + max_results)
        return out

    def search(self, q: str, label_ids: list[str]) -> list[StoredMessage]:
        """Newest first, like Gmail. Supports in:, label:, from:, to:, subject:,
        rfc822msgid:, newer_than:Nd/h; other words must appear in the message."""
        msgs = [self.messages[m] for m in reversed(self.order)]
        for label in label_ids:
            msgs = [m for m in msgs if label in m.label_ids]
        now_ms = time.time() * 1000
        for token in re.findall(r'\S+:"[^"]*"|\S+', q or ""):
            key, _, value = token.partition(":")
            value = value.strip('"').lower()
            k = key.lower()
            if k in ("in", "label") and value:
                want = value.upper()
                msgs = [m for m in msgs if want in m.label_ids]
            elif k == "from":
                msgs = [m for m in msgs if value in m.header("From").lower()]
            elif k == "to":
                msgs = [m for m in msgs if value in m.header("To").lower()]
            elif k == "subject":
                msgs = [m for m in msgs if value in m.header("Subject").lower()]
            elif k == "rfc822msgid":
                v = value if value.startswith("<") else f"<{value}>"
                msgs = [m for m in msgs if m.header("Message-ID").strip().lower() == v]
            elif k == "newer_than" and value[:-1].isdigit():
                unit = {"d": 86400_000, "h": 3600_000, "m": 30 * 86400_000, "y": 365 * 86400_000}
                span = int(value[:-1]) * unit.get(value[-1], 86400_000)
                msgs = [m for m in msgs if m.internal_date_ms >= now_ms - span]
            else:
                word = token.lower().encode()
                msgs = [m for m in msgs if word in m.raw.lower()]
        return msgs

    def threads(self) -> dict[str, list[StoredMessage]]:
        out: dict[str, list[StoredMessage]] = {}
        for mid in self.order:
            msg = self.messages[mid]
            out.setdefault(msg.thread_id, []).append(msg)
        return out


# --- rendering (users.messages.get) --------------------------------------------------------
def _headers(part: Message) -> list[dict[str, str]]:
    return [{"name": k, "value": re.sub(r"\r?\n[ \t]+", " ", str(v))} for k, v in part.items()]


def _part(part: Message, part_id: str, msg_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.is_multipart():
        children = part.get_payload()
        assert isinstance(children, list)
        out["body"] = {"size": 0}
        out["parts"] = [
            _part(c, f"{part_id}.{i}" if part_id else str(i), msg_id)
            for i, c in enumerate(children)
        ]
        return out
    payload = part.get_payload(decode=True) or b""
    data = payload if isinstance(payload, bytes) else str(payload).encode()
    if out["filename"]:
        out["body"] = {"size": len(data), "attachmentId": f"ANGjdJ_{msg_id}_{part_id or '0'}"}
    else:
        out["body"] = {"size": len(data), "data": b64url(data)} if data else {"size": 0}
    return out


def find_attachment(msg: StoredMessage, attachment_id: str) -> bytes:
    prefix = f"ANGjdJ_{msg.id}_"
    if not attachment_id.startswith(prefix):
        raise MailboxError(404, "Requested entity was not found.", "notFound")
    wanted = attachment_id[len(prefix) :]
    parts = [("", msg.parsed)]
    while parts:
        pid, part = parts.pop()
        if part.is_multipart():
            children = part.get_payload()
            assert isinstance(children, list)
            parts.extend((f"{pid}.{i}" if pid else str(i), c) for i, c in enumerate(children))
        elif (pid or "0") == wanted:
            data = part.get_payload(decode=True) or b""
            return data if isinstance(data, bytes) else str(data).encode()
    raise MailboxError(404, "Requested entity was not found.", "notFound")


def text_of(parsed: Message) -> str:
    """Plain text of a message, for snippets and the mail view."""
    plain = html_part = ""
    for part in parsed.walk():
        if part.is_multipart() or part.get_filename():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("latin-1", "replace")
        ctype = part.get_content_type()
        if ctype == "text/plain" and not plain:
            plain = text
        elif ctype == "text/html" and not html_part:
            html_part = text
    if plain:
        return plain
    stripped = re.sub(r"(?is)<(script|style).*?</\1>", "", html_part)
    stripped = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", stripped)
    return html.unescape(re.sub(r"<[^>]+>", "", stripped))


def render(msg: StoredMessage, fmt: str, metadata_headers: list[str]) -> dict[str, Any]:
    snippet = html.escape(re.sub(r"\s+", " ", text_of(msg.parsed)).strip()[:200])
    out: dict[str, Any] = {
        "id": msg.id,
        "threadId": msg.thread_id,
        "labelIds": msg.label_ids,
        "snippet": snippet,
        "historyId": str(msg.history_id),
        "internalDate": str(msg.internal_date_ms),
        "sizeEstimate": len(msg.raw),
    }
    if fmt == "raw":
        out["raw"] = b64url(msg.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers}
        headers = _headers(msg.parsed)
        if wanted:
            headers = [h for h in headers if h["name"].lower() in wanted]
        out["payload"] = {
            "mimeType": msg.parsed.get_content_type(),
            "headers": headers,
        }
    elif fmt == "full":
        out["payload"] = _part(msg.parsed, "", msg.id)
    return out


def decoded_subject(raw: bytes) -> str:
    try:
        value = email.message_from_bytes(raw, policy=email.policy.default).get("Subject", "")
        return str(value or "")
    except Exception:
        return ""


def addresses(value: str) -> list[str]:
    return [a.lower() for _n, a in getaddresses([value]) if a]


def sender_address(parsed: Message) -> str:
    return parseaddr(str(parsed.get("From", "")))[1].lower()
