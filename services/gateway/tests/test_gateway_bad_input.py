"""Signed input is never answered 500: each message in a batch stands alone, odd unicode and
deep nesting are handled, NUL and over-long texts are answered, and a dead letter always tells
the guest and opens a staff task."""

from __future__ import annotations

import json
import time

import grpc
from gw_harness import SECRET, eventually, guest_number
from gw_payloads import envelope, msg
from posada_gateway.channels.whatsapp.signature import sign


async def _post(http, url: str, raw: bytes) -> int:
    async with http.post(
        url,
        data=raw,
        headers={"X-Hub-Signature-256": sign(SECRET, raw), "Content-Type": "application/json"},
    ) as resp:
        return resp.status


def _bodies(rows: list[dict]) -> list[str]:
    return [r["body"]["text"]["body"] for r in rows]


async def test_one_batch_with_odd_messages_answers_every_message(gateway, sim, conversation, http):
    gw = await gateway()
    guests = {name: guest_number() for name in ("surrogate", "nul", "long", "plain", "deep", "ts")}
    items = [
        msg(
            "text",
            {"body": "SURROGATE_MARK"},
            id=f"wamid.S-{guests['surrogate']}",
            frm=guests["surrogate"],
        ),
        msg("text", {"body": "a\x00b"}, id=f"wamid.N-{guests['nul']}", frm=guests["nul"]),
        msg("text", {"body": "x" * 20000}, id=f"wamid.L-{guests['long']}", frm=guests["long"]),
        msg("text", {"body": "plain"}, id=f"wamid.P-{guests['plain']}", frm=guests["plain"]),
        msg(
            "text",
            {"body": "deep"},
            id=f"wamid.D-{guests['deep']}",
            frm=guests["deep"],
            extra="DEEP_MARK",
        ),
        msg("text", {"body": "far future"}, id=f"wamid.T-{guests['ts']}", frm=guests["ts"]),
    ]
    for item in items:  # recent: the 24-hour window is open
        item["timestamp"] = str(int(time.time()))
    items[-1]["timestamp"] = "99999999999999999999"
    raw = json.dumps(envelope(messages=items, contacts=[])).encode()
    # A lone surrogate as JSON escape (json.dumps would have escaped the backslash otherwise).
    raw = raw.replace(b"SURROGATE_MARK", b"hi \\ud83d there")
    # An unknown field nested 1,000 deep (more than json's default recursion allows).
    raw = raw.replace(b'"DEEP_MARK"', b"[" * 1000 + b'"bottom"' + b"]" * 1000)
    assert await _post(http, gw.webhook_url, raw) == 200

    async def all_answered() -> bool:
        counts = [len(await sim.sent_messages(g)) for g in guests.values()]
        return all(counts) and counts

    await eventually(all_answered, within=20)
    assert _bodies(await sim.sent_messages(guests["surrogate"])) == ["echo: hi \ufffd there"]
    assert _bodies(await sim.sent_messages(guests["nul"])) == ["echo: ab"]
    assert _bodies(await sim.sent_messages(guests["plain"])) == ["echo: plain"]
    assert _bodies(await sim.sent_messages(guests["deep"])) == ["echo: deep"]
    assert _bodies(await sim.sent_messages(guests["ts"])) == ["echo: far future"]
    long_rows = await sim.wait_sent(guests["long"], 2)
    # conversation got at most what it reads; the guest is told only the start was read
    (call,) = conversation.calls_for(f"wamid.L-{guests['long']}")
    assert len(call.text) <= 16384
    assert "only read the first part" in _bodies(long_rows)[-1]
    assert await gw.gw.store.redis.xlen(gw.gw.store.streams.dlq) == 0
    await gw.stop()


async def test_body_nested_too_deep_or_not_utf8_is_a_4xx_never_a_500(gateway, http):
    gw = await gateway()
    too_deep = (
        b'{"object":"whatsapp_business_account","x":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    )
    assert await _post(http, gw.webhook_url, too_deep) == 400
    assert await _post(http, gw.webhook_url, b'{"entry": "\xff\xfe"}') == 400
    assert await _post(http, gw.webhook_url, b'"\\ud83d"') == 400  # not an object
    await gw.stop()


async def test_permanent_failure_tells_the_guest_in_their_language_and_opens_one_task(
    gateway, sim, conversation
):
    gw = await gateway()
    guest = guest_number()
    conversation.language_of[f"wa:1098765432101:{guest}"] = "pt"

    conversation.fail_code = grpc.StatusCode.INVALID_ARGUMENT
    conversation.down = True
    res = await sim.inbound(type="text", **{"from": guest}, text="olá")
    (row,) = await sim.wait_sent(guest, 1)
    assert row["body"]["text"]["body"].startswith("Desculpe")
    # permanent: offered once, dead-lettered at once, one task
    assert len(conversation.calls_for(res["wamid"])) == 1
    await eventually(lambda: f"dead-letter:{res['wamid']}" in conversation.tasks)
    assert len(conversation.tasks) == 1
    await gw.stop()


async def test_guest_is_told_even_when_no_task_can_be_opened(gateway, sim, conversation):
    gw = await gateway(gateway_max_attempts=1)
    conversation.down = True
    conversation.tasks_down = True
    guest = guest_number()
    await sim.inbound(type="text", **{"from": guest}, text="hello?")
    (row,) = await sim.wait_sent(guest, 1)
    assert "technical problem" in row["body"]["text"]["body"]
    assert conversation.tasks == {}
    await gw.stop()
