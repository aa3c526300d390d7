"""Voice notes of any size are downloaded completely; a file that can't be used is not retried
from the inbox; forged statuses never make us write to anyone; dead-letter pages stay small."""

from __future__ import annotations

import base64

from gw_harness import eventually, guest_number
from gw_payloads import envelope
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.channel.v1 import message_pb2 as m
from test_gateway_sending import voice_bytes


def big_voice_note(size: int) -> bytes:
    head = voice_bytes()
    return head + bytes(i % 251 for i in range(size - len(head)))


async def _voice(sim, guest: str, data: bytes) -> dict:
    return await sim.inbound(
        type="voice",
        **{"from": guest},
        audio={
            "data_base64": base64.b64encode(data).decode(),
            "mime_type": "audio/ogg; codecs=opus",
        },
    )


async def test_voice_note_over_a_megabyte_is_downloaded_completely(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    note = big_voice_note(2 * 1024 * 1024 + 17)
    res = await _voice(sim, guest, note)
    rows = await sim.wait_sent(guest, 1, within=20)
    (call,) = conversation.calls_for(res["wamid"])
    assert call.media.data == note
    assert rows[0]["body"]["text"]["body"] == f"audio: {len(note)} bytes"
    await gw.stop()


async def test_checksum_mismatch_is_not_retried_and_the_guest_is_answered(
    gateway, sim, conversation
):
    gw = await gateway()
    guest = guest_number()
    await sim.control(
        "POST", "faults", json={"endpoint": "media_download", "corrupt": True, "count": 5}
    )
    res = await _voice(sim, guest, big_voice_note(1_200_000))
    rows = await sim.wait_sent(guest, 1, within=20)
    # Handed on once, without bytes (conversation tells the guest it could not listen).
    (call,) = conversation.calls_for(res["wamid"])
    assert call.media.data == b"" and call.media.media_id
    assert rows[0]["body"]["text"]["body"] == "audio: 0 bytes"
    downloads = [d for d in await sim.outbox(endpoint="media_download") if d.get("fault")]
    assert len(downloads) == 2  # the download and one fresh try, no inbox retries
    await sim.control("DELETE", "faults")
    await gw.stop()


async def test_voice_note_over_the_size_cap_is_handed_on_without_bytes(gateway, sim, conversation):
    gw = await gateway(gateway_media_max_bytes=1024 * 1024)
    guest = guest_number()
    res = await _voice(sim, guest, big_voice_note(1024 * 1024 + 1))
    await sim.wait_sent(guest, 1, within=20)
    (call,) = conversation.calls_for(res["wamid"])
    assert call.media.data == b"" and call.media.media_id
    await gw.stop()


async def test_failed_status_for_a_message_we_never_sent_sends_nothing(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    forged = envelope(
        statuses=[
            {
                "id": "wamid.NEVER-SENT-" + guest,
                "status": "failed",
                "timestamp": "1767261600",
                "recipient_id": guest,
                "errors": [{"code": 131047, "title": "Re-engagement message"}],
            }
        ]
    )
    res = await sim.control("POST", "webhook/raw", json={"payload": forged, "signature": "valid"})
    assert res["status"] == 200
    store = gw.gw.store

    async def forwarded() -> bool:
        return await store.redis.xlen(store.streams.status) == 0 and await store.redis.exists(
            f"gw:msg:wamid.NEVER-SENT-{guest}"
        )

    await eventually(forwarded)
    # A real message afterwards is answered normally: the forwarder has run past the forgery.
    await sim.inbound(type="text", **{"from": guest}, text="hola")
    rows = await sim.wait_sent(guest, 1)
    assert [r["body"]["type"] for r in rows] == ["text"]
    await gw.stop()


async def test_dead_letter_pages_never_exceed_the_grpc_message_limit(gateway, conversation):
    gw = await gateway()
    store = gw.gw.store
    text = "😀" * 16000  # 64 KB of UTF-8 per dead letter
    for i in range(80):  # ~5 MB in total: more than gRPC's 4 MB default
        msg = m.InboundMessage(message_id=f"wamid.BIG-{i}", text=text)
        await store.dead_letter(f"{i + 1}-0", msg.SerializeToString(), msg.message_id, "test", 1)
    stub = gw.channel()
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await stub.ListDeadLetters(
            pb.ListDeadLettersRequest(page_size=500, page_token=token)
        )
        pages += 1
        assert page.ByteSize() < 4 * 1024 * 1024
        seen += [d.message.message_id for d in page.dead_letters]
        token = page.next_page_token
        if not token:
            break
    assert pages >= 2 and len(seen) == 80 and len(set(seen)) == 80
    await gw.stop()
