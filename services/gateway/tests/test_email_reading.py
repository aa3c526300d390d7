"""Guest e-mails from many clients are read as what the guest wrote; robots are recognised."""

from __future__ import annotations

import email
import email.policy

import pytest
from email_samples import (
    APPLE_MAIL_PT,
    AUTO_REPLY,
    BASE64_UTF8,
    BOUNCE,
    BULK_MAIL,
    GMAIL_REPLY_ES,
    HOTEL,
    LATIN1_QP,
    LIST_MAIL,
    OUT_OF_OFFICE_EXCHANGE,
    OUTLOOK_HTML_ONLY,
    THUNDERBIRD_FORWARD,
    WEB_FORM_REPLY_TO,
    as_bytes,
    voice_note_mail,
)
from hotel.channel.v1 import message_pb2 as m
from posada_gateway.channels.email.reading import read_mail, to_inbound

OWN = {HOTEL}


def test_gmail_reply_keeps_only_the_new_text_and_the_thread_headers():
    mail = read_mail(as_bytes(GMAIL_REPLY_ES), OWN)
    assert mail.text == "Perfecto, me quedo con la doble. ¿Incluye desayuno?"
    assert mail.guest_address == "ana.garcia@gmail.com" and mail.guest_name == "Ana García"
    assert mail.message_id == "<CAF7x1Q2b3=guest-msg-0002@mail.gmail.com>"
    assert mail.in_reply_to == "<posada.aaa@posada-demo.example>"
    assert mail.references == ["<posada.aaa@posada-demo.example>"]
    assert mail.robot == "" and mail.sent_at > 0


def test_outlook_html_only_mail_is_turned_into_text_without_the_quoted_reply():
    mail = read_mail(as_bytes(OUTLOOK_HTML_ONLY), OWN)
    assert "Do you have a double room from 10 to 12 December for 2 adults?" in mail.text
    assert "90 EUR" not in mail.text and "From:" not in mail.text
    assert "<" not in mail.text and "{" not in mail.text
    assert mail.guest_address == "john.smith@outlook.com"


def test_apple_mail_portuguese_reply_drops_quote_signature_and_sent_from():
    mail = read_mail(as_bytes(APPLE_MAIL_PT), OWN)
    assert mail.text.startswith("Olá, queria mudar a reserva para três noites.")
    assert "confirmada" not in mail.text and "iPhone" not in mail.text
    assert mail.guest_name == "João Silva"


def test_a_forward_without_own_words_is_read_as_the_forwarded_text():
    mail = read_mail(as_bytes(THUNDERBIRD_FORWARD), OWN)
    assert mail.text.startswith("Do you have a room with two single beds on 20 December?")
    assert "Forwarded" not in mail.text and "Subject:" not in mail.text


def test_latin1_quoted_printable_body_and_rfc2047_headers_are_decoded():
    raw = LATIN1_QP.replace("\n", "\r\n").encode("ascii")
    mail = read_mail(raw, OWN)
    assert mail.subject == "Habitación para el puente"
    assert "¿tienen habitación doble para el 5 de diciembre? Somos dos adultos y un niño." in (
        mail.text
    )
    assert mail.guest_name == "José Muñoz"


def test_base64_body_and_encoded_subject():
    mail = read_mail(as_bytes(BASE64_UTF8), OWN)
    assert mail.subject == "Chambre à deux lits"
    assert mail.text == "Hello, is breakfast included? Merci, Marie"


def test_mislabelled_charset_is_still_readable():
    raw = (
        f"From: a@example.org\r\nTo: {HOTEL}\r\nSubject: x\r\nMessage-ID: <x@y>\r\n"
        'Content-Type: text/plain; charset="us-ascii"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    ).encode() + "¿Tienen cuna?".encode("cp1252")
    assert read_mail(raw, OWN).text == "¿Tienen cuna?"


def test_reply_to_of_a_web_form_is_the_guest():
    mail = read_mail(as_bytes(WEB_FORM_REPLY_TO), OWN)
    assert mail.guest_address == "pedro.gomez@example.com"
    assert mail.robot == ""  # the form's no-reply From does not hide the guest


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        (AUTO_REPLY, "auto_submitted"),
        (OUT_OF_OFFICE_EXCHANGE, "auto_subject"),
        (BOUNCE, "robot_sender"),
        (LIST_MAIL, "mailing_list"),
        (BULK_MAIL, "precedence_bulk"),
    ],
)
def test_robots_are_recognised(sample: str, reason: str):
    assert read_mail(as_bytes(sample), OWN).robot == reason


def test_null_sender_and_our_own_address_are_robots():
    raw = b"To: x@example.org\r\nSubject: hi\r\n\r\nhello\r\n"
    assert read_mail(raw, OWN).robot == "null_sender"
    own = f"From: {HOTEL}\r\nTo: x@example.org\r\nSubject: hi\r\n\r\nhello\r\n".encode()
    assert read_mail(own, OWN).robot == "own_address"
    report = b"From: Postmaster <postmaster@example.org>\r\nTo: x@example.org\r\nSubject: Undeliverable: hi\r\n\r\n..."
    assert read_mail(report, OWN).robot == "robot_sender"


def test_an_audio_attachment_becomes_a_voice_note():
    mail = read_mail(voice_note_mail(b"OggS fake opus bytes"), OWN)
    msg = to_inbound(mail, provider_id="abc", mailbox=HOTEL, hotel_id="1", thread_id="t1")
    assert msg.kind == m.MESSAGE_KIND_AUDIO
    assert msg.media.data == b"OggS fake opus bytes" and msg.media.mime_type == "audio/ogg"
    assert msg.media.caption == "Te mando un audio."


def test_inbound_message_is_keyed_by_message_id_and_guest_address():
    mail = read_mail(as_bytes(GMAIL_REPLY_ES), OWN)
    a = to_inbound(mail, provider_id="p1", mailbox=HOTEL, hotel_id="1", thread_id="t1")
    b = to_inbound(mail, provider_id="p2", mailbox=HOTEL, hotel_id="1", thread_id="t1")
    assert a.message_id == b.message_id  # the same mail twice is one message
    assert a.channel == m.CHANNEL_GMAIL and a.guest.email == "ana.garcia@gmail.com"
    assert a.conversation_id == f"em:{HOTEL}:ana.garcia@gmail.com"
    assert a.subject == "Re: Disponibilidad diciembre" and a.thread_id == "t1"
    assert a.reply_to_message_id == "<posada.aaa@posada-demo.example>"


def test_a_subject_only_mail_is_read_from_its_subject():
    raw = (
        f"From: a@example.org\r\nTo: {HOTEL}\r\nSubject: Habitacion doble 10-12 diciembre?\r\n"
        "Content-Type: text/plain\r\n\r\n\r\n"
    ).encode()
    assert read_mail(raw, OWN).text == "Habitacion doble 10-12 diciembre?"


def test_parsing_never_raises_on_garbage():
    for raw in (b"", b"\x00\xff\xfe", b"Subject: =?bad?Q?x?=\r\n\r\n", b"From: <<<>>>\r\n\r\nhi"):
        mail = read_mail(raw, OWN)
        assert isinstance(mail.text, str)
    _ = email.message_from_bytes(b"", policy=email.policy.default)
