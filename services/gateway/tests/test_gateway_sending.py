"""Sending: media both ways, interactive rendering, 24-hour window, rate limits, bad tokens,
and ChannelService.SendMessage idempotency."""

from __future__ import annotations

import asyncio
import base64
import time

import grpc
import pytest
from gw_harness import eventually, guest_number
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.channel.v1 import message_pb2 as m
from posada_gateway import metrics
from posada_sim_whatsapp.remux import ogg_opus, opus_head


def voice_bytes() -> bytes:
    return ogg_opus(opus_head(1), [bytes([0xF8, 0xFF, 0xFE])] * 5, serial=1234)


async def test_voice_note_is_downloaded_with_the_token_and_audio_reply_uploaded(
    gateway, sim, conversation
):
    ogg = voice_bytes()
    conversation.policy = lambda msg: [
        m.Reply(
            reply_id="a1",
            audio=m.AudioReply(
                data=msg.media.data, mime_type="audio/ogg; codecs=opus", transcript="same back"
            ),
        )
    ]
    gw = await gateway()
    guest = guest_number()
    res = await sim.inbound(
        type="voice",
        **{"from": guest},
        audio={
            "data_base64": base64.b64encode(ogg).decode(),
            "mime_type": "audio/ogg; codecs=opus",
        },
    )
    rows = await sim.wait_sent(guest, 1)
    (call,) = conversation.calls_for(res["wamid"])
    assert call.kind == m.MESSAGE_KIND_AUDIO and call.media.voice
    assert call.media.data == ogg
    assert rows[0]["body"]["type"] == "audio" and rows[0]["body"]["audio"]["voice"] is True
    uploads = await sim.outbox(endpoint="media_upload")
    assert any(u["response"]["body"].get("id") == rows[0]["body"]["audio"]["id"] for u in uploads)
    downloads = await sim.outbox(endpoint="media_download")
    assert downloads and all(d["response"]["status"] == 200 for d in downloads[-1:])
    await gw.stop()


async def test_buttons_lists_and_numbered_fallback_round_trip(gateway, sim, conversation):
    def policy(msg):
        if msg.kind == m.MESSAGE_KIND_INTERACTIVE_REPLY:
            return [
                m.Reply(
                    reply_id=f"{msg.message_id}:c",
                    text=m.TextReply(body=f"chose {msg.interactive_reply.id}"),
                )
            ]
        if msg.text == "buttons":
            return [
                m.Reply(
                    reply_id=f"{msg.message_id}:b",
                    buttons=m.ButtonsReply(
                        body="Book it?",
                        buttons=[m.Button(id="yes", title="Yes"), m.Button(id="no", title="No")],
                    ),
                )
            ]
        rows = [m.ListRow(id=f"room_{i}", title=f"Room {i}") for i in range(12)]  # > 10 rows
        return [
            m.Reply(
                reply_id=f"{msg.message_id}:l",
                list=m.ListReply(body="Which room?", sections=[m.ListSection(rows=rows)]),
            )
        ]

    conversation.policy = policy
    gw = await gateway()
    guest = guest_number()
    await sim.inbound(type="text", **{"from": guest}, text="buttons")
    (row,) = await sim.wait_sent(guest, 1)
    assert row["body"]["type"] == "interactive" and row["body"]["interactive"]["type"] == "button"
    await sim.inbound(
        type="button_reply", **{"from": guest}, button_reply={"id": "yes", "title": "Yes"}
    )
    rows = await sim.wait_sent(guest, 2)
    assert rows[1]["body"]["text"]["body"] == "chose yes"
    await sim.inbound(type="text", **{"from": guest}, text="list please")
    rows = await sim.wait_sent(guest, 3)
    assert rows[2]["body"]["type"] == "text" and "12. Room 11" in rows[2]["body"]["text"]["body"]
    await sim.inbound(type="text", **{"from": guest}, text="3")  # typed number → option id
    rows = await sim.wait_sent(guest, 4)
    assert rows[3]["body"]["text"]["body"] == "chose room_2"
    await gw.stop()


