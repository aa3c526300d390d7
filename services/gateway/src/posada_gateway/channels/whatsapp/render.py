"""Channel-neutral `Reply` → WhatsApp Cloud API message bodies.

WhatsApp's limits (docs/external-apis/whatsapp.md#sending) are enforced here, before anything is sent:

* reply buttons: 1–3, titles ≤ 20 characters and unique, ids ≤ 256 and unique, body ≤ 1024;
* lists: opener label ≤ 20, ≤ 10 rows over all sections, row title ≤ 24, description ≤ 72,
  row id ≤ 200, section title ≤ 24, body ≤ 4096, header ≤ 60, footer ≤ 60;
* text: body ≤ 4096 (longer text is split into several messages at paragraph/sentence breaks).

Decorations (header, footer, row descriptions, the list label) are shortened with "…" when too
long; anything the guest must choose by (button and row titles, ids, counts) is never cut.
When such limits cannot be met, buttons become a list when a list fits, and otherwise both fall
back to numbered text ("1. …"); the choices are returned with the part so the worker can map a
typed number back to the option id.
"""

from __future__ import annotations

import re
from typing import Any

from hotel.channel.v1 import message_pb2 as m

from ..base import Choice, OutboundPart, match_choice

__all__ = [
    "Choice",
    "OutboundPart",
    "match_choice",
    "render_reply",
    "split_text",
    "whatsapp_markdown",
]

TEXT_MAX = 4096
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
BUTTON_BODY_MAX = 1024
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
LIST_LABEL_MAX = 20
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESC_MAX = 72
SECTION_TITLE_MAX = 24
LIST_BODY_MAX = 4096
HEADER_MAX = 60
FOOTER_MAX = 60

# Audio types WhatsApp accepts for upload (docs/external-apis/whatsapp.md#media); anything else is sent as its transcript.
AUDIO_MIME_OK = {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}

_LABELS = {
    "options": {"es": "Ver opciones", "pt": "Ver opções", "en": "See options"},
    "pick": {
        "es": "Responde con el número de tu opción.",
        "pt": "Responda com o número da sua opção.",
        "en": "Reply with the number of your choice.",
    },
}


def _label(name: str, language: str) -> str:
    table = _LABELS[name]
    return table.get((language or "en")[:2].lower(), table["en"])


def whatsapp_markdown(text: str) -> str:
    """Common Markdown (as produced by templates or LLMs) → WhatsApp formatting."""
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text, flags=re.S)
    text = re.sub(r"__(.+?)__", r"_\1_", text, flags=re.S)
    text = re.sub(r"~~(.+?)~~", r"~\1~", text, flags=re.S)
    text = re.sub(r"^#{1,6}\s+(.+)$", r"*\1*", text, flags=re.M)
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"\1 (\2)", text)
    return text


def shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Split at paragraph, line, sentence or word breaks so each chunk fits `limit`."""
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            pos = window.rfind(sep)
            if pos > limit // 3:
                cut = pos + (1 if sep == ". " else 0)
                break
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def _text_parts(body: str, preview_url: bool = False) -> list[OutboundPart]:
    out = []
    for chunk in split_text(whatsapp_markdown(body)):
        payload: dict[str, Any] = {"body": chunk}
        if preview_url:
            payload["preview_url"] = True
        out.append(OutboundPart(kind="text", payload=payload))
    return out


def numbered_text(
    body: str,
    options: list[tuple[str, str, str]],
    language: str,
    header: str = "",
    footer: str = "",
) -> list[OutboundPart]:
    """Numbered-text fallback for buttons or lists: options are (id, title, description)."""
    lines = []
    if header:
        lines.append(f"*{header.strip()}*")
    if body:
        lines.append(body.strip())
    lines.append("")
    for i, (_id, title, desc) in enumerate(options, start=1):
        lines.append(f"{i}. {title.strip()}" + (f" — {desc.strip()}" if desc.strip() else ""))
    lines.append("")
    lines.append(_label("pick", language))
    if footer:
        lines.append(f"_{footer.strip()}_")
    parts = _text_parts("\n".join(lines))
    choices = [Choice(id=i, title=t) for i, t, _d in options]
    for part in parts:
        part.choices = choices
    return parts


def _unique(values: list[str]) -> bool:
    return len(set(values)) == len(values)


def _buttons_fit(buttons: m.ButtonsReply) -> bool:
    titles = [b.title.strip() for b in buttons.buttons]
    ids = [b.id for b in buttons.buttons]
    return (
        1 <= len(buttons.buttons) <= BUTTONS_MAX
        and bool(buttons.body.strip())
        and len(whatsapp_markdown(buttons.body)) <= BUTTON_BODY_MAX
        and all(0 < len(t) <= BUTTON_TITLE_MAX for t in titles)
        and all(0 < len(i) <= BUTTON_ID_MAX for i in ids)
        and _unique(titles)
        and _unique(ids)
    )


def _rows_fit(rows: list[tuple[str, str, str]], body: str, sections: int) -> bool:
    titles = [t.strip() for _i, t, _d in rows]
    ids = [i for i, _t, _d in rows]
    return (
        1 <= len(rows) <= LIST_ROWS_MAX
        and 1 <= sections <= LIST_SECTIONS_MAX
        and bool(body.strip())
        and len(whatsapp_markdown(body)) <= LIST_BODY_MAX
        and all(0 < len(t) <= ROW_TITLE_MAX for t in titles)
        and all(0 < len(i) <= ROW_ID_MAX for i in ids)
        and _unique(ids)
    )


def _decorate(payload: dict[str, Any], header: str, footer: str) -> None:
    if header.strip():
        payload["header"] = {"type": "text", "text": shorten(header, HEADER_MAX)}
    if footer.strip():
        payload["footer"] = {"text": shorten(footer, FOOTER_MAX)}


def _list_payload(
    body: str,
    label: str,
    sections: list[tuple[str, list[tuple[str, str, str]]]],
    header: str,
    footer: str,
) -> dict[str, Any]:
    out_sections = []
    for title, rows in sections:
        sec: dict[str, Any] = {
            "rows": [
                {
                    "id": i,
                    "title": t.strip(),
                    **({"description": shorten(d, ROW_DESC_MAX)} if d.strip() else {}),
                }
                for i, t, d in rows
            ]
        }
        # A section title is required when there are several sections.
        if title.strip() or len(sections) > 1:
            sec["title"] = shorten(title or "·", SECTION_TITLE_MAX)
        out_sections.append(sec)
    payload: dict[str, Any] = {
        "type": "list",
        "body": {"text": whatsapp_markdown(body)},
        "action": {"button": shorten(label, LIST_LABEL_MAX), "sections": out_sections},
    }
    _decorate(payload, header, footer)
    return payload


def render_reply(reply: m.Reply, language: str = "en") -> list[OutboundPart]:
    """Render one reply; an empty reply renders to nothing."""
    which = reply.WhichOneof("content")
    if which == "text":
        if not reply.text.body.strip():
            return []
        return _text_parts(reply.text.body, reply.text.preview_url)
    if which == "buttons":
        return _render_buttons(reply.buttons, language)
    if which == "list":
        return _render_list(reply.list, language)
    if which == "audio":
        audio = reply.audio
        mime = audio.mime_type.split(";")[0].strip().lower()
        if audio.data and mime in AUDIO_MIME_OK:
            return [
                OutboundPart(
                    kind="audio",
                    audio=bytes(audio.data),
                    audio_mime=audio.mime_type or mime,
                    fallback_text=audio.transcript,
                )
            ]
        return _text_parts(audio.transcript) if audio.transcript.strip() else []
    if which == "location":
        loc = reply.location
        payload: dict[str, Any] = {"latitude": loc.latitude, "longitude": loc.longitude}
        if loc.name:
            payload["name"] = loc.name
        if loc.address:
            payload["address"] = loc.address
        return [
            OutboundPart(kind="location", payload=payload, fallback_text=loc.name or loc.address)
        ]
    return []


def _render_buttons(buttons: m.ButtonsReply, language: str) -> list[OutboundPart]:
    options = [(b.id, b.title, "") for b in buttons.buttons]
    if _buttons_fit(buttons):
        payload: dict[str, Any] = {
            "type": "button",
            "body": {"text": whatsapp_markdown(buttons.body)},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id, "title": b.title.strip()}}
                    for b in buttons.buttons
                ]
            },
        }
        _decorate(payload, buttons.header, buttons.footer)
        fallback = numbered_text(buttons.body, options, language, buttons.header, buttons.footer)
        return [
            OutboundPart(
                kind="interactive",
                payload=payload,
                fallback_text=fallback[0].payload["body"],
                choices=fallback[0].choices,
            )
        ]
    if len(buttons.buttons) > BUTTONS_MAX and _rows_fit(options, buttons.body, 1):
        payload = _list_payload(
            buttons.body,
            _label("options", language),
            [("", options)],
            buttons.header,
            buttons.footer,
        )
        fallback = numbered_text(buttons.body, options, language, buttons.header, buttons.footer)
        return [
            OutboundPart(
                kind="interactive",
                payload=payload,
                fallback_text=fallback[0].payload["body"],
                choices=fallback[0].choices,
            )
        ]
    if not options:
        return _text_parts(buttons.body) if buttons.body.strip() else []
    return numbered_text(buttons.body, options, language, buttons.header, buttons.footer)


def _render_list(list_reply: m.ListReply, language: str) -> list[OutboundPart]:
    sections = [
        (s.title, [(row.id, row.title, row.description) for row in s.rows])
        for s in list_reply.sections
    ]
    sections = [(t, rows) for t, rows in sections if rows]
    options = [row for _t, rows in sections for row in rows]
    if not options:
        return _text_parts(list_reply.body) if list_reply.body.strip() else []
    if _rows_fit(options, list_reply.body, len(sections)):
        label = list_reply.button_label.strip() or _label("options", language)
        payload = _list_payload(
            list_reply.body, label, sections, list_reply.header, list_reply.footer
        )
        fallback = numbered_text(
            list_reply.body, options, language, list_reply.header, list_reply.footer
        )
        return [
            OutboundPart(
                kind="interactive",
                payload=payload,
                fallback_text=fallback[0].payload["body"],
                choices=fallback[0].choices,
            )
        ]
    return numbered_text(list_reply.body, options, language, list_reply.header, list_reply.footer)
