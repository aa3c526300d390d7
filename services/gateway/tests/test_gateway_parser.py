"""Every payload type from the reference parses into the right InboundMessage."""

from __future__ import annotations

from gw_payloads import (
    FAILED_STATUS,
    GUEST,
    PNID,
    batch_two_messages_and_status,
    bsuid_only,
    envelope,
    msg,
    with_type,
)
from hotel.channel.v1 import message_pb2 as m
from posada_gateway.channels.whatsapp.parser import parse_webhook

K = m.MessageKind


def one(name: str) -> m.InboundMessage:
    parsed = parse_webhook(with_type(name), lambda pnid: "hotel-7" if pnid == PNID else "")
    assert len(parsed.messages) == 1, name
    return parsed.messages[0]


def test_text_message_carries_guest_hotel_conversation_and_time():
    msg = one("text")
    assert msg.kind == K.MESSAGE_KIND_TEXT
    assert msg.text == "Hi, can I get a late checkout tomorrow?"
    assert msg.channel == m.CHANNEL_WHATSAPP
    assert msg.hotel_id == "hotel-7"
    assert msg.business_account_id == PNID
    assert msg.guest.id == GUEST and msg.guest.phone == GUEST
    assert msg.guest.display_name == "Lena Fischer"
    assert msg.conversation_id == f"wa:{PNID}:{GUEST}"
    assert msg.sent_at.seconds == 1767261600
    assert msg.message_id.startswith("wamid.")


def test_voice_note_and_audio_file():
    voice = one("voice")
    assert voice.kind == K.MESSAGE_KIND_AUDIO
    assert voice.media.voice is True
    assert voice.media.media_id == "1283746501928374"
    assert voice.media.mime_type == "audio/ogg; codecs=opus"
    assert voice.media.sha256.endswith("=")
    assert voice.media.data == b""  # bytes are downloaded by the worker, after the 200
    audio = one("audio_file")
    assert audio.kind == K.MESSAGE_KIND_AUDIO and audio.media.voice is False


def test_image_video_sticker_document_keep_media_and_caption():
    image = one("image")
    assert image.kind == K.MESSAGE_KIND_IMAGE
    assert image.media.caption == image.text == "This stain was on the towel in room 412"
    assert one("video").kind == K.MESSAGE_KIND_VIDEO
    assert one("sticker").kind == K.MESSAGE_KIND_STICKER
    doc = one("document")
    assert doc.kind == K.MESSAGE_KIND_DOCUMENT
    assert doc.media.filename == "Rechnungsadresse.pdf"
    assert doc.media.mime_type == "application/pdf"


def test_location():
    loc = one("location")
    assert loc.kind == K.MESSAGE_KIND_LOCATION
    assert abs(loc.location.latitude - 48.13743) < 1e-9
    assert abs(loc.location.longitude - 11.57549) < 1e-9
    assert loc.location.name == "Marienplatz"
    assert loc.location.address.startswith("Marienplatz, 80331")


def test_interactive_button_and_list_replies_route_on_id():
    b = one("button_reply")
    assert b.kind == K.MESSAGE_KIND_INTERACTIVE_REPLY
    assert b.interactive_reply.id == "late_checkout_yes"
    assert b.interactive_reply.title == "Yes, until 2 pm"
    assert b.reply_to_message_id == "wamid.CTX1"
    lst = one("list_reply")
    assert lst.interactive_reply.id == "spa_1600"
    assert lst.interactive_reply.description == "60 min, 2 guests"


def test_template_quick_reply_button():
    t = one("template_button")
    assert t.kind == K.MESSAGE_KIND_TEMPLATE_BUTTON
    assert t.interactive_reply.id == "precheckin_start"
    assert t.interactive_reply.title == "Start pre-check-in"


def test_reaction_and_reaction_removal():
    r = one("reaction")
    assert r.kind == K.MESSAGE_KIND_REACTION
    assert r.reaction.message_id == "wamid.TARGET" and r.reaction.emoji == "\U0001f44d"
    removed = one("reaction_removed")
    assert removed.kind == K.MESSAGE_KIND_REACTION and removed.reaction.emoji == ""


def test_contacts_card_becomes_text():
    c = one("contacts")
    assert c.kind == K.MESSAGE_KIND_CONTACTS
    assert "Max Muster" in c.text and "+49 151 0000" in c.text


