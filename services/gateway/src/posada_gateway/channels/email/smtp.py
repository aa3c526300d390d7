"""IMAP/SMTP mode, outbound: replies over SMTP (aiosmtplib), a copy appended to Sent.

Security is implicit TLS (port 465) or STARTTLS (587); `none` exists only for loopback tests.
SMTP has no idempotency key, so the Sent folder is also where a retry looks for a reply that
may already have gone out (by our deterministic Message-ID). Gmail files SMTP mail in Sent by
itself: leave `IMAP_SENT_FOLDER` empty there to avoid a duplicate copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from .adapter import EmailSendError
from .imap import ImapConfig, connect

PERMANENT_SMTP = range(500, 600)


@dataclass(slots=True)
class SmtpConfig:
    host: str
    port: int
    user: str
    password: str
    security: str = "tls"  # tls | starttls | none
    timeout_seconds: float = 30.0
    ca_file: str = ""  # a private CA (tests, on-premise servers); empty = system trust store


class SmtpTransport:
    mode = "imap"

    def __init__(self, smtp: SmtpConfig, imap: ImapConfig, sent_folder: str, *, log: Any = None):
        self.log = log
        self.smtp = smtp
        self.imap = imap
        self.sent_folder = sent_folder

    async def send(self, message: EmailMessage, thread_id: str) -> str:
        del thread_id  # SMTP has no thread id: the References/In-Reply-To headers carry it
        cfg = self.smtp
        try:
            await aiosmtplib.send(
                message,
                hostname=cfg.host,
                port=cfg.port,
                username=cfg.user or None,
                password=cfg.password or None,
                use_tls=cfg.security == "tls",
                start_tls=cfg.security == "starttls",
                tls_context=(
                    ssl.create_default_context(cafile=cfg.ca_file or None)
                    if cfg.security != "none"
                    else None
                ),
                timeout=cfg.timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise EmailSendError(
                f"SMTP {exc.code}: {exc.message}",
                retryable=exc.code not in PERMANENT_SMTP,
                code=exc.code,
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise EmailSendError(f"SMTP: {type(exc).__name__}: {exc}", retryable=True) from exc
        message_id = str(message["Message-ID"])
        if self.sent_folder:
            try:
                await self._append_sent(message)
            except Exception as exc:  # the mail went out; a missing copy is not worth a resend
                if self.log is not None:
                    self.log.warning("smtp_sent_copy_failed", error=str(exc)[:300])
        return message_id

    async def _append_sent(self, message: EmailMessage) -> None:
        client = await connect(self.imap)
        try:
            await client.append(message.as_bytes(), mailbox=self.sent_folder, flags=r"(\Seen)")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 2)

    async def find_sent(self, message_id: str) -> str:
        if not self.sent_folder:
            return ""
        client = await connect(self.imap)
        try:
            res = await client.select(self.sent_folder)
            if res.result != "OK":
                return ""
            found = await client.uid_search("HEADER", "Message-ID", f'"{message_id}"', charset=None)
            hits = [
                u
                for line in found.lines
                if isinstance(line, bytes | bytearray)
                for u in bytes(line).split()
                if u.isdigit()
            ]
            return message_id if found.result == "OK" and hits else ""
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 2)
