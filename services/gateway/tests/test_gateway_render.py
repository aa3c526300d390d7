"""Replies render within WhatsApp's limits, or fall back to numbered text."""

from __future__ import annotations

from hotel.channel.v1 import message_pb2 as m
from posada_gateway.channels.whatsapp.render import (
    match_choice,
    render_reply,
    split_text,
    whatsapp_markdown,
)


def buttons(*titles: str, body: str = "Shall I book it?", **kw) -> m.Reply:
    return m.Reply(
        reply_id="r1",
        buttons=m.ButtonsReply(
            body=body, buttons=[m.Button(id=f"b{i}", title=t) for i, t in enumerate(titles)], **kw
        ),
    )


def test_text_is_converted_from_markdown_and_split_under_4096():
    assert (
        whatsapp_markdown("**Bold** and [site](https://x.example/a)")
        == "*Bold* and site (https://x.example/a)"
    )
    assert whatsapp_markdown("# Title\nbody") == "*Title*\nbody"
    long = ("Sentence number one is here. " * 400).strip()
    chunks = split_text(long)
    assert len(chunks) >= 3 and all(len(c) <= 4096 for c in chunks)
    assert " ".join(chunks).split() == long.split()
    parts = render_reply(m.Reply(text=m.TextReply(body=long)))
    assert len(parts) == len(chunks) and all(p.kind == "text" for p in parts)


def test_three_short_buttons_render_as_interactive_buttons():
    (part,) = render_reply(
        buttons("Yes", "No", "Maybe", header="Late checkout", footer="Reception")
    )
    assert part.kind == "interactive"
    p = part.payload
    assert p["type"] == "button"
    assert [b["reply"]["title"] for b in p["action"]["buttons"]] == ["Yes", "No", "Maybe"]
    assert all(b["type"] == "reply" for b in p["action"]["buttons"])
    assert p["header"] == {"type": "text", "text": "Late checkout"}
    assert p["footer"] == {"text": "Reception"}
    assert "1. Yes" in part.fallback_text  # plain-text fallback for old clients


def test_long_header_and_footer_are_shortened_not_refused():
    (part,) = render_reply(buttons("Yes", header="H" * 80, footer="F" * 80))
    assert len(part.payload["header"]["text"]) == 60
    assert len(part.payload["footer"]["text"]) == 60


def test_more_than_three_buttons_become_a_list():
    (part,) = render_reply(buttons("Single", "Double", "Twin", "Suite"), "es")
    assert part.payload["type"] == "list"
    rows = part.payload["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Single", "Double", "Twin", "Suite"]
    assert part.payload["action"]["button"] == "Ver opciones"


def test_button_titles_too_long_or_duplicated_fall_back_to_numbered_text():
    parts = render_reply(buttons("A title that is far too long for a button", "No"), "en")
    assert [p.kind for p in parts] == ["text"]
    body = parts[0].payload["body"]
    assert "1. A title that is far too long for a button" in body and "2. No" in body
    assert "Reply with the number" in body
    assert [c.id for c in parts[0].choices] == ["b0", "b1"]
    dup = render_reply(buttons("Same", "Same"), "pt")
    assert dup[0].kind == "text" and "Responda com o número" in dup[0].payload["body"]


def test_list_within_limits_and_over_ten_rows():
    rows = [
        m.ListRow(id=f"r{i}", title=f"Spa {i}:00", description="60 min " + "x" * 100)
        for i in range(10)
    ]
    reply = m.Reply(
        list=m.ListReply(
            body="Pick a time",
            button_label="Show times",
            sections=[
                m.ListSection(title="Afternoon", rows=rows[:5]),
                m.ListSection(title="Evening", rows=rows[5:]),
            ],
        )
    )
    (part,) = render_reply(reply)
    p = part.payload
    assert p["type"] == "list" and p["action"]["button"] == "Show times"
    assert sum(len(s["rows"]) for s in p["action"]["sections"]) == 10
    assert all(len(r["description"]) <= 72 for s in p["action"]["sections"] for r in s["rows"])
    assert [s["title"] for s in p["action"]["sections"]] == ["Afternoon", "Evening"]
    eleven = m.Reply(
        list=m.ListReply(
            body="Pick", sections=[m.ListSection(rows=[*rows, m.ListRow(id="x", title="Late")])]
        )
    )
    parts = render_reply(eleven)
    assert parts[0].kind == "text" and "11. Late" in parts[0].payload["body"]
    long_title = m.Reply(
        list=m.ListReply(
            body="Pick", sections=[m.ListSection(rows=[m.ListRow(id="a", title="T" * 25)])]
        )
    )
    assert render_reply(long_title)[0].kind == "text"


def test_audio_reply_uploads_supported_types_and_sends_transcript_otherwise():
    (ogg,) = render_reply(
        m.Reply(
            audio=m.AudioReply(
                data=b"OggS...", mime_type="audio/ogg; codecs=opus", transcript="Hola"
            )
        )
    )
    assert ogg.kind == "audio" and ogg.audio == b"OggS..." and ogg.fallback_text == "Hola"
    (wav,) = render_reply(
        m.Reply(audio=m.AudioReply(data=b"RIFF", mime_type="audio/wav", transcript="Hola"))
    )
    assert wav.kind == "text" and wav.payload["body"] == "Hola"


def test_location_reply_and_empty_replies():
    (loc,) = render_reply(
        m.Reply(location=m.LocationReply(latitude=1.5, longitude=2.5, name="Hotel"))
    )
    assert loc.kind == "location" and loc.payload == {
        "latitude": 1.5,
        "longitude": 2.5,
        "name": "Hotel",
    }
    assert render_reply(m.Reply()) == []
    assert render_reply(m.Reply(text=m.TextReply(body="  "))) == []


def test_typed_numbers_and_titles_map_back_to_choices():
    parts = render_reply(buttons("A title that is far too long for a button", "No"))
    choices = parts[0].choices
    assert match_choice("2", choices).id == "b1"
    assert match_choice(" 1. ", choices).id == "b0"
    assert match_choice("no", choices).id == "b1"
    assert match_choice("3", choices) is None
    assert match_choice("maybe later", choices) is None
