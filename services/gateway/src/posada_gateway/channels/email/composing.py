"""Replies → one polite e-mail in the guest's language, in the guest's thread.

All replies conversation gives for one guest message become one e-mail: a greeting with the
guest's first name, the answer, choices written out as a numbered list (the guest answers with
the number or the words), and a signature with the hotel's name. It is sent as text/plain plus
a simple text/html alternative.

Threading (RFC 5322 §3.6.4, and what Gmail needs to keep its own thread): `In-Reply-To` is the
guest's Message-ID, `References` the guest's References plus that id (first id and the last
ones kept when the chain grows long), `Subject` the guest's subject with one `Re: `. Our
Message-ID is derived from the guest message and the reply, so a retried send can be recognised
in the Sent folder instead of going out twice.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from hotel.channel.v1 import message_pb2 as m

REFERENCES_KEEP = 10
_RE = re.compile(r"^\s*((re|aw|sv|rv|res)\s*(\[\d+\])?\s*:\s*)+", re.I)

_TEXTS = {
    "greeting": {"es": "Hola {name}:", "en": "Dear {name},", "pt": "Olá {name},"},
    "greeting_anon": {"es": "Hola:", "en": "Hello,", "pt": "Olá,"},
    "choose": {
        "es": "Puede responder a este correo con el número o el nombre de la opción que prefiera.",
        "en": "You can reply to this e-mail with the number or the name of the option you prefer.",
        "pt": "Pode responder a este e-mail com o número ou o nome da opção que preferir.",
    },
    "closing": {"es": "Un saludo,", "en": "Kind regards,", "pt": "Com os melhores cumprimentos,"},
    "team": {"es": "Recepción", "en": "Reception", "pt": "Receção"},
    "map": {"es": "Ver en el mapa", "en": "See on the map", "pt": "Ver no mapa"},
    "subject": {"es": "Su consulta", "en": "Your enquiry", "pt": "O seu pedido"},
}


def _t(key: str, language: str) -> str:
    table = _TEXTS[key]
    return table.get((language or "es")[:2].lower(), table["en"])


@dataclass(slots=True)
class Choice:
    id: str
    title: str


@dataclass(slots=True)
class Block:
    text: str
    choices: list[Choice] = field(default_factory=list)


@dataclass(slots=True)
class ThreadInfo:
    """What a reply needs to stay in the guest's thread."""

    to: str
    to_name: str = ""
    subject: str = ""
    message_id: str = ""  # the guest's Message-ID
    references: list[str] = field(default_factory=list)


def reply_subject(subject: str, language: str = "es") -> str:
    base = _RE.sub("", subject or "").strip()
    return f"Re: {base}" if base else _t("subject", language)


def reply_references(references: list[str], message_id: str) -> list[str]:
    chain = [r for r in references if r]
    if message_id and message_id not in chain:
        chain.append(message_id)
    if len(chain) > REFERENCES_KEEP:
        chain = [chain[0], *chain[-(REFERENCES_KEEP - 1) :]]
    return chain


def blocks_of(replies: list[m.Reply]) -> list[Block]:
    """Each reply as text; buttons and list rows become written-out choices."""
    out: list[Block] = []
    for reply in replies:
        kind = reply.WhichOneof("content")
        if kind == "text":
            out.append(Block(reply.text.body))
        elif kind == "buttons":
            buttons = reply.buttons
            body = "\n\n".join(x for x in (buttons.header, buttons.body, buttons.footer) if x)
            out.append(Block(body, [Choice(b.id, b.title) for b in buttons.buttons]))
        elif kind == "list":
            lr = reply.list
            body = "\n\n".join(x for x in (lr.header, lr.body, lr.footer) if x)
            choices = [
                Choice(row.id, f"{row.title} — {row.description}" if row.description else row.title)
                for section in lr.sections
                for row in section.rows
            ]
            out.append(Block(body, choices))
        elif kind == "audio":
            if reply.audio.transcript:
                out.append(Block(reply.audio.transcript))
        elif kind == "location":
            loc = reply.location
            lines = [x for x in (loc.name, loc.address) if x]
            lines.append(f"https://www.openstreetmap.org/?mlat={loc.latitude}&mlon={loc.longitude}")
            out.append(Block("\n".join(lines)))
    return [b for b in out if b.text.strip() or b.choices]


def first_name(name: str) -> str:
    name = re.sub(r"[\"'<>]", "", name or "").strip()
    if "," in name:  # "García, Ana"
        name = name.split(",", 1)[1].strip()
    return name.split()[0] if name else ""


def render_text(blocks: list[Block], language: str, guest_name: str, hotel_name: str) -> str:
    name = first_name(guest_name)
    lines = [_t("greeting", language).format(name=name) if name else _t("greeting_anon", language)]
    any_choices = False
    for block in blocks:
        lines.append("")
        if block.text.strip():
            lines.append(block.text.strip())
        if block.choices:
            any_choices = True
            lines.append("")
            lines.extend(f"  {i}. {c.title}" for i, c in enumerate(block.choices, 1))
    if any_choices:
        lines += ["", _t("choose", language)]
    lines += ["", _t("closing", language), f"{_t('team', language)} · {hotel_name}"]
    return "\n".join(lines) + "\n"


def _html_text(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def render_html(blocks: list[Block], language: str, guest_name: str, hotel_name: str) -> str:
    name = first_name(guest_name)
    greeting = _t("greeting", language).format(name=name) if name else _t("greeting_anon", language)
    body = [f"<p>{html.escape(greeting)}</p>"]
    any_choices = False
    for block in blocks:
        if block.text.strip():
            body.append(_html_text(block.text))
        if block.choices:
            any_choices = True
            body.append(
                "<ol>"
                + "".join(f"<li>{html.escape(c.title)}</li>" for c in block.choices)
                + "</ol>"
            )
    if any_choices:
        body.append(f"<p>{html.escape(_t('choose', language))}</p>")
    body.append(
        f"<p>{html.escape(_t('closing', language))}<br>"
        f"{html.escape(_t('team', language))} · <b>{html.escape(hotel_name)}</b></p>"
    )
    return (
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;'
        'font-size:14px;line-height:1.5;color:#222">' + "".join(body) + "</body></html>\n"
    )


def our_message_id(inbound_key: str, reply_key: str, domain: str) -> str:
    digest = hashlib.sha256(f"{inbound_key}|{reply_key}".encode()).hexdigest()[:24]
    return f"<posada.{digest}@{domain}>"


def compose(
    *,
    blocks: list[Block],
    language: str,
    thread: ThreadInfo,
    from_address: str,
    hotel_name: str,
    message_id: str,
    guest_name: str = "",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((hotel_name, from_address))
    msg["To"] = formataddr((thread.to_name, thread.to)) if thread.to_name else thread.to
    msg["Subject"] = reply_subject(thread.subject, language)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id
    if thread.message_id:
        msg["In-Reply-To"] = thread.message_id
    refs = reply_references(thread.references, thread.message_id)
    if refs:
        msg["References"] = " ".join(refs)
    # We answer people; tell their robots not to answer us (RFC 3834).
    msg["Auto-Submitted"] = "auto-replied"
    msg["Content-Language"] = (language or "es")[:2]
    name = guest_name or thread.to_name
    msg.set_content(render_text(blocks, language, name, hotel_name))
    msg.add_alternative(render_html(blocks, language, name, hotel_name), subtype="html")
    return msg
