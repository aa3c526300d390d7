"""Fault injection (24-hour window, rate limits, expired token, 5xx) and the outbox control API."""

from __future__ import annotations

import time

GUEST = "34600111222"


async def fault(graph, **spec) -> dict:
    status, body = await graph.control("POST", "faults", json=spec)
    assert status == 200, body
    return body


async def test_window_closed_async_is_accepted_then_failed_status_131047(graph, receiver):
    await fault(graph, code=131047)
    status, body = await graph.text("+" + GUEST, "Your room is ready")
    assert status == 200
    wamid = body["messages"][0]["id"]
    statuses = await receiver.wait_for(lambda: receiver.statuses(wamid))
    assert [s["status"] for s in statuses] == ["failed"]
    err = statuses[0]["errors"][0]
    assert err["code"] == 131047 and err["title"] == "Re-engagement message"
    assert "24 hours" in err["error_data"]["details"] and err["href"]
    # consumed: the next send is fine
    status, body = await graph.text("+" + GUEST, "again")
    wamid2 = body["messages"][0]["id"]
    await receiver.wait_for(lambda: len(receiver.statuses(wamid2)) >= 3)


async def test_window_closed_sync_and_targeted_by_guest(graph):
    await fault(graph, code=131047, mode="sync", to="+34 600 111 222")
    status, _ = await graph.text("+4915112345678", "other guest is not affected")
    assert status == 200
    status, body = await graph.text("+" + GUEST, "hello")
    assert status == 400 and body["error"]["code"] == 131047
    assert body["error"]["message"] == "(#131047) Re-engagement message"


async def test_rate_limit_faults_130429_and_131056_count(graph):
    await fault(graph, code=130429, count=2)
    await fault(graph, code=131056)
    codes = []
    for _ in range(4):
        status, body = await graph.text("+" + GUEST, "x")
        codes.append(body["error"]["code"] if status != 200 else 200)
    assert codes == [130429, 130429, 131056, 200]


async def test_expired_token_fault_is_190_subcode_463_until_cleared(graph):
    await fault(graph, code=190, count=-1)
    for _ in range(3):
        status, body = await graph.text("+" + GUEST, "x")
        assert (
            status == 401 and body["error"]["code"] == 190 and body["error"]["error_subcode"] == 463
        )
    _, listed = await graph.control("GET", "faults")
    assert len(listed["faults"]) == 1
    await graph.control("DELETE", "faults")
    assert (await graph.text("+" + GUEST, "x"))[0] == 200


async def test_5xx_faults_bare_proxy_error_and_graph_500(graph, http):
    await fault(graph, http_status=502)
    async with http.post(
        f"{graph.base}/v21.0/1098765432101/messages",
        json={"messaging_product": "whatsapp", "to": "+" + GUEST, "text": {"body": "x"}},
        headers=graph.headers,
    ) as resp:
        assert resp.status == 502 and "json" not in resp.headers.get("Content-Type", "")
    await fault(graph, code=131000)
    status, body = await graph.text("+" + GUEST, "x")
    assert status == 500 and body["error"]["code"] == 131000
    await fault(graph, code=131016, http_status=503, delay_ms=100)
    started = time.monotonic()
    status, body = await graph.text("+" + GUEST, "x")
    assert status == 503 and body["error"]["code"] == 131016 and time.monotonic() - started >= 0.1


async def test_read_receipts_do_not_consume_send_faults(graph):
    _, res = await graph.control(
        "POST", "inbound", json={"from": GUEST, "type": "text", "text": "hola"}
    )
    await fault(graph, code=131047, mode="sync")
    status, _ = await graph.send(
        {"messaging_product": "whatsapp", "status": "read", "message_id": res["wamid"]}
    )
    assert status == 200
    status, body = await graph.text("+" + GUEST, "x")
    assert body["error"]["code"] == 131047


async def test_media_endpoint_faults(graph, http):
    await fault(graph, code=131053, endpoint="media_upload")
    status, body = await graph.upload(b"%PDF-1.4", "application/pdf")
    assert status == 400 and body["error"]["code"] == 131053
    _, up = await graph.upload(b"%PDF-1.4", "application/pdf")
    await fault(graph, http_status=500, endpoint="media_download")
    async with http.get(f"{graph.base}/v21.0/{up['id']}", headers=graph.headers) as resp:
        url = (await resp.json())["url"]
    async with http.get(url, headers=graph.headers) as resp:
        assert resp.status == 500
    async with http.get(url, headers=graph.headers) as resp:
        assert resp.status == 200


