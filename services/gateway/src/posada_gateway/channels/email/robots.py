"""Mail that must never be answered, so the agent cannot loop with another robot.

RFC 3834 (`Auto-Submitted` other than `no`), `Precedence: bulk|list|junk|auto_reply`, mailing
lists (`List-Id`, `List-Unsubscribe`), vendor auto-reply markers (`X-Autoreply`,
`X-Autorespond`), delivery reports (`multipart/report`, bounces from
`MAILER-DAEMON`/`postmaster`), a null or no-reply sender, and our own address. The reason is
returned for logs and metrics.
"""

from __future__ import annotations

import re
from email.message import Message

_DAEMON_LOCALPART = re.compile(r"^(mailer-daemon|postmaster|bounces?)([+\-._].*)?$", re.I)
_NOREPLY_LOCALPART = re.compile(r"^(no-?reply|do-?not-?reply|notifications?)([+\-._].*)?$", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|autoresponder|out of (the )?office|fuera de la oficina|"
    r"respuesta autom[aá]tica|resposta autom[aá]tica|aus(wesenheit| der f)|"
    r"undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"returned mail|no entregado|não entregue)\b",
    re.I,
)


def robot_reason(
    msg: Message, sender: str, own_addresses: set[str], reply_address: str = ""
) -> str:
    """Why this mail must get no answer, or "" when a person wrote it. A no-reply `From`
    with a person's `Reply-To` (web forms, booking portals) is a person."""
    if not sender:
        return "null_sender"
    if sender.lower() in own_addresses:
        return "own_address"
    local = sender.split("@", 1)[0]
    if _DAEMON_LOCALPART.match(local):
        return "robot_sender"
    if _NOREPLY_LOCALPART.match(local) and reply_address in ("", sender.lower()):
        return "robot_sender"
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto_submitted"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return "precedence_" + precedence
    if msg.get("List-Id") or msg.get("List-Unsubscribe") or msg.get("List-Post"):
        return "mailing_list"
    for header in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if msg.get(header):
            return "auto_reply"
    if msg.get_content_type() == "multipart/report" or msg.get("X-Failed-Recipients"):
        return "bounce"
    if str(msg.get("Return-Path", "")).strip() == "<>":
        return "null_return_path"
    if _AUTO_SUBJECT.match(str(msg.get("Subject", ""))):
        return "auto_subject"
    return ""
