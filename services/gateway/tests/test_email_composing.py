"""Replies are one polite e-mail in the guest's language, threaded, text + HTML."""

from __future__ import annotations

import email
import email.policy

from hotel.channel.v1 import message_pb2 as m
from posada_gateway.channels.email.composing import (
    ThreadInfo,
    blocks_of,
    compose,
    reply_references,
    reply_subject,
)


def _replies() -> list[m.Reply]:
    return [
        m.Reply(reply_id="r1", text=m.TextReply(body="Tenemos estas opciones del 10 al 12:")),
        m.Reply(
            reply_id="r2",
            list=m.ListReply(
                body="Elija una habitación",
                button_label="Ver",
                sections=[
                    m.ListSection(
                        title="Habitaciones",
                        rows=[
                            m.ListRow(id="room:1", title="Doble", description="240,00 € total"),
                            m.ListRow(id="room:2", title="Suite", description="400,00 € total"),
                        ],
                    )
                ],
            ),
        ),
    ]


def test_reply_is_threaded_and_written_in_the_guest_language():
    thread = ThreadInfo(
        to="ana@example.org",
        to_name="Ana García",
        subject="Re: RE: Disponibilidad",
        message_id="<g2@example.org>",
        references=["<g1@example.org>", "<posada.x@hotel.example>"],
    )
    msg = compose(
        blocks=blocks_of(_replies()),
        language="es",
        thread=thread,
        from_address="reservas@hotel.example",
        hotel_name="Posada Demo Hotel",
        message_id="<posada.y@hotel.example>",
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Re: Disponibilidad"
    assert parsed["In-Reply-To"] == "<g2@example.org>"
    assert parsed["References"] == "<g1@example.org> <posada.x@hotel.example> <g2@example.org>"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Hola Ana:")
    assert "1. Doble — 240,00 € total" in text and "2. Suite — 400,00 € total" in text
    assert "con el número o el nombre" in text
    assert text.rstrip().endswith("Recepción · Posada Demo Hotel")
    assert "<ol><li>Doble — 240,00 € total</li>" in html and "Posada Demo Hotel" in html


def test_english_and_portuguese_greetings_and_no_name():
    blocks = blocks_of([m.Reply(text=m.TextReply(body="Yes."))])
    for lang, start, closing in (
        ("en", "Dear John,", "Kind regards,"),
        ("pt", "Olá João,", "Com os melhores cumprimentos,"),
    ):
        msg = compose(
            blocks=blocks,
            language=lang,
            thread=ThreadInfo(to="g@example.org", to_name="John" if lang == "en" else "João Silva"),
            from_address="h@hotel.example",
            hotel_name="H",
            message_id="<a@b>",
        )
        text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert text.startswith(start) and closing in text
    anon = compose(
        blocks=blocks,
        language="es",
        thread=ThreadInfo(to="g@example.org"),
        from_address="h@hotel.example",
        hotel_name="H",
        message_id="<a@b>",
    )
    assert anon.get_body(preferencelist=("plain",)).get_content().startswith("Hola:")  # type: ignore[union-attr]


def test_subject_and_reference_rules():
    assert reply_subject("Disponibilidad") == "Re: Disponibilidad"
    assert reply_subject("RE: Re: AW: Zimmer") == "Re: Zimmer"
    assert reply_subject("", "en") == "Your enquiry"
    chain = [f"<{i}@x>" for i in range(20)]
    refs = reply_references(chain, "<new@x>")
    assert refs[0] == "<0@x>" and refs[-1] == "<new@x>" and len(refs) == 10


def test_audio_and_location_replies_become_text():
    blocks = blocks_of(
        [
            m.Reply(audio=m.AudioReply(data=b"x", mime_type="audio/ogg", transcript="Hola, sí.")),
            m.Reply(location=m.LocationReply(latitude=40.4, longitude=-3.7, name="Posada")),
        ]
    )
    assert blocks[0].text == "Hola, sí."
    assert "Posada" in blocks[1].text and "mlat=40.4" in blocks[1].text