async def test_pair_rate_limit_and_throughput_errors_are_retried_with_backoff(
    gateway, sim, conversation
):
    gw = await gateway()
    guest = guest_number()
    await sim.control(
        "POST",
        "faults",
        json={
            "faults": [
                {"code": 131056, "count": 2, "to": guest, "endpoint": "messages"},
                {"code": 130429, "count": 1, "to": guest, "endpoint": "messages"},
            ]
        },
    )
    before = metrics.SEND_RETRIES.labels("rate_limit")._value.get()
    await sim.inbound(type="text", **{"from": guest}, text="slowly")
    rows = await sim.wait_sent(guest, 1)
    assert rows[0]["body"]["text"]["body"] == "echo: slowly"
    attempts = [
        r for r in await sim.outbox(guest, endpoint="messages") if r["body"].get("type") == "text"
    ]
    codes = [r["response"]["body"].get("error", {}).get("code") for r in attempts]
    assert (
        codes.count(131056) == 2
        and codes.count(130429) == 1
        and len(await sim.sent_messages(guest)) == 1
    )
    assert metrics.SEND_RETRIES.labels("rate_limit")._value.get() - before >= 3
    await gw.stop()


async def test_shared_token_bucket_spaces_sends_to_one_guest(gateway, sim, conversation):
    conversation.policy = lambda msg: [
        m.Reply(reply_id=f"{msg.message_id}:{i}", text=m.TextReply(body=f"part {i}"))
        for i in range(4)
    ]
    gw = await gateway(whatsapp_pair_per_minute=300, whatsapp_pair_burst=1)  # 1 every 0.2 s
    guest = guest_number()
    await sim.inbound(type="text", **{"from": guest}, text="go")
    rows = await sim.wait_sent(guest, 4)
    # burst 1, 5 tokens/s: the 4th token exists 0.6 s after the first at the earliest
    assert len(rows) == 4 and rows[-1]["at"] - rows[0]["at"] >= 0.45
    assert [r["body"]["text"]["body"] for r in rows] == [f"part {i}" for i in range(4)]
    await gw.stop()


async def test_window_closed_sync_error_sends_template_and_delivers_content_after_guest_taps(
    gateway, sim, conversation
):
    gw = await gateway()
    guest = guest_number()
    await sim.control(
        "POST",
        "faults",
        json={"code": 131047, "mode": "sync", "count": 1, "to": guest, "endpoint": "messages"},
    )
    await sim.inbound(type="text", **{"from": guest}, text="late")
    rows = await sim.wait_sent(guest, 1)
    assert rows[0]["body"]["type"] == "template"
    assert rows[0]["body"]["template"]["name"] == "reengagement"
    await sim.inbound(
        type="button", **{"from": guest}, button={"payload": "continue", "text": "Continue"}
    )
    rows = await sim.wait_sent(guest, 3)
    assert [r["body"].get("text", {}).get("body") for r in rows[1:]] == [
        "echo: late",
        "chose: continue",
    ]
    await gw.stop()


