"""Real mail servers on loopback for the IMAP/SMTP mode tests.

* Dovecot (Debian package `dovecot-imapd`), started in the foreground without systemd from a
  config written into a temporary folder: implicit-TLS IMAP on a free loopback port with a
  self-signed certificate, one passwd-file user (the hotel's mailbox), Maildir storage, a Sent
  folder.
* An aiosmtpd server (STARTTLS required, AUTH PLAIN/LOGIN checked) that delivers mail for the
  hotel into Dovecot with IMAP APPEND and keeps mail for anyone else (the guests) in an outbox.

Skipped with a clear reason when the `dovecot` binary is missing (`make system-test-deps`
installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import imaplib
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from posada_common.testing import free_port

HOTEL_USER = "reservas@posada-imap.test"
HOTEL_PASSWORD = "app-password-1234"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Dovecot:
    port: int
    ca_file: str
    folder: Path
    proc: subprocess.Popen[bytes]

    def _imap(self) -> imaplib.IMAP4_SSL:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx, timeout=10)
        client.login(HOTEL_USER, HOTEL_PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self._imap()
        try:
            typ, _ = client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK"
        finally:
            client.logout()

    def messages(self, folder: str) -> list[bytes]:
        client = self._imap()
        try:
            client.select(folder, readonly=True)
            _typ, data = client.uid("search", None, "ALL")
            out = []
            for uid in (data[0] or b"").split():
                _t, fetched = client.uid("fetch", uid, "(BODY.PEEK[])")
                out += [part[1] for part in fetched if isinstance(part, tuple)]
            return out
        finally:
            client.logout()

    def seen_flags(self) -> list[bytes]:
        client = self._imap()
        try:
            client.select("INBOX", readonly=True)
            _typ, data = client.search(None, "SEEN")
            return (data[0] or b"").split()
        finally:
            client.logout()


def _mail_ids() -> tuple[int, int]:
    """Dovecot refuses to store mail as root: as root, mail belongs to `nobody`."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _dovecot_conf(folder: Path, port: int, cert: Path, key: Path) -> str:
    root = os.geteuid() == 0
    login_user = "dovenull" if root else os.environ.get("USER", "nobody")
    internal_user = "dovecot" if root else login_user
    uid, gid = _mail_ids()
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
info_log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_login_user = {login_user}
default_internal_user = {internal_user}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{folder}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%n
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        pytest.skip("dovecot is not installed (make system-test-deps installs dovecot-imapd)")
    folder = Path(tempfile.mkdtemp(prefix="posada-dovecot-"))
    folder.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (folder / sub).mkdir()
    uid, gid = _mail_ids()
    for sub in ("mail", "home"):
        os.chown(folder / sub, uid, gid)
    cert, key = _self_signed(folder)
    (folder / "passwd").write_text(f"{HOTEL_USER}:{{PLAIN}}{HOTEL_PASSWORD}::::::\n")
    port = free_port()
    conf = folder / "dovecot.conf"
    conf.write_text(_dovecot_conf(folder, port, cert, key))
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "stderr.log", "wb"),  # noqa: SIM115
    )
    server = Dovecot(port, str(cert), folder, proc)
    deadline = time.monotonic() + 20
    while True:
        try:
            server._imap().logout()
            break
        except (OSError, imaplib.IMAP4.error):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (
                    (folder / "dovecot.log").read_text()
                    if (folder / "dovecot.log").exists()
                    else ""
                )
                err = (folder / "stderr.log").read_text()
                proc.kill()
                raise RuntimeError(f"dovecot did not start: {err}\n{log[-2000:]}") from None
            time.sleep(0.1)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class SmtpServer:
    port: int
    outbox: list[EmailMessage] = field(default_factory=list)
    auth_ok: int = 0

    def to(self, address: str) -> list[EmailMessage]:
        return [x for x in self.outbox if address in str(x["To"]).lower()]


class _Delivery:
    """aiosmtpd handler: the hotel's mail into Dovecot (IMAP APPEND), the rest to the outbox."""

    def __init__(self, server: SmtpServer, dovecot: Dovecot):
        self.server = server
        self.dovecot = dovecot

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        for rcpt in envelope.rcpt_tos:
            if rcpt.lower() == HOTEL_USER:
                await asyncio.to_thread(self.dovecot.append, raw)
            else:
                msg = message_from_bytes(raw, policy=policy.default)
                assert isinstance(msg, EmailMessage)
                self.server.outbox.append(msg)
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp_server(dovecot: Dovecot) -> AsyncIterator[SmtpServer]:
    server = SmtpServer(port=free_port())
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(dovecot.folder / "cert.pem", dovecot.folder / "key.pem")

    def authenticator(
        _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == HOTEL_USER
            and data.password.decode() == HOTEL_PASSWORD
        )
        server.auth_ok += int(ok)
        return AuthResult(success=ok)

    controller = Controller(
        _Delivery(server, dovecot),
        hostname="127.0.0.1",
        port=server.port,
        tls_context=ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            controller.stop()
