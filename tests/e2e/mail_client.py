"""Write to the hotel as an e-mail guest: the Gmail stand-in's users.messages.import drops the
guest's raw RFC 822 mail into the inbox (the stand-in then pushes to the gateway through
Envoy), and the hotel's answers are read back with users.messages.list/get (`in:sent`)."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from hotelctl.mesh import Mesh

TOKEN = "dev-gmail-token"
HOTEL = "reservas@posada-demo.example"


def standin_base(mesh: Mesh) -> str:
    return f"http://127.0.0.1:{int(mesh.simulators['gmail']['http_port'])}"


def call(base: str, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        raw = reply.read()
        return json.loads(raw) if raw else None


def import_raw(base: str, raw: bytes) -> dict[str, Any]:
    return call(
        base,
        "POST",
        "/gmail/v1/users/me/messages/import",
        {"raw": base64.urlsafe_b64encode(raw).decode()},
    )


class MailGuest:
    """One guest with an address, writing in one thread (or starting new ones)."""

    def __init__(self, base: str, address: str, name: str):
        self.base = base
        self.address = address
        self.name = name
        self.chain: list[str] = []  # Message-IDs of the thread so far
        self.subject = ""
        self.thread_id = ""

    def write(self, text: str, subject: str = "") -> dict[str, Any]:
        msg = EmailMessage()
        msg["From"] = formataddr((self.name, self.address))
        msg["To"] = HOTEL
        if subject or not self.subject:
            self.subject = subject or "Consulta"
            self.chain = []
        msg["Subject"] = self.subject if not self.chain else f"Re: {self.subject}"
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.address.split("@")[1])
        if self.chain:
            msg["In-Reply-To"] = self.chain[-1]
            msg["References"] = " ".join(self.chain)
        msg.set_content(text)
        self.chain.append(str(msg["Message-ID"]))
        added = import_raw(self.base, msg.as_bytes())
        self.thread_id = added["threadId"]
        return added

    def replies(self) -> list[EmailMessage]:
        """The hotel's answers in this guest's current thread, oldest first."""
        if not self.thread_id:
            return []
        thread = call(self.base, "GET", f"/gmail/v1/users/me/threads/{self.thread_id}?format=raw")
        out = []
        for item in thread["messages"]:
            if "SENT" not in item["labelIds"]:
                continue
            raw = base64.urlsafe_b64decode(item["raw"] + "==")
            msg = message_from_bytes(raw, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def turn(self, text: str, subject: str = "", timeout: float = 60.0) -> EmailMessage:
        """Write and wait for the hotel's answer to exactly this e-mail."""
        before = len(self.replies()) if not subject and self.thread_id else 0
        self.write(text, subject)
        sent_id = self.chain[-1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for reply in self.replies()[before:]:
                if str(reply["In-Reply-To"]) == sent_id:
                    self.chain.append(str(reply["Message-ID"]))
                    return reply
            time.sleep(0.2)
        raise AssertionError(f"no reply to {text!r} within {timeout}s")


def body(reply: EmailMessage) -> str:
    part = reply.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def sent_to(base: str, address: str) -> list[str]:
    listed = call(base, "GET", f"/gmail/v1/users/me/messages?q=in:sent%20to:{address}")
    return [m["id"] for m in listed.get("messages", [])]
