"""The gateway in IMAP/SMTP mode against real Dovecot (IMAP IDLE, implicit TLS) and a real
SMTP server (STARTTLS + AUTH) on loopback: guest mail is read once, answered in the thread,
and a copy lands in Sent; a dropped IDLE connection or a restart loses and repeats nothing."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import aiosmtplib
import pytest
from gw_harness import eventually
from hotel.channel.v1 import message_pb2 as m
from mail_servers import HOTEL_PASSWORD, HOTEL_USER, Dovecot, SmtpServer
from posada_sim_gmail import compose_raw


@pytest.fixture
def imap_gateway(gateway, dovecot: Dovecot, smtp_server: SmtpServer):
    async def start(**overrides: Any) -> Any:
        running = await gateway(
            email_mode="imap",
            email_address=HOTEL_USER,
            email_hotel_name="Posada IMAP",
            email_ca_file=dovecot.ca_file,
            imap_host="127.0.0.1",
            imap_port=dovecot.port,
            imap_security="tls",
            imap_user=HOTEL_USER,
            imap_password=HOTEL_PASSWORD,
            imap_sent_folder="Sent",
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
            smtp_security="starttls",
            **overrides,
        )
        adapter = running.gw.registry.get(m.CHANNEL_GMAIL)
        await eventually(lambda: adapter.reader is not None and adapter.reader.idling.is_set())
        return running, adapter

    return start


async def guest_sends(
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    sender: str,
    subject: str,
    text: str,
    refs: list[str] | None = None,
) -> bytes:
    raw = compose_raw(
        from_name="Guest",
        from_email=sender,
        to=HOTEL_USER,
        subject=subject,
        text=text,
        in_reply_to=refs or [],
    )
    await aiosmtplib.send(
        raw,
        sender=sender,
        recipients=[HOTEL_USER],
        hostname="127.0.0.1",
        port=smtp_server.port,
        start_tls=True,
        username=HOTEL_USER,
        password=HOTEL_PASSWORD,
        tls_context=__import__("ssl").create_default_context(cafile=dovecot.ca_file),
        timeout=10,
    )
    return raw


def unique(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.org"


async def test_guest_mail_over_imap_idle_is_answered_over_smtp_in_the_thread(
    imap_gateway, dovecot, smtp_server, conversation
):
    await imap_gateway()
    guest = unique("lena")
    raw = await guest_sends(smtp_server, dovecot, guest, "Zimmer", "Do you have a room on Friday?")
    (reply,) = await eventually(lambda: smtp_server.to(guest), within=20)
    original = email.message_from_bytes(raw, policy=email.policy.default)
    assert reply["Subject"] == "Re: Zimmer"
    assert reply["In-Reply-To"] == original["Message-ID"]
    assert reply["References"] == original["Message-ID"]
    text = reply.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "echo: Do you have a room on Friday?" in text and "Posada IMAP" in text
    assert smtp_server.auth_ok >= 2  # the guest's submission and ours both authenticated
    # A copy of the reply is in Sent; the guest's mail was read without setting \Seen.
    sent = await eventually(
        lambda: [x for x in dovecot.messages("Sent") if reply["Message-ID"].encode() in x]
    )
    assert len(sent) == 1
    assert dovecot.seen_flags() == []
    call = next(c for c in conversation.calls if c.guest.email == guest)
    assert call.channel == m.CHANNEL_GMAIL and call.thread_id == original["Message-ID"]


async def test_a_dropped_idle_connection_reconnects_and_misses_nothing(
    imap_gateway, dovecot, smtp_server, conversation
):
    _running, adapter = await imap_gateway()
    reader = adapter.reader
    before = reader.connections
    guest = unique("drop")
    reader.drop_connection()  # the network drops mid-IDLE...
    # ...and mail arrives while nobody is listening.
    await guest_sends(smtp_server, dovecot, guest, "Uno", "First while down")
    await guest_sends(smtp_server, dovecot, guest, "Dos", "Second while down")
    await eventually(lambda: len(smtp_server.to(guest)) == 2, within=30)
    assert reader.connections > before
    texts = sorted(c.text for c in conversation.calls if c.guest.email == guest)
    assert texts == ["First while down", "Second while down"]


async def test_a_restart_neither_rereads_nor_skips_mail(
    imap_gateway, dovecot, smtp_server, conversation
):
    running, _adapter = await imap_gateway()
    guest = unique("restart")
    await guest_sends(smtp_server, dovecot, guest, "Antes", "Before the restart")
    await eventually(lambda: len(smtp_server.to(guest)) == 1, within=20)
    await running.stop()
    await guest_sends(smtp_server, dovecot, guest, "Durante", "While stopped")
    await imap_gateway()
    await eventually(lambda: len(smtp_server.to(guest)) == 2, within=20)
    texts = [c.text for c in conversation.calls if c.guest.email == guest]
    assert sorted(texts) == ["Before the restart", "While stopped"]


async def test_robot_mail_over_imap_gets_no_answer(
    imap_gateway, dovecot, smtp_server, conversation
):
    await imap_gateway()
    robot = unique("mailer-daemon")
    bounce = (
        f"From: Mail Delivery System <{robot}>\r\nTo: {HOTEL_USER}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b-1@x>\r\n"
        "Auto-Submitted: auto-replied\r\n\r\nThis is the mail system.\r\n"
    ).encode()
    dovecot.append(bounce)
    guest = unique("human")
    await guest_sends(smtp_server, dovecot, guest, "Hola", "¿Hay sitio?")
    await eventually(lambda: smtp_server.to(guest), within=20)
    assert smtp_server.to(robot) == []
    assert not [c for c in conversation.calls if c.guest.email == robot]


async def test_a_changed_uidvalidity_rescans_without_answering_twice(
    imap_gateway, dovecot, smtp_server, conversation
):
    running, adapter = await imap_gateway()
    guest = unique("renumber")
    await guest_sends(smtp_server, dovecot, guest, "Primero", "Before the renumbering")
    await eventually(lambda: len(smtp_server.to(guest)) == 1, within=20)
    await running.stop()
    # The server renumbered the folder (a new UIDVALIDITY): our stored UIDs mean nothing now.
    await adapter.mail.imap_advance(HOTEL_USER, "INBOX", 1, 10**6)
    await guest_sends(smtp_server, dovecot, guest, "Segundo", "After the renumbering")
    await imap_gateway()
    await eventually(lambda: len(smtp_server.to(guest)) == 2, within=30)
    texts = sorted(c.text for c in conversation.calls if c.guest.email == guest)
    assert texts == ["After the renumbering", "Before the renumbering"]