async def test_enforced_window_fails_free_form_but_allows_templates(graph, receiver):
    await graph.control("POST", "config", json={"enforce_window": True})
    await graph.control(
        "POST", "window", json={"wa_id": GUEST, "last_inbound_at": time.time() - 25 * 3600}
    )
    _, body = await graph.text("+" + GUEST, "free form")
    free = body["messages"][0]["id"]
    _, body = await graph.send(
        {
            "messaging_product": "whatsapp",
            "to": "+" + GUEST,
            "type": "template",
            "template": {"name": "stay_update", "language": {"code": "es"}},
        }
    )
    tpl = body["messages"][0]["id"]
    await receiver.wait_for(lambda: receiver.statuses(free) and len(receiver.statuses(tpl)) >= 3)
    assert receiver.statuses(free)[0]["errors"][0]["code"] == 131047
    assert receiver.statuses(tpl)[0]["pricing"]["category"] == "utility"
    # the guest writes: the window opens again
    await graph.control("POST", "inbound", json={"from": GUEST, "type": "text", "text": "hola"})
    _, body = await graph.text("+" + GUEST, "now it works")
    ok = body["messages"][0]["id"]
    await receiver.wait_for(lambda: receiver.statuses(ok))
    assert receiver.statuses(ok)[0]["status"] == "sent"


async def test_built_in_pair_rate_limit(graph):
    await graph.control(
        "POST", "config", json={"rate_limits": True, "pair_burst": 3, "pair_period_s": 60}
    )
    codes = [(await graph.text("+" + GUEST, "x"))[0] for _ in range(4)]
    assert codes == [200, 200, 200, 400]
    _, body = await graph.text("+" + GUEST, "x")
    assert body["error"]["code"] == 131056
    assert (await graph.text("+4915112345678", "other pair"))[0] == 200


async def test_outbox_records_every_call_newest_last_with_filters(graph):
    await graph.text("+34 600-111-222", "one")
    await graph.text("+4915112345678", "two")
    await graph.send(
        {
            "messaging_product": "whatsapp",
            "to": "+" + GUEST,
            "type": "interactive",
            "interactive": {"type": "button"},
        }
    )
    await graph.upload(b"%PDF-1.4", "application/pdf")
    _, everything = await graph.control("GET", "outbox")
    assert [r["endpoint"] for r in everything] == [
        "messages",
        "messages",
        "messages",
        "media_upload",
    ]
    assert [r["seq"] for r in everything] == sorted(r["seq"] for r in everything)
    _, mine = await graph.control("GET", f"outbox?to={GUEST}")
    assert [r["body"].get("text", {}).get("body") for r in mine] == ["one", None]
    assert mine[0]["response"]["status"] == 200 and mine[0]["wamid"].startswith("wamid.")
    assert (
        mine[1]["response"]["status"] == 400
        and mine[1]["response"]["body"]["error"]["code"] == 131008
    )
    _, plus = await graph.control("GET", "outbox?to=%2B34600111222")
    assert plus == mine
    _, since = await graph.control("GET", f"outbox?since={everything[1]['seq']}")
    assert since == everything[2:]
    _, uploads = await graph.control("GET", "outbox?endpoint=media_upload")
    assert uploads[0]["body"]["file"]["size"] == 8
    _, last = await graph.control("GET", "outbox?limit=1")
    assert last == everything[-1:]
    status, _ = await graph.control("GET", "outbox?since=abc")
    assert status == 400


async def test_reset_clears_everything(graph, receiver):
    await graph.control("POST", "inbound", json={"from": GUEST, "type": "text", "text": "hola"})
    await graph.text("+" + GUEST, "x")
    await fault(graph, code=131047)
    await graph.control("POST", "config", json={"status_delay_ms": 5})
    assert (await graph.control("POST", "reset"))[0] == 200
    assert (await graph.control("GET", "outbox"))[1] == []
    assert (await graph.control("GET", "faults"))[1] == {"faults": []}
    assert (await graph.control("GET", "guests"))[1] == []
    assert (await graph.control("GET", "config"))[1]["status_delay_ms"] == 20
    assert (await graph.control("POST", "config", json={"app_secret": "x"}))[0] == 400


async def test_chat_feed_long_poll_wakes_on_new_events(graph, http, sim):
    import asyncio

    async def poll():
        started = time.monotonic()
        async with http.get(f"{sim.base_url}/sim/chat/{GUEST}?after=0&wait=5") as resp:
            return await resp.json(), time.monotonic() - started

    task = asyncio.ensure_future(poll())
    await asyncio.sleep(0.2)
    await graph.control(
        "POST", "inbound", json={"from": GUEST, "type": "text", "text": "hola", "wait": False}
    )
    feed, took = await task
    assert took < 3
    assert (
        feed["events"][0]["dir"] == "in" and feed["events"][0]["message"]["text"]["body"] == "hola"
    )
    assert feed["last"] == feed["events"][-1]["seq"]
    _, empty = await graph.control("GET", f"chat/{GUEST}?after={feed['last']}&wait=0")
    assert empty["events"] == []


async def test_config_refuses_pointing_webhooks_anywhere_but_the_configured_gateway(graph, sim):
    before = sim.config.webhook_url
    for target in (
        "http://127.0.0.1:9901/drain_listeners?graceful",  # Envoy's admin
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:1/webhooks/whatsapp",
    ):
        status, body = await graph.control("POST", "config", json={"webhook_url": target})
        assert status == 400, body
        assert sim.config.webhook_url == before
    status, body = await graph.control("POST", "config", json={"webhook_url": before})
    assert status == 200 and body["webhook_url"] == before
