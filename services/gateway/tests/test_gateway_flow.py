"""One guest message through the real gateway, simulator and Redis, with an echo conversation."""

from __future__ import annotations

from gw_harness import eventually, guest_number
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.channel.v1 import message_pb2 as m


async def test_text_message_is_answered_once_and_statuses_flow_back(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    res = await sim.inbound(type="text", **{"from": guest}, text="hola", name="Lena")
    assert res["delivery"]["status"] == 200
    rows = await sim.wait_sent(guest, 1)
    assert len(rows) == 1
    assert rows[0]["body"]["text"]["body"] == "echo: hola"
    assert rows[0]["body"]["to"] == "+" + guest
    wamid = rows[0]["wamid"]
    (call,) = conversation.calls_for(res["wamid"])
    assert call.guest.id == guest and call.guest.display_name == "Lena"
    assert call.hotel_id == "1" and call.kind == m.MESSAGE_KIND_TEXT
    # read receipt + typing indicator for the guest's message
    reads = await sim.outbox(guest, endpoint="read")
    assert any(r["body"].get("typing_indicator") == {"type": "text"} for r in reads)
    # the sim's sent/delivered/read statuses reach the stored message and conversation
    stub = gw.channel()

    async def read_status():
        st = await stub.GetMessageStatus(pb.GetMessageStatusRequest(message_id=wamid))
        return st.status == m.DELIVERY_STATUS_READ and st

    st = await eventually(read_status)
    assert st.recipient_id == guest and st.conversation_id == call.conversation_id
    await eventually(
        lambda: any(
            d.provider_message_id == wamid and d.status == m.DELIVERY_STATUS_READ
            for d in conversation.deliveries
        )
    )
    sent_rec = [d for d in conversation.deliveries if d.provider_message_id == wamid]
    assert all(d.reply_id == f"{res['wamid']}:0" for d in sent_rec)
    await gw.stop()