async def test_window_closed_async_failed_status_sends_template_once(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    await sim.control(
        "POST",
        "faults",
        json={"code": 131047, "mode": "async", "count": 1, "to": guest, "endpoint": "messages"},
    )
    await sim.inbound(type="text", **{"from": guest}, text="after a while")
    rows = await sim.wait_sent(guest, 2)
    assert [r["body"]["type"] for r in rows] == ["text", "template"]
    stub = gw.channel()
    st = await stub.GetMessageStatus(pb.GetMessageStatusRequest(message_id=rows[0]["wamid"]))
    assert st.status == m.DELIVERY_STATUS_FAILED and st.errors[0].code == 131047
    await eventually(
        lambda: any(
            d.status == m.DELIVERY_STATUS_FAILED and "131047" in d.error
            for d in conversation.deliveries
        )
    )
    await asyncio.sleep(0.4)
    assert len(await sim.sent_messages(guest)) == 2  # one template, no storm
    await sim.inbound(
        type="button", **{"from": guest}, button={"payload": "continue", "text": "Continue"}
    )
    rows = await sim.wait_sent(guest, 4)
    assert rows[2]["body"]["text"]["body"] == "echo: after a while"
    await gw.stop()


async def test_old_message_outside_window_by_our_clock_gets_template(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    await sim.inbound(
        type="text",
        **{"from": guest},
        text="from two days ago",
        timestamp=int(time.time()) - 2 * 86400,
    )
    rows = await sim.wait_sent(guest, 1)
    assert rows[0]["body"]["type"] == "template"
    await gw.stop()


async def test_expired_token_alerts_and_does_not_storm(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    await sim.control("POST", "faults", json={"code": 190, "count": -1, "endpoint": "messages"})
    before = metrics.AUTH_FAILURES._value.get()
    res = await sim.inbound(type="text", **{"from": guest}, text="hello?")
    stub = gw.channel()

    async def dead():
        page = await stub.ListDeadLetters(pb.ListDeadLettersRequest(page_size=50))
        return [d for d in page.dead_letters if d.message.message_id == res["wamid"]]

    (dl,) = await eventually(dead)
    assert "190" in dl.reason
    calls = await sim.outbox(guest, endpoint="messages")
    # the read receipt and one send hit Graph; every later attempt was stopped by the breaker
    assert len([c for c in calls if c["body"].get("type") == "text"]) == 1
    assert metrics.TOKEN_VALID._value.get() == 0
    assert metrics.AUTH_FAILURES._value.get() > before
    await sim.control("DELETE", "faults")
    metrics.TOKEN_VALID.set(1)
    await gw.stop()


async def test_send_message_is_idempotent_by_key(gateway, sim):
    gw = await gateway()
    stub = gw.channel()
    guest = guest_number()
    req = pb.SendMessageRequest(
        channel=m.CHANNEL_WHATSAPP,
        recipient_id="+" + guest,
        idempotency_key="k-" + guest,
        reply=m.Reply(reply_id="staff-1", text=m.TextReply(body="Your room is ready")),
        conversation_id="wa:x:" + guest,
    )
    first = await stub.SendMessage(req)
    second = await stub.SendMessage(req)
    assert first.message_id and first.status == m.DELIVERY_STATUS_SENT and not first.replayed
    assert second.message_id == first.message_id and second.replayed
    rows = await sim.wait_sent(guest, 1)
    assert len(await sim.sent_messages(guest)) == 1 and rows[0]["wamid"] == first.message_id
    other = pb.SendMessageRequest()
    other.CopyFrom(req)
    other.reply.text.body = "Something else"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendMessage(other)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = await stub.GetMessageStatus(pb.GetMessageStatusRequest(message_id=first.message_id))
    assert status.recipient_id == guest and status.conversation_id == "wa:x:" + guest
    await gw.stop()


async def test_send_message_validation_and_provider_errors(gateway, sim):
    gw = await gateway()
    stub = gw.channel()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendMessage(pb.SendMessageRequest(channel=m.CHANNEL_WHATSAPP))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "recipient_id" in err.value.details() or err.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetMessageStatus(pb.GetMessageStatusRequest(message_id="wamid.unknown"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    guest = guest_number()
    await sim.control(
        "POST", "faults", json={"code": 131026, "mode": "sync", "count": 1, "to": guest}
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendMessage(
            pb.SendMessageRequest(
                channel=m.CHANNEL_WHATSAPP,
                recipient_id=guest,
                idempotency_key="u-" + guest,
                reply=m.Reply(text=m.TextReply(body="hi")),
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # after a refused send the key is free again: a retry sends
    ok = await stub.SendMessage(
        pb.SendMessageRequest(
            channel=m.CHANNEL_WHATSAPP,
            recipient_id=guest,
            idempotency_key="u-" + guest,
            reply=m.Reply(text=m.TextReply(body="hi")),
        )
    )
    assert ok.message_id and not ok.replayed
    await gw.stop()


async def test_guest_without_phone_is_answered_by_business_scoped_id(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="username user", hide_phone=True)
    await eventually(lambda: conversation.calls_for(res["wamid"]))
    (call,) = conversation.calls_for(res["wamid"])
    assert call.guest.phone == "" and "." in call.guest.id
    assert call.guest.business_scoped_user_id == call.guest.id
    rows = await eventually(lambda: sim.sent_messages(call.guest.id))
    assert rows[0]["body"]["recipient"] == call.guest.id and "to" not in rows[0]["body"]
    await gw.stop()


async def test_guest_who_hides_their_number_keeps_the_same_conversation(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    first = await sim.inbound(type="text", **{"from": guest}, text="with phone")
    await sim.wait_sent(guest, 1)
    second = await sim.inbound(
        type="text", **{"from": guest}, text="now a username", hide_phone=True
    )
    await eventually(lambda: conversation.calls_for(second["wamid"]))
    (a,) = conversation.calls_for(first["wamid"])
    (b,) = conversation.calls_for(second["wamid"])
    assert (
        a.guest.business_scoped_user_id
        and a.guest.business_scoped_user_id == b.guest.business_scoped_user_id
    )
    assert b.guest.phone == "" and b.guest.id == guest
    assert b.conversation_id == a.conversation_id
    bsuid = b.guest.business_scoped_user_id

    async def answered_by_bsuid() -> list[dict]:
        # the simulator lists the guest's earlier reply (to the phone) under the BSUID too
        return [r for r in await sim.sent_messages(bsuid) if "recipient" in r["body"]]

    rows = await eventually(answered_by_bsuid)
    assert rows[-1]["body"]["recipient"] == bsuid and "to" not in rows[-1]["body"]
    await gw.stop()


async def test_refused_upload_sends_the_transcript_and_refused_interactive_sends_numbered_text(
    gateway, sim, conversation
):
    def policy(msg):
        if msg.text == "voice":
            return [
                m.Reply(
                    reply_id="v",
                    audio=m.AudioReply(
                        data=voice_bytes(),
                        mime_type="audio/ogg; codecs=opus",
                        transcript="Check-in is at 3 pm",
                    ),
                )
            ]
        return [
            m.Reply(
                reply_id="b",
                buttons=m.ButtonsReply(
                    body="Book it?",
                    buttons=[m.Button(id="yes", title="Yes"), m.Button(id="no", title="No")],
                ),
            )
        ]

    conversation.policy = policy
    gw = await gateway()
    guest = guest_number()
    await sim.control(
        "POST", "faults", json={"code": 131053, "endpoint": "media_upload", "count": 1}
    )
    await sim.inbound(type="text", **{"from": guest}, text="voice")
    rows = await sim.wait_sent(guest, 1)
    assert (
        rows[0]["body"]["type"] == "text"
        and rows[0]["body"]["text"]["body"] == "Check-in is at 3 pm"
    )
    await sim.control(
        "POST", "faults", json={"code": 131026, "mode": "sync", "count": 1, "to": guest}
    )
    await sim.inbound(type="text", **{"from": guest}, text="buttons")
    rows = await sim.wait_sent(guest, 2)
    assert rows[1]["body"]["type"] == "text" and "1. Yes" in rows[1]["body"]["text"]["body"]
    await sim.inbound(type="text", **{"from": guest}, text="2")  # the fallback menu still works
    await eventually(lambda: any(c.interactive_reply.id == "no" for c in conversation.calls))
    await gw.stop()


async def test_voice_note_whose_media_is_gone_is_handed_on_without_bytes(
    gateway, http, conversation
):
    import json

    from gw_harness import SECRET
    from gw_payloads import envelope, msg
    from posada_gateway.channels.whatsapp.signature import sign

    gw = await gateway()
    guest = guest_number()
    item = msg(
        "audio",
        {"mime_type": "audio/ogg; codecs=opus", "id": "999999999", "voice": True},
        id="wamid.GONE-" + guest,
        frm=guest,
    )
    raw = json.dumps(
        envelope(messages=[item], contacts=[{"profile": {"name": "X"}, "wa_id": guest}])
    ).encode()
    async with http.post(
        gw.webhook_url, data=raw, headers={"X-Hub-Signature-256": sign(SECRET, raw)}
    ) as resp:
        assert resp.status == 200
    await eventually(lambda: conversation.calls_for("wamid.GONE-" + guest))
    (call,) = conversation.calls_for("wamid.GONE-" + guest)
    assert (
        call.kind == m.MESSAGE_KIND_AUDIO
        and call.media.data == b""
        and call.media.media_id == "999999999"
    )
    await gw.stop()
