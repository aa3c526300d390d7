"""Mail bodies to the clean text a guest actually wrote.

HTML is reduced with BeautifulSoup (quoted blocks that mail clients mark structurally —
Gmail's `gmail_quote`, Outlook's reply header, Apple Mail's and Thunderbird's `blockquote type=cite`
— are removed before the text is taken). Quoted history and signatures in plain text are cut by
`mail-parser-reply`, which knows the "On … wrote:" / "El … escribió:" headers and Outlook's
"From:/Sent:" blocks of many languages; Portuguese is registered below because the library has
no table for it. A few generic rules catch what is left: `>` lines, "-- " signature separators,
"Sent from my …" footers and forwarded-message banners (a forward keeps its forwarded text).
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Comment
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

if "pt" not in MAIL_LANGUAGES:
    MAIL_LANGUAGES["pt"] = {
        "wrote_header": r"^(?!(?:Em|No dia)\s.+\s escreveu:)((?:> ?)*(?:Em|No dia)\s.+\s escreveu:)$",
        "from_header": (
            r"((?:(?:^|\n|\n(?:> ?)*)[* ]*(?:De|Enviada|Enviado|Para|Assunto|Data|Cc):[ *]*"
            r"(?:\s{,2}).*){2,}(?:\n.*){,1})"
        ),
        "disclaimers": ["Aviso de confidencialidade:", "Confidencialidade:"],
        "signatures": ["Cumprimentos,", "Atenciosamente,", "Obrigado,", "Obrigada,", "Abraços,"],
        "sent_from": r"Enviado do meu.*",
    }

LANGUAGES = ["es", "en", "pt", "de", "fr", "it", "nl"]
_parser = EmailReplyParser(languages=LANGUAGES)

# Elements mail clients use for the quoted message, removed from HTML bodies.
_QUOTE_SELECTORS = [
    "div.gmail_quote",
    "blockquote.gmail_quote",
    "div.gmail_signature",
    "blockquote[type=cite]",
    "div.moz-signature",
    "div.yahoo_quoted",
    "div#mail-editor-reference-message-container",
]
# Markers after which everything is the quoted message (Outlook, Thunderbird): cut from there.
_CUT_SELECTORS = [
    "div#appendonsend",
    "div#divRplyFwdMsg",
    "div.moz-cite-prefix",
    "div.OutlookMessageHeader",
]
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}

_FORWARD_BANNER = re.compile(
    r"^\s*(-{2,}\s*)?(Forwarded message|Mensaje reenviado|Mensagem encaminhada|"
    r"Original Message|Mensaje original|Mensagem original|Weitergeleitete Nachricht)\s*(-{2,})?\s*$",
    re.I | re.M,
)
_OUTLOOK_SEPARATOR = re.compile(r"^_{10,}\s*$", re.M)
_SENT_FROM = re.compile(
    r"^\s*(Sent from my|Enviado desde mi|Enviado do meu|Get Outlook for|Obtener Outlook para|"
    r"Von meinem)\b.*$",
    re.I | re.M,
)


def html_to_text(html: str, *, drop_quotes: bool = True) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta"]):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    if drop_quotes:
        for selector in _QUOTE_SELECTORS:
            for tag in soup.select(selector):
                tag.decompose()
        for selector in _CUT_SELECTORS:
            marker = soup.select_one(selector)
            if marker is None:
                continue
            node: Any = marker
            while node is not None and node.name != "body" and node is not soup:
                for sibling in list(node.find_next_siblings()):
                    sibling.decompose()
                node = node.parent
            marker.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for li in soup.find_all("li"):
        li.insert_before("\n• ")
    for tag in soup.find_all(_BLOCK):
        tag.insert_after("\n")
    text = soup.get_text()
    return normalize(text)


def normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = re.sub(r"[ \t\u200b\ufeff]+", " ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_quoted(text: str) -> str:
    """The newest part of a reply: no quoted history, no signature."""
    text = normalize(text)
    if not text:
        return ""
    banner = _FORWARD_BANNER.search(text)
    if banner and not text[: banner.start()].strip():
        # The guest forwarded a mail without writing anything: the forwarded text is the message.
        return _forwarded_body(text[banner.end() :])
    try:
        reply = _parser.read(text).replies[0].body if text else ""
    except Exception:  # the library's regexes are heuristics; never lose the message over them
        reply = text
    reply = reply or text
    reply = _OUTLOOK_SEPARATOR.split(reply)[0]
    banner = _FORWARD_BANNER.search(reply)
    if banner:
        reply = reply[: banner.start()]
    kept: list[str] = []
    for line in reply.split("\n"):
        if line.startswith(">"):
            continue
        if line in ("--", "-- ", "—"):
            break
        kept.append(line)
    out = _SENT_FROM.sub("", "\n".join(kept))
    return normalize(out) or normalize(text)


def _forwarded_body(rest: str) -> str:
    """Skip the forwarded header block (From:/Date:/Subject:/To: lines) and keep the body."""
    lines = rest.strip().split("\n")
    i = 0
    while i < len(lines) and re.match(r"^\s*[\w\- ]{1,20}:\s", lines[i] or ""):
        i += 1
    return strip_quoted("\n".join(lines[i:])) if i < len(lines) else normalize(rest)
