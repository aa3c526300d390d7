"""Talk to the mesh the way a guest does: through the WhatsApp simulator, behind Envoy."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from typing import Any


class Guest:
    """One WhatsApp guest driving the simulator's control API through Envoy's public listener."""

    def __init__(self, public_url: str, wa_id: str, name: str = "Guest"):
        self.base = public_url.rstrip("/") + "/sim"
        self.wa_id = wa_id
        self.name = name
        self.seen_seq = 0

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read() or b"null")

    def outbox(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call("GET", f"/outbox?to={self.wa_id}&since={since}&endpoint=messages")

    def send(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/inbound", {"from": self.wa_id, "name": self.name, **spec})

    def say(self, text: str, **extra: Any) -> dict[str, Any]:
        return self.send({"type": "text", "text": text, **extra})

    def replies_after(
        self, since: int, *, settle: float = 1.0, timeout: float = 45.0
    ) -> list[dict[str, Any]]:
        """Agent messages sent after `since`, once they stop arriving for `settle` seconds."""
        deadline = time.monotonic() + timeout
        got: list[dict[str, Any]] = []
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            now = [e for e in self.outbox(since) if e.get("type") not in (None, "read")]
            if len(now) != len(got):
                got, last_change = now, time.monotonic()
            if got and time.monotonic() - last_change >= settle:
                break
            time.sleep(0.2)
        if got:
            self.seen_seq = max(self.seen_seq, max(e["seq"] for e in got))
        return got

    def turn(
        self, text: str | None = None, *, spec: dict[str, Any] | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        since = self.last_seq()
        self.send(spec) if spec is not None else self.say(text or "")
        return self.replies_after(since, **kw)

    def voice_turn(self, ogg_opus: bytes, timeout: float = 90.0) -> list[dict[str, Any]]:
        """Send a recorded voice note (as WhatsApp does: OGG/Opus) and wait for the answer."""
        audio = {
            "data_base64": base64.b64encode(ogg_opus).decode(),
            "mime_type": "audio/ogg; codecs=opus",
        }
        return self.turn(spec={"type": "voice", "audio": audio}, timeout=timeout)

    def last_seq(self) -> int:
        box = self._call("GET", "/outbox?limit=1")
        return max([e["seq"] for e in box] + [self.seen_seq])


def text_of(entry: dict[str, Any]) -> str:
    """Everything a guest would read in one outbound message (body, buttons, rows)."""
    body = entry.get("body") or {}
    kind = body.get("type")
    parts: list[str] = []
    if kind == "text":
        parts.append(body["text"]["body"])
    elif kind == "interactive":
        inter = body["interactive"]
        parts.append(inter.get("body", {}).get("text", ""))
        action = inter.get("action", {})
        parts += [b["reply"]["title"] for b in action.get("buttons", [])]
        for section in action.get("sections", []):
            parts += [r["title"] + " " + r.get("description", "") for r in section.get("rows", [])]
    elif kind == "template":
        parts.append(json.dumps(body["template"], ensure_ascii=False))
    elif kind == "audio":
        parts.append("[audio]")
    elif kind == "location":
        parts.append(body["location"].get("name", ""))
    return "\n".join(p for p in parts if p)


def choices_of(entry: dict[str, Any]) -> list[dict[str, str]]:
    """Buttons and list rows of an interactive message, as {kind, id, title}."""
    body = entry.get("body") or {}
    if body.get("type") != "interactive":
        return []
    action = body["interactive"].get("action", {})
    out = [
        {"kind": "button_reply", "id": b["reply"]["id"], "title": b["reply"]["title"]}
        for b in action.get("buttons", [])
    ]
    for section in action.get("sections", []):
        out += [
            {"kind": "list_reply", "id": r["id"], "title": r["title"]}
            for r in section.get("rows", [])
        ]
    return out


def tap(
    guest: Guest, replies: list[dict[str, Any]], prefix: str, prefer: str = ""
) -> list[dict[str, Any]]:
    """Tap the first button/row whose id starts with `prefix` (or the one containing `prefer`)."""
    options = [c for r in replies for c in choices_of(r) if c["id"].startswith(prefix)]
    assert options, f"no {prefix!r} choice in {[text_of(r) for r in replies]}"
    choice = next((c for c in options if prefer and prefer in c["id"]), options[0])
    return guest.turn(
        spec={
            "type": choice["kind"],
            choice["kind"]: {"id": choice["id"], "title": choice["title"]},
        }
    )