def test_unsupported_unknown_and_odd_interactive_types_never_crash():
    u = one("unsupported")
    assert u.kind == K.MESSAGE_KIND_UNSUPPORTED and u.provider_type == "unsupported:poll_creation"
    for name in ("order", "nfm_reply", "empty_interactive"):
        x = one(name)
        assert x.kind == K.MESSAGE_KIND_UNSUPPORTED, name
    weird = parse_webhook(envelope(messages=[msg("brand_new_type", {"a": 1})]))
    assert weird.messages[0].kind == K.MESSAGE_KIND_UNSUPPORTED
    assert weird.messages[0].provider_type == "brand_new_type"


def test_guest_without_phone_is_identified_by_business_scoped_user_id():
    parsed = parse_webhook(bsuid_only())
    (msg_,) = parsed.messages
    assert msg_.guest.id == "DE.40918273645512093847"
    assert msg_.guest.business_scoped_user_id == "DE.40918273645512093847"
    assert msg_.guest.phone == ""
    assert msg_.guest.display_name == "Lena F."
    assert msg_.conversation_id == f"wa:{PNID}:DE.40918273645512093847"


def test_batch_with_messages_and_statuses_is_split_explicitly():
    parsed = parse_webhook(batch_two_messages_and_status())
    assert [x.message_id for x in parsed.messages] == ["wamid.AAA1", "wamid.AAA2"]
    assert len(parsed.statuses) == 1
    st = parsed.statuses[0]
    assert st.message_id == "wamid.BBB9" and st.status == m.DELIVERY_STATUS_READ
    assert st.recipient_id == GUEST


def test_every_status_kind_and_failed_errors():
    statuses = [
        {
            "id": "w1",
            "status": "sent",
            "timestamp": "1",
            "recipient_id": GUEST,
            "biz_opaque_callback_data": "in|r0",
        },
        {"id": "w1", "status": "delivered", "timestamp": "2", "recipient_id": GUEST},
        {"id": "w1", "status": "read", "timestamp": "3", "recipient_id": GUEST},
        {"id": "w2", "status": "played", "timestamp": "4", "recipient_user_id": "DE.1"},
        FAILED_STATUS,
        {"id": "w3", "status": "deleted", "timestamp": "5"},  # unknown: skipped, counted
    ]
    parsed = parse_webhook(envelope(statuses=statuses))
    got = [(s.message_id, m.DeliveryStatus.Name(s.status)) for s in parsed.statuses]
    assert got == [
        ("w1", "DELIVERY_STATUS_SENT"),
        ("w1", "DELIVERY_STATUS_DELIVERED"),
        ("w1", "DELIVERY_STATUS_READ"),
        ("w2", "DELIVERY_STATUS_PLAYED"),
        ("wamid.F1", "DELIVERY_STATUS_FAILED"),
    ]
    assert parsed.statuses[0].callback_data == "in|r0"
    assert parsed.statuses[3].recipient_user_id == "DE.1"
    failed = parsed.statuses[4]
    assert failed.errors[0]["code"] == 131047
    assert "24 hours" in failed.errors[0]["detail"]
    assert parsed.skipped == 1


def test_async_errors_and_system_messages_are_not_guest_messages():
    body = envelope(
        errors=[
            {
                "code": 130429,
                "title": "Rate limit hit",
                "message": "Rate limit hit",
                "error_data": {"details": "too many"},
            }
        ]
    )
    body["entry"][0]["changes"][0]["value"]["messages"] = [
        msg("system", {"body": "changed", "type": "user_changed_number", "wa_id": "4915"})
    ]
    parsed = parse_webhook(body)
    assert parsed.messages == []
    assert parsed.errors[0]["code"] == 130429
    assert parsed.system[0]["system"]["type"] == "user_changed_number"


def test_garbage_shapes_are_skipped_not_crashing():
    for body in [
        {},
        [],
        "x",
        {"object": "page"},
        {"entry": "nope"},
        {"entry": [{"changes": [None, 3]}]},
        envelope(messages=[{"type": "text"}]),  # no id: skipped
        envelope(messages=[{"id": "w", "type": "text"}], contacts=[]),
    ]:  # no guest
        parsed = parse_webhook(body)
        assert parsed.messages == []


def test_other_fields_are_ignored():
    body = with_type("text")
    body["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    assert parse_webhook(body).messages == []
