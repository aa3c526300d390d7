"""IMAP/SMTP mode, inbound: one IDLE connection in a reconnecting loop (aioimaplib).

Every (re)connection logs in, selects the folder and catches up with `UID SEARCH UID n:*`
from the last UID stored in Redis for the folder's UIDVALIDITY, fetching with `BODY.PEEK[]`
(never setting \\Seen) and advancing the stored UID after each message is queued — so a restart
or a dropped connection neither skips nor re-reads anything. A changed UIDVALIDITY means the
server renumbered the folder: it is rescanned from the start, and the Message-ID dedupe keeps
already-answered mail from being answered again. A mailbox seen for the first time starts at
its current end (mail from before the channel was set up is not answered).

Then IDLE: on `EXISTS` the loop leaves IDLE, catches up and idles again; IDLE is re-issued every
`idle_seconds` (RFC 2177: servers may drop idle clients after 30 minutes). A lost connection is
noticed at once (connection-lost callback) and the loop reconnects with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from dataclasses import dataclass
from typing import Any

import aioimaplib
from prometheus_client import Counter

from .ingest import Accept, MailboxInfo, ingest_raw
from .mailstore import MailStore

IMAP_EVENTS = Counter("posada_gateway_imap_events_total", "IMAP connection events.", ["event"])
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UIDNEXT = re.compile(rb"UIDNEXT (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")


class ImapError(Exception):
    pass


@dataclass(slots=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    security: str = "tls"  # tls | none (loopback tests)
    folder: str = "INBOX"
    idle_seconds: float = 540.0
    timeout_seconds: float = 15.0
    backoff_max_seconds: float = 60.0
    fetch_batch: int = 50
    ca_file: str = ""  # a private CA (tests, on-premise servers); empty = system trust store


async def connect(cfg: ImapConfig, on_lost: Any = None) -> aioimaplib.IMAP4:
    if cfg.security == "tls":
        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
            cfg.host,
            cfg.port,
            timeout=cfg.timeout_seconds,
            ssl_context=ssl.create_default_context(cafile=cfg.ca_file or None),
        )
    else:
        client = aioimaplib.IMAP4(
            cfg.host, cfg.port, timeout=cfg.timeout_seconds, conn_lost_cb=on_lost
        )
    if on_lost is not None and cfg.security == "tls":
        client.protocol.conn_lost_cb = on_lost
    await client.wait_hello_from_server()
    res = await client.login(cfg.user, cfg.password)
    if res.result != "OK":
        raise ImapError("IMAP login refused")
    return client


def literal_of(lines: list[Any]) -> bytes:
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return b""


class ImapReader:
    def __init__(
        self,
        cfg: ImapConfig,
        accept: Accept,
        mail: MailStore,
        info: MailboxInfo,
        *,
        log: Any,
    ):
        self.cfg = cfg
        self.accept = accept
        self.mail = mail
        self.info = info
        self.log = log
        self._task: asyncio.Task[None] | None = None
        self._client: aioimaplib.IMAP4 | None = None
        self.connections = 0
        self.idling = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="imap-idle")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._close()

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 2)

    def drop_connection(self) -> None:
        """Cut the current connection abruptly (tests: a network drop mid-IDLE)."""
        if self._client is not None and self._client.protocol.transport is not None:
            self._client.protocol.transport.abort()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._session()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                IMAP_EVENTS.labels("error").inc()
                self.log.warning("imap_session_ended", error=f"{type(exc).__name__}: {exc}"[:300])
            finally:
                self.idling.clear()
                await self._close()
            await asyncio.sleep(backoff)
            backoff = min(self.cfg.backoff_max_seconds, backoff * 2)

    async def _session(self) -> None:
        lost = asyncio.get_running_loop().create_future()

        def on_lost(exc: Exception | None) -> None:
            if not lost.done():
                lost.set_result(exc)

        client = await connect(self.cfg, on_lost)
        self._client = client
        self.connections += 1
        IMAP_EVENTS.labels("connected").inc()
        res = await client.select(self.cfg.folder)
        if res.result != "OK":
            raise ImapError(f"cannot select {self.cfg.folder}")
        blob = b" ".join(x for x in res.lines if isinstance(x, bytes | bytearray))
        validity_m, next_m = _UIDVALIDITY.search(blob), _UIDNEXT.search(blob)
        if not validity_m:
            raise ImapError("no UIDVALIDITY")
        validity = int(validity_m.group(1))
        stored_validity, _last = await self.mail.imap_state(self.info.address, self.cfg.folder)
        if stored_validity == 0 and next_m:
            # First time: start at the current end of the folder.
            await self.mail.imap_advance(
                self.info.address, self.cfg.folder, validity, int(next_m.group(1)) - 1
            )
        elif stored_validity != validity:
            self.log.warning("imap_uidvalidity_changed", old=stored_validity, new=validity)
            await self.mail.imap_advance(self.info.address, self.cfg.folder, validity, 0)
        await self.catch_up(client, validity)
        while True:
            idle = await client.idle_start(timeout=self.cfg.idle_seconds)
            self.idling.set()
            new_mail = False
            while not new_mail:
                push = asyncio.ensure_future(client.wait_server_push(self.cfg.idle_seconds + 30))
                done, _ = await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    push.cancel()
                    raise ImapError("connection lost")
                lines = push.result()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break  # re-issue IDLE before the server's timeout
                new_mail = any(
                    b"EXISTS" in bytes(x) for x in lines if isinstance(x, bytes | bytearray)
                )
            self.idling.clear()
            client.idle_done()
            await asyncio.wait_for(idle, self.cfg.timeout_seconds)
            if new_mail:
                await self.catch_up(client, validity)
            else:
                IMAP_EVENTS.labels("idle_renewed").inc()

    async def catch_up(self, client: aioimaplib.IMAP4, validity: int) -> int:
        _v, last = await self.mail.imap_state(self.info.address, self.cfg.folder)
        res = await client.uid_search(f"UID {last + 1}:*", charset=None)
        if res.result != "OK":
            raise ImapError("UID SEARCH failed")
        uids = sorted(
            int(u)
            for line in res.lines
            if isinstance(line, bytes | bytearray) and not bytes(line).startswith(b"SEARCH ")
            for u in bytes(line).split()
            if u.isdigit() and int(u) > last
        )
        queued = 0
        for uid in uids:
            fetched = await client.uid("fetch", str(uid), "(UID BODY.PEEK[])")
            if fetched.result != "OK":
                raise ImapError(f"UID FETCH {uid} failed")
            raw = literal_of(fetched.lines)
            if raw:
                outcome = await ingest_raw(
                    raw,
                    provider_id=f"{validity}.{uid}",
                    thread_id="",
                    info=self.info,
                    accept=self.accept,
                    mail=self.mail,
                    log=self.log,
                )
                queued += outcome == "queued"
            await self.mail.imap_advance(self.info.address, self.cfg.folder, validity, uid)
        if uids:
            self.log.info("imap_caught_up", read=len(uids), queued=queued)
        return queued
