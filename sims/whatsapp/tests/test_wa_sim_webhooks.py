"""Webhooks the simulator posts: Meta's signature, envelope and every message type's shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from wa_sim_harness import PNID, SECRET, ogg_opus_bytes

GUEST = "34600111222"


def independent_signature(raw: bytes) -> str:
    # Computed here without the simulator's helper: HMAC-SHA256 over the raw bytes, hex.
    return "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()


def only_value(received) -> dict:
    body = received.json
    assert body["object"] == "whatsapp_business_account"
    assert len(body["entry"]) == 1
    entry = body["entry"][0]
    assert entry["id"] == "2345678901234"
    change = entry["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550101234", "phone_number_id": PNID}
    return value


async def inbound(graph, **spec) -> dict:
    status, body = await graph.control(
        "POST", "inbound", json={"from": GUEST, "name": "Lena Fischer", **spec}
    )
    assert status == 200, body
    return body


async def test_webhook_signature_is_hmac_sha256_of_raw_body_with_app_secret(graph, receiver):
    res = await inbound(graph, type="text", text="¿Tienen habitación doble? ñandú 🙂")
    assert res["delivery"]["status"] == 200
    got = receiver.received[-1]
    assert got.headers["X-Hub-Signature-256"] == independent_signature(got.raw)
    assert got.headers["Content-Type"].startswith("application/json")
    # Meta escapes non-ASCII as \uXXXX: the signed bytes are ASCII and re-serialising differs.
    got.raw.decode("ascii")
    assert b"\\u00f1" in got.raw and b"\\ud83d\\ude42" in got.raw
    assert json.loads(got.raw)["entry"][0]["changes"][0]["value"]["messages"][0]["text"][
        "body"
    ].endswith("🙂")
    assert (
        got.headers["X-Hub-Signature"]
        == "sha1=" + hmac.new(SECRET.encode(), got.raw, hashlib.sha1).hexdigest()
    )
    wrong = "sha256=" + hmac.new(b"other-secret", got.raw, hashlib.sha256).hexdigest()
    assert got.headers["X-Hub-Signature-256"] != wrong


async def test_raw_webhook_can_be_sent_with_invalid_or_missing_signature(graph, receiver):
    status, res = await graph.control(
        "POST", "webhook/raw", json={"body": '{"object":"x"}', "signature": "invalid"}
    )
    assert status == 200 and res["status"] == 200
    got = receiver.received[-1]
    assert got.raw == b'{"object":"x"}'
    assert got.headers["X-Hub-Signature-256"] != independent_signature(got.raw)
    await graph.control("POST", "webhook/raw", json={"payload": {"a": 1}, "signature": "missing"})
    assert "X-Hub-Signature-256" not in receiver.received[-1].headers
    await graph.control("POST", "webhook/raw", json={"payload": {"a": 1}})
    got = receiver.received[-1]
    assert got.headers["X-Hub-Signature-256"] == independent_signature(got.raw)


async def test_verification_handshake_helper(graph, receiver):
    status, res = await graph.control("POST", "verify", json={})
    assert status == 200
    assert res["ok"] is True and res["status"] == 200 and res["body"] == res["challenge"]
    assert res["challenge"].isdigit()
    _, res = await graph.control("POST", "verify", json={"verify_token": "wrong"})
    assert res["ok"] is False and res["status"] == 403


async def test_text_message_shape_with_contacts_and_bsuid(graph, receiver):
    res = await inbound(graph, type="text", text="Hola")
    value = only_value(receiver.received[-1])
    contact = value["contacts"][0]
    assert contact["profile"] == {"name": "Lena Fischer"}
    assert contact["wa_id"] == GUEST
    assert contact["user_id"].startswith("ES.")
    msg = value["messages"][0]
    assert msg["from"] == GUEST and msg["from_user_id"] == contact["user_id"]
    assert msg["id"] == res["wamid"] and msg["id"].startswith("wamid.")
    assert isinstance(msg["timestamp"], str) and msg["timestamp"].isdigit()
    assert msg["type"] == "text" and msg["text"] == {"body": "Hola"}


async def test_username_guest_has_only_the_business_scoped_id(graph, receiver):
    await inbound(
        graph, type="text", text="Is the sauna open?", hide_phone=True, **{"from": "4915112345678"}
    )
    value = only_value(receiver.received[-1])
    contact, msg = value["contacts"][0], value["messages"][0]
    assert "wa_id" not in contact and contact["user_id"].startswith("DE.")
    assert contact["profile"]["username"].startswith("@")
    assert "from" not in msg and msg["from_user_id"] == contact["user_id"]


async def test_voice_note_by_uploaded_media_id(graph, receiver):
    ogg = ogg_opus_bytes()
    status, up = await graph.upload(ogg, "audio/ogg", "voice.ogg")
    assert status == 200
    await inbound(graph, type="voice", audio={"media_id": up["id"]})
    msg = only_value(receiver.received[-1])["messages"][0]
    assert msg["type"] == "audio"
    assert msg["audio"]["id"] == up["id"]
    assert msg["audio"]["voice"] is True
    assert msg["audio"]["sha256"] == base64.b64encode(hashlib.sha256(ogg).digest()).decode()
    assert msg["audio"]["mime_type"] == "audio/ogg"
    assert "url" not in msg["audio"]


async def test_voice_note_from_bytes_gets_opus_mime_and_audio_file_is_not_voice(graph, receiver):
    ogg = ogg_opus_bytes()
    await inbound(graph, type="voice", audio={"data_base64": base64.b64encode(ogg).decode()})
    audio = only_value(receiver.received[-1])["messages"][0]["audio"]
    assert audio["mime_type"] == "audio/ogg; codecs=opus" and audio["voice"] is True
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64
    await inbound(
        graph,
        type="audio",
        audio={"data_base64": base64.b64encode(mp3).decode(), "mime_type": "audio/mpeg"},
    )
    audio = only_value(receiver.received[-1])["messages"][0]["audio"]
    assert audio["mime_type"] == "audio/mpeg" and audio["voice"] is False


async def test_image_document_and_location_shapes(graph, receiver):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    await inbound(
        graph,
        type="image",
        image={"data_base64": base64.b64encode(jpeg).decode(), "caption": "Stain on the towel"},
    )
    image = only_value(receiver.received[-1])["messages"][0]["image"]
    assert image["caption"] == "Stain on the towel" and image["mime_type"] == "image/jpeg"
    assert set(image) == {"caption", "mime_type", "sha256", "id"}
    pdf = b"%PDF-1.4\n..."
    await inbound(
        graph,
        type="document",
        document={
            "data_base64": base64.b64encode(pdf).decode(),
            "filename": "Rechnung.pdf",
            "mime_type": "application/pdf",
        },
    )
    doc = only_value(receiver.received[-1])["messages"][0]["document"]
    assert doc["filename"] == "Rechnung.pdf" and doc["mime_type"] == "application/pdf"
    await inbound(
        graph,
        type="location",
        location={"latitude": 48.13743, "longitude": "11.57549", "name": "Marienplatz"},
    )
    msg = only_value(receiver.received[-1])["messages"][0]
    assert msg["type"] == "location"
    assert msg["location"] == {"latitude": 48.13743, "longitude": 11.57549, "name": "Marienplatz"}


async def test_interactive_replies_carry_context_of_the_business_message(graph, receiver):
    await inbound(graph, type="text", text="late checkout?")
    status, sent = await graph.send(
        {
            "messaging_product": "whatsapp",
            "to": "+" + GUEST,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Hold room 412 until 14:00 for EUR 30?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "late_yes", "title": "Yes, until 2 pm"}}
                    ]
                },
            },
        }
    )
    assert status == 200
    wamid = sent["messages"][0]["id"]
    await inbound(
        graph, type="button_reply", button_reply={"id": "late_yes", "title": "Yes, until 2 pm"}
    )
    msg = [m for m in receiver.messages() if m["type"] == "interactive"][-1]
    assert msg["context"] == {"from": "15550101234", "id": wamid}
    assert msg["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "late_yes", "title": "Yes, until 2 pm"},
    }
    await inbound(
        graph,
        type="list_reply",
        list_reply={"id": "spa_1600", "title": "Spa 16:00", "description": "60 min"},
        context={"id": "wamid.explicit"},
    )
    msg = [m for m in receiver.messages() if m["type"] == "interactive"][-1]
    assert msg["context"] == {"id": "wamid.explicit", "from": "15550101234"}
    assert msg["interactive"]["list_reply"] == {
        "id": "spa_1600",
        "title": "Spa 16:00",
        "description": "60 min",
    }


async def test_template_button_reaction_unsupported_and_system_shapes(graph, receiver):
    await inbound(
        graph, type="button", button={"payload": "precheckin_start", "text": "Start pre-check-in"}
    )
    assert receiver.messages()[-1]["button"] == {
        "payload": "precheckin_start",
        "text": "Start pre-check-in",
    }
    await inbound(graph, type="reaction", reaction={"message_id": "wamid.X", "emoji": "👍"})
    assert receiver.messages()[-1]["reaction"] == {"message_id": "wamid.X", "emoji": "👍"}
    await inbound(graph, type="reaction", reaction={"message_id": "wamid.X", "emoji": ""})
    assert receiver.messages()[-1]["reaction"] == {"message_id": "wamid.X", "emoji": ""}
    await inbound(graph, type="unsupported", unsupported={"type": "poll_creation"})
    msg = receiver.messages()[-1]
    assert msg["unsupported"] == {"type": "poll_creation"}
    assert msg["errors"][0]["code"] == 131051 and msg["errors"][0]["error_data"]["details"]
    await inbound(
        graph, type="system", system={"type": "user_changed_number", "new_wa_id": "34600999888"}
    )
    assert receiver.messages()[-1]["system"]["type"] == "user_changed_number"


async def test_batch_puts_many_messages_in_one_post_and_duplicate_ids_are_resent(graph, receiver):
    before = len(receiver.received)
    batch = [{"from": GUEST, "type": "text", "text": f"part {i}"} for i in range(25)]
    batch.append({"from": "351912345678", "name": "Rui", "type": "text", "text": "Olá"})
    status, res = await graph.control("POST", "inbound", json={"batch": batch})
    assert status == 200 and len(res["wamids"]) == 26 and len(set(res["wamids"])) == 26
    assert len(receiver.received) == before + 1
    value = only_value(receiver.received[-1])
    assert [m["text"]["body"] for m in value["messages"]][:3] == ["part 0", "part 1", "part 2"]
    assert {c.get("wa_id") for c in value["contacts"]} == {GUEST, "351912345678"}
    # the same wamid twice (what Meta does on redelivery)
    await inbound(graph, type="text", text="dup", id="wamid.DUPLICATE1")
    await inbound(graph, type="text", text="dup", id="wamid.DUPLICATE1")
    assert [m["id"] for m in receiver.messages()].count("wamid.DUPLICATE1") == 2


async def test_statuses_follow_a_send_sent_delivered_read_with_pricing(graph, receiver):
    await inbound(graph, type="text", text="hi")
    _status, sent = await graph.text(
        "+" + GUEST, "Hello!", biz_opaque_callback_data="stay-1:reply-1"
    )
    wamid = sent["messages"][0]["id"]
    statuses = await receiver.wait_for(
        lambda: len(receiver.statuses(wamid)) >= 3 and receiver.statuses(wamid)
    )
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for s in statuses:
        assert s["recipient_id"] == GUEST and s["timestamp"].isdigit()
        assert s["biz_opaque_callback_data"] == "stay-1:reply-1"
        assert s["recipient_user_id"].startswith("ES.")
    assert statuses[0]["pricing"]["category"] == "service"
    assert statuses[0]["pricing"]["pricing_model"] == "PMP"
    assert "pricing" not in statuses[2]
    for r in receiver.received:
        assert r.headers["X-Hub-Signature-256"] == independent_signature(r.raw)


async def test_voice_reply_gets_played_and_reaction_only_sent(graph, receiver):
    res = await inbound(graph, type="text", text="hi")
    _, up = await graph.upload(ogg_opus_bytes(), "audio/ogg", "reply.ogg")
    _, sent = await graph.send(
        {
            "messaging_product": "whatsapp",
            "to": "+" + GUEST,
            "type": "audio",
            "audio": {"id": up["id"], "voice": True},
        }
    )
    audio_wamid = sent["messages"][0]["id"]
    _, sent = await graph.send(
        {
            "messaging_product": "whatsapp",
            "to": "+" + GUEST,
            "type": "reaction",
            "reaction": {"message_id": res["wamid"], "emoji": "👍"},
        }
    )
    reaction_wamid = sent["messages"][0]["id"]
    await receiver.wait_for(lambda: len(receiver.statuses(audio_wamid)) >= 4)
    assert [s["status"] for s in receiver.statuses(audio_wamid)] == [
        "sent",
        "delivered",
        "read",
        "played",
    ]
    assert [s["status"] for s in receiver.statuses(reaction_wamid)] == ["sent"]


async def test_non_200_is_retried_with_bounded_attempts(graph, receiver, sim):
    receiver.script = [500, 503]
    res = await inbound(graph, type="text", text="retry me")
    assert res["delivery"]["status"] == 500
    await receiver.wait_for(lambda: [m for m in receiver.messages() if m["id"] == res["wamid"]][2:])
    _, hooks = await graph.control("GET", "webhooks")
    hook = next(h for h in hooks if res["wamid"] in h["wamids"])
    assert [a["status"] for a in hook["attempts"]] == [500, 503, 200] and hook[
        "state"
    ] == "delivered"
    receiver.script = [500, 500, 500, 500]
    res = await inbound(graph, type="text", text="give up")

    async def gave_up():
        _, hooks = await graph.control("GET", "webhooks")
        return next(h for h in hooks if res["wamid"] in h["wamids"])["state"] == "gave_up"

    for _ in range(50):
        if await gave_up():
            break
        await __import__("asyncio").sleep(0.05)
    _, hooks = await graph.control("GET", "webhooks")
    hook = next(h for h in hooks if res["wamid"] in h["wamids"])
    assert (
        hook["state"] == "gave_up" and len(hook["attempts"]) == sim.config.webhook_max_attempts == 3
    )
